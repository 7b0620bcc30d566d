"""Hold-out check of the workload estimator against public measurements (catalog/data/speed_measurements.json).

Rows are split deterministically into a fit half and a hold-out half by a hash of their configuration
(source, GPUs, model, quant, split: every tgN of one llama-bench run lands on the same side, so the
hold-out never sees a sibling of a fitted row). The few constants of the decode model
(estimator.DECODE_CONSTANTS), the llama.cpp prefill efficiency and the FSDP-QLoRA fixed buffer were fitted on
the fit half only (``--fit`` re-runs that fit and prints the constants); the tables below use the constants
as they are in the engine and report the error on the hold-out half.

Run: .venv/bin/python bench/speed_holdout.py [--fit]
Writes bench/results/speed_holdout.json and bench/results/speed_holdout.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.engine import estimator as E  # noqa: E402

DATA = ROOT / "catalog" / "data" / "speed_measurements.json"
GPU_PARTS = ROOT / "catalog" / "data" / "parts" / "gpu.json"
USABLE_VRAM_SHARE = 0.995  # as catalog/engine/workload.py: a "24 GB" card is ~24 GiB less a driver reserve

# GPUs of the measurements that are not in the curated catalogue: (VRAM GB, bandwidth GB/s, dense BF16
# TFLOPS with FP32 accumulate or None, source). TFLOPS derived as SMs x boost clock x FLOP/clk/SM where the
# spec sheet gives none (GA10x/AD10x GeForce: 512 FLOP/clk/SM with FP32 accumulate).
EXTRA_GPUS: dict[str, tuple[float, float, float | None, str]] = {
    "RTX 3070": (
        8,
        448,
        40.6,
        "https://www.nvidia.com/en-us/geforce/graphics-cards/30-series/rtx-3070-3070ti/ "
        "(14 Gbps x 256-bit; 46 SM x 1725 MHz x 512)",
    ),
    "RTX 4070 Ti": (
        12,
        504,
        80.2,
        "https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/rtx-4070-family/ "
        "(21 Gbps x 192-bit; 60 SM x 2610 MHz x 512)",
    ),
    "RTX 4080": (
        16,
        716.8,
        97.5,
        "https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/rtx-4080-family/ "
        "(22.4 Gbps x 256-bit; 76 SM x 2505 MHz x 512)",
    ),
    "RTX 4000 Ada": (
        20,
        360,
        81.9,
        "https://www.nvidia.com/en-us/design-visualization/rtx-4000/ (360 GB/s; 327.6 FP8 sparse TFLOPS / 4)",
    ),
    "RTX 5000 Ada": (
        32,
        576,
        261.1,
        "https://www.nvidia.com/en-us/design-visualization/rtx-5000/ "
        "(576 GB/s; 1044.4 FP8 sparse TFLOPS / 4)",
    ),
    "A40": (
        48,
        696,
        149.7,
        "https://www.nvidia.com/en-us/data-center/a40/ (696 GB/s; BF16 149.7 TFLOPS dense)",
    ),
    "A100 SXM4 80GB": (80, 2039, 312, "https://www.nvidia.com/en-us/data-center/a100/ (80GB SXM 2039 GB/s)"),
    "A100 SXM4 40GB": (40, 1555, 312, "https://www.nvidia.com/en-us/data-center/a100/ (40GB SXM 1555 GB/s)"),
    "Tesla P40": (
        24,
        347,
        None,
        "https://images.nvidia.com/content/pdf/tesla/184427-Tesla-P40-Datasheet-NV-Final-Letter-Web.pdf "
        "(GDDR5 346 GB/s; Pascal has no tensor cores)",
    ),
    "A10G": (24, 600, None, "https://aws.amazon.com/ec2/instance-types/g5/ (A10G 24 GB, 600 GB/s)"),
}
# Shapes not among the presets (public config.json).
EXTRA_MODELS = {
    "yi-34b": E.ModelArch(60, 7168, 56, 8, 20480, 64000, False, name="Yi 34B", slug="yi-34b"),
    # https://huggingface.co/01-ai/Yi-34B/blob/main/config.json
}
VLLM_QUANTS = {"AWQ 4-bit": "int4", "fp16": "fp16"}


# ---------------------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------------------
def _gpu_specs() -> dict[str, dict]:
    return {p["slug"]: p["spec"] for p in json.loads(GPU_PARTS.read_text())}


def gpu_of(row: dict, parts: dict[str, dict]) -> dict | None:
    """vram_gb, bandwidth, tflops, count of a row's GPUs (all rows use one GPU model)."""
    g = row["gpus"][0]
    count = sum(x["count"] for x in row["gpus"])
    spec = parts.get(g.get("gpu_slug") or "")
    if spec:
        return {
            "vram": spec["vram_gb"],
            "bw": spec["memory_bandwidth_gbps"],
            "tflops": spec["bf16_tflops"],
            "count": count,
            "name": g["name"],
            # NV18 = 18 NVLink 4 links, 450 GB/s per direction (NVIDIA H100 SXM spec: 900 GB/s both ways)
            "nvlink": 450.0 if "NV18" in g["name"] else ("NVLink" in g["name"]),
        }
    for key, (vram, bw, tf, _src) in EXTRA_GPUS.items():
        if (
            g["name"].startswith(key)
            or g["name"].startswith(key.replace(" 80GB", "").replace(" 40GB", ""))
            and (key.split()[-1] in g["name"])
        ):
            return {"vram": vram, "bw": bw, "tflops": tf, "count": count, "name": g["name"], "nvlink": False}
    return None


