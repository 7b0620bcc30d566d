"""The parts catalogue: typed specs (units in names, NULL = unknown), board topology, prices with history.

Field names match the engine's inline spec fields (docs/catalogue-data-format.md, the inline `spec` of docs/api.md) so that
catalog/specs.py can hand a row to the engine without renaming.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class Category(models.TextChoices):
    GPU = "gpu", "GPUs"
    CPU = "cpu", "CPUs"
    MOTHERBOARD = "motherboard", "Motherboards"
    MEMORY = "memory", "Memory kits"
    STORAGE = "storage", "Storage"
    PSU = "psu", "Power supplies"
    CASE = "case", "Cases and open frames"
    COOLER = "cooler", "CPU coolers"
    FAN = "fan", "Case fans"
    RISER = "riser", "PCIe risers and extenders"
    BRACE = "brace", "GPU braces"


class Condition(models.TextChoices):
    NEW = "new", "new"
    USED = "used", "used"


def rng(lo, hi):
    return [MinValueValidator(lo), MaxValueValidator(hi)]


def positive_or_null(field: str, *, allow_zero: bool = False) -> models.CheckConstraint:
    cond = Q(**{f"{field}__gte": 0}) if allow_zero else Q(**{f"{field}__gt": 0})
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | cond, name=f"%(class)s_{field}_valid"
    )


class Part(models.Model):
    """Common columns of every part; the typed spec lives in the category's subclass (multi-table)."""

    slug = models.SlugField(max_length=220, unique=True, validators=[RegexValidator(r"^[a-z0-9-]+$")])
    name = models.CharField(max_length=200)
    brand = models.CharField(max_length=80, blank=True)
    category = models.CharField(max_length=20, choices=Category.choices, db_index=True)
    retired = models.BooleanField(
        default=False, help_text="Retired parts stay in saved builds but leave pickers."
    )
    curated = models.BooleanField(default=False, help_text="From Rigsite's curated catalogue (vs an import).")
    opendb_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    sources = models.JSONField(default=list, blank=True, help_text="Public sources of the spec (URLs).")
    field_sources = models.JSONField(
        default=dict, blank=True, help_text="Per-field sources, e.g. transients."
    )
    notes = models.TextField(blank=True)
    # Derived from PriceQuote (catalog.services.part_price_refresh): the newest quote per condition, in USD.
    price_new_usd = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, editable=False
    )
    price_used_usd = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, editable=False
    )
    price_observed_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["category", "retired", "name"]),
            models.Index(fields=["category", "retired", "price_new_usd"]),
        ]
        constraints = [
            positive_or_null("price_new_usd"),
            positive_or_null("price_used_usd"),
        ]

    def __str__(self):
        return self.name

    @property
    def price_usd(self) -> Decimal | None:
        return self.price_new_usd if self.price_new_usd is not None else self.price_used_usd

    def typed(self) -> "Part":
        """The category subclass row (Gpu, Cpu, ...) for a plain Part."""
        if type(self) is not Part:
            return self
        return getattr(self, CATEGORY_ATTR[self.category])


class Cooling(models.TextChoices):
    BLOWER = "blower"
    AXIAL = "axial"
    FLOW_THROUGH = "flow_through"
    HYBRID = "hybrid"
    WATERBLOCK = "waterblock"
    PASSIVE = "passive"


