"""Issue 15, items 6 and 7: totals say how many parts they cover and use the price paid where a saved line
has one; every amount is in the chosen currency; electricity converts; the exchange rate is shown once."""

import re
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from unittest.mock import patch
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builds import selectors
from builds.configurator.state import state_from_build
from builds.money import LinePrice, default_kwh_price, line_price, localised_context, money_text, totals_for
from catalog.engine.specs import DEFAULT_KWH_PRICE
from catalog.models import CloudOffer, Gpu
from catalog.services import exchange_rates

GPU = "nvidia-geforce-rtx-4090-fe"


def fake_line(today=None, used=None, paid=None, paid_currency="USD", quantity=1):
    part = SimpleNamespace(
        price_new_usd=today, price_used_usd=used, price_usd=today if today is not None else used
    )
    item = SimpleNamespace(
        price_paid_amount=paid, price_paid_currency=paid_currency if paid is not None else ""
    )
    return SimpleNamespace(part=part, item=item, quantity=quantity, category="gpu")


RATES = {"USD": Decimal(1), "EUR": Decimal("0.9"), "JPY": Decimal("150")}


def test_line_price_prefers_the_price_paid_then_today_then_none():
    assert line_price(fake_line(today=Decimal(1000), paid=Decimal(800)), RATES) == LinePrice(
        Decimal(800), "paid"
    )
    assert line_price(fake_line(today=Decimal(1000)), RATES).source == "today"
    assert line_price(fake_line(), RATES).unit_usd is None
    # paid in EUR: converted to USD at the rate
    assert line_price(fake_line(paid=Decimal(90), paid_currency="EUR"), RATES).unit_usd == Decimal(100)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(1, 5000)),  # today's price
            st.one_of(st.none(), st.integers(1, 5000)),  # price paid
            st.integers(1, 4),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_totals_never_silently_drop_unpriced_parts(rows):
    """Property: the total is the sum of the priced lines, and the coverage line names exactly how many
    lines are left out whenever any is."""
    lines = [
        fake_line(today=None if t is None else Decimal(t), paid=None if p is None else Decimal(p), quantity=q)
        for t, p, q in rows
    ]
    state = SimpleNamespace(lines=lines, currency="USD")
    with (
        patch("builds.money.exchange_rates", return_value=RATES),
        patch("builds.money.rate_note", return_value=""),
    ):
        totals = totals_for(state, {})
    unpriced = sum(1 for t, p, _ in rows if t is None and p is None)
    expected = sum((p if p is not None else t) * q for t, p, q in rows if not (t is None and p is None))
    assert totals.unpriced == unpriced and totals.lines == len(rows)
    if unpriced == len(rows):
        assert totals.price_new is None
    else:
        assert totals.price_new == Decimal(expected)
    if unpriced:
        assert totals.coverage == f"{len(rows) - unpriced} of {len(rows)} parts priced"
    else:
        assert totals.coverage == ""
    assert totals.paid_lines == sum(1 for _, p, _ in rows if p is not None)


def test_default_kwh_price_converts_and_context_is_localised(seed_catalogue):
    rates = exchange_rates()
    assert default_kwh_price("USD") == DEFAULT_KWH_PRICE
    jpy = default_kwh_price("JPY")
    assert jpy == pytest.approx(DEFAULT_KWH_PRICE * float(rates["JPY"]), abs=0.01)
    assert localised_context({"currency": "JPY"})["kwh_price"] == jpy
    assert localised_context({"currency": "JPY", "kwh_price": 30})["kwh_price"] == 30  # the user's own
    assert "kwh_price" not in localised_context({"currency": "USD"})
    assert localised_context({"currency": ["JPY"]}) == {"currency": ["JPY"]}  # bad input left to the parser


def yearly(html: str) -> tuple[float, str]:
    block = html[html.index("Electricity / year") :]
    match = re.search(r'fs-5">([\d,]+) ([A-Z]{3})', block)
    return float(match.group(1).replace(",", "")), match.group(2)


def test_electricity_per_year_really_converts(client, seed_catalogue):
    """570 USD must not become 570 JPY: the yearly figure scales by the exchange rate."""
    query = f"l={GPU}*2&l=amd-ryzen-9-7900x*1&l=msi-mpg-x670e-carbon-wifi*1&l=corsair-ax1600i*1"
    usd, cur = yearly(client.get(f"/builds/new/?{query}").content.decode())
    assert cur == "USD"
    jpy, cur = yearly(client.get(f"/builds/new/?{query}&cur=JPY").content.decode())
    assert cur == "JPY"
    rate = float(exchange_rates()["JPY"])
    assert jpy == pytest.approx(usd * rate, rel=0.02)


def test_part_rows_pickers_and_kwh_label_in_the_chosen_currency(client, seed_catalogue):
    query = f"l={GPU}*1&cur=EUR"
    html = client.get(f"/builds/new/?{query}").content.decode()
    row = re.search(r'line-price">([^<]*)<', html).group(1)
    assert row.endswith("EUR each") and "$" not in row
    assert "Electricity, EUR per kWh" in html
    assert html.count("rate-note") == 1 and "1 USD = " in html and "(rate of 20" in html
    picker = client.get(
        "/builds/pick/gpu/", {"state": query, "base": "/builds/new/", "all": "on"}
    ).content.decode()
    prices = re.findall(r'picker-price">([^<]*)<', picker)
    assert prices and all(p.endswith(" EUR") for p in prices)
    usd_html = client.get(f"/builds/new/?l={GPU}*1").content.decode()
    assert "rate-note" not in usd_html and "Electricity, USD per kWh" in usd_html


