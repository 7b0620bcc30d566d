"""First-run data load: curated catalogue, prices, rates, cloud offers, model presets, curator group.

Idempotent: parts are matched by slug and updated in place; a price quote is added only when the same
(part, amount, currency, condition, source, observed_at) is not there yet. Running it twice changes nothing.
"""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from catalog.models import (
    CATEGORY_MODELS,
    CloudOffer,
    Evidence,
    ExchangeRate,
    Gpu,
    LaneRule,
    M2Socket,
    ModelPreset,
    Motherboard,
    Part,
    PcieSlot,
    PriceQuote,
    TopologySource,
)
from catalog.services import catalogue_bulk_write, part_price_refresh

DATA_DIR = Path(__file__).resolve().parent / "data"
CURATOR_GROUP = "curator"
# Curators edit specs and prices, never users or groups.
CURATOR_MODELS = [
    "part",
    "gpu",
    "cpu",
    "motherboard",
    "pcieslot",
    "m2socket",
    "lanerule",
    "memorykit",
    "storage",
    "psu",
    "case",
    "cooler",
    "fan",
    "riser",
    "brace",
    "pricequote",
    "exchangerate",
    "cloudoffer",
    "modelpreset",
]
BOARD_CHILDREN = ("pcie_slots", "m2_sockets", "lane_rules")


def read_json(path: Path):
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def aware(value: str) -> datetime:
    parsed = (
        datetime.fromisoformat(value)
        if "T" in value
        else datetime.combine(date.fromisoformat(value), datetime.min.time())
    )
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def part_fields(model, record: dict) -> dict:
    """Map a curated record onto the model's columns; spec keys the model lacks are kept in notes."""
    column_names = {f.name for f in model._meta.get_fields() if getattr(f, "concrete", False)}
    spec = {k: v for k, v in (record.get("spec") or {}).items() if k not in BOARD_CHILDREN}
    values = {
        "name": record["name"],
        "brand": record.get("brand", ""),
        "sources": record.get("sources", []),
        "field_sources": record.get("field_sources", {}),
        "notes": record.get("notes", "") or "",
        "curated": True,
    }
    for key, value in spec.items():
        if key not in column_names:
            continue
        field = model._meta.get_field(key)
        if value is None and not field.null:
            value = [] if field.get_internal_type() == "JSONField" else ""
        elif value is not None and field.get_internal_type() != "JSONField":
            value = field.to_python(value)  # compare like for like on the second run (Decimal, str)
        values[key] = value
    return values


def evidence_kind(record: dict, key: str | None) -> str:
    """The kind of the board-level evidence entry a row cites ("estimated" when it cites none)."""
    entry = (record.get("evidence") or {}).get(key or "")
    return entry["kind"] if entry else Evidence.ESTIMATED


def topology_rows(record: dict) -> dict[str, list[dict]]:
    """A curated record's slot, M.2 and rule rows as model field values (the one mapping from data to rows)."""
    spec = record.get("spec") or {}

    def cite(row: dict) -> dict:
        return {
            "evidence": evidence_kind(record, row.get("evidence")),
            "evidence_key": row.get("evidence") or "",
        }

    return {
        "pcie_slots": [
            {
                "position": s["position"],
                "row_known": s.get("row_known", True),
                "physical_width": s.get("physical_width"),
                "electrical_width": s.get("electrical_width"),
                "gen": s.get("gen"),
                "source": s.get("source") or "",
                "bifurcation": s.get("bifurcation") if s.get("bifurcation") is not None else [],
                "designation": s.get("designation") or "",
                **cite(s),
            }
            for s in spec.get("pcie_slots") or []
        ],
        "m2_sockets": [
            {
                "name": m["name"],
                "gen": m.get("gen"),
                "lanes": m.get("lanes"),
                "source": m.get("source") or "",
                "designation": m.get("designation") or "",
                **cite(m),
            }
            for m in spec.get("m2_sockets") or []
        ],
        "lane_rules": [
            {
                "when": str(r["when"]),
                "target": str(r["target"]),
                "effect": r["effect"],
                "width": r.get("width"),
                **cite(r),
            }
            for r in spec.get("lane_rules") or []
        ],
    }


TOPOLOGY_MODELS = {"pcie_slots": PcieSlot, "m2_sockets": M2Socket, "lane_rules": LaneRule}


def stored_rows(board: Motherboard) -> dict[str, list[dict]]:
    return {
        name: list(getattr(board, name).values(*topology_fields(model)))
        for name, model in TOPOLOGY_MODELS.items()
    }


def topology_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.name not in ("id", "board")]


def load_board_topology(board: Motherboard, rows: dict[str, list[dict]]) -> None:
    for name, model in TOPOLOGY_MODELS.items():
        getattr(board, name).all().delete()
        model.objects.bulk_create(model(board=board, **row) for row in rows[name])


def rows_signature(rows: dict[str, list[dict]]) -> list:
    return [
        sorted(json.dumps(row, sort_keys=True, default=str) for row in rows[name]) for name in TOPOLOGY_MODELS
    ]


