"""Faults: PostgreSQL restarted under load, concurrent edits of one build, concurrent price quotes.

The restart test needs the private server of the PostgreSQL test pass (scripts/pg.sh exports
RIGSITE_PG_BIN and RIGSITE_PG_DATA); it drives the real WSGI handler (not Django's test client, which
switches off the per-request connection health checks) from several threads while the server restarts.
"""

import json
import os
import subprocess
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client
from django.utils import timezone
from werkzeug.test import Client as WsgiClient

from builds.models import Build, BuildRevision
from catalog.models import Part, PriceQuote
from catalog.services import price_quote_add

GPU = "nvidia-geforce-rtx-4090-fe"
CHECK_BODY = {
    "inline_parts": [
        {"category": "gpu", "name": "Card", "spec": {"board_power_w": 450, "vram_gb": 24}, "quantity": 2},
        {"category": "psu", "name": "PSU", "spec": {"wattage_w": 1600, "efficiency": "platinum"}},
    ]
}
REQUEST_TIMEOUT_S = 15  # "fails cleanly": an answer, good or bad, well within a proxy's timeout


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def loose_limits(settings):
    settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE = 100_000
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 100_000
    cache.clear()
    yield
    cache.clear()


def pg_restart() -> float:
    """Restart the test server the way an operator would (fast shutdown, wait); returns seconds taken."""
    bin_dir, data = os.environ["RIGSITE_PG_BIN"], os.environ["RIGSITE_PG_DATA"]
    command = [f"{bin_dir}/pg_ctl", "-D", data, "restart", "-m", "fast", "-w"]
    if os.environ.get("RIGSITE_PG_LOG"):
        command += ["-l", os.environ["RIGSITE_PG_LOG"]]  # else the server would hold our stdout open
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return time.monotonic() - started


class Load:
    """Worker threads that alternate an API check and an API save through the real WSGI handler."""

    def __init__(self, workers: int):
        self.app = WSGIHandler()
        self.stop = threading.Event()
        self.results = []  # (started, elapsed, kind, status, share_id)
        self.errors = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.work, args=(n,)) for n in range(workers)]

    def work(self, n: int) -> None:
        client = WsgiClient(self.app)
        environ = {"REMOTE_ADDR": f"10.0.0.{n + 1}"}
        i = 0
        try:
            while not self.stop.is_set():
                i += 1
                kind = "save" if i % 2 else "check"
                body = CHECK_BODY | ({"name": f"load {n}-{i}"} if kind == "save" else {})
                started = time.monotonic()
                response = client.post(
                    "/api/v1/builds" if kind == "save" else "/api/v1/check",
                    data=json.dumps(body),
                    content_type="application/json",
                    environ_base=environ,
                )
                elapsed = time.monotonic() - started
                share_id = response.json["share_id"] if response.status_code == 201 else None
                with self.lock:
                    self.results.append((started, elapsed, kind, response.status_code, share_id))
                time.sleep(0.01)
        except Exception as exc:  # an exception escaping the WSGI handler is not a clean failure
            with self.lock:
                self.errors.append(repr(exc))
        finally:
            connection.close()

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT_S * 2)
        assert not any(t.is_alive() for t in self.threads), "a worker hung"