def model_of(row: dict, presets: dict) -> E.ModelArch | None:
    slug = row.get("model_preset")
    if slug and slug in presets:
        return presets[slug]
    return EXTRA_MODELS.get(row.get("model", ""))


def precision_of(row: dict) -> str | None:
    q = row.get("quant") or ""
    if row["runtime"] == "llama.cpp":
        return q if q in E.GGUF_TYPES else None
    if row["runtime"] == "vllm":
        return VLLM_QUANTS.get(q)
    return None


def group_key(row: dict) -> str:
    src = row.get("source_url", "").split("#")[0]
    gpus = ",".join(f"{g['name']}x{g['count']}" for g in row["gpus"])
    return "|".join(
        [
            src,
            gpus,
            str(row.get("model")),
            str(row.get("quant")),
            str(row.get("split")),
            str(row.get("runtime") or row.get("stack")),
        ]
    )


def half(key: str) -> str:
    return "fit" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 0 else "holdout"


def test_tokens(test: str) -> int:
    return int("".join(ch for ch in test.split("+")[0] if ch.isdigit()) or 0)


def decode_cases(data: dict) -> tuple[list[dict], list[dict]]:
    """(modelled rows, skipped rows with a reason)."""
    presets, parts = E.load_presets(), _gpu_specs()
    cases, skipped = [], []
    for row in data["decode"]:
        why = None
        if row["runtime"] not in ("llama.cpp", "vllm"):
            why = f"runtime {row['runtime']} not modelled"
        elif not row["test"].startswith("tg") or (row.get("batch") or 1) != 1:
            why = "not a batch-1 decode test"
        elif row.get("tokens_per_s") is None:
            why = "out of memory (checked in the fit table)"
        arch, gpu, prec = model_of(row, presets), gpu_of(row, parts), precision_of(row)
        if why is None and (arch is None or gpu is None or prec is None):
            why = "model, GPU or quant unknown"
        if why:
            skipped.append({"id": row["id"], "reason": why})
            continue
        n_gen = test_tokens(row["test"])
        split = {"layer": "pipeline", "row": "tensor", "tensor": "tensor", None: None}[row.get("split")]
        cases.append(
            {
                "id": row["id"],
                "row": row,
                "arch": arch,
                "precision": prec,
                "gpu": gpu,
                "runtime": row["runtime"],
                "parallel": split,
                "context": (row.get("context") or 0) + n_gen // 2,
                "measured": row["tokens_per_s"],
                "half": half(group_key(row)),
            }
        )
    return cases, skipped


