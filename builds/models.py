"""Saved builds: share links, edit tokens (hash only), items with placement, revisions."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from catalog.models import Category, Currency, Part


def new_share_id() -> str:
    # 128 bits from the OS CSPRNG, separate from the primary key (docs/api.md "Saved builds").
    return secrets.token_urlsafe(16)


class Visibility(models.TextChoices):
    UNLISTED = "unlisted"
    PUBLIC = "public"
    FEATURED = "featured"


class BuildQuerySet(models.QuerySet):
    def featured(self):
        """The curated example builds (home page, /plan/)."""
        return self.filter(visibility=Visibility.FEATURED)

    def public(self):
        """Builds their owners made public (the home page's recent list); featured ones are not included."""
        return self.filter(visibility=Visibility.PUBLIC)

    def listed(self):
        """Every build that may appear in a list: featured or public (unlisted ones only by their link)."""
        return self.filter(visibility__in=[Visibility.FEATURED, Visibility.PUBLIC])


class Build(models.Model):
    share_id = models.CharField(max_length=32, unique=True, default=new_share_id, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="builds"
    )
    edit_token_hash = models.CharField(max_length=64, editable=False)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.UNLISTED)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    # Engine context: {"circuit": "120v-15a" | {"volts", "amps"}, "kwh_price": ..., "hours_per_day": ...}
    context = models.JSONField(default=dict, blank=True)
    workloads = models.JSONField(default=list, blank=True)
    forked_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks"
    )
    example_key = models.SlugField(max_length=80, null=True, blank=True, unique=True)
    source_url = models.URLField(max_length=500, blank=True)
    revision_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BuildQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["visibility", "-updated_at"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("build-detail", kwargs={"share_id": self.share_id})

    def get_edit_url(self):
        return reverse("build-edit", kwargs={"share_id": self.share_id})


class BuildItem(models.Model):
    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    # A catalogue part (PROTECT: parts are retired, never deleted, while a build uses them) ...
    part = models.ForeignKey(
        Part, null=True, blank=True, on_delete=models.PROTECT, related_name="build_items"
    )
    # ... or a custom part with typed specs (validated by the engine's spec_from_dict).
    custom_category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    custom_name = models.CharField(max_length=200, blank=True)
    custom_spec = models.JSONField(default=dict, blank=True)
    quantity = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(16)]
    )
    # {"slots": [1, 4], "riser": true, "riser_width": 1, "psu": [0, 1], "power_limit_w": 300}
    placement = models.JSONField(default=dict, blank=True)
    # The price when the build was saved (USD, per unit), shown beside today's.
    saved_price_usd = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_paid_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_paid_currency = models.CharField(max_length=3, choices=Currency.choices, blank=True)
    price_paid_condition = models.CharField(max_length=4, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(part__isnull=False) | ~Q(custom_category=""), name="builditem_part_or_custom"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=16), name="builditem_quantity_range"
            ),
        ]

    def __str__(self):
        return f"{self.quantity}x {self.display_name}"

    @property
    def category(self) -> str:
        return self.part.category if self.part_id else self.custom_category

    @property
    def display_name(self) -> str:
        return self.part.name if self.part_id else f"{self.custom_name} (custom)"


class BuildRevision(models.Model):
    """Every save is a revision: a full snapshot, so nothing a user saved is lost."""

    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["build", "number"], name="buildrevision_unique_number")
        ]

    def __str__(self):
        return f"{self.build} r{self.number}"
