"""PCIe topology: card and M.2 placement, lane rules, bifurcation, risers, link width/gen and GB/s.

``place(state)`` runs once per check; the ``check_*`` functions read what it computed.
"""

from __future__ import annotations

from .report import Finding, error, info, warning
from .specs import BoardSpec, CpuSpec, PcieSlot, RiserSpec
from .state import State, Unit
from .wording import plural

# PCIe throughput per lane and direction, GB/s. Gen1/2 use 8b/10b, gen3+ 128b/130b encoding:
# 2.5 GT/s*0.8/8, 5*0.8/8, 8*128/130/8, 16*..., 32*... (PCI-SIG base specs; DESIGN.md "Physics").
# Gen6 (64 GT/s PAM4, FLIT mode) is taken as 2x gen5 before FLIT overhead.
GBPS_PER_LANE = {1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.877}

# Lane split of one slot for each bifurcation mode.
MODE_WIDTHS = {
    "x8x8": (8, 8),
    "x4x4": (4, 4),  # an x8 slot split in two
    "x8x4x4": (8, 4, 4),
    "x4x4x8": (4, 4, 8),
    "x4x4x4x4": (4, 4, 4, 4),
}
DEFAULT_GPU_THICKNESS = 2.0  # unknown slot_width: the thinnest full-height GPU; said in not_checked
SIDE_INTAKE_COOLERS = ("axial", "flow_through")


def link_gbps(width: int, gen: int | None) -> float | None:
    if gen is None or width <= 0:
        return None
    return round(width * GBPS_PER_LANE[gen], 2)


def _min_gen(*gens: int | None) -> int | None:
    known = [g for g in gens if g is not None]
    return min(known) if known else None


def thickness(unit: Unit) -> float:
    return unit.spec.slot_width or DEFAULT_GPU_THICKNESS


# ---------------------------------------------------------------------------------------------------------
# Topology
# ---------------------------------------------------------------------------------------------------------
def _synthesised_slots(cpu: CpuSpec | None, count: int) -> dict[int, PcieSlot]:
    """Conservative reading for a board without curated slots: one CPU x16 slot, the others chipset x4,
    on a 3-row pitch. Workstation CPUs (48+ usable lanes) wire all their slots to the CPU."""
    gen = cpu.pcie_gen if cpu else None
    many_lanes = bool(cpu and cpu.cpu_lanes and cpu.cpu_lanes >= 48)
    slots = {1: PcieSlot(1, 16, 16, gen, "cpu", None)}
    for i in range(1, max(count, 1)):
        pos = 1 + 3 * i
        if pos > 16:
            break
        if many_lanes:
            slots[pos] = PcieSlot(pos, 16, 16, gen, "cpu", None)
        else:
            slots[pos] = PcieSlot(pos, 16, 4, min(gen, 3) if gen else None, "chipset", None)
    return slots


def _rule_effects(board: BoardSpec | None, populated: set) -> dict[int | str, int]:
    """Effective widths changed by lane rules for the populated set: target -> width (0 = disabled)."""
    out: dict[int | str, int] = {}
    if board is None or not board.lane_rules:
        return out
    for r in board.lane_rules:
        if r.when in populated:
            w = 0 if r.effect == "disable" else (r.width or 0)
            prev = out.get(r.target)
            out[r.target] = w if prev is None else min(prev, w)
    return out


def _slot_eff_width(state: State, pos: int, populated: set) -> int:
    slot = state.slots[pos]
    base = slot.electrical_width or slot.physical_width or 16
    eff = _rule_effects(state.board_spec, populated).get(pos)
    return base if eff is None else min(base, eff)


def _phys(slot: PcieSlot) -> int:
    return slot.physical_width or slot.electrical_width or 16


# ---------------------------------------------------------------------------------------------------------
# Placement
# ---------------------------------------------------------------------------------------------------------
def row_note(state: State, pos) -> str:
    """The caveat a finding about slot ``pos`` carries when that slot's row rests on a guess."""
    slot = state.slots.get(pos)
    if slot is not None and slot.evidence == "estimated":
        return f" (Slot row {pos} is estimated, not read from the board's manual.)"
    return ""


