"""The configurator page in regions, so that a re-check sends only what changed.

Each region (a category's rows, the "where it runs" controls, the state errors, and the report's totals,
findings, lanes, power, thermals, workloads and GPU-to-GPU panels) is a pure function of a small piece of
data; its signature is a hash of that data. The page carries every signature in the state form (hidden
inputs named `v`), so an htmx re-check sends them back with the state and the response holds only the
regions whose signature the browser does not have, as out-of-band swaps into their `#r-<name>` wrappers.

A re-check can also name regions to send whatever the browser has (`force`: the custom-part form after a
part was added, to clear it). The report regions are rendered with nothing but their signed data (so a
signature cannot miss an input) and their HTML is cached by signature: they hold no state, path, token or
nonce.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial

from django.core.cache import cache
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

from builds.reports import REPORT_TTL_S
from builds.wording import thermal_hint

REPORT_TEMPLATE = "builds/_report.html"
REPORT_REGIONS = ("totals", "findings", "lanes", "power", "thermal", "workloads", "interconnect")
SIGNATURE_CHARS = 16
MAX_TOKENS = 40  # more than the page's regions; the rest of a longer list is ignored


def signature(data) -> str:
    raw = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(raw.encode(), digest_size=SIGNATURE_CHARS // 2).hexdigest()


def cached_or_made(makers: dict[str, Callable[[], str]]) -> dict[str, str]:
    """Each key's value from the cache, else made now and stored: one get_many and one set_many. Keys are
    signatures of what the value is made from, so a value lives as long as the report it comes from."""
    found = cache.get_many(list(makers))
    fresh = {key: make() for key, make in makers.items() if key not in found}
    if fresh:
        cache.set_many(fresh, REPORT_TTL_S)
    return found | fresh


@dataclass
class Region:
    name: str
    sig: str
    html: SafeString | None = None  # report regions: rendered here; page regions: by the page template

    @property
    def token(self) -> str:
        return f"{self.name}:{self.sig}"


def report_region_data(context: dict) -> dict[str, dict]:
    """What each report region shows, and nothing else (the template sees only this)."""
    report = context["report"]
    interconnect = report.get("interconnect") or {}
    return {
        "totals": {
            "totals": asdict(context["totals"]),
            "coverage": context["totals"].coverage,  # "N of M parts priced" (builds/money.py)
            "vram_gb": report.get("capacity", {}).get("vram_gb"),
            "bf16_tflops": report.get("compute", {}).get("bf16_tflops"),
        },
        "findings": {
            "finding_groups": context["finding_groups"],
            "any_findings": bool(report.get("findings")),
            "has_lines": bool(context["state"].lines),
            "not_checked": report.get("not_checked", []),
        },
        "lanes": {"slot_svg": context["slot_svg"], "lane_rows": context["lane_rows"]},
        "power": {"power_svg": context["power_svg"], "power_gpus": report.get("power", {}).get("gpus", [])},
        "thermal": {
            "thermal_svg": context["thermal_svg"],
            "hint": thermal_hint({line.category for line in context["state"].lines}, report),
        },
        "workloads": {"workload_rows": context["workload_rows"]},
        "interconnect": {
            "parallelism": list((interconnect.get("parallelism") or {}).items())
            if interconnect.get("pairs")
            else []
        },
    }


def render_region(name: str, data: dict) -> str:
    return get_template(f"{REPORT_TEMPLATE}#{name}").render(data)


def report_regions(context: dict, *, shown: frozenset[str] = frozenset()) -> list[Region]:
    """Every report region with its signature; `html` is filled for those not in `shown`."""
    data = report_region_data(context)
    regions = [Region(name, signature(data[name])) for name in REPORT_REGIONS]
    keys = {r.name: f"region:{r.token}" for r in regions}
    html = cached_or_made(
        {keys[r.name]: partial(render_region, r.name, data[r.name]) for r in regions if r.token not in shown}
    )
    for region in regions:
        if keys[region.name] in html:
            region.html = mark_safe(html[keys[region.name]])  # noqa: S308 - our template, autoescaped
    return regions


def section_signature(section: dict, context: dict) -> str:
    rows = [
        [
            row["index"],
            row["line"].slug,
            row["line"].name,
            row["line"].quantity,
            row["slots_text"],
            row["psu_text"],
            row["riser_value"],
            row["power_limit_text"],
            row["flag"],
            row["price_text"],
        ]
        for row in section["rows"]
    ]
    psu_choice = section["category"] == "gpu" and len(context["psu_units"]) > 1
    return signature([context["base_path"], section["category"], rows, psu_choice])


def page_regions(context: dict) -> list[Region]:
    """The regions the page template renders itself: a section per category, the context controls, errors."""
    state = context["state"]
    regions = [
        Region(f"row-{section['category']}", section_signature(section, context))
        for section in context["sections"]
    ]
    regions.append(
        Region(
            "where",
            signature(
                [context["base_path"], state.circuit, state.kwh_price, state.hours_per_day, state.currency]
            ),
        )
    )
    regions.append(Region("errors", signature(state.errors)))
    regions.append(Region("custom", signature([context["base_path"]])))
    return regions


def shown_tokens(values: list[str], *, force=()) -> frozenset[str]:
    """The signatures a re-check says the browser shows (the `v` parameters), less the forced regions."""
    return frozenset(v for v in values[:MAX_TOKENS] if v.partition(":")[0] not in force)


def regions_context(context: dict, *, shown: frozenset[str] = frozenset()) -> dict:
    """Template context for the page (shown empty) or for a re-check (shown: the browser's signatures)."""
    report = report_regions(context, shown=shown)
    page = page_regions(context)
    send = {r.name for r in page if r.token not in shown}
    return {
        "report_regions": report,
        "report_regions_to_send": [r for r in report if r.html is not None],
        "region_tokens": [r.token for r in report + page],
        "sections_to_send": [s for s in context["sections"] if f"row-{s['category']}" in send],
        "send_where": "where" in send,
        "send_errors": "errors" in send,
        "send_custom": "custom" in send,
    }
