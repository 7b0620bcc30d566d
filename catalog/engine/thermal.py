"""Thermals: spacing between cards, heat into the case, case air temperature rise, CPU cooler rating."""

from __future__ import annotations

from .lanes import SIDE_INTAKE_COOLERS, row_note, thickness
from .power import BOARD_W, gpu_power
from .report import Finding, warning
from .state import State, fmt_w

# Case air temperature rise: dT(C) = 1.76 x heat (W) / airflow (CFM) (air at sea level; equivalent to
# CFM = 3.16 x W / dT(F)). Source: DESIGN.md "Physics", ../shared/reference/hardware-facts.md.
AIR_C_PER_W_PER_CFM = 1.76
CASE_RISE_LIMIT_C = 10.0
# Fans are rated in free air; with half the fans as intake and half as exhaust, and filters and grilles
# in the way, the air that really crosses the case is taken as half the summed rating (assumption).
EFFECTIVE_AIRFLOW_FRACTION = 0.5
# Share of a GPU's heat released inside the case by cooler type. Blowers exhaust through the bracket;
# the rest is assumed to stay in (assumption: blower 50 %, radiator-based coolers 100 % when the radiator
# is an intake, the conservative case).
HEAT_INTO_CASE = {"blower": 0.5}


def compute(state: State) -> None:
    """Per-GPU gaps, heat into the case, airflow and air temperature rise (report.thermal)."""
    rig = state.rig
    # Gaps need the physical rows: on a board whose rows are unknown no gap is computed (not checked).
    direct = sorted(
        (u for u in state.gpus if u.slot is not None and not u.riser and state.rows_known),
        key=lambda u: u.slot,
    )
    rows = []
    for i, u in enumerate(direct):
        nxt = direct[i + 1] if i + 1 < len(direct) else None
        gap = round(nxt.slot - (u.slot + thickness(u)), 2) if nxt is not None else None
        rows.append(
            {
                "part": u.part.id,
                "unit": u.index,
                "label": u.label,
                "slot": u.slot,
                "thickness_slots": thickness(u),
                "gap_slots": gap,
                "cooler": u.spec.cooler,
            }
        )
    for u in state.gpus:
        if u.slot is None or u.riser or not state.rows_known:
            rows.append(
                {
                    "part": u.part.id,
                    "unit": u.index,
                    "label": u.label,
                    "slot": "riser" if u.riser else u.slot,
                    "thickness_slots": u.spec.slot_width,
                    "gap_slots": None,
                    "cooler": u.spec.cooler,
                }
            )
    heat = 0.0
    for u in state.gpus:
        sustained, _, _, _ = gpu_power(u)
        heat += (sustained or 0.0) * HEAT_INTO_CASE.get(u.spec.cooler or "", 1.0)
    cpu = rig.cpu
    if cpu is not None:
        heat += cpu.spec.ppt_w or cpu.spec.tdp_w or 0.0
    if rig.board is not None:
        heat += BOARD_W
    case = rig.case
    open_frame = bool(case and case.spec.open_frame)
    cfm = None
    rated = [f.spec.airflow_cfm for f in rig.fans]
    if rig.fans and all(r is not None for r in rated):
        cfm = sum(f.spec.airflow_cfm * f.quantity for f in rig.fans) * EFFECTIVE_AIRFLOW_FRACTION
    rise = round(AIR_C_PER_W_PER_CFM * heat / cfm, 1) if cfm else None
    state.report.thermal = {
        "gpus": rows,
        "heat_into_case_w": round(heat, 1),
        "airflow_cfm": round(cfm, 1) if cfm else None,
        "case_air_rise_c": None if open_frame else rise,
        "open_frame": open_frame,
    }
    if case is not None and not open_frame and cfm is None:
        state.report.not_checked.append("case airflow (no case fans with a rated CFM in the build)")


def check_spacing(state: State) -> list[Finding]:
    out: list[Finding] = []
    rows = [r for r in state.report.thermal.get("gpus", []) if r["gap_slots"] is not None]
    units = {(u.part.id, u.index): u for u in state.gpus}
    for r in rows:
        gap = r["gap_slots"]
        if gap < 0:
            continue  # obstruction, reported by GPU_SLOT_OBSTRUCTED
        u = units[(r["part"], r["unit"])]
        cooler = u.spec.cooler
        if gap < 1 and (cooler in SIDE_INTAKE_COOLERS or cooler is None):
            kind = cooler.replace("_", "-") if cooler else "unknown (assumed open-air)"
            out.append(
                warning(
                    "GPU_SPACING_TIGHT",
                    "thermal",
                    f"{u.label} (slot row {u.slot}, {thickness(u):g} slots thick, {kind} cooler) leaves "
                    f"{gap:g} free slot(s) before the next card: its fans draw air from that side and will "
                    "choke; leave a free slot, use a riser, or use blower / water-cooled cards."
                    f"{row_note(state, u.slot)}",
                    (u.part.id,),
                )
            )
    return out


def check_case_airflow(state: State) -> list[Finding]:
    t = state.report.thermal
    rise = t.get("case_air_rise_c")
    if rise is None or rise <= CASE_RISE_LIMIT_C:
        return []
    case = state.rig.case
    return [
        warning(
            "CASE_AIRFLOW_LOW",
            "thermal",
            f"About {fmt_w(t['heat_into_case_w'])} of heat goes into the case and the fans move about "
            f"{t['airflow_cfm']:g} CFM through it (half their summed rating): the case air runs about "
            f"{rise:g} C above room temperature (1.76 x W / CFM), over the {CASE_RISE_LIMIT_C:g} C this "
            "check allows. Add fans or use an open frame.",
            (case.id,) if case else (),
        )
    ]


def check_cpu_cooler(state: State) -> list[Finding]:
    cooler = state.rig.cooler
    cpu = state.rig.cpu
    if cooler is None or cpu is None or cooler.spec.rated_w is None:
        return []
    need = cpu.spec.ppt_w or cpu.spec.tdp_w
    if need is None or cooler.spec.rated_w >= need:
        return []
    return [
        warning(
            "COOLER_UNDERRATED",
            "thermal",
            f"{cooler.name} is rated for {fmt_w(cooler.spec.rated_w)} but the {cpu.name} sustains "
            f"{fmt_w(need)} ({'PPT' if cpu.spec.ppt_w else 'TDP'}): expect throttling in long data "
            "preprocessing runs.",
            (cooler.id, cpu.id),
        )
    ]