def _covering(placed: list[Unit], pos: int, riser: bool, rows_known: bool = True) -> Unit | None:
    """The card above ``pos`` whose body covers it. A card occupies rows [p, p + thickness); a card
    mounted in ``pos`` needs its row free, a riser's low plug only needs part of the row free. Where the
    board's rows are unknown nothing can be said to cover anything."""
    if not rows_known:
        return None
    for other in placed:
        if other.slot is None or other.riser or other.slot >= pos:
            continue
        reach = other.slot + thickness(other)
        if (pos + 1 <= reach) if riser else (pos < reach):
            return other
    return None


def _conflicts(state: State, placed: list[Unit], unit: Unit, pos: int, riser: bool) -> Unit | None:
    """A placed card that blocks ``pos``, or that a card mounted at ``pos`` would cover."""
    above = _covering(placed, pos, riser, state.rows_known)
    if above is not None:
        return above
    for other in placed:
        if other.slot == pos:
            return other
        if not state.rows_known:
            continue
        if not riser and other.slot is not None and pos < other.slot < pos + thickness(unit):
            return other
    return None


def _gap_ok(placed: list[Unit], unit: Unit, pos: int, rows_known: bool = True) -> bool:
    """At least one free slot to the next card where the upper card's fans face it (unknown rows: not
    judged)."""
    if not rows_known:
        return True
    for other in placed:
        if other.slot is None or other.riser:
            continue
        p = other.slot
        if p < pos and other.spec.cooler in SIDE_INTAKE_COOLERS and pos - (p + thickness(other)) < 1:
            return False
        if p > pos and unit.spec.cooler in SIDE_INTAKE_COOLERS and p - (pos + thickness(unit)) < 1:
            return False
    return True


def _fits_case(state: State, unit: Unit, pos: int) -> bool:
    rows = state.case_rows
    if rows is None or unit.riser or not state.rows_known:
        return True
    return pos + thickness(unit) - 1 <= rows + 1e-9


def _drives_will_disable(state: State, board: BoardSpec | None, pos: int) -> bool:
    """Will the build's M.2 drives need a socket that disables slot ``pos``? They do when the board's other
    sockets are fewer than the drives (drives are placed after the GPUs, so a GPU placed there would end up
    switched off: ASRock B450 Steel Legend, M2_1 disables PCIE4 with two drives in two sockets)."""
    if board is None or not board.lane_rules or not state.drives:
        return False
    names = {s.name for s in board.m2_sockets or ()}
    return any(
        r.target == pos and r.when in names and r.effect == "disable" and len(names) - 1 < len(state.drives)
        for r in board.lane_rules
    )


def _harms_placed(state: State, board: BoardSpec | None, pos: int | str, placed_slots: set) -> bool:
    """Would populating ``pos`` disable a populated slot or narrow a GPU slot below x8?"""
    if board is None or not board.lane_rules:
        return False
    for r in board.lane_rules:
        if r.when == pos and r.target in placed_slots:
            if r.effect == "disable" or (r.width or 0) < 8:
                return True
    return False


def _place_gpus(state: State) -> None:
    board = state.board_spec
    placed: list[Unit] = []
    # Honour user placement first.
    auto_units: list[Unit] = []
    for u in state.gpus:
        part = u.part
        u.riser = bool(part.riser) or part.riser_width is not None
        u.riser_width = part.riser_width
        if part.slots is not None and part.slots[u.index] is not None:
            u.slot = part.slots[u.index]
            u.auto = False
            placed.append(u)
        else:
            u.auto = True
            auto_units.append(u)
    by_slot: dict[int, list[Unit]] = {}
    for u in placed:
        by_slot.setdefault(u.slot, []).append(u)
    for units in by_slot.values():
        if len(units) > 1:  # cards sharing a slot sit on a bifurcation riser
            for u in units:
                u.riser = True
    # Automatic placement: CPU lanes first, widest links, room between cards, no obstruction.
    for u in auto_units:
        populated = set(by_slot)
        # Score: a blocked slot (obstruction, a rule that disables / starves a placed card, off the end of
        # the case) last; then CPU slots of x8+; then room for the fans; then width; then nearest the CPU.
        best = None
        placed_slots = set(by_slot)
        for pos, slot in state.slots.items():
            if pos in by_slot:
                continue
            need = u.riser_width if (u.riser and u.riser_width) else 16
            if _phys(slot) < min(need, 16):
                continue
            eff = _slot_eff_width(state, pos, populated | {pos})
            if eff == 0:
                continue
            blocked = (
                _conflicts(state, placed, u, pos, u.riser) is not None
                or _harms_placed(state, board, pos, placed_slots)
                or not _fits_case(state, u, pos)
                or _drives_will_disable(state, board, pos)
            )
            good_lanes = slot.source == "cpu" and eff >= 8
            tight = not u.riser and not _gap_ok(placed, u, pos, state.rows_known)
            score = (blocked, not good_lanes, tight, -eff, pos)
            if best is None or score < best[0]:
                best = (score, pos)
        chosen = best[1] if best is not None else None
        if chosen is None:
            state.unplaced.append(u)
            continue
        u.slot = chosen
        placed.append(u)
        by_slot[chosen] = [u]
    # Obstruction and case overhang for the final placement.
    for u in placed:
        if u.slot not in state.slots:
            state.missing_slot.append(u)
            continue
        if not u.riser and _phys(state.slots[u.slot]) < 16:
            state.too_narrow.append(u)
        if not u.riser and not _fits_case(state, u, u.slot):
            rows = state.rig.case.spec.expansion_slots
            state.case_overhang.append((u, rows))
        cover = _covering(placed, u.slot, u.riser, state.rows_known)
        if cover is not None:
            state.obstructed.append((u, cover))
    state.populated = set(by_slot)


