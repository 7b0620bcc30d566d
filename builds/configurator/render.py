"""Render the page's regions: only those the browser lacks, each from its own data, through one cache.

A region's HTML is cached by its name and signature (the hash of its data), so it lives as long as the data it
shows: one `get_many` and one `set_many` per request. Region HTML holds no state, path-independent token or
nonce beyond its data.
"""

from django.core.cache import cache
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from builds.configurator.page import Region
from builds.reports import REPORT_TTL_S

MAX_TOKENS = 40  # more than the page's regions; the rest of a longer list is ignored


def shown_tokens(values: list[str], *, force=()) -> frozenset[str]:
    """The signatures a re-check says the browser shows (the `v` parameters), less the forced regions."""
    return frozenset(v for v in values[:MAX_TOKENS] if v.partition(":")[0] not in force)


def render_region(region: Region) -> str:
    data = region.data | region.draw() if region.draw else region.data
    return get_template(region.template).render(data)


def render_regions(regions: list[Region], *, shown: frozenset[str] = frozenset()) -> list[Region]:
    """Fill `html` on each region whose token is not in `shown` (all of them for a whole page); return those."""
    todo = [r for r in regions if r.token not in shown]
    keys = {f"region:{r.token}": r for r in todo}
    found = cache.get_many(list(keys))
    fresh = {key: render_region(region) for key, region in keys.items() if key not in found}
    if fresh:
        cache.set_many(fresh, REPORT_TTL_S)
    for key, region in keys.items():
        region.html = mark_safe(found[key] if key in found else fresh[key])  # noqa: S308 - our templates, autoescaped
    return todo
