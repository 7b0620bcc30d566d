"""Read paths for the parts pages: filtered, sorted, paginated lists and a part's detail, in constant queries."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import F, Q, QuerySet
from django.http import Http404

from catalog.dmi import DMI_CREDIT, DMI_URL
from catalog.models import CATEGORY_MODELS, Category, Cpu, Evidence, LaneRule, Motherboard, Part, PriceQuote
from catalog.services import Money, exchange_rates, from_usd, price_is_stale

PAGE_SIZE = 50
LIST_CURRENCIES = ("USD", "EUR", "CNY", "GBP")

# The column that "power" sorts and `power_max` filters on, per category (the part's own draw or rating).
POWER_FIELD = {
    Category.GPU: "board_power_w",
    Category.CPU: "tdp_w",
    Category.PSU: "wattage_w",
}
POWER_LABEL = {
    Category.GPU: "Power at most (W)",
    Category.CPU: "TDP at most (W)",
    Category.PSU: "Wattage at most (W)",
}
SOCKET_CATEGORIES = (Category.CPU, Category.MOTHERBOARD)

# Sort keys: name -> column(s). Prices sort by the new price, then the used price, NULLs last (indexed
# columns: Part(category, retired, price_new_usd), Gpu(price_per_vram_gb_usd), Gpu(price_per_tflop_usd)).
SORT_CHOICES = [
    ("price", "Price, low first"),
    ("-price", "Price, high first"),
    ("price_per_gb", "Price per GB of VRAM, low first"),
    ("-price_per_gb", "Price per GB of VRAM, high first"),
    ("price_per_tflop", "Price per BF16 TFLOP, low first"),
    ("-price_per_tflop", "Price per BF16 TFLOP, high first"),
    ("power", "Power, low first"),
    ("-power", "Power, high first"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
]
GPU_ONLY_SORTS = {"price_per_gb": "price_per_vram_gb_usd", "price_per_tflop": "price_per_tflop_usd"}


def sort_choices_for(category: str) -> list[tuple[str, str]]:
    """The sorts offered for a category (others are still accepted, and fall back to name with a note)."""
    return [
        (value, label)
        for value, label in SORT_CHOICES
        if (category == Category.GPU or value.lstrip("-") not in GPU_ONLY_SORTS)
        and (category in POWER_FIELD or value.lstrip("-") != "power")
    ]


@dataclass(frozen=True)
class Column:
    label: str
    field: str
    unit: str = ""
    kind: str = "number"  # number | text | bool | list | pair
    sort: str = ""  # the sort key its header toggles, if any


# Key specs per category for the list; the detail page shows every column.
COLUMNS: dict[str, list[Column]] = {
    Category.GPU: [
        Column("VRAM", "vram_gb", "GB"),
        Column("BF16 TFLOPS", "bf16_tflops"),
        Column("Bandwidth", "memory_bandwidth_gbps", "GB/s"),
        Column("Power", "board_power_w", "W", sort="power"),
        Column("Slots", "slot_width"),
        Column("Length", "length_mm", "mm"),
    ],
    Category.CPU: [
        Column("Socket", "socket", kind="text"),
        Column("Cores / threads", "cores", kind="pair"),
        Column("TDP", "tdp_w", "W", sort="power"),
        Column("PCIe gen", "pcie_gen"),
        Column("CPU lanes", "cpu_lanes"),
        Column("Memory", "memory_type", kind="text"),
        Column("Channels", "memory_channels"),
    ],
    Category.MOTHERBOARD: [
        Column("Socket", "socket", kind="text"),
        Column("Chipset", "chipset", kind="text"),
        Column("Form factor", "form_factor", kind="text"),
        Column("Memory", "memory_type", kind="text"),
        Column("DIMM slots", "memory_slots"),
        Column("Max memory", "max_memory_gb", "GB"),
        Column("Slot table", "topology_source", kind="text"),
    ],
    Category.MEMORY: [
        Column("Type", "memory_type", kind="text"),
        Column("Modules", "modules"),
        Column("Per module", "module_gb", "GB"),
        Column("Speed", "speed_mts", "MT/s"),
    ],
    Category.STORAGE: [
        Column("Interface", "interface", kind="text"),
        Column("PCIe gen", "pcie_gen"),
        Column("Capacity", "capacity_gb", "GB"),
        Column("Form factor", "form_factor", kind="text"),
    ],
    Category.PSU: [
        Column("Wattage", "wattage_w", "W", sort="power"),
        Column("Efficiency", "efficiency", kind="text"),
        Column("ATX 3.x", "atx3", kind="bool"),
        Column("8-pin", "power_8pin"),
        Column("12V-2x6", "power_12v2x6"),
    ],
    Category.CASE: [
        Column("Form factors", "form_factors", kind="list"),
        Column("Max GPU length", "max_gpu_length_mm", "mm"),
        Column("Max cooler height", "max_cooler_height_mm", "mm"),
        Column("Expansion slots", "expansion_slots"),
        Column("Open frame", "open_frame", kind="bool"),
    ],
    Category.COOLER: [
        Column("Type", "cooler_type", kind="text"),
        Column("Height", "height_mm", "mm"),
        Column("Rated", "rated_w", "W"),
        Column("Sockets", "sockets", kind="list"),
    ],
    Category.FAN: [Column("Airflow", "airflow_cfm", "CFM"), Column("Size", "size_mm", "mm")],
    Category.RISER: [
        Column("Kind", "kind", kind="text"),
        Column("PCIe gen", "pcie_gen"),
        Column("Width", "width"),
        Column("Length", "length_mm", "mm"),
    ],
    Category.BRACE: [Column("Kind", "kind", kind="text")],
}
# Part columns every row needs (name, link, price, badges, credit).
BASE_ONLY = (
    "slug",
    "name",
    "brand",
    "category",
    "retired",
    "opendb_id",
    "price_new_usd",
    "price_used_usd",
    "price_observed_at",
)

# Units by suffix, for the detail page's spec table.
UNIT_SUFFIXES = (
    ("_gbps", "GB/s"),
    ("_tflops", "TFLOPS"),
    ("_gb", "GB"),
    ("_mts", "MT/s"),
    ("_cfm", "CFM"),
    ("_mm", "mm"),
    ("_w", "W"),
    ("_g", "g"),
)
# Labels where the column name does not read well once its unit suffix is dropped.
SPEC_LABELS = {
    "topology_source": "Slot table",
    "vram_gb": "VRAM",
    "memory_bandwidth_gbps": "Memory bandwidth",
    "bf16_tflops": "BF16 TFLOPS (dense, FP32 accumulate)",
    "fp8": "FP8",
    "transient_peak_w": "Transient peak",
    "pcie_gen": "PCIe generation",
    "pcie_lanes": "PCIe lanes",
    "power_8pin": "8-pin PCIe power",
    "power_12v2x6": "12V-2x6 power",
    "nvlink": "NVLink",
    "p2p": "Peer-to-peer (P2P)",
    "tdp_w": "TDP",
    "ppt_w": "PPT",
    "cpu_lanes": "CPU lanes (for slots and M.2)",
    "max_memory_gb": "Max memory",
    "chipset_uplink_gbps": "Chipset uplink",
    "module_gb": "Per module",
    "speed_mts": "Speed",
    "wattage_w": "Wattage",
    "atx3": "ATX 3.x",
    "max_gpu_length_mm": "Max GPU length",
    "max_cooler_height_mm": "Max cooler height",
    "rated_w": "Rated for",
    "airflow_cfm": "Airflow",
    "cooler_type": "Cooler type",
}
EXTRA_UNITS = {"slot_width": "slots", "capacity_gb": "GB"}
PART_FIELD_NAMES = {f.name for f in Part._meta.concrete_fields}
DETAIL_SKIP = {
    "part_ptr",
    "price_per_vram_gb_usd",
    "price_per_tflop_usd",
    "evidence",
    "firmware",
    "topology_curated",
}


def categories() -> list[tuple[str, str]]:
    return list(Category.choices)


def category_model(category: str) -> type[Part]:
    try:
        return CATEGORY_MODELS[Category(category)]
    except ValueError:
        raise Http404("unknown category") from None


def socket_choices(category: str) -> list[str]:
    """Sockets present among the category's listed parts (one query, indexed column)."""
    if category not in SOCKET_CATEGORIES:
        return []
    model = Cpu if category == Category.CPU else Motherboard
    return list(
        model.objects.filter(retired=False)
        .exclude(socket="")
        .order_by("socket")
        .values_list("socket", flat=True)
        .distinct()
    )


