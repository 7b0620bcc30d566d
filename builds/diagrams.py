"""Server-rendered SVG: the board's slots with cards at their real thickness, power per PSU against its
rating and the circuit, the case air temperature rise, and the compare chart. No inline style (CSP:
style-src 'self').

Readable on a phone (issue 15, item 10): every diagram is drawn on a narrow canvas (WIDTH user units, font
sizes FONT_PX) and scaled to the page (static/css/rigsite.css `.diagram`: full width up to 440 px), so at
390 px a 11-unit label still renders at about 10 px. Text is laid out, never truncated: labels wrap to the
room they have (measured with DejaVu Sans widths, the widest of the usual sans-serif fonts), each label has
a row or column of its own, and long names go to a numbered legend below the drawing.
tests/browser/test_diagrams.py measures the rendered text boxes: none overlap, none under 9 px at 390 px.
"""

import math

from django.utils.html import format_html
from django.utils.safestring import SafeData, SafeString, mark_safe

WIDTH = 360  # user units across every diagram (the viewBox width)
# Font size in user units per CSS class (static/css/rigsite.css sets the same sizes) and whether it is bold.
FONT_PX = {"svg-muted": 11, "svg-label": 12, "svg-card-label": 11, "svg-bar-label": 11}
BOLD = {"svg-label"}
LINE_STEP = 1.36  # baseline to baseline, in ems: the text box of DejaVu Sans is 1.164 em tall

# DejaVu Sans advance widths in 1/1000 em (the font's hmtx table, rounded). What a glyph not listed takes:
# DEFAULT_EM, a wide letter's width, so an estimate errs towards wrapping early.
EM = {" ": 318, "!": 400, '"': 460, "#": 838, "$": 636, "%": 950, "&": 780, "'": 275, "(": 390, ")": 390}
EM |= {"*": 500, "+": 838, ",": 318, "-": 361, ".": 318, "/": 337, ":": 337, ";": 337, "<": 838, "=": 838}
EM |= {">": 838, "?": 531, "@": 1000, "[": 390, "]": 390, "_": 500, "|": 337, "~": 838, "·": 318, "×": 838}
EM |= {"°": 500, "—": 1000, "–": 500, "→": 838, "…": 1000}
EM |= dict.fromkeys("0123456789", 636)
EM |= dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [
            684,
            686,
            698,
            770,
            632,
            575,
            775,
            752,
            295,
            295,
            656,
            557,
            863,
            748,
            787,
            603,
            787,
            695,
            635,
            611,
            732,
            684,
            989,
            685,
            611,
            685,
        ],
        strict=True,
    )
)
EM |= dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        [
            613,
            635,
            550,
            635,
            615,
            352,
            635,
            634,
            278,
            278,
            579,
            278,
            974,
            634,
            612,
            635,
            635,
            411,
            521,
            392,
            634,
            592,
            818,
            592,
            592,
            525,
        ],
        strict=True,
    )
)
DEFAULT_EM = 1000
BOLD_FACTOR = 1.12  # DejaVu Sans Bold against Book, on average over text


def join_safe(pieces) -> str:
    """Concatenate pieces that format_html already escaped."""
    if not all(isinstance(piece, SafeData) for piece in pieces):
        raise TypeError("join_safe takes only escaped (SafeData) pieces")
    return mark_safe("".join(pieces))  # noqa: S308 - every piece is SafeData, checked above


def text_width(text: str, css: str) -> float:
    """Width in user units of `text` set in the class's font size (an upper estimate, see EM)."""
    size = FONT_PX[css]
    width = sum(EM.get(ch, DEFAULT_EM) for ch in text) * size / 1000
    return width * (BOLD_FACTOR if css in BOLD else 1.0)


def line_step(css: str) -> float:
    return round(FONT_PX[css] * LINE_STEP, 1)


