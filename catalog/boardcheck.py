"""Cross-check of the curated boards (catalog/data/parts/motherboard.json) with their firmware tables:
the logic behind ``manage.py verify_boards``. Pure Python over the data files and the DMI extract."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.dmi import Disagreement, FirmwareIndex, compare, evidence_table, explain, is_intel, parse_line
from catalog.engine.specs import EVIDENCE_KINDS

REQUIRED = {
    "manual": ("url",),
    "spec_page": ("url",),
    "review": ("url",),
    "firmware": ("reports",),
    "estimated": ("why",),
}
ROW_GROUPS = ("pcie_slots", "m2_sockets", "lane_rules")


@dataclass
class BoardCheck:
    slug: str
    models: list[str] = field(default_factory=list)  # DMI models compared
    reports: int = 0
    template_only: bool = False
    disagreements: list[Disagreement] = field(default_factory=list)
    evidence_errors: list[str] = field(default_factory=list)
    estimated_rows: int = 0
    rows: int = 0

    @property
    def unexplained(self) -> list[Disagreement]:
        return [d for d in self.disagreements if not d.explained]

    @property
    def ok(self) -> bool:
        return not self.unexplained and not self.evidence_errors


def evidence_errors(record: dict) -> tuple[list[str], int, int]:
    """Problems with a record's evidence: every row cites an entry of the right shape. Also counts rows."""
    errors: list[str] = []
    entries = record.get("evidence") or {}
    for key, entry in entries.items():
        kind = entry.get("kind") if isinstance(entry, dict) else None
        if kind not in EVIDENCE_KINDS:
            errors.append(f"evidence.{key}.kind: {kind!r} is not one of {', '.join(EVIDENCE_KINDS)}")
            continue
        errors += [f"evidence.{key}.{f}: required for {kind}" for f in REQUIRED[kind] if not entry.get(f)]
    rows = estimated = 0
    spec = record.get("spec") or {}
    for group in ROW_GROUPS:
        for i, row in enumerate(spec.get(group) or []):
            rows += 1
            key = row.get("evidence")
            if key not in entries:
                errors.append(f"spec.{group}[{i}].evidence: {key!r} names no evidence entry")
            elif entries[key].get("kind") == "estimated":
                estimated += 1
    return errors, rows, estimated


def check_board(record: dict, index: FirmwareIndex) -> BoardCheck:
    result = BoardCheck(record["slug"])
    result.evidence_errors, result.rows, result.estimated_rows = evidence_errors(record)
    firmware = record.get("firmware") or {}
    listed = list(firmware.get("dmi_models") or [])
    exceptions = list(firmware.get("exceptions") or [])
    found = {ln["model"] for ln in index.match(record["name"], record.get("brand", ""))}
    missing = sorted(found - set(listed))
    raw: list[Disagreement] = []
    if missing:
        raw.append(Disagreement("dmi_models", missing, listed))
    lines = index.by_models(listed)
    absent = sorted(set(listed) - {ln["model"] for ln in lines})
    if absent:
        raw.append(Disagreement("dmi_models_absent", absent, listed))
    intel = is_intel((record.get("spec") or {}).get("socket"))
    tables = [t for ln in lines for t in parse_line(ln, intel)]
    result.models = sorted({ln["model"] for ln in lines})
    best = None
    for line in lines:
        table = evidence_table(parse_line(line, intel))
        if table is not None and (best is None or table.table_reports > best.table_reports):
            best = table
    if best is None:
        result.template_only = bool(tables)
    else:
        result.reports = best.table_reports
        raw += compare(record, best, intel)
    result.disagreements = explain(raw, exceptions)
    return result