@dataclass
class BuildConstraints:
    socket_for_cpu: str = ""
    socket_for_board: str = ""
    memory_type: str = ""
    max_gpu_length_mm: int | None = None


# The "compatible with build" filter reads a saved build, which lives in the builds app; builds depends on
# catalog, so catalog never imports it: builds registers its reader here when the app loads
# (builds.apps.BuildsConfig.ready -> builds.selectors.build_constraints).
BuildConstraintsReader = Callable[[str], "BuildConstraints | None"]
build_constraints_reader: BuildConstraintsReader | None = None


def build_constraints(share_id: str) -> BuildConstraints | None:
    """What a saved build fixes for the parts that could join it; None when no such build."""
    if build_constraints_reader is None:
        return None
    return build_constraints_reader(share_id)


def apply_build_filter(qs: QuerySet, category: str, share_id: str) -> tuple[QuerySet, str]:
    """Narrow to parts compatible with the build, with a sentence saying what was applied (or why not)."""
    constraints = build_constraints(share_id)
    if constraints is None:
        return qs, "No build with that id: the compatibility filter is ignored."
    if category == Category.CPU and constraints.socket_for_cpu:
        return qs.filter(socket__iexact=constraints.socket_for_cpu), (
            f"Showing CPUs for socket {constraints.socket_for_cpu}, the build's."
        )
    if category == Category.MOTHERBOARD and constraints.socket_for_board:
        return qs.filter(socket__iexact=constraints.socket_for_board), (
            f"Showing boards for socket {constraints.socket_for_board}, the build's."
        )
    if category == Category.MEMORY and constraints.memory_type:
        return qs.filter(memory_type=constraints.memory_type), (
            f"Showing {constraints.memory_type} kits, the build's memory type."
        )
    if category == Category.GPU and constraints.max_gpu_length_mm:
        # Unknown length stays listed: nothing says it does not fit.
        return qs.filter(Q(length_mm__lte=constraints.max_gpu_length_mm) | Q(length_mm__isnull=True)), (
            f"Showing GPUs up to {constraints.max_gpu_length_mm} mm long, the build's case limit"
            " (cards of unknown length included)."
        )
    return qs, "The build fixes nothing for this category: showing all."


