"""One client, sequential: server time and SQL queries per request of the pages in DESIGN.md's budgets.

Measures, against a running server (scripts/bench.sh starts gunicorn on 127.0.0.1:8765):
- the htmx re-check (GET /builds/new/?l=...&v=...  with HX-Request: true) of the "4x RTX 4090 Threadripper
  PRO trainer" example build, one part changed per request, sent with the region signatures of that build's
  page as the browser sends them (the response holds only the regions that changed):
    uncached: every request is a build never seen before (PSU swapped, GPU quantity changed), so the
              report cache (builds/reports.py, keyed by content and price version) misses;
    cached:   the same four variants over and over, so the report cache hits;
- the re-check query count of every example build (1 to 4 GPUs, 7 to 13 lines): it must not grow with size;
- the parts list sorted by price per GB of VRAM (/parts/gpu/?sort=price_per_gb), with and without a filter;
- the shared build page (/b/<share_id>/) of the example builds;
- the compare page with 3 example builds (/compare/?b=a,b,c).

"Server time" is the app's own time from the Server-Timing header (rigsite/query_count.py, enabled with
RIGSITE_QUERY_COUNT_HEADER=1); the round trip seen by the client over loopback is reported beside it.
Query counts come from the X-Query-Count header (absent -> null: the middleware is not in MIDDLEWARE).
Writes bench/results/recheck_timing.json. Run (with DATABASE_URL of the server's database, for the targets):
  .venv/bin/python bench/recheck_timing.py [--base-url http://127.0.0.1:8765] [--n 200]

load_test.py imports build_targets(), fetch() and summarize() from here.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import json
import os
import platform
import random
import re
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
DEFAULT_BASE_URL = "http://127.0.0.1:8765"
RECHECK_BUILD = "4x RTX 4090 Threadripper PRO trainer"
HX = {"HX-Request": "true"}

# DESIGN.md "Performance budgets" (milliseconds unless said otherwise).
BUDGET_RECHECK_P50_MS = 15
BUDGET_RECHECK_P95_MS = 40
BUDGET_RECHECK_MAX_QUERIES = 10
BUDGET_PARTS_LIST_P95_MS = 80


# --------------------------------------------------------------------------------------------- targets


def build_targets() -> dict:
    """Request paths for every benchmarked page, read from the database the server uses (DATABASE_URL).

    recheck_uncached is a long, deterministic list of distinct builds (base build with PSU model, PSU count
    and GPU quantity varied); callers take disjoint slices of it so that no two runs share a cache entry.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rigsite.settings")
    import django

    django.setup()
    from builds import selectors
    from builds.configurator.state import state_from_build
    from builds.models import Build
    from catalog.models import Category, Part

    examples = list(Build.objects.filter(name__in=example_names()).order_by("name"))
    if not examples:
        raise SystemExit("no example builds in the database: run `manage.py bootstrap` first")
    base_build = next((b for b in examples if b.name == RECHECK_BUILD), examples[0])
    base_lines = selectors.build_lines(base_build)
    base_state = state_from_build(base_build, base_lines)

    def recheck_path(state, lines=None) -> str:
        return f"/builds/new/?{state.query(lines)}"

    gpu_index = next(i for i, line in enumerate(base_lines) if line.category == Category.GPU)
    psu_index = next(i for i, line in enumerate(base_lines) if line.category == Category.PSU)
    psu_slugs = list(
        Part.objects.filter(category=Category.PSU, retired=False)
        .exclude(slug=base_lines[psu_index].slug)
        .order_by("id")
        .values_list("slug", flat=True)
    )

    def variant(psu_slug: str | None, gpu_qty: int, psu_qty: int) -> str:
        lines = [copy_line(line) for line in base_lines]
        gpu, psu = lines[gpu_index], lines[psu_index]
        if psu_slug:
            psu.slug = psu_slug
        psu.quantity = psu_qty
        if gpu_qty != gpu.quantity or psu_qty != base_lines[psu_index].quantity:
            # What the configurator does when a quantity changes: placements go back to automatic.
            gpu.quantity = gpu_qty
            gpu.placement = replace(gpu.placement, psu=None, slots=None)
        return recheck_path(base_state, lines)

    combos = [(p, g, k) for p in psu_slugs for g in (4, 3, 2, 1) for k in (2, 1)]
    random.Random(8).shuffle(combos)
    uncached = [variant(*combo) for combo in combos]
    cached = [
        recheck_path(base_state),
        variant(None, 3, 2),
        variant(psu_slugs[0], 4, 2),
        variant(psu_slugs[1], 4, 2),
    ]
    sizes = {}
    for build in examples:
        lines = selectors.build_lines(build)
        gpus = sum(line.quantity for line in lines if line.category == Category.GPU)
        sizes[build.name] = {
            "path": recheck_path(state_from_build(build, lines)),
            "lines": len(lines),
            "parts": sum(line.quantity for line in lines),
            "gpus": gpus,
        }
    share_ids = [b.share_id for b in examples]
    compare = [f"/compare/?b={','.join(trio)}" for trio in itertools.combinations(share_ids, 3)]
    return {
        "recheck_build": {
            "name": base_build.name,
            "share_id": base_build.share_id,
            "query": base_state.query(),
        },
        "recheck_uncached": uncached,
        "recheck_cached": cached,
        "recheck_sizes": sizes,
        "parts_list": ["/parts/gpu/?sort=price_per_gb"],
        "parts_list_filtered": [
            f"/parts/gpu/?sort=price_per_gb&vram_min={vram}" for vram in (8, 12, 16, 24, 32, 48)
        ],
        "shared": [f"/b/{share_id}/" for share_id in share_ids],
        "compare": compare,
    }


