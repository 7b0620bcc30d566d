"""Estimator accuracy table against real H100 runs (tests/engine/data/h100_measurements.jsonl).

Prints row, predicted, measured, error % and the median; writes bench/results/estimator.json.
Run: .venv/bin/python bench/estimator_table.py
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.engine.estimator import (  # noqa: E402
    EstimateRequest,
    ModelArch,
    decode_tokens_per_s,
    estimate,
)

DATA = ROOT / "tests" / "engine" / "data" / "h100_measurements.jsonl"
H100_VRAM_GIB = 79.6  # nvidia-smi total on the H100 80GB HBM3
H100_BANDWIDTH_GBPS = 3350.0  # spec sheet, H100 SXM5

# Shapes of the calibration README (public configs of each family).
SHAPES = {
    "qwen2.5-0.5b": ModelArch(24, 896, 14, 2, 4864, 151936, True, name="Qwen2.5 0.5B"),
    "llama3.2-1b": ModelArch(16, 2048, 32, 8, 8192, 128256, True, name="Llama 3.2 1B"),
    "llama3.2-3b": ModelArch(28, 3072, 24, 8, 8192, 128256, True, name="Llama 3.2 3B"),
    "llama2-7b": ModelArch(32, 4096, 32, 32, 11008, 32000, False, name="Llama 2 7B"),
    "llama3.1-8b": ModelArch(32, 4096, 32, 8, 14336, 128256, False, name="Llama 3.1 8B"),
    "llama2-13b": ModelArch(40, 5120, 40, 40, 13824, 32000, False, name="Llama 2 13B"),
    "qwen2.5-32b": ModelArch(64, 5120, 40, 8, 27648, 152064, False, name="Qwen2.5 32B"),
}


def request_for(row: dict) -> EstimateRequest | None:
    kind = row["kind"]
    common = {"batch": row.get("batch", 1), "seq_len": row.get("seq", 2048)}
    if kind == "infer":
        return EstimateRequest(method="inference", precision="bf16", new_tokens=32, **common)
    if kind == "qinfer":
        return EstimateRequest(method="inference", precision=row["quant"], new_tokens=32, **common)
    if kind == "full":
        prec = "amp" if row["precision"] == "amp" else "bf16"
        return EstimateRequest(method="full", precision=prec, gradient_checkpointing=row["ckpt"], **common)
    if kind in ("lora", "qlora"):
        return EstimateRequest(
            method=kind,
            precision="bf16" if kind == "lora" else "nf4",
            gradient_checkpointing=row["ckpt"],
            lora_rank=row.get("rank", 16),
            **common,
        )
    return None


def label(row: dict) -> str:
    parts = [row["kind"], row["model"]]
    for key in ("precision", "quant"):
        if key in row:
            parts.append(row[key])
    parts.append(f"b{row.get('batch', 1)}xs{row.get('seq')}")
    if "ckpt" in row:
        parts.append("ckpt" if row["ckpt"] else "no-ckpt")
    return " ".join(parts)


def memory_rows(path: Path = DATA) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if "device_used_gib" not in row or row.get("model") not in SHAPES:
            continue
        req = request_for(row)
        if req is None:
            continue
        est = estimate(SHAPES[row["model"]], req, H100_VRAM_GIB)
        measured = row["device_used_gib"]
        out.append(
            {
                "row": label(row),
                "predicted_gib": round(est.device_gib, 3),
                "measured_gib": measured,
                "error_pct": round(100.0 * (est.device_gib - measured) / measured, 2),
                "peak_phase": est.peak_phase,
                "breakdown_gib": {k: round(v, 3) for k, v in est.breakdown_gib.items()},
            }
        )
    return out


def speed_rows(path: Path = DATA) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["kind"] != "decode_graph":
            continue
        rng = decode_tokens_per_s(SHAPES[row["model"]], "bf16", H100_BANDWIDTH_GBPS, context=512)
        out.append(
            {
                "row": f"decode {row['model']} bf16 batch 1",
                "measured_tok_s": round(row["decode_tok_s"], 1),
                "low": round(rng.low, 1),
                "expected": round(rng.expected, 1),
                "high": round(rng.high, 1),
                "in_range": rng.low <= row["decode_tok_s"] <= rng.high,
            }
        )
    return out


def main() -> int:
    rows = memory_rows()
    print(f"{'row':48} {'predicted':>10} {'measured':>10} {'error %':>8}")
    for r in rows:
        print(f"{r['row']:48} {r['predicted_gib']:10.2f} {r['measured_gib']:10.2f} {r['error_pct']:+8.1f}")
    abs_err = [abs(r["error_pct"]) for r in rows]
    median = statistics.median(abs_err)
    print(f"median |error| {median:.1f} %, max |error| {max(abs_err):.1f} % over {len(rows)} rows")
    speeds = speed_rows()
    for s in speeds:
        print(
            f"{s['row']:48} measured {s['measured_tok_s']:7.1f} tok/s, range {s['low']:.0f}-{s['high']:.0f}"
        )
    result = {
        "memory": rows,
        "median_abs_error_pct": round(median, 2),
        "max_abs_error_pct": round(max(abs_err), 2),
        "decode": speeds,
    }
    out = ROOT / "bench" / "results" / "estimator.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
