import json
from pathlib import Path

import pytest

from builds.examples import EXAMPLES_PATH, load_example_builds
from builds.models import Build
from catalog.bootstrap import DATA_DIR, load_exchange_rates, load_parts, read_json

ENGINE_DIR = Path(__file__).parent / "engine"


def pytest_collection_modifyitems(config, items):
    # Engine tests need no database: run them once (SQLite pass), not again on PostgreSQL.
    for item in items:
        if ENGINE_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.engine_only)


EXTRA_SLUGS = {
    "corsair-hx1500i-2023",
    "nvidia-geforce-rtx-3090-fe",
    "nvidia-rtx-a6000",
    "seasonic-prime-tx-1600-atx3",
}


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with empty caches: reports and parts are cached by content and catalogue version,
    and a test's database is rolled back without the version bump a real commit would make."""
    from django.core.cache import cache

    from builds.inputs import part_cache_clear
    from catalog.workloads import presets_cache_clear

    cache.clear()
    part_cache_clear()
    presets_cache_clear()
    yield


# The seed catalogue is loaded once per test session (issue 14, item 6): committed into the test database
# right after it is created (django_db_setup below), so each test that asks for `seed_catalogue` finds it
# there and its own changes roll back with its transaction. A DB test that does not ask for it starts from an
# empty catalogue as before: its rows are deleted inside its transaction (rolled back afterwards). A
# transactional test (transaction=True, live_server) ends with a flush that deletes the seed too; the next
# test that asks for it reloads it, committed, before its transaction begins (pytest_runtest_setup).
SEED = {"loaded": False, "blocker": None}


def load_seed() -> None:
    """The curated parts the five example builds use (plus a few to swap in), the rates and the examples."""
    from django.db import transaction

    from catalog.services import catalogue_bulk_write

    examples = json.loads(EXAMPLES_PATH.read_text())
    wanted = {row["slug"] for record in examples for row in record["items"]} | EXTRA_SLUGS
    with transaction.atomic(), catalogue_bulk_write():
        load_exchange_rates()
        for path in sorted((DATA_DIR / "parts").glob("*.json")):
            records = [r for r in read_json(path) if r["slug"] in wanted]
            if records:
                load_parts(path.stem, records)
        load_example_builds()


def empty_catalogue() -> None:
    """Delete every catalogue and build row (the seed), leaving other apps' rows and the version row."""
    from django.apps import apps
    from django.db import connection, transaction

    from catalog.models import CatalogueVersion

    tables = [
        model._meta.db_table
        for label in ("builds", "catalog")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model is not CatalogueVersion
    ]
    # DELETE, not TRUNCATE (PostgreSQL's flush): legal whatever the transaction did before; one atomic
    # block, so the foreign keys (deferred on both backends) are checked once every table is empty.
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 (model tables)


def uses_db(item) -> bool:
    names = set(item.fixturenames)
    return bool(names & {"db", "transactional_db", "live_server"}) or item.get_closest_marker("django_db")


def is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    by_marker = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    return bool(by_marker) or bool({"transactional_db", "live_server"} & set(item.fixturenames))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, then the seed catalogue committed into them, once."""
    SEED["blocker"] = django_db_blocker
    with django_db_blocker.unblock():
        load_seed()
    SEED["loaded"] = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Before any fixture (so before the test's transaction): put back a seed a transactional test flushed.
    if not SEED["loaded"] and SEED["blocker"] is not None and "seed_catalogue" in item.fixturenames:
        with SEED["blocker"].unblock():
            empty_catalogue()  # whatever a transactional test left without a flush
            load_seed()
        SEED["loaded"] = True


def pytest_runtest_teardown(item, nextitem):
    if is_transactional(item):
        SEED["loaded"] = False  # its flush (or its own writes) took the seed away


@pytest.fixture(autouse=True)
def catalogue_as_requested(request):
    """A DB test sees the seed catalogue if it asks for `seed_catalogue`, an empty catalogue if not."""
    if "seed_catalogue" not in request.fixturenames and uses_db(request.node):
        request.getfixturevalue("transactional_db" if is_transactional(request.node) else "db")
        if SEED["loaded"]:
            empty_catalogue()
            if is_transactional(request.node):
                SEED["loaded"] = False  # committed: gone for the tests after this one
    yield


@pytest.fixture
def seed_catalogue(db):
    """The seed catalogue (see load_seed): the example builds by their key."""
    if not SEED["loaded"]:  # only when no database existed at setup time; then loaded for this test only
        empty_catalogue()
        load_seed()
    return {b.example_key: b for b in Build.objects.exclude(example_key=None)}
