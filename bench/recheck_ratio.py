"""The configurator's uncached live re-check as a ratio to a 404 page, measured in the same run (issue 14).

Budget: the median htmx re-check of the dual RTX 4090 example build (its 12 lines, the `v` signatures the
page shows, and a new electricity price on each request so that no report is cached) costs at most 7x the
median `GET /no-such-page/` (the 404 floor: middleware, URL resolution, the 404 response). A ratio, so the
budget holds on any machine; both run through Django's whole stack in this process (test client),
interleaved, DEBUG off (cached template loader), on a fresh SQLite database in /tmp holding only the
curated catalogue (`bootstrap`). Measured on the 2-core development box, 2026-11-29, load average ~3.5,
interleaved runs of 200 samples: 6.4-6.5x before issue 14 (9baf3ac), 7.5-7.7x on main with issue 15's money
and wording (7818727), 6.4-6.7x with the configurator package (issue 14). Sending no signatures (every
region rendered, `--no-signatures`) cost 17.5x before issue 14.

Writes bench/results/recheck_ratio.json; exits 1 when the budget is missed.

Run: `env -u DATABASE_URL .venv/bin/python bench/recheck_ratio.py` (scripts/bench.sh runs it before it
starts PostgreSQL). `--samples N` (default 200) per page.
"""

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from parts_list_ratio import FLOOR_PATH, measured, timed  # noqa: E402

BUDGET_RATIO = 7.0
EXAMPLE = "Dual RTX 4090 home server"
BASE_PATH = "/builds/new/"
INPUT_RE = re.compile(r'<input type="hidden" name="(l|v)" value="([^"]*)"')


def example_params(client) -> list[tuple[str, str]]:
    """The example build's lines and the page's region signatures, as the state form holds them."""
    from html import unescape

    from builds import selectors
    from builds.models import Build

    try:
        from builds.configurator.state import state_from_build
    except ImportError:  # before the configurator package (issue 14)
        from builds.state import state_from_build

    build = Build.objects.get(name=EXAMPLE)
    state = state_from_build(build, selectors.build_lines(build))
    editor = client.get(f"{BASE_PATH}?{state.query()}")
    assert editor.status_code == 200, editor.status_code
    found = INPUT_RE.findall(editor.content.decode())
    params = [(name, unescape(value)) for name, value in found]
    # What the state form also holds: the "where it runs" controls (circuit, hours, currency; the price is
    # the one figure each request changes).
    params += [(k, v) for k, v in parse_qsl(state.query()) if k not in ("l", "kwh")]
    lines = sum(1 for name, _ in params if name == "l")
    if lines != 12:
        raise SystemExit(f"expected the example's 12 lines, the page holds {lines}")
    return params


def measure(samples: int, *, signatures: bool = True) -> dict:
    from django.test import Client

    client = Client()
    params = example_params(client)
    if not signatures:
        params = [(name, value) for name, value in params if name != "v"]
    counter = iter(range(10**9))
    sent: set[str] = set()  # the regions the re-checks sent (a price change: the totals and the controls)

    def recheck() -> float:
        price = 0.10 + next(counter) * 1e-6  # a new price each time: the report is never cached
        query = urlencode([*params, ("kwh", f"{price:.6f}")])
        t0 = time.perf_counter()
        response = client.get(f"{BASE_PATH}?{query}", headers={"HX-Request": "true"})
        elapsed = time.perf_counter() - t0
        if response.status_code != 200 or b"hx-swap-oob" not in response.content:
            raise SystemExit(f"re-check answered {response.status_code}")
        sent.update(re.findall(r'hx-swap-oob="innerHTML:#r-([a-z-]+)"', response.content.decode()))
        return elapsed * 1000

    for _ in range(5):  # warm-up: template compilation, caches, connections
        timed(client, FLOOR_PATH, 404)
        recheck()
    floor, checks = [], []
    for _ in range(samples):  # interleaved, so drift in machine load hits both alike
        floor.append(timed(client, FLOOR_PATH, 404))
        checks.append(recheck())
    ratio = statistics.median(checks) / statistics.median(floor)
    return {
        "budget": f"median uncached htmx re-check of {EXAMPLE!r} <= {BUDGET_RATIO:g}x median {FLOOR_PATH}",
        "ratio": round(ratio, 2),
        "budget_ratio": BUDGET_RATIO,
        "passed": ratio <= BUDGET_RATIO,
        "recheck_ms": round(statistics.median(checks), 3),
        "recheck_p95_ms": round(sorted(checks)[int(0.95 * (len(checks) - 1))], 3),
        "floor_ms": round(statistics.median(floor), 3),
        "samples": samples,
        "signatures_sent": signatures,
        "regions_sent": sorted(sent),
        "load_average": list(os.getloadavg()),
        "settings": "rigsite.settings, DEBUG off, SQLite (fresh, bootstrapped), Django test client",
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--no-signatures", action="store_true", help="send no v signatures (every region)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file")
    args = parser.parse_args()
    result = measured(
        lambda: measure(args.samples, signatures=not args.no_signatures),
        "recheck_ratio.json",
        write=not args.no_write,
    )
    verdict = "PASS" if result["passed"] else "FAIL"
    print(
        f"   re-check ratio: {result['recheck_ms']:.2f} ms median (p95 {result['recheck_p95_ms']:.2f} ms) = "
        f"{result['ratio']:.1f}x the 404 floor ({result['floor_ms']:.2f} ms); budget {BUDGET_RATIO:g}x: "
        f"{verdict}; load average {' '.join(f'{x:.2f}' for x in result['load_average'])}"
    )
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