def load_parts(category: str, records: list[dict]) -> tuple[int, int]:
    model = CATEGORY_MODELS[category]
    created = updated = 0
    for record in records:
        values = part_fields(model, record)
        part = model.objects.filter(slug=record["slug"]).first()
        if part is None:
            part = model(slug=record["slug"], category=category, **values)
            part.full_clean()
            part.save()
            created += 1
        else:
            changed = {k: v for k, v in values.items() if getattr(part, k) != v}
            if changed:
                for key, value in changed.items():
                    setattr(part, key, value)
                part.full_clean()
                part.save()
                updated += 1
        if category == "motherboard":
            rows = topology_rows(record)
            curated = bool(rows["pcie_slots"])
            if rows_signature(stored_rows(part)) != rows_signature(rows):
                load_board_topology(part, rows)
            board_fields = {
                "topology_curated": curated,
                "topology_source": TopologySource.CURATED if curated else "",
                "evidence": record.get("evidence") or {},
                "firmware": record.get("firmware") or {},
            }
            if any(getattr(part, k) != v for k, v in board_fields.items()):
                Motherboard.objects.filter(pk=part.pk).update(**board_fields)
        load_prices(part, record.get("prices") or [])
    return created, updated


def load_prices(part: Part, prices: list[dict]) -> None:
    added = False
    for price in prices:
        if not price.get("observed_at"):
            continue  # an undated quote cannot be ordered in the history; example builds keep what was paid
        observed = aware(price["observed_at"])
        amount = Decimal(str(price["amount"]))
        key = dict(
            part=part,
            amount=amount,
            currency=price["currency"],
            condition=price.get("condition", "new"),
            source=price.get("source", "")[:200],
            observed_at=observed,
        )
        if not PriceQuote.objects.filter(**key).exists():
            quote = PriceQuote(url=price.get("url", "") or "", **key)
            quote.full_clean()
            quote.save()
            added = True
    if added:
        part_price_refresh(part)


def load_exchange_rates() -> int:
    path = DATA_DIR / "exchange_rates.json"
    if not path.exists():
        return 0
    count = 0
    for row in read_json(path):
        _, created = ExchangeRate.objects.update_or_create(
            currency=row["currency"],
            observed_at=date.fromisoformat(row["observed_at"][:10]),
            defaults={"per_usd": Decimal(str(row["per_usd"])), "source": row.get("source", "")[:300]},
        )
        count += created
    return count


def load_cloud_offers() -> int:
    path = DATA_DIR / "cloud_offers.json"
    if not path.exists():
        return 0
    count = 0
    for row in read_json(path):
        gpu = Gpu.objects.filter(slug=row["gpu_slug"]).first()
        if gpu is None:
            continue
        _, created = CloudOffer.objects.update_or_create(
            gpu=gpu,
            provider=row["provider"][:80],
            gpus=row.get("gpus", 1),
            defaults={
                "usd_per_hour": Decimal(str(row["usd_per_hour"])),
                "observed_at": date.fromisoformat(row["observed_at"][:10]),
                "url": row.get("url", "") or "",
                "notes": (row.get("notes") or "")[:300],
            },
        )
        count += created
    return count


PRESET_COLUMNS = {
    "name",
    "params",
    "layers",
    "hidden",
    "heads",
    "kv_heads",
    "intermediate",
    "vocab",
    "tied_embeddings",
    "experts",
    "experts_per_token",
    "source",
}


def load_model_presets() -> int:
    path = DATA_DIR / "model_presets.json"
    if not path.exists():
        return 0
    count = 0
    for position, row in enumerate(read_json(path)):
        defaults = {k: row.get(k) for k in PRESET_COLUMNS if k in row}
        defaults["source"] = defaults.get("source") or ""
        defaults["tied_embeddings"] = bool(defaults.get("tied_embeddings"))
        for key in ("experts", "experts_per_token"):  # config.json's 0 = dense = NULL in ModelPreset
            defaults[key] = defaults.get(key) or None
        defaults["extra"] = {k: v for k, v in row.items() if k not in PRESET_COLUMNS and k != "slug"}
        defaults["position"] = position
        preset = ModelPreset.objects.filter(slug=row["slug"]).first()
        if preset is None:
            ModelPreset.objects.create(slug=row["slug"], **defaults)
            count += 1
        elif any(getattr(preset, k) != v for k, v in defaults.items()):
            ModelPreset.objects.filter(pk=preset.pk).update(**defaults)
    return count


def curator_group() -> Group:
    group, _ = Group.objects.get_or_create(name=CURATOR_GROUP)
    perms = Permission.objects.filter(
        content_type__app_label="catalog", content_type__model__in=CURATOR_MODELS
    )
    # Quotes are append-only: curators add and view them, never change or delete them.
    perms = perms.exclude(codename__in=["change_pricequote", "delete_pricequote"])
    wanted = set(perms.values_list("pk", flat=True))
    if set(group.permissions.values_list("pk", flat=True)) != wanted:
        group.permissions.set(wanted)
    return group


@transaction.atomic
def bootstrap_catalogue() -> list[str]:
    with catalogue_bulk_write():  # one catalogue version bump for the whole load, on commit
        lines = [f"exchange rates: {load_exchange_rates()} new"]
        for category in CATEGORY_MODELS:
            path = DATA_DIR / "parts" / f"{category}.json"
            if path.exists():
                created, updated = load_parts(category, read_json(path))
                lines.append(f"{category}: {created} new, {updated} updated")
        lines.append(f"cloud offers: {load_cloud_offers()} new")
        lines.append(f"model presets: {load_model_presets()} new")
        curator_group()
    return lines