class Gpu(Part):
    vram_gb = models.FloatField(null=True, blank=True, validators=rng(0.5, 1024))
    memory_bandwidth_gbps = models.FloatField(null=True, blank=True, validators=rng(1, 20000))
    bf16_tflops = models.FloatField(
        null=True, blank=True, validators=rng(0.1, 10000), help_text="Dense BF16 with FP32 accumulate."
    )
    fp8 = models.BooleanField(null=True, blank=True)
    board_power_w = models.PositiveIntegerField(null=True, blank=True, validators=rng(10, 2000))
    transient_peak_w = models.PositiveIntegerField(null=True, blank=True, validators=rng(10, 5000))
    slot_width = models.DecimalField(
        max_digits=3, decimal_places=2, null=True, blank=True, validators=rng(1, 6)
    )
    length_mm = models.PositiveIntegerField(null=True, blank=True, validators=rng(50, 600))
    cooler = models.CharField(max_length=16, choices=Cooling.choices, blank=True)
    pcie_gen = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 6))
    pcie_lanes = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 16))
    power_8pin = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(0, 8))
    power_12v2x6 = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(0, 4))
    nvlink = models.BooleanField(null=True, blank=True)
    p2p = models.BooleanField(null=True, blank=True)
    weight_g = models.PositiveIntegerField(null=True, blank=True, validators=rng(50, 10000))
    chip = models.CharField(max_length=40, blank=True)
    # Denormalised sort keys, kept by catalog.services.part_price_refresh.
    price_per_vram_gb_usd = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, editable=False
    )
    price_per_tflop_usd = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, editable=False
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "GPU"
        indexes = [
            models.Index(fields=["price_per_vram_gb_usd"]),
            models.Index(fields=["price_per_tflop_usd"]),
            models.Index(fields=["vram_gb"]),
            models.Index(fields=["board_power_w"]),
        ]
        constraints = [
            positive_or_null("vram_gb"),
            positive_or_null("memory_bandwidth_gbps"),
            positive_or_null("bf16_tflops"),
            positive_or_null("board_power_w"),
            positive_or_null("transient_peak_w"),
            positive_or_null("slot_width"),
            positive_or_null("length_mm"),
        ]


class MemoryType(models.TextChoices):
    DDR4 = "DDR4"
    DDR5 = "DDR5"


class Cpu(Part):
    socket = models.CharField(max_length=20, blank=True, db_index=True)
    cores = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 512))
    threads = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 1024))
    tdp_w = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(5, 1000))
    ppt_w = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(5, 1500))
    pcie_gen = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 6))
    cpu_lanes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=rng(0, 256),
        help_text="Usable for slots and M.2; chipset uplink excluded.",
    )
    memory_type = models.CharField(max_length=8, choices=MemoryType.choices, blank=True)
    memory_channels = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 24))
    max_memory_gb = models.PositiveIntegerField(null=True, blank=True, validators=rng(1, 16384))
    history = HistoricalRecords()

    class Meta:
        verbose_name = "CPU"
        constraints = [
            positive_or_null("cores"),
            positive_or_null("tdp_w"),
            positive_or_null("max_memory_gb"),
        ]


class LaneSource(models.TextChoices):
    CPU = "cpu"
    CHIPSET = "chipset"


class TopologySource(models.TextChoices):
    CURATED = "curated"
    FIRMWARE = "firmware", "firmware-derived"


class Evidence(models.TextChoices):
    """Where a slot row, M.2 socket or lane rule comes from, strongest first (docs/board-evidence.md)."""

    MANUAL = "manual", "manual"
    SPEC_PAGE = "spec_page", "spec page"
    REVIEW = "review", "review"
    FIRMWARE = "firmware", "firmware table"
    ESTIMATED = "estimated", "estimated"


class EvidenceFields(models.Model):
    evidence = models.CharField(max_length=10, choices=Evidence.choices, default=Evidence.ESTIMATED)
    evidence_key = models.CharField(
        max_length=20, blank=True, help_text="Key of the board's evidence entry this row cites."
    )

    class Meta:
        abstract = True


