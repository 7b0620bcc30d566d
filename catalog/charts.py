"""Server-rendered inline SVG charts: no script, no external request, no style attributes (CSP style-src 'self').

Colours and strokes are SVG presentation attributes (fill=, stroke=), which CSP does not treat as inline style.
"""

import math
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from catalog.services import Money

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 72, 20, 36, 52
# One look per condition; the used line is also dashed so the two differ without colour.
SERIES_STYLE = {
    "new": {"stroke": "#0d6efd", "dash": ""},
    "used": {"stroke": "#b35c00", "dash": "6 4"},
}
FALLBACK_STYLE = {"stroke": "#495057", "dash": "2 3"}


def nice_step(span: float, target_ticks: int = 4) -> float:
    """A 1, 2, 2.5 or 5 x 10^n step giving about target_ticks intervals over span."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def y_ticks(lo: float, hi: float) -> list[float]:
    if hi <= lo:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo)
    start = math.floor(lo / step) * step
    end = math.ceil(hi / step) * step
    count = round((end - start) / step)
    return [start + i * step for i in range(count + 1)]


def price_history_svg(
    series: dict[str, list[tuple[datetime, Decimal]]],
    *,
    currency: str,
    title: str,
    chart_id: str = "price-chart",
) -> SafeString:
    """A line per condition (new, used) of price against the observation date, with labelled axes.

    series: condition -> [(observed_at, amount in `currency`)], oldest first. Empty series -> empty string.
    """
    points = [
        (when, float(amount)) for values in series.values() for when, amount in values if amount is not None
    ]
    if not points:
        return mark_safe("")
    t_min = min(when for when, _ in points)
    t_max = max(when for when, _ in points)
    if t_max - t_min < timedelta(days=1):
        t_min, t_max = t_min - timedelta(days=15), t_max + timedelta(days=15)
    ticks = y_ticks(min(v for _, v in points), max(v for _, v in points))
    y_lo, y_hi = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    t_span = (t_max - t_min).total_seconds()

    def x_of(when: datetime) -> float:
        return LEFT + plot_w * (when - t_min).total_seconds() / t_span

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - (value - y_lo) / ((y_hi - y_lo) or 1))

    def money(value: float) -> str:
        return str(Money(Decimal(str(round(value, 2))), currency))

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    descriptions = []
    for condition, values in series.items():
        if values:
            first, last = values[0], values[-1]
            descriptions.append(
                f"{condition}: {len(values)} quote{'s' if len(values) != 1 else ''} from "
                f"{first[0]:%Y-%m-%d} to {last[0]:%Y-%m-%d}, latest {money(float(last[1]))}"
            )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="price-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{title_id} {desc_id}" id="{escape(chart_id)}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape("; ".join(descriptions))}.</desc>',
    ]
    # Y grid and tick labels.
    for value in ticks:
        y = y_of(value)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#dee2e6" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#495057">'
            f"{escape(money(value))}</text>"
        )
    # X tick labels: up to five evenly spaced dates.
    tick_count = 4 if t_span > 0 else 0
    for i in range(tick_count + 1):
        when = t_min + timedelta(seconds=t_span * i / max(tick_count, 1))
        x = x_of(when)
        # The end labels align inwards so they are never cut at the chart's edges.
        anchor = "start" if i == 0 else "end" if i == tick_count else "middle"
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h + 4}" stroke="#495057"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 17}" text-anchor="{anchor}" font-size="11" fill="#495057">'
            f"{when:%Y-%m-%d}</text>"
        )
    # Axes and their titles.
    out.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#495057" stroke-width="1"/>'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        f'stroke="#495057" stroke-width="1"/>'
    )
    out.append(
        f'<text class="axis-title" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
        f'font-size="12" fill="#212529">Date observed</text>'
    )
    out.append(
        f'<text class="axis-title" x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" font-size="12" '
        f'fill="#212529" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">Price ({escape(currency)})</text>'
    )
    # Series, with a legend above the plot.
    legend_x = LEFT
    for condition, values in series.items():
        style = SERIES_STYLE.get(condition, FALLBACK_STYLE)
        dash = f' stroke-dasharray="{style["dash"]}"' if style["dash"] else ""
        coords = [(x_of(when), y_of(float(amount))) for when, amount in values if amount is not None]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            out.append(
                f'<polyline class="series series-{escape(condition)}" points="{path}" fill="none" '
                f'stroke="{style["stroke"]}" stroke-width="2"{dash}/>'
            )
        for (when, amount), (x, y) in zip([v for v in values if v[1] is not None], coords):
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{style["stroke"]}">'
                f"<title>{escape(condition)}: {escape(money(float(amount)))} on {when:%Y-%m-%d}</title></circle>"
            )
        out.append(
            f'<line x1="{legend_x}" y1="14" x2="{legend_x + 24}" y2="14" stroke="{style["stroke"]}" '
            f'stroke-width="2"{dash}/>'
            f'<text x="{legend_x + 30}" y="18" font-size="12" fill="#212529">{escape(condition)}</text>'
        )
        legend_x += 90
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped above
