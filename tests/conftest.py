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

    cache.clear()
    part_cache_clear()
    yield


@pytest.fixture
def seed_catalogue(db):
    """The curated parts the five example builds use (plus a few to swap in), the rates and the examples."""
    examples = json.loads(EXAMPLES_PATH.read_text())
    wanted = {row["slug"] for record in examples for row in record["items"]} | EXTRA_SLUGS
    load_exchange_rates()
    for path in sorted((DATA_DIR / "parts").glob("*.json")):
        records = [r for r in read_json(path) if r["slug"] in wanted]
        if records:
            load_parts(path.stem, records)
    load_example_builds()
    return {b.example_key: b for b in Build.objects.all()}