@dataclass
class Cell:
    text: str
    unknown: bool = False


@dataclass
class PartRow:
    part: Part
    cells: list[Cell]
    price: Money
    price_is_used: bool
    used_price: Money | None
    per_gb: Money | None = None
    per_tflop: Money | None = None
    stale: bool = False


@dataclass
class PartList:
    category: str
    page: Page
    rows: list[PartRow]
    columns: list[Column]
    currency: str
    sort: str
    notes: list[str] = field(default_factory=list)
    show_opendb_credit: bool = False
    show_dmi_credit: bool = False

    @property
    def sorted_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")


def fmt_number(value) -> str:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return f"{value:,.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def cell_for(part: Part, column: Column) -> Cell:
    value = getattr(part, column.field)
    if column.kind == "pair":
        threads = getattr(part, "threads", None)
        if value is None and threads is None:
            return Cell("unknown", True)
        return Cell(f"{value if value is not None else '?'} / {threads if threads is not None else '?'}")
    if column.kind == "bool":
        return Cell("unknown", True) if value is None else Cell("yes" if value else "no")
    if column.kind == "list":
        return Cell(", ".join(str(v) for v in value)) if value else Cell("unknown", True)
    if value is None or value == "":
        return Cell("unknown", True)
    if column.kind == "text":
        return Cell(str(value).replace("_", " "))
    return Cell(f"{fmt_number(value)} {column.unit}".strip())


