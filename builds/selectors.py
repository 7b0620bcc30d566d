"""Read paths for builds: lines from a saved build, JSON shape, engine context."""

from builds.inputs import Line, parts_by_slug
from builds.models import Build, BuildItem
from builds.money import localised_context
from builds.services import build_fields
from catalog.engine import specs as engine
from catalog.models import Category
from catalog.selectors import BuildConstraints


def build_lines(build: Build) -> list[Line]:
    """The build's items as lines with typed catalogue rows, in a constant number of queries."""
    items = list(build.items.select_related("part").order_by("position", "id"))
    # Typed rows come through the per-process parts cache (one query for the items when it is warm).
    typed = parts_by_slug({item.part.slug for item in items if item.part_id})
    return [Line.from_item(item, typed[item.part.slug] if item.part_id else None) for item in items]


def build_context(build: Build) -> engine.Context:
    data = {k: v for k, v in (build.context or {}).items() if k in ("circuit", "kwh_price", "hours_per_day")}
    data["currency"] = build.currency
    data["workloads"] = list(build.workloads or [])
    try:
        return engine.parse_context(localised_context(data))
    except engine.SpecError:
        return engine.parse_context({"currency": build.currency})


def saved_values(line: Line) -> dict:
    """A saved line's prices as the API takes them back (export, then import, gives the same build)."""
    item = line.item
    if item is None:
        return {}
    paid = None
    if item.price_paid_amount is not None:
        paid = {
            "amount": str(item.price_paid_amount),
            "currency": item.price_paid_currency,
            "condition": item.price_paid_condition,
        }
    saved = str(item.saved_price_usd) if item.saved_price_usd is not None else None
    return {"saved_price_usd": saved, "price_paid": paid}


def build_as_dict(build: Build, lines: list[Line], report: dict | None = None) -> dict:
    parts, inline_parts = [], []
    for position, line in enumerate(lines):  # position: the line's place among all (catalogue and custom)
        if line.part is not None:
            parts.append(
                {"slug": line.slug, "name": line.name, "category": line.category, "quantity": line.quantity}
                | line.placement.as_json()
                | saved_values(line)
                | {"position": position}
            )
        else:
            inline_parts.append(
                {"category": line.category, "name": line.name, "spec": line.spec, "quantity": line.quantity}
                | line.placement.as_json()
                | saved_values(line)
                | {"position": position}
            )
    data = (
        {"share_id": build.share_id}
        | build_fields(build)
        | {
            "parts": parts,
            "inline_parts": inline_parts,
            "revision": build.revision_count,
            "url": build.get_absolute_url(),
            "forked_from": build.forked_from.share_id if build.forked_from_id else None,
            "source_url": build.source_url,
            "created_at": build.created_at.isoformat(),
            "updated_at": build.updated_at.isoformat(),
        }
    )
    if report is not None:
        data["report"] = report
    return data


def build_constraints(share_id: str) -> BuildConstraints | None:
    """What a saved build fixes for the parts that could join it (the parts list's "compatible with build"
    filter, registered as catalog.selectors.build_constraints_reader); None when no such build."""
    build = Build.objects.filter(share_id=share_id).only("pk").first()
    if build is None:
        return None
    items = BuildItem.objects.filter(
        build=build, part__category__in=[Category.CPU, Category.MOTHERBOARD, Category.CASE]
    ).select_related("part__cpu", "part__motherboard", "part__case")
    found = BuildConstraints()
    cpu = board = case = None
    for item in items:
        part = item.part.typed()
        if part.category == Category.CPU and cpu is None:
            cpu = part
        elif part.category == Category.MOTHERBOARD and board is None:
            board = part
        elif part.category == Category.CASE and case is None:
            case = part
    # A CPU must fit the build's board; a board must take the build's CPU (each falls back on the other).
    found.socket_for_cpu = (board.socket if board else "") or (cpu.socket if cpu else "")
    found.socket_for_board = (cpu.socket if cpu else "") or (board.socket if board else "")
    found.memory_type = (board.memory_type if board else "") or (cpu.memory_type if cpu else "")
    found.max_gpu_length_mm = case.max_gpu_length_mm if case else None
    return found
