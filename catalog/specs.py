"""Adapters from catalogue rows to engine specs: the only bridge between the ORM and catalog/engine."""

import dataclasses
import re
from decimal import Decimal

from catalog.engine import specs as engine
from catalog.engine.placement import Placement
from catalog.models import CATEGORY_MODELS, Motherboard, Part

SPEC_FIELDS = {
    category: tuple(f.name for f in dataclasses.fields(cls)) for category, cls in engine.SPEC_CLASSES.items()
}
BOARD_CHILDREN = ("pcie_slots", "m2_sockets", "lane_rules")
MAX_REPAIRS = 32
# Fields an item of a board's slot, M.2 or lane-rule list cannot do without: an item wrong there is left out.
REQUIRED_ITEM_FIELDS = {"position", "name", "when", "target", "effect"}


def plain(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def rule_ref(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _known(**fields) -> dict:
    """Inline spec fields with unknown (NULL, blank) values left out."""
    return {k: v for k, v in fields.items() if v is not None and v != ""}


def board_topology(board: Motherboard) -> dict:
    """Topology child rows as inline spec lists, each row with its evidence kind; empty when the board has
    no slot table."""
    slots = list(board.pcie_slots.all())
    if not slots:
        return {}
    return {
        "pcie_slots": [
            _known(
                position=s.position,
                physical_width=s.physical_width,
                electrical_width=s.electrical_width,
                gen=s.gen,
                source=s.source,
                bifurcation=list(s.bifurcation) if s.bifurcation is not None else None,
                evidence=s.evidence,
                row_known=s.row_known,
            )
            for s in slots
        ],
        "m2_sockets": [
            _known(name=m.name, gen=m.gen, lanes=m.lanes, source=m.source, evidence=m.evidence)
            for m in board.m2_sockets.all()
        ],
        "lane_rules": [
            _known(
                when=rule_ref(r.when),
                target=rule_ref(r.target),
                effect=r.effect,
                width=r.width or None,
                evidence=r.evidence,
            )
            for r in board.lane_rules.all()
        ],
    }


def spec_dict(part: Part) -> dict:
    """The row's spec as inline spec fields; unknown (NULL, blank, empty list) is left out."""
    row = part.typed()
    data = {}
    for name in SPEC_FIELDS[part.category]:
        if name in BOARD_CHILDREN or not hasattr(row, name):
            continue
        value = plain(getattr(row, name))
        if value is None or value == "" or value == []:
            continue
        data[name] = value
    if part.category == "motherboard":
        data.update(board_topology(row))
    return data


def spec_for(part: Part):
    """Engine spec for a catalogue row, kept on the row (specs are frozen; the configurator's rows are
    cached per catalogue version, so this is built once per part, not once per request)."""
    spec = part.__dict__.get("_engine_spec")
    if spec is None:
        spec = part.__dict__["_engine_spec"] = _spec_from_row(part)
    return spec


def _spec_from_row(part: Part):
    """A stored value the engine's strict validation refuses (dirty imported data) is treated as unknown
    rather than failing the whole build."""
    return repaired_spec(part.category, spec_dict(part))


def repaired_spec(category: str, data: dict):
    """The engine spec of stored data, each value the engine refuses made unknown (`_repair`)."""
    for _ in range(MAX_REPAIRS):
        try:
            return engine.spec_from_dict(category, data)
        except engine.SpecError as exc:
            if not _repair(data, exc.field):
                break
    return engine.SPEC_CLASSES[category]()


ITEM_FIELD = re.compile(r"^(?P<key>[a-z0-9_]+)\[(?P<index>[0-9]+)\](?:\.(?P<inner>[a-z0-9_]+))?")


def _repair(data: dict, field: str) -> bool:
    """Make the value the engine refused unknown, as narrowly as the error allows: a field of one slot,
    socket or lane rule (`pcie_slots[2].gen`) becomes unknown; an item whose required field is wrong (a lane
    rule naming a socket the board lacks) is left out; the rest of the board stays as curated. False when
    nothing could be repaired."""
    path = field.split(".", 1)[1] if "." in field else field  # "motherboard.lane_rules[0].when"
    match = ITEM_FIELD.match(path)
    if match and isinstance(data.get(match["key"]), list):
        items, index, inner = data[match["key"]], int(match["index"]), match["inner"]
        if index >= len(items):
            return False
        item = items[index]
        if inner and isinstance(item, dict) and inner in item and inner not in REQUIRED_ITEM_FIELDS:
            item.pop(inner)
        else:
            data[match["key"]] = items[:index] + items[index + 1 :]
        return True
    key = path.split("[")[0].split(".")[0]
    if key not in data:
        return False
    data.pop(key)
    return True


def engine_part(
    *,
    part_id: str,
    name: str,
    category: str,
    spec,
    quantity: int = 1,
    placement: Placement | None = None,
    price=None,
) -> engine.Part:
    return engine.Part(
        id=part_id,
        name=name,
        category=category,
        spec=spec,
        quantity=quantity,
        **(placement or Placement()).engine_fields(),
        price=float(price) if price is not None else None,
    )


def catalogue_queryset(category: str):
    model = CATEGORY_MODELS[category]
    qs = model.objects.all()
    if category == "motherboard":
        qs = qs.prefetch_related("pcie_slots", "m2_sockets", "lane_rules")
    return qs
