"""Strict parsing of a build's parts (API body or configurator state) into lines, and lines into a rig.

The API body is `{"parts": [{"slug", "quantity", placement...}], "inline_parts": [{"category", "name",
"spec", "quantity", placement...}], "context": {...}, "workloads": [...]}` (docs/api.md).
Catalogue slugs are resolved in a constant number of queries.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from catalog.engine import specs as engine
from catalog.engine.errors import InputError
from catalog.engine.placement import KEYS as PLACEMENT_KEYS
from catalog.engine.placement import Placement  # the one input error; other builds modules import it here
from catalog.models import CATEGORY_ATTR, Part
from catalog.services import catalogue_version
from catalog.specs import engine_part, spec_for

MAX_ITEMS = 64
# Units in one build, quantities summed: more than any real rig (an 8-GPU server with its fans and drives
# is ~40), and it bounds the work a page or a check does per unit (1,024 GPUs once cost ~0.6 s a page).
MAX_UNITS = 128
SLUG_RE = re.compile(r"[a-z0-9-]{1,220}")
# What a saved build keeps per line beyond the part (BuildItem's saved and paid prices): the API's GET and
# JSON export carry them, so an export can be posted back as it is.
SAVED_KEYS = ("saved_price_usd", "price_paid")
# A catalogue part's name and category come from the catalogue: accepted (an export names them) and ignored.
CATALOGUE_READ_ONLY_KEYS = ("name", "category")
CATALOGUE_ITEM_KEYS = {
    "slug",
    "quantity",
    "position",
    *PLACEMENT_KEYS,
    *SAVED_KEYS,
    *CATALOGUE_READ_ONLY_KEYS,
}
PAID_KEYS = ("amount", "currency", "condition")
PAID_CURRENCIES = ("USD", "EUR", "CNY", "GBP", "JPY")  # catalog.models.Currency
PAID_CONDITIONS = ("new", "used")  # catalog.models.Condition
MONEY_MAX = Decimal("9999999999.99")  # BuildItem's DecimalField(max_digits=12, decimal_places=2)


# The deepest legitimate JSON (an exported build: parts -> [i] -> spec -> lane_rules -> [i] -> value, or a
# report) is under 10 levels; 32 leaves room and stays far below Python's recursion limit everywhere the
# data goes afterwards (validation, JSONField, templates).
MAX_JSON_DEPTH = 32


def check_json_values(data, root: str = "body") -> None:
    """Refuse, naming the place, what no later step can take: nesting deeper than MAX_JSON_DEPTH, and
    strings (values or keys) holding NUL (PostgreSQL refuses it in text and jsonb) or a lone surrogate
    (not encodable as UTF-8). Iterative, so the check itself cannot overflow the stack. Used on API bodies
    and on the custom parts of the configurator's state."""
    stack = [(data, root, 1)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise InputError(where, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    check_text(key, f"{where}.{key[:40]!r}")
                    child = key if where == "body" else f"{where}.{key}"
                else:
                    child = f"{where}[{key}]"
                stack.append((item, child, depth + 1))
        elif isinstance(value, str):
            check_text(value, where)


def check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise InputError(where, "must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(where, "must be valid Unicode (no lone surrogates)") from None


@dataclass
class Line:
    """One build line, the one record of it from the URL, the API, the forms and the database to the engine
    and back: a catalogue part (slug) or a custom part (category, name, spec dict), its quantity and
    placement, and what a save keeps of the line's prices (`item`, `saved`; builds.services.write_items)."""

    slug: str | None = None
    category: str = ""
    name: str = ""
    spec: dict = field(default_factory=dict)
    quantity: int = 1
    placement: Placement = field(default_factory=Placement)
    part: Part | None = None  # resolved catalogue row (typed subclass)
    item: object = None  # the saved BuildItem, when read from a build or continued by an edit
    # Saved values the API body gave explicitly (keys of SAVED_KEYS; None = clear it). What is not named
    # here is kept from the saved item the line continues.
    saved: dict = field(default_factory=dict)
    # Where the line sits among all the build's lines (API "position"; GET and the export give it), so that
    # catalogue and custom parts keep their order through an export and import (PSU units are numbered in
    # line order). None: after the lines that have one, in the order given.
    position: int | None = None

    @classmethod
    def for_part(cls, part: Part, quantity: int = 1, placement: Placement | None = None) -> "Line":
        """A catalogue part as a new line."""
        return cls(
            slug=part.slug,
            category=part.category,
            name=part.name,
            part=part,
            quantity=quantity,
            placement=placement or Placement(),
        )

    @classmethod
    def from_item(cls, item, part: Part | None = None) -> "Line":
        """A saved BuildItem as a line (`part`: its typed catalogue row, when the caller has it)."""
        if item.part_id:
            part = part or item.part
            line = cls(slug=part.slug, category=part.category, name=part.name, part=part)
        else:
            line = cls(category=item.custom_category, name=item.custom_name, spec=dict(item.custom_spec))
        line.quantity = item.quantity
        line.placement = Placement.from_json(item.placement)
        line.item = item
        return line

    def part_id_at(self, index: int) -> str:
        """The line's id in an engine rig and its report (findings name parts by it), the one place it is
        made; `index` is the line's place in the build."""
        return f"{self.slug}#{index}" if self.slug else f"custom-{index}"


def _placement(placement: Placement, where: str, category: str, quantity: int) -> Placement:
    """Validate a placement through the engine's own strict part parser (nothing to check when it is empty:
    the quantity is checked where the line is read)."""
    if not placement:
        return placement
    probe = {"category": category, "quantity": quantity, **placement.as_json()}
    try:
        engine.part_from_dict(probe, prefix="x")
    except engine.SpecError as exc:
        raise InputError(exc.field.replace("x[0]", where), exc.message) from None
    return placement


def _quantity(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}.quantity", "must be an integer")
    if not 1 <= value <= 16:
        raise InputError(f"{where}.quantity", "must be between 1 and 16")
    return value


def _money(value, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(where, "must be a number or a decimal string")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(where, f"{str(value)[:40]!r} is not a number") from None
    if not amount.is_finite() or not 0 <= amount <= MONEY_MAX:
        raise InputError(where, f"must be between 0 and {MONEY_MAX}")
    if amount != amount.quantize(Decimal("0.01")):
        raise InputError(where, "at most 2 decimal places")
    return amount.quantize(Decimal("0.01"))


def _saved_values(item: dict, where: str) -> dict:
    """The saved values an API part names: saved_price_usd (USD per unit) and price_paid
    ({amount, currency, condition}); null clears one."""
    saved = {}
    if "saved_price_usd" in item:
        value = item["saved_price_usd"]
        saved["saved_price_usd"] = None if value is None else _money(value, f"{where}.saved_price_usd")
    if "price_paid" in item:
        paid = item["price_paid"]
        if paid is None:
            saved["price_paid"] = None
        else:
            if not isinstance(paid, dict):
                raise InputError(
                    f"{where}.price_paid", "must be an object {amount, currency, condition} or null"
                )
            for key in paid:
                if key not in PAID_KEYS:
                    raise InputError(f"{where}.price_paid.{key}", "unknown field")
            if paid.get("currency") not in PAID_CURRENCIES:
                raise InputError(f"{where}.price_paid.currency", f"one of {', '.join(PAID_CURRENCIES)}")
            condition = paid.get("condition") or ""
            if condition and condition not in PAID_CONDITIONS:
                raise InputError(f"{where}.price_paid.condition", "new or used")
            saved["price_paid"] = {
                "amount": _money(paid.get("amount"), f"{where}.price_paid.amount"),
                "currency": paid["currency"],
                "condition": condition,
            }
    return saved


def parse_lines(parts, inline_parts) -> list[Line]:
    parts = parts if parts is not None else []
    inline_parts = inline_parts if inline_parts is not None else []
    if not isinstance(parts, list):
        raise InputError("parts", "must be a list")
    if not isinstance(inline_parts, list):
        raise InputError("inline_parts", "must be a list")
    if len(parts) + len(inline_parts) > MAX_ITEMS:
        raise InputError("parts", f"at most {MAX_ITEMS} items in all")
    lines = []
    for index, item in enumerate(parts):
        where = f"parts[{index}]"
        if not isinstance(item, dict):
            raise InputError(where, "must be an object")
        for key in item:
            if key not in CATALOGUE_ITEM_KEYS:
                raise InputError(f"{where}.{key}", "unknown field")
        slug = item.get("slug")
        if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug):
            raise InputError(f"{where}.slug", "must be a part slug (a-z, 0-9 and -, at most 220)")
        quantity = _quantity(item.get("quantity", 1), where)
        saved = _saved_values(item, where)
        placement = Placement.from_json(item)  # validated with the part's category (resolve_lines)
        position = _position(item, where)
        lines.append(Line(slug=slug, quantity=quantity, placement=placement, saved=saved, position=position))
    for index, item in enumerate(inline_parts):
        where = f"inline_parts[{index}]"
        saved = _saved_values(item, where) if isinstance(item, dict) else {}
        position = _position(item, where) if isinstance(item, dict) else None
        if isinstance(item, dict):
            item = {k: v for k, v in item.items() if k not in SAVED_KEYS and k != "position"}
        try:
            parsed = engine.part_from_dict(item, index)
        except engine.SpecError as exc:
            raise InputError(exc.field, exc.message) from None
        spec = engine.normalise_spec(parsed.category, item.get("spec") or {})  # canonical form factors
        placement = Placement.from_json(item)
        lines.append(
            Line(
                category=parsed.category,
                name=parsed.name,
                spec=spec,
                quantity=parsed.quantity,
                placement=placement,
                saved=saved,
                position=position,
            )
        )
    total = sum(line.quantity for line in lines)
    if total > MAX_UNITS:
        raise InputError(
            "parts", f"at most {MAX_UNITS} units in a build (quantities summed); this one has {total}"
        )
    return lines


def _position(item: dict, where: str) -> int | None:
    value = item.get("position")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2 * MAX_ITEMS:
        raise InputError(f"{where}.position", f"an integer from 0 to {2 * MAX_ITEMS - 1}")
    return value


def order_lines(lines: list[Line]) -> list[Line]:
    """Lines in the order their positions give (stable; lines without one after, in the order given)."""
    if all(line.position is None for line in lines):
        return lines
    ranked = sorted(enumerate(lines), key=lambda p: (p[1].position is None, p[1].position or 0, p[0]))
    return [line for _, line in ranked]


def resolve_lines(lines: list[Line]) -> list[Line]:
    """Attach catalogue rows to the slug lines (3-4 queries whatever the count); unknown slug -> error."""
    slugs = {line.slug for line in lines if line.slug}
    by_slug = parts_by_slug(slugs)
    for index, line in enumerate(lines):
        if line.slug is None:
            continue
        part = by_slug.get(line.slug)
        if part is None:
            raise InputError(f"parts[{index}].slug", f"no part {line.slug!r} in the catalogue")
        line.part = part
        line.category = part.category
        line.name = part.name
        line.placement = _placement(line.placement, f"parts[{index}]", part.category, line.quantity)
    return lines


# Typed catalogue rows by (catalogue version, slug), per process. Every write to parts or prices bumps the
# version (catalog.services.catalogue_version_bump), so a stale row is never served; the re-check then needs no
# query for parts it has seen. Rows are shared between requests and must be treated as read-only.
_PART_CACHE: dict[tuple[int, str], Part] = {}
PART_CACHE_MAX = 20_000


def parts_by_slug(slugs) -> dict[str, Part]:
    if not slugs:
        return {}
    version = catalogue_version()
    found = {slug: _PART_CACHE.get((version, slug)) for slug in slugs}
    missing = [slug for slug, part in found.items() if part is None]
    if missing:
        # Join only the categories asked for: PostgreSQL spends ~5 ms planning the 12-table join of every
        # category, against ~0.2 ms for the few a request needs (measured by the bench).
        # No ORDER BY (Part's default ordering is by name): the rows go into a dict.
        categories = dict(Part.objects.filter(slug__in=missing).order_by().values_list("slug", "category"))
        attrs = sorted({CATEGORY_ATTR[category] for category in categories.values()})
        rows = Part.objects.filter(slug__in=list(categories)).order_by().select_related(*attrs)
        if "motherboard" in attrs:
            rows = rows.prefetch_related(
                "motherboard__pcie_slots", "motherboard__m2_sockets", "motherboard__lane_rules"
            )
        if len(_PART_CACHE) > PART_CACHE_MAX:
            _PART_CACHE.clear()
        for row in rows:
            found[row.slug] = _PART_CACHE[(version, row.slug)] = row.typed()
    return {slug: part for slug, part in found.items() if part is not None}


def part_cache_clear() -> None:
    _PART_CACHE.clear()


def rig_from_lines(lines: list[Line], *, prices: bool = False) -> engine.Rig:
    engine_parts = []
    for index, line in enumerate(lines):
        if line.part is not None:
            spec = spec_for(line.part)
            price = line.part.price_usd if prices else None
        else:
            spec = engine.spec_from_dict(line.category, line.spec)
            price = None
        engine_parts.append(
            engine_part(
                part_id=line.part_id_at(index),
                name=line.name,
                category=line.category,
                spec=spec,
                quantity=line.quantity,
                placement=line.placement,
                price=price,
            )
        )
    return engine.Rig(tuple(engine_parts))
