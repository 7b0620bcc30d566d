"""The rig's workload table: which LLM workloads fit on its GPUs (and RAM), how, and how fast.

``check_workloads(rig, context, state)`` fills ``report.workloads`` with one row per workload
(requested in ``context.workloads`` with the ``POST /api/v1/estimate`` body fields, or a default set)
and returns findings (RAM_INSUFFICIENT_FOR_OFFLOAD). Memory figures come from estimator.py; results are
cached per (GPU figures, RAM, link, workloads), so a re-check of an unchanged GPU set costs a lookup.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .estimator import (
    GGUF,
    Estimate,
    EstimateRequest,
    EstimateRequestError,
    ModelArch,
    Presets,
    days_to_train,
    decode_tokens_per_s,
    estimate,
    file_presets,
    parse_estimate_request,
    prefill_tokens_per_s,
    serving_throughput,
    training_tokens_per_s,
)
from .report import Finding, warning
from .specs import GpuSpec, MemorySpec, Rig, SpecError

# nvidia-smi reports a "24 GB" card as ~24,564 MiB and an H100 80GB as 81,559 MiB: card "GB" are GiB,
# less a small reserve the driver keeps.
USABLE_VRAM_SHARE = 0.995
# Tokens per parameter for compute-optimal pre-training (Hoffmann et al. 2022, "Chinchilla"):
# https://arxiv.org/abs/2203.15556
CHINCHILLA_TOKENS_PER_PARAM = 20

FITS = "fits"
FITS_WITH_OFFLOAD = "fits_with_offload"
DOES_NOT_FIT = "does_not_fit"


@dataclass(frozen=True, slots=True)
class _Workload:
    label: str
    slug: str
    method: str
    precision: str
    seq_len: int
    batch: int = 1
    new_tokens: int = 0
    gradient_checkpointing: bool = True
    lora_rank: int = 16
    gpus: int | None = None  # None: the fewest GPUs that fit
    parallel: str | None = None
    offload: str | None = None  # None: try none, then optimizer, then optimizer_and_params (training)
    runtime: str | None = None  # None: estimator.default_runtime (GGUF -> llama.cpp, else transformers / hf)
    gpu_memory_utilization: float = 0.9

    @classmethod
    def from_request(cls, req, *, label: str, slug: str, **choices) -> _Workload:
        """A table row for an estimate request; ``choices`` are what the caller pins (GPUs, split, offload)."""
        return cls(
            label=label,
            slug=slug,
            method=req.method,
            precision=req.precision,
            seq_len=req.seq_len,
            batch=req.batch,
            new_tokens=req.new_tokens,
            gradient_checkpointing=req.gradient_checkpointing,
            lora_rank=req.lora_rank,
            runtime=req.runtime,
            gpu_memory_utilization=req.gpu_memory_utilization,
            **choices,
        )


# The default table: the seeds' questions ("48 GB runs 70B at 4-bit", "ZeRO-3 + offload fine-tunes 34B on
# two 24 GB cards", "a 24 GB card runs 13B, LoRA is tight", "4x4090 trains ~0.5-1B from scratch").
DEFAULT_WORKLOADS: tuple[_Workload, ...] = (
    _Workload(
        "Llama 3.1 8B chat, Q4_K_M (llama.cpp)", "llama-3.1-8b", "inference", "Q4_K_M", 4096, new_tokens=512
    ),
    _Workload("Llama 3.1 8B chat, bf16", "llama-3.1-8b", "inference", "bf16", 4096, new_tokens=512),
    _Workload(
        "Llama 3.1 8B serving, bf16 (vLLM)",
        "llama-3.1-8b",
        "inference",
        "bf16",
        4096,
        new_tokens=512,
        runtime="vllm",
    ),
    _Workload("Llama 2 13B chat, bf16", "llama-2-13b", "inference", "bf16", 4096, new_tokens=512),
    _Workload("Llama 2 13B chat, 8-bit", "llama-2-13b", "inference", "int8", 4096, new_tokens=512),
    _Workload("Llama 2 13B chat, 4-bit", "llama-2-13b", "inference", "nf4", 4096, new_tokens=512),
    _Workload("Code Llama 34B, 4-bit", "codellama-34b", "inference", "nf4", 4096, new_tokens=512),
    _Workload(
        "Llama 3.1 70B, 4-bit (Q4_K_M, llama.cpp)",
        "llama-3.1-70b",
        "inference",
        "Q4_K_M",
        4096,
        new_tokens=512,
    ),
    _Workload("Llama 3.1 70B, F16 (llama.cpp)", "llama-3.1-70b", "inference", "F16", 4096, new_tokens=512),
    _Workload("Llama 3.1 70B, bf16", "llama-3.1-70b", "inference", "bf16", 4096, new_tokens=512),
    _Workload("Llama 3.1 8B LoRA r16", "llama-3.1-8b", "lora", "bf16", 2048),
    _Workload("Llama 3.1 8B QLoRA r16", "llama-3.1-8b", "qlora", "nf4", 2048),
    _Workload("Llama 2 13B LoRA r16", "llama-2-13b", "lora", "bf16", 2048),
    _Workload("Llama 2 13B QLoRA r16", "llama-2-13b", "qlora", "nf4", 2048),
    _Workload("Llama 3.2 1B full fine-tune / pre-train (AMP)", "llama-3.2-1b", "full", "amp", 2048),
    _Workload("Code Llama 34B LoRA, ZeRO-3 + CPU offload", "codellama-34b", "lora", "bf16", 2048),
    _Workload("Code Llama 34B full fine-tune, ZeRO-3 + CPU offload", "codellama-34b", "full", "amp", 2048),
    _Workload(
        "Llama 2 70B QLoRA r64 (FSDP-QLoRA)",
        "llama-2-70b",
        "qlora",
        "nf4",
        2048,
        lora_rank=64,
        runtime="fsdp_qlora",
    ),
)


@dataclass(frozen=True, slots=True)
class _Gpus:
    count: int
    vram_gib: float | None  # smallest card
    bandwidth_gbps: float | None  # slowest card
    bf16_tflops: float | None  # slowest card
    link_gbps: float | None  # slowest GPU link (PCIe gen x width from the lane report), None unknown; NVLink
    # bridges are not a part category, so tensor-parallel all-reduces are costed over PCIe


def validate_workloads(workloads: Any, presets: Presets | None = None) -> tuple[dict, ...]:
    """Strict validation of ``context.workloads`` for the API against the caller's presets (None: the seed
    file's); raises SpecError naming the field."""
    if not isinstance(workloads, list | tuple):
        raise SpecError("context.workloads", "must be a list")
    presets = presets if presets is not None else file_presets()
    for i, w in enumerate(workloads):
        try:
            parse_estimate_request(w, presets)
        except EstimateRequestError as exc:
            raise SpecError(f"context.workloads[{i}].{exc.field}", exc.message) from None
    return tuple(workloads)


