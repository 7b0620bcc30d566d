"""Security headers, CSP nonces, templates without inline code, CSRF, admin permissions, share ids, edit
tokens (hash only, never logged), PATCH authorisation and rate limits (docs/api.md "Saved builds").

`manage.py check --deploy` on the production settings runs in the test command (scripts/test.sh).
"""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client

from builds.models import Build, BuildItem, BuildRevision
from builds.services import edit_token_hash
from catalog.bootstrap import curator_group
from catalog.models import Part, PriceQuote

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
GPU = "nvidia-geforce-rtx-4090-fe"
PSU = "corsair-ax1600i"
NONCE_IN_TAG = re.compile(r'<script\b[^>]*\bnonce="([^"]+)"[^>]*>')


def post_json(client, url, body, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def csp_nonce(response) -> str:
    policy = response["Content-Security-Policy"]
    match = re.search(r"script-src [^;]*'nonce-([^']+)'", policy)
    assert match, policy
    return match[1]


@pytest.fixture
def api_build(client, seed_catalogue):
    response = post_json(
        client, "/api/v1/builds", {"name": "Locked rig", "parts": [{"slug": GPU}, {"slug": PSU}]}
    )
    assert response.status_code == 201
    return response.json()


# ---- headers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/builds/new/", "/plan/", "/compare/"])
def test_pages_send_security_headers_and_a_nonce_csp(client, seed_catalogue, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if " " in d.strip())
    assert "*" not in directives["default-src"].split() and "http:" not in policy
    nonce = csp_nonce(response)
    assert len(nonce) >= 16
    tags = NONCE_IN_TAG.findall(response.content.decode())
    assert tags, "the htmx script tag carries the nonce"
    assert set(tags) == {nonce}
    # A nonce is per response, never reused.
    assert csp_nonce(client.get(url)) != nonce


def test_every_inline_script_in_a_page_carries_the_nonce(client, seed_catalogue):
    build = seed_catalogue["4x-4090-threadripper-pro-trainer"]
    for url in ("/", f"/b/{build.share_id}/", "/builds/new/", "/plan/"):
        response = client.get(url)
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert f'nonce="{csp_nonce(response)}"' in tag, (url, tag)
        # No inline handlers and no style attributes in what is served, diagrams included.
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), url
        assert not re.search(r"<[^>]+\sstyle\s*=", html), url


def test_templates_have_no_inline_handlers_or_style_attributes():
    offenders = []
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert templates
    for path in templates:
        text = path.read_text()
        for pattern in (r"\son[a-z]+\s*=", r"\shx-on[:\-]", r"\sstyle\s*=", r"<style\b", r"javascript:"):
            for match in re.finditer(pattern, text, re.IGNORECASE):
                offenders.append(
                    f"{path.relative_to(ROOT)}: {text[max(0, match.start() - 20) : match.end() + 20]}"
                )
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                assert "nonce" in tag, f"{path.relative_to(ROOT)}: inline script without nonce: {tag}"
    assert offenders == []


def test_production_settings_add_hsts_secure_cookies_and_ssl_redirect():
    """The real production settings module, in a fresh interpreter (it refuses the development key)."""
    code = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
