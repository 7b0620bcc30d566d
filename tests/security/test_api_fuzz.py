"""Schemathesis against /api/v1/openapi.json, in process through the Django WSGI app: zero server errors.

Every generated request (valid bodies from the schema and, through schemathesis's coverage and fuzzing
phases, invalid ones) must be answered with a 2xx or 4xx: bad input is a 400 naming the field, never a 500
(docs/api.md "Errors").
"""

import json
import os

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.django_db


WSGI_APP = WSGIHandler()
# Loaded from the running app (not from builds.openapi), so the test checks the schema that is served.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGI_APP)


@pytest.fixture(autouse=True)
def wsgi_app(settings):
    """The real WSGI handler, with the generous limits of a test run (429 is fine, but we want the engine
    exercised) and the database connection kept open across requests so the test transaction survives,
    as Django's own test client does."""
    settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE = 100_000
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 100_000
    cache.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGI_APP
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    cache.clear()


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("RIGSITE_FUZZ_EXAMPLES", "40")),
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_never_answers_a_server_error(case):
    # A WSGI server (gunicorn) always sets REMOTE_ADDR; werkzeug's in-process client does not.
    response = case.call(environ_base={"REMOTE_ADDR": "127.0.0.1"})
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500
    if response.status_code in (400, 413):
        # A rejected request says which field was wrong.
        assert "field" in response.json()["error"]


def test_schema_is_served_and_describes_every_endpoint(client):
    body = client.get("/api/v1/openapi.json").json()
    assert body["openapi"].startswith("3.")
    assert set(body["paths"]) == {
        "/api/v1/check",
        "/api/v1/estimate",
        "/api/v1/builds",
        "/api/v1/builds/{share_id}",
        "/api/v1/recommend",
    }


@pytest.mark.parametrize("category", [{}, [], ["gpu"]])
@pytest.mark.parametrize("url", ["/api/v1/check", "/api/v1/builds"])
def test_regression_unhashable_inline_category_is_a_400(url, category):
    client = Client(raise_request_exception=False)
    body = {"inline_parts": [{"category": category, "spec": {}}]} | ({"name": "x"} if "builds" in url else {})
    response = client.post(url, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "inline_parts[0].category"