def wrap(text: str, width: float, css: str) -> list[str]:
    """Greedy word wrap to `width` user units; a word longer than a line is broken between characters.
    Always at least one line; no line (but a single character) wider than `width`."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, css) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        while text_width(word, css) > width and len(word) > 1:
            cut = 1
            while cut < len(word) - 1 and text_width(word[: cut + 1], css) <= width:
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current or not lines:
        lines.append(current)
    return lines


def text_lines(x: float, y: float, lines: list[str], css: str) -> tuple[SafeString, float]:
    """<text> per line from baseline y down; returns the markup and the baseline after the last line."""
    step = line_step(css)
    pieces = []
    for line in lines:
        pieces.append(format_html('<text x="{}" y="{}" class="{}">{}</text>', x, round(y, 1), css, line))
        y += step
    return join_safe(pieces), y


def svg(height: float, label_id: str, title: str, body: str, extra_class: str = "") -> SafeString:
    return format_html(
        '<svg viewBox="0 0 {} {}" role="img" aria-labelledby="{}" class="diagram{}">'
        '<title id="{}">{}</title>{}</svg>',
        WIDTH,
        round(height),
        label_id,
        extra_class,
        label_id,
        title,
        body,
    )


# --- slots ---------------------------------------------------------------------------------------------

ROW_H = 28
TOP = 4
ROW_LABEL_X = 4
CARD_X, CARD_W = 46, 124  # the card column; the slot bars sit inside it
SLOT_X, SLOT_LEN = 52, 112  # an x16 slot drawn 112 units long
SLOT_LABEL_X = CARD_X + CARD_W + 6
LEGEND_X = 20


def slot_label(slot) -> str:
    """The slot's own label, as much of it as fits its column: size, link, then where its lanes come from."""
    room = WIDTH - SLOT_LABEL_X - 2
    physical, electrical, gen = slot.physical_width or "?", slot.electrical_width or "?", slot.gen or "?"
    for label in (
        f"x{physical} slot · x{electrical} gen{gen} · {slot.source or ''}".rstrip(" ·"),
        f"x{physical} slot · x{electrical} gen{gen}",
        f"x{physical} · x{electrical} gen{gen}",
    ):
        if text_width(label, "svg-muted") <= room:
            return label
    return f"x{electrical} gen{gen}"


def card_tag(numbers: list[int], thickness: float | None) -> str:
    """The label drawn on a card: its number(s) and, where it fits, its thickness."""
    tag = "GPU " + " + ".join(str(n) for n in numbers)
    room = CARD_W - 10
    if thickness is not None:
        with_thickness = f"{tag} · {thickness:g} slots"
        if text_width(with_thickness, "svg-card-label") <= room:
            return with_thickness
    return tag if text_width(tag, "svg-card-label") <= room else f"GPU {numbers[0]}+"


