"""GPU-to-GPU paths and which parallelism styles the links carry."""

from __future__ import annotations

from .report import Finding, info, warning
from .state import State, Unit

# Tensor, pipeline and expert parallelism exchange activations every layer / micro-batch and want x8+
# PCIe or NVLink; data parallel exchanges gradients once per step and is fine on x4 ("x4 lanes are fine,
# especially with 2 GPUs", Tim Dettmers, Which GPU(s) to Get for Deep Learning, 2023; seed 004).
MODEL_PARALLEL_MIN_WIDTH = 8
DATA_PARALLEL_MIN_WIDTH = 4
EXAMPLE_PARAMS_B = 1.0  # the all-reduce example in messages: a 1B-parameter model, bf16 gradients


def _pair(a: Unit, b: Unit) -> dict:
    sa, sb = a.spec, b.spec
    nv = bool(sa.nvlink and sb.nvlink and sa.chip is not None and sa.chip == sb.chip)
    p2p = bool(sa.p2p and sb.p2p) and a.source != "chipset" and b.source != "chipset"
    links = [x for x in (a.gbps, b.gbps) if x is not None]
    gbps = min(links) if len(links) == 2 else None
    return {
        "a": a.label,
        "b": b.label,
        "path": "pcie_p2p" if p2p else "host",
        "gbps": gbps,
        "nvlink_capable": nv,  # needs a bridge, which the parts list does not carry
    }


def compute(state: State) -> None:
    gpus = [u for u in state.gpus if u.slot is not None]
    pairs = []
    for i, a in enumerate(gpus):
        for b in gpus[i + 1 :]:
            pairs.append(_pair(a, b))
    widths = [u.width for u in gpus]
    slow = min(gpus, key=lambda u: (u.width, u.gbps or 0.0)) if gpus else None
    verdict = {}
    if len(state.gpus) >= 2 and slow is not None:
        mp = "ok" if slow.width >= MODEL_PARALLEL_MIN_WIDTH else "limited"
        dp = "ok" if slow.width >= DATA_PARALLEL_MIN_WIDTH else "slow"
        verdict = {"data": dp, "tensor": mp, "pipeline": mp, "expert": mp}
    state.report.interconnect = {
        "pairs": pairs,
        "min_width": min(widths) if widths else None,
        "min_gbps": slow.gbps if slow else None,
        "parallelism": verdict,
    }
    if any(p["nvlink_capable"] for p in pairs):
        state.report.not_checked.append("NVLink bridges (not a part category): pairs are counted on PCIe")


def _allreduce_gb(n: int) -> float:
    # Ring all-reduce moves 2 (n-1)/n x gradient bytes per GPU per step (DESIGN.md "Physics").
    return 2 * (n - 1) / n * EXAMPLE_PARAMS_B * 2.0


def check_parallelism(state: State) -> list[Finding]:
    ic = state.report.interconnect
    verdict = ic.get("parallelism") or {}
    if verdict.get("tensor") != "limited":
        return []
    gpus = [u for u in state.gpus if u.slot is not None]
    n = len(state.gpus)
    slow = min(gpus, key=lambda u: (u.width, u.gbps or 0.0))
    gb = _allreduce_gb(n)
    rate = slow.gbps
    speed = f"PCIe {slow.gen}.0 x{slow.width}" if slow.gen else f"x{slow.width}"
    if rate:
        dp_time = gb / rate
        numbers = (
            f"the slowest link ({slow.label}, {speed}) moves {rate:g} GB/s. Data parallel is "
            f"{'fine' if verdict['data'] == 'ok' else 'slow but workable'}: an all-reduce of a 1B-parameter "
            f"model's bf16 gradients moves {gb:.2f} GB per GPU per step, {dp_time:.2f} s at that rate. "
        )
    else:
        numbers = f"the slowest link is {speed}. "
    return [
        warning(
            "PARALLELISM_BANDWIDTH",
            "interconnect",
            f"{n} GPUs, {numbers}Tensor, pipeline and expert parallelism exchange activations at every layer "
            f"and want x{MODEL_PARALLEL_MIN_WIDTH} or wider links (or NVLink): on these links they will be "
            "bandwidth-bound; prefer data parallel / FSDP, or move the GPUs to x8+ slots.",
            tuple(dict.fromkeys(u.part.id for u in gpus)),
        )
    ]


def check_p2p(state: State) -> list[Finding]:
    pairs = state.report.interconnect.get("pairs") or []
    host = [p for p in pairs if p["path"] == "host"]
    if not host:
        return []
    gpus = [u for u in state.gpus if u.slot is not None]
    why = []
    if any(u.spec.p2p is False for u in gpus):
        why.append("the stock driver does not enable PCIe peer-to-peer on these cards (GeForce)")
    if any(u.spec.p2p is None for u in gpus):
        why.append("peer-to-peer support is not curated for some GPUs")
    if any(u.source == "chipset" for u in gpus):
        why.append("a GPU sits behind the chipset")
    return [
        info(
            "NO_P2P",
            "interconnect",
            f"{len(host)} of {len(pairs)} GPU pairs have no direct peer-to-peer path ("
            + "; ".join(why or ["unknown"])
            + "): NCCL collectives are staged through host memory, costing latency and CPU memory bandwidth.",
            tuple(dict.fromkeys(u.part.id for u in gpus)),
        )
    ]