c = Client()
plain = c.get("/api/v1/openapi.json")
secure = c.get("/api/v1/openapi.json", secure=True)
print(json.dumps({
    "debug": settings.DEBUG,
    "redirect": [plain.status_code, plain.get("Location", "")],
    "headers": dict(secure.headers),
    "cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.RIGSITE_EDIT_COOKIE_SECURE],
}))
"""
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "rigsite.settings_production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "testserver",
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["debug"] is False
    assert result["redirect"] == [301, "https://testserver/api/v1/openapi.json"]
    headers = {k.lower(): v for k, v in result["headers"].items()}
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["strict-transport-security"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "'unsafe-inline'" not in headers["content-security-policy"]
    assert result["cookies"] == [True, True, True]


def test_production_settings_refuse_the_development_key():
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "rigsite.settings_production", "ALLOWED_HOSTS": "x"}
    env.pop("SECRET_KEY", None)
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0 and "SECRET_KEY" in out.stderr


# ---- CSRF ------------------------------------------------------------------------------------------------


def test_configurator_save_needs_csrf(seed_catalogue):
    client = Client(enforce_csrf_checks=True)
    before = Build.objects.count()
    response = client.post("/builds/new/", {"name": "No token", "visibility": "unlisted", "l": [f"{GPU}*1"]})
    assert response.status_code == 403
    assert Build.objects.count() == before
    # With the token from the page, the same post saves.
    page = client.get("/builds/new/")
    token = page.cookies["csrftoken"].value
    ok = client.post(
        "/builds/new/",
        {"name": "With token", "visibility": "unlisted", "l": [f"{GPU}*1"], "csrfmiddlewaretoken": token},
    )
    assert ok.status_code == 302
    assert Build.objects.count() == before + 1


def test_fork_and_edit_posts_need_csrf(seed_catalogue):
    build = seed_catalogue["4x-4090-threadripper-pro-trainer"]
    client = Client(enforce_csrf_checks=True)
    before = Build.objects.count()
    assert client.post(f"/b/{build.share_id}/fork/").status_code == 403
    assert client.post(f"/b/{build.share_id}/edit/", {"name": "Hijack"}).status_code == 403
    assert Build.objects.count() == before
    build.refresh_from_db()
    assert build.name != "Hijack"


def test_htmx_requests_send_the_csrf_token_from_body_hx_headers(client, seed_catalogue):
    html = client.get("/builds/new/").content.decode()
    match = re.search(r"<body[^>]*hx-headers='([^']+)'", html)
    assert match
    assert json.loads(match[1])["X-CSRFToken"]


# ---- admin -----------------------------------------------------------------------------------------------


def test_admin_is_closed_to_anonymous_and_non_staff_users(client):
    assert client.get("/admin/").status_code == 302
    user = User.objects.create_user("visitor", password="pw-visitor-123456")
    client.force_login(user)
    response = client.get("/admin/catalog/part/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_curator_changes_prices_and_parts_but_not_users(client, seed_catalogue):
    curator = User.objects.create_user("curator", password="pw-curator-123456", is_staff=True)
    curator.groups.add(curator_group())
    client.force_login(curator)
    part = Part.objects.get(slug=GPU)
    assert client.get(f"/admin/catalog/gpu/{part.pk}/change/").status_code == 200
    assert client.get("/admin/catalog/pricequote/add/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get(f"/admin/auth/user/{curator.pk}/change/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403
    assert curator.has_perm("catalog.change_part") and curator.has_perm("catalog.add_pricequote")
    assert not curator.has_perm("catalog.change_pricequote")  # quotes are append-only
    assert not curator.has_perm("auth.change_user")
    # A quote added through the admin form lands in the history and drives the price.
    before = PriceQuote.objects.filter(part=part).count()
    response = client.post(
        "/admin/catalog/pricequote/add/",
        {
            "part": part.pk,
            "amount": "1799.00",
            "currency": "USD",
            "condition": "new",
            "source": "admin test",
            "url": "",
            "observed_at_0": "2026-11-20",
            "observed_at_1": "12:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert PriceQuote.objects.filter(part=part).count() == before + 1


@pytest.mark.parametrize("suffix", ["", "{pk}/change/"])
def test_regression_base_part_admin_pages(seed_catalogue, suffix):
    curator = User.objects.create_user("curator2", password="pw-curator-123456", is_staff=True)
    curator.groups.add(curator_group())
    client = Client(raise_request_exception=False)
    client.force_login(curator)
    pk = Part.objects.get(slug=GPU).pk
    assert client.get("/admin/catalog/part/" + suffix.format(pk=pk)).status_code == 200


# ---- share ids and edit tokens ---------------------------------------------------------------------------


def test_share_ids_are_22_urlsafe_chars_and_unique(client, seed_catalogue):
    ids = {post_json(client, "/api/v1/builds", {"name": f"b{i}"}).json()["share_id"] for i in range(20)}
    assert len(ids) == 20
    for share_id in ids:
        # token_urlsafe(16): 128 bits -> 22 base64url characters, not derived from the primary key.
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", share_id)
        assert share_id != str(Build.objects.get(share_id=share_id).pk)


def test_edit_token_is_stored_only_as_a_hash_and_never_logged(client, seed_catalogue, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's default config holds "django" at INFO
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    response = post_json(
        client,
        "/api/v1/builds",
        {"name": "Secret rig", "description": "desc", "parts": [{"slug": GPU}, {"slug": PSU}]},
    )
    assert response.status_code == 201
    token = response.json()["edit_token"]
    assert len(token) >= 32
    build = Build.objects.get(share_id=response.json()["share_id"])
    assert build.edit_token_hash == edit_token_hash(token) and token not in build.edit_token_hash
    # Nowhere in the database: dump every text column of the rows this build touched.
    dumped = json.dumps(
        [
            list(Build.objects.filter(pk=build.pk).values()),
            list(BuildItem.objects.filter(build=build).values()),
            list(BuildRevision.objects.filter(build=build).values()),
        ],
        default=str,
    )
    assert token not in dumped
    # Nowhere in the logs (root logger at DEBUG, SQL included) of the create, a PATCH and a bad PATCH.
    url = f"/api/v1/builds/{build.share_id}"
    client.patch(
        url, data=json.dumps({"name": "x"}), content_type="application/json", HTTP_X_EDIT_TOKEN=token
    )
    client.patch(
        url, data=json.dumps({"name": "y"}), content_type="application/json", HTTP_X_EDIT_TOKEN="bad"
    )
    connection.force_debug_cursor = False
    assert any("INSERT INTO" in r.getMessage() and "builds_build" in r.getMessage() for r in caplog.records)
    assert any(r.name == "django.request" and "Forbidden" in r.getMessage() for r in caplog.records)
    assert token not in caplog.text
    assert all(token not in str(r.args) for r in caplog.records)


def test_configurator_edit_cookie_is_httponly_and_lax(seed_catalogue):
    client = Client()
    response = client.post("/builds/new/", {"name": "Cookie", "visibility": "unlisted", "l": [f"{GPU}*1"]})
    assert response.status_code == 302
    share_id = response["Location"].split("/")[2]
    cookie = response.cookies["rigsite_edit"]  # one cookie for all builds' keys (builds/edit_keys.py)
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    build = Build.objects.get(share_id=share_id)
    assert cookie.value.startswith(f"{share_id}.")
    assert build.edit_token_hash == edit_token_hash(cookie.value.split(".", 1)[1])
    # Another browser (no cookie) sees the read-only refusal, not the editor.
    assert Client().get(f"/b/{share_id}/edit/").status_code == 403


@pytest.mark.parametrize("token", [None, "", "wrong-token", "x" * 5000])
def test_patch_without_the_right_token_is_403_and_changes_nothing(client, api_build, token):
    share_id = api_build["share_id"]
    build = Build.objects.get(share_id=share_id)
    before = (build.name, build.revision_count, list(build.items.values_list("part__slug", "quantity")))
    headers = {} if token is None else {"HTTP_X_EDIT_TOKEN": token}
    response = client.patch(
        f"/api/v1/builds/{share_id}",
        data=json.dumps({"name": "Stolen", "parts": [{"slug": GPU, "quantity": 4}]}),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "X-Edit-Token"
    build.refresh_from_db()
    after = (build.name, build.revision_count, list(build.items.values_list("part__slug", "quantity")))
    assert after == before
    assert BuildRevision.objects.filter(build=build).count() == 1


def test_patch_with_another_builds_token_is_403(client, api_build, seed_catalogue):
    other = post_json(client, "/api/v1/builds", {"name": "Other"}).json()
    response = client.patch(
        f"/api/v1/builds/{api_build['share_id']}",
        data=json.dumps({"name": "Cross"}),
        content_type="application/json",
        HTTP_X_EDIT_TOKEN=other["edit_token"],
    )
    assert response.status_code == 403
    assert Build.objects.get(share_id=api_build["share_id"]).name == "Locked rig"


def test_patch_with_the_token_changes_and_adds_a_revision(client, api_build):
    response = client.patch(
        f"/api/v1/builds/{api_build['share_id']}",
        data=json.dumps({"name": "Renamed"}),
        content_type="application/json",
        HTTP_X_EDIT_TOKEN=api_build["edit_token"],
    )
    assert response.status_code == 200
    build = Build.objects.get(share_id=api_build["share_id"])
    assert build.name == "Renamed"
    assert sorted(build.revisions.values_list("number", flat=True)) == [1, 2]


# ---- rate limits -----------------------------------------------------------------------------------------


@pytest.fixture
def tight_limits(settings):
    settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE = 3
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 5
    cache.clear()
    yield
    cache.clear()


def test_api_writes_past_the_limit_get_429_and_write_nothing(client, seed_catalogue, tight_limits):
    codes = [post_json(client, "/api/v1/builds", {"name": f"r{i}"}).status_code for i in range(3)]
    assert codes == [201, 201, 201]
    before = Build.objects.count()
    refused = post_json(client, "/api/v1/builds", {"name": "one too many"})
    assert refused.status_code == 429
    assert refused.json()["error"]["field"] == "rate"
    assert Build.objects.count() == before
    # Another client address has its own budget.
    assert post_json(client, "/api/v1/builds", {"name": "other"}, REMOTE_ADDR="10.9.8.7").status_code == 201


def test_form_saves_and_forks_past_the_limit_get_429(client, seed_catalogue, tight_limits):
    build = seed_catalogue["4x-4090-threadripper-pro-trainer"]
    form = {"name": "Form", "visibility": "unlisted", "l": [f"{GPU}*1"]}
    codes = [client.post("/builds/new/", form).status_code for _ in range(3)]
    assert codes == [302, 302, 302]
    assert client.post("/builds/new/", form).status_code == 429
    # Each write view counts on its own budget (django-ratelimit's default group is the view).
    forks = [client.post(f"/b/{build.share_id}/fork/").status_code for _ in range(4)]
    assert forks == [302, 302, 302, 429]
    # Reading pages is not a write: the configurator GET is not limited by the write budget.
    assert client.get("/builds/new/").status_code == 200


def test_share_id_lookups_past_the_limit_get_429(client, seed_catalogue, tight_limits):
    codes = [client.get(f"/api/v1/builds/guess{i:017d}").status_code for i in range(6)]
    assert codes[:5] == [404] * 5
    assert codes[5] == 429


def test_rate_limit_settings_are_sane_defaults():
    assert (
        0
        < django_settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE
        <= django_settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE
    )
