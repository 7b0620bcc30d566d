"""`{{ usd_amount|money:currency }}`: a USD amount shown in the chosen currency ("1,234 JPY")."""

from django import template

from builds.money import default_kwh_price, money_text

register = template.Library()


@register.filter
def money(amount_usd, currency: str = "USD") -> str:
    return money_text(amount_usd, currency or "USD") or "—"


@register.filter
def kwh_default(currency: str) -> str:
    """The default electricity price per kWh in `currency` (the kWh input's placeholder)."""
    return f"{default_kwh_price(currency or 'USD'):g}"
