"""Bulk CSV import and export of price quotes (django-import-export), with a per-row report.

CSV columns: part (slug), amount, currency, condition (new|used), source, url, observed_at (ISO date/time).
Every row appends a quote; nothing is updated in place. The import runs in one transaction: a file with
any rejected row imports nothing (IMPORT_EXPORT_USE_TRANSACTIONS), and the report says why per row.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import tablib
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from import_export import fields, resources
from import_export.widgets import DateTimeWidget, ForeignKeyWidget

from catalog.models import Part, PriceQuote
from catalog.services import catalogue_changed, part_price_refresh

CSV_COLUMNS = ["part", "amount", "currency", "condition", "source", "url", "observed_at"]

# CSV (formula) injection, OWASP "CSV Injection" guidance (https://owasp.org/www-community/attacks/CSV_Injection,
# read 2026-11): a cell a spreadsheet would read as a formula starts with = + - @ tab or carriage return.
# Such a cell is written with a leading apostrophe, which makes spreadsheets show it as text. The full-width
# forms are included because some spreadsheet locales read them as the ASCII ones (a guess, on the safe
# side). Leading whitespace does not hide a trigger. Plain numbers ("-12.50") are left as they are.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def _formula_like(text: str) -> bool:
    text = text.lstrip("'")  # "'=x" is escaped too, so that reading back is exact
    return text.startswith(FORMULA_TRIGGERS) or text.lstrip(" \n\x0b\x0c").startswith(FORMULA_TRIGGERS)


def csv_cell(value):
    """A value safe to write into a CSV cell: text a spreadsheet would evaluate gets a leading apostrophe."""
    if isinstance(value, str) and not PLAIN_NUMBER.fullmatch(value) and _formula_like(value):
        return "'" + value
    return value


def csv_cell_read(value):
    """Undo csv_cell on import, so that an exported file imports back to the same values."""
    if isinstance(value, str) and value.startswith("'") and _formula_like(value[1:]):
        return value[1:]
    return value


class IsoDateTimeWidget(DateTimeWidget):
    """ISO 8601 date or date-time ("2026-11-01" or "2026-11-01T12:00:00+00:00"); naive means UTC."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        text = str(value).strip()
        parsed = parse_datetime(text)
        if parsed is None:
            day = parse_date(text)
            if day is None:
                raise ValueError(f"{text!r} is not an ISO date or date-time")
            parsed = datetime.combine(day, datetime.min.time())
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


class PriceQuoteResource(resources.ModelResource):
    part = fields.Field(attribute="part", column_name="part", widget=ForeignKeyWidget(Part, field="slug"))
    observed_at = fields.Field(attribute="observed_at", column_name="observed_at", widget=IsoDateTimeWidget())

    class Meta:
        model = PriceQuote
        fields = CSV_COLUMNS
        export_order = CSV_COLUMNS
        skip_unchanged = False
        clean_model_instances = True  # model validators and choices run on every row

    def export_field(self, field, instance, **kwargs):
        # Every export format (CSV here, and whatever the admin's export offers) gets neutralised cells.
        return csv_cell(super().export_field(field, instance, **kwargs))

    def before_import_row(self, row, **kwargs):
        for key in list(row.keys()):
            row[key] = csv_cell_read(row[key])

    def get_instance(self, instance_loader, row):
        return None  # append-only: every row is a new quote

    def before_import(self, dataset, **kwargs):
        missing = [
            c for c in ("part", "amount", "currency", "observed_at") if c not in (dataset.headers or [])
        ]
        if missing:
            raise ValueError(f"missing columns: {', '.join(missing)}")

    def before_save_instance(self, instance, row, **kwargs):
        user = kwargs.get("user")
        if getattr(user, "is_authenticated", False):
            instance.created_by = user
        if instance.observed_at and timezone.is_naive(instance.observed_at):
            instance.observed_at = timezone.make_aware(instance.observed_at, UTC)

    def after_import(self, dataset, result, **kwargs):
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        slugs = {row.get("part") for row in dataset.dict}
        for part in Part.objects.filter(slug__in=slugs):
            part_price_refresh(part)
        catalogue_changed()  # the derived prices above are written with update(): no signal


@dataclass
class PriceImportReport:
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (CSV line number, reason)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.error


def prices_import_csv(text: str, *, user=None, dry_run: bool = False) -> PriceImportReport:
    report = PriceImportReport()
    try:
        dataset = tablib.Dataset().load(text, format="csv")
    except Exception as exc:  # tablib raises several types for malformed CSV
        report.error = f"unreadable CSV: {exc}"
        return report
    try:
        result = PriceQuoteResource().import_data(dataset, dry_run=dry_run, raise_errors=False, user=user)
    except ValueError as exc:
        report.error = str(exc)
        return report
    if result.base_errors:
        report.error = "; ".join(str(e.error) for e in result.base_errors)
    for row_number, errors in result.row_errors():
        report.rejected.append((row_number + 1, "; ".join(str(e.error) for e in errors)))
    for invalid in result.invalid_rows:
        reasons = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in invalid.error_dict.items())
        report.rejected.append((invalid.number + 1, reasons))
    report.rejected.sort()
    if report.ok:
        report.imported = result.totals.get("new", 0)
    return report


def prices_export_csv(queryset=None) -> str:
    return PriceQuoteResource().export(queryset).csv