def example_names() -> list[str]:
    data = json.loads((ROOT / "catalog" / "data" / "example_builds.json").read_text())
    return [b["name"] for b in data]


def copy_line(line):
    return replace(line)  # a Placement is immutable: the copy may share it


# --------------------------------------------------------------------------------------------- client


class Result:
    __slots__ = ("status", "latency_ms", "server_ms", "queries", "size", "error", "fields", "body")

    def __init__(self, status=0, latency_ms=0.0, server_ms=None, queries=None, size=0, error=None):
        self.status, self.latency_ms, self.server_ms = status, latency_ms, server_ms
        self.queries, self.size, self.error = queries, size, error
        self.fields: dict = {}
        self.body: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300


def check_local(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    if parts.hostname != "127.0.0.1" or parts.scheme != "http":
        raise SystemExit(f"{base_url}: the benchmarks only target http://127.0.0.1")
    return parts.hostname, parts.port or 80


async def fetch(
    host: str, port: int, path: str, headers: dict | None = None, *, start=None, timeout=10.0, keep=False
):
    """GET path over a fresh connection (gunicorn's sync workers close it after each response).

    Latency counts from `start` (the time the request was due, for open-loop runs) to the last byte.
    keep=True keeps the headers and the body on the result (the timing runs drop them).
    """
    start = time.perf_counter() if start is None else start
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}Connection: close\r\n\r\n".encode()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            await writer.drain()
            raw = await reader.read()
    except (TimeoutError, OSError) as exc:
        return Result(latency_ms=(time.perf_counter() - start) * 1000, error=type(exc).__name__)
    finally:
        if writer is not None:
            writer.close()
    latency = (time.perf_counter() - start) * 1000
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return Result(latency_ms=latency, error="bad response")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    server_ms = None
    if "server-timing" in fields and "dur=" in fields["server-timing"]:
        server_ms = float(fields["server-timing"].split("dur=")[1].split(",")[0].split(";")[0])
    queries = int(fields["x-query-count"]) if fields.get("x-query-count", "").isdigit() else None
    result = Result(status, latency, server_ms, queries, len(body))
    if keep:
        result.fields, result.body = fields, body
    return result


SIGNATURE_RE = re.compile(r'name="v" value="([^"]+)"')


async def as_the_browser_sends(host: str, port: int, targets: dict) -> dict:
    """Re-checks as the page sends them: with the region signatures of the page the browser shows.

    Each change in the configurator sends back the `v` inputs of the page it was made on (the base
    build's page here), so the server renders only the regions that differ from it (builds/configurator/render.py).
    A re-check without them is a history restore or a first load, which renders every region.
    """
    page = await fetch(host, port, f"/builds/new/?{targets['recheck_build']['query']}", keep=True)
    signatures = SIGNATURE_RE.findall(page.body.decode("utf-8", "replace")) if page.body else []
    if page.status != 200 or not signatures:
        raise SystemExit(f"the base build's page gave HTTP {page.status} and {len(signatures)} signatures")
    suffix = "&" + "&".join(f"v={quote(v)}" for v in signatures)
    return targets | {
        "recheck_uncached": [path + suffix for path in targets["recheck_uncached"]],
        "recheck_cached": [path + suffix for path in targets["recheck_cached"]],
    }


# --------------------------------------------------------------------------------------------- stats


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 2)