def _ram_gib(rig: Rig) -> float | None:
    total, known = 0.0, False
    for part in rig.memory:
        spec = part.spec
        if isinstance(spec, MemorySpec) and spec.module_gb is not None:
            total += (spec.modules or 1) * spec.module_gb * part.quantity
            known = True
    return total if known else None


def _gpus(state) -> _Gpus:
    specs = [u.spec for u in state.gpus if isinstance(u.spec, GpuSpec)]

    def least(name: str) -> float | None:
        vals = [getattr(s, name) for s in specs]
        return None if not vals or any(v is None for v in vals) else min(vals)

    links = [u.gbps for u in state.gpus]
    link = None if not links or any(v is None for v in links) else min(links)
    return _Gpus(len(specs), least("vram_gb"), least("memory_bandwidth_gbps"), least("bf16_tflops"), link)


def _round(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


def _try(arch: ModelArch, req: EstimateRequest, vram: float | None) -> Estimate:
    return estimate(arch, req, vram)


def _plan(arch: ModelArch, w: _Workload, gpus: _Gpus, ram: float | None) -> tuple[str, Estimate, str | None]:
    """Pick the cheapest configuration that fits: fewest GPUs, no offload before offload."""
    vram = gpus.vram_gib * USABLE_VRAM_SHARE if gpus.vram_gib is not None else None
    n_max = max(gpus.count, 1)

    def req(n: int, parallel: str | None, offload: str) -> EstimateRequest:
        return EstimateRequest(
            method=w.method,
            precision=w.precision,
            batch=w.batch,
            seq_len=w.seq_len,
            new_tokens=w.new_tokens if w.method == "inference" else 0,
            gradient_checkpointing=w.gradient_checkpointing,
            lora_rank=w.lora_rank,
            gpus=n,
            parallel=parallel if (n > 1 or offload != "none") else None,
            offload=offload,
            runtime=w.runtime,
            gpu_memory_utilization=w.gpu_memory_utilization,
        )

    candidates: list[tuple[EstimateRequest, str]] = []
    runtime = w.runtime or (
        "llama.cpp" if w.precision in GGUF else ("hf" if w.method != "inference" else "transformers")
    )
    if w.method == "inference":
        # inference takes the fewest GPUs that hold the model (the others can serve other replicas)
        for n in [w.gpus] if w.gpus else range(1, n_max + 1):
            # tensor parallel needs the heads to divide across the GPUs (vLLM, TGI); else split by layers
            even = arch.heads % n == 0 and (arch.kv_heads % n == 0 or n % arch.kv_heads == 0)
            if runtime == "llama.cpp":
                parallel = w.parallel or "pipeline"  # llama.cpp splits layers by default
            elif runtime == "vllm":
                if not even and n > 1:
                    continue  # vLLM's tensor parallel needs the heads to divide
                parallel = "tensor"
            else:
                # transformers: device_map="auto" splits layers across the cards (tensor parallel when asked)
                parallel = w.parallel or "pipeline"
            candidates.append((req(n, parallel, "none"), FITS))
        if not candidates:
            candidates.append((req(1, None, "none"), FITS))
    elif runtime == "fsdp_qlora":
        n = w.gpus or n_max
        if w.parallel or w.offload:
            off = w.offload or "none"
            candidates.append(
                (req(n, w.parallel or "fsdp", off), FITS if off == "none" else FITS_WITH_OFFLOAD)
            )
        else:
            candidates.append((req(n, "ddp", "none"), FITS))
            if n > 1:
                candidates.append((req(n, "fsdp", "none"), FITS))
            candidates.append((req(n, "fsdp", "params"), FITS_WITH_OFFLOAD))
    else:
        # training uses every GPU (data parallel); shard (ZeRO-3) only when a replica does not fit,
        # offload only when the shards do not fit
        n = w.gpus or n_max
        if w.parallel or w.offload:
            off = w.offload or "none"
            candidates.append((req(n, w.parallel, off), FITS if off == "none" else FITS_WITH_OFFLOAD))
        else:
            candidates.append((req(n, "ddp", "none"), FITS))
            if n > 1:
                candidates.append((req(n, "zero3", "none"), FITS))
            for off in ("optimizer", "optimizer_and_params"):
                candidates.append((req(n, "zero3", off), FITS_WITH_OFFLOAD))
    last: tuple[str, Estimate, str | None] | None = None
    for r, verdict in candidates:
        est = _try(arch, r, vram)
        ram_ok = ram is None or ram_needed(est) <= ram
        if vram is not None and est.device_gib <= vram and ram_ok:
            note = None if ram is not None or not est.ram_gib else "system RAM unknown: offload not checked"
            if ram is not None and est.ram_gib > ram:
                note = (
                    f"RAM is tight: the offloaded state takes about {ram_needed(est):,.0f} GiB of the rig's "
                    f"{ram:,.0f}, short of DeepSpeed's recommended {est.ram_gib:,.0f} GiB (its 1.5x buffer)"
                )
            return verdict, est, note
        if vram is not None and est.device_gib <= vram and not ram_ok:
            last = (DOES_NOT_FIT, est, "ram")
        elif last is None or last[2] != "ram":
            last = (DOES_NOT_FIT, est, None)
    if vram is None:
        r, _ = candidates[0]
        return "unknown", _try(arch, r, None), "GPU memory unknown"
    assert last is not None
    return last


def ram_needed(est: Estimate) -> float:
    """The least system RAM an offload needs: DeepSpeed's state without its 1.5x buffer where it has one."""
    return est.ram_floor_gib if est.ram_floor_gib is not None else est.ram_gib


def _speed(arch: ModelArch, w: _Workload, est: Estimate, gpus: _Gpus) -> dict | None:
    n = est.gpus
    if w.method == "inference":
        if gpus.bandwidth_gbps is None:
            return None
        context = w.seq_len + w.new_tokens // 2
        rng = decode_tokens_per_s(
            arch,
            w.precision,
            gpus.bandwidth_gbps,
            n_gpus=n,
            link_gbps=gpus.link_gbps,
            context=context,
            batch=w.batch,
            parallel=est.parallel,
            runtime=est.runtime,
        )
        out = rng.as_dict() | {"runtime": est.runtime}
        if gpus.bf16_tflops:
            out["prefill"] = prefill_tokens_per_s(
                arch,
                gpus.bf16_tflops,
                n,
                context=w.seq_len,
                runtime=est.runtime,
                parallel=est.parallel,
                precision=w.precision,
            ).as_dict()
        if est.runtime == "vllm":
            out["serving"] = serving_throughput(
                arch,
                w.precision,
                gpus.bandwidth_gbps,
                gpus.bf16_tflops,
                n,
                gpus.link_gbps,
                context=context,
                max_sequences=est.max_concurrent_sequences,
                prompt_tokens=w.seq_len if w.new_tokens else 0,
                gen_tokens=w.new_tokens,
            )
        return out
    if gpus.bf16_tflops is None:
        return None
    tps = training_tokens_per_s(
        arch, gpus.bf16_tflops, n_gpus=n, gradient_checkpointing=w.gradient_checkpointing
    )
    out = tps.as_dict()
    if est.ram_gib:
        out["assumption"] += "; CPU offload makes each step wait on PCIe and CPU Adam: expect well below this"
    if w.method == "full":
        tokens = CHINCHILLA_TOKENS_PER_PARAM * arch.total_params
        days = days_to_train(arch, tokens, gpus.bf16_tflops, n, w.gradient_checkpointing)
        out["days_for_20_tokens_per_param"] = days.as_dict()
    return out


@lru_cache(maxsize=256)
def _table(
    gpus: _Gpus, ram: float | None, workloads_key: tuple[str, ...], presets: Presets
) -> tuple[tuple[dict, ...], tuple]:
    if workloads_key:
        items: list[tuple[_Workload | None, ModelArch | None, str | None]] = []
        for i, raw in enumerate(workloads_key):
            try:
                arch, r, _ = parse_estimate_request(json.loads(raw), presets)
            except EstimateRequestError as exc:
                items.append((None, None, f"workloads[{i}].{exc.field}: {exc.message}"))
                continue
            data = json.loads(raw)
            model = data["model"]
            slug = model if isinstance(model, str) else (arch.slug or "inline")
            name = arch.name or slug
            w = _Workload.from_request(
                r,
                label=f"{name} {r.method} {r.precision} ({r.resolved_runtime})",
                slug=slug,
                gpus=r.gpus if "gpus" in data else None,
                parallel=r.parallel,
                offload=r.offload if "offload" in data else None,
            )
            items.append((w, arch, None))
        requested = True
    else:
        # The default table's models: the caller's presets, else the seed file's (a preset removed in the
        # admin does not break the default table).
        items = [(w, presets.get(w.slug) or file_presets()[w.slug], None) for w in DEFAULT_WORKLOADS]
        requested = False
    rows: list[dict] = []
    short: list[tuple[str, float, float | None]] = []
    for w, arch, err in items:
        if w is None or arch is None:
            rows.append({"verdict": "invalid", "error": err})
            continue
        if gpus.count == 0:
            continue
        verdict, est, note = _plan(arch, w, gpus, ram)
        row = {
            "label": w.label,
            "model": w.slug,
            "model_name": arch.name or w.slug,
            "method": w.method,
            "precision": w.precision,
            "runtime": est.runtime,
            "seq_len": w.seq_len,
            "batch": w.batch,
            "verdict": verdict,
            "gpus_used": est.gpus,
            "parallel": None if est.gpus == 1 else _parallel_of(w, est),
            "offload": _offload_of(est),
            "memory_per_gpu_gib": _round(est.device_gib),
            "vram_per_gpu_gib": _round(gpus.vram_gib),
            "ram_needed_gib": _round(est.ram_gib),
            "ram_floor_gib": _round(est.ram_floor_gib),
            "ram_gib": _round(ram),
            "breakdown_gib": {k: round(v, 2) for k, v in est.breakdown_gib.items()},
            "kv_pool_gib": _round(est.kv_pool_gib),
            "max_concurrent_sequences": est.max_concurrent_sequences,
            "speed": _speed(arch, w, est, gpus),
            "notes": list(est.notes) + ([note] if note and note != "ram" else []),
        }
        row["strategy"] = strategy_text(est.gpus, row["parallel"], row["offload"])
        row["reason"] = fit_reason(row, vram_gib=gpus.vram_gib, ram_gib=ram, ram_short=note == "ram")
        if note == "ram":
            row["notes"].append(
                f"fits in VRAM only with CPU offload, which needs {est.ram_gib:,.0f} GiB of RAM; "
                f"the rig has {ram:,.0f} GiB"
            )
            if requested:
                short.append((row["label"], est.ram_gib, ram))
        elif requested and ram is not None and ram_needed(est) > ram:
            short.append((row["label"], est.ram_gib, ram))
        rows.append(_json_safe(row))
    return tuple(rows), tuple(short)


def _json_safe(value: Any) -> Any:
    """Non-finite numbers (e.g. days to train on a card with a near-zero TFLOPS figure) become None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _parallel_of(w: _Workload, est: Estimate) -> str:
    if est.parallel:
        return est.parallel
    if w.method == "inference":
        return w.parallel or ("pipeline" if any(n.startswith("pipeline") for n in est.notes) else "tensor")
    return w.parallel or ("zero3" if any("ZeRO-3" in n for n in est.notes) else "ddp")


def _offload_of(est: Estimate) -> str:
    if est.runtime == "fsdp_qlora":
        return "params" if est.ram_gib else "none"
    for n in est.notes:
        if "offload=" in n:
            return n.rsplit("offload=", 1)[1]
    return "none"


def _workloads_key(workloads: tuple) -> tuple[str, ...]:
    out = []
    for w in workloads:
        try:
            out.append(json.dumps(w, sort_keys=True, allow_nan=True))
        except (TypeError, ValueError):
            out.append(json.dumps({"model": None}))
    return tuple(out)


def check_workloads(rig: Rig, context, state) -> list[Finding]:
    """Fill the report's workload table; warn when a requested offload needs more RAM than the rig has."""
    gpus = _gpus(state)
    ram = _ram_gib(rig)
    if ram is not None and not math.isfinite(ram):
        ram = None
    presets = getattr(context, "presets", None) or file_presets()
    rows, short = _table(gpus, ram, _workloads_key(tuple(getattr(context, "workloads", ()) or ())), presets)
    state.report.workloads = [dict(r) for r in rows]
    findings: list[Finding] = []
    for label, need, have in short:
        findings.append(
            warning(
                "RAM_INSUFFICIENT_FOR_OFFLOAD",
                "workload",
                f"{label}: CPU offload needs about {need:,.0f} GiB of system RAM (DeepSpeed ZeRO-3 estimate, "
                f"1.5x buffer); the rig has {have:,.0f} GiB",
                tuple(p.id for p in rig.memory),
            )
        )
    return findings


__all__ = ["DEFAULT_WORKLOADS", "check_workloads", "validate_workloads"]


# How each multi-GPU strategy and offload reads on a page (the planner and the configurator say which one
# a verdict rests on).
STRATEGY_LABELS = {
    "ddp": "DDP (a full copy per GPU)",
    "zero3": "ZeRO-3 sharding",
    "fsdp": "FSDP sharding",
    "tensor": "tensor split",
    "pipeline": "layer split",
}
OFFLOAD_LABELS = {
    "optimizer": "optimizer offloaded to CPU RAM",
    "optimizer_and_params": "optimizer and weights offloaded to CPU RAM",
    "params": "weights offloaded to CPU RAM",
}


def strategy_text(gpus_used: int | None, parallel: str | None, offload: str | None) -> str:
    """'one GPU', 'layer split over 2 GPUs', 'ZeRO-3 (...) over 4 GPUs, optimizer states ... to CPU RAM'."""
    if not gpus_used:
        return ""
    base = (
        "one GPU"
        if gpus_used == 1
        else f"{STRATEGY_LABELS.get(parallel or '', parallel)} over {gpus_used} GPUs"
    )
    extra = OFFLOAD_LABELS.get(offload or "none")
    return f"{base}, {extra}" if extra else base


def plan_on(
    arch: ModelArch,
    req: EstimateRequest,
    *,
    count: int,
    vram_gib: float | None,
    bandwidth_gbps: float | None = None,
    bf16_tflops: float | None = None,
    ram_gib: float | None = None,
) -> dict:
    """The workload on `count` cards of `vram_gib` each, planned exactly as a rig's workload table plans it
    (the same candidates: fewest GPUs for inference, every GPU for training, DDP before ZeRO-3 before
    offload): verdict, GPUs used, strategy, GiB per GPU, RAM the offload needs, and the reason when it does
    not fit. The /plan/ page's GPU table and its example builds therefore agree."""
    w = _Workload.from_request(req, label="", slug=arch.slug or "inline")
    gpus = _Gpus(count, vram_gib, bandwidth_gbps, bf16_tflops, None)
    verdict, est, note = _plan(arch, w, gpus, ram_gib)
    parallel = None if est.gpus == 1 else _parallel_of(w, est)
    offload = _offload_of(est)
    row = {
        "verdict": verdict,
        "gpus_used": est.gpus,
        "parallel": parallel,
        "offload": offload,
        "strategy": strategy_text(est.gpus, parallel, offload),
        "memory_per_gpu_gib": _round(est.device_gib),
        "ram_needed_gib": _round(est.ram_gib),
        "speed": _speed(arch, w, est, gpus),
        "reason": "",
    }
    row["reason"] = fit_reason(row, vram_gib=vram_gib, ram_gib=ram_gib, ram_short=note == "ram")
    return row


def fit_reason(row: dict, *, vram_gib: float | None, ram_gib: float | None, ram_short: bool = False) -> str:
    """Why a workload row does not fit, in numbers ('' when it fits)."""
    if row.get("verdict") != DOES_NOT_FIT:
        return ""
    need = row.get("memory_per_gpu_gib")
    ram_need = row.get("ram_floor_gib") or row.get("ram_needed_gib")
    if ram_short or (
        ram_gib is not None
        and ram_need
        and ram_need > ram_gib
        and need is not None
        and vram_gib is not None
        and need <= vram_gib * USABLE_VRAM_SHARE
    ):
        have = f"{ram_gib:,.0f} GiB" if ram_gib is not None else "an unknown amount"
        return (
            f"it fits the GPUs only as {row.get('strategy')}, which needs about "
            f"{ram_need:,.0f} GiB of system RAM; the rig has {have}"
        )
    if need is not None and vram_gib is not None:
        usable = f"{vram_gib * USABLE_VRAM_SHARE:,.1f} GiB usable"
        if row.get("gpus_used") == 1 and row.get("offload") in (None, "none"):
            return f"needs {need:,.1f} GiB on one GPU; the card has {usable}"
        plan = row.get("strategy") or "the best plan tried"
        return f"needs {need:,.1f} GiB per GPU even with {plan}; each card has {usable}"
    return "GPU memory unknown"