def test_build_page_total_uses_price_paid_and_says_what_is_unpriced(client, seed_catalogue):
    build = seed_catalogue["single-3090-build-out"]
    html = client.get(f"/b/{build.share_id}/").content.decode()
    assert "at the price paid" in html
    coverage = re.search(r"price-coverage[^>]*>(\d+) of (\d+) parts priced", html)
    lines = build.items.count()
    assert coverage and int(coverage.group(2)) == lines and int(coverage.group(1)) < lines
    assert "per-unit-incomplete" in html  # per GB / per TFLOP say they rest on an incomplete total
    total = float(re.search(r'fs-5 fw-semibold">([\d,]+) USD', html).group(1).replace(",", ""))
    assert total >= 1822  # the post's 1,822 USD paid, plus today's price of the parts it did not price


def test_complete_total_says_nothing_extra(client, seed_catalogue):
    html = client.get(f"/builds/new/?l={GPU}*1").content.decode()
    assert "price-coverage" not in html and "per-unit-incomplete" not in html


def test_payback_and_compare_say_when_the_total_is_incomplete(client, seed_catalogue):
    trainer = seed_catalogue["4x-4090-threadripper-pro-trainer"]
    CloudOffer.objects.create(  # test data: a rental price so that the page computes a payback
        gpu=Gpu.objects.get(slug=GPU),
        provider="test",
        usd_per_hour=Decimal("0.60"),
        observed_at=date(2026, 1, 1),
    )
    html = client.get(f"/b/{trainer.share_id}/").content.decode()
    assert "pays off after" in html
    assert "payback-incomplete" in html and "parts priced" in html
    other = seed_catalogue["dual-4090-home-server"]
    compare = client.get(f"/compare/?b={trainer.share_id},{other.share_id}").content.decode()
    row = compare[compare.index("Price per GB VRAM") :]
    row = row[: row.index("</tr>")]
    assert "parts priced)" in row
    assert "(best)" not in row and "(worst)" not in row  # incomplete totals are not ranked
    assert "Price (USD, incomplete)" in compare  # and the chart's price row says so


def test_markdown_export_has_absolute_links_and_a_total(client, seed_catalogue, settings):
    build = seed_catalogue["single-3090-build-out"]
    md = client.get(f"/b/{build.share_id}/?format=md").content.decode()
    assert f"Checked with Rigsite: http://testserver/b/{build.share_id}/" in md
    assert "**Total**" in md and "parts priced" in md
    assert "120 V / 15 A" in md and "120v-15a" not in md
    settings.SITE_URL = "https://rigsite.example"
    md = client.get(f"/b/{build.share_id}/?format=md").content.decode()
    assert f"Checked with Rigsite: https://rigsite.example/b/{build.share_id}/" in md


def test_money_text():
    assert money_text(Decimal("1234.4"), "JPY", RATES) == "185,160 JPY"
    assert money_text(None, "USD", RATES) == ""


def test_api_check_prices_electricity_in_the_context_currency(client, seed_catalogue):
    def yearly_cost(context):
        body = {"parts": [{"slug": GPU, "quantity": 1}], "context": context}
        response = client.post("/api/v1/check", body, content_type="application/json")
        assert response.status_code == 200, response.content
        return response.json()["cost"]

    usd = yearly_cost({})
    jpy = yearly_cost({"currency": "JPY"})
    assert jpy["currency"] == "JPY"
    assert jpy["yearly_cost"] == pytest.approx(usd["yearly_cost"] * float(exchange_rates()["JPY"]), rel=0.01)
    own = yearly_cost({"currency": "JPY", "kwh_price": 0.15})  # a price given is taken as given
    assert own["yearly_cost"] == pytest.approx(usd["yearly_cost"], rel=0.001)


def test_a_currency_change_resends_every_priced_row_and_the_totals(client, seed_catalogue):
    """The rows' regions are signed by their price text, so a re-check after a currency change swaps in
    the rows (in the new currency), the totals and the context controls, not just the totals."""
    build = seed_catalogue["dual-4090-home-server"]
    state = state_from_build(build, selectors.build_lines(build))
    state.currency = "USD"
    url = f"/builds/new/?{state.query()}"
    page = client.get(url).content.decode()
    shown = urlencode([("v", s) for s in re.findall(r'name="v" value="([^"]+)"', page)])
    response = client.get(f"{url}&cur=EUR&{shown}", headers={"HX-Request": "true"}).content.decode()
    swapped = set(re.findall(r'hx-swap-oob="innerHTML:#r-([a-z-]+)"', response))
    assert {"totals", "where", "row-gpu", "row-cpu", "row-psu"} <= swapped
    assert "EUR each" in response and "USD each" not in response
