import pytest
from django.core.management import call_command

from builds.models import Build, BuildRevision
from catalog.models import Gpu, Motherboard, Part, PriceQuote

pytestmark = pytest.mark.django_db


def counts():
    return (
        Part.objects.count(),
        PriceQuote.objects.count(),
        Build.objects.count(),
        BuildRevision.objects.count(),
    )


def test_bootstrap_loads_catalogue_and_is_idempotent():
    call_command("bootstrap")
    first = counts()
    assert Gpu.objects.filter(curated=True).count() >= 30
    assert Motherboard.objects.filter(topology_curated=True).count() >= 20
    assert Build.objects.filter(visibility="featured").count() == 5
    call_command("bootstrap")
    assert counts() == first
