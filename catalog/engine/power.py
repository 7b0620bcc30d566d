"""Power: per-GPU limits, sustained and transient load per PSU, connectors, efficiency, wall and circuit."""

from __future__ import annotations

import heapq
import math

from .report import Finding, error, info, warning
from .specs import CIRCUITS, Part, PsuSpec
from .state import State, Unit, fmt_w
from .wording import plural, with_article

# When a GPU has no measured transient_peak_w: excursions of 1.7x board power. Sources: RTX 3090 spikes
# near 600 W on a 350 W card (Igor's Lab measurements, widely reported; 600/350 = 1.71); RTX 5090 FE
# 901 W under 1 ms on 575 W (Igor's Lab, 1.57x). PCI-SIG CEM 5.0 allows up to 3x for 100 us.
DEFAULT_TRANSIENT_FACTOR = 1.7
# ATX 3.x PSUs must ride through excursions of 200 % of their rating for 100 us (Intel ATX 3.0 spec,
# section 3.2.11, "Power Excursion").
ATX3_EXCURSION_FACTOR = 2.0
# A PCIe 8-pin connector is rated 150 W (PCIe CEM); 12VHPWR / 12V-2x6 up to 600 W (ATX 3.0 / CEM 5.0).
PCIE_8PIN_W = 150.0
HEADROOM_FRACTION = 0.8  # sustained above 80 % of a PSU's rating: little headroom (common practice)

# 80 PLUS 115 V internal non-redundant minimum efficiencies at 10/20/50/100 % load
# (https://en.wikipedia.org/wiki/80_Plus, "Efficiency level certifications"; CLEAResult 80 PLUS program).
# Only Titanium certifies the 10 % point.
EFFICIENCY_115V: dict[str, tuple[tuple[float, float], ...]] = {
    "standard": ((0.2, 0.80), (0.5, 0.80), (1.0, 0.80)),
    "bronze": ((0.2, 0.82), (0.5, 0.85), (1.0, 0.82)),
    "silver": ((0.2, 0.85), (0.5, 0.88), (1.0, 0.85)),
    "gold": ((0.2, 0.87), (0.5, 0.90), (1.0, 0.87)),
    "platinum": ((0.2, 0.90), (0.5, 0.92), (1.0, 0.89)),
    "titanium": ((0.1, 0.90), (0.2, 0.92), (0.5, 0.94), (1.0, 0.90)),
}
TIERS = ("standard", "bronze", "silver", "gold", "platinum", "titanium")

# Non-GPU, non-CPU load: rough per-item figures, labelled as estimates in not_checked. Board: chipset,
# VRM losses, USB, NIC (X670E dual-chipset boards draw ~15-20 W in chipsets alone, per AMD's 2x7 W
# Promontory 21 TDP). Drives: NVMe under load 6-8 W (Samsung 990 PRO datasheet, 7.8 W max average),
# SATA SSD ~3 W, 3.5" HDD ~7 W (WD Blue datasheets: 5-7 W read/write). DDR4/DDR5 DIMM 3-5 W.
BOARD_W = 50.0
DIMM_W = 5.0
DRIVE_W = {"nvme": 8.0, "sata_ssd": 3.0, "hdd": 7.0}
FAN_W = 3.0
CPU_FALLBACK_W = 125.0  # CPU known to be present but power unknown; said in not_checked

# Power-limit speed curve for training (fraction of board power -> fraction of speed kept).
# Puget Systems: 4x RTX 3090 capped at 280 W (80 %) kept over 95 %; DESIGN.md: 350 -> 250-280 W keeps
# ~94-95 %. Below 71 % (250/350) there is no published series here: assume speed falls in proportion to
# power from the last point (pessimistic).
SPEED_CURVE = ((0.714, 0.94), (0.8, 0.955), (1.0, 1.0))


def speed_kept(fraction: float) -> float:
    if fraction >= 1.0:
        return 1.0
    pts = SPEED_CURVE
    if fraction <= pts[0][0]:
        return round(pts[0][1] * fraction / pts[0][0], 3)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= fraction <= x1:
            return round(y0 + (y1 - y0) * (fraction - x0) / (x1 - x0), 3)
    return 1.0  # pragma: no cover


