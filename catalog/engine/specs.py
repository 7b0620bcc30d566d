"""Engine input types: frozen part specs, parts with placement, the rig, and the check context.

Interface note. Every spec class (GpuSpec, CpuSpec, BoardSpec with PcieSlot / M2Socket / LaneRule,
MemorySpec, StorageSpec, PsuSpec, CaseSpec, CoolerSpec, FanSpec, RiserSpec, BraceSpec) is a frozen
dataclass whose field names are exactly the spec fields of docs/catalogue-data-format.md
(the inline `spec` of docs/api.md); every field is optional and None means unknown (never 0). Lists in
the data format become tuples here. Build specs from untrusted dicts only with
``spec_from_dict(category, data)`` (strict: unknown field, wrong type, bool given for a number,
NaN/inf, out-of-range values raise ``SpecError(field="gpu.vram_gb", message=...)``); the API's
inline parts and the catalogue adapters both go through it. A ``Part`` is one line of a build
(``id`` is the slug or any unique string, ``quantity`` units of the same spec) with optional
placement per unit (``slots``, ``riser``, ``riser_width``, ``psu``, ``power_limit_w``);
``part_from_dict`` validates an inline part with placement. A ``Rig`` is a tuple of parts with
convenience accessors (``rig.gpus``, ``rig.cpu``, ``rig.board``, ``rig.psus`` ...). A ``Context``
holds the wall circuit (volts, amps, label), electricity price, hours per day, currency and the
workload requests (opaque here: passed unchanged to workload.py); build it with
``parse_context(dict)``. Category names: gpu cpu motherboard memory storage psu case cooler fan
riser brace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from catalog.engine.errors import InputError


class SpecError(InputError):
    """Invalid part spec; ``field`` names the offending field (e.g. "gpu.vram_gb")."""


CATEGORIES = (
    "gpu",
    "cpu",
    "motherboard",
    "memory",
    "storage",
    "psu",
    "case",
    "cooler",
    "fan",
    "riser",
    "brace",
)

GPU_COOLERS = ("blower", "axial", "flow_through", "hybrid", "waterblock", "passive")
MEMORY_TYPES = ("DDR3", "DDR4", "DDR5")
FORM_FACTORS = ("ATX", "E-ATX", "EEB", "SSI-EEB", "CEB", "SSI-CEB", "Micro-ATX", "Mini-ITX", "XL-ATX")
EFFICIENCY_TIERS = ("standard", "bronze", "silver", "gold", "platinum", "titanium")
STORAGE_INTERFACES = ("nvme", "sata_ssd", "hdd")
STORAGE_FORM_FACTORS = ("m2", "2.5", "3.5", "u2")
LANE_SOURCES = ("cpu", "chipset")
BIFURCATION_MODES = ("x8x8", "x8x4x4", "x4x4x8", "x4x4x4x4", "x4x4")
# Where a board's slot row, M.2 socket or lane rule comes from, strongest first (docs/board-evidence.md).
# "firmware": the board's DMI slot table (linux-hardware.org); "estimated": a guess, never silently trusted.
EVIDENCE_KINDS = ("manual", "spec_page", "review", "firmware", "estimated")
RISER_KINDS = ("cable", "x1_extender", "bifurcation")
COOLER_TYPES = ("air", "aio")
LINK_WIDTHS = (1, 2, 4, 8, 16)


# ---------------------------------------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GpuSpec:
    vram_gb: float | None = None
    memory_bandwidth_gbps: float | None = None
    bf16_tflops: float | None = None  # dense, FP32 accumulate
    fp8: bool | None = None
    board_power_w: float | None = None
    transient_peak_w: float | None = None
    slot_width: float | None = None
    length_mm: float | None = None
    cooler: str | None = None
    pcie_gen: int | None = None
    pcie_lanes: int | None = None
    power_8pin: int | None = None
    power_12v2x6: int | None = None
    nvlink: bool | None = None
    p2p: bool | None = None
    weight_g: float | None = None
    chip: str | None = None
    release_year: int | None = None


@dataclass(frozen=True, slots=True)
class CpuSpec:
    socket: str | None = None
    cores: int | None = None
    threads: int | None = None
    tdp_w: float | None = None
    ppt_w: float | None = None
    pcie_gen: int | None = None
    cpu_lanes: int | None = None  # usable for slots and M.2; chipset uplink excluded
    memory_type: str | None = None
    memory_channels: int | None = None
    max_memory_gb: float | None = None
    platform_lanes_note: str | None = None


@dataclass(frozen=True, slots=True)
class PcieSlot:
    position: int  # expansion-slot row from the top (1 = nearest the CPU)
    physical_width: int | None = None
    electrical_width: int | None = None  # best case, nothing shared
    gen: int | None = None
    source: str | None = None  # "cpu" | "chipset"
    bifurcation: tuple[str, ...] | None = None
    evidence: str | None = None  # one of EVIDENCE_KINDS; None = given by the user (custom part)
    # False when the physical row is not known (firmware-derived tables): ``position`` is then only the
    # slot's order, and nothing that needs the row (obstruction, spacing, case fit) may be claimed.
    row_known: bool = True


@dataclass(frozen=True, slots=True)
class M2Socket:
    name: str
    gen: int | None = None
    lanes: int | None = None
    source: str | None = None
    evidence: str | None = None


@dataclass(frozen=True, slots=True)
class LaneRule:
    when: int | str  # slot position or M.2 socket name that, when populated, triggers the rule
    target: int | str
    effect: str  # "disable" | "width"
    width: int | None = None
    evidence: str | None = None


@dataclass(frozen=True, slots=True)
class BoardSpec:
    socket: str | None = None
    chipset: str | None = None
    form_factor: str | None = None
    memory_type: str | None = None
    memory_slots: int | None = None
    max_memory_gb: float | None = None
    chipset_uplink_gbps: float | None = None
    pcie_slots: tuple[PcieSlot, ...] | None = None  # None = topology not curated
    m2_sockets: tuple[M2Socket, ...] | None = None
    lane_rules: tuple[LaneRule, ...] | None = None


@dataclass(frozen=True, slots=True)
class MemorySpec:
    memory_type: str | None = None
    modules: int | None = None
    module_gb: float | None = None
    speed_mts: int | None = None
    registered: bool | None = None  # RDIMM (registered, ECC) rather than unbuffered UDIMM; None unknown


@dataclass(frozen=True, slots=True)
class StorageSpec:
    interface: str | None = None
    pcie_gen: int | None = None
    capacity_gb: float | None = None
    form_factor: str | None = None


@dataclass(frozen=True, slots=True)
class PsuSpec:
    wattage_w: float | None = None
    efficiency: str | None = None
    atx3: bool | None = None
    power_8pin: int | None = None
    power_12v2x6: int | None = None
    form_factor: str | None = None
    modular: bool | str | None = None


@dataclass(frozen=True, slots=True)
class CaseSpec:
    form_factors: tuple[str, ...] | None = None
    max_gpu_length_mm: float | None = None
    max_cooler_height_mm: float | None = None
    expansion_slots: int | None = None
    open_frame: bool | None = None
    fan_mounts: int | None = None
    included_fans: int | None = None


@dataclass(frozen=True, slots=True)
class CoolerSpec:
    cooler_type: str | None = None
    height_mm: float | None = None
    rated_w: float | None = None
    sockets: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class FanSpec:
    airflow_cfm: float | None = None
    size_mm: float | None = None


@dataclass(frozen=True, slots=True)
class RiserSpec:
    pcie_gen: int | None = None
    width: int | None = None
    length_mm: float | None = None
    kind: str | None = None
    bifurcation: str | None = None


@dataclass(frozen=True, slots=True)
class BraceSpec:
    kind: str | None = None


Spec = (
    GpuSpec
    | CpuSpec
    | BoardSpec
    | MemorySpec
    | StorageSpec
    | PsuSpec
    | CaseSpec
    | CoolerSpec
    | FanSpec
    | RiserSpec
    | BraceSpec
)

SPEC_CLASSES: dict[str, type] = {
    "gpu": GpuSpec,
    "cpu": CpuSpec,
    "motherboard": BoardSpec,
    "memory": MemorySpec,
    "storage": StorageSpec,
    "psu": PsuSpec,
    "case": CaseSpec,
    "cooler": CoolerSpec,
    "fan": FanSpec,
    "riser": RiserSpec,
    "brace": BraceSpec,
}


# ---------------------------------------------------------------------------------------------------------
# Parts, rig, context
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Part:
    id: str
    name: str
    category: str
    spec: Any
    quantity: int = 1
    # Placement, per unit (length == quantity when given). None = let the engine decide.
    slots: tuple[int | None, ...] | None = None  # per unit; None (all or one unit) = the engine places it
    riser: bool | None = None  # True: off the board on a riser cable / extender
    riser_width: int | None = None  # 1 = mining x1 extender
    psu: tuple[int, ...] | None = None  # PSU unit index powering each unit (units numbered across PSU items)
    power_limit_w: float | None = None  # GPUs: nvidia-smi power limit
    price: float | None = None  # optional unit price in the context currency (used for payback figures)


def _of(parts: tuple[Part, ...], category: str) -> tuple[Part, ...]:
    return tuple(p for p in parts if p.category == category)


@dataclass(frozen=True, slots=True)
class Rig:
    parts: tuple[Part, ...] = ()

    def of(self, category: str) -> tuple[Part, ...]:
        return _of(self.parts, category)

    @property
    def gpus(self) -> tuple[Part, ...]:
        return _of(self.parts, "gpu")

    @property
    def cpu(self) -> Part | None:
        for p in self.parts:
            if p.category == "cpu":
                return p
        return None

    @property
    def board(self) -> Part | None:
        for p in self.parts:
            if p.category == "motherboard":
                return p
        return None

    @property
    def case(self) -> Part | None:
        for p in self.parts:
            if p.category == "case":
                return p
        return None

    @property
    def cooler(self) -> Part | None:
        for p in self.parts:
            if p.category == "cooler":
                return p
        return None

    @property
    def psus(self) -> tuple[Part, ...]:
        return _of(self.parts, "psu")

    @property
    def memory(self) -> tuple[Part, ...]:
        return _of(self.parts, "memory")

    @property
    def storage(self) -> tuple[Part, ...]:
        return _of(self.parts, "storage")

    @property
    def fans(self) -> tuple[Part, ...]:
        return _of(self.parts, "fan")

    @property
    def risers(self) -> tuple[Part, ...]:
        return _of(self.parts, "riser")

    @property
    def braces(self) -> tuple[Part, ...]:
        return _of(self.parts, "brace")

    def with_part(self, part: Part) -> Rig:
        return Rig(self.parts + (part,))

    def without(self, part_id: str) -> Rig:
        return Rig(tuple(p for p in self.parts if p.id != part_id))


CIRCUITS: dict[str, tuple[float, float]] = {
    "120v-15a": (120.0, 15.0),
    "120v-20a": (120.0, 20.0),
    "230v-10a": (230.0, 10.0),
    "230v-13a": (230.0, 13.0),
    "230v-16a": (230.0, 16.0),
}

DEFAULT_KWH_PRICE = 0.15
DEFAULT_HOURS_PER_DAY = 8.0


@dataclass(frozen=True, slots=True)
class Context:
    circuit_volts: float = 120.0
    circuit_amps: float = 15.0
    circuit_label: str = "120v-15a"
    kwh_price: float = DEFAULT_KWH_PRICE
    hours_per_day: float = DEFAULT_HOURS_PER_DAY
    currency: str = "USD"
    workloads: tuple[Any, ...] = ()
    # Continuous loads at most 80 % of the breaker rating (NEC 210.19/210.20 practice, North America).
    continuous_fraction: float = 0.8
    # Model presets by slug (an estimator.Presets) the workloads name; None: the seed file's. The Django side
    # passes the catalogue's ModelPreset rows, so a preset added in the admin is known to the checks.
    presets: Any = None

    @property
    def circuit_limit_w(self) -> float:
        return self.circuit_volts * self.circuit_amps * self.continuous_fraction

    def with_circuit(self, circuit: str | dict) -> Context:
        volts, amps, label = _parse_circuit(circuit, "context.circuit")
        return replace(self, circuit_volts=volts, circuit_amps=amps, circuit_label=label)


# ---------------------------------------------------------------------------------------------------------
# Strict validation
# ---------------------------------------------------------------------------------------------------------
# Field kinds: ("num", lo, hi, lo_inclusive) | ("int", lo, hi) | ("intset", values) | ("bool",)
#              | ("str", maxlen) | ("choice", values) | ("strlist", maxlen_or_choices) | ("bool_or_str",)
def _num(lo: float, hi: float, lo_inclusive: bool = False) -> tuple:
    return ("num", lo, hi, lo_inclusive)


def _int(lo: int, hi: int) -> tuple:
    return ("int", lo, hi)


_BOOL = ("bool",)
_STR = ("str", 100)
_GEN = _int(1, 6)

FIELDS: dict[str, dict[str, tuple]] = {
    "gpu": {
        "vram_gb": _num(0.1, 1024, True),
        "memory_bandwidth_gbps": _num(1, 100_000, True),
        "bf16_tflops": _num(0.01, 100_000, True),
        "fp8": _BOOL,
        "board_power_w": _num(1, 5000, True),
        "transient_peak_w": _num(1, 5000, True),
        "slot_width": _num(1, 6, True),
        "length_mm": _num(10, 1000, True),
        "cooler": ("choice", GPU_COOLERS),
        "pcie_gen": _GEN,
        "pcie_lanes": ("intset", LINK_WIDTHS),
        "power_8pin": _int(0, 8),
        "power_12v2x6": _int(0, 4),
        "nvlink": _BOOL,
        "p2p": _BOOL,
        "weight_g": _num(1, 20_000, True),
        "chip": ("str", 40),
        "release_year": _int(1990, 2100),
    },
    "cpu": {
        "socket": ("str", 32),
        "cores": _int(1, 512),
        "threads": _int(1, 1024),
        "tdp_w": _num(1, 5000, True),
        "ppt_w": _num(1, 5000, True),
        "pcie_gen": _GEN,
        "cpu_lanes": _int(0, 256),
        "memory_type": ("choice", MEMORY_TYPES),
        "memory_channels": _int(1, 24),
        "max_memory_gb": _num(0.5, 65_536, True),
        "platform_lanes_note": ("str", 1000),
    },
    "motherboard": {
        "socket": ("str", 32),
        "chipset": ("str", 40),
        "form_factor": ("choice", FORM_FACTORS),
        "memory_type": ("choice", MEMORY_TYPES),
        "memory_slots": _int(1, 32),
        "max_memory_gb": _num(0.5, 65_536, True),
        "chipset_uplink_gbps": _num(0.1, 1000, True),
        "pcie_slots": ("slots",),
        "m2_sockets": ("m2",),
        "lane_rules": ("rules",),
    },
    "memory": {
        "memory_type": ("choice", MEMORY_TYPES),
        "modules": _int(1, 32),
        "module_gb": _num(0.25, 1024, True),
        "speed_mts": _int(100, 20_000),
        "registered": _BOOL,
    },
    "storage": {
        "interface": ("choice", STORAGE_INTERFACES),
        "pcie_gen": _GEN,
        "capacity_gb": _num(1, 1_000_000, True),
        "form_factor": ("choice", STORAGE_FORM_FACTORS),
    },
    "psu": {
        "wattage_w": _num(10, 5000, True),
        "efficiency": ("choice", EFFICIENCY_TIERS),
        "atx3": _BOOL,
        "power_8pin": _int(0, 16),
        "power_12v2x6": _int(0, 8),
        "form_factor": ("str", 20),
        "modular": ("bool_or_str",),
    },
    "case": {
        "form_factors": ("strlist", FORM_FACTORS),
        "max_gpu_length_mm": _num(10, 1000, True),
        "max_cooler_height_mm": _num(10, 1000, True),
        "expansion_slots": _int(1, 20),
        "open_frame": _BOOL,
        "fan_mounts": _int(0, 40),
        "included_fans": _int(0, 40),
    },
    "cooler": {
        "cooler_type": ("choice", COOLER_TYPES),
        "height_mm": _num(10, 1000, True),
        "rated_w": _num(1, 2000, True),
        "sockets": ("strlist", 32),
    },
    "fan": {"airflow_cfm": _num(1, 1000, True), "size_mm": _num(10, 1000, True)},
    "riser": {
        "pcie_gen": _GEN,
        "width": ("intset", (1, 4, 8, 16)),
        "length_mm": _num(10, 1000, True),
        "kind": ("choice", RISER_KINDS),
        "bifurcation": ("choice", BIFURCATION_MODES),
    },
    "brace": {"kind": ("str", 40)},
}

_SLOT_FIELDS = {
    "position": _int(1, 16),
    "physical_width": ("intset", (1, 4, 8, 16)),
    "electrical_width": ("intset", LINK_WIDTHS),
    "gen": _GEN,
    "source": ("choice", LANE_SOURCES),
    "bifurcation": ("strlist", BIFURCATION_MODES),
    "evidence": ("choice", EVIDENCE_KINDS),
    "row_known": ("bool",),
}
_M2_FIELDS = {
    "name": ("str", 16),
    "gen": _GEN,
    "lanes": ("intset", (1, 2, 4)),
    "source": ("choice", LANE_SOURCES),
    "evidence": ("choice", EVIDENCE_KINDS),
}
_RULE_FIELDS = {
    "when": ("slot_or_m2",),
    "target": ("slot_or_m2",),
    "effect": ("choice", ("disable", "width")),
    "width": ("intset", (0, *LINK_WIDTHS)),
    "evidence": ("choice", EVIDENCE_KINDS),
}
MAX_LIST_ITEMS = 64


def _value(kind: tuple, value: Any, name: str) -> Any:
    """Validate one scalar/list field value; returns the normalised value."""
    k = kind[0]
    if k == "num":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(name, f"must be a number, got {type(value).__name__}")
        if not math.isfinite(value):
            raise SpecError(name, "must be finite")
        lo, hi, lo_incl = kind[1], kind[2], kind[3]
        if value > hi or value < lo or (value == lo and not lo_incl):
            bound = ">=" if lo_incl else ">"
            raise SpecError(name, f"{value} out of range (must be {bound} {lo} and <= {hi})")
        return float(value)
    if k == "int" or k == "intset":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(name, f"must be an integer, got {type(value).__name__}")
        if k == "int":
            if not kind[1] <= value <= kind[2]:
                raise SpecError(name, f"{value} out of range ({kind[1]} to {kind[2]})")
        elif value not in kind[1]:
            raise SpecError(name, f"{value} not one of {', '.join(str(v) for v in kind[1])}")
        return value
    if k == "bool":
        if not isinstance(value, bool):
            raise SpecError(name, f"must be true or false, got {type(value).__name__}")
        return value
    if k == "str":
        if not isinstance(value, str):
            raise SpecError(name, f"must be a string, got {type(value).__name__}")
        if not value or len(value) > kind[1]:
            raise SpecError(name, f"must be 1 to {kind[1]} characters")
        return value
    if k == "choice":
        if not isinstance(value, str) or value not in kind[1]:
            raise SpecError(name, f"{value!r} not one of {', '.join(kind[1])}")
        return value
    if k == "bool_or_str":
        if isinstance(value, bool):
            return value
        return _value(("str", 20), value, name)
    if k == "strlist":
        if not isinstance(value, list | tuple):
            raise SpecError(name, f"must be a list, got {type(value).__name__}")
        if len(value) > MAX_LIST_ITEMS:
            raise SpecError(name, f"at most {MAX_LIST_ITEMS} items")
        sub = ("choice", kind[1]) if isinstance(kind[1], tuple) else ("str", kind[1])
        return tuple(_value(sub, v, f"{name}[{i}]") for i, v in enumerate(value))
    if k == "slot_or_m2":
        if isinstance(value, str):
            return _value(("str", 16), value, name)
        return _value(_int(1, 16), value, name)
    if k == "slots":
        items = _items(value, name)
        slots = tuple(PcieSlot(**_fields(_SLOT_FIELDS, d, f"{name}[{i}]")) for i, d in enumerate(items))
        positions = [s.position for s in slots]
        if len(set(positions)) != len(positions):
            raise SpecError(name, "slot positions must be unique")
        for i, s in enumerate(slots):
            if s.physical_width and s.electrical_width and s.electrical_width > s.physical_width:
                raise SpecError(f"{name}[{i}].electrical_width", "wider than the physical slot")
        return tuple(sorted(slots, key=lambda s: s.position))
    if k == "m2":
        items = _items(value, name)
        sockets = tuple(M2Socket(**_fields(_M2_FIELDS, d, f"{name}[{i}]")) for i, d in enumerate(items))
        names = [s.name for s in sockets]
        if len(set(names)) != len(names):
            raise SpecError(name, "M.2 socket names must be unique")
        return sockets
    if k == "rules":
        items = _items(value, name)
        rules = []
        for i, d in enumerate(items):
            f = _fields(_RULE_FIELDS, d, f"{name}[{i}]")
            for req in ("when", "target", "effect"):
                if req not in f:
                    raise SpecError(f"{name}[{i}].{req}", "required")
            if f["effect"] == "width" and f.get("width") is None:
                raise SpecError(f"{name}[{i}].width", "required when effect is 'width'")
            rules.append(LaneRule(**f))
        return tuple(rules)
    raise SpecError(name, "unsupported field kind")  # pragma: no cover


def _items(value: Any, name: str) -> list:
    if not isinstance(value, list | tuple):
        raise SpecError(name, f"must be a list, got {type(value).__name__}")
    if len(value) > MAX_LIST_ITEMS:
        raise SpecError(name, f"at most {MAX_LIST_ITEMS} items")
    return list(value)


def _fields(table: dict[str, tuple], data: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SpecError(prefix, f"must be an object, got {type(data).__name__}")
    out: dict[str, Any] = {}
    for key, value in data.items():
        kind = table.get(key) if isinstance(key, str) else None
        if kind is None:
            raise SpecError(f"{prefix}.{key}", "unknown field")
        if value is None:
            continue
        out[key] = _value(kind, value, f"{prefix}.{key}")
    return out


_REQUIRED_NESTED = {"pcie_slots": "position", "m2_sockets": "name"}

# Form-factor spellings the sources use (OpenDB writes "Micro ATX", "EATX", "Mini ITX"; retailers "mATX",
# "uATX", "Extended ATX"), keyed by the spelling in lower case without spaces, hyphens, underscores or dots.
# "Thin Mini-ITX" has the Mini-ITX 170 x 170 mm footprint (Intel Thin Mini-ITX spec), as in the OpenDB
# importer. Anything else stays a 400.
_FORM_FACTOR_ALIASES = {
    "atx": "ATX",
    "standardatx": "ATX",
    "eatx": "E-ATX",
    "extendedatx": "E-ATX",
    "eeb": "EEB",
    "ssieeb": "SSI-EEB",
    "ceb": "CEB",
    "ssiceb": "SSI-CEB",
    "microatx": "Micro-ATX",
    "matx": "Micro-ATX",
    "uatx": "Micro-ATX",
    "\u00b5atx": "Micro-ATX",  # micro sign
    "\u03bcatx": "Micro-ATX",  # Greek mu
    "miniitx": "Mini-ITX",
    "mitx": "Mini-ITX",
    "thinminiitx": "Mini-ITX",
    "xlatx": "XL-ATX",
    "extralargeatx": "XL-ATX",
}


def form_factor_name(value: Any) -> Any:
    """The canonical FORM_FACTORS name for a common spelling ("micro atx" -> "Micro-ATX"); anything else
    is returned as it is (and refused by the strict validation that follows)."""
    if not isinstance(value, str) or len(value) > 40:
        return value
    key = "".join(ch for ch in value.lower() if ch not in " -_.\t")
    return _FORM_FACTOR_ALIASES.get(key, value)


def normalise_spec(category: str, data: Any) -> Any:
    """A copy of a spec dict with form factors spelt canonically (what is stored and validated)."""
    if not isinstance(data, dict):
        return data
    if category == "motherboard" and "form_factor" in data:
        return {**data, "form_factor": form_factor_name(data["form_factor"])}
    if category == "case" and isinstance(data.get("form_factors"), list | tuple):
        return {**data, "form_factors": [form_factor_name(v) for v in data["form_factors"]]}
    return data


def _check_lane_rule_names(values: dict) -> None:
    """A lane rule whose `when` or `target` names a slot or M.2 socket the board does not have would be
    silently ignored by the verdict: refuse it, naming the field."""
    positions = {s.position for s in values.get("pcie_slots") or ()}
    sockets = {m.name for m in values.get("m2_sockets") or ()}
    for i, rule in enumerate(values.get("lane_rules") or ()):
        for key in ("when", "target"):
            name = getattr(rule, key)
            if isinstance(name, int) and name not in positions:
                have = ", ".join(str(p) for p in sorted(positions)) or "none"
                raise SpecError(f"motherboard.lane_rules[{i}].{key}", f"no PCIe slot {name} (slots: {have})")
            if isinstance(name, str) and name not in sockets:
                have = ", ".join(sorted(sockets)) or "none"
                raise SpecError(
                    f"motherboard.lane_rules[{i}].{key}", f"no M.2 socket {name!r} (sockets: {have})"
                )


def spec_from_dict(category: str, data: dict) -> Spec:
    """Strictly validate ``data`` and return the spec dataclass for ``category``."""
    if not isinstance(category, str) or category not in SPEC_CLASSES:
        raise SpecError("category", f"{category!r} not one of {', '.join(CATEGORIES)}")
    data = normalise_spec(category, data)
    if category == "motherboard" and isinstance(data, dict):
        for key, req in _REQUIRED_NESTED.items():
            for i, item in enumerate(data.get(key) or ()):
                if isinstance(item, dict) and item.get(req) is None:
                    raise SpecError(f"motherboard.{key}[{i}].{req}", "required")
    values = _fields(FIELDS[category], data, category)
    if category == "motherboard":
        _check_lane_rule_names(values)
    if category == "gpu":
        bp, tp = values.get("board_power_w"), values.get("transient_peak_w")
        if bp is not None and tp is not None and tp < bp:
            raise SpecError("gpu.transient_peak_w", f"{tp:g} W is below board_power_w {bp:g} W")
    if category == "cpu":
        c, t = values.get("cores"), values.get("threads")
        if c is not None and t is not None and t < c:
            raise SpecError("cpu.threads", "fewer threads than cores")
    return SPEC_CLASSES[category](**values)


_PART_KEYS = {
    "id",
    "slug",
    "category",
    "name",
    "spec",
    "quantity",
    "slots",
    "riser",
    "riser_width",
    "psu",
    "power_limit_w",
    "price",
}


def part_from_dict(data: dict, index: int = 0, prefix: str = "inline_parts") -> Part:
    """Validate an inline part ({category, name, spec, quantity, placement...}) into a ``Part``."""
    where = f"{prefix}[{index}]"
    if not isinstance(data, dict):
        raise SpecError(where, "must be an object")
    for key in data:
        if key not in _PART_KEYS:
            raise SpecError(f"{where}.{key}", "unknown field")
    category = data.get("category")
    if not isinstance(category, str) or category not in SPEC_CLASSES:
        raise SpecError(f"{where}.category", f"{category!r} not one of {', '.join(CATEGORIES)}")
    name = _value(("str", 200), data.get("name", category), f"{where}.name")
    spec_data = data.get("spec", {})
    try:
        spec = spec_from_dict(category, spec_data)
    except SpecError as exc:
        raise SpecError(f"{where}.spec.{exc.field.split('.', 1)[-1]}", exc.message) from None
    quantity = _value(_int(1, 16), data.get("quantity", 1), f"{where}.quantity")
    pid = data.get("id", data.get("slug")) or f"inline-{index}"
    pid = _value(("str", 200), pid, f"{where}.id")
    slots = data.get("slots")
    if slots is not None:
        # null for a unit: the engine places that unit (the others stay where they were put)
        slots = tuple(
            None if s is None else _value(_int(1, 16), s, f"{where}.slots[{i}]")
            for i, s in enumerate(_items(slots, "s"))
        )
        if len(slots) != quantity:
            raise SpecError(f"{where}.slots", f"needs one slot per unit ({quantity})")
    psu = data.get("psu")
    if psu is not None:
        psu = tuple(_value(_int(0, 63), s, f"{where}.psu[{i}]") for i, s in enumerate(_items(psu, "p")))
        if len(psu) != quantity:
            raise SpecError(f"{where}.psu", f"needs one PSU index per unit ({quantity})")
    riser = data.get("riser")
    if riser is not None:
        riser = _value(_BOOL, riser, f"{where}.riser")
    riser_width = data.get("riser_width")
    if riser_width is not None:
        riser_width = _value(("intset", (1, 4, 8, 16)), riser_width, f"{where}.riser_width")
    power_limit = data.get("power_limit_w")
    if power_limit is not None:
        if category != "gpu":
            raise SpecError(f"{where}.power_limit_w", "only GPUs take a power limit")
        power_limit = _value(_num(10, 5000, True), power_limit, f"{where}.power_limit_w")
    price = data.get("price")
    if price is not None:
        price = _value(_num(0, 10_000_000, True), price, f"{where}.price")
    return Part(
        id=pid,
        name=name,
        category=category,
        spec=spec,
        quantity=quantity,
        slots=slots,
        riser=riser,
        riser_width=riser_width,
        psu=psu,
        power_limit_w=power_limit,
        price=price,
    )


def _parse_circuit(value: Any, name: str) -> tuple[float, float, str]:
    if isinstance(value, str):
        if value not in CIRCUITS:
            raise SpecError(name, f"{value!r} not one of {', '.join(CIRCUITS)} or {{volts, amps}}")
        volts, amps = CIRCUITS[value]
        return volts, amps, value
    if isinstance(value, dict):
        for key in value:
            if key not in ("volts", "amps"):
                raise SpecError(f"{name}.{key}", "unknown field")
        if "volts" not in value or "amps" not in value:
            raise SpecError(name, "custom circuit needs volts and amps")
        volts = _value(_num(90, 480, True), value["volts"], f"{name}.volts")
        amps = _value(_num(1, 100, True), value["amps"], f"{name}.amps")
        return volts, amps, f"{volts:g}v-{amps:g}a"
    raise SpecError(name, "must be a circuit name or {volts, amps}")


_CONTEXT_KEYS = ("circuit", "kwh_price", "hours_per_day", "currency", "workloads")


def parse_context(data: dict | None) -> Context:
    """Strictly validate a context dict (all keys optional; default circuit 120v-15a)."""
    if data is None:
        return Context()
    if not isinstance(data, dict):
        raise SpecError("context", "must be an object")
    for key in data:
        if key not in _CONTEXT_KEYS:
            raise SpecError(f"context.{key}", "unknown field")
    volts, amps, label = _parse_circuit(data.get("circuit", "120v-15a"), "context.circuit")
    kwh = data.get("kwh_price")
    kwh = DEFAULT_KWH_PRICE if kwh is None else _value(_num(0, 100, True), kwh, "context.kwh_price")
    hours = data.get("hours_per_day")
    hours = (
        DEFAULT_HOURS_PER_DAY if hours is None else _value(_num(0, 24, True), hours, "context.hours_per_day")
    )
    currency = data.get("currency") or "USD"
    if (
        not isinstance(currency, str)
        or len(currency) != 3
        or not currency.isalpha()
        or not currency.isupper()
    ):
        raise SpecError("context.currency", "must be a 3-letter upper-case currency code")
    workloads = data.get("workloads") or ()
    if not isinstance(workloads, list | tuple):
        raise SpecError("context.workloads", "must be a list")
    if len(workloads) > 16:
        raise SpecError("context.workloads", "at most 16 workloads")
    for i, w in enumerate(workloads):
        if not isinstance(w, dict):
            raise SpecError(f"context.workloads[{i}]", "must be an object")
    return Context(volts, amps, label, kwh, hours, currency, tuple(workloads))


__all__ = [
    "CATEGORIES",
    "CIRCUITS",
    "BoardSpec",
    "BraceSpec",
    "CaseSpec",
    "Context",
    "CoolerSpec",
    "CpuSpec",
    "FanSpec",
    "GpuSpec",
    "LaneRule",
    "M2Socket",
    "MemorySpec",
    "Part",
    "PcieSlot",
    "PsuSpec",
    "Rig",
    "RiserSpec",
    "SpecError",
    "StorageSpec",
    "form_factor_name",
    "normalise_spec",
    "parse_context",
    "part_from_dict",
    "spec_from_dict",
]