class Motherboard(Part):
    socket = models.CharField(max_length=20, blank=True, db_index=True)
    chipset = models.CharField(max_length=40, blank=True)
    form_factor = models.CharField(max_length=20, blank=True)
    memory_type = models.CharField(max_length=8, choices=MemoryType.choices, blank=True)
    memory_slots = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 32))
    max_memory_gb = models.PositiveIntegerField(null=True, blank=True, validators=rng(1, 16384))
    chipset_uplink_gbps = models.FloatField(null=True, blank=True, validators=rng(0.1, 200))
    topology_curated = models.BooleanField(
        default=False, help_text="Slots, M.2 sockets and lane sharing taken from the manual."
    )
    topology_source = models.CharField(
        max_length=10,
        choices=TopologySource.choices,
        blank=True,
        help_text="Where the slot table comes from: curated (manual, spec page, review) or the board's "
        "firmware tables (widths only, rows unknown). Blank: no slot table.",
    )
    evidence = models.JSONField(
        default=dict,
        blank=True,
        help_text='Sources the slot rows cite by key: {"manual": {"kind": "manual", "url": ..., "page": ...}}',
    )
    firmware = models.JSONField(
        default=dict,
        blank=True,
        help_text="Firmware (DMI) cross-check: matching DMI models and the disagreements explained.",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "motherboard"
        constraints = [positive_or_null("memory_slots"), positive_or_null("max_memory_gb")]


class PcieSlot(EvidenceFields):
    """A slot row. Unknown widths, generation or wiring are NULL (firmware tables often leave them out)."""

    board = models.ForeignKey(Motherboard, on_delete=models.CASCADE, related_name="pcie_slots")
    position = models.PositiveSmallIntegerField(
        validators=rng(1, 16),
        help_text="Expansion-slot row from the top; only the slot's order when row_known is off.",
    )
    row_known = models.BooleanField(
        default=True, help_text="Off for firmware-derived tables: the physical row is not known."
    )
    physical_width = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 16))
    electrical_width = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 16))
    gen = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 6))
    source = models.CharField(max_length=8, choices=LaneSource.choices, blank=True)
    bifurcation = models.JSONField(
        null=True, blank=True, help_text='e.g. ["x8x8", "x4x4x4x4"]; empty: none; NULL: not known'
    )
    designation = models.CharField(max_length=40, blank=True, help_text="The firmware's name for the slot.")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["board", "position"], name="pcieslot_unique_position"),
            models.CheckConstraint(
                condition=Q(electrical_width__lte=models.F("physical_width")),
                name="pcieslot_electrical_le_physical",
            ),
        ]

    def __str__(self):
        return (
            f"slot {self.position}: x{self.physical_width or '?'} (x{self.electrical_width or '?'} "
            f"gen{self.gen or '?'} {self.source or 'source unknown'})"
        )


class M2Socket(EvidenceFields):
    board = models.ForeignKey(Motherboard, on_delete=models.CASCADE, related_name="m2_sockets")
    name = models.CharField(max_length=20)
    gen = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 6))
    lanes = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 16))
    source = models.CharField(max_length=8, choices=LaneSource.choices, blank=True)
    designation = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["board", "name"], name="m2socket_unique_name")]

    def __str__(self):
        return f"{self.name}: gen{self.gen} x{self.lanes} ({self.source})"


class LaneRule(EvidenceFields):
    """ "Slot 1 drops to x8 when slot 3 is populated", "M2_3 disables slot 5": when/target are a slot position
    (digits) or an M.2 socket name."""

    class Effect(models.TextChoices):
        DISABLE = "disable"
        WIDTH = "width"

    board = models.ForeignKey(Motherboard, on_delete=models.CASCADE, related_name="lane_rules")
    when = models.CharField(max_length=20)
    target = models.CharField(max_length=20)
    effect = models.CharField(max_length=8, choices=Effect.choices)
    width = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 16))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(effect="disable") | Q(width__isnull=False), name="lanerule_width_needs_width"
            )
        ]

    def __str__(self):
        return f"when {self.when} is populated, {self.target}: {self.effect} {self.width or ''}".strip()


