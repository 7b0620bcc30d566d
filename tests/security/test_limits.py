"""Abuse limits: admin login throttling (django-axes), rate limits keyed on the real client address behind
trusted proxies, and edit-key cookies that stay bounded however many builds a browser owns (issue 17)."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory, override_settings

from builds import edit_keys
from builds.models import Build
from builds.services import edit_token_hash
from rigsite.ratelimits import client_ip

GPU = "nvidia-geforce-rtx-4090-fe"

# ---- admin login throttling ------------------------------------------------------------------------------


def login(client, username, password, addr="198.51.100.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=addr,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("wrong", [1, 4])
def test_admin_login_below_the_limit_still_logs_in(client, settings, wrong):
    User.objects.create_superuser("root", password="pw-rigsite-123")
    for _ in range(wrong):
        assert login(client, "root", "guess").status_code == 200  # the form again, with its error
    assert login(client, "root", "pw-rigsite-123").status_code == 302


@pytest.mark.django_db
def test_admin_login_locks_out_after_the_failure_limit_with_a_clear_message(settings):
    User.objects.create_superuser("root", password="pw-rigsite-123")
    User.objects.create_superuser("other", password="pw-rigsite-456")
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(attacker, "root", "guess")
    # Even the right password is refused now, with a 429 that says why and for how long.
    locked = login(attacker, "root", "pw-rigsite-123")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Too many failed logins" in text and "15 minutes" in text
    assert locked["Retry-After"] == "900"
    # Guessing the same account from another address is locked too (per-username counter) ...
    assert login(Client(), "root", "pw-rigsite-123", addr="203.0.113.9").status_code == 429
    # ... and the attacking address cannot move on to another account (per-address counter).
    assert login(attacker, "other", "pw-rigsite-456").status_code == 429
    # Someone else, elsewhere, logs in as usual.
    assert login(Client(), "other", "pw-rigsite-456", addr="203.0.113.10").status_code == 302


@pytest.mark.django_db
def test_admin_lockout_counts_the_address_behind_the_trusted_proxy(settings):
    """Behind one proxy every client has the proxy's REMOTE_ADDR: the lockout must follow the client."""
    settings.RIGSITE_TRUSTED_PROXIES = 1
    User.objects.create_superuser("a", password="pw-rigsite-123")
    User.objects.create_superuser("b", password="pw-rigsite-456")
    proxy = "10.0.0.2"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            "/admin/login/",
            {"username": "a", "password": "x"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="192.0.2.1",
        )
    other_client = Client().post(
        "/admin/login/?next=/admin/",
        {"username": "b", "password": "pw-rigsite-456"},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="192.0.2.2",
    )
    assert other_client.status_code == 302


# ---- the client's address ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "xff", "expected"),
    [
        (0, None, "10.0.0.2"),
        (0, "192.0.2.1", "10.0.0.2"),  # no proxy trusted: the header is the client's own claim
        (1, None, "10.0.0.2"),  # skipped the proxy: its own address
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "6.6.6.6, 192.0.2.1", "192.0.2.1"),  # a spoofed leftmost entry is ignored
        (1, " 192.0.2.1 ", "192.0.2.1"),
        (1, "not-an-ip", "10.0.0.2"),
        (1, "", "10.0.0.2"),
        (2, "192.0.2.1, 10.0.0.1", "192.0.2.1"),
        (2, "6.6.6.6, 192.0.2.1, 10.0.0.1", "192.0.2.1"),
        (2, "10.0.0.1", "10.0.0.2"),  # fewer hops than trusted proxies: not trusted
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_takes_the_address_the_outermost_trusted_proxy_saw(settings, trusted, xff, expected):
    settings.RIGSITE_TRUSTED_PROXIES = trusted
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", **extra)
    assert client_ip(request) == expected


def check(client, addr, xff=None):
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff else {}
    return client.post("/api/v1/check", data="{}", content_type="application/json", REMOTE_ADDR=addr, **extra)


@pytest.mark.django_db
def test_rate_limit_buckets_are_per_client_behind_the_proxy_not_per_proxy(settings):
    settings.RIGSITE_TRUSTED_PROXIES = 1
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 3
    proxy = "10.0.0.2"
    client = Client()
    assert [check(client, proxy, "192.0.2.1").status_code for _ in range(3)] == [200, 200, 200]
    assert check(client, proxy, "192.0.2.1").status_code == 429
    # Another client behind the same proxy has its own bucket ...
    assert check(client, proxy, "192.0.2.2").status_code == 200
    # ... and the limited client cannot escape by prepending a made-up address.
    assert check(client, proxy, "203.0.113.50, 192.0.2.1").status_code == 429