def slot_layout_svg(board_spec, report: dict, case_rows: int | None = None) -> str:
    """Expansion rows top to bottom; each PCIe slot drawn to its physical length with its electrical
    width; each card drawn as a box as thick as its cooler, so covered slots and tight gaps show. Row and
    slot labels have columns of their own; a card carries its number, and the legend below names it. The
    case's last expansion slot (`case_rows`) is drawn as a dashed line where it cuts the rows shown."""
    slots = list(getattr(board_spec, "pcie_slots", None) or [])
    gpus = list(report.get("thermal", {}).get("gpus", []))
    numbered = list(enumerate(gpus, 1))
    cards = [(n, g) for n, g in numbered if isinstance(g.get("slot"), int)]
    if not slots and not cards:
        return ""
    lanes = {(lane["part"], lane["unit"]): lane for lane in report.get("lanes", [])}
    # Firmware-derived tables: slots in the firmware's order, rows unknown; cards are not drawn at their
    # thickness, since nothing is known of what they cover.
    rows_known = all(getattr(s, "row_known", True) for s in slots)
    rows = max(
        [s.position for s in slots]
        + [
            math.ceil(c["slot"] + ((c.get("thickness_slots") or 2) if rows_known else 1) - 1)
            for _, c in cards
        ]
        + [7]
    )
    obstructed = set()
    for finding in report.get("findings", []):
        if finding["code"] == "GPU_SLOT_OBSTRUCTED":
            obstructed.update(finding["parts"])

    def row_top(row: int) -> float:
        return TOP + (row - 1) * ROW_H

    parts = []
    for row in range(1, rows + 1):
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="svg-muted">{} {}</text>',
                ROW_LABEL_X,
                row_top(row) + 24,
                "row" if rows_known else "slot",
                row,
            )
        )
    for slot in slots:
        y = row_top(slot.position)
        full = f"x{slot.physical_width or '?'} slot, x{slot.electrical_width or '?'} gen{slot.gen or '?'} {slot.source or ''}"
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="7" rx="2" class="svg-slot"><title>{}</title></rect>'
                '<text x="{}" y="{}" class="svg-muted">{}</text>',
                SLOT_X,
                y + 18,
                round(SLOT_LEN * (slot.physical_width or 16) / 16, 1),
                full.strip(),
                SLOT_LABEL_X,
                y + 24,
                slot_label(slot),
            )
        )
    # Boxes first, then every label on top; cards sharing a slot (an error the findings name) share a label.
    by_slot: dict[int, list[tuple[int, dict]]] = {}
    for n, card in cards:
        by_slot.setdefault(card["slot"], []).append((n, card))
        thickness = (card.get("thickness_slots") or 2) if rows_known else 1
        css = "svg-card-bad" if card["part"] in obstructed else "svg-card"
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" rx="4" class="{}"><title>GPU {}: {}</title></rect>',
                CARD_X,
                row_top(card["slot"]) + 1,
                CARD_W,
                thickness * ROW_H - 3,
                css,
                n,
                card["label"],
            )
        )
    for slot_number, here in sorted(by_slot.items()):
        thickness = (here[0][1].get("thickness_slots") or 2) if rows_known else None
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="svg-card-label">{}</text>',
                CARD_X + 5,
                row_top(slot_number) + 13,
                card_tag([n for n, _ in here], thickness),
            )
        )
    case_line = rows_known and case_rows is not None and case_rows < rows
    if case_line:
        edge = row_top(case_rows + 1) - 1
        parts.append(
            format_html(
                '<line x1="0" y1="{}" x2="{}" y2="{}" class="svg-case-limit"><title>{}</title></line>',
                edge,
                WIDTH,
                edge,
                f"The case ends after row {case_rows}",
            )
        )
    # The legend: one entry per GPU, its full name wrapped, where it sits and its link.
    y = row_top(rows + 1) + 16
    if case_line:
        lines = wrap(
            f"Dashed line: the case has {case_rows} expansion slots; a card in the slot must end above it",
            WIDTH - LEGEND_X - 2,
            "svg-muted",
        )
        parts.append(
            format_html(
                '<line x1="4" y1="{}" x2="15" y2="{}" class="svg-case-limit"></line>',
                round(y - 4, 1),
                round(y - 4, 1),
            )
        )
        block, y = text_lines(LEGEND_X, y, lines, "svg-muted")
        parts.append(block)
        y += 3
    for n, gpu in numbered:
        lane = lanes.get((gpu["part"], gpu["unit"]), {})
        link = f"x{lane.get('width')} gen{lane.get('gen')} link" if lane.get("width") else "link unknown"
        if isinstance(gpu.get("slot"), int):
            where = f"row {gpu['slot']}" if rows_known else f"slot {gpu['slot']}"
            if rows_known:
                where += f", {(gpu.get('thickness_slots') or 2):g} slots thick"
            css = "svg-card-bad" if gpu["part"] in obstructed else "svg-card"
        else:
            where, css = "on a riser", "svg-card-riser"
        blocked = ", covers a slot in use" if gpu["part"] in obstructed else ""
        lines = wrap(f"GPU {n}: {gpu['label']} — {where}, {link}{blocked}", WIDTH - LEGEND_X - 2, "svg-muted")
        parts.append(
            format_html(
                '<rect x="4" y="{}" width="11" height="11" rx="2" class="{}"></rect>', round(y - 9, 1), css
            )
        )
        block, y = text_lines(LEGEND_X, y, lines, "svg-muted")
        parts.append(block)
        y += 3
    return svg(
        y - 6,
        "slots-title",
        "Board slots with each card at its real thickness"
        if rows_known
        else "Board slots in the firmware's order (physical rows unknown)",
        join_safe(parts),
    )


