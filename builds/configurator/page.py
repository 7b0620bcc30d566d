"""The configurator page for one state: a dataclass of regions, each rendered from its own data only.

Every swappable part of the page is a `Region(name, template, data)`: the category rows, the state errors,
the custom-part form, the "where it runs" controls and the report's panels (totals, findings, lanes, power,
thermals, workloads, GPU to GPU). A region's template partial sees nothing but its `data` (render.py), and
its signature is `signature(data)`: a signature cannot miss an input. The page carries every region's
`<name>:<signature>` in the state form (the `v` inputs), so a re-check renders and sends only the regions
whose signature the browser lacks.

A region may name a `draw` step: values (the SVG diagrams) made from the region's data only when its HTML is
rendered, so a cached region costs no drawing.
"""

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from builds.configurator.edits import SINGLE
from builds.configurator.report import ReportView, report_view
from builds.configurator.state import CIRCUIT_CHOICES, CURRENCIES, State, encode_line
from builds.diagrams import power_bars_svg, slot_layout_svg, thermal_gauge_svg
from builds.inputs import Line
from builds.money import Totals, default_kwh_price, money_text, totals_for
from builds.reports import report_for
from builds.wording import circuit_text, thermal_hint
from catalog.models import Category
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
REPORT_TEMPLATE = "builds/_report.html"
PAGE_TEMPLATE = "builds/edit.html"
SIGNATURE_CHARS = 16
# The quantity <select>'s options for each selected value, built once (they hold only numbers).
QTY_OPTIONS = {
    selected: format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((n, " selected" if n == selected else "", n) for n in range(1, 17)),
    )
    for selected in range(1, 17)
}


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.__dict__  # its fields (json encodes nested values through _plain again)
    if isinstance(value, Decimal | SafeString):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)