@pytest.mark.django_db(transaction=True)
def test_postgresql_restart_under_load_recovers_without_app_restart(loose_limits):
    if not on_postgresql():
        pytest.skip("needs PostgreSQL: restarts the database server (SQLite has no server)")
    if not (os.environ.get("RIGSITE_PG_BIN") and os.environ.get("RIGSITE_PG_DATA")):
        pytest.skip("RIGSITE_PG_BIN / RIGSITE_PG_DATA not set (scripts/pg.sh exports them)")
    with Load(workers=4) as load:
        time.sleep(1.5)
        restart_started = time.monotonic()
        restart_s = pg_restart()
        restart_done = time.monotonic()
        time.sleep(3.0)
    connection.close()  # the test's own connection died with the server too

    assert load.errors == []
    results = load.results
    before = [r for r in results if r[0] + r[1] < restart_started]
    after = [r for r in results if r[0] > restart_done + 1.0]
    during = [r for r in results if r not in before and r not in after]
    print(
        f"restart {restart_s:.2f} s; requests before/during/after: {len(before)}/{len(during)}/{len(after)}; "
        f"failed during: {sum(r[3] >= 500 for r in during)}; slowest {max(r[1] for r in results):.2f} s"
    )
    # Before the restart everything works; requests caught by the outage answer (a 5xx), never hang.
    assert before and all(r[3] in (200, 201) for r in before)
    assert all(r[1] < REQUEST_TIMEOUT_S for r in results)
    assert all(r[3] in (200, 201) or 500 <= r[3] < 600 for r in during)
    # A second after the server is back, with the same process and handler: every request succeeds.
    assert len(after) >= 8, (len(after), restart_s)
    assert {r[3] for r in after} <= {200, 201}, sorted({r[3] for r in after})
    assert {r[2] for r in after} == {"check", "save"}
    # Every build that was acknowledged (201) is in the database, with its first revision.
    saved = [r[4] for r in results if r[3] == 201]
    assert len(set(saved)) == len(saved)
    found = dict(Build.objects.filter(share_id__in=saved).values_list("share_id", "revision_count"))
    assert set(found) == set(saved)
    assert set(found.values()) == {1}
    assert BuildRevision.objects.filter(build__share_id__in=saved, number=1).count() == len(saved)


def run_threads(target, count: int) -> list:
    results, errors = [None] * count, []
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = target(i)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_keep_every_revision(seed_catalogue, loose_limits):
    edits = 8
    created = Client().post(
        "/api/v1/builds",
        data=json.dumps({"name": "Shared rig", "parts": [{"slug": GPU}]}),
        content_type="application/json",
    )
    assert created.status_code == 201
    share_id, token = created.json()["share_id"], created.json()["edit_token"]

    def edit(i):
        response = Client().patch(
            f"/api/v1/builds/{share_id}",
            data=json.dumps({"name": f"edit {i}", "parts": [{"slug": GPU, "quantity": 1 + i % 4}]}),
            content_type="application/json",
            HTTP_X_EDIT_TOKEN=token,
        )
        return response.status_code

    if on_postgresql():
        statuses = run_threads(edit, edits)
    else:  # SQLite serialises writers with a database lock: the sequential variant checks the numbering
        statuses = [edit(i) for i in range(edits)]
    assert statuses == [200] * edits
    build = Build.objects.get(share_id=share_id)
    numbers = sorted(BuildRevision.objects.filter(build=build).values_list("number", flat=True))
    assert numbers == list(range(1, edits + 2))
    assert build.revision_count == edits + 1
    names = {r.snapshot["name"] for r in BuildRevision.objects.filter(build=build, number__gt=1)}
    assert names == {f"edit {i}" for i in range(edits)}
    # The build ends as the last revision says, items included (no torn write).
    last = BuildRevision.objects.get(build=build, number=edits + 1).snapshot
    assert build.name == last["name"]
    assert [i.quantity for i in build.items.all()] == [item["quantity"] for item in last["items"]]


@pytest.mark.django_db(transaction=True)
def test_concurrent_price_quotes_keep_every_quote_and_the_newest_wins(seed_catalogue):
    quotes = 8
    part = Part.objects.get(slug=GPU)
    before = PriceQuote.objects.filter(part=part).count()
    base = timezone.now() + timedelta(days=1)  # newer than any curated quote
    # Quote i is observed i minutes after base, but the threads commit in whatever order they run.

    def add(i):
        quote = price_quote_add(
            part=Part.objects.get(pk=part.pk),
            amount=Decimal(1500 + 10 * i),
            currency="USD",
            source=f"fault test {i}",
            observed_at=base + timedelta(minutes=(i * 5) % quotes),
        )
        return quote.pk

    if on_postgresql():
        ids = run_threads(add, quotes)
    else:
        ids = [add(i) for i in reversed(range(quotes))]
    assert len(set(ids)) == quotes
    assert PriceQuote.objects.filter(part=part).count() == before + quotes
    newest = PriceQuote.objects.filter(part=part, condition="new").order_by("-observed_at", "-id").first()
    assert newest.pk in ids
    part.refresh_from_db()
    assert part.price_new_usd == newest.amount
    assert part.price_observed_at == newest.observed_at
    gpu = part.typed()
    assert gpu.price_per_vram_gb_usd == (newest.amount / Decimal(str(gpu.vram_gb))).quantize(Decimal("0.01"))
