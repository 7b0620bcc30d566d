"""Server-rendered SVG: the board's slots with cards at their real thickness, power per PSU against its
rating and the circuit, and the case air temperature rise. No inline style (CSP: style-src 'self')."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeData, mark_safe

ROW_H = 26


def join_safe(pieces) -> str:
    """Concatenate pieces that format_html already escaped."""
    if not all(isinstance(piece, SafeData) for piece in pieces):
        raise TypeError("join_safe takes only escaped (SafeData) pieces")
    return mark_safe("".join(pieces))  # noqa: S308 - every piece is SafeData, checked above


SLOT_X = 150
SLOT_W16 = 240


def slot_layout_svg(board_spec, report: dict) -> str:
    """Expansion rows top to bottom; each PCIe slot drawn to its physical length with its electrical
    width; each card drawn as a box as thick as its cooler, so covered slots and tight gaps show."""
    slots = list(getattr(board_spec, "pcie_slots", None) or [])
    cards = [g for g in report.get("thermal", {}).get("gpus", []) if isinstance(g.get("slot"), int)]
    risers = [g for g in report.get("thermal", {}).get("gpus", []) if not isinstance(g.get("slot"), int)]
    if not slots and not cards:
        return ""
    lanes = {(lane["part"], lane["unit"]): lane for lane in report.get("lanes", [])}
    # Firmware-derived tables: slots in the firmware's order, rows unknown; cards are not drawn at their
    # thickness, since nothing is known of what they cover.
    rows_known = all(getattr(s, "row_known", True) for s in slots)
    rows = max(
        [s.position for s in slots] + [int(c["slot"] + (c.get("thickness_slots") or 2)) for c in cards] + [7]
    )
    obstructed = set()
    for finding in report.get("findings", []):
        if finding["code"] == "GPU_SLOT_OBSTRUCTED":
            obstructed.update(finding["parts"])
    height = rows * ROW_H + 20 + (len(risers) * 30 if risers else 0)
    parts = []
    for row in range(1, rows + 1):
        y = row * ROW_H
        parts.append(
            format_html(
                '<text x="8" y="{}" class="svg-muted">{} {}</text>',
                y - 8,
                "row" if rows_known else "slot",
                row,
            )
        )
    for slot in slots:
        y = slot.position * ROW_H - 16
        length = SLOT_W16 * (slot.physical_width or 16) / 16
        label = f"x{slot.physical_width or '?'} slot, x{slot.electrical_width or '?'} gen{slot.gen or '?'} {slot.source or ''}"
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="8" rx="2" class="svg-slot"><title>{}</title></rect>'
                '<text x="{}" y="{}" class="svg-muted">{}</text>',
                SLOT_X,
                y,
                length,
                label,
                SLOT_X + SLOT_W16 + 10,
                y + 8,
                label,
            )
        )
    for card in cards:
        thickness = (card.get("thickness_slots") or 2) if rows_known else 1
        y = card["slot"] * ROW_H - 20
        lane = lanes.get((card["part"], card["unit"]), {})
        css = "svg-card-bad" if card["part"] in obstructed else "svg-card"
        width_label = f"x{lane.get('width')} gen{lane.get('gen')}" if lane.get("width") else "no link"
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" rx="4" class="{}"><title>{}</title></rect>'
                '<text x="{}" y="{}" class="svg-card-label">{} · {} · {}</text>',
                SLOT_X - 20,
                y,
                SLOT_W16 + 40,
                thickness * ROW_H - 4,
                css,
                card["label"],
                SLOT_X - 12,
                y + 16,
                card["label"][:34],
                f"{thickness:g} slots" if rows_known else "row unknown",
                width_label,
            )
        )
    for i, card in enumerate(risers):
        y = rows * ROW_H + 14 + i * 30
        lane = lanes.get((card["part"], card["unit"]), {})
        width_label = f"x{lane.get('width')} gen{lane.get('gen')}" if lane.get("width") else "link unknown"
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="24" rx="4" class="svg-card-riser"></rect>'
                '<text x="{}" y="{}" class="svg-card-label">on a riser: {} · {}</text>',
                SLOT_X - 20,
                y,
                SLOT_W16 + 40,
                SLOT_X - 12,
                y + 16,
                card["label"][:40],
                width_label,
            )
        )
    body = join_safe(parts)
    return format_html(
        '<svg viewBox="0 0 560 {}" role="img" aria-labelledby="slots-title" class="diagram">'
        '<title id="slots-title">{}</title>{}</svg>',
        height,
        "Board slots with each card at its real thickness"
        if rows_known
        else "Board slots in the firmware's order (physical rows unknown)",
        body,
    )


def power_bars_svg(report: dict) -> str:
    power = report.get("power", {})
    psus = power.get("psus", [])
    if not psus:
        return ""
    scale_w = max([p.get("rating_w") or 0 for p in psus] + [p.get("transient_w") or 0 for p in psus] + [1])
    rows = []
    for i, psu in enumerate(psus):
        y = 20 + i * 56
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
        rows.append(
            format_html(
                '<text x="0" y="{}" class="svg-label">PSU {}: {}</text>'
                '<rect x="0" y="{}" width="{}" height="18" class="svg-track"></rect>'
                '<rect x="0" y="{}" width="{}" height="18" class="{}"><title>sustained {} W</title></rect>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}" class="svg-transient"><title>transient peak {} W</title></line>'
                '<text x="4" y="{}" class="svg-bar-label">{} W sustained · {} W peak · {} W rating</text>',
                y - 4,
                psu["unit"],
                psu.get("name", "")[:50],
                y,
                500 * rating / scale_w,
                y,
                500 * sustained / scale_w,
                over,
                round(sustained),
                500 * transient / scale_w,
                y - 3,
                500 * transient / scale_w,
                y + 21,
                round(transient),
                y + 33,
                round(sustained),
                round(transient),
                round(rating),
            )
        )
    y = 20 + len(psus) * 56
    wall, limit = power.get("wall_w") or 0, power.get("circuit_limit_w") or 1
    scale = max(wall, limit) or 1
    css = "svg-bar-bad" if wall > limit else "svg-bar-warn" if wall > 0.8 * limit else "svg-bar"
    rows.append(
        format_html(
            '<text x="0" y="{}" class="svg-label">Wall: {} on {}</text>'
            '<rect x="0" y="{}" width="{}" height="18" class="svg-track"></rect>'
            '<rect x="0" y="{}" width="{}" height="18" class="{}"></rect>'
            '<text x="4" y="{}" class="svg-bar-label">{} W at the wall · {} A · circuit allows {} W continuous</text>',
            y - 4,
            "circuit",
            power.get("circuit", ""),
            y,
            500 * limit / scale,
            y,
            500 * wall / scale,
            css,
            y + 33,
            round(wall),
            power.get("amps", ""),
            round(limit),
        )
    )
    return format_html(
        '<svg viewBox="-2 0 520 {}" role="img" aria-labelledby="power-title" class="diagram">'
        '<title id="power-title">Power per PSU: sustained, transient peak and rating; wall draw against the circuit</title>{}</svg>',
        y + 44,
        join_safe(rows),
    )


def thermal_gauge_svg(report: dict) -> str:
    thermal = report.get("thermal", {})
    if thermal.get("open_frame"):
        return mark_safe(
            '<p class="small mb-0">Open frame: the cards breathe room air; no case temperature rise.</p>'
        )
    rise = thermal.get("case_air_rise_c")
    if rise is None:
        return ""
    width = min(rise, 20) / 20 * 500
    css = "svg-bar-bad" if rise > 15 else "svg-bar-warn" if rise > 10 else "svg-bar"
    return format_html(
        '<svg viewBox="0 0 520 56" role="img" aria-labelledby="thermal-title" class="diagram">'
        '<title id="thermal-title">Case air temperature rise: {} C (warning above 10 C)</title>'
        '<rect x="0" y="8" width="500" height="18" class="svg-track"></rect>'
        '<rect x="0" y="8" width="{}" height="18" class="{}"></rect>'
        '<line x1="250" y1="2" x2="250" y2="30" class="svg-transient"></line>'
        '<text x="252" y="44" class="svg-muted">10 C</text>'
        '<text x="4" y="44" class="svg-bar-label">+{} C: {} W of heat, {} CFM of fan airflow</text></svg>',
        rise,
        width,
        css,
        rise,
        thermal.get("heat_into_case_w"),
        thermal.get("airflow_cfm"),
    )


def compare_bars_svg(rows: list[tuple[str, list[float | None]]], names: list[str]) -> str:
    """Key figures per build, each row scaled to its largest value."""
    pieces = []
    y = 10
    for label, values in rows:
        top = max([v for v in values if v] + [1])
        pieces.append(format_html('<text x="0" y="{}" class="svg-label">{}</text>', y + 10, label))
        for i, value in enumerate(values):
            y += 16
            pieces.append(
                format_html(
                    '<rect x="130" y="{}" width="{}" height="12" class="svg-series-{}"><title>{}: {}</title></rect>'
                    '<text x="{}" y="{}" class="svg-muted">{}</text>',
                    y,
                    300 * (value or 0) / top,
                    i,
                    names[i],
                    value,
                    135 + 300 * (value or 0) / top,
                    y + 10,
                    "—" if value is None else f"{value:,.0f}",
                )
            )
        y += 22
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="10" height="10" class="svg-series-{}"></rect><text x="{}" y="{}" class="svg-muted">{}</text>',
        ((130 + i * 150, y, i, 144 + i * 150, y + 9, name[:20]) for i, name in enumerate(names)),
    )
    return format_html(
        '<svg viewBox="0 0 600 {}" role="img" aria-label="Key figures per build" class="diagram">{}{}</svg>',
        y + 20,
        join_safe(pieces),
        legend,
    )