def summarize(results: list[Result], seconds: float | None = None) -> dict:
    latencies = [r.latency_ms for r in results]
    server = [r.server_ms for r in results if r.server_ms is not None]
    queries = sorted({r.queries for r in results if r.queries is not None})
    errors: dict[str, int] = {}
    for r in results:
        if not r.ok:
            key = r.error or f"HTTP {r.status}"
            errors[key] = errors.get(key, 0) + 1
    out = {
        "requests": len(results),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": round(max(latencies), 2) if latencies else None,
        "server_p50_ms": percentile(server, 50),
        "server_p95_ms": percentile(server, 95),
        "server_p99_ms": percentile(server, 99),
        "queries_per_request": queries[0] if len(queries) == 1 else (queries or None),
        # How many requests ran each number of queries (the re-check runs none when every part is cached).
        "queries_histogram": {str(q): sum(r.queries == q for r in results) for q in queries},
        "response_bytes": percentile([r.size for r in results], 50),
    }
    if seconds:
        out["seconds"] = round(seconds, 2)
        out["throughput_rps"] = round(len(results) / seconds, 1)
    return out


# --------------------------------------------------------------------------------------------- runs


async def sequential(host, port, paths: list[str], headers=None, n: int = 100, warmup: int = 0) -> dict:
    cycle = itertools.cycle(paths)
    for _ in range(warmup):
        await fetch(host, port, next(cycle), headers)
    results = []
    started = time.perf_counter()
    for _ in range(n):
        results.append(await fetch(host, port, next(cycle), headers))
    return summarize(results, time.perf_counter() - started)


ASSET_RE = re.compile(r"<(?:link|script)\b[^>]*?(?:href|src)=\"([^\"]+)\"[^>]*>", re.I)
EXTERNAL_RE = re.compile(r"(?:href|src|action)=\"((?:https?:)?//[^\"]+)\"", re.I)


async def first_page(host, port, paths=("/", "/builds/new/")) -> dict:
    """What the first pages load: CSS and JS bytes as sent gzip-compressed; any reference to another host."""
    out = {}
    for path in paths:
        page = await fetch(host, port, path, {"Accept-Encoding": "gzip"}, keep=True)
        html = page.body.decode("utf-8", "replace") if page.body is not None else ""
        if "gzip" in page.fields.get("content-encoding", ""):
            html = gzip.decompress(page.body).decode("utf-8", "replace")
        assets, total = {}, 0
        for url in sorted(set(ASSET_RE.findall(html))):
            if not url.endswith((".css", ".js")) or not url.startswith("/") or url.startswith("//"):
                continue
            res = await fetch(host, port, url, {"Accept-Encoding": "gzip"}, keep=True)
            assets[url] = {
                "status": res.status,
                "bytes": res.size,
                "encoding": res.fields.get("content-encoding"),
            }
            total += res.size
        out[path] = {
            "status": page.status,
            "css_js_compressed_bytes": total,
            "assets": assets,
            "external_references": sorted(set(EXTERNAL_RE.findall(html))),
        }
    return out