def only_fields(category: str) -> list[str]:
    names = list(BASE_ONLY)
    for column in COLUMNS[category]:
        names.append(column.field)
        if column.kind == "pair":
            names.append("threads")
    if category == Category.GPU:
        names += ["price_per_vram_gb_usd", "price_per_tflop_usd"]
    return names


def sort_order(category: str, sort: str) -> tuple[list, str, str]:
    """(order_by expressions, effective sort key, note) for a requested sort key."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    note = ""

    def direction(name):
        return F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)

    if key in GPU_ONLY_SORTS and category != Category.GPU:
        what = "price per GB of VRAM" if key == "price_per_gb" else "price per BF16 TFLOP"
        note = f"Sorting by {what} applies to GPUs only: sorted by name instead."
        key, descending = "name", False
    elif key == "power" and category not in POWER_FIELD:
        note = "This category has no power figure to sort by: sorted by name instead."
        key, descending = "name", False
    if key == "price":
        order = [direction("price_new_usd"), direction("price_used_usd")]
    elif key in GPU_ONLY_SORTS:
        order = [direction(GPU_ONLY_SORTS[key])]
    elif key == "power":
        order = [direction(POWER_FIELD[category])]
    else:
        key = "name"
        order = [F("name").desc() if descending else F("name").asc()]
    effective = f"-{key}" if descending else key
    return [*order, "name", "pk"], effective, note


def part_list(
    category: str,
    *,
    q: str = "",
    sort: str = "price",
    vram_min: float | None = None,
    vram_max: float | None = None,
    power_max: float | None = None,
    price_max: Decimal | None = None,
    socket: str = "",
    build: str = "",
    currency: str = "USD",
    page: int | str = 1,
) -> PartList:
    model = category_model(category)
    rates = exchange_rates()
    currency = currency if currency in rates else "USD"
    qs = model.objects.filter(retired=False)
    notes = []
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(brand__icontains=q))
    if category == Category.GPU:
        if vram_min is not None:
            qs = qs.filter(vram_gb__gte=vram_min)
        if vram_max is not None:
            qs = qs.filter(vram_gb__lte=vram_max)
    if power_max is not None and category in POWER_FIELD:
        qs = qs.filter(**{f"{POWER_FIELD[category]}__lte": power_max})
    if price_max is not None:
        # The price filter is in the page's currency; the stored prices are USD.
        limit_usd = Decimal(price_max) / rates[currency]
        qs = qs.filter(
            Q(price_new_usd__lte=limit_usd) | Q(price_new_usd__isnull=True, price_used_usd__lte=limit_usd)
        )
    if socket and category in SOCKET_CATEGORIES:
        qs = qs.filter(socket__iexact=socket)
    if build:
        qs, note = apply_build_filter(qs, category, build)
        notes.append(note)
    order, effective_sort, note = sort_order(category, sort or "price")
    if note:
        notes.append(note)
    qs = qs.only(*only_fields(category)).order_by(*order)
    page_obj = Paginator(qs, PAGE_SIZE).get_page(page)
    rows = [row_for(part, category, currency, rates) for part in page_obj.object_list]
    return PartList(
        category=category,
        page=page_obj,
        rows=rows,
        columns=COLUMNS[category],
        currency=currency,
        sort=effective_sort,
        notes=notes,
        show_opendb_credit=any(row.part.opendb_id for row in rows),
        show_dmi_credit=any(getattr(row.part, "topology_source", "") == "firmware" for row in rows),
    )


def row_for(part: Part, category: str, currency: str, rates: dict[str, Decimal]) -> PartRow:
    used = part.price_new_usd is None and part.price_used_usd is not None
    row = PartRow(
        part=part,
        cells=[cell_for(part, column) for column in COLUMNS[category]],
        price=Money(from_usd(part.price_usd, currency, rates), currency),
        price_is_used=used,
        used_price=(
            Money(from_usd(part.price_used_usd, currency, rates), currency)
            if part.price_used_usd is not None and not used
            else None
        ),
        stale=price_is_stale(part),
    )
    if category == Category.GPU:
        row.per_gb = Money(from_usd(part.price_per_vram_gb_usd, currency, rates), currency)
        row.per_tflop = Money(from_usd(part.price_per_tflop_usd, currency, rates), currency)
    return row


# --- detail -------------------------------------------------------------------------------------------


@dataclass
class SpecRow:
    label: str
    text: str
    unknown: bool = False
    source: str = ""


@dataclass
class HistoryRow:
    quote: PriceQuote
    converted: Money
    href: str = ""


@dataclass(frozen=True)
class EvidenceRef:
    """One source a board's slot rows cite, numbered for the evidence column and its legend."""

    number: int
    kind: str  # an Evidence value
    label: str  # "manual", "spec page", ...
    title: str
    href: str
    detail: str  # manual pages, firmware report count, or why a value is estimated

    @property
    def estimated(self) -> bool:
        return self.kind == Evidence.ESTIMATED


