"""Catalogue write paths: price quotes (append-only), derived prices, currency conversion, retiring parts."""

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import CatalogueVersion, Condition, Currency, ExchangeRate, Gpu, Part, PriceQuote

CENT = Decimal("0.01")
CATALOGUE_VERSION_KEY = "catalog:version"
RATES_KEY = "catalog:rates"
VERSION_TTL_S = 2


def catalogue_version() -> int:
    """The version of the whole catalogue (parts, specs, slots, quotes, rates, cloud offers, presets) that
    cached parts and reports are keyed by. Read from the database at most every VERSION_TTL_S seconds per
    process, so a bump anywhere is seen everywhere within that time."""
    version = cache.get(CATALOGUE_VERSION_KEY)
    if version is None:
        version = CatalogueVersion.objects.filter(pk=1).values_list("number", flat=True).first() or 0
        cache.set(CATALOGUE_VERSION_KEY, version, VERSION_TTL_S)
    return version


def catalogue_version_bump() -> None:
    """Bump the version now. Writers call catalogue_changed() instead, which bumps on commit."""
    if not CatalogueVersion.objects.filter(pk=1).update(number=F("number") + 1):
        CatalogueVersion.objects.get_or_create(pk=1, defaults={"number": 2})
    cache.delete(CATALOGUE_VERSION_KEY)
    cache.delete(RATES_KEY)


def catalogue_changed(using: str | None = None) -> None:
    """The catalogue changed: bump its version when the current transaction commits (at once outside one),
    so no cache is keyed by a version whose rows could still roll back. Every catalogue model's save and
    delete calls this (catalog.signals) unless inside catalogue_bulk_write(); writes that send no signal
    (update(), bulk_create, raw SQL) call it themselves."""
    transaction.on_commit(catalogue_version_bump, using=using)


_bulk = threading.local()


def in_catalogue_bulk_write() -> bool:
    return getattr(_bulk, "depth", 0) > 0


@contextmanager
def catalogue_bulk_write(using: str | None = None):
    """Many catalogue writes, one bump: the saves inside schedule no bump each (catalog.signals), and one
    is scheduled when the block ends (the bootstrap and the importers write thousands of rows)."""
    _bulk.depth = getattr(_bulk, "depth", 0) + 1
    try:
        yield
    finally:
        _bulk.depth -= 1
        if not _bulk.depth:
            catalogue_changed(using)


def exchange_rates_forget() -> None:
    """Drop the cached rates at once, so this transaction re-reads a rate it has just written."""
    cache.delete(RATES_KEY)


def _rate_table() -> tuple[dict[str, Decimal], dict]:
    """(rate per currency, the date it was observed), read in one query and cached together."""
    table = cache.get(RATES_KEY)
    if table is None:
        rates, dates = {Currency.USD.value: Decimal(1)}, {}
        for rate in ExchangeRate.objects.order_by("observed_at"):
            rates[rate.currency] = rate.per_usd  # oldest first: the newest rate wins
            dates[rate.currency] = rate.observed_at
        table = (rates, dates)
        cache.set(RATES_KEY, table, 300)
    return table


def exchange_rates() -> dict[str, Decimal]:
    """Latest curated rate per currency, as units of that currency per 1 USD."""
    return _rate_table()[0]


def exchange_rate_dates() -> dict:
    """When each currency's rate in exchange_rates() was observed."""
    return _rate_table()[1]


def to_usd(amount: Decimal, currency: str, rates: dict[str, Decimal] | None = None) -> Decimal:
    rates = rates or exchange_rates()
    if currency not in rates:
        raise ValidationError({"currency": f"no exchange rate for {currency}"})
    return (Decimal(amount) / rates[currency]).quantize(CENT, ROUND_HALF_UP)


def from_usd(
    amount_usd: Decimal | None, currency: str, rates: dict[str, Decimal] | None = None
) -> Decimal | None:
    if amount_usd is None:
        return None
    rates = rates or exchange_rates()
    return (Decimal(amount_usd) * rates.get(currency, Decimal(1))).quantize(CENT, ROUND_HALF_UP)


def part_price_refresh(part: Part, rates: dict[str, Decimal] | None = None) -> None:
    """Derive the current new/used price (newest quote per condition, in USD) and GPU sort keys."""
    rates = rates or exchange_rates()
    derived = {}
    for condition in (Condition.NEW, Condition.USED):
        quote = part.price_quotes.filter(condition=condition).order_by("-observed_at", "-id").first()
        derived[condition] = (
            (to_usd(quote.amount, quote.currency, rates), quote.observed_at) if quote else (None, None)
        )
    part.price_new_usd = derived[Condition.NEW][0]
    part.price_used_usd = derived[Condition.USED][0]
    observed = [when for _, when in derived.values() if when]
    part.price_observed_at = max(observed) if observed else None
    fields = ["price_new_usd", "price_used_usd", "price_observed_at"]
    if part.category == "gpu":
        gpu = part if isinstance(part, Gpu) else part.gpu
        gpu.price_new_usd, gpu.price_used_usd, gpu.price_observed_at = (
            part.price_new_usd,
            part.price_used_usd,
            part.price_observed_at,
        )
        price = gpu.price_usd
        gpu.price_per_vram_gb_usd = (
            (price / Decimal(str(gpu.vram_gb))).quantize(CENT) if price and gpu.vram_gb else None
        )
        gpu.price_per_tflop_usd = (
            (price / Decimal(str(gpu.bf16_tflops))).quantize(CENT) if price and gpu.bf16_tflops else None
        )
        Gpu.objects.filter(pk=gpu.pk).update(
            price_per_vram_gb_usd=gpu.price_per_vram_gb_usd, price_per_tflop_usd=gpu.price_per_tflop_usd
        )
    Part.objects.filter(pk=part.pk).update(**{f: getattr(part, f) for f in fields})


@transaction.atomic
def price_quote_add(
    *,
    part: Part,
    amount,
    currency: str,
    condition: str = Condition.NEW,
    source: str,
    url: str = "",
    observed_at=None,
    by=None,
) -> PriceQuote:
    quote = PriceQuote(
        part=part,
        amount=Decimal(str(amount)),
        currency=currency,
        condition=condition,
        source=source,
        url=url,
        observed_at=observed_at or timezone.now(),
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    quote.full_clean()
    quote.save()
    # Lock the part row so concurrent quotes derive the price one after the other (no lost update).
    locked = Part.objects.select_for_update().get(pk=part.pk)
    part_price_refresh(locked)  # its update() sends no signal; the quote's save has called catalogue_changed
    return quote


def price_is_stale(part: Part, now=None) -> bool:
    if part.price_observed_at is None:
        return False
    now = now or timezone.now()
    return now - part.price_observed_at > timedelta(days=settings.RIGSITE_PRICE_STALE_DAYS)


@transaction.atomic
def part_retire(*, part: Part) -> Part:
    Part.objects.filter(pk=part.pk).update(retired=True)
    catalogue_changed()  # update() sends no signal
    part.retired = True
    return part


@dataclass(frozen=True)
class Money:
    amount: Decimal | None
    currency: str

    def __str__(self):
        if self.amount is None:
            return "—"
        symbol = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥"}.get(self.currency, "")
        return f"{symbol}{self.amount:,.0f}" if symbol else f"{self.amount:,.0f} {self.currency}"
