"""What the configurator page shows for a state: rows per category, the report, diagrams, totals, pickers.

Kept out of the views so that they stay thin; everything here is a pure function of the state, the
resolved catalogue rows and the engine's report.
"""

import time
from dataclasses import dataclass, field, replace

from django.db.models import F
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString

from builds.diagrams import power_bars_svg, slot_layout_svg, thermal_gauge_svg
from builds.inputs import MAX_ITEMS, SLUG_RE, InputError, Line, parts_by_slug, resolve_lines
from builds.money import Totals, money_text, totals_for  # noqa: F401 - Totals: re-exported
from builds.regions import cached_or_made, signature
from builds.reports import report_for
from builds.state import DIGITS, State, encode_line
from builds.wording import parallel_text
from catalog.engine.placement import Placement
from catalog.models import CATEGORY_MODELS, Category
from catalog.services import catalogue_version, exchange_rates
from catalog.specs import spec_for

CATEGORY_ORDER = [
    (Category.GPU, "GPUs"),
    (Category.CPU, "CPU"),
    (Category.MOTHERBOARD, "Motherboard"),
    (Category.MEMORY, "Memory"),
    (Category.STORAGE, "Storage"),
    (Category.PSU, "Power supplies"),
    (Category.CASE, "Case or open frame"),
    (Category.COOLER, "CPU cooler"),
    (Category.FAN, "Case fans"),
    (Category.RISER, "Risers and extenders"),
    (Category.BRACE, "GPU brace"),
]
SINGLE = {Category.CPU, Category.MOTHERBOARD, Category.CASE, Category.COOLER}
SEVERITY_LABELS = {"error": "Problems", "warning": "Warnings", "info": "Advice"}
PICKER_LIMIT = 20
# The quantity <select>'s options for each selected value, built once (they hold only numbers).
QTY_OPTIONS = {
    selected: format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((n, " selected" if n == selected else "", n) for n in range(1, 17)),
    )
    for selected in range(1, 17)
}
PICKER_SCAN = 60
# Bounds on one picker request's work (issue 17): each part tried is a full engine check of the build with
# it, so a build of 64 lines x 16 units once cost ~1 s of CPU per request. The picker stops trying parts
# when this thread has used PICKER_CPU_BUDGET_S of CPU since the request began (or would, by the cost of
# the checks so far), or when the units checked (units in the build, summed over the checks) would pass
# PICKER_MAX_UNIT_CHECKS; the page says so and lists the rest of the scan unchecked.
PICKER_CPU_BUDGET_S = 0.04
PICKER_MAX_UNIT_CHECKS = 1000  # a check of a 1,000-unit build costs ~35 ms of CPU (2-core dev box, 2026-11)


@dataclass
class PickerList:
    candidates: list[dict]
    tried: int = 0  # parts checked in the build by the engine
    scanned: int = 0  # catalogue parts the list looked at
    cut: str = ""  # why the checks stopped early ("" = every scanned part was checked)
    unchecked: list[dict] = field(default_factory=list)  # scanned but not checked (after a cut)
    full: bool = False  # the build has MAX_ITEMS lines: a part can only be swapped in, not added


def apply_overrides(state: State, params) -> bool:
    """The state form's controls applied onto the lines: per line q<i>, s<i>, r<i>, p<i>, w<i>; then
    x (remove line x) and add (a catalogue slug: appended, or swapped in for a one-per-build category)."""
    changed = False
    for index, line in enumerate(state.lines):
        before = line.placement
        q = params.get(f"q{index}")
        if q and DIGITS.fullmatch(q) and 1 <= int(q) <= 16 and int(q) != line.quantity:
            line.quantity = int(q)
            line.placement = line.placement.for_quantity()
            changed = True
        for key, name in (("slots", f"s{index}"), ("psu", f"p{index}")):
            if name in params:
                line.placement = line.placement.with_units_text(key, params.get(name, ""), line.quantity)
        # A control changes its line only when its value differs from what the page showed: a riser width
        # the menu has no option for (x4, x8, set through the API) survives a re-check of another control.
        if f"r{index}" in params:
            line.placement = line.placement.with_riser_value(params.get(f"r{index}"))
        if f"w{index}" in params:
            raw = params.get(f"w{index}", "").strip()
            try:
                watts = float(raw) if raw else None
            except ValueError:
                watts = None
                state.errors.append(f"line {index + 1}: power limit {raw[:20]!r} is not a number")
            error = power_limit_error(watts) if watts is not None else None  # the engine's (API's) range
            if error:
                state.errors.append(f"line {index + 1}: power limit {error}")
                watts = None
            if watts != line.placement.power_limit_w:
                line.placement = replace(line.placement, power_limit_w=watts)
        changed |= line.placement != before
    remove = params.get("x", "")
    if DIGITS.fullmatch(remove) and int(remove) < len(state.lines):
        del state.lines[int(remove)]
        changed = True
    if params.get("add"):
        changed |= add_part(state, params.get("add"))
    return changed


