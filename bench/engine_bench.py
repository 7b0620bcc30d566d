"""Engine benchmark: time of one full ``check()`` for 1-, 4- and 8-GPU rigs (DESIGN.md budget: 4 GPUs under
1 ms median, 8 GPUs under 2 ms).

Prints median and p95 microseconds per rig, with and without the workload table (workload.py), and
appends one JSON record to bench/results/engine.json.
Run: .venv/bin/python bench/engine_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.engine import Context, Rig, check, checks, part_from_dict  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "engine.json"

GPU = {
    "vram_gb": 24, "memory_bandwidth_gbps": 1008, "bf16_tflops": 165.2, "board_power_w": 450,
    "slot_width": 3, "length_mm": 304, "cooler": "flow_through", "pcie_gen": 4, "pcie_lanes": 16,
    "power_8pin": 0, "power_12v2x6": 1, "p2p": False, "chip": "AD102",
}  # fmt: skip


def _p(category, name, spec, **kw):
    return part_from_dict({"category": category, "name": name, "id": name, "spec": spec, **kw})


def rig(n_gpus: int) -> Rig:
    """A workstation rig (8 CPU x16 slots, lane rules, M.2 sockets) with n GPUs on risers, auto-placed."""
    slots = [
        {"position": p, "physical_width": 16, "electrical_width": 16, "gen": 5, "source": "cpu",
         "bifurcation": ["x8x8", "x4x4x4x4"]}
        for p in range(1, 9)
    ]  # fmt: skip
    board = {
        "socket": "sTR5", "form_factor": "EEB", "memory_type": "DDR5", "memory_slots": 8, "max_memory_gb": 2048,
        "chipset_uplink_gbps": 7.9, "pcie_slots": slots,
        "m2_sockets": [{"name": f"M2_{i}", "gen": 5, "lanes": 4, "source": "cpu"} for i in range(1, 5)],
        "lane_rules": [{"when": "M2_4", "target": 8, "effect": "width", "width": 8}],
    }  # fmt: skip
    cpu = {"socket": "sTR5", "cores": 32, "threads": 64, "tdp_w": 350, "pcie_gen": 5, "cpu_lanes": 128,
           "memory_type": "DDR5", "memory_channels": 8, "max_memory_gb": 2048}  # fmt: skip
    psus = max(1, (n_gpus + 1) // 2)
    return Rig(
        (
            _p("gpu", "gpu", GPU, quantity=n_gpus, riser=n_gpus > 2),
            _p("cpu", "cpu", cpu),
            _p("motherboard", "board", board),
            _p("memory", "ram", {"memory_type": "DDR5", "modules": 8, "module_gb": 64}),
            _p("storage", "nvme", {"interface": "nvme", "pcie_gen": 4, "capacity_gb": 4000}, quantity=2),
            _p("storage", "hdd", {"interface": "hdd", "capacity_gb": 8000}),
            _p(
                "psu",
                "psu",
                {
                    "wattage_w": 1600,
                    "efficiency": "platinum",
                    "atx3": True,
                    "power_8pin": 6,
                    "power_12v2x6": 2,
                },
                quantity=psus,
            ),  # fmt: skip
            _p("case", "case", {"form_factors": ["EEB"], "max_gpu_length_mm": 400, "expansion_slots": 10}),
            _p("cooler", "cooler", {"cooler_type": "aio", "rated_w": 400, "sockets": ["sTR5"]}),
            _p("fan", "fan", {"airflow_cfm": 80}, quantity=8),
            _p("riser", "riser", {"pcie_gen": 4, "width": 16}, quantity=n_gpus),
        )
    )


def measure(r: Rig, context: Context, repeat: int) -> dict:
    check(r, context)  # warm caches (workload tables)
    number = 20
    runs = timeit.repeat(lambda: check(r, context), number=number, repeat=repeat)
    per_call = sorted(t / number * 1e6 for t in runs)
    return {
        "median_us": round(statistics.median(per_call), 1),
        "p95_us": round(per_call[min(len(per_call) - 1, int(0.95 * len(per_call)))], 1),
        "calls": number * repeat,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    ctx = Context()
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": {},
    }
    workload_module = checks._workload
    for label, enabled in (("full", True), ("without_workloads", False)):
        checks._workload = workload_module if enabled else None
        for n in (1, 4, 8):
            r = rig(n)
            res = measure(r, ctx, args.repeat)
            record["results"][f"{label}_{n}gpu"] = res
            print(f"{label:18s} {n} GPU(s): median {res['median_us']:8.1f} us   p95 {res['p95_us']:8.1f} us")
    checks._workload = workload_module
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    history = []
    if RESULTS.exists():
        try:
            history = json.loads(RESULTS.read_text())
        except json.JSONDecodeError:
            history = []
    history.append(record)
    RESULTS.write_text(json.dumps(history, indent=2) + "\n")
    print(f"appended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"done in {time.perf_counter() - t0:.1f} s")