async def run(base_url: str, n: int, targets: dict) -> dict:
    host, port = check_local(base_url)
    targets = await as_the_browser_sends(host, port, targets)
    uncached = targets["recheck_uncached"]
    out = {"recheck_queries_by_size": {}}
    # First, before anything warms the caches: each example build's re-check three times in a row. The
    # first request finds parts the worker has not cached (cold), the last ones mostly hit (warm).
    # An empty configurator warms what every request shares (exchange rates, price version) in both workers.
    for _ in range(4):
        await fetch(host, port, "/builds/new/", HX)
    for name, info in targets["recheck_sizes"].items():
        runs = [await fetch(host, port, info["path"], HX) for _ in range(3)]
        out["recheck_queries_by_size"][name] = {k: info[k] for k in ("lines", "parts", "gpus")} | {
            "status": [r.status for r in runs],
            "queries": [r.queries for r in runs],
        }
    # Warm both gunicorn workers (imports, template loading, first connections) on pages we then skip.
    for path in uncached[-20:]:
        await fetch(host, port, path, HX)
    for path in targets["parts_list"] * 4 + targets["shared"] + targets["compare"][:4]:
        await fetch(host, port, path)
    out["recheck_uncached"] = await sequential(host, port, uncached[:n], HX, n=n)
    out["recheck_cached"] = await sequential(host, port, targets["recheck_cached"], HX, n=n, warmup=8)
    out["parts_list_price_per_gb"] = await sequential(host, port, targets["parts_list"], n=max(n // 2, 20))
    out["parts_list_price_per_gb_vram_filter"] = await sequential(
        host, port, targets["parts_list_filtered"], n=max(n // 2, 20)
    )
    out["first_page"] = await first_page(host, port)
    out["shared_build_page"] = await sequential(host, port, targets["shared"], n=max(n // 2, 20))
    out["compare_3_builds"] = await sequential(host, port, targets["compare"], n=max(n // 2, 20))
    return {"targets": {k: targets[k] for k in ("recheck_build",)}, "single_client": out}


def verdicts(single: dict) -> list[dict]:
    un, ca = single["recheck_uncached"], single["recheck_cached"]
    by_size = single["recheck_queries_by_size"].values()
    # The most queries of each example build's first three re-checks: with two workers the first may land on a
    # worker whose part cache is already warm (0 queries) and the second on a cold one; what the budget
    # guards is that a cold re-check costs the same few queries whatever the build's size.
    cold = [
        max(q for q in v["queries"] if q is not None) if any(q is not None for q in v["queries"]) else None
        for v in by_size
    ]
    every = [q for v in by_size for q in v["queries"]]

    def row(budget, measured, ok):
        return {"budget": budget, "measured": measured, "pass": ok}

    def server(summary, key):  # the app's own time, else the loopback round trip
        return summary[f"server_{key}"] if summary[f"server_{key}"] is not None else summary[key]

    rows = []
    for label, s in (("uncached", un), ("cached", ca)):
        p50, p95 = server(s, "p50_ms"), server(s, "p95_ms")
        rows.append(row(f"re-check ({label}) server p50 < {BUDGET_RECHECK_P50_MS} ms", p50, p50 < 15))
        rows.append(row(f"re-check ({label}) server p95 < {BUDGET_RECHECK_P95_MS} ms", p95, p95 < 40))
    rows.append(
        row(
            f"re-check SQL queries <= {BUDGET_RECHECK_MAX_QUERIES} and the same for every build size "
            "(most of the first three re-checks of each example build, 1-4 GPUs, 7-13 lines)",
            cold,
            None not in every
            and len(set(cold)) == 1
            and max(every, default=BUDGET_RECHECK_MAX_QUERIES + 1) <= BUDGET_RECHECK_MAX_QUERIES,
        )
    )
    for path, info in single["first_page"].items():
        kb = round(info["css_js_compressed_bytes"] / 1024, 1)
        rows.append(row(f"first page {path}: CSS + JS < 60 KB compressed", kb, kb < 60))
        rows.append(
            row(
                f"first page {path}: no request leaves the site",
                info["external_references"],
                not info["external_references"],
            )
        )
    for key in ("parts_list_price_per_gb", "parts_list_price_per_gb_vram_filter"):
        p95 = single[key]["p95_ms"]
        rows.append(row(f"{key} p95 < {BUDGET_PARTS_LIST_P95_MS} ms (one client)", p95, p95 < 80))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("BENCH_BASE_URL", DEFAULT_BASE_URL))
    parser.add_argument("--n", type=int, default=200, help="requests per re-check series")
    args = parser.parse_args()
    check_local(args.base_url)
    result = asyncio.run(run(args.base_url, args.n, build_targets()))  # the ORM runs before the event loop
    result["budgets"] = verdicts(result["single_client"])
    result |= {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "base_url": args.base_url,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "recheck_timing.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{'one client, sequential':40} {'p50':>8} {'p95':>8} {'p99':>8} {'srv p50':>8} {'srv p95':>8} q  err"
    )
    for name, s in result["single_client"].items():
        if name in ("recheck_queries_by_size", "first_page"):
            continue
        print(
            f"{name:40} {s['p50_ms']:8.1f} {s['p95_ms']:8.1f} {s['p99_ms']:8.1f} "
            f"{fmt(s['server_p50_ms'])} {fmt(s['server_p95_ms'])} {s['queries_per_request']} {s['errors']}"
        )
    for name, info in result["single_client"]["recheck_queries_by_size"].items():
        print(
            f"  re-check queries, {name} ({info['gpus']} GPUs, {info['lines']} lines), cold then warm: "
            f"{info['queries']}"
        )
    for path, info in result["single_client"]["first_page"].items():
        print(
            f"  first page {path}: CSS+JS {info['css_js_compressed_bytes'] / 1024:.1f} KB compressed, "
            f"external references: {info['external_references'] or 'none'}"
        )
    for b in result["budgets"]:
        print(f"  {'PASS' if b['pass'] else 'FAIL'}  {b['budget']}: {b['measured']}")
    return 0


def fmt(value) -> str:
    return f"{value:8.1f}" if value is not None else f"{'-':>8}"


if __name__ == "__main__":
    sys.exit(main())
