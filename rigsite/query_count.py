"""Benchmark aid: report each request's SQL query count and app time in response headers.

Enabled only when the environment has RIGSITE_QUERY_COUNT_HEADER=1 (scripts/bench.sh sets it); otherwise
Django drops the middleware at start-up (MiddlewareNotUsed) and it costs nothing. Put it first in MIDDLEWARE
so the count covers every middleware (sessions, auth, rate limits) as well as the view and the template.

Headers added:
  X-Query-Count: the SQL statements run on the default connection while handling the request, counted with
                 django.db.connection.execute_wrapper (executemany counts as one).
  Server-Timing: app;dur=<ms> — wall time inside Django for the request (from this middleware's point of view).
"""

import os
import time

from django.core.exceptions import MiddlewareNotUsed
from django.db import connection

ENV_FLAG = "RIGSITE_QUERY_COUNT_HEADER"


def enabled() -> bool:
    return os.environ.get(ENV_FLAG, "").strip().lower() in {"1", "true", "yes", "on"}


class QueryCounter:
    """An execute_wrapper that counts the statements it sees."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class QueryCountMiddleware:
    def __init__(self, get_response):
        if not enabled():
            raise MiddlewareNotUsed(f"{ENV_FLAG} is not set")
        self.get_response = get_response

    def __call__(self, request):
        counter = QueryCounter()
        start = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - start) * 1000
        response["X-Query-Count"] = str(counter.count)
        response["Server-Timing"] = f"app;dur={elapsed_ms:.2f}"
        return response