def power_limit_error(watts: float) -> str | None:
    from catalog.engine.specs import SpecError, part_from_dict

    try:
        part_from_dict({"category": "gpu", "power_limit_w": watts})
    except SpecError as exc:
        return exc.message
    return None


def add_part(state: State, slug: str) -> bool:
    part = parts_by_slug({slug}).get(slug) if SLUG_RE.fullmatch(slug) else None
    if part is None:
        state.errors.append(f"add: no part {slug[:60]!r} in the catalogue")
        return False
    if len(state.lines) >= MAX_ITEMS:
        state.errors.append(f"add: at most {MAX_ITEMS} lines in a build")
        return False
    if part.category in SINGLE:
        # Lines read from the query are not resolved yet: catalogue lines know their category by slug.
        known = parts_by_slug({line.slug for line in state.lines if line.slug})
        state.lines = [
            line
            for line in state.lines
            if (known[line.slug].category if line.slug in known else line.category) != part.category
        ]
    state.lines.append(Line(slug=part.slug, category=part.category, name=part.name, quantity=1))
    return True


def resolve_state(state: State) -> None:
    """Attach catalogue rows; unknown slugs and invalid placements are dropped with an error."""
    try:
        resolve_lines(state.lines)
        return
    except InputError:
        pass
    good = []
    by_slug = parts_by_slug({line.slug for line in state.lines if line.slug})
    for index, line in enumerate(state.lines):
        if line.slug is not None and line.slug not in by_slug:
            state.errors.append(f"line {index + 1}: no part {line.slug[:60]!r} in the catalogue")
            continue
        try:
            resolve_lines([line])
        except InputError as exc:
            state.errors.append(f"line {index + 1}: {exc.message}; placement reset")
            line.placement = Placement()
            resolve_lines([line])
        good.append(line)
    state.lines = good


def line_views(state: State, report: dict) -> list[dict]:
    flagged = {}
    for finding in report.get("findings", []):
        for part_id in finding["parts"]:
            index = report.get("part_index", {}).get(part_id)
            if index is not None and finding["severity"] != "info":
                flagged.setdefault(index, finding["severity"])
    rows = []
    rates = exchange_rates()
    for index, line in enumerate(state.lines):
        rows.append(
            {
                "index": index,
                "line": line,
                "slots_text": line.placement.slots_text,
                "psu_text": line.placement.psu_text,
                "riser_value": line.placement.riser_value,
                "power_limit_text": line.placement.power_limit_text,
                "flag": flagged.get(index),
                "qty_options": QTY_OPTIONS[line.quantity],
                "price_usd": line.part.price_usd if line.part else None,
                "price_text": money_text(line.part.price_usd if line.part else None, state.currency, rates),
            }
        )
    return rows


def grouped_findings(report: dict, state: State) -> list[tuple[str, str, list[dict]]]:
    names = {i: line.name for i, line in enumerate(state.lines)}
    groups = []
    for severity, label in SEVERITY_LABELS.items():
        items = []
        for finding in report.get("findings", []):
            if finding["severity"] != severity:
                continue
            indices = sorted({report["part_index"].get(p) for p in finding["parts"]} - {None})
            items.append(finding | {"part_names": [names[i] for i in indices if i in names]})
        groups.append((severity, label, items))
    return groups


VERDICT_LABELS = {"fits": "fits", "does_not_fit": "does not fit", "fits_with_offload": "fits with offload"}


