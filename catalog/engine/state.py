"""Computed state shared by the checks of one ``check()`` run (placement, links, power figures)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .report import Report
from .specs import Context, GpuSpec, Part, PcieSlot, Rig, StorageSpec


@dataclass(slots=True)
class Unit:
    """One physical unit of a part (a part line with quantity 3 gives three units)."""

    part: Part
    index: int  # unit index within its part line
    n: int  # index among units of the same kind in the rig
    label: str
    # Placement / link (GPUs and M.2 drives)
    slot: int | str | None = None  # slot position, or M.2 socket name for drives
    riser: bool = False
    riser_width: int | None = None
    riser_gen: int | None = None
    auto: bool = False
    share: int = 1  # >1: cards sharing one slot through a bifurcation riser
    width: int = 0
    gen: int | None = None
    source: str | None = None
    gbps: float | None = None
    # Power
    psu: int | None = None

    @property
    def spec(self):
        return self.part.spec


@dataclass(slots=True)
class State:
    rig: Rig
    context: Context
    report: Report
    gpus: list[Unit] = field(default_factory=list)
    drives: list[Unit] = field(default_factory=list)  # drives that need an M.2 socket
    slots: dict[int, PcieSlot] = field(default_factory=dict)  # board slots by position (maybe synthesised)
    slot_width: dict[int | str, int] = field(default_factory=dict)  # effective width after lane rules
    populated: set = field(default_factory=set)  # slot positions and M.2 names in use
    uncurated: bool = False
    rows_known: bool = True  # False: the board's slot rows are unknown (firmware-derived table)
    board_missing: bool = True
    obstructed: list[tuple[Unit, Unit]] = field(default_factory=list)  # (covered card, covering card)
    unplaced: list[Unit] = field(default_factory=list)
    missing_slot: list[Unit] = field(default_factory=list)
    too_narrow: list[Unit] = field(default_factory=list)
    case_overhang: list[tuple[Unit, int]] = field(default_factory=list)
    bifurcation: list[dict] = field(default_factory=list)
    sharing: list[dict] = field(default_factory=list)
    drives_unplaced: list[Unit] = field(default_factory=list)
    board_spec: object = None  # BoardSpec of the rig's board (cached: read in hot loops)
    case_rows: int | None = None  # the case's expansion slots
    # Power figures filled by power.py and read by cost.py
    dc_sustained_w: float = 0.0
    wall_w: float = 0.0
    psu_loads: list[dict] = field(default_factory=list)


def unit_label(part: Part, index: int) -> str:
    return part.name if part.quantity == 1 else f"{part.name} #{index + 1}"


def build_state(rig: Rig, context: Context, report: Report) -> State:
    state = State(rig, context, report)
    board = rig.board
    state.board_spec = board.spec if board is not None else None
    case = rig.case
    state.case_rows = case.spec.expansion_slots if case is not None else None
    n = 0
    d = 0
    # GPUs of one name are numbered across the build, not per line: a line split by mount (one card on a
    # riser) still reads "#1" and "#2", as the configurator's cards do.
    same_name = Counter(p.name for p in rig.parts if p.category == "gpu" for _ in range(p.quantity))
    seen: Counter = Counter()
    for part in rig.parts:
        if part.category == "gpu" and isinstance(part.spec, GpuSpec):
            for i in range(part.quantity):
                seen[part.name] += 1
                label = part.name if same_name[part.name] == 1 else f"{part.name} #{seen[part.name]}"
                state.gpus.append(Unit(part, i, n, label))
                n += 1
        elif part.category == "storage" and isinstance(part.spec, StorageSpec):
            s = part.spec
            needs_m2 = s.form_factor == "m2" or (s.form_factor is None and s.interface == "nvme")
            if needs_m2:
                for i in range(part.quantity):
                    state.drives.append(Unit(part, i, d, unit_label(part, i)))
                    d += 1
    return state


def fmt_w(x: float) -> str:
    return f"{x:,.0f} W"


def fmt_num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}".rstrip("0").rstrip(".")
