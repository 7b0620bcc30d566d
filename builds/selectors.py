"""Read paths for builds: lines from a saved build, JSON shape, engine context."""

from builds.inputs import Line, parts_by_slug
from builds.models import Build
from builds.services import ItemInput, build_fields
from catalog.engine import specs as engine


def build_lines(build: Build) -> list[Line]:
    """The build's items as lines with typed catalogue rows, in a constant number of queries."""
    items = list(build.items.select_related("part").order_by("position", "id"))
    # Typed rows come through the per-process parts cache (one query for the items when it is warm).
    typed = parts_by_slug({item.part.slug for item in items if item.part_id})
    lines = []
    for item in items:
        if item.part_id:
            part = typed[item.part.slug]
            lines.append(
                Line(
                    slug=part.slug,
                    category=part.category,
                    name=part.name,
                    quantity=item.quantity,
                    placement=dict(item.placement),
                    part=part,
                )
            )
        else:
            lines.append(
                Line(
                    category=item.custom_category,
                    name=item.custom_name,
                    spec=dict(item.custom_spec),
                    quantity=item.quantity,
                    placement=dict(item.placement),
                )
            )
        lines[-1].item = item
    return lines


def item_inputs(lines: list[Line]) -> list[ItemInput]:
    inputs = []
    for line in lines:
        saved = getattr(line, "item", None)
        inputs.append(
            ItemInput(
                part=line.part,
                custom_category="" if line.part else line.category,
                custom_name="" if line.part else line.name,
                custom_spec={} if line.part else line.spec,
                quantity=line.quantity,
                placement=line.placement,
                price_paid_amount=saved.price_paid_amount if saved else None,
                price_paid_currency=saved.price_paid_currency if saved else "",
                price_paid_condition=saved.price_paid_condition if saved else "",
            )
        )
    return inputs


def build_context(build: Build) -> engine.Context:
    data = {k: v for k, v in (build.context or {}).items() if k in ("circuit", "kwh_price", "hours_per_day")}
    data["currency"] = build.currency
    data["workloads"] = list(build.workloads or [])
    try:
        return engine.parse_context(data)
    except engine.SpecError:
        return engine.parse_context({"currency": build.currency})


def build_as_dict(build: Build, lines: list[Line], report: dict | None = None) -> dict:
    parts, inline_parts = [], []
    for line in lines:
        if line.part is not None:
            parts.append(
                {"slug": line.slug, "name": line.name, "category": line.category, "quantity": line.quantity}
                | line.placement
            )
        else:
            inline_parts.append(
                {"category": line.category, "name": line.name, "spec": line.spec, "quantity": line.quantity}
                | line.placement
            )
    data = (
        {"share_id": build.share_id}
        | build_fields(build)
        | {
            "parts": parts,
            "inline_parts": inline_parts,
            "revision": build.revision_count,
            "url": build.get_absolute_url(),
            "created_at": build.created_at.isoformat(),
            "updated_at": build.updated_at.isoformat(),
        }
    )
    if report is not None:
        data["report"] = report
    return data
