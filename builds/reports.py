"""Run the engine for a build's lines, cached by the build's content and the price version."""

import hashlib
import json
from dataclasses import replace

from django.core.cache import cache

from builds.inputs import Line, rig_from_lines
from catalog.engine import specs as engine
from catalog.engine.checks import check
from catalog.services import catalogue_version
from catalog.workloads import presets

REPORT_TTL_S = 600


def content_key(lines: list[Line], context: engine.Context) -> str:
    content = [
        [line.slug, line.category, line.name, line.spec, line.quantity, line.placement.as_json()]
        for line in lines
    ]
    context_data = [
        context.circuit_volts,
        context.circuit_amps,
        context.kwh_price,
        context.hours_per_day,
        context.currency,
        list(context.workloads),
        context.presets.key if context.presets is not None else None,
    ]
    raw = json.dumps([content, context_data], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def report_key(lines: list[Line], context: engine.Context) -> str:
    """Identifies a report: the build's content and the catalogue version."""
    return f"{catalogue_version()}:{content_key(lines, context)}"


def report_for(lines: list[Line], context: engine.Context) -> dict:
    """The engine's report as a JSON-ready dict (findings, lanes, power, thermal, ...). The workloads are
    checked against the catalogue's model presets (catalog.workloads.presets) unless the context names its
    own; the presets are part of the cache key."""
    if context.presets is None:
        context = replace(context, presets=presets())
    key = f"report:{report_key(lines, context)}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    report = check(rig_from_lines(lines, prices=True), context).to_dict()
    report["part_index"] = part_index(lines)
    cache.set(key, report, REPORT_TTL_S)
    return report


def errors_report(lines: list[Line], context: engine.Context) -> dict:
    """What a part picker needs of one candidate build: the findings and which line each concerns, without
    the workload table (warnings only) and uncached (each candidate's build is asked for once)."""
    report = check(rig_from_lines(lines, prices=False), context, workloads=False)
    return {
        "findings": [f.to_dict() for f in report.findings],
        "part_index": part_index(lines),
    }


def part_index(lines: list[Line]) -> dict[str, int]:
    """The engine's part id of each line -> the line's index (findings name parts by id)."""
    return {line.part_id_at(i): i for i, line in enumerate(lines)}