class MemoryKit(Part):
    memory_type = models.CharField(max_length=8, choices=MemoryType.choices, blank=True)
    modules = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 32))
    module_gb = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 512))
    speed_mts = models.PositiveIntegerField(null=True, blank=True, validators=rng(800, 20000))
    registered = models.BooleanField(
        null=True, blank=True, help_text="Registered (RDIMM) rather than unbuffered (UDIMM); empty: unknown."
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "memory kit"
        constraints = [positive_or_null("modules"), positive_or_null("module_gb")]


class Storage(Part):
    class Interface(models.TextChoices):
        NVME = "nvme"
        SATA_SSD = "sata_ssd"
        HDD = "hdd"

    interface = models.CharField(max_length=10, choices=Interface.choices, blank=True)
    pcie_gen = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 6))
    capacity_gb = models.PositiveIntegerField(null=True, blank=True, validators=rng(1, 200000))
    form_factor = models.CharField(max_length=10, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "storage"
        constraints = [positive_or_null("capacity_gb")]


class Psu(Part):
    class Efficiency(models.TextChoices):
        STANDARD = "standard"
        BRONZE = "bronze"
        SILVER = "silver"
        GOLD = "gold"
        PLATINUM = "platinum"
        TITANIUM = "titanium"

    wattage_w = models.PositiveIntegerField(null=True, blank=True, validators=rng(100, 5000))
    efficiency = models.CharField(max_length=10, choices=Efficiency.choices, blank=True)
    atx3 = models.BooleanField(null=True, blank=True)
    power_8pin = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(0, 16))
    power_12v2x6 = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(0, 8))
    form_factor = models.CharField(max_length=10, blank=True)
    modular = models.CharField(max_length=10, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "PSU"
        indexes = [models.Index(fields=["wattage_w"])]
        constraints = [positive_or_null("wattage_w")]


class Case(Part):
    form_factors = models.JSONField(default=list, blank=True)
    max_gpu_length_mm = models.PositiveIntegerField(null=True, blank=True, validators=rng(50, 1000))
    max_cooler_height_mm = models.PositiveIntegerField(null=True, blank=True, validators=rng(10, 400))
    expansion_slots = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(0, 20))
    open_frame = models.BooleanField(default=False)
    fan_mounts = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(0, 40))
    included_fans = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(0, 40))
    history = HistoricalRecords()

    class Meta:
        constraints = [positive_or_null("max_gpu_length_mm"), positive_or_null("max_cooler_height_mm")]


class Cooler(Part):
    # Explicit parent link: the default accessor `part.cooler` would clash with Gpu.cooler.
    part_ptr = models.OneToOneField(
        Part, on_delete=models.CASCADE, parent_link=True, related_name="cpu_cooler"
    )

    class Kind(models.TextChoices):
        AIR = "air"
        AIO = "aio"

    cooler_type = models.CharField(max_length=4, choices=Kind.choices, blank=True)
    height_mm = models.PositiveIntegerField(null=True, blank=True, validators=rng(10, 300))
    rated_w = models.PositiveIntegerField(null=True, blank=True, validators=rng(10, 1000))
    sockets = models.JSONField(default=list, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "CPU cooler"
        constraints = [positive_or_null("height_mm"), positive_or_null("rated_w")]


class Fan(Part):
    airflow_cfm = models.FloatField(null=True, blank=True, validators=rng(1, 1000))
    size_mm = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(20, 250))
    history = HistoricalRecords()

    class Meta:
        verbose_name = "case fan"
        constraints = [positive_or_null("airflow_cfm")]


