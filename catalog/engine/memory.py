"""Capacity: VRAM, system RAM, storage, and the advice that comes from them."""

from __future__ import annotations

from .report import Finding, info, warning
from .state import State

# "Aim for at least 2x the total GPU VRAM" in system RAM (seed 000; Tim Dettmers' hardware guide: at least
# as much RAM as the largest GPU, more for offload). Staging checkpoints and ZeRO offload need it.
RAM_PER_VRAM = 2.0
NVME_SMALL_GB = 2000.0  # "Capacity >= 2TB: model files keep growing" (seed 000)


def compute(state: State) -> None:
    rig = state.rig
    vram = 0.0
    vram_unknown = False
    tflops = 0.0
    tflops_limited = 0.0
    tflops_unknown = 0
    for u in state.gpus:
        s = u.spec
        if s.vram_gb is None:
            vram_unknown = True
        else:
            vram += s.vram_gb
        if s.bf16_tflops is None:
            tflops_unknown += 1
        else:
            tflops += s.bf16_tflops
            rows = state.report.power.get("gpus") or []
            kept = rows[u.n]["speed_kept"] if u.n < len(rows) else 1.0
            tflops_limited += s.bf16_tflops * kept
    ram = 0.0
    ram_unknown = not rig.memory
    for m in rig.memory:
        if m.spec.modules is None or m.spec.module_gb is None:
            ram_unknown = True
        else:
            ram += m.spec.modules * m.spec.module_gb * m.quantity
    nvme = 0.0
    total = 0.0
    storage_unknown = False
    for d in rig.storage:
        cap = d.spec.capacity_gb
        if cap is None:
            storage_unknown = True
            continue
        total += cap * d.quantity
        if d.spec.interface == "nvme":
            nvme += cap * d.quantity
    state.report.capacity = {
        "vram_gb": round(vram, 1),
        "vram_complete": not vram_unknown,
        "ram_gb": round(ram, 1) if not ram_unknown else (round(ram, 1) if ram else None),
        "nvme_gb": round(nvme, 1),
        "storage_gb": round(total, 1),
        "storage_complete": not storage_unknown,
    }
    state.report.compute = {
        "bf16_tflops": round(tflops, 1),
        "bf16_tflops_power_limited": round(tflops_limited, 1),
        "gpus_with_unknown_tflops": tflops_unknown,
        "note": "dense BF16 with FP32 accumulate (GeForce: half the FP16-accumulate figure)",
    }


def check_ram(state: State) -> list[Finding]:
    cap = state.report.capacity
    vram = cap.get("vram_gb") or 0.0
    ram = cap.get("ram_gb")
    if not state.gpus or ram is None or not vram:
        return []
    if ram < RAM_PER_VRAM * vram:
        ids = tuple(m.id for m in state.rig.memory)
        return [
            warning(
                "RAM_BELOW_2X_VRAM",
                "memory",
                f"{ram:g} GB of system RAM for {vram:g} GB of VRAM: below the 2x ({RAM_PER_VRAM * vram:g} GB) "
                "that loading checkpoints, data workers and ZeRO/CPU offload want; expect swapping when "
                "a model is staged in RAM.",
                ids,
            )
        ]
    return []


# Sequential reads: SATA III SSDs top out near 0.55 GB/s (6 Gb/s link); 3.5-inch hard disks read about
# 0.2 GB/s at best (typical 5400-7200 rpm datasheet figures, e.g. WD Blue WD40EZAZ "up to 180 MB/s"); a
# PCIe 4.0 NVMe drive reads 5-7 GB/s. A 70B checkpoint in bf16 is 140 GB.
CHECKPOINT_GB = 140.0
READ_GBPS = {"sata": 0.55, "hdd": 0.2}


def no_nvme_message(drives) -> str:
    """NO_NVME in the build's own terms: no drive at all, hard disks only, or SATA SSDs."""
    nvme_note = "against well under a minute from a PCIe 4.0 NVMe drive."
    if not drives:
        return (
            "No storage drive in the build: add an NVMe drive for the OS, models and datasets; a 70B "
            f"checkpoint ({CHECKPOINT_GB:g} GB in bf16) loads in well under a minute from a PCIe 4.0 NVMe drive."
        )
    kinds = {"hdd" if d.spec.interface == "hdd" else "sata" for d in drives}
    slowest = "sata" if kinds == {"sata"} else "hdd"
    seconds = CHECKPOINT_GB / READ_GBPS[slowest]
    where = "a SATA SSD" if slowest == "sata" else "a hard disk"
    return (
        f"No NVMe drive: loading a 70B checkpoint ({CHECKPOINT_GB:g} GB in bf16) from {where} at "
        f"~{READ_GBPS[slowest]:g} GB/s takes over {int(seconds // 60)} minutes, {nvme_note}"
    )


def check_storage(state: State) -> list[Finding]:
    rig = state.rig
    if not state.gpus and not rig.storage:
        return []
    nvme = [d for d in rig.storage if d.spec.interface == "nvme"]
    if not nvme:
        return [warning("NO_NVME", "memory", no_nvme_message(rig.storage), tuple(d.id for d in rig.storage))]
    total = state.report.capacity.get("nvme_gb") or 0.0
    if total < NVME_SMALL_GB and all(d.spec.capacity_gb is not None for d in nvme):
        return [
            info(
                "STORAGE_SMALL",
                "memory",
                f"{total:,.0f} GB of NVMe: under 2 TB fills fast with checkpoints and datasets (one 70B model "
                "in bf16 is 140 GB).",
                tuple(d.id for d in nvme),
            )
        ]
    return []
