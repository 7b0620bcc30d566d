"""Concurrent saves against a real threaded HTTP server in the test process, on whichever database
the run uses: SQLite (the suite's first pass, `make run`'s database) and PostgreSQL (its second pass).

Issue 17, item 3: with SQLite's defaults 20 concurrent PATCHes, or 10 PATCHes to 10 builds, answered 500
("database is locked"). Every request must succeed and every save must leave its own revision.

With RIGSITE_CONCURRENCY_RESULTS=<dir> the test also writes its numbers there (`make bench` does this).
"""

import json
import os
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection

from builds.models import Build, BuildRevision

GPU = "nvidia-geforce-rtx-4090-fe"
PSU = "corsair-ax1600i"
SAME_BUILD_PATCHES = 20
OTHER_BUILDS = 10
CREATES = 10


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Server(ThreadedWSGIServer):
    # Django's runserver (and live_server) listen with a backlog of 10: 40 simultaneous connections would
    # be reset by the kernel before the app sees them. A deployment's gunicorn listens with 2048.
    request_queue_size = 256


@pytest.fixture
def server(transactional_db, seed_catalogue, settings):
    """A threaded WSGI server (one thread, one database connection per request) on a free loopback port."""
    settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE = 100000
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 100000
    httpd = Server(("127.0.0.1", 0), QuietHandler)
    httpd.set_app(WSGIHandler())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def create(base: str, name: str) -> requests.Response:
    body = {"name": name, "parts": [{"slug": GPU, "quantity": 1}, {"slug": PSU}]}
    return requests.post(f"{base}/api/v1/builds", json=body, timeout=60)


def patch(base: str, share_id: str, token: str, name: str) -> requests.Response:
    return requests.patch(
        f"{base}/api/v1/builds/{share_id}", json={"name": name}, headers={"X-Edit-Token": token}, timeout=60
    )


def test_sqlite_runs_in_wal_with_immediate_transactions_and_a_busy_timeout():
    options = django_settings.DATABASES["default"].get("OPTIONS", {})
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings; this pass runs on PostgreSQL")
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 10
    assert "journal_mode=WAL" in options["init_command"].replace(" ", "")


@pytest.mark.django_db(transaction=True)
def test_sqlite_connections_really_are_in_wal_mode():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0].lower() == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 10000


def test_concurrent_patches_and_creates_all_succeed_and_keep_every_revision(server):
    revisions_before = BuildRevision.objects.count()  # the example builds'
    hot = create(server, "hot").json()
    others = [create(server, f"other {n}").json() for n in range(OTHER_BUILDS)]
    jobs = [("patch", hot["share_id"], hot["edit_token"], f"hot v{n}") for n in range(SAME_BUILD_PATCHES)]
    jobs += [("patch", b["share_id"], b["edit_token"], f"other v{n}") for n, b in enumerate(others)]
    jobs += [("create", None, None, f"new {n}") for n in range(CREATES)]
    start = threading.Barrier(len(jobs))

    def run(job):
        kind, share_id, token, name = job
        start.wait(timeout=30)  # all requests leave together
        t0 = time.perf_counter()
        response = patch(server, share_id, token, name) if kind == "patch" else create(server, name)
        return kind, name, response.status_code, time.perf_counter() - t0, response.text[:300]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(run, jobs))
    wall = time.perf_counter() - t0
    statuses = Counter(status for _, _, status, _, _ in results)
    write_results(results, statuses, wall, revisions_kept=None)  # known only after the checks below

    failures = [
        (kind, name, status, text) for kind, name, status, _, text in results if status not in (200, 201)
    ]
    assert not failures, failures
    # The hot build: one revision per PATCH, numbered 1..21 without gaps, each PATCH's name in one of them.
    build = Build.objects.get(share_id=hot["share_id"])
    numbers = sorted(build.revisions.values_list("number", flat=True))
    assert build.revision_count == 1 + SAME_BUILD_PATCHES
    assert numbers == list(range(1, 2 + SAME_BUILD_PATCHES))
    names = Counter(r.snapshot["name"] for r in build.revisions.all())
    assert all(names[f"hot v{n}"] == 1 for n in range(SAME_BUILD_PATCHES)), names
    assert build.name in {f"hot v{n}" for n in range(SAME_BUILD_PATCHES)}
    # Each of the other builds: created, then saved once, with that save's name.
    for n, other in enumerate(others):
        b = Build.objects.get(share_id=other["share_id"])
        assert (b.revision_count, b.name) == (2, f"other v{n}")
        assert sorted(b.revisions.values_list("number", flat=True)) == [1, 2]
    # Every concurrent create made its build, with one revision and its parts.
    for n in range(CREATES):
        b = Build.objects.get(name=f"new {n}")
        assert b.revision_count == 1 and b.items.count() == 2
    assert (
        BuildRevision.objects.count() - revisions_before
        == (1 + SAME_BUILD_PATCHES) + 2 * OTHER_BUILDS + CREATES
    )
    write_results(results, statuses, wall, revisions_kept=True)


def write_results(results, statuses, wall, revisions_kept):
    folder = os.environ.get("RIGSITE_CONCURRENCY_RESULTS")
    if not folder:
        return
    latencies = sorted(seconds for _, _, _, seconds, _ in results)
    record = {
        "database": connection.vendor,
        "server": "Django ThreadedWSGIServer in the test process, one thread and connection per request, all released together",
        "requests": {
            "patch_same_build": SAME_BUILD_PATCHES,
            "patch_other_builds": OTHER_BUILDS,
            "create": CREATES,
        },
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "revisions_kept": revisions_kept,
        "wall_s": round(wall, 3),
        "latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 1),
            "max": round(latencies[-1] * 1000, 1),
        },
        "sqlite_options": django_settings.DATABASES["default"].get("OPTIONS")
        if connection.vendor == "sqlite"
        else None,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = Path(folder) / f"concurrent_saves_{connection.vendor}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
