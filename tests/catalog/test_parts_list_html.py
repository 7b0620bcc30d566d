"""The parts list's hand-built markup (catalog/list_html.py, PartFilterForm.filters_html; issue 15, item 13):
every value escaped, the filter form's values, selection and errors as crispy-forms rendered them."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.models import ExchangeRate
from catalog.views import PartFilterForm
from tests.catalog.factories import CpuFactory, GpuFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_part_names_brands_and_specs_are_escaped(client):
    GpuFactory(slug="xss", name='<script>alert("n")</script>', brand="<b>Brand</b> & 'co'", vram_gb=24)
    html = client.get("/parts/gpu/").content.decode()
    assert "<script>alert" not in html and "<b>Brand" not in html
    assert "&lt;script&gt;alert(&quot;n&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Brand&lt;/b&gt; &amp; &#x27;co&#x27;" in html
    row = re.search(r'<tr data-slug="xss">.*?</tr>', html, re.S).group(0)
    assert '<a href="/parts/gpu/xss/">' in row and "24 GB" in row
    assert row.count('<span class="unknown">unknown</span>') >= 2  # unknown specs and per-GB/TFLOP


def test_currency_is_carried_into_the_part_links(client):
    ExchangeRate.objects.create(
        currency="EUR", per_usd=Decimal("0.5"), observed_at=timezone.now().date(), source="test"
    )
    GpuFactory(slug="card")
    html = client.get("/parts/gpu/", {"currency": "EUR"}).content.decode()
    assert '<a href="/parts/gpu/card/?currency=EUR">' in html


def test_no_match_row_spans_every_column(client):
    html = client.get("/parts/cpu/", {"q": "nothing like this"}).content.decode()
    assert "No part matches these filters." in html
    CpuFactory()
    columns = len(client.get("/parts/cpu/").context["listing"].columns)
    assert f'<td colspan="{columns + 4}">No part matches' in html


def test_filter_form_keeps_values_selection_and_reports_errors(client):
    html = client.get(
        "/parts/gpu/", {"q": '"><script>x</script>', "vram_min": "lots", "sort": "-price", "currency": "EUR"}
    ).content.decode()
    form = re.search(r'<form class="parts-filters" method="get">.*?</form>', html, re.S).group(0)
    assert "<script>x" not in form
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in form
    assert '<option value="-price" selected>' in form and '<option value="EUR" selected>' in form
    assert 'class="numberinput form-control is-invalid"' in form and 'aria-invalid="true"' in form
    assert '<div id="id_vram_min_error" class="invalid-feedback">' in form
    for name in ("q", "sort", "vram_min", "vram_max", "power_max", "price_max", "currency", "build"):
        assert f'<label for="id_{name}" class="form-label">' in form and f'id="id_{name}"' in form


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40), st.text(max_size=10))
def test_any_query_value_is_echoed_escaped(q, vram_min):
    form = PartFilterForm({"q": q, "vram_min": vram_min}, category="gpu", sockets=[])
    form.is_valid()
    html = str(form.filters_html())
    # No raw markup character of the input survives into the page outside an escape.
    text_values = re.findall(r'value="([^"]*)"', html)
    assert all("<" not in v and ">" not in v for v in text_values)
    assert html.count("<form") == 1 and html.count("</form>") == 1
    assert html.count("<input") == 6  # q, vram_min, vram_max, power_max, price_max, build