def workload_rows(report: dict) -> list[dict]:
    """The workload table's cells, formatted once in Python (Django's filters cost ~0.3 ms a row here)."""
    rows = []
    for w in report.get("workloads", []):
        speed = w.get("speed")
        ram = w.get("ram_needed_gib")
        rows.append(
            {
                "label": w.get("label", ""),
                "verdict": w.get("verdict") or "unknown",
                "verdict_class": (w.get("verdict") or "unknown").replace("_", ""),
                "verdict_label": VERDICT_LABELS.get(w.get("verdict"), w.get("verdict") or "?"),
                "gpus": f"{w['gpus_used']}"
                + (f" ({parallel_text(w['parallel'])})" if w.get("parallel") else "")
                if w.get("gpus_used")
                else "—",
                "memory": "—" if w.get("memory_per_gpu_gib") is None else f"{w['memory_per_gpu_gib']:.1f}",
                "ram": f"{ram:.0f} GiB" if ram else "—",
                "speed": f"{speed['low']:,.0f}–{speed['high']:,.0f} {speed['unit']}"
                + (f" ({speed['runtime']})" if speed.get("runtime") else "")
                if speed
                else "—",
                "assumption": speed.get("assumption", "") if speed else "",
                "reason": w.get("reason") or "",  # why it does not fit (catalog.engine.workload.fit_reason)
            }
        )
    return rows


def diagrams(state: State, report: dict) -> dict:
    """The SVG pictures, each cached by a signature of the report data it draws (a PSU swap redraws the
    power bars, not the slot layout)."""
    board = next((line for line in state.lines if line.category == Category.MOTHERBOARD and line.part), None)
    thermal = report.get("thermal", {})
    obstructed = sorted(
        part for f in report.get("findings", []) if f["code"] == "GPU_SLOT_OBSTRUCTED" for part in f["parts"]
    )
    drawn_from = {
        # The board's spec is the catalogue's: its slug and the catalogue version name it.
        "slot_svg": [
            catalogue_version(),
            board.slug if board else None,
            thermal.get("gpus"),
            report.get("lanes"),
            obstructed,
        ],
        "power_svg": report.get("power"),
        "thermal_svg": thermal,
    }
    keys = {name: f"svg:{name}:{signature(data)}" for name, data in drawn_from.items()}
    drawers = {
        "slot_svg": lambda: slot_layout_svg(spec_for(board.part) if board else None, report),
        "power_svg": lambda: power_bars_svg(report),
        "thermal_svg": lambda: thermal_gauge_svg(report),
    }
    pictures = cached_or_made({keys[name]: draw for name, draw in drawers.items()})
    return {name: pictures[key] for name, key in keys.items()}


def recheck_attrs(base_path: str) -> SafeString:
    """The htmx attributes every control of the state form carries: one request, swaps chosen by the server."""
    return format_html('hx-get="{}" hx-include="#build-form" hx-swap="none"', base_path)


def page_context(state: State, base_path: str) -> dict:
    context = state.context()
    report = report_for(state.lines, context)
    tokens = [encode_line(line) for line in state.lines]
    rows = line_views(state, report)
    sections = [
        {
            "category": cat,
            "label": label,
            "rows": [r for r in rows if r["line"].category == cat],
            "single": cat in SINGLE,
        }
        for cat, label in CATEGORY_ORDER
    ]
    auto_placed = {(p["part"], p["unit"]) for p in report.get("placement", []) if p.get("auto")}
    lane_rows = [
        lane | {"auto": (lane["part"], lane["unit"]) in auto_placed} for lane in report.get("lanes", [])
    ]
    psu_units = sum(line.quantity for line in state.lines if line.category == Category.PSU)
    return {
        "state": state,
        "report": report,
        "lane_rows": lane_rows,
        "workload_rows": workload_rows(report),
        "sections": sections,
        "finding_groups": grouped_findings(report, state),
        "totals": totals_for(state, report),
        # Escaped once: the state string fills a hidden input in every picker form.
        "query": escape(state.query(tokens=tokens)),
        "tokens": tokens,
        "base_path": base_path,
        "recheck_attrs": recheck_attrs(base_path),
        "psu_units": list(range(psu_units)),
    } | diagrams(state, report)


