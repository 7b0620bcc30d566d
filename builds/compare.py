"""2 to 4 builds side by side: rows aligned by category and by figure, differences marked, a chart."""

from builds import selectors
from builds.configurator.page import CATEGORY_ORDER
from builds.configurator.state import state_from_build
from builds.diagrams import compare_bars_svg
from builds.models import Build
from builds.money import totals_for
from builds.reports import report_for


def lanes_per_gpu(report: dict) -> str:
    widths = [
        f"x{lane['width']}" if lane.get("width") else "?" for lane in report["lanes"] if lane["kind"] == "gpu"
    ]
    return " / ".join(widths) or "—"


# Which way is better, per figure row (issue 15, item 10: mark what stands out, not every row): more VRAM,
# compute, RAM, link width and fitting workloads; less power, heat, money and problems.
BETTER = {
    "VRAM": "high",
    "BF16 TFLOPS (dense)": "high",
    "Lanes per GPU": "high",
    "Sustained power": "low",
    "Transient peak": "low",
    "Wall draw": "low",
    "Circuit use": "low",
    "Case air rise": "low",
    "System RAM": "high",
    "Price (new, USD)": "low",
    "Price per GB VRAM": "low",
    "Price per TFLOP": "low",
    "Electricity per year": "low",
    "Problems": "low",
    "Workloads that fit": "high",
}


def plain_number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def narrowest_link(value) -> float | None:
    """'x16 / x8' ranks by its narrowest link (8); '?' or '—' is not ranked."""
    widths = [float(w[1:]) for w in str(value).split(" / ") if w.startswith("x") and w[1:].isdigit()]
    return min(widths) if widths and "?" not in str(value) else None


RANK_KEY = {"Lanes per GPU": narrowest_link}
# The chart's rows: figure label, and the label drawn (with its unit).
CHART_ROWS = [
    ("VRAM", "VRAM (GB)"),
    ("BF16 TFLOPS (dense)", "BF16 TFLOPS (dense)"),
    ("Wall draw", "Wall draw (W)"),
    ("Price (new, USD)", "Price (new, USD)"),
]


def standout_marks(shown: list[str], numbers: list[float | None], better: str | None) -> list[str]:
    """'best' and 'worst' for the cells that stand out in a row, '' elsewhere. A figure stands out when it
    is the row's extreme and no other build shows the same (as printed): with three builds of which two tie
    for the best, only the worst is marked; when every build shows the same, nothing is."""
    marks = [""] * len(shown)
    ranked = [(n, text) for n, text in zip(numbers, shown, strict=True) if n is not None]
    if better is None or len({text for _, text in ranked}) < 2:
        return marks
    high, low = max(n for n, _ in ranked), min(n for n, _ in ranked)
    best, worst = (high, low) if better == "high" else (low, high)
    for mark, target in (("best", best), ("worst", worst)):
        holders = [i for i, n in enumerate(numbers) if n == target]
        if len(holders) == 1 and shown.count(shown[holders[0]]) == 1:
            marks[holders[0]] = mark
    return marks


def odd_one_out(cells: list[list[str]]) -> list[str]:
    """For part rows: with three or more builds, 'differs' on the one build whose parts differ from all the
    others (which agree); with two, on both when they differ. Otherwise nothing: no row lit up wholesale."""
    keys = [tuple(c) for c in cells]
    if len(set(keys)) < 2:
        return [""] * len(keys)
    if len(keys) == 2:
        return ["differs", "differs"]
    if len(set(keys)) == 2:
        counts = {k: keys.count(k) for k in keys}
        return ["differs" if counts[k] == 1 else "" for k in keys]
    return [""] * len(keys)


def figure_rows(columns: list[dict]) -> list[dict]:
    def figure(label, getter, fmt="{:,.0f}", unit=""):
        values = [getter(c) for c in columns]
        shown = [
            ("—" if v is None else (fmt.format(v) if isinstance(v, int | float) else str(v)) + unit)
            for v in values
        ]
        marks = standout_marks(
            shown, [RANK_KEY.get(label, plain_number)(v) for v in values], BETTER.get(label)
        )
        cells = [{"text": text, "mark": mark} for text, mark in zip(shown, marks, strict=True)]
        return {
            "label": label,
            "values": shown,
            "raw": values,
            "differs": len(set(shown)) > 1,
            "cells": cells,
        }

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


PRICE_ROWS = ("Price (new, USD)", "Price per GB VRAM", "Price per TFLOP")


def flag_incomplete_prices(figures: list[dict], columns: list[dict]) -> list[dict]:
    """Price figures that rest on an incomplete total say so ("N of M parts priced"), and while any build's
    total is incomplete no price cell is marked best or worst: a total that leaves parts out cannot be
    ranked against one that does not (issue 15, item 6)."""
    incomplete = any(column["totals_usd"].coverage for column in columns)
    for row in figures:
        if row["label"] not in PRICE_ROWS:
            continue
        for cell, column in zip(row["cells"], columns, strict=True):
            coverage = column["totals_usd"].coverage
            if coverage and cell["text"] != "—":
                cell["text"] += f" ({coverage})"
            if incomplete:
                cell["mark"] = ""
    return figures


def chart_label(key: str, shown: str, columns: list[dict]) -> str:
    """The chart's price row says so when a build's total leaves parts out."""
    if key in PRICE_ROWS and any(column["totals_usd"].coverage for column in columns):
        return "Price (USD, incomplete)"
    return shown


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
                {
                    "label": label,
                    "cells": cells,
                    "differs": len({tuple(x) for x in cells}) > 1,
                    "marked": list(zip(cells, odd_one_out(cells), strict=True)),
                }
            )
    figures = flag_incomplete_prices(figure_rows(columns), columns) if columns else []
    chart = ""
    if len(columns) >= 2:
        keyed = {f["label"]: f["raw"] for f in figures}
        chart = compare_bars_svg(
            [(chart_label(k, shown, columns), keyed[k]) for k, shown in CHART_ROWS],
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
