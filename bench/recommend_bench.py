"""Recommendation benchmark (issue 13 budget: one recommendation over the curated catalogue in <= 1.5 s p95
on 2 cores, one client), with the number of engine checks each request ran.

In process, through Django's test client (the whole view: JSON parsing, catalogue, search, response), on a
private SQLite database in a temporary directory that is migrated and bootstrapped with the curated catalogue
first (so it needs neither PostgreSQL nor a server). Requests: the issue's example, the five seed authors'
situations and seed 001 with a training target (20 B tokens in 10 days). The first round warms the per-process catalogue cache and is reported apart.
Writes bench/results/recommend.json. Run: .venv/bin/python bench/recommend_bench.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "recommend.json"
BUDGET_P95_MS = 1500.0

REQUESTS = {
    "issue-example": {
        "workloads": [
            {"model": "llama-3.1-70b", "method": "inference", "precision": "q4", "runtime": "llama.cpp",
             "seq_len": 8192, "target_tokens_per_s": 15}
        ],
        "budget": {"amount": 3000, "currency": "USD"}, "prices": "used", "circuit": "120v-15a",
        "max_gpus": 4, "enclosure": "any",
    },
    "seed-000": {
        "workloads": [
            {"model": "llama-3.1-70b", "method": "inference", "precision": "q4", "seq_len": 4096},
            {"model": "codellama-34b", "method": "lora", "precision": "bf16", "seq_len": 2048,
             "parallel": "zero3", "offload": "optimizer_and_params"},
        ],
        "budget": {"amount": 40000, "currency": "CNY"}, "prices": "new", "circuit": {"volts": 220, "amps": 10},
        "enclosure": "case",
    },
    "seed-001": {
        "workloads": [{"model": "llama-3.2-1b", "method": "full", "precision": "amp", "seq_len": 2048}],
        "budget": {"amount": 12000, "currency": "USD"}, "prices": "new", "circuit": {"volts": 120, "amps": 30},
        "max_gpus": 4, "enclosure": "open_frame",
    },
    "seed-001-10-days": {
        "workloads": [{"model": "llama-3.2-1b", "method": "full", "precision": "amp", "seq_len": 2048,
                       "train_tokens": 20e9, "target_days": 10}],
        "budget": {"amount": 12000, "currency": "USD"}, "prices": "new", "circuit": "120v-20a",
        "enclosure": "open_frame",
    },
    "seed-002": {
        "workloads": [
            {"model": "llama-2-13b", "method": "inference", "precision": "int8", "seq_len": 4096},
            {"model": "llama-2-13b", "method": "qlora", "precision": "nf4", "seq_len": 2048},
        ],
        "budget": {"amount": 2000, "currency": "USD"}, "prices": "used", "circuit": "120v-15a", "enclosure": "case",
    },
    "seed-003": {
        "workloads": [
            {"model": "llama-3.1-8b", "method": "lora", "precision": "bf16", "seq_len": 2048},
            {"model": "llama-2-13b", "method": "inference", "precision": "bf16", "seq_len": 4096},
        ],
        "budget": {"amount": 3000, "currency": "USD"}, "prices": "used", "circuit": "120v-15a",
        "enclosure": "open_frame",
    },
    "seed-004": {
        "workloads": [
            {"model": "llama-3.1-70b", "method": "qlora", "precision": "nf4", "seq_len": 2048},
            {"model": "llama-3.1-70b", "method": "inference", "precision": "q4", "seq_len": 4096},
        ],
        "budget": {"amount": 1700, "currency": "EUR"}, "prices": "used", "circuit": "230v-16a",
        "enclosure": "open_frame",
    },
}  # fmt: skip


def setup_django(tmp: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/recommend_bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rigsite.settings")
    os.environ.setdefault("RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE", "1000000")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from builds.bootstrap import bootstrap_all

    bootstrap_all()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4, help="timed rounds over every request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp)
        from django.test import Client

        client = Client(HTTP_HOST="localhost")
        per_request: dict[str, dict] = {}
        timings: list[float] = []
        warm: dict[str, float] = {}
        for rnd in range(args.rounds + 1):
            for name, body in REQUESTS.items():
                t0 = time.perf_counter()
                response = client.post(
                    "/api/v1/recommend", data=json.dumps(body), content_type="application/json"
                )
                ms = 1000 * (time.perf_counter() - t0)
                if response.status_code != 200:
                    print(f"!! {name}: HTTP {response.status_code} {response.content[:300]!r}")
                    return 1
                out = response.json()
                if rnd == 0:
                    warm[name] = round(ms, 1)
                    per_request[name] = {
                        "engine_checks": out["engine_checks"],
                        "considered": out["considered"],
                        "rigs": [
                            {"label": r["label"], "summary": r["summary"], "price": r["price"]}
                            for r in out["rigs"]
                        ],
                        "relax": [r["relax"] for r in out.get("relax", [])],
                        "ms": [],
                    }
                    continue
                timings.append(ms)
                per_request[name]["ms"].append(round(ms, 1))
        for name, row in per_request.items():
            row["p50_ms"] = round(statistics.median(row["ms"]), 1)
            row["max_ms"] = max(row["ms"])
            print(
                f"{name:14s} p50 {row['p50_ms']:7.1f} ms  max {row['max_ms']:7.1f} ms  "
                f"{row['engine_checks']:4d} engine checks  {row['considered']:4d} rigs considered"
            )
        p50, p95 = statistics.median(timings), percentile(timings, 0.95)
        checks = [row["engine_checks"] for row in per_request.values()]
        print(
            f"all            p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  (budget {BUDGET_P95_MS:.0f} ms p95); "
            f"engine checks per request: median {statistics.median(checks):g}, max {max(checks)}"
        )
        record = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
            },
            "method": "in-process Django test client, SQLite, curated catalogue only (bootstrap); one client; "
            "first round (catalogue cache cold) reported as warmup_ms",
            "rounds": args.rounds,
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
            "budget_p95_ms": BUDGET_P95_MS,
            "within_budget": p95 <= BUDGET_P95_MS,
            "engine_checks_median": statistics.median(checks),
            "engine_checks_max": max(checks),
            "warmup_ms": warm,
            "requests": per_request,
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
