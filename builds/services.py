"""Build write paths: create, save (every save a revision), fork, edit tokens."""

import hashlib
import hmac
import json
import secrets

from django.db import transaction
from django.db.models import F

from builds.inputs import Line
from builds.models import Build, BuildItem, BuildRevision, Visibility
from catalog.engine import specs as engine


class _Today:
    """A line's saved price when it has none yet: the catalogue's price now (a new line, or one re-added)."""

    def __repr__(self):
        return "TODAY"


TODAY = _Today()


def saved_prices(line: Line) -> dict:
    """What a save keeps of a line's prices (BuildItem fields): the saved item's the line continues, then the
    values the API body named (`line.saved`; None clears one). A new line's saved price is today's."""
    item = line.item
    values = {
        "saved_price_usd": item.saved_price_usd if item is not None else TODAY,
        "price_paid_amount": item.price_paid_amount if item is not None else None,
        "price_paid_currency": item.price_paid_currency if item is not None else "",
        "price_paid_condition": item.price_paid_condition if item is not None else "",
    }
    given = line.saved or {}
    if "saved_price_usd" in given:
        values["saved_price_usd"] = given["saved_price_usd"]
    if "price_paid" in given:
        paid = given["price_paid"] or {"amount": None, "currency": "", "condition": ""}
        values["price_paid_amount"] = paid["amount"]
        values["price_paid_currency"] = paid["currency"]
        values["price_paid_condition"] = paid["condition"]
    if values["saved_price_usd"] is TODAY:
        values["saved_price_usd"] = line.part.price_usd if line.part is not None else None
    return values


def _line_key(line) -> tuple:
    if line.part is not None:
        return ("part", line.part.pk)
    return ("custom", line.category, line.name, json.dumps(line.spec, sort_keys=True, default=str))


def _item_key(item: BuildItem) -> tuple:
    if item.part_id:
        return ("part", item.part_id)
    spec = json.dumps(item.custom_spec, sort_keys=True, default=str)
    return ("custom", item.custom_category, item.custom_name, spec)


def continue_items(lines: list, old_items: list[BuildItem]) -> list:
    """Give each line that has no saved item the old item it continues (the same catalogue part, or the
    same custom part), so that an edit keeps the prices paid and saved of the lines it did not change.
    Lines with the same quantity and placement are matched first; each old item continues one line."""
    attached = {line.item.pk for line in lines if getattr(line, "item", None) is not None}
    unused = [item for item in old_items if item.pk not in attached]
    pending = [line for line in lines if getattr(line, "item", None) is None]
    for exact in (True, False):
        for line in pending:
            if line.item is not None:
                continue
            key = _line_key(line)
            for item in unused:
                if _item_key(item) != key:
                    continue
                if exact and (
                    item.quantity != line.quantity or dict(item.placement) != line.placement.as_json()
                ):
                    continue
                line.item = item
                unused.remove(item)
                break
    return lines


def edit_token_new() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return token, edit_token_hash(token)


def edit_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def edit_token_valid(build: Build, token: str | None) -> bool:
    if not token:
        return False
    # Constant-time comparison of the hashes: no timing oracle on the stored value.
    return hmac.compare_digest(edit_token_hash(token), build.edit_token_hash)


def item_snapshot(item: BuildItem) -> dict:
    return {
        "slug": item.part.slug if item.part_id else None,
        "part_name": item.part.name if item.part_id else None,
        "category": item.category,
        "custom_name": item.custom_name,
        "custom_spec": item.custom_spec,
        "quantity": item.quantity,
        "placement": item.placement,
        "saved_price_usd": str(item.saved_price_usd) if item.saved_price_usd is not None else None,
        "price_paid": (
            {
                "amount": str(item.price_paid_amount),
                "currency": item.price_paid_currency,
                "condition": item.price_paid_condition,
            }
            if item.price_paid_amount is not None
            else None
        ),
    }


BUILD_FIELDS = ("name", "description", "visibility", "currency", "context", "workloads")


def build_fields(build: Build) -> dict:
    """The user-set fields of a build, as revisions and the API show them."""
    return {name: getattr(build, name) for name in BUILD_FIELDS}


def build_snapshot(build: Build, items: list[BuildItem]) -> dict:
    return build_fields(build) | {"items": [item_snapshot(i) for i in items]}


def write_items(build: Build, lines: list[Line]) -> list[BuildItem]:
    build.items.all().delete()
    rows = [
        BuildItem(
            build=build,
            position=index,
            part=line.part,
            custom_category=line.category if line.part is None else "",
            custom_name=line.name if line.part is None else "",
            custom_spec=engine.normalise_spec(line.category, line.spec) if line.part is None else {},
            quantity=line.quantity,
            placement=line.placement.as_json(),
            **saved_prices(line),
        )
        for index, line in enumerate(lines)
    ]
    return BuildItem.objects.bulk_create(rows)


@transaction.atomic
def build_save(*, build: Build, items: list[Line], by=None, note: str = "") -> Build:
    """Save a build and its items; every save appends a revision. Concurrent saves each get their own
    revision number (the counter is incremented in the database under a row lock)."""
    is_new = build.pk is None
    if is_new:
        build.save()
    else:
        Build.objects.select_for_update().filter(pk=build.pk).first()
        build.save()
    saved = write_items(build, items)
    Build.objects.filter(pk=build.pk).update(revision_count=F("revision_count") + 1)
    build.refresh_from_db(fields=["revision_count", "updated_at"])
    BuildRevision.objects.create(
        build=build,
        number=build.revision_count,
        snapshot=build_snapshot(build, saved),
        note=note[:200] or ("created" if is_new else "saved"),
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    return build


@transaction.atomic
def build_update(*, build: Build, fields: dict, lines: list[Line], by=None, note: str) -> Build:
    """The one way a saved build changes (the edit page and PATCH): set the given fields, let each line
    continue the saved item it matches (so prices paid and saved survive what the change did not touch),
    and save with a new revision. ``build`` must be the row locked by the caller's select_for_update, read
    in the same transaction, since the caller computed ``fields`` from it."""
    for key, value in fields.items():
        setattr(build, key, value)
    continue_items(lines, list(build.items.all()))
    return build_save(build=build, items=lines, by=by, note=note)


def build_create(*, name: str, items: list[Line], by=None, **fields) -> tuple[Build, str]:
    token, token_hash = edit_token_new()
    owner = by if getattr(by, "is_authenticated", False) else None
    build = Build(name=name, edit_token_hash=token_hash, owner=owner, **fields)
    return build_save(build=build, items=items, by=by, note="created"), token


def build_fork(*, build: Build, by=None) -> tuple[Build, str]:
    items = [Line.from_item(i) for i in build.items.select_related("part").order_by("position", "id")]
    return build_create(
        name=f"{build.name} (fork)"[:200],
        items=items,
        by=by,
        description=build.description,
        currency=build.currency,
        context=build.context,
        workloads=build.workloads,
        forked_from=build,
        visibility=Visibility.UNLISTED,
    )