def efficiency_at(tier: str | None, load_fraction: float) -> float:
    pts = EFFICIENCY_115V.get(tier or "standard", EFFICIENCY_115V["standard"])
    if load_fraction <= pts[0][0]:
        return pts[0][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if load_fraction <= x1:
            return y0 + (y1 - y0) * (load_fraction - x0) / (x1 - x0)
    return pts[-1][1]


def gpu_power(u: Unit) -> tuple[float | None, float | None, bool, float]:
    """(sustained W, transient W, transient assumed?, speed kept) for one GPU unit."""
    s = u.spec
    board = s.board_power_w
    limit = u.part.power_limit_w
    if board is None:
        if limit is None:
            return None, None, True, 1.0
        board = limit
    sustained = min(board, limit) if limit is not None else board
    assumed = s.transient_peak_w is None
    transient = board * DEFAULT_TRANSIENT_FACTOR if assumed else s.transient_peak_w
    fraction = sustained / board
    # A power limit caps sustained and transient draw proportionally (docs/api.md, placement).
    return sustained, transient * fraction, assumed, speed_kept(fraction)


def _psu_units(state: State) -> list[tuple[Part, int]]:
    out = []
    for p in state.rig.psus:
        for i in range(p.quantity):
            out.append((p, i))
    return out


def _system_load(state: State) -> tuple[float, float, list[str]]:
    """(sustained W, peak W, notes) of everything but the GPUs; powered by PSU unit 0."""
    rig = state.rig
    notes: list[str] = []
    cpu_w = 0.0
    cpu = rig.cpu
    if cpu is not None:
        c = cpu.spec
        cpu_w = c.ppt_w or c.tdp_w or 0.0
        if not cpu_w:
            cpu_w = CPU_FALLBACK_W
            notes.append(f"CPU power unknown: {CPU_FALLBACK_W:g} W assumed")
    rest = BOARD_W if rig.board else 0.0
    for m in rig.memory:
        rest += DIMM_W * (m.spec.modules or 1) * m.quantity
    for d in rig.storage:
        rest += DRIVE_W.get(d.spec.interface or "nvme", 8.0) * d.quantity
    for f in rig.fans:
        rest += FAN_W * f.quantity
    return cpu_w + rest, cpu_w + rest, notes


def compute(state: State) -> None:
    """Fill state power figures and report.power; checks below only read them."""
    rep = state.report
    psus = _psu_units(state)
    sys_w, sys_peak, notes = _system_load(state)
    gpu_rows = []
    loads = [
        {
            "unit": i,
            "part": p.id,
            "name": p.name if p.quantity == 1 else f"{p.name} #{k + 1}",
            "spec": p.spec,
            "sustained_w": sys_w if i == 0 else 0.0,
            "transient_w": sys_peak if i == 0 else 0.0,
            "gpus": [],
            "gpus_assumed": [],
        }
        for i, (p, k) in enumerate(psus)
    ]
    unknown_gpu_power = []
    bad_assignment: list[Unit] = []

    def ratio(i: int) -> tuple[float, int]:
        return (loads[i]["sustained_w"] / (loads[i]["spec"].wattage_w or 1e9), i)

    # The least-loaded PSU, found with a heap: min() over every PSU for every GPU was O(GPUs x PSUs),
    # 100 ms for 640 GPUs on 368 PSUs. Loads only grow, so a stale entry is re-pushed with its new ratio
    # when it surfaces; the first entry that is current is the minimum, ties to the lowest index as before.
    least = [ratio(i) for i in range(len(loads))]
    heapq.heapify(least)
    for u in state.gpus:
        sustained, transient, assumed, kept = gpu_power(u)
        if sustained is None:
            unknown_gpu_power.append(u.label)
        row = {
            "part": u.part.id,
            "unit": u.index,
            "label": u.label,
            "board_power_w": u.spec.board_power_w,
            "limit_w": u.part.power_limit_w,
            "sustained_w": sustained,
            "transient_w": round(transient, 1) if transient is not None else None,
            "transient_assumed": assumed,
            "speed_kept": kept,
            "watts_saved": (
                round(u.spec.board_power_w - sustained, 1)
                if (sustained is not None and u.spec.board_power_w is not None)
                else 0.0
            ),
            "psu": None,
        }
        gpu_rows.append(row)
        if not loads:
            continue
        if u.part.psu is not None:
            idx = u.part.psu[u.index]
            if idx >= len(loads):
                bad_assignment.append(u)
                idx = len(loads) - 1
        else:
            # Balance: the PSU with the lowest load relative to its rating (PSU 0 carries the system).
            while least[0] != ratio(least[0][1]):
                heapq.heapreplace(least, ratio(least[0][1]))
            idx = least[0][1]
        u.psu = idx
        row["psu"] = idx
        load = loads[idx]
        load["sustained_w"] += sustained or 0.0
        load["transient_w"] += transient or 0.0
        load["gpus"].append(u)
        if assumed and sustained is not None:
            load["gpus_assumed"].append(u)
    wall = 0.0
    dc = 0.0
    psu_rows = []
    for load in loads:
        spec: PsuSpec = load["spec"]
        rating = spec.wattage_w
        frac = load["sustained_w"] / rating if rating else None
        eff = efficiency_at(spec.efficiency, frac if frac is not None else 0.5)
        wall_w = load["sustained_w"] / eff
        load["efficiency"] = eff
        load["wall_w"] = wall_w
        wall += wall_w
        dc += load["sustained_w"]
        psu_rows.append(
            {
                "unit": load["unit"],
                "part": load["part"],
                "name": load["name"],
                "rating_w": rating,
                "efficiency": spec.efficiency,
                "efficiency_at_load": round(eff, 3),
                "atx3": spec.atx3,
                "sustained_w": round(load["sustained_w"], 1),
                "transient_w": round(load["transient_w"], 1),
                "load_pct": round(100 * frac, 1) if frac is not None else None,
                "wall_w": round(wall_w, 1),
                "powers": (["board, CPU, memory, drives, fans"] if load["unit"] == 0 else [])
                + [g.label for g in load["gpus"]],
            }
        )
    if not loads:
        # No PSU: still report the DC load and an 80 % efficient wall estimate.
        dc = sys_w + sum(r["sustained_w"] or 0.0 for r in gpu_rows)
        wall = dc / EFFICIENCY_115V["standard"][0][1]
    ctx = state.context
    limit = ctx.circuit_limit_w
    state.dc_sustained_w = dc
    state.wall_w = wall
    state.psu_loads = loads
    transient_total = sum(load["transient_w"] for load in loads) if loads else None
    rep.power = {
        "psus": psu_rows,
        "gpus": gpu_rows,
        "sustained_w": round(dc, 1),
        "transient_w": round(transient_total, 1) if transient_total is not None else None,
        "wall_w": round(wall, 1),
        "amps": round(wall / ctx.circuit_volts, 2),
        "circuit": ctx.circuit_label,
        "circuit_volts": ctx.circuit_volts,
        "circuit_amps": ctx.circuit_amps,
        "circuit_limit_w": round(limit, 1),
        "headroom_w": round(limit - wall, 1),
        "assumptions": [
            f"GPU transients without a measured peak: {DEFAULT_TRANSIENT_FACTOR:g}x board power",
            "board, memory, drives and fans: typical per-item figures",
            "efficiency: 80 PLUS 115 V minimums for the tier (230 V units do ~2 points better)",
            *notes,
        ],
        "bad_assignment": [u.label for u in bad_assignment],
    }
    if unknown_gpu_power:
        rep.not_checked.append(f"power of {', '.join(unknown_gpu_power)} (board power unknown)")


# ---------------------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------------------
def check_psu_present(state: State) -> list[Finding]:
    if state.gpus and not state.rig.psus:
        return [
            error(
                "PSU_MISSING",
                "power",
                f"The build has {plural(len(state.gpus), 'GPU')} drawing "
                f"{fmt_w(sum(r['sustained_w'] or 0 for r in state.report.power['gpus']))} "
                f"but no power supply; the whole rig needs about {fmt_w(state.dc_sustained_w)} sustained.",
            )
        ]
    return []


def _gpu_desc(units: list[Unit]) -> str:
    names: dict[str, int] = {}
    for u in units:
        names[u.part.name] = names.get(u.part.name, 0) + 1
    return " and ".join(f"{n}x {name}" if n > 1 else f"one {name}" for name, n in names.items())


def check_psus(state: State) -> list[Finding]:
    out: list[Finding] = []
    rep = state.report
    for label in rep.power.get("bad_assignment", []):
        out.append(
            error(
                "PSU_ASSIGNMENT_INVALID",
                "power",
                f"{label} is assigned to a PSU unit that the build does not have "
                f"({len(state.psu_loads)} PSU unit(s), numbered from 0); it was counted on the last one.",
            )
        )
    for load in state.psu_loads:
        spec: PsuSpec = load["spec"]
        rating = spec.wattage_w
        if rating is None:
            rep.not_checked.append(f"load of {load['name']} (wattage unknown)")
            continue
        s = load["sustained_w"]
        pct = 100 * s / rating
        what = _gpu_desc(load["gpus"]) if load["gpus"] else "no GPU"
        sys_part = " plus the CPU and the rest of the system" if load["unit"] == 0 else ""
        ids = (load["part"], *dict.fromkeys(g.part.id for g in load["gpus"]))
        if s > rating:
            out.append(
                error(
                    "PSU_INSUFFICIENT",
                    "power",
                    f"{load['name']} carries {what}{sys_part}: {fmt_w(s)} sustained against its "
                    f"{fmt_w(rating)} rating ({pct:.0f} %).",
                    ids,
                )
            )
        elif s > HEADROOM_FRACTION * rating:
            out.append(
                warning(
                    "PSU_HEADROOM_LOW",
                    "power",
                    f"{load['name']} runs at {pct:.0f} % of its {fmt_w(rating)} rating ({fmt_w(s)} "
                    f"sustained for {what}{sys_part}); above 80 % it runs hot, loud and less efficient.",
                    ids,
                )
            )
        t = load["transient_w"]
        atx3 = spec.atx3 is True
        ride = rating * (ATX3_EXCURSION_FACTOR if atx3 else 1.0)
        if load["gpus"] and t > ride:
            assumed = {id(u) for u in load["gpus_assumed"]}  # by identity: `in` a list of units was O(n²)
            peaks = {r["label"]: r["transient_w"] for r in rep.power["gpus"]}
            per_card = "; ".join(
                dict.fromkeys(
                    f"the {g.part.name} can draw {fmt_w(peaks[g.label])} in transients"
                    + (
                        f" (assumed {DEFAULT_TRANSIENT_FACTOR:g}x its board power: no measured peak)"
                        if id(g) in assumed
                        else ""
                    )
                    for g in load["gpus"]
                    if peaks.get(g.label) is not None
                )
            )
            std = (
                f"an ATX 3.x PSU rated to ride through {fmt_w(ride)} (200 %)"
                if atx3
                else f"{with_article(fmt_w(rating))} PSU that is not {'known to be ' if spec.atx3 is None else ''}ATX 3.x"
            )
            out.append(
                warning(
                    "TRANSIENT_RISK",
                    "power",
                    f"{per_card[:1].upper()}{per_card[1:]}; {what}{sys_part} peak at {fmt_w(t)} against {std}: over-current "
                    "protection may shut the rig down under load.",
                    ids,
                )
            )
        out.extend(_connectors(load, spec, rep.not_checked))
    return out


def _connectors(load: dict, spec: PsuSpec, not_checked: list[str]) -> list[Finding]:
    """8-pin and 12V-2x6 outputs against the GPUs' inputs. A count the catalogue does not know (None) is
    unknown, never 0: when the answer depends on it, nothing is claimed and `not_checked` says so."""
    gpus: list[Unit] = load["gpus"]
    if not gpus:
        return []
    need_8 = 0
    need_12 = 0
    unknown = False
    for g in gpus:
        s = g.spec
        if s.power_8pin is None and s.power_12v2x6 is None:
            unknown = True
            continue
        need_8 += s.power_8pin or 0
        need_12 += s.power_12v2x6 or 0
    if unknown or (spec.power_8pin is None and spec.power_12v2x6 is None):
        whose = "its GPUs' power inputs" if unknown else "its output counts"
        not_checked.append(f"power connectors of {load['name']} ({whose} are unknown)")
        return []
    have_12 = spec.power_12v2x6
    if have_12 is None and need_12:
        not_checked.append(f"power connectors of {load['name']} (its 12V-2x6 output count is unknown)")
        return []
    have_12 = have_12 or 0
    # 12V-2x6 inputs without a native output use the adapter that ships with the card: one 8-pin per 150 W.
    adapt = max(0, need_12 - have_12)
    adapter_8 = 0
    if adapt:
        per_card = [g for g in gpus if g.spec.power_12v2x6][:adapt]
        adapter_8 = sum(math.ceil((g.spec.board_power_w or 600.0) / PCIE_8PIN_W) for g in per_card)
    total_8 = need_8 + adapter_8
    if spec.power_8pin is None:
        if total_8:
            not_checked.append(f"power connectors of {load['name']} (its PCIe 8-pin output count is unknown)")
        return []
    have_8 = spec.power_8pin
    if total_8 > have_8:
        via = f" ({adapter_8} of them through 12V-2x6 adapters)" if adapter_8 else ""
        return [
            error(
                "PSU_CONNECTORS_INSUFFICIENT",
                "power",
                f"{load['name']} has {have_8} PCIe 8-pin and {have_12} 12V-2x6 outputs, but its GPUs "
                f"need {total_8} 8-pin{via} and {need_12} 12V-2x6 inputs.",
                (load["part"], *dict.fromkeys(g.part.id for g in gpus)),
            )
        ]
    return []


def _circuit_advice(state: State, wall: float) -> str:
    """What would work instead: the smallest standard circuit that carries the load (same voltage first),
    and the per-GPU power limit that brings the load under this circuit, if one can."""
    ctx = state.context
    fits = sorted(
        (volts * amps * ctx.continuous_fraction, volts != ctx.circuit_volts, volts, amps)
        for volts, amps in CIRCUITS.values()
        if volts * amps * ctx.continuous_fraction >= wall
    )
    fits.sort(key=lambda c: (c[1], c[0]))
    options = []
    if fits:
        _, _, volts, amps = fits[0]
        options.append(f"a {volts:g} V / {amps:g} A circuit carries it")
    else:
        options.append("no standard household circuit carries it: split it over two circuits")
    limit = _fitting_power_limit(state)
    if limit is not None:
        options.append(f"or on this circuit, power-limit each GPU to {limit:.0f} W")
    return _sentence(options)


def _wall_at_limit(state: State, limit_w: float) -> float:
    """Sustained wall draw if every GPU were capped at ``limit_w`` (same PSU assignment and efficiency
    curves as the real figure)."""
    if not state.psu_loads:
        return state.wall_w
    wall = 0.0
    for load in state.psu_loads:
        cut = sum(max(0.0, (gpu_power(u)[0] or 0.0) - limit_w) for u in load["gpus"])
        sustained = load["sustained_w"] - cut
        rating = load["spec"].wattage_w
        eff = efficiency_at(load["spec"].efficiency, sustained / rating if rating else 0.5)
        wall += sustained / eff
    return wall


def _fitting_power_limit(state: State) -> float | None:
    """The highest per-GPU power limit (5 W steps) that brings the rig under this circuit, or None when even
    half the smallest card's board power would not (no sensible operating point)."""
    gpus = [u for u in state.gpus if u.spec.board_power_w]
    if not gpus or len(gpus) != len(state.gpus):
        return None
    floor = 0.5 * min(u.spec.board_power_w for u in gpus)
    top = max(gpu_power(u)[0] or 0.0 for u in gpus)
    # 1.5 % margin: with the cards capped, the automatic PSU balance may move a card to another unit, where
    # it meets another point of the efficiency curve.
    cap = state.context.circuit_limit_w * 0.985
    lo, hi = math.ceil(floor / 5), math.floor(top / 5) - 1
    if hi < lo or _wall_at_limit(state, lo * 5) > cap:
        return None
    while lo < hi:  # the wall draw rises with the limit: the largest step that fits
        mid = (lo + hi + 1) // 2
        if _wall_at_limit(state, mid * 5) <= cap:
            lo = mid
        else:
            hi = mid - 1
    return lo * 5.0


def _sentence(options: list[str]) -> str:
    text = "; ".join(options)
    return text[0].upper() + text[1:] + "."


def check_circuit(state: State) -> list[Finding]:
    ctx = state.context
    if not state.gpus and not state.rig.psus:
        return []
    wall = state.wall_w
    limit = ctx.circuit_limit_w
    amps = wall / ctx.circuit_volts
    breaker = f"{ctx.circuit_volts:g} V / {ctx.circuit_amps:g} A circuit"
    if wall > limit:
        return [
            error(
                "CIRCUIT_OVERLOAD",
                "power",
                f"The rig draws about {fmt_w(wall)} ({amps:.1f} A) at the wall under sustained load; a "
                f"{breaker} allows {fmt_w(limit)} continuous (80 % of the breaker). "
                f"{_circuit_advice(state, wall)}",
                tuple(p.id for p in state.rig.psus),
            )
        ]
    if wall > ctx.continuous_fraction * limit:
        return [
            warning(
                "CIRCUIT_NEAR_LIMIT",
                "power",
                f"The rig draws about {fmt_w(wall)} ({amps:.1f} A) at the wall, {100 * wall / limit:.0f} % of "
                f"the {fmt_w(limit)} continuous limit of a {breaker}: anything else on that circuit "
                "(a space heater, a second PC) can trip the breaker.",
                tuple(p.id for p in state.rig.psus),
            )
        ]
    return []


def check_multi_psu(state: State) -> list[Finding]:
    if len(state.psu_loads) < 2:
        return []
    parts = []
    for load in state.psu_loads:
        what = [g.label for g in load["gpus"]]
        if load["unit"] == 0:
            what.insert(0, "the board, CPU and drives")
        parts.append(
            f"PSU {load['unit']} ({load['name']}, {fmt_w(load['sustained_w'])}): {', '.join(what) or 'nothing'}"
        )
    return [
        info(
            "MULTI_PSU",
            "power",
            f"{len(state.psu_loads)} PSUs: " + "; ".join(parts) + ". Start them together with a sync adapter "
            "(Add2PSU or a dual-PSU 24-pin splitter); a GPU should take its PCIe slot power and its cable power "
            "from PSUs that share a ground, so plug all PSUs into the same circuit.",
            tuple(dict.fromkeys(load["part"] for load in state.psu_loads)),
        )
    ]


def check_power_limits(state: State) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    for row, u in zip(state.report.power.get("gpus", []), state.gpus):
        lim = u.part.power_limit_w
        board = u.spec.board_power_w
        if lim is None or board is None or u.part.id in seen:
            continue
        seen.add(u.part.id)
        if lim >= board:
            continue
        out.append(
            info(
                "POWER_LIMIT",
                "power",
                f"{u.part.name} capped from {fmt_w(board)} to {fmt_w(lim)} ({100 * lim / board:.0f} %): saves "
                f"{fmt_w(board - lim)} per card and keeps about {100 * row['speed_kept']:.0f} % of training "
                "speed (Puget Systems: RTX 3090 at 280 W kept over 95 %).",
                (u.part.id,),
            )
        )
    return out
