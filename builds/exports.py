"""Exports (Markdown for forums, CSV, JSON), saved-vs-today prices and cost of ownership."""

import csv
import io
import json
import re
from decimal import Decimal

from django.conf import settings
from django.db.models import Min
from django.http import HttpResponse, JsonResponse
from django.utils.text import capfirst

from builds.money import line_price, totals_for
from builds.reports import report_for
from builds.selectors import build_as_dict
from builds.wording import circuit_text, part_noun
from catalog.models import CloudOffer
from catalog.prices_csv import csv_cell
from catalog.services import Money, exchange_rates, from_usd

FORMATS = {"md", "csv", "json"}
# Stated assumption for rent-vs-buy: consumer GPUs have resold for about half their price after two years
# of use (used RTX 3090s at $600-900 in 2024 against a $1,499 launch price; seed posts 002 and 004).
RESALE_FRACTION_AFTER_2Y = Decimal("0.5")
DAYS_PER_MONTH = Decimal("30.4")


def price_rows(build, lines, currency: str) -> list[dict]:
    rates = exchange_rates()
    rows = []
    for line in lines:
        item = line.item
        today = line.part.price_usd if line.part else None
        rows.append(
            {
                "category": line.category,
                "name": line.name,
                "quantity": line.quantity,
                "placement": line.placement,
                "saved": Money(from_usd(item.saved_price_usd, currency, rates), currency) if item else None,
                "today": Money(from_usd(today, currency, rates), currency),
                "paid": (
                    Money(item.price_paid_amount, item.price_paid_currency)
                    if item and item.price_paid_amount is not None
                    else None
                ),
                "source_part": line.part,
            }
        )
    return rows


def cost_of_ownership(build, state, report: dict) -> dict:
    """Electricity per year and months until owning beats renting the same GPUs in the cloud."""
    rates = exchange_rates()
    currency = state.currency
    gpu_ids = [line.part.pk for line in state.lines if line.category == "gpu" and line.part]
    cheapest = dict(
        CloudOffer.objects.filter(gpu_id__in=gpu_ids, gpus=1)
        .values_list("gpu_id")
        .annotate(best=Min("usd_per_hour"))
    )
    cloud_hourly_usd = Decimal(0)
    missing = []
    for line in state.lines:
        if line.category != "gpu":
            continue
        if line.part and line.part.pk in cheapest:
            cloud_hourly_usd += cheapest[line.part.pk] * line.quantity
        else:
            missing.append(line.name)
    hours = Decimal(str(report.get("cost", {}).get("hours_per_day") or 8))
    # The price paid where a saved line records one, else today's (builds/money.py); unpriced lines are
    # counted so that the payback says when it rests on an incomplete total.
    prices = [(line_price(line, rates), line.quantity) for line in state.lines]
    price_usd = sum((p.unit_usd * qty for p, qty in prices if p.unit_usd is not None), Decimal(0))
    unpriced = sum(1 for p, _ in prices if p.unit_usd is None)
    yearly_cost = report.get("cost", {}).get("yearly_cost")
    # The engine prices electricity in the context currency; convert back to USD for the comparison.
    electricity_month_usd = (
        Decimal(str(yearly_cost)) / rates.get(currency, Decimal(1)) / 12
        if yearly_cost is not None
        else Decimal(0)
    )
    cloud_month_usd = cloud_hourly_usd * hours * DAYS_PER_MONTH
    saving = cloud_month_usd - electricity_month_usd
    breakeven = (price_usd / saving).quantize(Decimal("0.1")) if saving > 0 and price_usd else None
    with_resale = (
        (price_usd * (1 - RESALE_FRACTION_AFTER_2Y) / saving).quantize(Decimal("0.1"))
        if saving > 0 and price_usd
        else None
    )
    return {
        "currency": currency,
        "yearly_electricity": report.get("cost", {}).get("yearly_cost"),
        "hours_per_day": float(hours),
        "cloud_hourly": from_usd(cloud_hourly_usd, currency, rates) if cloud_hourly_usd else None,
        "cloud_monthly": from_usd(cloud_month_usd, currency, rates) if cloud_hourly_usd else None,
        "breakeven_months": breakeven,
        "breakeven_months_with_resale": with_resale,
        "resale_fraction": RESALE_FRACTION_AFTER_2Y,
        "gpus_without_cloud_price": missing,
        "price_total": from_usd(price_usd, currency, rates) if price_usd else None,
        "price_coverage": f"{len(prices) - unpriced} of {len(prices)} parts priced" if unpriced else "",
    }