@pytest.mark.django_db
def test_without_trusted_proxies_the_forwarded_header_cannot_pick_a_bucket(settings):
    settings.RIGSITE_TRUSTED_PROXIES = 0
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 2
    client = Client()
    assert [check(client, "192.0.2.1", f"203.0.113.{i}").status_code for i in range(3)] == [200, 200, 429]


# ---- edit-key cookies -------------------------------------------------------------------------------------


def cookie_header(client) -> str:
    return "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items() if morsel.value)


@pytest.mark.django_db
@override_settings(RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE=100000)
def test_cookie_header_stays_bounded_with_200_builds_and_recent_builds_stay_editable(seed_catalogue):
    browser = Client()
    share_ids = []
    for n in range(200):
        response = browser.post(
            "/builds/new/", {"name": f"Rig {n}", "visibility": "unlisted", "l": [f"{GPU}*1"]}
        )
        assert response.status_code == 302
        share_ids.append(response["Location"].split("/")[2])
        # Browsers keep 4096 bytes per cookie, and servers refuse 8 KB headers: bounded at every step.
        assert len(cookie_header(browser)) < 4000
    kept = edit_keys.kept()
    recent, old = share_ids[-kept:], share_ids[:-kept]
    for share_id in recent[::7] + recent[-3:]:
        assert browser.get(f"/b/{share_id}/edit/").status_code == 200, share_id
    assert browser.get(f"/b/{old[0]}/edit/").status_code == 403
    # Keys are newest first; a forked build goes to the front as well.
    fork = browser.post(f"/b/{old[0]}/fork/")
    fork_id = fork["Location"].split("/")[2]
    assert list(edit_keys.parse(browser.cookies["rigsite_edit"].value))[:2] == [fork_id, share_ids[-1]]
    assert len(cookie_header(browser)) < 4000


@pytest.mark.django_db
def test_old_per_build_cookies_are_folded_into_one_newest_first(seed_catalogue, settings):
    settings.RIGSITE_EDIT_KEYS_KEPT = 3
    from builds.inputs import Line
    from builds.services import build_create
    from catalog.models import Part

    part = Part.objects.get(slug=GPU)
    made = [build_create(name=f"old {n}", items=[Line.for_part(part)]) for n in range(5)]
    browser = Client()
    for build, token in made:
        browser.cookies[f"rigsite_edit_{build.share_id}"] = token
    browser.cookies["rigsite_edit_nosuchbuild"] = "whatever"
    response = browser.get("/")
    assert response.status_code == 200
    keys = edit_keys.parse(response.cookies["rigsite_edit"].value)
    newest = [b.share_id for b, _ in reversed(made)][:3]
    assert list(keys) == newest
    assert all(Build.objects.get(share_id=s).edit_token_hash == edit_token_hash(t) for s, t in keys.items())
    for build, _ in made:  # every old cookie is deleted
        assert response.cookies[f"rigsite_edit_{build.share_id}"]["max-age"] == 0
    assert response.cookies["rigsite_edit_nosuchbuild"]["max-age"] == 0
    assert browser.get(f"/b/{newest[0]}/edit/").status_code == 200
    assert browser.get(f"/b/{made[0][0].share_id}/edit/").status_code == 403
    assert not [
        name for name in browser.cookies if name.startswith("rigsite_edit_") and browser.cookies[name].value
    ]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "a.b|" * 3000,
        "x" * 5000,
        "|||",
        "id.tok|id.other",
        "../etc.passwd",
        json.dumps({"a": 1}),
    ],
)
def test_malformed_edit_cookies_are_ignored_not_500(value, db, seed_catalogue):
    browser = Client()
    browser.cookies["rigsite_edit"] = value
    build = Build.objects.first()
    assert browser.get(f"/b/{build.share_id}/edit/").status_code == 403
    assert browser.get(f"/b/{build.share_id}/").status_code == 200


@pytest.mark.django_db
def test_many_old_cookies_are_deleted_a_few_per_response_so_headers_stay_small(seed_catalogue):
    browser = Client()
    for n in range(35):
        browser.cookies[f"rigsite_edit_{n:022d}"] = "t" * 32
    rounds = 0
    while any(name.startswith("rigsite_edit_") and m.value for name, m in browser.cookies.items()):
        response = browser.get("/")
        deleted = [name for name, m in response.cookies.items() if name.startswith("rigsite_edit_")]
        assert 0 < len(deleted) <= edit_keys.LEGACY_DELETES_PER_RESPONSE
        for name in deleted:  # the test client keeps deleted cookies with an empty value
            del browser.cookies[name]
        rounds += 1
    assert rounds == 4
