"""The README's scale-out story, run: two app servers (gunicorn, the repo's config) against one database
and one real Redis behave as one site: rate limits, cached reports and edit keys (issue 17, item 13).

The test command starts Redis (scripts/redis.sh, RIGSITE_TEST_REDIS_URL); run alone, the test starts a
private redis-server itself, and is skipped only when redis-server is not installed and CI is not set."""

import itertools
import re
import time

import pytest
import redis
import requests

from builds.models import Build

from .servers import gunicorn, redis_url, release_tag

GPU = "nvidia-geforce-rtx-4090-fe"
PSU = "corsair-ax1600i"
LOOKUPS_PER_MINUTE = 6


@pytest.fixture
def two_servers(transactional_db, seed_catalogue):
    with redis_url() as url:
        env = {
            "REDIS_URL": url,
            "RIGSITE_RELEASE": release_tag(),  # the cache key prefix: this test's keys only
            "SECRET_KEY": "scale-out-test-" + "k" * 50,
            "RIGSITE_TRUSTED_PROXIES": "1",
            "RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE": str(LOOKUPS_PER_MINUTE),
            "RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE": "1000",
        }
        # Two workers each: counters shared by workers of one server as much as across servers.
        with gunicorn(env, workers=2) as a, gunicorn(env, workers=2) as b:
            yield a, b, redis.Redis.from_url(url), env["RIGSITE_RELEASE"]


def check(base, client_addr):
    return requests.post(
        f"{base}/api/v1/check", json={}, headers={"X-Forwarded-For": client_addr}, timeout=30
    ).status_code


def test_rate_limits_count_across_servers_per_real_client(two_servers):
    a, b, _, _ = two_servers
    servers = itertools.cycle([a, b])
    statuses = [check(next(servers), "192.0.2.10") for _ in range(LOOKUPS_PER_MINUTE + 2)]
    # One bucket for the client, whichever server (and worker) answers: the 7th request is refused.
    assert statuses[:LOOKUPS_PER_MINUTE] == [200] * LOOKUPS_PER_MINUTE
    assert statuses[LOOKUPS_PER_MINUTE:] == [429, 429]
    # Another client behind the same proxy (same REMOTE_ADDR) has its own bucket, on both servers.
    assert check(a, "192.0.2.11") == 200 and check(b, "192.0.2.11") == 200


def test_a_report_cached_by_one_server_is_used_by_the_other(two_servers):
    a, b, store, release = two_servers
    state = f"l={GPU}*2&l={PSU}*1"
    first = requests.get(f"{a}/builds/new/?{state}", timeout=30)
    assert first.status_code == 200
    reports = set(store.keys(f"{release}:*report:*"))
    assert reports, "server A did not cache the report in Redis"
    ttl_ms = {key: store.pttl(key) for key in reports}
    hits = store.info("stats")["keyspace_hits"]
    time.sleep(1.2)
    second = requests.get(f"{b}/builds/new/?{state}", timeout=30)
    assert second.status_code == 200
    assert set(store.keys(f"{release}:*report:*")) == reports
    # B read A's report (a hit) and did not make and store its own (that would have reset the TTL).
    assert store.info("stats")["keyspace_hits"] > hits
    assert all(0 < store.pttl(key) <= ttl_ms[key] - 1000 for key in reports), (ttl_ms, reports)
    verdict = re.compile(r'class="[^"]*verdict[^"]*"[^>]*>([^<]+)<')
    assert verdict.findall(first.text) == verdict.findall(second.text)


def test_edit_keys_made_on_one_server_work_on_the_other(two_servers):
    a, b, _, _ = two_servers
    browser = requests.Session()
    page = browser.get(f"{a}/builds/new/", timeout=30)
    assert page.status_code == 200
    token = browser.cookies["csrftoken"]
    made = browser.post(
        f"{a}/builds/new/",
        data={"csrfmiddlewaretoken": token, "name": "Scaled", "visibility": "unlisted", "l": f"{GPU}*1"},
        allow_redirects=False,
        timeout=30,
    )
    assert made.status_code == 302, made.text[:500]
    share_id = made.headers["Location"].split("/")[2]
    assert browser.get(f"{b}/b/{share_id}/edit/", timeout=30).status_code == 200
    assert requests.get(f"{b}/b/{share_id}/edit/", timeout=30).status_code == 403  # another browser
    # The API's key too: made on B, used on A; the save is seen from both.
    created = requests.post(
        f"{b}/api/v1/builds", json={"name": "API rig", "parts": [{"slug": GPU}]}, timeout=30
    ).json()
    patched = requests.patch(
        f"{a}/api/v1/builds/{created['share_id']}",
        json={"name": "API rig v2"},
        headers={"X-Edit-Token": created["edit_token"]},
        timeout=30,
    )
    assert patched.status_code == 200
    assert requests.get(f"{b}/api/v1/builds/{created['share_id']}", timeout=30).json()["name"] == "API rig v2"
    assert Build.objects.get(share_id=created["share_id"]).revision_count == 2
