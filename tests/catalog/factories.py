"""factory_boy factories for catalogue rows (and the saved builds the parts list filters against).

Specs are left NULL (unknown) unless a test sets them: no invented numbers.
"""

from decimal import Decimal

import factory
from django.utils import timezone

from builds.models import Build, BuildItem
from catalog.models import (
    Case,
    Cpu,
    Gpu,
    LaneRule,
    M2Socket,
    MemoryKit,
    Motherboard,
    PcieSlot,
    PriceQuote,
    Psu,
)


class PartFactory(factory.django.DjangoModelFactory):
    slug = factory.Sequence(lambda n: f"test-part-{n}")
    name = factory.Sequence(lambda n: f"Test part {n:03d}")
    brand = "Testbrand"
    curated = True


class GpuFactory(PartFactory):
    class Meta:
        model = Gpu

    category = "gpu"
    slug = factory.Sequence(lambda n: f"test-gpu-{n}")
    name = factory.Sequence(lambda n: f"Test GPU {n:03d}")


class CpuFactory(PartFactory):
    class Meta:
        model = Cpu

    category = "cpu"
    slug = factory.Sequence(lambda n: f"test-cpu-{n}")
    name = factory.Sequence(lambda n: f"Test CPU {n:03d}")


class MotherboardFactory(PartFactory):
    class Meta:
        model = Motherboard

    category = "motherboard"
    slug = factory.Sequence(lambda n: f"test-board-{n}")
    name = factory.Sequence(lambda n: f"Test board {n:03d}")


class MemoryKitFactory(PartFactory):
    class Meta:
        model = MemoryKit

    category = "memory"
    slug = factory.Sequence(lambda n: f"test-memory-{n}")
    name = factory.Sequence(lambda n: f"Test memory {n:03d}")


class CaseFactory(PartFactory):
    class Meta:
        model = Case

    category = "case"
    slug = factory.Sequence(lambda n: f"test-case-{n}")
    name = factory.Sequence(lambda n: f"Test case {n:03d}")


class PsuFactory(PartFactory):
    class Meta:
        model = Psu

    category = "psu"
    slug = factory.Sequence(lambda n: f"test-psu-{n}")
    name = factory.Sequence(lambda n: f"Test PSU {n:03d}")


class PcieSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PcieSlot

    board = factory.SubFactory(MotherboardFactory)
    position = factory.Sequence(lambda n: n % 7 + 1)
    physical_width = 16
    electrical_width = 16
    gen = 4
    source = "cpu"


class M2SocketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = M2Socket

    board = factory.SubFactory(MotherboardFactory)
    name = factory.Sequence(lambda n: f"M2_{n + 1}")
    gen = 4
    lanes = 4
    source = "cpu"


class LaneRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LaneRule

    board = factory.SubFactory(MotherboardFactory)
    when = "3"
    target = "1"
    effect = "width"
    width = 8


class PriceQuoteFactory(factory.django.DjangoModelFactory):
    """A bare quote row; tests that need the derived price call catalog.services.price_quote_add instead."""

    class Meta:
        model = PriceQuote

    amount = Decimal("100.00")
    currency = "USD"
    condition = "new"
    source = "test quote"
    observed_at = factory.LazyFunction(timezone.now)


class BuildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Build

    name = factory.Sequence(lambda n: f"Test build {n}")
    edit_token_hash = "0" * 64


class BuildItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BuildItem

    build = factory.SubFactory(BuildFactory)
    quantity = 1
