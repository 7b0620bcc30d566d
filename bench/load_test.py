"""Load test of the deployment shape (gunicorn, 2 workers, PostgreSQL with the OpenDB catalogue).

Open loop (requests arrive on a fixed schedule whatever the server does; latency counts from the moment a
request was due, so queueing is measured, not hidden): a steady rate, then a ramp of rates, each step a few
seconds, stopping after the first step with p95 >= 200 ms or any error. Closed loop: C clients, each sending
its next request as soon as the last one answered; their throughput at p95 < 200 ms is the other view of the
ceiling (DESIGN.md: "closed-loop clients measure that ceiling").

Pages: the htmx re-check (uncached: every request a build never seen before, one part changed; cached: four
builds over and over), the parts list sorted by price per GB of VRAM, a shared build page, the compare page
with 3 builds. Only http://127.0.0.1 is targeted; every run is bounded in time and in requests.
The load generator is this one Python process (asyncio, one connection per request as gunicorn's sync workers
close them); it shares the 2 cores with the server, which it slows by a few per cent at the highest rates.

Writes bench/results/load_test.json. Run (DATABASE_URL of the server's database, for the targets):
  .venv/bin/python bench/load_test.py [--base-url http://127.0.0.1:8765] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recheck_timing import (
    DEFAULT_BASE_URL,
    HX,
    RESULTS,
    Result,
    as_the_browser_sends,
    build_targets,
    check_local,
    fetch,
    summarize,
)

P95_CEILING_MS = 200
BUDGET_STEADY_P95_MS = 60
BUDGET_CEILING_RPS = 150
MAX_IN_FLIGHT = 1000  # beyond this many unanswered requests the step is failed rather than piled higher
MAX_RATE = 600
PROBE_PATH = "/static/bench-drain-probe.txt"  # no such file: a 404 from whitenoise + Django, cheap


class Paths:
    """Request paths to cycle through; `unique` ones are never reused (for the uncached re-check)."""

    def __init__(self, paths: list[str], headers: dict | None = None, unique: bool = False):
        self.paths, self.headers, self.unique = paths, headers, unique
        self.position = 0
        self.reused = 0

    def next(self) -> str:
        if self.position >= len(self.paths):
            if not self.unique:
                self.position = 0
            else:
                self.reused += 1
        path = self.paths[self.position % len(self.paths)]
        self.position += 1
        return path


async def open_loop(host, port, paths: Paths, rate: float, seconds: float) -> dict:
    """`rate` requests/s for `seconds`, each due at start + i/rate; waits for the last answer (10 s max)."""
    total = int(rate * seconds)
    tasks = []
    results: list[Result] = []
    dropped = 0
    start = time.perf_counter() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if sum(not t.done() for t in tasks[-MAX_IN_FLIGHT:]) >= MAX_IN_FLIGHT:
            dropped += 1
            results.append(Result(error="client: too many in flight"))
            continue
        tasks.append(asyncio.create_task(fetch(host, port, paths.next(), paths.headers, start=due)))
    results.extend(await asyncio.gather(*tasks))
    elapsed = time.perf_counter() - start
    out = summarize(results, elapsed)
    out["offered_rps"] = rate
    out["dropped_by_client"] = dropped
    return out


async def closed_loop(host, port, paths: Paths, clients: int, seconds: float) -> dict:
    results: list[Result] = []
    stop = time.perf_counter() + seconds

    async def client():
        while time.perf_counter() < stop:
            results.append(await fetch(host, port, paths.next(), paths.headers))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    out = summarize(results, time.perf_counter() - started)
    out["clients"] = clients
    return out


async def drain(host, port, limit_s: float = 30.0) -> float:
    """Wait until the server has worked off its queue (requests the client gave up on are still served).

    Probes a cheap path (a 404) until two answers in a row come within 50 ms; returns the seconds waited.
    """
    started = time.perf_counter()
    quick = 0
    while quick < 2 and time.perf_counter() - started < limit_s:
        probe = await fetch(host, port, PROBE_PATH, timeout=limit_s)
        quick = quick + 1 if probe.latency_ms < 50 else 0
        if quick < 2:
            await asyncio.sleep(0.2)
    return round(time.perf_counter() - started, 2)


def holds(step: dict) -> bool:
    return step["errors"] == 0 and step["p95_ms"] is not None and step["p95_ms"] < P95_CEILING_MS


async def ramp(host, port, paths: Paths, rates, seconds: float) -> dict:
    steps = []
    for rate in rates:
        step = await open_loop(host, port, paths, rate, seconds)
        steps.append(step)
        print(f"    ramp {rate:4d}/s: {line(step)}", flush=True)
        if not holds(step):
            break
        step["drain_s"] = await drain(host, port)
    held = [s["offered_rps"] for s in steps if holds(s)]
    return {"steps": steps, "highest_rate_held_rps": max(held) if held else 0, "step_seconds": seconds}


def line(s: dict) -> str:
    rps = s.get("throughput_rps")
    return (
        f"p50 {s['p50_ms']} p95 {s['p95_ms']} p99 {s['p99_ms']} ms, {rps} req/s, "
        f"{s['errors']} errors, {s['queries_per_request']} queries/request"
    )


async def scenario(host, port, name, paths, *, steady_s, ramp_s, rates, clients, closed_s) -> dict:
    print(f"== {name}", flush=True)
    out = {}
    out["steady_50"] = await open_loop(host, port, paths, 50, steady_s)
    print(f"    steady 50/s: {line(out['steady_50'])}", flush=True)
    out["steady_50"]["drain_s"] = await drain(host, port)
    # 50, 100, 150, ... when 50/s holds; else 10, 20, 30, 40 to find the lower ceiling.
    rates = rates if holds(out["steady_50"]) else [10, 20, 30, 40]
    out["ramp"] = await ramp(host, port, paths, rates, ramp_s)
    out["closed_loop"] = []
    for n in clients:
        await drain(host, port)
        run = await closed_loop(host, port, paths, n, closed_s)
        out["closed_loop"].append(run)
        print(f"    closed loop {n} clients: {line(run)}", flush=True)
    held = [r["throughput_rps"] for r in out["closed_loop"] if holds(r)]
    out["closed_loop_best_rps_held"] = max(held) if held else 0
    if getattr(paths, "unique", False):
        out["paths_reused"] = paths.reused
    return out


async def run(base_url: str, quick: bool, targets: dict, skip_first: int) -> dict:
    host, port = check_local(base_url)
    targets = await as_the_browser_sends(host, port, targets)
    s = 0.5 if quick else 1.0
    rates = list(range(50, MAX_RATE + 1, 50))
    uncached = Paths(targets["recheck_uncached"][skip_first:-20], HX, unique=True)
    plans = {
        "recheck_uncached": (uncached, dict(steady_s=20, ramp_s=10, clients=(1, 2, 4, 8), closed_s=8)),
        "recheck_cached": (
            Paths(targets["recheck_cached"], HX),
            dict(steady_s=15, ramp_s=6, clients=(2, 4), closed_s=6),
        ),
        "parts_list_price_per_gb": (
            Paths(targets["parts_list"] + targets["parts_list_filtered"]),
            dict(steady_s=10, ramp_s=6, clients=(2, 4), closed_s=6),
        ),
        "shared_build_page": (
            Paths(targets["shared"]),
            dict(steady_s=10, ramp_s=6, clients=(2, 4), closed_s=6),
        ),
        "compare_3_builds": (
            Paths(targets["compare"]),
            dict(steady_s=10, ramp_s=6, clients=(2, 4), closed_s=6),
        ),
    }
    out = {}
    for name, (paths, plan) in plans.items():
        for _ in range(6):  # warm both workers on this page
            await fetch(
                host, port, targets["recheck_uncached"][-1] if paths.unique else paths.next(), paths.headers
            )
        out[name] = await scenario(
            host,
            port,
            name,
            paths,
            steady_s=plan["steady_s"] * s,
            ramp_s=plan["ramp_s"] * s,
            rates=rates,
            clients=plan["clients"],
            closed_s=plan["closed_s"] * s,
        )
        await drain(host, port)
    return out


def verdicts(results: dict) -> list[dict]:
    rows = []
    for name in ("recheck_uncached", "recheck_cached"):
        r = results[name]
        steady = r["steady_50"]
        rows.append(
            {
                "budget": f"re-check ({name.split('_')[1]}) at 50/s steady: p95 < {BUDGET_STEADY_P95_MS} ms, no errors",
                "measured": steady["p95_ms"],
                "pass": steady["errors"] == 0 and steady["p95_ms"] < BUDGET_STEADY_P95_MS,
            }
        )
        rows.append(
            {
                "budget": f"re-check ({name.split('_')[1]}) highest rate held (open-loop ramp, p95 < 200 ms, "
                f"no errors) >= {BUDGET_CEILING_RPS}/s",
                "measured": r["ramp"]["highest_rate_held_rps"],
                "pass": r["ramp"]["highest_rate_held_rps"] >= BUDGET_CEILING_RPS,
            }
        )
        rows.append(
            {
                "budget": f"re-check ({name.split('_')[1]}) closed-loop throughput at p95 < 200 ms, no errors "
                f">= {BUDGET_CEILING_RPS}/s",
                "measured": r["closed_loop_best_rps_held"],
                "pass": r["closed_loop_best_rps_held"] >= BUDGET_CEILING_RPS,
            }
        )
    return rows


def load_json(name: str):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def ms(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def queries(s: dict) -> str:
    """SQL queries per request: the value, or each value with how many requests ran it."""
    histogram = s.get("queries_histogram") or {}
    if len(histogram) > 1:
        return ", ".join(f"{q} ({n} req.)" for q, n in histogram.items())
    return str(s["queries_per_request"])


def write_summary(server_tracebacks: int | None, import_seconds: int | None, parts: int | None) -> str:
    """bench/results/SUMMARY.md from the JSON files of this run, budgets of DESIGN.md with PASS/FAIL."""
    engine, estimator = load_json("engine.json"), load_json("estimator.json")
    single, load = load_json("recheck_timing.json"), load_json("load_test.json")
    out = ["# Benchmark summary (`make bench`)", ""]
    when = (load or single or {}).get("measured_at", "?")
    out.append(
        f"Measured {when} on {os.cpu_count()} cores (load average now {os.getloadavg()[0]:.2f}; other work on"
        " the machine shows in these numbers). Server: gunicorn, 2 sync workers, production settings, DEBUG"
        " off, PostgreSQL on the same machine"
        + (f" with {parts:,} parts in the catalogue" if parts else "")
        + (f" (OpenDB import {import_seconds} s)" if import_seconds else "")
        + "."
    )
    if server_tracebacks is not None:
        out.append(f"Server tracebacks logged during the run: {server_tracebacks}.")
    out += [
        "",
        "## Budgets (DESIGN.md, Performance budgets)",
        "",
        "| Budget | Measured | Verdict |",
        "|---|---|---|",
    ]
    if engine:
        last = engine[-1]["results"] if isinstance(engine, list) else engine["results"]
        for key, limit in (("full_4gpu", 1000), ("full_8gpu", 2000)):
            median = last[key]["median_us"]
            out.append(
                f"| engine {key[5:]}: full check median < {limit} µs | {median} µs | {mark(median < limit)} |"
            )
    for source in (single, load):
        for b in (source or {}).get("budgets", []):
            out.append(f"| {b['budget']} | {b['measured']} | {mark(b['pass'])} |")
    parts_ratio = load_json("parts_list_ratio.json")  # bench/parts_list_ratio.py (issue 15, item 13)
    if parts_ratio:
        out.append(
            f"| parts list: {parts_ratio['budget']} (SQLite, curated catalogue, in-process) | "
            f"{parts_ratio['ratio']}x ({parts_ratio['list_ms']} ms against {parts_ratio['floor_ms']} ms) | "
            f"{mark(parts_ratio['passed'])} |"
        )
    recheck_ratio = load_json("recheck_ratio.json")  # bench/recheck_ratio.py (issue 14)
    if recheck_ratio:
        machine_load = " ".join(f"{x:.2f}" for x in recheck_ratio.get("load_average", []))
        out.append(
            f"| re-check: {recheck_ratio['budget']} (SQLite, curated catalogue, in-process) | "
            f"{recheck_ratio['ratio']}x ({recheck_ratio['recheck_ms']} ms against {recheck_ratio['floor_ms']} ms; "
            f"load average {machine_load}) | {mark(recheck_ratio['passed'])} |"
        )
    if estimator:
        out += [
            "",
            f"Estimator against real H100 runs: median |error| {estimator.get('median_abs_error_pct')} %, "
            f"max {estimator.get('max_abs_error_pct')} % (bench/results/estimator.json).",
        ]
    if single:
        out += [
            "",
            "## One client, sequential (bench/recheck_timing.py)",
            "",
            "Round trip over loopback, and the app's own time (Server-Timing) beside it; milliseconds.",
            "",
            "| Page | p50 | p95 | p99 | server p50 | server p95 | req/s | errors | SQL queries/request |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, s in single["single_client"].items():
            if name in ("recheck_queries_by_size", "first_page"):
                continue
            out.append(
                f"| {name} | {ms(s['p50_ms'])} | {ms(s['p95_ms'])} | {ms(s['p99_ms'])} | "
                f"{ms(s['server_p50_ms'])} | {ms(s['server_p95_ms'])} | {s.get('throughput_rps')} | "
                f"{s['errors']} | {queries(s)} |"
            )
        out += ["", "Re-check SQL queries by build size:", ""]
        for name, info in single["single_client"]["recheck_queries_by_size"].items():
            out.append(
                f"- {name}: {info['gpus']} GPUs, {info['lines']} lines -> {info['queries']} queries "
                "(three requests in a row: cold caches first)"
            )
    if load:
        out += [
            "",
            "## Under load (bench/load_test.py)",
            "",
            "Open loop: latency from the time each request was due. `uncached`: every re-check is a build not"
            " seen before (report cache misses); `cached`: four builds repeated (report cache hits).",
            "",
            "| Page | run | offered req/s | achieved req/s | p50 | p95 | p99 | errors | SQL queries/request |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, r in load["results"].items():
            runs = [("steady", r["steady_50"])]
            runs += [("ramp", step) for step in r["ramp"]["steps"]]
            runs += [(f"closed loop, {c['clients']} clients", c) for c in r["closed_loop"]]
            for label, s in runs:
                out.append(
                    f"| {name} | {label} | {s.get('offered_rps', '—')} | {s.get('throughput_rps')} | "
                    f"{ms(s['p50_ms'])} | {ms(s['p95_ms'])} | {ms(s['p99_ms'])} | {s['errors']} | "
                    f"{queries(s)} |"
                )
        out += [
            "",
            "| Page | highest open-loop rate held (p95 < 200 ms, no errors) | best closed-loop req/s held |",
        ]
        out.append("|---|---|---|")
        for name, r in load["results"].items():
            out.append(
                f"| {name} | {r['ramp']['highest_rate_held_rps']} | {r['closed_loop_best_rps_held']} |"
            )
    text = "\n".join(out) + "\n"
    (RESULTS / "SUMMARY.md").write_text(text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("BENCH_BASE_URL", DEFAULT_BASE_URL))
    parser.add_argument("--quick", action="store_true", help="half-length steps (a smoke run)")
    parser.add_argument(
        "--skip-first", type=int, default=1000, help="uncached re-check builds used by recheck_timing.py"
    )
    parser.add_argument("--summary", action="store_true", help="only write SUMMARY.md from the JSON results")
    parser.add_argument("--server-tracebacks", type=int, default=None)
    parser.add_argument("--import-seconds", type=int, default=None)
    parser.add_argument("--parts", type=int, default=None, help="parts in the catalogue")
    args = parser.parse_args()
    if args.summary:
        print(write_summary(args.server_tracebacks, args.import_seconds, args.parts))
        return 0
    check_local(args.base_url)
    targets = build_targets()  # the ORM runs before the event loop starts
    started = time.perf_counter()
    results = asyncio.run(run(args.base_url, args.quick, targets, args.skip_first))
    record = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        "base_url": args.base_url,
        "seconds": round(time.perf_counter() - started, 1),
        "quick": args.quick,
        "recheck_build": targets["recheck_build"],
        "latency_note": "open loop: from the time each request was due to its last byte; closed loop: from send",
        "results": results,
        "budgets": verdicts(results),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load_test.json").write_text(json.dumps(record, indent=2) + "\n")
    for b in record["budgets"]:
        print(f"  {'PASS' if b['pass'] else 'FAIL'}  {b['budget']}: {b['measured']}")
    print(f"load test took {record['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