def _place_drives(state: State) -> None:
    board = state.board_spec
    sockets = list(board.m2_sockets or ()) if board else []
    sockets.sort(key=lambda s: (s.source != "cpu", -(s.lanes or 0), -(s.gen or 0), s.name))
    gpu_slots = {u.slot for u in state.gpus if u.slot is not None}
    used: set[str] = set()
    for d in state.drives:
        chosen = None
        for strict in (True, False):
            for s in sockets:
                if s.name in used:
                    continue
                if strict and _harms_gpu_width(board, s.name, gpu_slots, state):
                    continue
                chosen = s
                break
            if chosen is not None:
                break
        if chosen is None:
            state.drives_unplaced.append(d)
            continue
        used.add(chosen.name)
        d.slot = chosen.name
        d.auto = True
        d.source = chosen.source
        d.width = chosen.lanes or 4
        cpu = state.rig.cpu
        cpu_gen = cpu.spec.pcie_gen if cpu and chosen.source == "cpu" else None
        d.gen = _min_gen(d.spec.pcie_gen, chosen.gen, cpu_gen)
    state.populated |= used


def _harms_gpu_width(board: BoardSpec | None, name: str, gpu_slots: set, state: State) -> bool:
    if board is None or not board.lane_rules:
        return False
    for r in board.lane_rules:
        if r.when == name and r.target in gpu_slots:
            if r.effect == "disable":
                return True
            slot = state.slots.get(r.target)
            base = (slot.electrical_width or 16) if slot else 16
            if (r.width or 0) < base:
                return True
    return False


def _links(state: State) -> None:
    board = state.board_spec
    cpu = state.rig.cpu.spec if state.rig.cpu else None
    effects = _rule_effects(board, state.populated)
    # Riser parts are handed to riser-mounted cards in order.
    riser_specs: list[RiserSpec] = []
    for p in state.rig.risers:
        riser_specs.extend([p.spec] * p.quantity)
    groups: dict[int, list[Unit]] = {}
    for u in state.gpus:
        if u.slot is not None:
            groups.setdefault(u.slot, []).append(u)
    ri = 0
    for pos, units in groups.items():
        slot = state.slots.get(pos)
        if slot is None:
            for u in units:
                u.width = 0
            continue
        base = slot.electrical_width or slot.physical_width or 16
        eff = effects.get(pos)
        slot_w = base if eff is None else min(base, eff)
        state.slot_width[pos] = slot_w
        shares: tuple[int, ...] = (slot_w,)
        if len(units) > 1:
            shares = _bifurcate(state, slot, units, slot_w)
        for k, u in enumerate(units):
            g: RiserSpec | None = None
            if u.riser or len(units) > 1:
                u.riser = True
                if ri < len(riser_specs):
                    g = riser_specs[ri]
                    ri += 1
            u.riser_gen = g.pcie_gen if g else None
            if u.riser_width is None and g is not None and g.width is not None:
                u.riser_width = g.width
            u.share = len(units)
            width = shares[k] if k < len(shares) else 0
            width = min(width, u.spec.pcie_lanes or 16)
            if u.riser_width is not None:
                width = min(width, u.riser_width)
            u.width = width
            u.source = slot.source
            cpu_gen = cpu.pcie_gen if (cpu and slot.source == "cpu") else None
            u.gen = _min_gen(u.spec.pcie_gen, slot.gen, cpu_gen, u.riser_gen)
            u.gbps = link_gbps(width, u.gen)
    for pos, slot in state.slots.items():
        if pos not in state.slot_width:
            eff = effects.get(pos)
            base = slot.electrical_width or slot.physical_width or 16
            state.slot_width[pos] = base if eff is None else min(base, eff)
    for d in state.drives:
        if d.slot is not None:
            eff = effects.get(d.slot)
            if eff is not None:
                d.width = min(d.width, eff)
            d.gbps = link_gbps(d.width, d.gen)


