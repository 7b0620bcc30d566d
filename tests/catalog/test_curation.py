"""Models' validation, append-only prices with derived current price, CSV import report, admin permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.bootstrap import curator_group, load_exchange_rates
from catalog.models import Gpu, Part, PriceQuote
from catalog.prices_csv import prices_export_csv, prices_import_csv
from catalog.services import part_price_refresh, price_is_stale, price_quote_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def gpu():
    load_exchange_rates()
    return Gpu.objects.create(slug="test-gpu", name="Test GPU", category="gpu", vram_gb=24, bf16_tflops=100)


def test_unknown_is_null_and_out_of_range_is_refused(gpu):
    assert gpu.board_power_w is None
    gpu.vram_gb = -4
    with pytest.raises(ValidationError) as exc:
        gpu.full_clean()
    assert "vram_gb" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Gpu.objects.filter(pk=gpu.pk).update(length_mm=0)  # the database refuses 0 as a length too


def test_quotes_derive_newest_price_per_condition_and_gpu_sort_keys(gpu):
    now = timezone.now()
    price_quote_add(part=gpu, amount=1000, currency="USD", source="a", observed_at=now - timedelta(days=10))
    price_quote_add(part=gpu, amount=1200, currency="USD", source="b", observed_at=now)
    price_quote_add(part=gpu, amount=700, currency="USD", condition="used", source="c", observed_at=now)
    gpu.refresh_from_db()
    assert gpu.price_new_usd == Decimal("1200.00") and gpu.price_used_usd == Decimal("700.00")
    assert gpu.price_per_vram_gb_usd == Decimal("50.00") and gpu.price_per_tflop_usd == Decimal("12.00")
    assert PriceQuote.objects.filter(part=gpu).count() == 3  # nothing overwritten


def test_quote_in_other_currency_is_converted(gpu):
    price_quote_add(part=gpu, amount=7279.03, currency="CNY", source="shop")
    gpu.refresh_from_db()
    assert Decimal("990") < gpu.price_new_usd < Decimal("1010")


def test_stale_flag(gpu, settings):
    settings.RIGSITE_PRICE_STALE_DAYS = 30
    price_quote_add(
        part=gpu, amount=10, currency="USD", source="old", observed_at=timezone.now() - timedelta(days=31)
    )
    gpu.refresh_from_db()
    assert price_is_stale(gpu)


def test_csv_import_reports_rejected_rows_and_writes_nothing(gpu):
    csv_text = (
        "part,amount,currency,condition,source,url,observed_at\n"
        "test-gpu,999,USD,new,shop,https://example.org,2026-11-01\n"
        "no-such-part,10,USD,new,shop,,2026-11-01\n"
        "test-gpu,-5,USD,new,shop,,2026-11-01\n"
        "test-gpu,12,XXX,new,shop,,2026-11-01\n"
    )
    report = prices_import_csv(csv_text)
    assert not report.ok and report.imported == 0
    lines = [line for line, _ in report.rejected]
    assert lines == [3, 4, 5]
    reasons = " ".join(reason for _, reason in report.rejected)
    assert "amount" in reasons and "currency" in reasons
    assert PriceQuote.objects.count() == 0  # one transaction: nothing half-written


def test_csv_import_and_export_round_trip(gpu):
    good = "part,amount,currency,condition,source,url,observed_at\ntest-gpu,1500,USD,new,shop,,2026-11-01\n"
    report = prices_import_csv(good)
    assert report.ok and report.imported == 1
    gpu.refresh_from_db()
    assert gpu.price_new_usd == Decimal("1500.00")
    exported = prices_export_csv()
    assert "test-gpu" in exported and "1500" in exported
    assert prices_import_csv("amount\n1\n").error.startswith("missing columns")


def test_curator_edits_prices_and_specs_not_users(client, gpu):
    curator = User.objects.create_user("cura", password="pw-rigsite-123", is_staff=True)
    curator.groups.add(curator_group())
    client.force_login(curator)
    assert client.get(f"/admin/catalog/gpu/{gpu.pk}/change/").status_code == 200
    assert client.get("/admin/catalog/pricequote/add/").status_code == 200
    assert client.get("/admin/catalog/pricequote/import/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403
    # quotes are append-only: even a curator cannot change or delete one
    quote = price_quote_add(part=gpu, amount=10, currency="USD", source="x")
    response = client.post(f"/admin/catalog/pricequote/{quote.pk}/change/", {"amount": "1"})
    quote.refresh_from_db()
    assert quote.amount == Decimal("10.00") and response.status_code in (200, 403)
    assert client.get(f"/admin/catalog/pricequote/{quote.pk}/delete/").status_code == 403


def test_spec_changes_are_audited_with_who_and_when(client, gpu):
    curator = User.objects.create_user("cura2", password="pw-rigsite-123", is_staff=True)
    curator.groups.add(curator_group())
    client.force_login(curator)
    data = {
        "slug": gpu.slug,
        "name": gpu.name,
        "brand": "",
        "vram_gb": "48",
        "bf16_tflops": "100",
        "cooler": "",
        "sources": "[]",
        "field_sources": "{}",
        "notes": "",
        "price_quotes-TOTAL_FORMS": "0",
        "price_quotes-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/catalog/gpu/{gpu.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    last = gpu.history.latest()
    assert last.history_user == curator and last.vram_gb == 48


def test_anonymous_and_non_staff_cannot_reach_admin(client):
    assert client.get("/admin/catalog/gpu/").status_code == 302
    User.objects.create_user("joe", password="pw-rigsite-123")
    client.login(username="joe", password="pw-rigsite-123")
    assert client.get("/admin/catalog/gpu/").status_code == 302


def test_part_with_builds_cannot_be_deleted_in_admin_but_can_be_retired(client, gpu):
    from builds.inputs import Line
    from builds.services import build_create

    build_create(name="b", items=[Line.for_part(gpu)])
    admin_user = User.objects.create_superuser("root", password="pw-rigsite-123")
    client.force_login(admin_user)
    assert client.get(f"/admin/catalog/gpu/{gpu.pk}/delete/").status_code == 403
    client.post("/admin/catalog/gpu/", {"action": "retire_parts", "_selected_action": [gpu.pk]})
    assert Part.objects.get(pk=gpu.pk).retired


def test_price_refresh_without_quotes_clears_price(gpu):
    part_price_refresh(gpu)
    gpu.refresh_from_db()
    assert gpu.price_new_usd is None