@dataclass(frozen=True)
class TopologyRow:
    """A slot row, M.2 socket or lane rule with the evidence it cites (None: cites nothing)."""

    row: object
    evidence: EvidenceRef | None
    text: str = ""


def evidence_refs(board: Motherboard) -> dict[str, EvidenceRef]:
    entries = board.evidence if isinstance(board.evidence, dict) else {}
    refs = {}
    for number, (key, entry) in enumerate(entries.items(), start=1):
        if not isinstance(entry, dict) or entry.get("kind") not in Evidence.values:
            continue
        kind = entry["kind"]
        if kind == Evidence.MANUAL:
            detail = f"p. {entry['page']}" if entry.get("page") else ""
        elif kind == Evidence.FIRMWARE:
            n = entry.get("reports")
            detail = f"{n} report{'s' if n != 1 else ''}" if n else ""
            if n == 1:
                detail += ": a single report is a hint, not proof (the user's BIOS may be old)"
        elif kind == Evidence.ESTIMATED:
            detail = str(entry.get("why") or "")
        else:
            detail = ""
        url = entry.get("url") or (DMI_URL if kind == Evidence.FIRMWARE else "")
        title = str(entry.get("title") or (DMI_CREDIT if kind == Evidence.FIRMWARE else "") or url)
        refs[key] = EvidenceRef(number, kind, Evidence(kind).label, title, link_or_text(url)[1], detail)
    return refs


@dataclass
class PartDetail:
    part: Part
    specs: list[SpecRow]
    currency: str
    price_new: Money
    price_used: Money
    stale: bool
    history: list[HistoryRow]
    series: dict[str, list[tuple[datetime, Decimal]]]
    lane_rules: list[TopologyRow]
    slots: list = field(default_factory=list)
    m2_sockets: list = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    evidence: list[EvidenceRef] = field(default_factory=list)

    @property
    def shows_firmware(self) -> bool:
        return any(ref.kind == Evidence.FIRMWARE for ref in self.evidence)


def link_or_text(value) -> tuple[str, str]:
    """(text, href): only http(s) URLs become links, so a curated string can never be a javascript: link."""
    text = str(value)
    return text, text if text.startswith(("https://", "http://")) else ""


