"""Engine output: Severity, Finding and Report (findings plus computed figures, JSON-ready)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"  # will not work, will not fit, or unsafe
    WARNING = "warning"  # works with a real penalty or risk
    INFO = "info"  # advice


SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


# Every finding code the engine emits: code -> (severity, category, when). A public contract: docs/findings.md
# (a test keeps that table equal to this registry).
CODES: dict[str, tuple[Severity, str, str]] = {
    "SOCKET_MISMATCH": (Severity.ERROR, "fit", "CPU socket differs from the board's"),
    "MEMORY_TYPE_MISMATCH": (Severity.ERROR, "fit", "DDR4 kit on a DDR5 board, or the reverse"),
    "MEMORY_REGISTERED_MISMATCH": (
        Severity.ERROR,
        "fit",
        "registered (RDIMM) kit on a UDIMM-only board, or the reverse",
    ),
    "MEMORY_SLOTS_EXCEEDED": (Severity.ERROR, "fit", "more modules than DIMM slots"),
    "MEMORY_CAPACITY_EXCEEDED": (Severity.ERROR, "fit", "more RAM than the board or CPU supports"),
    "FORM_FACTOR_MISMATCH": (Severity.ERROR, "fit", "the case does not take the board's form factor"),
    "GPU_TOO_LONG": (Severity.ERROR, "fit", "card length exceeds the case's maximum"),
    "COOLER_TOO_TALL": (Severity.ERROR, "fit", "cooler height exceeds the case's maximum"),
    "COOLER_SOCKET_UNSUPPORTED": (Severity.ERROR, "fit", "cooler does not list the CPU socket"),
    "SLOTS_EXHAUSTED": (Severity.ERROR, "fit", "more PCIe cards than usable slots, risers counted"),
    "GPU_SLOT_OBSTRUCTED": (
        Severity.ERROR,
        "fit",
        "a card's thickness covers a slot that holds another card",
    ),
    "M2_SLOTS_EXCEEDED": (Severity.ERROR, "fit", "more M.2 drives than M.2 sockets"),
    "PSU_MISSING": (Severity.ERROR, "power", "a build with GPUs but no PSU"),
    "CPU_MISSING": (Severity.ERROR, "fit", "a build with GPUs but no CPU"),
    "BOARD_MISSING": (Severity.ERROR, "fit", "a build with GPUs but no motherboard"),
    "PSU_INSUFFICIENT": (Severity.ERROR, "power", "sustained load above a PSU's rating"),
    "PSU_CONNECTORS_INSUFFICIENT": (Severity.ERROR, "power", "not enough 8-pin / 12V-2x6 outputs"),
    "PSU_ASSIGNMENT_INVALID": (Severity.ERROR, "power", "a GPU assigned to a PSU unit the build lacks"),
    "CIRCUIT_OVERLOAD": (Severity.ERROR, "power", "wall draw above the circuit's continuous rating"),
    "CIRCUIT_NEAR_LIMIT": (Severity.WARNING, "power", "wall draw above 80 % of the continuous rating"),
    "PSU_HEADROOM_LOW": (Severity.WARNING, "power", "sustained load above 80 % of PSU capacity"),
    "TRANSIENT_RISK": (Severity.WARNING, "power", "GPU transients exceed what the PSU rides through"),
    "MULTI_PSU": (Severity.INFO, "power", "several PSUs: which powers what"),
    "POWER_LIMIT": (Severity.INFO, "power", "a GPU power limit: watts saved and speed kept"),
    "PSU_EFFICIENCY_PAYBACK": (Severity.INFO, "cost", "savings and payback of a higher efficiency tier"),
    "CPU_LANES_EXCEEDED": (Severity.WARNING, "lanes", "devices ask for more CPU lanes than the CPU has"),
    "GPU_LINK_DEGRADED": (Severity.WARNING, "lanes", "a GPU gets fewer than 8 lanes"),
    "GPU_ON_CHIPSET": (Severity.WARNING, "lanes", "a GPU hangs off the chipset"),
    "GPU_LINK_X1": (Severity.WARNING, "lanes", "a GPU on an x1 link"),
    "LANE_SHARING": (Severity.WARNING, "lanes", "a populated slot or M.2 socket disables or narrows another"),
    "BIFURCATION_UNSUPPORTED": (Severity.ERROR, "lanes", "a slot split the board does not support"),
    "BIFURCATION_UNVERIFIED": (Severity.WARNING, "lanes", "a slot split whose BIOS support is not curated"),
    "RISER_GEN_LIMIT": (Severity.WARNING, "lanes", "a riser slower than the link it carries"),
    "TOPOLOGY_UNCURATED": (Severity.INFO, "lanes", "the board's lane sharing is not curated"),
    "TOPOLOGY_FIRMWARE": (
        Severity.INFO,
        "lanes",
        "the board's slot table comes from firmware: widths checked, rows and sharing unknown",
    ),
    "PARALLELISM_BANDWIDTH": (Severity.WARNING, "interconnect", "model parallelism limited by GPU links"),
    "NO_P2P": (Severity.INFO, "interconnect", "GPUs without peer-to-peer"),
    "GPU_SPACING_TIGHT": (Severity.WARNING, "thermal", "less than one free slot under an open-air card"),
    "CASE_AIRFLOW_LOW": (Severity.WARNING, "thermal", "case air temperature rise above 10 C"),
    "COOLER_UNDERRATED": (Severity.WARNING, "thermal", "cooler rating below the CPU's sustained power"),
    "GPU_SAG": (Severity.INFO, "fit", "long or heavy card without a brace"),
    "RAM_BELOW_2X_VRAM": (Severity.WARNING, "memory", "system RAM below twice the total VRAM"),
    "RAM_INSUFFICIENT_FOR_OFFLOAD": (Severity.WARNING, "workload", "a workload's CPU offload needs more RAM"),
    "STORAGE_SMALL": (Severity.INFO, "memory", "less than 2 TB of NVMe"),
    "NO_NVME": (Severity.WARNING, "memory", "no NVMe drive"),
}

# Findings that only say a category is still absent from the build. No part is at fault for them: a part
# picker judges a candidate without them (a GPU is not "incompatible" because the build has no CPU yet).
MISSING_PART_CODES = frozenset({"PSU_MISSING", "CPU_MISSING", "BOARD_MISSING"})


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    category: str  # lanes | power | thermal | fit | memory | interconnect | cost | workload
    message: str
    parts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "category": self.category,
            "message": self.message,
            "parts": list(self.parts),
        }


def error(code: str, category: str, message: str, parts: tuple[str, ...] | list[str] = ()) -> Finding:
    return Finding(code, Severity.ERROR, category, message, tuple(parts))


def warning(code: str, category: str, message: str, parts: tuple[str, ...] | list[str] = ()) -> Finding:
    return Finding(code, Severity.WARNING, category, message, tuple(parts))


def info(code: str, category: str, message: str, parts: tuple[str, ...] | list[str] = ()) -> Finding:
    return Finding(code, Severity.INFO, category, message, tuple(parts))


@dataclass(slots=True)
class Report:
    """Findings and figures. Figures are plain dicts/lists so that ``to_dict`` is cheap and JSON-safe.

    lanes: [{part, unit, label, kind ("gpu"|"nvme"), slot (int | "riser" | M.2 name), riser (bool),
             width, gen, source ("cpu"|"chipset"|None), gbps}]
    placement: [{part, unit, label, slot, riser, auto}]
    power: {psus: [{unit, part, rating_w, efficiency, atx3, sustained_w, transient_w, load_pct, wall_w,
            powers: [...] }], sustained_w, transient_w, wall_w, amps, circuit, circuit_limit_w, headroom_w,
            gpus: [{part, unit, board_power_w, limit_w, transient_w, transient_assumed, speed_kept}]}
    thermal: {gpus: [{part, unit, slot, gap_slots, cooler}], heat_into_case_w, airflow_cfm,
              case_air_rise_c, open_frame}
    capacity: {vram_gb, ram_gb, nvme_gb, storage_gb}
    compute: {bf16_tflops, gpus_with_unknown_tflops}
    interconnect: {pairs: [{a, b, path, gbps}], parallelism: {data, tensor, pipeline, expert}}
    workloads: filled by workload.py
    cost: {yearly_kwh, yearly_cost, currency, kwh_price, hours_per_day, efficiency_payback}
    """

    findings: list[Finding] = field(default_factory=list)
    lanes: list[dict] = field(default_factory=list)
    placement: list[dict] = field(default_factory=list)
    power: dict = field(default_factory=dict)
    thermal: dict = field(default_factory=dict)
    capacity: dict = field(default_factory=dict)
    compute: dict = field(default_factory=dict)
    interconnect: dict = field(default_factory=dict)
    workloads: list = field(default_factory=list)
    cost: dict = field(default_factory=dict)
    not_checked: list[str] = field(default_factory=list)

    def sort(self) -> None:
        self.findings.sort(key=lambda f: SEVERITY_ORDER[f.severity])

    @property
    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def has(self, code: str) -> bool:
        return any(f.code == code for f in self.findings)

    def find(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        findings = sorted(self.findings, key=lambda f: SEVERITY_ORDER[f.severity])
        return {
            "findings": [f.to_dict() for f in findings],
            "lanes": self.lanes,
            "placement": self.placement,
            "power": self.power,
            "thermal": self.thermal,
            "capacity": self.capacity,
            "compute": self.compute,
            "interconnect": self.interconnect,
            "workloads": self.workloads,
            "cost": self.cost,
            "not_checked": list(self.not_checked),
        }