# --- power ---------------------------------------------------------------------------------------------

BAR_W = WIDTH - 10
BAR_H = 16


def power_bars_svg(report: dict) -> str:
    power = report.get("power", {})
    psus = power.get("psus", [])
    if not psus:
        return ""
    scale_w = max([p.get("rating_w") or 0 for p in psus] + [p.get("transient_w") or 0 for p in psus] + [1])
    rows = []
    y = 14.0
    for i, psu in enumerate(psus, 1):
        rating = psu.get("rating_w") or 0
        sustained = psu.get("sustained_w") or 0
        transient = psu.get("transient_w") or 0
        over = (
            "svg-bar-bad"
            if rating and sustained > rating
            else "svg-bar-warn"
            if rating and sustained > 0.8 * rating
            else "svg-bar"
        )
        block, y = text_lines(
            2, y, wrap(f"PSU {i}: {psu.get('name', '')}", WIDTH - 4, "svg-label"), "svg-label"
        )
        rows.append(block)
        top = y - 10
        peak_x = round(BAR_W * transient / scale_w + 2, 1)
        rows.append(
            format_html(
                '<rect x="2" y="{}" width="{}" height="{}" class="svg-track"></rect>'
                '<rect x="2" y="{}" width="{}" height="{}" class="{}"><title>sustained {} W</title></rect>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}" class="svg-transient"><title>transient peak {} W</title></line>',
                top,
                round(BAR_W * rating / scale_w, 1),
                BAR_H,
                top,
                round(BAR_W * sustained / scale_w, 1),
                BAR_H,
                over,
                round(sustained),
                peak_x,
                top - 3,
                peak_x,
                top + BAR_H + 3,
                round(transient),
            )
        )
        figures = (
            f"{round(sustained):,} W sustained · {round(transient):,} W peak · {round(rating):,} W rating"
        )
        block, y = text_lines(2, top + BAR_H + 16, wrap(figures, WIDTH - 4, "svg-bar-label"), "svg-bar-label")
        rows.append(block)
        y += 8
    wall, limit = power.get("wall_w") or 0, power.get("circuit_limit_w") or 1
    scale = max(wall, limit) or 1
    css = "svg-bar-bad" if wall > limit else "svg-bar-warn" if wall > 0.8 * limit else "svg-bar"
    volts, amps = power.get("circuit_volts"), power.get("circuit_amps")
    circuit = (
        f"a {volts:g} V / {amps:g} A circuit" if volts and amps else f"circuit {power.get('circuit', '')}"
    )
    block, y = text_lines(2, y, wrap(f"Wall: {circuit}", WIDTH - 4, "svg-label"), "svg-label")
    rows.append(block)
    top = y - 10
    limit_x = round(BAR_W * limit / scale + 2, 1)  # the circuit's continuous limit, marked like a peak
    rows.append(
        format_html(
            '<rect x="2" y="{}" width="{}" height="{}" class="svg-track"></rect>'
            '<rect x="2" y="{}" width="{}" height="{}" class="{}"><title>wall draw {} W</title></rect>'
            '<line x1="{}" y1="{}" x2="{}" y2="{}" class="svg-transient"><title>circuit limit {} W</title></line>',
            top,
            round(BAR_W * limit / scale, 1),
            BAR_H,
            top,
            round(BAR_W * wall / scale, 1),
            BAR_H,
            css,
            round(wall),
            limit_x,
            top - 3,
            limit_x,
            top + BAR_H + 3,
            round(limit),
        )
    )
    figures = (
        f"{round(wall):,} W at the wall · {power.get('amps', '')} A · "
        f"the circuit allows {round(limit):,} W continuous"
    )
    block, y = text_lines(2, top + BAR_H + 16, wrap(figures, WIDTH - 4, "svg-bar-label"), "svg-bar-label")
    rows.append(block)
    return svg(
        y - 6,
        "power-title",
        "Power per PSU: sustained, transient peak and rating; wall draw against the circuit",
        join_safe(rows),
    )


# --- case air ------------------------------------------------------------------------------------------


