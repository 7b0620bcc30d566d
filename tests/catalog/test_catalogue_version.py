"""The catalogue version bumps when any catalogue row is written and its transaction commits (issue 14,
item 4): the admin's edits of exchange rates, cloud offers and model presets included, which once bumped
nothing and left cached reports and prices stale."""

from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import transaction

from catalog.bootstrap import load_exchange_rates, load_model_presets
from catalog.models import CatalogueVersion, CloudOffer, ExchangeRate, Gpu, ModelPreset
from catalog.services import catalogue_bulk_write, catalogue_version
from catalog.signals import versioned_models
from tests.admin_forms import form_as_post

from .factories import GpuFactory, LaneRuleFactory, PcieSlotFactory, PriceQuoteFactory


def version() -> int:
    return CatalogueVersion.objects.get_or_create(pk=1)[0].number


def a_cloud_offer() -> CloudOffer:
    return CloudOffer.objects.create(
        gpu=GpuFactory(), provider="Example cloud", usd_per_hour=Decimal("0.5"), observed_at=date(2026, 1, 1)
    )


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", password="pw-rigsite-123"))
    return client


def admin_change(client, obj, edit: dict):
    url = f"/admin/catalog/{obj._meta.model_name}/{obj.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = form_as_post(page.context["adminform"].form) | edit | {"_save": "Save"}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def test_every_catalogue_model_is_versioned_except_the_version_and_history():
    config = apps.get_app_config("catalog")
    expected = {
        m
        for m in config.get_models()
        if m is not CatalogueVersion and not m.__name__.startswith("Historical")
    }
    assert set(versioned_models(config)) == expected
    names = {m.__name__ for m in expected}
    assert {"ExchangeRate", "CloudOffer", "ModelPreset", "PriceQuote", "PcieSlot", "LaneRule", "Gpu"} <= names


@pytest.mark.parametrize(
    ("model", "load", "edit"),
    [
        (ExchangeRate, load_exchange_rates, {"per_usd": "0.812345"}),
        (CloudOffer, lambda: a_cloud_offer(), {"usd_per_hour": "1.234"}),
        (ModelPreset, load_model_presets, {"name": "Renamed in the admin"}),
    ],
    ids=["exchange-rate", "cloud-offer", "model-preset"],
)
def test_an_admin_edit_bumps_the_version_on_commit(
    admin_client, django_capture_on_commit_callbacks, model, load, edit
):
    load()
    obj = model.objects.order_by("pk").first()
    assert obj is not None
    before = version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_change(admin_client, obj, edit)
    assert version() == before  # nothing before the commit
    assert callbacks
    for callback in callbacks:
        callback()
    assert version() > before


def test_an_admin_delete_of_a_rate_bumps_the_version(admin_client, django_capture_on_commit_callbacks):
    load_exchange_rates()
    rate = ExchangeRate.objects.exclude(currency="USD").first()
    before = version()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/catalog/exchangerate/{rate.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ExchangeRate.objects.filter(pk=rate.pk).exists()
    assert version() > before


@pytest.mark.parametrize(
    "write",
    [
        lambda: GpuFactory(),
        lambda: PcieSlotFactory(),
        lambda: LaneRuleFactory(),
        lambda: PriceQuoteFactory(part=GpuFactory()),
        lambda: ExchangeRate.objects.create(
            currency="EUR", per_usd=Decimal("0.9"), observed_at=date(2026, 1, 1), source="test"
        ),
    ],
    ids=["part", "board-slot", "lane-rule", "price-quote", "exchange-rate"],
)
def test_any_catalogue_write_bumps_on_commit(db, django_capture_on_commit_callbacks, write):
    before = version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        write()
    assert callbacks and version() == before
    for callback in callbacks:
        callback()
    assert version() > before


def test_a_bulk_write_bumps_once(db, django_capture_on_commit_callbacks):
    before = version()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, catalogue_bulk_write():
        for _ in range(5):
            PcieSlotFactory()
    assert len(callbacks) == 1
    assert version() == before + 1


def test_a_rolled_back_write_does_not_bump(db, django_capture_on_commit_callbacks):
    before = version()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            GpuFactory()
            raise RuntimeError("roll back")
    assert callbacks == []
    assert version() == before


def test_the_bump_reaches_the_cached_version(db, django_capture_on_commit_callbacks):
    seen = catalogue_version()  # now cached for VERSION_TTL_S
    with django_capture_on_commit_callbacks(execute=True):
        Gpu.objects.filter(pk=GpuFactory().pk).first().save()
    assert catalogue_version() > seen
