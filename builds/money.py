"""Money as users see it (issue 15, items 6 and 7): a total says how many of the build's parts it covers,
a saved line counts at the price its builder paid, and every amount is in the chosen currency.

A line's price: the price paid where a saved build line records one (what the builder paid, in its own
currency, per unit), else the catalogue's price today (new, else used). A line with neither is unpriced,
and every figure made from the total (price per GB, per TFLOP, payback) says that it rests on an
incomplete total.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from catalog.engine.specs import DEFAULT_KWH_PRICE
from catalog.services import CENT, exchange_rate_dates, exchange_rates, from_usd

# The engine's default electricity price (catalog/engine/specs.py) is in USD per kWh.
DEFAULT_KWH_CURRENCY = "USD"


@dataclass(frozen=True)
class LinePrice:
    unit_usd: Decimal | None  # per unit, in USD (None: unpriced)
    source: str  # "paid" | "today" | ""


def line_price(line, rates: dict[str, Decimal]) -> LinePrice:
    """The price one unit of a line counts at in a total: paid (saved builds), else today's, else none."""
    item = getattr(line, "item", None)
    paid = getattr(item, "price_paid_amount", None) if item is not None else None
    paid_currency = getattr(item, "price_paid_currency", "") if item is not None else ""
    if paid is not None and paid_currency in rates:
        return LinePrice((Decimal(paid) / rates[paid_currency]).quantize(CENT, ROUND_HALF_UP), "paid")
    part = getattr(line, "part", None)
    today = part.price_usd if part is not None else None
    if today is not None:
        return LinePrice(Decimal(today), "today")
    return LinePrice(None, "")


@dataclass
class Totals:
    currency: str
    price_new: Decimal | None  # the total (paid or today's new price per line), in `currency`
    price_used: Decimal | None  # the same with used prices where the catalogue has them
    unpriced: int  # lines with no price at all
    lines: int = 0  # lines in the build (M)
    paid_lines: int = 0  # lines counted at the price paid
    per_vram_gb: Decimal | None = None
    per_tflop: Decimal | None = None
    yearly_electricity: float | None = None
    rate_note: str = ""  # the exchange rate used, once, where the currency is not USD

    @property
    def priced_lines(self) -> int:
        return self.lines - self.unpriced

    @property
    def complete(self) -> bool:
        return self.lines > 0 and self.unpriced == 0

    @property
    def coverage(self) -> str:
        """'N of M parts priced' where the total leaves parts out; '' where it covers them all."""
        if not self.lines or self.complete:
            return ""
        return f"{self.priced_lines} of {self.lines} parts priced"


def rate_note(currency: str) -> str:
    """'1 USD = 7.12 CNY (rate of 2026-10-01)' for the currency shown; '' for USD. From the cached rate table:
    no query on a re-check."""
    if currency == "USD":
        return ""
    per_usd = exchange_rates().get(currency)
    if per_usd is None:
        return f"no exchange rate for {currency}: amounts shown in USD"
    return f"1 USD = {per_usd.normalize():f} {currency} (rate of {exchange_rate_dates()[currency]:%Y-%m-%d})"


def totals_for(state, report: dict) -> "Totals":
    """The build's totals in the state's currency, with how many of its lines they cover."""
    rates = exchange_rates()
    new = used = Decimal(0)
    unpriced = paid_lines = 0
    for line in state.lines:
        price = line_price(line, rates)
        if price.unit_usd is None:
            unpriced += 1
            continue
        paid_lines += price.source == "paid"
        new += price.unit_usd * line.quantity
        part = line.part
        used_unit = (
            price.unit_usd
            if price.source == "paid" or part is None or part.price_used_usd is None
            else part.price_used_usd
        )
        used += used_unit * line.quantity
    vram = report.get("capacity", {}).get("vram_gb") or 0
    tflops = report.get("compute", {}).get("bf16_tflops") or 0
    priced = new if state.lines and unpriced < len(state.lines) else None
    currency = state.currency
    return Totals(
        currency=currency,
        price_new=from_usd(priced, currency, rates),
        price_used=from_usd(used, currency, rates) if priced is not None else None,
        unpriced=unpriced,
        lines=len(state.lines),
        paid_lines=paid_lines,
        per_vram_gb=from_usd(priced / Decimal(str(vram)), currency, rates) if priced and vram else None,
        per_tflop=from_usd(priced / Decimal(str(tflops)), currency, rates) if priced and tflops else None,
        yearly_electricity=report.get("cost", {}).get("yearly_cost"),
        rate_note=rate_note(currency),
    )


def money_text(amount_usd, currency: str, rates: dict[str, Decimal] | None = None, *, places: int = 0) -> str:
    """A USD amount as '1,234 JPY' in the chosen currency ('' for None)."""
    if amount_usd is None:
        return ""
    value = from_usd(Decimal(amount_usd), currency, rates)
    return f"{value:,.{places}f} {currency}"


def default_kwh_price(currency: str, rates: dict[str, Decimal] | None = None) -> float:
    """The engine's default electricity price (USD per kWh) in `currency`, so that a build shown in JPY
    prices its electricity in JPY rather than relabelling the USD figure."""
    if currency == DEFAULT_KWH_CURRENCY:
        return DEFAULT_KWH_PRICE
    rates = rates or exchange_rates()
    rate = rates.get(currency)
    if rate is None:
        return DEFAULT_KWH_PRICE
    return float((Decimal(str(DEFAULT_KWH_PRICE)) * rate).quantize(Decimal("0.01"), ROUND_HALF_UP))


def localised_context(data: dict) -> dict:
    """A context dict with the default kWh price converted into its currency where it names none."""
    currency = data.get("currency") or "USD"
    if data.get("kwh_price") is None and isinstance(currency, str) and currency != DEFAULT_KWH_CURRENCY:
        return data | {"kwh_price": default_kwh_price(currency)}
    return data
