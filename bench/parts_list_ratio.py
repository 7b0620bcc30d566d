"""The parts list's rendering cost as a ratio to a 404 page, measured in the same run (issue 15, item 13).

Budget: `GET /parts/gpu/?sort=price_per_gb` (the curated GPUs, sorted by price per GB) costs at most 20x
`GET /no-such-page/` (the 404 floor: middleware, URL resolution, the 404 response). A ratio, so the budget
holds on any machine; both run through Django's whole stack in this process (test client), interleaved,
DEBUG off (production template loading: the cached loader), on a fresh SQLite database in /tmp holding
only the curated catalogue (`bootstrap`), so the number is the page's rendering, not the database.
Before the fix (commit 074031a) the ratio was ~34-45x on the 2-core development machine.

Also reports the median ms of each page, and of the same list on page 1 with other sorts and filters.
Writes bench/results/parts_list_ratio.json; exits 1 when the budget is missed.

Run: `env -u DATABASE_URL .venv/bin/python bench/parts_list_ratio.py` (scripts/bench.sh runs it before it
starts PostgreSQL). `--samples N` (default 200) per page.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
BUDGET_RATIO = 20.0
FLOOR_PATH = "/no-such-page/"
LIST_PATH = "/parts/gpu/?sort=price_per_gb"
OTHER_PATHS = [
    "/parts/gpu/",
    "/parts/gpu/?sort=-price_per_tflop&vram_min=20",
    "/parts/motherboard/?sort=name",
]


def setup_django() -> Path:
    # Production-like template loading (DEBUG off: cached loader, plain 404), plain static file names so no
    # collectstatic manifest is needed, a database of our own.
    os.environ["DEBUG"] = "false"
    os.environ["RIGSITE_PLAIN_STATIC"] = "1"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "rigsite.settings"
    own_db = Path(tempfile.gettempdir()) / f"rigsite-parts-ratio-{os.getpid()}.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{own_db}"
    import django

    django.setup()
    import logging

    logging.getLogger("django.request").setLevel(logging.ERROR)  # no "Not Found" line per 404 sample
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    with open(os.devnull, "w") as devnull:
        call_command("bootstrap", stdout=devnull)
    return own_db


def timed(client, path: str, expect: int) -> float:
    t0 = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - t0
    if response.status_code != expect:
        raise SystemExit(f"{path} answered {response.status_code}, expected {expect}")
    return elapsed * 1000


def measure(samples: int) -> dict:
    from django.test import Client

    from catalog.models import Category, Part

    client = Client()
    gpus = Part.objects.filter(category=Category.GPU, retired=False).count()
    paths = [FLOOR_PATH, LIST_PATH, *OTHER_PATHS]
    expect = {FLOOR_PATH: 404}
    for path in paths:  # warm-up: template compilation, caches, connections
        for _ in range(5):
            timed(client, path, expect.get(path, 200))
    times: dict[str, list[float]] = {p: [] for p in paths}
    for _ in range(samples):  # interleaved, so drift in machine load hits every page alike
        for path in paths:
            times[path].append(timed(client, path, expect.get(path, 200)))
    median = {p: statistics.median(v) for p, v in times.items()}
    ratio = median[LIST_PATH] / median[FLOOR_PATH]
    return {
        "budget": f"median {LIST_PATH} <= {BUDGET_RATIO:g}x median {FLOOR_PATH}",
        "ratio": round(ratio, 2),
        "budget_ratio": BUDGET_RATIO,
        "passed": ratio <= BUDGET_RATIO,
        "list_ms": round(median[LIST_PATH], 3),
        "floor_ms": round(median[FLOOR_PATH], 3),
        "curated_gpus": gpus,
        "samples_per_page": samples,
        "median_ms": {p: round(m, 3) for p, m in median.items()},
        "p95_ms": {p: round(sorted(v)[int(0.95 * (len(v) - 1))], 3) for p, v in times.items()},
        "ratio_to_floor": {p: round(m / median[FLOOR_PATH], 2) for p, m in median.items()},
        "settings": "rigsite.settings, DEBUG off, SQLite (fresh, bootstrapped), Django test client",
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def measured(measure_fn, results_name: str, *, write: bool) -> dict:
    """Run `measure_fn()` on a fresh bootstrapped SQLite database (removed afterwards, WAL files included)
    and write its result to bench/results/<results_name> unless `write` is False."""
    db = setup_django()
    try:
        result = measure_fn()
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    if write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / results_name).write_text(json.dumps(result, indent=2) + "\n")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file")
    args = parser.parse_args()
    result = measured(lambda: measure(args.samples), "parts_list_ratio.json", write=not args.no_write)
    verdict = "PASS" if result["passed"] else "FAIL"
    print(
        f"   parts list ratio: {LIST_PATH} {result['median_ms'][LIST_PATH]:.2f} ms median = "
        f"{result['ratio']:.1f}x the 404 floor ({result['median_ms'][FLOOR_PATH]:.2f} ms); "
        f"budget {BUDGET_RATIO:g}x: {verdict}"
    )
    for path in OTHER_PATHS:
        print(f"   {path}: {result['median_ms'][path]:.2f} ms ({result['ratio_to_floor'][path]:.1f}x)")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