def signature(data) -> str:
    """A short hash of everything in `data` (dataclasses, decimals and markup included)."""
    raw = json.dumps(data, sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.blake2b(raw.encode(), digest_size=SIGNATURE_CHARS // 2).hexdigest()


@dataclass
class Region:
    name: str
    template: str  # "<template>#<partial>"
    data: dict
    draw: Callable[[], dict] | None = None  # extra values made from `data` at render time (not signed)
    signature: str = field(init=False)
    html: SafeString | None = None  # filled by render.render_regions

    def __post_init__(self):
        self.signature = signature(self.data)

    @property
    def token(self) -> str:
        return f"{self.name}:{self.signature}"


@dataclass(frozen=True)
class Row:
    """One line's row in its category section: the line and its controls' values as shown."""

    index: int
    slug: str | None
    name: str
    quantity: int
    slots_text: str
    psu_text: str
    riser_value: str
    power_limit_text: str
    flag: str | None  # worst finding severity on the line (error, warning)
    price_text: str  # today's price of one unit, in the state's currency
    cards: tuple["CardRow", ...] = ()  # GPU lines: one per card, its slot row and mount

    @property
    def qty_options(self) -> SafeString:
        return QTY_OPTIONS[self.quantity]


@dataclass(frozen=True)
class CardRow:
    """One GPU card's placement controls: its slot row (the board's rows as options) and its mount."""

    line: int
    unit: int
    number: int  # cards numbered across the build, as the slot map names them
    slot_options: SafeString
    mount_value: str  # the mount menu's value: "" in the slot, "16" riser cable, "1" x1 extender
    where: str  # why it has no row ("add a board to place it"); "" when placed


@dataclass(frozen=True)
class SlotMapRow:
    """A row of the board in the GPU section's slot map: what holds it, and the cards that could move in."""

    position: int
    label: str  # "x16 Gen5 · CPU"
    holds: str  # "card 1 (RTX 4090)", "covered by card 1's cooler", "free", "past the case's 7 slots"
    status: str  # card | card-bad | covered | free | beyond | narrow
    moves: tuple[tuple[str, str, str], ...] = ()  # (mv value "<line>.<card>.<row>", button text, its name)
    case_before: bool = (
        False  # the first row past the case's last expansion slot: the limit is drawn above it
    )


@dataclass(frozen=True)
class Section:
    category: str
    label: str
    single: bool
    rows: tuple[Row, ...]
    open_picker: bool = False  # the next part a build needs: its picker opens by itself
    slot_map: tuple[SlotMapRow, ...] = ()  # GPU section: the board's rows and what holds them
    slot_map_note: str = ""  # why rows are shown as they are (firmware order, case limit)


@dataclass
class Page:
    state: State
    base_path: str
    report: dict  # the engine's JSON report
    view: ReportView
    totals: Totals
    tokens: list[str]  # the lines' URL tokens (the state form's `l` inputs)
    query: str  # the state's query string (the save form's field, the no-JS forms, the pushed URL)
    errors: Region
    summary: Region  # the compact verdict that stays in view (sticky): counts, power, VRAM, price
    sections: list[Region]
    custom: Region
    where: Region
    report_regions: list[Region]

    @property
    def regions(self) -> list[Region]:
        return [self.errors, self.summary, *self.sections, self.custom, self.where, *self.report_regions]

    @property
    def region_tokens(self) -> list[str]:
        return [r.token for r in self.regions]

    @property
    def state_inputs(self) -> SafeString:
        """The state form's hidden inputs: the lines (`l`), then the regions' signatures (`v`)."""
        # One escape per value and one join (format_html per input cost ~0.5 ms a re-check).
        lines = "".join(f'<input type="hidden" name="l" value="{escape(t)}">' for t in self.tokens)
        signatures = "".join(
            f'<input type="hidden" name="v" value="{escape(t)}">' for t in self.region_tokens
        )
        return mark_safe(f'{lines}<div id="region-sigs">{signatures}</div>')  # noqa: S308 - every value escaped


@lru_cache(maxsize=256)
def option_tags(choices: tuple[tuple[str, str], ...], selected: str) -> SafeString:
    """A <select>'s options (few and fixed: each menu's HTML is built once per selected value)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == selected else "", label) for value, label in choices),
    )


def recheck_attrs(base_path: str) -> SafeString:
    """The htmx attributes every control of the state form carries: one request, swaps chosen by the server."""
    return format_html('hx-get="{}" hx-include="#build-form" hx-swap="none"', base_path)


# The mount menu's values (Placement.riser_value) as the slot map says them.
MOUNT_WORDS = {"": "in the slot", "16": "on a riser", "1": "on an x1 extender"}
SOURCE_WORDS = {"cpu": "CPU", "chipset": "chipset"}
MAX_MOVE_CARDS = 4  # the slot map offers "card N here" buttons up to this many cards (selects beyond)


@dataclass(frozen=True)
class CardPlace:
    """Where the engine put one GPU unit (from the report's lanes and thermal rows)."""

    slot: int | None
    auto: bool
    riser: bool
    thickness: float | None


def card_places(view: ReportView) -> dict[tuple[int, int], CardPlace]:
    """(line index, unit) -> where that card sits in this report."""
    index_of = view.raw.get("part_index", {})
    thickness = {(g["part"], g["unit"]): g.get("thickness_slots") for g in view.thermal.get("gpus", [])}
    return {
        (index_of[lane.part], lane.unit): CardPlace(
            slot=lane.slot if isinstance(lane.slot, int) else None,
            auto=lane.auto,
            riser=bool(lane.riser),
            thickness=thickness.get((lane.part, lane.unit)),
        )
        for lane in view.lanes
        if lane.part in index_of
    }


def slot_label(slot) -> str:
    size = (
        f" (x{slot.physical_width} size)"
        if slot.physical_width and slot.physical_width != slot.electrical_width
        else ""
    )
    gen = f" Gen{slot.gen}" if slot.gen else ""
    width = f"x{slot.electrical_width}" if slot.electrical_width else "x?"
    return f"{width}{size}{gen} · {SOURCE_WORDS.get(slot.source or '', 'source unknown')}"


def card_numbers(state: State) -> dict[tuple[int, int], int]:
    """(line index, unit) -> the card's number among the build's GPUs of the same name, as the engine's
    findings number them ("RTX 3090 FE #2"), so the page and the findings name a card alike."""
    seen: dict[str, int] = {}
    numbers = {}
    for index, line in enumerate(state.lines):
        if line.category == Category.GPU:
            for unit in range(line.quantity):
                seen[line.name] = seen.get(line.name, 0) + 1
                numbers[(index, unit)] = seen[line.name]
    return numbers


def _card_rows(state: State, board_slots, places, numbers) -> dict[int, tuple[CardRow, ...]]:
    """Per GPU line, one CardRow per card: a slot menu of the board's rows and a mount menu."""
    out: dict[int, tuple[CardRow, ...]] = {}
    positions = {slot.position for slot in board_slots}
    for index, line in enumerate(state.lines):
        if line.category != Category.GPU:
            continue
        cards = []
        for unit in range(line.quantity):
            place = places.get((index, unit))
            chosen = line.placement.slot_of(unit)
            now = place.slot if place else None
            # Said only when the menu cannot say it: the menu's "automatic (row 2)" names the row.
            where = (
                ""
                if now is not None
                else "not placed: no free slot"
                if board_slots
                else "add a board to place it"
            )
            auto_text = f"automatic (row {now})" if chosen is None and now is not None else "automatic"
            choices = [("", auto_text)] + [
                (str(slot.position), f"row {slot.position}: {slot_label(slot)}") for slot in board_slots
            ]
            if chosen is not None and chosen not in positions:
                choices.append((str(chosen), f"row {chosen} (not on this board)"))
            cards.append(
                CardRow(
                    line=index,
                    unit=unit,
                    number=numbers[(index, unit)],
                    slot_options=option_tags(tuple(choices), "" if chosen is None else str(chosen)),
                    mount_value=line.placement.riser_value,
                    where=where,
                )
            )
        out[index] = tuple(cards)
    return out


def case_slot_count(state: State) -> int | None:
    """The case's expansion slots, catalogue or custom (None: no case, or not known)."""
    case = next((line for line in state.lines if line.category == Category.CASE), None)
    if case is None:
        return None
    if case.part is not None:
        return getattr(spec_for(case.part), "expansion_slots", None)
    slots = case.spec.get("expansion_slots")
    return slots if isinstance(slots, int) and not isinstance(slots, bool) else None


@dataclass(frozen=True)
class _Card:
    number: int
    line: int
    unit: int
    name: str
    place: CardPlace | None
    mount: str  # "in the slot", "on a riser", "on an x1 extender"


def _fits_at(card: _Card, pos: int, taken: dict[int, int], case_rows: int | None, rows_known: bool) -> bool:
    """Would this card sit at row `pos` without covering or being covered by another card, and (in the slot)
    end within the case? `taken`: row -> the id of the card whose slot or cooler uses it."""
    me = id(card)
    if taken.get(pos, me) != me:
        return False  # the row holds another card, or another card's cooler covers it
    if card.place is None or card.place.riser or not rows_known:
        return True
    rows = range(pos, pos + math.ceil(card.place.thickness or 2))
    if case_rows is not None and rows[-1] > case_rows:
        return False
    return all(taken.get(row, me) == me for row in rows)


def slot_map(
    state: State, board_slots, places, numbers, rows_known: bool, obstruction: bool = False
) -> tuple[tuple[SlotMapRow, ...], str]:
    """The board's rows and what holds each: a card, a card's cooler, nothing, or past the case's last slot;
    a row offers to move a card there (the `mv` control) only where that card fits: not into or under
    another card, and (in the slot) not past the case's last expansion slot."""
    if not board_slots:
        return (), ""
    case_rows = case_slot_count(state)
    cards = []
    for index, line in enumerate(state.lines):
        if line.category == Category.GPU:
            mount = MOUNT_WORDS[line.placement.riser_value]
            for unit in range(line.quantity):
                place = places.get((index, unit))
                cards.append(_Card(numbers[(index, unit)], index, unit, line.name, place, mount))
    in_row: dict[int, list[str]] = {}
    covered: dict[int, str] = {}
    taken: dict[int, int] = {}  # row -> id of the card in it or covering it
    for card in cards:
        place = card.place
        if place is None or place.slot is None:
            continue
        taken[place.slot] = id(card)
        where = "" if card.mount == "in the slot" else f" {card.mount}"
        in_row.setdefault(place.slot, []).append(f"card {card.number}{where} ({card.name})")
        if not place.riser and rows_known and place.thickness:
            for row in range(place.slot + 1, place.slot + math.ceil(place.thickness)):
                covered.setdefault(row, f"covered by card {card.number}'s cooler")
                taken.setdefault(row, id(card))
    movable = [c for c in cards if c.place is not None] if len(cards) <= MAX_MOVE_CARDS else []
    rows = []
    case_drawn = False  # the "case ends here" line goes above the first row past the case (rows ascend)
    for slot in board_slots:
        pos = slot.position
        beyond = rows_known and case_rows is not None and pos > case_rows
        if pos in in_row:
            holds, status = "; ".join(in_row[pos]), "card"
            if beyond:
                holds += f" (past the case's {case_rows} expansion slots)"
        elif pos in covered:
            holds, status = covered[pos], "covered"
        elif beyond:
            holds, status = f"past the case's {case_rows} expansion slots", "beyond"
        elif (slot.physical_width or 16) < 16:
            holds, status = "free (too short for a GPU without a riser)", "narrow"
        else:
            holds, status = "free", "free"
        # A card whose row another card's cooler covers is the blocked one (GPU_SLOT_OBSTRUCTED names the
        # line, which may hold both cards): marked on its row only.
        bad = (
            obstruction
            and pos in covered
            and any(c.place is not None and c.place.slot == pos and not c.place.riser for c in cards)
        )
        moves = ()
        if status in ("free", "narrow", "beyond"):
            moves = tuple(
                (f"{c.line}.{c.unit}.{pos}", f"Card {c.number} here", f"Move card {c.number} to row {pos}")
                for c in movable
                if c.place.slot != pos
                and (status == "free" or c.place.riser)
                and _fits_at(c, pos, taken, case_rows, rows_known)
            )
        rows.append(
            SlotMapRow(
                position=pos,
                label=slot_label(slot),
                holds=holds,
                status="card-bad" if bad else status,
                moves=moves,
                case_before=beyond and not case_drawn,
            )
        )
        case_drawn = case_drawn or beyond
    if not rows_known:
        note = "The board's slot table comes from firmware: slots in its order, physical rows unknown."
    elif case_rows is not None:
        note = (
            f"The case has {case_rows} expansion slots: a card must end within them unless it is on a riser. "
            "A row offers to move a card only where it fits."
        )
    else:
        note = "Add a case to see its slot limit. A row offers to move a card only where it fits."
    return tuple(rows), note


def rows_for(state: State, view: ReportView, cards: dict[int, tuple[CardRow, ...]]) -> list[Row]:
    rates = exchange_rates()
    return [
        Row(
            index=index,
            slug=line.slug,
            name=line.name,
            quantity=line.quantity,
            slots_text=line.placement.slots_text,
            psu_text=line.placement.psu_text,
            riser_value=line.placement.riser_value,
            power_limit_text=line.placement.power_limit_text,
            flag=view.flagged.get(index),
            price_text=money_text(line.part.price_usd if line.part else None, state.currency, rates),
            cards=cards.get(index, ()),
        )
        for index, line in enumerate(state.lines)
    ]


GUIDED = [
    Category.GPU,
    Category.CPU,
    Category.MOTHERBOARD,
    Category.MEMORY,
    Category.PSU,
    Category.STORAGE,
    Category.CASE,
    Category.COOLER,
    Category.FAN,
]


def next_category(state: State) -> str | None:
    """The first part a working rig still lacks, in the order people choose them: its picker opens."""
    present = {line.category for line in state.lines}
    return next((category for category in GUIDED if category not in present), None)


def build_page(state: State, base_path: str) -> Page:
    """The page for a resolved state (edits.resolve_state): the report, then one region per panel."""
    report = report_for(state.lines, state.context())
    view = report_view(report, state.lines)
    totals = totals_for(state, report)
    tokens = [encode_line(line) for line in state.lines]
    attrs = recheck_attrs(base_path)
    board = next((line for line in state.lines if line.category == Category.MOTHERBOARD and line.part), None)
    board_spec = spec_for(board.part) if board else None
    board_slots = tuple(board_spec.pcie_slots or ()) if board_spec else ()
    rows_known = all(slot.row_known for slot in board_slots)
    places = card_places(view)
    numbers = card_numbers(state)
    rows = rows_for(state, view, _card_rows(state, board_slots, places, numbers))
    gpu_map, gpu_map_note = slot_map(state, board_slots, places, numbers, rows_known, bool(view.obstructed))
    upcoming = next_category(state)
    by_category: dict[str, list[Row]] = {}
    for row, line in zip(rows, state.lines, strict=True):
        by_category.setdefault(line.category, []).append(row)
    multi_psu = sum(line.quantity for line in state.lines if line.category == Category.PSU) > 1
    sections = [
        Region(
            f"row-{category}",
            f"{PAGE_TEMPLATE}#row-section",
            {
                "section": Section(
                    category=category,
                    label=label,
                    single=category in SINGLE,
                    rows=tuple(by_category.get(category, ())),
                    open_picker=category == upcoming,
                    slot_map=gpu_map if category == Category.GPU else (),
                    slot_map_note=gpu_map_note if category == Category.GPU else "",
                ),
                "base_path": base_path,
                "recheck_attrs": attrs,
                "psu_choice": category == Category.GPU and multi_psu,
            },
        )
        for category, label in CATEGORY_ORDER
    ]
    circuits = CIRCUIT_CHOICES + (
        [] if state.circuit in dict(CIRCUIT_CHOICES) else [(state.circuit, circuit_text(state.circuit))]
    )
    where = Region(
        "where",
        f"{PAGE_TEMPLATE}#where",
        {
            "circuit": state.circuit,
            "kwh_price": state.kwh_price,
            "hours_per_day": state.hours_per_day,
            "currency": state.currency,
            # The kWh input's placeholder: the default price in the currency, by today's rate (signed here,
            # not read by a template filter, so a rate change re-renders the region).
            "kwh_placeholder": f"{default_kwh_price(state.currency):g}",
            # The menus' options, built once in Python (a template loop costs ~0.1 ms an option here).
            "circuit_options": option_tags(tuple(circuits), state.circuit),
            "currency_options": option_tags(tuple((c, c) for c in CURRENCIES), state.currency),
            "recheck_attrs": attrs,
        },
    )
    return Page(
        state=state,
        base_path=base_path,
        report=report,
        view=view,
        totals=totals,
        tokens=tokens,
        query=state.query(tokens=tokens),
        errors=Region("errors", f"{PAGE_TEMPLATE}#errors", {"errors": list(state.errors)}),
        summary=Region(
            "summary", f"{PAGE_TEMPLATE}#summary", {"summary": verdict_summary(state, view, totals)}
        ),
        sections=sections,
        custom=Region(
            "custom", f"{PAGE_TEMPLATE}#custom", {"base_path": base_path, "categories": CATEGORY_ORDER}
        ),
        where=where,
        report_regions=report_regions(state, view, totals),
    )


@dataclass(frozen=True)
class VerdictSummary:
    """The compact verdict the configurator keeps in view on every re-check (issue 15, item 4)."""

    has_lines: bool
    errors: int
    warnings: int
    wall_w: float | None
    circuit_limit_w: float | None
    vram_gb: float | None
    price: str  # "5,177 USD", "" when nothing is priced
    coverage: str  # "3 of 9 parts priced" where the total is incomplete


def whole(amount) -> int:
    """An amount rounded half up to a whole number, as Django's floatformat:0 rounds it on the totals panel."""
    return int(Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def verdict_summary(state: State, view: ReportView, totals: Totals) -> VerdictSummary:
    power = view.power
    has_gpu_or_psu = any(line.category in (Category.GPU, Category.PSU) for line in state.lines)
    return VerdictSummary(
        has_lines=bool(state.lines),
        errors=sum(1 for f in view.findings if f.severity == "error"),
        warnings=sum(1 for f in view.findings if f.severity == "warning"),
        wall_w=power.get("wall_w") if has_gpu_or_psu else None,
        circuit_limit_w=power.get("circuit_limit_w") if has_gpu_or_psu else None,
        vram_gb=view.vram_gb or None,
        # rounded as the totals panel rounds (Django's floatformat: half up), so both say the same figure
        price=f"{whole(totals.price_new):,} {totals.currency}" if totals.price_new is not None else "",
        coverage=totals.coverage,
    )


def report_regions(state: State, view: ReportView, totals: Totals) -> list[Region]:
    """The report's panels, in page order."""
    board = next((line for line in state.lines if line.category == Category.MOTHERBOARD and line.part), None)
    lanes = {
        # The board's slot table is the catalogue's: its slug and the catalogue version name it.
        "board": board.slug if board else None,
        "catalogue": catalogue_version() if board else None,
        "gpus": view.thermal.get("gpus"),
        "obstructed": view.obstructed,
        "lane_rows": view.lanes,
        "case_rows": case_slot_count(state),
    }
    power = {"power": view.power, "power_gpus": view.power_gpus}
    thermal = {
        "thermal": view.thermal,
        "hint": thermal_hint({line.category for line in state.lines}, view.raw),  # why no estimate
    }
    return [
        Region(
            "totals",
            f"{REPORT_TEMPLATE}#totals",
            {
                "totals": totals,
                "coverage": totals.coverage,  # "N of M parts priced" (builds/money.py)
                "vram_gb": view.vram_gb,
                "bf16_tflops": view.bf16_tflops,
            },
        ),
        Region(
            "findings",
            f"{REPORT_TEMPLATE}#findings",
            {
                "finding_groups": view.finding_groups,
                "any_findings": bool(view.findings),
                "has_lines": bool(state.lines),
                "not_checked": view.not_checked,
            },
        ),
        Region(
            "lanes", f"{REPORT_TEMPLATE}#lanes", lanes, draw=lambda: {"slot_svg": _slot_svg(board, lanes)}
        ),
        Region("power", f"{REPORT_TEMPLATE}#power", power, draw=lambda: {"power_svg": power_bars_svg(power)}),
        Region(
            "thermal",
            f"{REPORT_TEMPLATE}#thermal",
            thermal,
            draw=lambda: {"thermal_svg": thermal_gauge_svg(thermal)},
        ),
        Region("workloads", f"{REPORT_TEMPLATE}#workloads", {"workload_rows": view.workloads}),
        Region("interconnect", f"{REPORT_TEMPLATE}#interconnect", {"parallelism": view.parallelism}),
    ]


def _slot_svg(board: Line | None, lanes: dict) -> str:
    """The slot diagram from the lanes region's data only (the drawer reads the report's shape)."""
    drawn = {
        "thermal": {"gpus": lanes["gpus"] or []},
        "lanes": [dataclasses.asdict(lane) for lane in lanes["lane_rows"]],
        "findings": [{"code": "GPU_SLOT_OBSTRUCTED", "parts": lanes["obstructed"]}],
    }
    return slot_layout_svg(spec_for(board.part) if board else None, drawn, lanes["case_rows"])
