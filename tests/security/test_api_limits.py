"""Bodies no API endpoint can take (issue 17, item 7): deep nesting, oversize, NUL and lone surrogates are
refused in JSON naming the problem, on every endpoint that reads a body, never a 500 or Django's HTML 400."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builds.api import MAX_BODY_BYTES, MAX_JSON_DEPTH

pytestmark = pytest.mark.django_db


def body_endpoints(share_id: str) -> list[tuple[str, str]]:
    """Every (method, path) of the served OpenAPI schema that takes a body: an endpoint added later is
    covered without editing this test."""
    schema = Client().get("/api/v1/openapi.json").json()
    return [
        (method, path.replace("{share_id}", share_id))
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]


@pytest.fixture
def api(seed_catalogue, settings):
    settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE = 100_000
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 100_000
    client = Client(raise_request_exception=False)
    created = client.post(
        "/api/v1/builds", data=json.dumps({"name": "limits"}), content_type="application/json"
    ).json()
    endpoints = body_endpoints(created["share_id"])
    assert {
        ("post", "/api/v1/check"),
        ("post", "/api/v1/builds"),
        ("patch", f"/api/v1/builds/{created['share_id']}"),
    } <= set(endpoints)
    return client, endpoints, {"X-Edit-Token": created["edit_token"]}


def send(client, method, url, raw: bytes, headers):
    return getattr(client, method)(url, data=raw, content_type="application/json", headers=headers)


def assert_json_error(response, statuses=(400,), field=None):
    assert response.status_code in statuses, (response.status_code, response.content[:200])
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["field"] and error["message"]
    if field is not None:
        assert error["field"] == field, error


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    depth=st.integers(MAX_JSON_DEPTH + 1, 5000),
    opener=st.sampled_from(["[", '{"a":']),
    where=st.sampled_from(["top", "parts", "context", "workloads", "name"]),
)
def test_deep_nesting_is_a_json_400_everywhere(api, depth, opener, where):
    client, endpoints, headers = api
    closer = "]" if opener == "[" else "}"
    deep = opener * depth + "1" + closer * depth
    raw = deep if where == "top" else f'{{"{where}": {deep}}}'
    for method, url in endpoints:
        response = send(client, method, url, raw.encode(), headers)
        assert_json_error(response)
        assert "nested" in response.json()["error"]["message"]


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 3 * 1024 * 1024])
def test_oversized_bodies_are_a_json_413_everywhere(api, size):
    client, endpoints, headers = api
    raw = json.dumps({"name": "x" * size}).encode()
    for method, url in endpoints:
        assert_json_error(send(client, method, url, raw, headers), statuses=(413,), field="body")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bad=st.sampled_from(["\\u0000", "a\\u0000b", "\\ud800", "x\\udfff"]),
    where=st.sampled_from(["name", "description", "inline_name", "key", "spec"]),
)
def test_nul_and_lone_surrogates_are_a_400_naming_the_field(api, bad, where):
    client, endpoints, headers = api
    raw = {
        "name": f'{{"name": "{bad}"}}',
        "description": f'{{"name": "n", "description": "{bad}"}}',
        "inline_name": f'{{"name": "n", "inline_parts": [{{"category": "gpu", "name": "{bad}"}}]}}',
        "key": f'{{"name": "n", "context": {{"{bad}": 1}}}}',
        "spec": f'{{"name": "n", "inline_parts": [{{"category": "cpu", "spec": {{"socket": "{bad}"}}}}]}}',
    }[where]
    field = {
        "name": "name",
        "description": "description",
        "inline_name": "inline_parts[0].name",
        "spec": "inline_parts[0].spec.socket",
    }.get(where)
    for method, url in endpoints:
        # The reader checks every string before any endpoint reads its fields.
        assert_json_error(send(client, method, url, raw.encode(), headers), field=field)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/check"),
        ("put", "/api/v1/estimate"),
        ("delete", "/api/v1/builds"),
        ("post", "/api/v1/openapi.json"),
        ("get", "/api/v1/recommend"),
    ],
)
def test_wrong_method_is_a_json_405(client, method, url):
    response = getattr(client, method)(url)
    assert_json_error(response, statuses=(405,), field="method")
    assert response["Allow"]


def test_wrong_method_on_a_build_is_a_json_405(api):
    client, endpoints, headers = api
    response = client.delete(endpoints[-1][1], headers=headers)
    assert_json_error(response, statuses=(405,), field="method")
    assert response["Allow"] == "GET, PATCH"


@pytest.mark.parametrize(
    "custom",
    [
        {"category": "gpu", "name": "a\x00b", "spec": {}},
        {"category": "cpu", "name": "ok", "spec": {"socket": "AM\x005"}},
        {"category": "gpu", "name": "\ud800", "spec": {}},
    ],
)
def test_custom_parts_in_the_state_never_carry_nul_or_surrogates(client, seed_catalogue, custom):
    """The configurator's state takes custom parts as base64 JSON: the same check as the API's, so no
    NUL (PostgreSQL refuses it) or lone surrogate reaches a saved build."""
    import base64

    raw = json.dumps(custom).encode()  # ASCII escapes (\\u0000, \\ud800), as a crafted link would carry them
    token = "c:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    page = client.get("/builds/new/", {"l": [token, "corsair-ax1600i*1"]})
    assert page.status_code == 200 and "custom part is malformed" in page.content.decode()
    saved = client.post(
        "/builds/new/", {"l": [token, "corsair-ax1600i*1"], "name": "n", "visibility": "unlisted"}
    )
    assert saved.status_code == 302
    from builds.models import BuildItem

    assert not BuildItem.objects.filter(custom_category__in=["gpu", "cpu"]).exists()