# ASCII punctuation but , ; % ? / = ' " (which start no Markdown construct), kept readable in prices.
MD_PUNCTUATION = re.compile(r"([!#$&()*+\-.:<>@\[\\\]^_`{|}~])")
MD_CODE = re.compile(r"[A-Z0-9_]{1,60}")
MD_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def md_text(value) -> str:
    """User text (a build or part name, a finding that quotes one) as literal Markdown inline text: one line,
    its Markdown punctuation backslash-escaped (CommonMark 2.4: any ASCII punctuation may be), so no link,
    image, HTML, emphasis, code span, table pipe or block marker can come from it."""
    text = MD_LINE_BREAKS.sub(" ", str(value)).replace("\x00", "\ufffd").strip()
    return MD_PUNCTUATION.sub(r"\\\1", text)


def md_code(value) -> str:
    """An engine finding code (A-Z, 0-9, _) as a code span; anything else as escaped text."""
    return f"`{value}`" if isinstance(value, str) and MD_CODE.fullmatch(value) else md_text(value)


def md_number(value, spec: str = ".0f", unknown: str = "?") -> str:
    """A report figure; the engine gives None for what it does not know (no PSU, no GPU...)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return unknown
    return format(value, spec)


def site_root(request) -> str:
    """The site's address for links that leave the page (exports): settings.SITE_URL when set, else the
    request's own scheme and host (Django checks the host against ALLOWED_HOSTS)."""
    configured = getattr(settings, "SITE_URL", "")
    return (configured or request.build_absolute_uri("/")).rstrip("/")


def markdown(build, state, report: dict, rows: list[dict], root: str = "") -> str:
    out = [f"## {md_text(build.name)}", "", "| Category | Part | Qty | Price today |", "|---|---|---|---|"]
    for row in rows:
        cells = (capfirst(part_noun(row["category"])), row["name"], row["quantity"], row["today"])
        out.append("| " + " | ".join(md_text(cell) for cell in cells) + " |")
    totals = totals_for(state, report) if state is not None else None
    if totals is not None and totals.price_new is not None:
        total = f"{totals.price_new:,.0f} {totals.currency}"
        notes = "; ".join(
            n for n in (totals.coverage, totals.paid_lines and "price paid where recorded") if n
        )
        out.append(f"| | **Total** | | {md_text(f'{total} ({notes})' if notes else total)} |")
    power = report.get("power") or {}
    capacity = report.get("capacity") or {}
    compute = report.get("compute") or {}
    out += [
        "",
        f"VRAM {md_number(capacity.get('vram_gb'), 'g')} GB · RAM {md_number(capacity.get('ram_gb'), 'g')} GB · "
        f"BF16 {md_number(compute.get('bf16_tflops'), 'g')} TFLOPS · "
        f"{md_number(power.get('sustained_w'))} W sustained, {md_number(power.get('transient_w'))} W peak, "
        f"{md_number(power.get('wall_w'))} W at the wall on a {md_text(circuit_text(power.get('circuit')) or '?')} circuit",
        "",
    ]
    for finding in report.get("findings") or []:
        out.append(
            f"- **{md_text(finding.get('severity'))}** {md_code(finding.get('code'))}: "
            f"{md_text(finding.get('message'))}"
        )
    out += ["", f"Checked with Rigsite: {root}{build.get_absolute_url()}"]
    return "\n".join(out) + "\n"


def export_response(build, state, fmt: str, root: str = "") -> HttpResponse:
    report = report_for(state.lines, state.context())
    rows = price_rows(build, state.lines, state.currency)
    filename = f"rigsite-{build.share_id}"
    if fmt == "json":
        response = JsonResponse(build_as_dict(build, state.lines, report), json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'inline; filename="{filename}.json"'
        return response
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["category", "part", "slug", "quantity", "placement", f"price_today_{state.currency}"]
        )
        for row in rows:
            part = row["source_part"]
            cells = [
                row["category"],
                row["name"],
                part.slug if part else "",
                row["quantity"],
                json.dumps(row["placement"].as_json()) if row["placement"] else "",
                row["today"].amount if row["today"].amount is not None else "",
            ]
            writer.writerow([csv_cell(cell) for cell in cells])  # OWASP CSV injection: no formula cells
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    response = HttpResponse(
        markdown(build, state, report, rows, root), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="{filename}.md"'
    return response