def unit_for(name: str) -> str:
    if name in EXTRA_UNITS:
        return EXTRA_UNITS[name]
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


def spec_label(name: str) -> str:
    """'length_mm' -> 'Length': the unit goes with the value, not the label."""
    for suffix, _ in UNIT_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    words = name.replace("_", " ")
    return words[:1].upper() + words[1:]


def spec_rows(part: Part) -> list[SpecRow]:
    rows = []
    field_sources = part.field_sources if isinstance(part.field_sources, dict) else {}
    for model_field in type(part)._meta.concrete_fields:
        name = model_field.name
        if name in PART_FIELD_NAMES or name in DETAIL_SKIP or name == "id":
            continue
        value = getattr(part, name)
        label = SPEC_LABELS.get(name) or spec_label(name)
        source = field_sources.get(name, "")
        source = link_or_text(source)[1] if isinstance(source, str) else ""
        if model_field.get_internal_type() == "BooleanField":
            text = "unknown" if value is None else ("yes" if value else "no")
            rows.append(SpecRow(label, text, value is None, source))
            continue
        if value is None or value == "" or value == []:
            rows.append(SpecRow(label, "unknown", True, source))
            continue
        if isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, str):
            text = value.replace("_", " ") if model_field.choices else value
        else:
            text = f"{fmt_number(value)} {unit_for(name)}".strip()
        rows.append(SpecRow(label, text, False, source))
    return rows


def slot_ref(value: str) -> str:
    return f"slot {value}" if str(value).isdigit() else str(value)


def lane_rule_text(rule: LaneRule) -> str:
    """'When slot 3 is populated, slot 1 runs at x8.' from a curated rule."""
    when, target = slot_ref(rule.when), slot_ref(rule.target)
    if rule.effect == LaneRule.Effect.DISABLE:
        return f"When {when} is populated, {target} is disabled."
    return f"When {when} is populated, {target} runs at x{rule.width}."


def part_detail(category: str, slug: str, *, currency: str = "USD") -> PartDetail:
    model = category_model(category)
    qs = model.objects.all()
    if model is Motherboard:
        qs = qs.prefetch_related("pcie_slots", "m2_sockets", "lane_rules")
    part = qs.filter(slug=slug).first()
    if part is None:
        raise Http404("no such part")
    rates = exchange_rates()
    currency = currency if currency in rates else "USD"
    quotes = list(PriceQuote.objects.filter(part_id=part.pk).order_by("observed_at", "id"))
    history, series = [], {}
    for quote in quotes:
        # Today's rates for every quote: the chart compares prices, not old exchange rates.
        in_usd = Decimal(quote.amount) / rates.get(quote.currency, Decimal(1))
        converted = from_usd(in_usd, currency, rates)
        history.append(HistoryRow(quote, Money(converted, currency), link_or_text(quote.url)[1]))
        series.setdefault(quote.condition, []).append((quote.observed_at, converted))
    history.reverse()  # newest first in the table
    detail = PartDetail(
        part=part,
        specs=spec_rows(part),
        currency=currency,
        price_new=Money(from_usd(part.price_new_usd, currency, rates), currency),
        price_used=Money(from_usd(part.price_used_usd, currency, rates), currency),
        stale=price_is_stale(part),
        history=history,
        series=series,
        lane_rules=[],
        sources=[link_or_text(src) for src in (part.sources if isinstance(part.sources, list) else [])],
    )
    if model is Motherboard:
        refs = evidence_refs(part)
        detail.evidence = list(refs.values())
        detail.slots = [TopologyRow(s, refs.get(s.evidence_key)) for s in part.pcie_slots.all()]
        detail.m2_sockets = [TopologyRow(m, refs.get(m.evidence_key)) for m in part.m2_sockets.all()]
        detail.lane_rules = [
            TopologyRow(rule, refs.get(rule.evidence_key), lane_rule_text(rule))
            for rule in part.lane_rules.all()
        ]
    return detail