class Riser(Part):
    pcie_gen = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 6))
    width = models.PositiveSmallIntegerField(null=True, blank=True, validators=rng(1, 16))
    length_mm = models.PositiveIntegerField(null=True, blank=True, validators=rng(10, 2000))
    kind = models.CharField(max_length=16, blank=True)
    bifurcation = models.CharField(max_length=16, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "PCIe riser or extender"
        constraints = [positive_or_null("width")]


class Brace(Part):
    kind = models.CharField(max_length=40, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "GPU brace"
        verbose_name_plural = "GPU braces"


CATEGORY_MODELS: dict[str, type[Part]] = {
    Category.GPU: Gpu,
    Category.CPU: Cpu,
    Category.MOTHERBOARD: Motherboard,
    Category.MEMORY: MemoryKit,
    Category.STORAGE: Storage,
    Category.PSU: Psu,
    Category.CASE: Case,
    Category.COOLER: Cooler,
    Category.FAN: Fan,
    Category.RISER: Riser,
    Category.BRACE: Brace,
}
CATEGORY_ATTR = {
    cat: model._meta.get_field("part_ptr").remote_field.get_accessor_name()
    for cat, model in CATEGORY_MODELS.items()
}


class Currency(models.TextChoices):
    # Labels are the ISO codes themselves (Django would title-case them to "Usd").
    USD = "USD", "USD"
    EUR = "EUR", "EUR"
    CNY = "CNY", "CNY"
    GBP = "GBP", "GBP"
    JPY = "JPY", "JPY"


class PriceQuote(models.Model):
    """Append-only: a quote is never edited; a newer quote supersedes it."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="price_quotes")
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    currency = models.CharField(max_length=3, choices=Currency.choices)
    condition = models.CharField(max_length=4, choices=Condition.choices, default=Condition.NEW)
    source = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    observed_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-observed_at", "-id"]
        indexes = [models.Index(fields=["part", "condition", "-observed_at"])]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="pricequote_amount_positive")]

    def __str__(self):
        return f"{self.amount} {self.currency} ({self.condition}) {self.observed_at:%Y-%m-%d}"


class ExchangeRate(models.Model):
    currency = models.CharField(max_length=3, choices=Currency.choices)
    per_usd = models.DecimalField(
        max_digits=14, decimal_places=6, validators=[MinValueValidator(Decimal("0.000001"))]
    )
    observed_at = models.DateField()
    source = models.CharField(max_length=300)
    history = HistoricalRecords()

    class Meta:
        ordering = ["currency", "-observed_at"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "observed_at"], name="exchangerate_unique_day"),
            models.CheckConstraint(condition=Q(per_usd__gt=0), name="exchangerate_positive"),
        ]

    def __str__(self):
        return f"1 USD = {self.per_usd} {self.currency} ({self.observed_at})"


class CloudOffer(models.Model):
    gpu = models.ForeignKey(Gpu, on_delete=models.PROTECT, related_name="cloud_offers")
    provider = models.CharField(max_length=80)
    usd_per_hour = models.DecimalField(
        max_digits=8, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    gpus = models.PositiveSmallIntegerField(default=1, validators=rng(1, 16))
    observed_at = models.DateField()
    url = models.URLField(max_length=500, blank=True)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["gpu", "usd_per_hour"]
        constraints = [
            models.CheckConstraint(condition=Q(usd_per_hour__gt=0), name="cloudoffer_positive"),
            models.UniqueConstraint(fields=["gpu", "provider", "gpus"], name="cloudoffer_unique"),
        ]

    def __str__(self):
        return f"{self.provider}: {self.usd_per_hour} USD/h per {self.gpus} GPU"


class ModelPreset(models.Model):
    """An LLM architecture for the workload estimator (public config.json numbers)."""

    # Hugging Face style names keep their dots ("llama-3.2-1b", "qwen2.5-7b"): a slug plus ".".
    slug = models.CharField(
        max_length=80,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9.-]*$", "lowercase letters, digits, '-' and '.'")],
    )
    name = models.CharField(max_length=120)
    params = models.BigIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    layers = models.PositiveIntegerField(validators=rng(1, 1000))
    hidden = models.PositiveIntegerField(validators=rng(1, 100000))
    heads = models.PositiveIntegerField(validators=rng(1, 1000))
    kv_heads = models.PositiveIntegerField(validators=rng(1, 1000))
    intermediate = models.PositiveIntegerField(validators=rng(1, 1000000))
    vocab = models.PositiveIntegerField(validators=rng(1, 2000000))
    tied_embeddings = models.BooleanField(default=False)
    # Empty (NULL) for a dense model: no routed experts. config.json's 0 means the same and loads as NULL.
    experts = models.PositiveIntegerField(
        null=True, blank=True, validators=rng(1, 1024), help_text="Routed experts; empty for a dense model."
    )
    experts_per_token = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=rng(1, 1024),
        help_text="Experts per token; empty for a dense model.",
    )
    extra = models.JSONField(
        default=dict, blank=True, help_text="Other architecture numbers (head_dim, ...)."
    )
    source = models.URLField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if (self.experts is None) != (self.experts_per_token is None):
            raise ValidationError(
                {"experts_per_token": "set both experts and experts per token (MoE), or neither (dense)"}
            )
        if self.experts is not None and self.experts_per_token > self.experts:
            raise ValidationError({"experts_per_token": "cannot exceed the number of experts"})


class CatalogueVersion(models.Model):
    """A single row, bumped when any catalogue write commits (catalog.signals, catalog.services
    .catalogue_changed). Caches of parts and reports key on it; keeping it in the database makes a bump
    reach every worker and server."""

    number = models.PositiveBigIntegerField(default=1)

    def __str__(self):
        return f"catalogue version {self.number}"
