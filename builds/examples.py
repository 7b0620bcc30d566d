"""The five seed rigs (../shared/seeds/) as featured example builds, loaded by `manage.py bootstrap`.

Idempotent: matched by `key`; a build whose content is unchanged is left alone (no new revision)."""

import json
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from builds import services
from builds.inputs import Line
from builds.models import Build, Visibility
from catalog.engine.placement import Placement
from catalog.models import Part

EXAMPLES_PATH = Path(__file__).resolve().parent.parent / "catalog" / "data" / "example_builds.json"


def example_items(record: dict, parts: dict[str, Part]) -> tuple[list[Line], list[str]]:
    items, missing = [], []
    for row in record.get("items", []):
        part = parts.get(row["slug"])
        if part is None:
            missing.append(row["slug"])
            continue
        paid = row.get("price_paid") or {}
        price_paid = None
        if paid.get("amount") is not None:
            price_paid = {
                "amount": Decimal(str(paid["amount"])),
                "currency": paid.get("currency") or "",
                "condition": paid.get("condition") or "",
            }
        items.append(
            Line(
                slug=part.slug,
                category=part.category,
                name=part.name,
                part=part,
                quantity=row.get("quantity", 1),
                placement=Placement.from_json(row),
                saved={"price_paid": price_paid},
            )
        )
    return items, missing


def same_content(build: Build, record: dict, items: list[Line]) -> bool:
    saved = [
        (i.part_id, i.quantity, i.placement, i.price_paid_amount)
        for i in build.items.order_by("position", "id")
    ]
    wanted = [
        (i.part.pk, i.quantity, i.placement.as_json(), (i.saved["price_paid"] or {}).get("amount"))
        for i in items
    ]
    return (
        saved == wanted
        and build.name == record["name"]
        and build.description == record.get("description", "")
        and build.context == example_context(record)
    )


def example_context(record: dict) -> dict:
    context = dict(record.get("context") or {})
    context.pop("currency", None)
    return {
        k: v for k, v in context.items() if v is not None and k in ("circuit", "kwh_price", "hours_per_day")
    }


@transaction.atomic
def load_example_builds(path: Path = EXAMPLES_PATH) -> str:
    if not path.exists():
        return "example builds: none (no data file)"
    records = json.loads(path.read_text(encoding="utf-8"))
    slugs = {row["slug"] for record in records for row in record.get("items", [])}
    parts = {p.slug: p for p in Part.objects.filter(slug__in=slugs)}
    created = updated = 0
    missing_all = []
    for record in records:
        items, missing = example_items(record, parts)
        missing_all += missing
        fields = {
            "name": record["name"],
            "description": record.get("description", ""),
            "visibility": Visibility.FEATURED,
            "currency": (record.get("currency") or "USD").upper(),
            "context": example_context(record),
            "source_url": record.get("source_url") or "",
        }
        build = Build.objects.filter(example_key=record["key"]).first()
        if build is None:
            services.build_create(items=items, example_key=record["key"], **fields)
            created += 1
        elif not same_content(build, record, items):
            for key, value in fields.items():
                setattr(build, key, value)
            services.build_save(build=build, items=items, note="example data updated")
            updated += 1
    line = f"example builds: {created} new, {updated} updated"
    if missing_all:
        line += f"; missing parts: {', '.join(sorted(set(missing_all)))}"
    return line
