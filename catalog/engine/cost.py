"""Electricity cost per year and the payback of a more efficient PSU tier."""

from __future__ import annotations

from .power import TIERS, efficiency_at
from .report import Finding, info
from .state import State

PAYBACK_YEARS = 3.0  # a PSU premium that pays back within 3 years of this use is worth it (assumption)


def compute(state: State) -> None:
    ctx = state.context
    hours_year = ctx.hours_per_day * 365.0
    kwh = state.wall_w * hours_year / 1000.0
    better = []
    for load in state.psu_loads:
        spec = load["spec"]
        tier = spec.efficiency
        rating = spec.wattage_w
        if tier is None or rating is None or tier == TIERS[-1] or load["sustained_w"] <= 0:
            continue
        nxt = TIERS[TIERS.index(tier) + 1]
        frac = load["sustained_w"] / rating
        wall_now = load["sustained_w"] / efficiency_at(tier, frac)
        wall_next = load["sustained_w"] / efficiency_at(nxt, frac)
        saved_kwh = (wall_now - wall_next) * hours_year / 1000.0
        better.append(
            {
                "psu": load["name"],
                "part": load["part"],
                "tier": tier,
                "next_tier": nxt,
                "saved_kwh_per_year": round(saved_kwh, 1),
                "saved_per_year": round(saved_kwh * ctx.kwh_price, 2),
                "premium_paid_back_in_3_years": round(saved_kwh * ctx.kwh_price * PAYBACK_YEARS, 2),
            }
        )
    state.report.cost = {
        "yearly_kwh": round(kwh, 1),
        "yearly_cost": round(kwh * ctx.kwh_price, 2),
        "currency": ctx.currency,
        "kwh_price": ctx.kwh_price,
        "hours_per_day": ctx.hours_per_day,
        "efficiency_payback": better,
    }


def check_efficiency_payback(state: State) -> list[Finding]:
    rows = state.report.cost.get("efficiency_payback") or []
    if not state.gpus:
        return []
    ctx = state.context
    out = []
    for r in rows:
        if r["saved_kwh_per_year"] <= 0:
            continue
        cur = ctx.currency
        out.append(
            info(
                "PSU_EFFICIENCY_PAYBACK",
                "cost",
                f"A {r['next_tier'].title()} unit instead of the {r['tier'].title()} {r['psu']} would save about "
                f"{r['saved_kwh_per_year']:g} kWh, {r['saved_per_year']:.2f} {cur} a year at "
                f"{ctx.kwh_price:g} {cur}/kWh and {ctx.hours_per_day:g} h/day under load: it pays back a price "
                f"premium of up to {r['premium_paid_back_in_3_years']:.2f} {cur} within "
                f"{PAYBACK_YEARS:g} years.",
                (r["part"],),
            )
        )
    return out
