from pathlib import Path

import pytest

ENGINE_DIR = Path(__file__).parent / "engine"


def pytest_collection_modifyitems(config, items):
    # Engine tests need no database: run them once (SQLite pass), not again on PostgreSQL.
    for item in items:
        if ENGINE_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.engine_only)
