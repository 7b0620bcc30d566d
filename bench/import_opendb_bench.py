"""Time the full BuildCores OpenDB import (about 29,000 part files) into the configured database.

Runs the import twice: the first run into an empty (or stale) catalogue, the second to time the idempotent
refresh (it must import 0 new rows). Prints counts by reason and seconds; writes bench/results/import_opendb.json.
Use a scratch database, e.g.:
  DATABASE_URL=sqlite:////tmp/opendb_bench.sqlite3 .venv/bin/python manage.py migrate
  DATABASE_URL=sqlite:////tmp/opendb_bench.sqlite3 .venv/bin/python bench/import_opendb_bench.py [PATH]
PATH defaults to ../shared/opendb/buildcores-open-db-136a77a.tar.gz.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rigsite.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from catalog.importers.opendb import import_opendb  # noqa: E402
from catalog.models import Part  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "opendb" / "buildcores-open-db-136a77a.tar.gz"
RESULTS = ROOT / "bench" / "results" / "import_opendb.json"


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.exists():
        print(f"{path} not found: pass the OpenDB snapshot (.tar.gz or directory) as the first argument")
        return 2
    first = import_opendb(path)
    print("\n".join(first.lines()))
    second = import_opendb(path)
    print("\nSecond run (idempotent refresh):")
    print("\n".join(second.lines()))
    result = {
        "snapshot": path.name,
        "database": connection.vendor,
        "database_name": str(connection.settings_dict.get("NAME")),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "first_run": first.as_dict() | {"details": first.details[:50]},
        "second_run": second.as_dict() | {"details": []},
        "parts_in_catalogue": Part.objects.count(),
        "opendb_parts_in_catalogue": Part.objects.filter(opendb_id__isnull=False).count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(
        f"\nfirst run {first.seconds:.1f} s, second run {second.seconds:.1f} s -> {RESULTS.relative_to(ROOT)}"
    )
    return 0 if second.imported == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
