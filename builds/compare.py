"""2 to 4 builds side by side: rows aligned by category and by figure, differences marked, a chart."""

from builds import selectors
from builds.configurator import CATEGORY_ORDER, totals_for
from builds.diagrams import compare_bars_svg
from builds.models import Build
from builds.reports import report_for
from builds.state import state_from_build


def lanes_per_gpu(report: dict) -> str:
    widths = [
        f"x{lane['width']}" if lane.get("width") else "?" for lane in report["lanes"] if lane["kind"] == "gpu"
    ]
    return " / ".join(widths) or "—"


def figure_rows(columns: list[dict]) -> list[dict]:
    def figure(label, getter, fmt="{:,.0f}", unit=""):
        values = [getter(c) for c in columns]
        shown = [
            ("—" if v is None else (fmt.format(v) if isinstance(v, int | float) else str(v)) + unit)
            for v in values
        ]
        return {"label": label, "values": shown, "raw": values, "differs": len(set(shown)) > 1}

    return [
        figure("VRAM", lambda c: c["report"]["capacity"].get("vram_gb"), unit=" GB"),
        figure("BF16 TFLOPS (dense)", lambda c: c["report"]["compute"].get("bf16_tflops"), "{:,.1f}"),
        figure("Lanes per GPU", lambda c: lanes_per_gpu(c["report"])),
        figure("Sustained power", lambda c: c["report"]["power"].get("sustained_w"), unit=" W"),
        figure("Transient peak", lambda c: c["report"]["power"].get("transient_w"), unit=" W"),
        figure("Wall draw", lambda c: c["report"]["power"].get("wall_w"), unit=" W"),
        figure(
            "Circuit use",
            lambda c: (
                100 * c["report"]["power"]["wall_w"] / c["report"]["power"]["circuit_limit_w"]
                if c["report"]["power"].get("circuit_limit_w")
                else None
            ),
            unit=" %",
        ),
        figure("Case air rise", lambda c: c["report"]["thermal"].get("case_air_rise_c"), "{:,.1f}", " °C"),
        figure("System RAM", lambda c: c["report"]["capacity"].get("ram_gb"), unit=" GB"),
        figure(
            "Price (new, USD)",
            lambda c: float(c["totals_usd"].price_new) if c["totals_usd"].price_new else None,
        ),
        figure(
            "Price per GB VRAM",
            lambda c: float(c["totals_usd"].per_vram_gb) if c["totals_usd"].per_vram_gb else None,
        ),
        figure(
            "Price per TFLOP",
            lambda c: float(c["totals_usd"].per_tflop) if c["totals_usd"].per_tflop else None,
        ),
        figure("Electricity per year", lambda c: c["report"]["cost"].get("yearly_cost")),
        figure("Problems", lambda c: sum(f["severity"] == "error" for f in c["report"]["findings"])),
        figure(
            "Workloads that fit", lambda c: sum(w.get("verdict") == "fits" for w in c["report"]["workloads"])
        ),
    ]


def compare_context(share_ids: list[str]) -> dict:
    builds = {b.share_id: b for b in Build.objects.filter(share_id__in=share_ids)}
    missing = [s for s in share_ids if s not in builds]
    columns = []
    for share_id in share_ids:
        build = builds.get(share_id)
        if build is None:
            continue
        state = state_from_build(build, selectors.build_lines(build))
        state.currency = "USD"  # one currency across columns
        report = report_for(state.lines, state.context())
        columns.append(
            {"build": build, "state": state, "report": report, "totals_usd": totals_for(state, report)}
        )
    category_rows = []
    for category, label in CATEGORY_ORDER:
        cells = [
            [f"{line.quantity}× {line.name}" for line in c["state"].lines if line.category == category]
            for c in columns
        ]
        if any(cells):
            category_rows.append(
                {"label": label, "cells": cells, "differs": len({tuple(x) for x in cells}) > 1}
            )
    figures = figure_rows(columns) if columns else []
    chart = ""
    if len(columns) >= 2:
        keyed = {f["label"]: f["raw"] for f in figures}
        chart = compare_bars_svg(
            [(k, keyed[k]) for k in ("VRAM", "BF16 TFLOPS (dense)", "Wall draw", "Price (new, USD)")],
            [c["build"].name for c in columns],
        )
    examples = Build.objects.listed().order_by("-visibility", "name")[:12]
    return {
        "columns": columns,
        "category_rows": category_rows,
        "figures": figures,
        "chart": chart,
        "missing": missing,
        "too_few": len(columns) < 2,
        "examples": examples,
        "share_ids": ",".join(share_ids),
    }
