"""A curator's history "Revert" (django-simple-history) restores specs, never derived prices: those come
only from the quote log (issue 17, item 4)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from catalog.bootstrap import curator_group, load_exchange_rates
from catalog.models import Gpu, Psu
from catalog.services import price_quote_add
from tests.admin_forms import form_as_post

DERIVED = ["price_new_usd", "price_used_usd", "price_observed_at"]


@pytest.fixture
def curator_client(client, db):
    load_exchange_rates()
    curator = User.objects.create_user("cura", password="pw-rigsite-123", is_staff=True)
    curator.groups.add(curator_group())
    client.force_login(curator)
    return client


def revert(client, part, record):
    model = type(part)._meta.model_name
    url = f"/admin/catalog/{model}/{part.pk}/history/{record.history_id}/"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, form_as_post(page.context["adminform"].form) | {"_save": "Revert"})
    assert response.status_code == 302, response.content.decode()[:1000]


def change(client, part, edit):
    model = type(part)._meta.model_name
    url = f"/admin/catalog/{model}/{part.pk}/change/"
    page = client.get(url)
    data = form_as_post(page.context["adminform"].form) | edit
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:1000]


def test_revert_to_a_version_from_before_the_quotes_keeps_the_quoted_price(curator_client):
    gpu = Gpu.objects.create(slug="rev-gpu", name="Rev GPU", category="gpu", vram_gb=32, bf16_tflops=200)
    first = gpu.history.earliest()
    assert first.price_new_usd is None
    price_quote_add(part=gpu, amount=3999, currency="USD", source="shop")
    price_quote_add(part=gpu, amount=2500, currency="USD", condition="used", source="ebay")
    change(curator_client, gpu, {"vram_gb": "48"})  # a later spec edit the curator wants to undo
    revert(curator_client, gpu, first)
    gpu.refresh_from_db()
    assert gpu.vram_gb == 32  # the spec is reverted ...
    assert gpu.price_new_usd == Decimal("3999.00")  # ... the quoted prices are not
    assert gpu.price_used_usd == Decimal("2500.00")
    assert gpu.price_observed_at is not None
    assert gpu.price_per_vram_gb_usd == Decimal("124.97")  # 3999 / 32, re-derived for the reverted spec
    assert gpu.history.latest().price_new_usd == Decimal("3999.00")  # the history row is right too


def test_revert_to_a_version_with_an_older_price_takes_the_newest_quote(curator_client):
    psu = Psu.objects.create(slug="rev-psu", name="Rev PSU", category="psu")
    earlier = timezone.now() - timedelta(days=30)
    price_quote_add(part=psu, amount=300, currency="USD", source="shop", observed_at=earlier)
    change(curator_client, psu, {"notes": "checked"})  # a history row with price 300
    old = psu.history.latest()
    assert old.price_new_usd == Decimal("300.00")
    price_quote_add(part=psu, amount=450, currency="USD", source="shop")
    revert(curator_client, psu, old)
    psu.refresh_from_db()
    assert psu.price_new_usd == Decimal("450.00")


@pytest.mark.parametrize("field", DERIVED)
def test_a_change_form_cannot_write_derived_prices(curator_client, field):
    gpu = Gpu.objects.create(slug="rev-gpu2", name="Rev GPU 2", category="gpu", vram_gb=24)
    price_quote_add(part=gpu, amount=999, currency="USD", source="shop")
    change(curator_client, gpu, {field: "1" if field != "price_observed_at" else "2001-01-01 00:00:00"})
    gpu.refresh_from_db()
    assert gpu.price_new_usd == Decimal("999.00") and gpu.price_used_usd is None
    assert gpu.price_observed_at.year == timezone.now().year


def test_an_exchange_rate_edit_or_revert_re_derives_the_usd_prices_quoted_in_that_currency(curator_client):
    from catalog.models import ExchangeRate
    from catalog.services import exchange_rates

    eur = ExchangeRate.objects.filter(currency="EUR").order_by("-observed_at").first()
    gpu = Gpu.objects.create(slug="eur-gpu", name="EUR GPU", category="gpu", vram_gb=16)
    price_quote_add(part=gpu, amount=1000, currency="EUR", source="shop.de")
    gpu.refresh_from_db()
    assert gpu.price_new_usd == (Decimal(1000) / eur.per_usd).quantize(Decimal("0.01"))
    before = eur.history.latest()
    url = f"/admin/catalog/exchangerate/{eur.pk}/change/"
    page = curator_client.get(url)
    assert page.status_code == 200
    data = form_as_post(page.context["adminform"].form) | {"per_usd": "0.5"}
    assert curator_client.post(url, data).status_code == 302
    gpu.refresh_from_db()
    assert exchange_rates()["EUR"] == Decimal("0.5")  # not the cached old rate
    assert gpu.price_new_usd == Decimal("2000.00")
    assert gpu.price_per_vram_gb_usd == Decimal("125.00")
    revert(curator_client, eur, before)
    gpu.refresh_from_db()
    assert gpu.price_new_usd == (Decimal(1000) / eur.per_usd).quantize(Decimal("0.01"))