def picker_candidates(
    state: State,
    category: str,
    *,
    q: str = "",
    show_all: bool = False,
    sort: str = "price",
    started: float | None = None,
    budget_s: float = PICKER_CPU_BUDGET_S,
    max_unit_checks: int = PICKER_MAX_UNIT_CHECKS,
) -> PickerList:
    """Catalogue parts for a category, each tried in the build by the engine: a part is compatible when
    adding it (or swapping it in, for one-per-build categories) adds no new error. The checks stop at the
    CPU budget (counted from `started`, a time.thread_time() taken when the request began) or the unit
    budget, whatever the state; the rest of the scan is returned unchecked."""
    started = time.thread_time() if started is None else started
    model = CATEGORY_MODELS[category]
    qs = model.objects.filter(retired=False)
    if q:
        qs = qs.filter(name__icontains=q[:100])
    order = {"price": "price_new_usd", "name": "name", "-price": "-price_new_usd"}.get(sort, "price_new_usd")
    field = order.lstrip("-")
    qs = qs.order_by(
        F(field).desc(nulls_last=True) if order.startswith("-") else F(field).asc(nulls_last=True), "id"
    )
    base_lines = [line for line in state.lines if not (category in SINGLE and line.category == category)]
    units = sum(line.quantity for line in base_lines) + 1  # units in one check: the build and the part
    if category == Category.MOTHERBOARD and 2 * units <= max_unit_checks:  # topology only for checks
        qs = qs.prefetch_related("pcie_slots", "m2_sockets", "lane_rules")
    parts = list(qs[:PICKER_SCAN])
    picked = PickerList(candidates=[], scanned=len(parts), full=len(base_lines) >= MAX_ITEMS)
    results = picked.candidates
    base_errors, check_cost, unit_checks = set(), 0.0, units
    if 2 * units <= max_unit_checks:  # the build's own check is worth making only if one part can follow
        t0 = time.thread_time()
        base = report_for(base_lines, state.context())
        check_cost = time.thread_time() - t0  # a check with one more part costs about the same
        base_errors = {(f["code"], f["message"]) for f in base["findings"] if f["severity"] == "error"}
    for index, part in enumerate(parts):
        spent = time.thread_time() - started
        if spent + check_cost > budget_s or unit_checks + units > max_unit_checks:
            picked.cut = "time" if spent + check_cost > budget_s else "size"
            picked.unchecked = [
                {
                    "part": p,
                    "reasons": [],
                    "lines": [
                        *base_lines,
                        Line(slug=p.slug, category=category, name=p.name, quantity=1, part=p),
                    ],
                    "unchecked": True,
                }
                for p in parts[index : index + PICKER_LIMIT - len(results)]
            ]
            break
        t0 = time.thread_time()
        candidate = Line(slug=part.slug, category=category, name=part.name, quantity=1, part=part)
        report = report_for([*base_lines, candidate], state.context())
        check_cost = max(check_cost, time.thread_time() - t0)
        unit_checks += units
        picked.tried += 1
        new_errors = [
            f
            for f in report["findings"]
            if f["severity"] == "error" and (f["code"], f["message"]) not in base_errors
        ]
        if new_errors and not show_all:
            continue
        results.append(
            {"part": part, "reasons": [f["message"] for f in new_errors], "lines": [*base_lines, candidate]}
        )
        if len(results) >= PICKER_LIMIT:
            break
    return picked


def parse_custom_spec(category: str, text: str) -> dict:
    """`key = value` lines into inline spec fields: numbers, true/false, comma lists for list fields.
    The engine's strict spec_from_dict then checks names, types and ranges (its error names the field)."""
    from catalog.engine import specs as engine

    spec = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = (part.strip() for part in line.partition("="))
        if not sep or not key:
            raise InputError(f"spec line {number}", "write it as name = value, e.g. vram_gb = 24")
        lowered = value.lower()
        if lowered in ("true", "yes"):
            spec[key] = True
        elif lowered in ("false", "no"):
            spec[key] = False
        elif key in ("form_factors", "sockets", "bifurcation"):
            spec[key] = [v.strip() for v in value.split(",") if v.strip()]
        else:
            try:
                number_value = float(value)
                spec[key] = (
                    int(number_value) if number_value.is_integer() and "." not in value else number_value
                )
            except ValueError:
                spec[key] = value
    try:
        engine.spec_from_dict(category, spec)
    except engine.SpecError as exc:
        raise InputError(exc.field, exc.message) from None
    return spec
