"""The parts list's table body, built in Python with format_html (issue 15, item 13).

Rendered by the template language, the rows were most of the list page's cost (some 500 variable lookups,
filters and `if` nodes per page of 50 parts); here each row is one f-string with every value escaped. The markup is the one
templates/catalog/parts_list.html had (tests/catalog/test_parts_pages.py checks it).
"""

from html import escape

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Category
from catalog.selectors import PartList, PartRow

# html.escape(quote=True) is what django.utils.html.escape does to a str (& < > " ' escaped), without the
# lazy-string wrapper and SafeString bookkeeping per value; the row is marked safe once, at the end.
UNKNOWN = '<span class="unknown">unknown</span>'


SLUG_HOLE = "slug-hole"


def money_or_unknown(value) -> str:
    return UNKNOWN if value is None or value.amount is None else escape(str(value))


def price_cell(row: PartRow) -> str:
    if row.price.amount is None:
        price = '<span class="unknown">no price</span>'
    elif row.price_is_used:
        price = f'{escape(str(row.price))} <span class="badge text-bg-secondary">used</span>'
    else:
        price = escape(str(row.price))
    used = (
        f'<div class="small text-body-secondary">used {escape(str(row.used_price))}</div>'
        if row.used_price
        else ""
    )
    stale = ""
    if row.stale:
        observed = row.part.price_observed_at
        day = timezone.localtime(observed).date().isoformat() if observed else ""
        stale = (
            '<div><span class="badge text-bg-warning stale-badge" '
            f'title="Newest quote {day}">stale price</span></div>'
        )
    return f'<td class="text-end text-nowrap price">{price}{used}{stale}</td>'


def detail_href(category: str) -> str:
    """The part-detail URL of this category with a ``{slug}`` hole: reversed once per page, not per row."""
    return reverse("part-detail", args=[category, SLUG_HOLE]).replace(SLUG_HOLE, "{slug}")


def row_html(row: PartRow, category: str, currency_query: str, href: str | None = None) -> str:
    part = row.part
    slug = escape(part.slug)
    brand = f'<div class="small text-body-secondary">{escape(part.brand)}</div>' if part.brand else ""
    cells = "".join(
        f'<td class="text-nowrap">{UNKNOWN if cell.unknown else escape(cell.text)}</td>' for cell in row.cells
    )
    per = ""
    if category == Category.GPU:
        per = (
            f'<td class="text-end text-nowrap">{money_or_unknown(row.per_gb)}</td>'
            f'<td class="text-end text-nowrap">{money_or_unknown(row.per_tflop)}</td>'
        )
    return (
        f'<tr data-slug="{slug}"><td class="part-name"><a href="{escape((href or detail_href(category)).replace("{slug}", part.slug))}{currency_query}">'
        f"{escape(part.name)}</a>{brand}</td>{cells}{price_cell(row)}{per}</tr>"
    )


def rows_html(listing: PartList) -> SafeString:
    """Every row of the page, or the one-row 'nothing matches' message."""
    if not listing.rows:
        return mark_safe(  # noqa: S308 - an int in a constant
            f'<tr><td colspan="{len(listing.columns) + 4}">No part matches these filters.</td></tr>'
        )
    currency_query = "" if listing.currency == "USD" else f"?currency={escape(listing.currency)}"
    href = detail_href(listing.category)
    return mark_safe(  # noqa: S308 - every value above went through html.escape
        "".join(row_html(row, listing.category, currency_query, href) for row in listing.rows)
    )