def thermal_gauge_svg(report: dict) -> str:
    thermal = report.get("thermal", {})
    if thermal.get("open_frame"):
        return mark_safe(
            '<p class="small mb-0">Open frame: the cards breathe room air; no case temperature rise.</p>'
        )
    rise = thermal.get("case_air_rise_c")
    if rise is None:
        return ""
    width = min(rise, 20) / 20 * BAR_W
    css = "svg-bar-bad" if rise > 15 else "svg-bar-warn" if rise > 10 else "svg-bar"
    marker_x = 2 + BAR_W / 2
    heat, cfm = thermal.get("heat_into_case_w"), thermal.get("airflow_cfm")
    summary = (
        f"+{rise:g} °C: {'?' if heat is None else f'{heat:,.0f}'} W of heat, "
        f"{'?' if cfm is None else f'{cfm:,.0f}'} CFM of fan airflow"
    )
    # The 10 °C mark's label sits above the bar, the summary below it: they never share a line.
    lines, end = text_lines(2, 56, wrap(summary, WIDTH - 4, "svg-bar-label"), "svg-bar-label")
    body = format_html(
        '<text x="{}" y="12" class="svg-muted">10 °C warning</text>'
        '<text x="2" y="12" class="svg-muted">0</text>'
        '<rect x="2" y="20" width="{}" height="18" class="svg-track"></rect>'
        '<rect x="2" y="20" width="{}" height="18" class="{}"></rect>'
        '<line x1="{}" y1="15" x2="{}" y2="42" class="svg-transient"></line>{}',
        round(marker_x + 4, 1),
        BAR_W,
        round(width, 1),
        css,
        marker_x,
        marker_x,
        lines,
    )
    return svg(
        end - 6, "thermal-title", f"Case air temperature rise: {rise:g} °C (warning above 10 °C)", body
    )


# --- compare -------------------------------------------------------------------------------------------

COMPARE_BAR_X = 18
COMPARE_VALUE_ROOM = 64  # for the figure printed after the longest bar


def compare_bars_svg(rows: list[tuple[str, list[float | None]]], names: list[str]) -> str:
    """Key figures per build, each row scaled to its largest value; builds numbered, a full-name legend."""
    pieces = []
    bar_room = WIDTH - COMPARE_BAR_X - COMPARE_VALUE_ROOM
    y = 14.0
    for label, values in rows:
        block, y = text_lines(2, y, wrap(label, WIDTH - 4, "svg-label"), "svg-label")
        pieces.append(block)
        y -= 6
        top = max([v for v in values if v] + [1])
        for i, value in enumerate(values):
            width = round(bar_room * (value or 0) / top, 1)
            pieces.append(
                format_html(
                    '<text x="3" y="{}" class="svg-muted">{}</text>'
                    '<rect x="{}" y="{}" width="{}" height="12" class="svg-series-{}"><title>{}: {}</title></rect>'
                    '<text x="{}" y="{}" class="svg-muted">{}</text>',
                    round(y + 10, 1),
                    i + 1,
                    COMPARE_BAR_X,
                    round(y, 1),
                    width,
                    i,
                    names[i],
                    "no figure" if value is None else f"{value:,.0f}",
                    round(COMPARE_BAR_X + width + 4, 1),
                    round(y + 10, 1),
                    "—" if value is None else f"{value:,.0f}",
                )
            )
            y += 16
        y += 18
    y -= 4
    for i, name in enumerate(names):
        pieces.append(
            format_html(
                '<rect x="3" y="{}" width="10" height="10" class="svg-series-{}"></rect>', round(y - 9, 1), i
            )
        )
        block, y = text_lines(
            COMPARE_BAR_X, y, wrap(f"{i + 1}. {name}", WIDTH - COMPARE_BAR_X - 2, "svg-muted"), "svg-muted"
        )
        pieces.append(block)
        y += 2
    return format_html(
        '<svg viewBox="0 0 {} {}" role="img" aria-label="Key figures per build" class="diagram diagram-compare">'
        "{}</svg>",
        WIDTH,
        round(y - 6),
        join_safe(pieces),
    )