def predict_decode(
    case: dict, constants: E.DecodeConstants | None = None
) -> tuple[float, float, float, float]:
    """(low, expected, high, bound) tokens/s."""
    g = case["gpu"]
    rt = case["runtime"]
    c = constants or E.DECODE_CONSTANTS[rt]
    d = E.decode_seconds_per_token(
        case["arch"],
        case["precision"],
        g["bw"],
        g["count"],
        None,
        case["context"],
        1,
        case["parallel"],
        rt,
        g["nvlink"],
        constants=c,
    )
    expected, bound = 1.0 / d.seconds, 1.0 / d.bound_seconds
    high = min(expected * c.range_high, bound)
    expected = min(expected, high)
    return expected * c.range_low, expected, high, bound


# ---------------------------------------------------------------------------------------------------------
# Fitting (pure Python Nelder-Mead on log error)
# ---------------------------------------------------------------------------------------------------------
FIT_FIELDS = (
    "eta_16bit",
    "eta_quant",
    "eta_kv",
    "cap_16bit_gbps",
    "cap_quant_gbps",
    "layer_overhead_s",
    "fixed_overhead_s",
    "hop_s",
    "allreduce_latency_s",
    "allreduce_per_peer_s",
)
SCALE = {
    "layer_overhead_s": 1e-6,
    "fixed_overhead_s": 1e-3,
    "hop_s": 1e-3,
    "allreduce_latency_s": 1e-6,
    "allreduce_per_peer_s": 1e-6,
    "cap_16bit_gbps": 1000.0,
    "cap_quant_gbps": 1000.0,
}


# vLLM has a dozen rows (70B/34B, tg256 from an empty cache): only what they can pin down is fitted.
FIT_FIELDS_BY_RUNTIME = {"llama.cpp": FIT_FIELDS, "vllm": ("eta_16bit", "eta_quant", "allreduce_latency_s")}


def _constants_from(
    vec: list[float], base: E.DecodeConstants, names: tuple[str, ...] = FIT_FIELDS
) -> E.DecodeConstants:
    vals = {f: v * SCALE.get(f, 1.0) for f, v in zip(names, vec, strict=True)}
    return dataclasses.replace(base, **vals)


def _loss(
    vec: list[float], base: E.DecodeConstants, cases: list[dict], names: tuple[str, ...] = FIT_FIELDS
) -> float:
    if any(v <= 0 for v in vec) or any(
        v > 1.0 for v, n in zip(vec, names, strict=True) if n.startswith("eta")
    ):
        return 1e9
    c = _constants_from(vec, base, names)
    return sum(math.log(predict_decode(k, c)[1] / k["measured"]) ** 2 for k in cases)