def _bifurcate(state: State, slot: PcieSlot, units: list[Unit], slot_w: int) -> tuple[int, ...]:
    k = len(units)
    supported = slot.bifurcation
    wanted = [m for m, ws in MODE_WIDTHS.items() if len(ws) >= k]
    # Prefer the widest split that holds k devices.
    wanted.sort(key=lambda m: (len(MODE_WIDTHS[m]), -sum(MODE_WIDTHS[m]), m))
    mode = None
    status = "unsupported"
    if supported is None:
        mode = wanted[0] if wanted else None
        status = "unverified"
    else:
        for m in wanted:
            if m in supported:
                mode = m
                status = "supported"
                break
        if mode is None and wanted:
            mode = wanted[0]
    state.bifurcation.append(
        {"slot": slot.position, "cards": units, "mode": mode, "status": status, "supported": supported}
    )
    if mode is None:
        return (slot_w,)
    widths = MODE_WIDTHS[mode]
    total = sum(widths)
    if total <= slot_w:
        return widths
    return tuple(max(1, w * slot_w // total) for w in widths)


def place(state: State) -> None:
    rig = state.rig
    board_part = rig.board
    state.board_missing = board_part is None
    if board_part is None:
        for u in state.gpus:
            u.auto = u.part.slots is None or u.part.slots[u.index] is None
        return
    board: BoardSpec = board_part.spec
    cpu = rig.cpu.spec if rig.cpu else None
    if board.pcie_slots is None:
        state.uncurated = True
        state.slots = _synthesised_slots(cpu, len(state.gpus))
        # User placement on an uncurated board: the named positions exist, read like the others.
        for u in state.gpus:
            for pos in u.part.slots or ():
                if pos is not None and pos not in state.slots:
                    extra = _synthesised_slots(cpu, 2)[4]
                    state.slots[pos] = PcieSlot(
                        pos, 16, extra.electrical_width, extra.gen, extra.source, None
                    )
    else:
        state.slots = {s.position: s for s in board.pcie_slots}
        state.rows_known = all(s.row_known for s in board.pcie_slots)
        if not state.rows_known:
            state.report.not_checked.append(
                "slot obstruction, spacing between cards and the case's slot rows (the board's slot rows "
                "are not known: its slot table comes from firmware, which gives no physical rows)"
            )
    _place_gpus(state)
    _place_drives(state)
    _links(state)
    rep = state.report
    for u in state.gpus:
        slot: int | str | None = u.slot
        rep.placement.append(
            {
                "part": u.part.id,
                "unit": u.index,
                "label": u.label,
                "kind": "gpu",
                "slot": slot,
                "riser": u.riser,
                "auto": u.auto,
            }
        )
        if u.slot is not None:
            rep.lanes.append(
                {
                    "part": u.part.id,
                    "unit": u.index,
                    "label": u.label,
                    "kind": "gpu",
                    "slot": u.slot,
                    "riser": u.riser,
                    "riser_width": u.riser_width,
                    "width": u.width,
                    "gen": u.gen,
                    "source": u.source,
                    "gbps": u.gbps,
                    "estimated": state.uncurated or _slot_evidence(state, u.slot) == "estimated",
                    "evidence": "assumed" if state.uncurated else _slot_evidence(state, u.slot),
                }
            )
    for d in state.drives:
        rep.placement.append(
            {
                "part": d.part.id,
                "unit": d.index,
                "label": d.label,
                "kind": "m2",
                "slot": d.slot,
                "riser": False,
                "auto": True,
            }
        )
        if d.slot is not None:
            rep.lanes.append(
                {
                    "part": d.part.id,
                    "unit": d.index,
                    "label": d.label,
                    "kind": "nvme" if d.spec.interface == "nvme" else "m2_sata",
                    "slot": d.slot,
                    "riser": False,
                    "riser_width": None,
                    "width": d.width,
                    "gen": d.gen,
                    "source": d.source,
                    "gbps": d.gbps,
                    "estimated": False,
                }
            )


def _slot_evidence(state: State, pos) -> str | None:
    slot = state.slots.get(pos)
    return slot.evidence if slot is not None else None


# ---------------------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------------------
def check_topology(state: State) -> list[Finding]:
    board = state.rig.board
    if board is None or not state.gpus:
        return []
    if not state.uncurated and not state.rows_known:
        return [
            info(
                "TOPOLOGY_FIRMWARE",
                "lanes",
                f"The {board.name}'s slot table comes from its firmware (DMI tables from linux-hardware.org, "
                "CC BY 4.0): slot widths, PCIe generations and, where the bus address tells, CPU or chipset "
                "wiring are checked; which row each slot sits in and how slots share lanes are not known, so "
                "obstruction, spacing and lane sharing are not checked. Check the board manual's slot table.",
                (board.id,),
            )
        ]
    if not state.uncurated:
        return []
    widths = ", ".join(f"x{u.width}" for u in state.gpus if u.slot is not None)
    return [
        info(
            "TOPOLOGY_UNCURATED",
            "lanes",
            f"The {board.name}'s PCIe slot map and lane sharing are not curated: the lane verdicts "
            f"({widths or 'none'}) assume one CPU x16 slot and chipset x4 slots for the rest; check the "
            f"board manual's lane table.",
            (board.id,),
        )
    ]


def check_slots(state: State) -> list[Finding]:
    out: list[Finding] = []
    if state.unplaced:
        usable = len(state.slots)
        ids = tuple(dict.fromkeys(u.part.id for u in state.unplaced))
        out.append(
            error(
                "SLOTS_EXHAUSTED",
                "fit",
                f"{len(state.gpus)} GPUs but only {len(state.gpus) - len(state.unplaced)} could be placed "
                f"in the board's {usable} usable slots (risers counted): "
                f"{', '.join(u.label for u in state.unplaced)} has no slot.",
                ids,
            )
        )
    for u in state.missing_slot:
        where = (
            "the board's slot map" if not state.uncurated else "the assumed slot map of this uncurated board"
        )
        out.append(
            error(
                "SLOTS_EXHAUSTED",
                "fit",
                f"{u.label} is placed in slot {u.slot}, which is not in {where} "
                f"(slots: {', '.join(str(p) for p in sorted(state.slots)) or 'none'}).",
                (u.part.id,),
            )
        )
    for u in state.too_narrow:
        out.append(
            error(
                "SLOTS_EXHAUSTED",
                "fit",
                f"{u.label} is placed in slot {u.slot}, a physical x{_phys(state.slots[u.slot])} slot: an x16 "
                f"card needs an x16 slot, or a riser / extender (set riser).{row_note(state, u.slot)}",
                (u.part.id,),
            )
        )
    for u, rows in state.case_overhang:
        out.append(
            error(
                "SLOTS_EXHAUSTED",
                "fit",
                f"{u.label} in slot row {u.slot} is {thickness(u):g} slots thick and needs rows "
                f"{u.slot}-{u.slot + thickness(u) - 1:g}, but the case has {rows} expansion slots; "
                f"use a riser or a higher slot.{row_note(state, u.slot)}",
                (u.part.id,),
            )
        )
    for u, cover in state.obstructed:
        what = "the riser's plug in slot" if u.riser else "slot"
        out.append(
            error(
                "GPU_SLOT_OBSTRUCTED",
                "fit",
                f"{cover.label} in slot row {cover.slot} is {thickness(cover):g} slots thick and covers rows "
                f"{cover.slot + 1}-{cover.slot + thickness(cover) - 1:g}, so {what} {u.slot} holding "
                f"{u.label} is blocked: put it {'in another slot' if u.riser else 'on a riser'} or use "
                f"a slot at row {cover.slot + thickness(cover):g} or lower."
                f"{row_note(state, cover.slot) or row_note(state, u.slot)}",
                (u.part.id, cover.part.id),
            )
        )
    if state.drives_unplaced:
        board = state.rig.board
        n_sockets = len(board.spec.m2_sockets or ()) if board else 0
        out.append(
            error(
                "M2_SLOTS_EXCEEDED",
                "fit",
                f"{len(state.drives)} M.2 drives but the board has {n_sockets} M.2 sockets; "
                f"{', '.join(d.label for d in state.drives_unplaced)} needs an adapter card.",
                tuple(dict.fromkeys(d.part.id for d in state.drives_unplaced)),
            )
        )
    return out


def check_links(state: State) -> list[Finding]:
    out: list[Finding] = []
    cpu = state.rig.cpu.spec if state.rig.cpu else None
    board = state.board_spec
    chipset_units = [u for u in state.gpus if u.slot is not None and u.source == "chipset"]
    for u in state.gpus:
        if u.slot is None or u.width == 0:
            continue
        speed = f"PCIe {u.gen}.0 x{u.width}" if u.gen else f"x{u.width}"
        gb = f" ({u.gbps:g} GB/s per direction)" if u.gbps else ""
        if u.width == 1:
            out.append(
                warning(
                    "GPU_LINK_X1",
                    "lanes",
                    f"{u.label} runs on an x1 link, {speed}{gb}: fine for mining, but loading a model "
                    "or moving batches takes 16x longer than on x16 and multi-GPU training stalls on "
                    f"gradient exchange.{row_note(state, u.slot)}",
                    (u.part.id,),
                )
            )
        elif u.width < 8:
            out.append(
                warning(
                    "GPU_LINK_DEGRADED",
                    "lanes",
                    f"{u.label} gets {u.width} lanes, {speed}{gb}, in slot {u.slot}: fewer than the 8 a "
                    "GPU needs for full multi-GPU training speed (the x16 + x2/x4 trap)."
                    f"{row_note(state, u.slot)}",
                    (u.part.id,),
                )
            )
        nominal = _min_gen(u.spec.pcie_gen, state.slots[u.slot].gen if u.slot in state.slots else None)
        if u.source == "cpu" and cpu:
            nominal = _min_gen(nominal, cpu.pcie_gen)
        if u.riser_gen is not None and nominal is not None and u.riser_gen < nominal:
            out.append(
                warning(
                    "RISER_GEN_LIMIT",
                    "lanes",
                    f"{u.label}'s riser is PCIe {u.riser_gen}.0 while the link could run PCIe "
                    f"{nominal}.0: x{u.width} drops from {link_gbps(u.width, nominal):g} to "
                    f"{link_gbps(u.width, u.riser_gen):g} GB/s.",
                    (u.part.id,),
                )
            )
    if chipset_units:
        uplink = board.chipset_uplink_gbps if board else None
        sharers = len(chipset_units) + sum(1 for d in state.drives if d.source == "chipset" and d.slot)
        up = (
            (
                f"the chipset's {uplink:g} GB/s uplink to the CPU, shared with {plural(sharers - 1, 'other device')}"
                if sharers > 1
                else f"the chipset's {uplink:g} GB/s uplink to the CPU (no other device on it in this build)"
            )
            if uplink
            else "the chipset's uplink to the CPU (speed not curated), shared with every chipset device"
        )
        for u in chipset_units:
            out.append(
                warning(
                    "GPU_ON_CHIPSET",
                    "lanes",
                    f"{u.label} in slot {u.slot} hangs off the chipset: its x{u.width} link goes through "
                    f"{up}, and GPU-to-GPU traffic takes a detour through the CPU.{row_note(state, u.slot)}",
                    (u.part.id,),
                )
            )
    return out


def check_cpu_lanes(state: State) -> list[Finding]:
    cpu = state.rig.cpu
    if cpu is None or cpu.spec.cpu_lanes is None or state.board_missing:
        return []
    used = 0
    seen_slots: set = set()
    for u in state.gpus:
        if u.slot is not None and u.source == "cpu" and u.slot not in seen_slots:
            seen_slots.add(u.slot)
            used += state.slot_width.get(u.slot, u.width)
    for d in state.drives:
        if d.slot is not None and d.source == "cpu":
            used += d.width
    if used > cpu.spec.cpu_lanes:
        return [
            warning(
                "CPU_LANES_EXCEEDED",
                "lanes",
                f"The devices on CPU lanes ask for {used} lanes but the {cpu.name} has "
                f"{cpu.spec.cpu_lanes} usable: some links will train narrower than the lane map shows.",
                (cpu.id,),
            )
        ]
    return []


def check_lane_sharing(state: State) -> list[Finding]:
    board = state.rig.board
    if board is None or not board.spec.lane_rules:
        return []
    out: list[Finding] = []
    gpu_at = {}
    for u in state.gpus:
        if u.slot is not None:
            gpu_at.setdefault(u.slot, u)
    drive_at = {d.slot: d for d in state.drives if d.slot is not None}
    for r in board.spec.lane_rules:
        if r.when not in state.populated or r.target not in state.populated:
            continue
        target_gpu = gpu_at.get(r.target)
        target_drive = drive_at.get(r.target)
        trigger = gpu_at.get(r.when) or drive_at.get(r.when)
        trig_name = f"slot {r.when}" if isinstance(r.when, int) else r.when
        tgt_name = f"slot {r.target}" if isinstance(r.target, int) else r.target
        who = f" ({trigger.label})" if trigger else ""
        guess = (
            " (This sharing rule is estimated, not read from the board's manual.)"
            if r.evidence == "estimated"
            else ""
        )
        if r.effect == "disable":
            victim = target_gpu or target_drive
            out.append(
                warning(
                    "LANE_SHARING",
                    "lanes",
                    f"Using {trig_name}{who} disables {tgt_name}: "
                    f"{victim.label if victim else 'the device there'} will not be detected.{guess}",
                    tuple(x.part.id for x in (trigger, victim) if x),
                )
            )
            continue
        # Width rules: a GPU-GPU x8/x8 split is the expected behaviour and shows in the lane map; warn
        # when a drive costs a GPU lanes, a GPU drops below x8, or a drive is narrowed.
        width = r.width or 0
        if target_gpu is not None:
            trigger_is_drive = trigger is not None and trigger in state.drives
            slot = state.slots.get(r.target)
            base = (slot.electrical_width or 16) if slot else 16
            if width < base and (trigger_is_drive or width < 8):
                out.append(
                    warning(
                        "LANE_SHARING",
                        "lanes",
                        f"Using {trig_name}{who} drops {tgt_name} from x{base} to x{width}: "
                        f"{target_gpu.label} loses {base - width} lanes.{guess}",
                        tuple(x.part.id for x in (trigger, target_gpu) if x),
                    )
                )
        elif target_drive is not None and width < (target_drive.width or 4):
            out.append(
                warning(
                    "LANE_SHARING",
                    "lanes",
                    f"Using {trig_name}{who} drops {tgt_name} to x{width}: {target_drive.label} runs slower."
                    f"{guess}",
                    tuple(x.part.id for x in (trigger, target_drive) if x),
                )
            )
    return out


def check_bifurcation(state: State) -> list[Finding]:
    out: list[Finding] = []
    for b in state.bifurcation:
        cards = b["cards"]
        labels = ", ".join(u.label for u in cards)
        ids = tuple(dict.fromkeys(u.part.id for u in cards))
        widths = "/".join(f"x{u.width}" for u in cards)
        if b["status"] == "unsupported":
            have = ", ".join(b["supported"]) if b["supported"] else "none"
            out.append(
                error(
                    "BIFURCATION_UNSUPPORTED",
                    "lanes",
                    f"{len(cards)} cards ({labels}) share slot {b['slot']} through a bifurcation riser, "
                    f"which needs {b['mode'] or 'a split into ' + str(len(cards))} support; the board offers "
                    f"{have} on that slot, so only one card will be seen.",
                    ids,
                )
            )
        elif b["status"] == "unverified":
            out.append(
                warning(
                    "BIFURCATION_UNVERIFIED",
                    "lanes",
                    f"{len(cards)} cards share slot {b['slot']} as {b['mode']} ({widths}); whether the "
                    "board's BIOS offers that split is not curated: check the manual before buying the riser.",
                    ids,
                )
            )
    return out