def nelder_mead(f, x0: list[float], steps: list[float], iters: int = 1500) -> list[float]:
    pts = [list(x0)] + [[x + (s if i == j else 0.0) for j, x in enumerate(x0)] for i, s in enumerate(steps)]
    vals = [f(p) for p in pts]
    for _ in range(iters):
        order = sorted(range(len(pts)), key=lambda i: vals[i])
        pts, vals = [pts[i] for i in order], [vals[i] for i in order]
        centroid = [sum(p[j] for p in pts[:-1]) / (len(pts) - 1) for j in range(len(x0))]
        refl = [c + (c - w) for c, w in zip(centroid, pts[-1], strict=True)]
        fr = f(refl)
        if fr < vals[0]:
            exp = [c + 2 * (r - c) for c, r in zip(centroid, refl, strict=True)]
            fe = f(exp)
            pts[-1], vals[-1] = (exp, fe) if fe < fr else (refl, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = refl, fr
        else:
            con = [c + 0.5 * (w - c) for c, w in zip(centroid, pts[-1], strict=True)]
            fc = f(con)
            if fc < vals[-1]:
                pts[-1], vals[-1] = con, fc
            else:
                for i in range(1, len(pts)):
                    pts[i] = [pts[0][j] + 0.5 * (pts[i][j] - pts[0][j]) for j in range(len(x0))]
                    vals[i] = f(pts[i])
    return pts[min(range(len(pts)), key=lambda i: vals[i])]


def quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


# The stated range: the 2.5th to 97.5th percentile of measured / expected on the fit half.
RANGE_QUANTILES = (0.025, 0.975)


def _fit_constants(runtime: str, rows: list[dict], base: E.DecodeConstants) -> E.DecodeConstants:
    names = FIT_FIELDS_BY_RUNTIME[runtime]
    x0 = [getattr(base, f) / SCALE.get(f, 1.0) for f in names]
    best = nelder_mead(lambda v: _loss(v, base, rows, names), x0, [0.1 * max(abs(x), 0.05) for x in x0])
    best = nelder_mead(lambda v: _loss(v, base, rows, names), best, [0.05 * max(abs(x), 0.05) for x in best])
    return dataclasses.replace(_constants_from(best, base, names), range_low=1.0, range_high=1.0)


def fit_runtime(runtime: str, cases: list[dict], folds: int = 5) -> E.DecodeConstants:
    """Fit on the fit half; the range comes from out-of-fold errors inside the fit half (grouped K-fold:
    each configuration is predicted by constants fitted without it), so it is as wide as the error on
    configurations the fit has not seen, not the smaller in-sample spread."""
    fit = [k for k in cases if k["runtime"] == runtime and k["half"] == "fit"]
    base = E.DECODE_CONSTANTS[runtime]
    c = _fit_constants(runtime, fit, base)
    ratios = []
    for f in range(folds):

        def fold(k: dict) -> int:
            return int(hashlib.sha256(("fold" + group_key(k["row"])).encode()).hexdigest(), 16) % folds

        train = [k for k in fit if fold(k) != f]
        test = [k for k in fit if fold(k) == f]
        if not test or len(train) < 8:
            continue
        cf = _fit_constants(runtime, train, c)
        ratios += [k["measured"] / predict_decode(k, cf)[1] for k in test]
    if not ratios:
        ratios = [k["measured"] / predict_decode(k, c)[1] for k in fit]
    return dataclasses.replace(
        c,
        range_low=round(quantile(ratios, RANGE_QUANTILES[0]), 3),
        range_high=round(quantile(ratios, RANGE_QUANTILES[1]), 3),
    )


# ---------------------------------------------------------------------------------------------------------
# Fit verdicts (llama.cpp out-of-memory rows and the runs that ran)
# ---------------------------------------------------------------------------------------------------------
def llama_cpp_fit_rows(data: dict) -> list[dict]:
    presets, parts = E.load_presets(), _gpu_specs()
    out = []
    for row in data["decode"]:
        if row["runtime"] != "llama.cpp" or not row["test"].startswith("tg") or row.get("n_ubatch") is None:
            continue
        arch, gpu, prec = model_of(row, presets), gpu_of(row, parts), precision_of(row)
        if arch is None or gpu is None or prec is None:
            continue
        n = test_tokens(row["test"])
        split = {"layer": "pipeline", "row": "tensor", None: None}[row.get("split")]
        req = E.EstimateRequest(
            method="inference",
            precision=prec,
            seq_len=max((row.get("context") or 0), 1),
            new_tokens=n,
            gpus=gpu["count"],
            parallel=split,
            runtime="llama.cpp",
        )
        vram = gpu["vram"] * USABLE_VRAM_SHARE
        est = E.llama_cpp_memory(
            arch, req, vram, flash_attn=bool(row.get("flash_attn")), n_ubatch=row.get("n_ubatch") or 512
        )
        out.append(
            {
                "id": row["id"],
                "gpus": f"{gpu['count']}x {gpu['name']}",
                "measured_fits": row["fits"],
                "estimated_fits": est.fits,
                "per_gpu_gib": round(est.device_gib, 2),
                "vram_gib": round(vram, 2),
                "agree": est.fits == row["fits"],
            }
        )
    return out


# ---------------------------------------------------------------------------------------------------------
# FSDP-QLoRA training memory
# ---------------------------------------------------------------------------------------------------------
def training_rows(data: dict, fixed_gib: float | None = None) -> list[dict]:
    presets, parts = E.load_presets(), _gpu_specs()
    out = []
    for row in data["training_memory"]:
        if row.get("stack") != "fsdp_qlora":
            continue
        arch, gpu = model_of(row, presets), gpu_of(row, parts)
        if arch is None:
            continue
        method = row["method"]
        req = E.EstimateRequest(
            method=method,
            precision="nf4" if method == "qlora" else "bf16",
            batch=row["batch_size"],
            seq_len=row["seq_len"],
            gradient_checkpointing=row.get("gradient_checkpointing", True) is not False,
            lora_rank=row.get("lora_rank") or 64,
            gpus=sum(g["count"] for g in row["gpus"]),
            parallel="ddp" if row.get("sharding") == "ddp" else "fsdp",
            offload="params" if row.get("cpu_offload") else "none",
            runtime="fsdp_qlora",
        )
        old = E.FSDP_QLORA_FIXED_GIB, E.FSDP_QLORA_DYNAMIC_SHARE
        if fixed_gib is not None:
            E.FSDP_QLORA_FIXED_GIB, E.FSDP_QLORA_DYNAMIC_SHARE = fixed_gib, 0.0
            E._estimate_cached.cache_clear()
        try:
            vram = gpu["vram"] * USABLE_VRAM_SHARE if gpu else None
            est = E.estimate(arch, req, vram)
        finally:
            if fixed_gib is not None:
                E.FSDP_QLORA_FIXED_GIB, E.FSDP_QLORA_DYNAMIC_SHARE = old
                E._estimate_cached.cache_clear()
        kind = row.get("memory_kind")
        reserved = est.device_gib - est.breakdown_gib["cuda_context"]
        predicted = (
            reserved - est.breakdown_gib.get("allocator_reserve", 0.0) if kind == "allocated" else reserved
        )
        measured = row.get("peak_memory_gib")
        out.append(
            {
                "id": row["id"],
                "half": half(row["id"]),
                "kind": kind,
                "measured_gib": measured,
                "predicted_gib": round(predicted, 2),
                "dynamic_gib": round(
                    est.breakdown_gib.get("activations", 0.0) + est.breakdown_gib.get("logits", 0.0), 2
                ),
                "error_pct": None if measured is None else round(100 * (predicted - measured) / measured, 1),
                "published_fits": row.get("fits"),
                "estimated_fits": est.fits,
                "gpus": f"{req.gpus}x {gpu['name'] if gpu else '?'}",
            }
        )
    return out


# ---------------------------------------------------------------------------------------------------------
# Prefill (llama.cpp pp rows)
# ---------------------------------------------------------------------------------------------------------
def prefill_rows(data: dict, constants: E.PrefillConstants | None = None) -> list[dict]:
    presets, parts = E.load_presets(), _gpu_specs()
    out = []
    for row in data["prefill"]:
        arch, gpu, prec = model_of(row, presets), gpu_of(row, parts), precision_of(row)
        if (
            row.get("tokens_per_s") is None
            or any(f.startswith("anomalous") for f in row.get("flags") or [])
            or arch is None
            or gpu is None
            or not gpu["tflops"]
            or prec is None
        ):
            continue
        n = test_tokens(row["test"])
        split = {"layer": "pipeline", "row": "tensor", None: None}[row.get("split")]
        rng = E.prefill_tokens_per_s(
            arch,
            gpu["tflops"],
            gpu["count"],
            context=n,
            runtime="llama.cpp",
            parallel=split,
            precision=prec,
            constants=constants,
        )
        m = row["tokens_per_s"]
        out.append(
            {
                "id": row["id"],
                "half": half(group_key(row)),
                "group": group_key(row),
                "measured": m,
                "low": round(rng.low, 1),
                "expected": round(rng.expected, 1),
                "high": round(rng.high, 1),
                "error_pct": round(100 * (rng.expected - m) / m, 1),
                "inside": rng.low <= m <= rng.high,
            }
        )
    return out


def fit_prefill(data: dict, folds: int = 5) -> E.PrefillConstants:
    """Fit efficiency, cap and sharpness on the fit half of the llama.cpp pp rows; the range from grouped
    out-of-fold errors inside the fit half, as for decode."""
    base = dataclasses.replace(E.PREFILL_CONSTANTS, range_low=1.0, range_high=1.0)
    rows = [r for r in prefill_rows(data, base) if r["half"] == "fit"]
    groups = {r["id"]: r["group"] for r in rows}

    def fit(ids: set[str], start: E.PrefillConstants) -> E.PrefillConstants:
        def loss(v: list[float]) -> float:
            if v[0] <= 0 or v[0] > 2 or v[1] <= 0.1 or v[2] < 0.5 or not 0.2 <= v[3] <= 1.0 or v[4] < 1.0:
                return 1e9
            c = dataclasses.replace(
                start,
                efficiency=v[0],
                cap_tflops=v[1] * 100,
                sharpness=v[2],
                quant_share=v[3],
                attention_cost=v[4],
            )
            return sum(
                math.log(r["expected"] / r["measured"]) ** 2 for r in prefill_rows(data, c) if r["id"] in ids
            )

        x0 = [
            start.efficiency,
            start.cap_tflops / 100,
            start.sharpness,
            start.quant_share,
            start.attention_cost,
        ]
        best = nelder_mead(loss, x0, [0.1, 0.2, 0.5, 0.05, 0.5], iters=400)
        return dataclasses.replace(
            start,
            efficiency=best[0],
            cap_tflops=best[1] * 100,
            sharpness=best[2],
            quant_share=best[3],
            attention_cost=best[4],
        )

    c = fit(set(groups), base)
    ratios = []
    for f in range(folds):
        fold = {
            i
            for i, g in groups.items()
            if int(hashlib.sha256(("fold" + g).encode()).hexdigest(), 16) % folds == f
        }
        if not fold:
            continue
        cf = fit(set(groups) - fold, c)
        ratios += [r["measured"] / r["expected"] for r in prefill_rows(data, cf) if r["id"] in fold]
    return dataclasses.replace(
        c,
        range_low=round(quantile(ratios, RANGE_QUANTILES[0]), 3),
        range_high=round(quantile(ratios, RANGE_QUANTILES[1]), 3),
    )


def serving_rows(data: dict) -> list[dict]:
    """vLLM batched serving (dstack: Llama 3.1 405B FP8 on 8x H100 SXM, 128-token prompts; a Mistral 7B on one
    RTX 4090 at 4-48 concurrent requests): measured output tokens/s against serving_throughput. Not scored (one source, one model); prompts of
    2048+ tokens are prefill-dominated and left out."""
    presets, parts = E.load_presets(), _gpu_specs()
    out = []
    for row in data["decode"]:
        if not row["test"].startswith("serve_") or row["runtime"] != "vllm":
            continue
        measured = row.get("output_tokens_per_s_derived")
        if measured is None and "output tokens" in (row.get("tokens_per_s_kind") or ""):
            measured = row["tokens_per_s"]
        if measured is None:
            continue
        prec = "int8" if "FP8" in (row.get("quant") or "") else "bf16"
        if (row.get("prompt_tokens") or 0) > 512:
            continue
        arch, gpu = model_of(row, presets), gpu_of(row, parts)
        if arch is None or gpu is None:
            continue
        b = row["batch"]
        ctx = row["prompt_tokens"] + row["gen_tokens"] // 2
        # vLLM runs at most as many sequences as its KV pool holds; the rest wait in the queue
        pool = E.estimate(
            arch,
            E.EstimateRequest(
                precision=prec,
                seq_len=row["prompt_tokens"],
                new_tokens=row["gen_tokens"],
                gpus=gpu["count"],
                runtime="vllm",
            ),
            gpu["vram"] * USABLE_VRAM_SHARE,
        )
        running = min(b, pool.max_concurrent_sequences or b)
        res = E.serving_throughput(
            arch,
            prec,
            gpu["bw"],
            gpu["tflops"],
            gpu["count"],
            None,
            ctx,
            None,
            (running,),
            gpu["nvlink"],
            row["prompt_tokens"],
            row["gen_tokens"],
        )[0]
        rng = res["tokens_per_s"]
        m = measured
        out.append(
            {
                "id": row["id"],
                "batch": b,
                "running": running,
                "measured": m,
                "low": rng["low"],
                "expected": rng["expected"],
                "high": rng["high"],
                "error_pct": round(100 * (rng["expected"] - m) / m, 1),
                "inside": rng["low"] <= m <= rng["high"],
            }
        )
    return out


def summary(rows: list[dict]) -> dict:
    errs = [abs(r["error_pct"]) for r in rows if r.get("error_pct") is not None]
    inside = [r["inside"] for r in rows if "inside" in r]
    return {
        "rows": len(rows),
        "median_abs_error_pct": round(statistics.median(errs), 1) if errs else None,
        "max_abs_error_pct": round(max(errs), 1) if errs else None,
        "share_inside_range": round(sum(inside) / len(inside), 3) if inside else None,
    }


def decode_table(cases: list[dict]) -> list[dict]:
    out = []
    for k in cases:
        lo, ex, hi, bound = predict_decode(k)
        m = k["measured"]
        out.append(
            {
                "id": k["id"],
                "half": k["half"],
                "runtime": k["runtime"],
                "gpus": f"{k['gpu']['count']}x {k['gpu']['name']}",
                "model": k["arch"].slug or k["arch"].name,
                "precision": k["precision"],
                "parallel": k["parallel"],
                "context": k["context"],
                "measured": m,
                "low": round(lo, 2),
                "expected": round(ex, 2),
                "high": round(hi, 2),
                "bound": round(bound, 2),
                "error_pct": round(100 * (ex - m) / m, 1),
                "inside": lo <= m <= hi,
                "above_bound": m > bound * 1.0001,
            }
        )
    return out


def markdown(result: dict) -> str:
    lines = ["# Hold-out check against public measurements (bench/speed_holdout.py)", ""]
    lines.append("| set | rows | median abs error | max abs error | inside range |")
    lines.append("|---|---|---|---|---|")
    for name, s in result["summary"].items():
        share = "" if s.get("share_inside_range") is None else f"{100 * s['share_inside_range']:.0f} %"
        lines.append(
            f"| {name} | {s['rows']} | {s['median_abs_error_pct']} % | {s['max_abs_error_pct']} % | {share} |"
        )
    fits = result["llama_cpp_fit_verdicts"]
    lines += [
        "",
        f"llama.cpp fit verdicts: {sum(r['agree'] for r in fits)} of {len(fits)} agree with the "
        "published run / out-of-memory.",
        "",
        "## Decode, every row",
        "",
        "| half | id | GPUs | model | precision | split | measured | low | expected | high | bound | error | inside |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["decode"]:
        lines.append(
            f"| {r['half']} | {r['id']} | {r['gpus']} | {r['model']} | {r['precision']} | {r['parallel'] or '-'} "
            f"| {r['measured']} | {r['low']} | {r['expected']} | {r['high']} | {r['bound']} | "
            f"{r['error_pct']:+.1f} % | {'yes' if r['inside'] else 'NO'} |"
        )
    lines += [
        "",
        "## FSDP-QLoRA training memory (GiB per GPU)",
        "",
        "| half | id | GPUs | kind | measured | predicted | error | published fits | estimated fits |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["training_memory"]:
        err = "" if r["error_pct"] is None else f"{r['error_pct']:+.1f} %"
        lines.append(
            f"| {r['half']} | {r['id']} | {r['gpus']} | {r['kind']} | {r['measured_gib']} | {r['predicted_gib']} "
            f"| {err} | {r['published_fits']} | {r['estimated_fits']} |"
        )
    lines += [
        "",
        "## llama.cpp fit verdicts",
        "",
        "| id | GPUs | published | estimated | GiB per GPU | usable |",
        "|---|---|---|---|---|---|",
    ]
    for r in fits:
        lines.append(
            f"| {r['id']} | {r['gpus']} | {r['measured_fits']} | {r['estimated_fits']} | {r['per_gpu_gib']} | {r['vram_gib']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit", action="store_true", help="re-fit the constants on the fit half and print them")
    ap.add_argument("--only", choices=["decode", "training", "prefill"], help="with --fit: one part only")
    args = ap.parse_args(argv)
    data = json.loads(DATA.read_text())
    cases, skipped = decode_cases(data)
    if args.fit:
        for rt in ("llama.cpp", "vllm") if args.only in (None, "decode") else ():
            if any(k["runtime"] == rt and k["half"] == "fit" for k in cases):
                print(rt, fit_runtime(rt, cases))
        if args.only in (None, "prefill"):
            print("llama.cpp prefill", fit_prefill(data))
        if args.only not in (None, "training"):
            return 0
        train = [
            r
            for r in training_rows(data, fixed_gib=0.0)
            if r["half"] == "fit" and r["measured_gib"] and r["kind"] == "reserved"
        ]
        # least squares: measured - predicted (no fixed, no dynamic share) = fixed + share x (activations + logits)
        xs = [r["dynamic_gib"] for r in train]
        ys = [r["measured_gib"] - r["predicted_gib"] for r in train]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        share = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
        print("FSDP_QLORA_FIXED_GIB", round(my - share * mx, 2), "FSDP_QLORA_DYNAMIC_SHARE", round(share, 3))
        return 0
    table = decode_table(cases)
    train = training_rows(data)
    pre = prefill_rows(data)
    fits = llama_cpp_fit_rows(data)
    serve = serving_rows(data)
    hold = [r for r in table if r["half"] == "holdout"]
    result = {
        "summary": {
            "decode hold-out (llama.cpp + vLLM)": summary(hold),
            "decode hold-out llama.cpp": summary([r for r in hold if r["runtime"] == "llama.cpp"]),
            "decode hold-out vLLM": summary([r for r in hold if r["runtime"] == "vllm"]),
            "decode fit half": summary([r for r in table if r["half"] == "fit"]),
            "FSDP-QLoRA memory hold-out": summary(
                [r for r in train if r["half"] == "holdout" and r["measured_gib"]]
            ),
            "FSDP-QLoRA memory all": summary([r for r in train if r["measured_gib"]]),
            "llama.cpp prefill hold-out": summary([r for r in pre if r["half"] == "holdout"]),
            "vLLM serving (not scored)": summary(serve),
        },
        "decode_above_bandwidth_bound": [r["id"] for r in table if r["above_bound"]],
        "training_published_fits_reported_not_fitting": [
            r["id"] for r in train if r["published_fits"] and r["estimated_fits"] is False
        ],
        "llama_cpp_fit_verdicts": fits,
        "decode": table,
        "training_memory": train,
        "prefill": pre,
        "serving": serve,
        "skipped_decode_rows": skipped,
        "constants": {rt: dataclasses.asdict(c) for rt, c in E.DECODE_CONSTANTS.items()},
    }
    for name, s in result["summary"].items():
        share = (
            ""
            if s["share_inside_range"] is None
            else f", {100 * s['share_inside_range']:.0f} % inside the range"
        )
        print(
            f"{name:40} {s['rows']:4} rows: median |error| {s['median_abs_error_pct']} %, "
            f"max {s['max_abs_error_pct']} %{share}"
        )
    print(
        f"llama.cpp fit verdicts agreeing with the published runs: {sum(r['agree'] for r in fits)} / {len(fits)}"
    )
    print(f"measured decode above the bandwidth bound: {len(result['decode_above_bandwidth_bound'])}")
    print(
        f"published FSDP-QLoRA runs reported as not fitting: {result['training_published_fits_reported_not_fitting']}"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "speed_holdout.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "speed_holdout.md").write_text(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
