"""2 to 4 builds side by side: rows aligned by category and by figure, differences marked, a chart.

Builds are chosen by name (issue 15, item 5): the page lists the visitor's compare list (a cookie filled by
"Add to compare" on every build page), the builds this browser can edit (its edit-key cookie) and the
examples, as checkboxes that submit to the same shareable /compare/?b=<id>&b=<id> address; ?b=<id>,<id>
and pasted build links keep working."""

import functools
import re

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from builds import edit_keys, selectors
from builds.configurator.page import CATEGORY_ORDER
from builds.configurator.state import state_from_build
from builds.diagrams import compare_bars_svg
from builds.models import Build
from builds.money import totals_for
from builds.reports import report_for


def lanes_per_gpu(report: dict) -> str:
    widths = [
        f"x{lane['width']}" if lane.get("width") else "?" for lane in report["lanes"] if lane["kind"] == "gpu"
    ]
    return " / ".join(widths) or "—"


# Which way is better, per figure row (issue 15, item 10: mark what stands out, not every row): more VRAM,
# compute, RAM, link width and fitting workloads; less power, heat, money and problems.
BETTER = {
    "VRAM": "high",
    "BF16 TFLOPS (dense)": "high",
    "Lanes per GPU": "high",
    "Sustained power": "low",
    "Transient peak": "low",
    "Wall draw": "low",
    "Circuit use": "low",
    "Case air rise": "low",
    "System RAM": "high",
    "Price (new, USD)": "low",
    "Price per GB VRAM": "low",
    "Price per TFLOP": "low",
    "Electricity per year": "low",
    "Problems": "low",
    "Workloads that fit": "high",
}


def plain_number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def narrowest_link(value) -> float | None:
    """'x16 / x8' ranks by its narrowest link (8); '?' or '—' is not ranked."""
    widths = [float(w[1:]) for w in str(value).split(" / ") if w.startswith("x") and w[1:].isdigit()]
    return min(widths) if widths and "?" not in str(value) else None


RANK_KEY = {"Lanes per GPU": narrowest_link}
# The chart's rows: figure label, and the label drawn (with its unit).
CHART_ROWS = [
    ("VRAM", "VRAM (GB)"),
    ("BF16 TFLOPS (dense)", "BF16 TFLOPS (dense)"),
    ("Wall draw", "Wall draw (W)"),
    ("Price (new, USD)", "Price (new, USD)"),
]


def standout_marks(shown: list[str], numbers: list[float | None], better: str | None) -> list[str]:
    """'best' and 'worst' for the cells that stand out in a row, '' elsewhere. A figure stands out when it
    is the row's extreme and no other build shows the same (as printed): with three builds of which two tie
    for the best, only the worst is marked; when every build shows the same, nothing is."""
    marks = [""] * len(shown)
    ranked = [(n, text) for n, text in zip(numbers, shown, strict=True) if n is not None]
    if better is None or len({text for _, text in ranked}) < 2:
        return marks
    high, low = max(n for n, _ in ranked), min(n for n, _ in ranked)
    best, worst = (high, low) if better == "high" else (low, high)
    for mark, target in (("best", best), ("worst", worst)):
        holders = [i for i, n in enumerate(numbers) if n == target]
        if len(holders) == 1 and shown.count(shown[holders[0]]) == 1:
            marks[holders[0]] = mark
    return marks


def odd_one_out(cells: list[list[str]]) -> list[str]:
    """For part rows: with three or more builds, 'differs' on the one build whose parts differ from all the
    others (which agree); with two, on both when they differ. Otherwise nothing: no row lit up wholesale."""
    keys = [tuple(c) for c in cells]
    if len(set(keys)) < 2:
        return [""] * len(keys)
    if len(keys) == 2:
        return ["differs", "differs"]
    if len(set(keys)) == 2:
        counts = {k: keys.count(k) for k in keys}
        return ["differs" if counts[k] == 1 else "" for k in keys]
    return [""] * len(keys)


def figure_rows(columns: list[dict]) -> list[dict]:
    def figure(label, getter, fmt="{:,.0f}", unit=""):
        values = [getter(c) for c in columns]
        shown = [
            ("—" if v is None else (fmt.format(v) if isinstance(v, int | float) else str(v)) + unit)
            for v in values
        ]
        marks = standout_marks(
            shown, [RANK_KEY.get(label, plain_number)(v) for v in values], BETTER.get(label)
        )
        cells = [{"text": text, "mark": mark} for text, mark in zip(shown, marks, strict=True)]
        return {
            "label": label,
            "values": shown,
            "raw": values,
            "differs": len(set(shown)) > 1,
            "cells": cells,
        }

    return [
        figure("VRAM", lambda c: c["report"]["capacity"].get("vram_gb"), unit=" GB"),
        figure("BF16 TFLOPS (dense)", lambda c: c["report"]["compute"].get("bf16_tflops"), "{:,.1f}"),
        figure("Lanes per GPU", lambda c: lanes_per_gpu(c["report"])),
        figure("Sustained power", lambda c: c["report"]["power"].get("sustained_w"), unit=" W"),
        figure("Transient peak", lambda c: c["report"]["power"].get("transient_w"), unit=" W"),
        figure("Wall draw", lambda c: c["report"]["power"].get("wall_w"), unit=" W"),
        figure(
            "Circuit use",
            lambda c: (
                100 * c["report"]["power"]["wall_w"] / c["report"]["power"]["circuit_limit_w"]
                if c["report"]["power"].get("circuit_limit_w")
                else None
            ),
            unit=" %",
        ),
        figure("Case air rise", lambda c: c["report"]["thermal"].get("case_air_rise_c"), "{:,.1f}", " °C"),
        figure("System RAM", lambda c: c["report"]["capacity"].get("ram_gb"), unit=" GB"),
        figure(
            "Price (new, USD)",
            lambda c: float(c["totals_usd"].price_new) if c["totals_usd"].price_new else None,
        ),
        figure(
            "Price per GB VRAM",
            lambda c: float(c["totals_usd"].per_vram_gb) if c["totals_usd"].per_vram_gb else None,
        ),
        figure(
            "Price per TFLOP",
            lambda c: float(c["totals_usd"].per_tflop) if c["totals_usd"].per_tflop else None,
        ),
        figure("Electricity per year", lambda c: c["report"]["cost"].get("yearly_cost")),
        figure("Problems", lambda c: sum(f["severity"] == "error" for f in c["report"]["findings"])),
        figure(
            "Workloads that fit", lambda c: sum(w.get("verdict") == "fits" for w in c["report"]["workloads"])
        ),
    ]


PRICE_ROWS = ("Price (new, USD)", "Price per GB VRAM", "Price per TFLOP")


def flag_incomplete_prices(figures: list[dict], columns: list[dict]) -> list[dict]:
    """Price figures that rest on an incomplete total say so ("N of M parts priced"), and while any build's
    total is incomplete no price cell is marked best or worst: a total that leaves parts out cannot be
    ranked against one that does not (issue 15, item 6)."""
    incomplete = any(column["totals_usd"].coverage for column in columns)
    for row in figures:
        if row["label"] not in PRICE_ROWS:
            continue
        for cell, column in zip(row["cells"], columns, strict=True):
            coverage = column["totals_usd"].coverage
            if coverage and cell["text"] != "—":
                cell["text"] += f" ({coverage})"
            if incomplete:
                cell["mark"] = ""
    return figures


def chart_label(key: str, shown: str, columns: list[dict]) -> str:
    """The chart's price row says so when a build's total leaves parts out."""
    if key in PRICE_ROWS and any(column["totals_usd"].coverage for column in columns):
        return "Price (USD, incomplete)"
    return shown


def compare_context(share_ids: list[str]) -> dict:
    builds = {b.share_id: b for b in Build.objects.filter(share_id__in=share_ids)}
    missing = [s for s in share_ids if s not in builds]
    columns = []
    for share_id in share_ids:
        build = builds.get(share_id)
        if build is None:
            continue
        state = state_from_build(build, selectors.build_lines(build))
        state.currency = "USD"  # one currency across columns
        report = report_for(state.lines, state.context())
        columns.append(
            {"build": build, "state": state, "report": report, "totals_usd": totals_for(state, report)}
        )
    category_rows = []
    for category, label in CATEGORY_ORDER:
        cells = [
            [f"{quantity}× {name}" for name, quantity in _counted(c["state"].lines, category).items()]
            for c in columns
        ]
        if any(cells):
            category_rows.append(
                {
                    "label": label,
                    "cells": cells,
                    "differs": len({tuple(x) for x in cells}) > 1,
                    "marked": list(zip(cells, odd_one_out(cells), strict=True)),
                }
            )
    figures = flag_incomplete_prices(figure_rows(columns), columns) if columns else []
    chart = ""
    if len(columns) >= 2:
        keyed = {f["label"]: f["raw"] for f in figures}
        chart = compare_bars_svg(
            [(chart_label(k, shown, columns), keyed[k]) for k, shown in CHART_ROWS],
            [c["build"].name for c in columns],
        )
    return {
        "columns": columns,
        "category_rows": category_rows,
        "figures": figures,
        "chart": chart,
        "missing": missing,
        "too_few": len(columns) < 2,
        "share_ids": ",".join(share_ids),
    }


# --- Choosing builds: the compare list, the choices on the page, the ?b= values -----------------------------

COOKIE = "rigsite_compare"
COOKIE_AGE_S = 180 * 24 * 3600
MAX_BUILDS = 4
MIN_BUILDS = 2
YOUR_BUILDS_SHOWN = 20
VALUES_READ = 40  # ?b= values looked at; the rest are counted, never parsed or queried
SHARE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@functools.cache
def build_link() -> re.Pattern:
    """A pasted share or edit link: the build routes' prefix (from the URLconf) and the share id after it."""
    prefix = reverse("build-detail", args=["x"]).removesuffix("x/")
    return re.compile(re.escape(prefix) + r"([A-Za-z0-9_-]{1,64})(?:/|$)")


def _counted(lines, category: str) -> dict[str, int]:
    """Units per part name in one category, in line order: a line split by mount (one card on a riser) is
    still one part of the build."""
    counts: dict[str, int] = {}
    for line in lines:
        if line.category == category:
            counts[line.name] = counts.get(line.name, 0) + line.quantity
    return counts


def compare_list(request) -> list[str]:
    """The visitor's compare list: share ids, oldest first, at most MAX_BUILDS (malformed entries skipped)."""
    ids = getattr(request, "_rigsite_compare", None)
    if ids is None:
        ids = []
        for entry in request.COOKIES.get(COOKIE, "").split("."):
            if SHARE_ID.fullmatch(entry) and entry not in ids:
                ids.append(entry)
        ids = ids[-MAX_BUILDS:]
    return list(ids)


def store_compare_list(request, response, ids: list[str]):
    request._rigsite_compare = list(ids)
    if ids:
        response.set_cookie(COOKIE, ".".join(ids), max_age=COOKIE_AGE_S, httponly=True, samesite="Lax")
    else:
        response.delete_cookie(COOKIE, samesite="Lax")
    return response


def compare_url(ids: list[str]) -> str:
    """The compare page for these builds (2 or more), else the page to choose them."""
    base = reverse("compare")
    return f"{base}?b={','.join(ids)}" if len(ids) >= MIN_BUILDS else base


def compare_state(request, build: Build | None = None) -> dict:
    """What a build page's "Add to compare" control shows."""
    ids = compare_list(request)
    return {
        "ids": ids,
        "count": len(ids),
        "max": MAX_BUILDS,
        "url": compare_url(ids),
        "contains": build is not None and build.share_id in ids,
        "full": len(ids) >= MAX_BUILDS,
    }


def safe_next(request, default: str) -> str:
    """Where a compare-list change goes back to: a path on this site, else `default`."""
    target = request.POST.get("next", "")
    if (
        target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
        and not CONTROL.search(target)
    ):
        return target
    return default


def quoted(name: str) -> str:
    return f"“{name}”"


def edit_compare_list(request):
    """POST add=<share id> or remove=<share id> (a build page's or the compare page's buttons): change the
    compare list, say what happened, and go back to `next`. The newest build replaces the oldest when the
    list is full, and the message says which one went."""
    ids = compare_list(request)
    add, remove = request.POST.get("add", ""), request.POST.get("remove", "")
    target = safe_next(request, reverse("compare"))
    share_id = add or remove
    build = (
        Build.objects.filter(share_id=share_id).only("share_id", "name").first()
        if SHARE_ID.fullmatch(share_id)
        else None
    )
    if build is None:
        shown = share_id[:40].replace("\x00", "") if share_id else "(none)"
        messages.error(request, f"Compare list unchanged: no build with the id {shown}.")
        return HttpResponseRedirect(target)
    if add:
        if build.share_id in ids:
            messages.info(
                request, f"{quoted(build.name)} is already in your compare list ({len(ids)} of {MAX_BUILDS})."
            )
            return HttpResponseRedirect(target)
        ids.append(build.share_id)
        dropped = ids[:-MAX_BUILDS]
        ids = ids[-MAX_BUILDS:]
        if dropped:
            gone = Build.objects.filter(share_id__in=dropped).values_list("name", flat=True)
            names = ", ".join(quoted(n) for n in gone) or "a build that no longer exists"
            messages.warning(
                request,
                f"Added {quoted(build.name)}. Your compare list holds at most {MAX_BUILDS} builds: "
                f"it replaced the oldest, {names}.",
            )
        else:
            messages.success(
                request, f"Added {quoted(build.name)} to your compare list ({len(ids)} of {MAX_BUILDS})."
            )
    else:
        if build.share_id in ids:
            ids.remove(build.share_id)
            messages.success(
                request,
                f"Removed {quoted(build.name)} from your compare list ({len(ids)} of {MAX_BUILDS} left).",
            )
        else:
            messages.info(request, f"Removed {quoted(build.name)} from this comparison.")
    return store_compare_list(request, HttpResponseRedirect(target), ids)


def parse_choice(values: list[str]) -> tuple[list[str], list[str], int]:
    """The ?b= values (checkboxes, comma-separated ids, pasted build links) as share ids in order without
    repeats; what could not be read, for the message; and how many were given in all."""
    ids, unreadable, given = [], [], 0
    for value in values[:VALUES_READ]:
        for token in re.split(r"[,\s]+", value[:2000]):
            if not token:
                continue
            given += 1
            link = build_link().search(token)
            share_id = link.group(1) if link else token
            if SHARE_ID.fullmatch(share_id):
                if share_id not in ids:
                    ids.append(share_id)
            elif len(unreadable) < 5:
                unreadable.append(token[:40].replace("\x00", "") or "?")
    return ids, unreadable, given


def your_builds(request) -> list[Build]:
    """Builds this visitor can edit: the keys in the edit-key cookie (newest first) and, when signed in,
    their own; at most YOUR_BUILDS_SHOWN. A forged cookie entry only lists a build whose id it knows."""
    keyed = list(edit_keys.current_keys(request))[:YOUR_BUILDS_SHOWN]
    found = {
        b.share_id: b for b in Build.objects.filter(share_id__in=keyed).only("share_id", "name", "updated_at")
    }
    builds = [found[s] for s in keyed if s in found]
    if request.user.is_authenticated:
        owned = Build.objects.filter(owner=request.user).only("share_id", "name", "updated_at")
        builds += [b for b in owned.order_by("-updated_at")[:YOUR_BUILDS_SHOWN] if b.share_id not in found]
    return builds[:YOUR_BUILDS_SHOWN]


def choice_groups(request, listed: list[str]) -> list[dict]:
    """The page's checkbox groups; a build shows once, in the first group it belongs to."""
    in_list = {b.share_id: b for b in Build.objects.filter(share_id__in=listed).only("share_id", "name")}
    groups = [
        ("list", "Your compare list", [in_list[s] for s in listed if s in in_list]),
        ("yours", "Your builds", your_builds(request)),
        ("examples", "Examples", list(Build.objects.featured().order_by("name").only("share_id", "name"))),
    ]
    seen, shown = set(), []
    for key, label, builds in groups:
        fresh = [b for b in builds if b.share_id not in seen]
        seen.update(b.share_id for b in fresh)
        shown.append({"key": key, "label": label, "builds": fresh, "above": len(builds) - len(fresh)})
    return shown


def choice_problem(chosen: list[str], found: list[Build], missing: list[str], unreadable: list[str]) -> str:
    """The message naming what is wrong with the choice, or ''."""
    problems = []
    if unreadable:
        problems.append("Not a share id or build link: " + ", ".join(unreadable) + ".")
    if missing:
        problems.append("No build with the id " + ", ".join(m[:40] for m in missing[:5]) + ".")
    if len(chosen) > MAX_BUILDS:
        problems.append(
            f"You chose {len(chosen)} builds: compare takes {MIN_BUILDS} to {MAX_BUILDS}. "
            f"Untick {len(chosen) - MAX_BUILDS}."
        )
    elif len(found) < MIN_BUILDS:
        named = ", ".join(quoted(b.name) for b in found)
        problems.append(
            f"You chose {len(found)} build{'' if len(found) == 1 else 's'}{f' ({named})' if named else ''}: "
            f"choose at least {MIN_BUILDS} to compare."
        )
    return " ".join(problems)


def compare_page_context(request) -> dict:
    """The compare page: the choices by name, and the comparison of the chosen builds when they are 2 to 4
    builds that exist; otherwise a message naming the problem."""
    listed = compare_list(request)
    submitted = "b" in request.GET
    chosen, unreadable, given = parse_choice(request.GET.getlist("b"))
    if len(chosen) > MAX_BUILDS:
        found, missing, context = [], [], compare_context([])
    else:
        context = compare_context(chosen)
        found, missing = [c["build"] for c in context["columns"]], context["missing"]
    problem = choice_problem(chosen, found, missing, unreadable) if submitted else ""
    if problem:
        context |= {"columns": [], "category_rows": [], "figures": [], "chart": "", "too_few": True}
    checked = set(chosen) if submitted else set(listed)
    groups = choice_groups(request, listed)
    shown = {b.share_id for g in groups for b in g["builds"]}
    # Builds in the address that no group lists (a shared link to someone's unlisted build) show too.
    named = {b.share_id: b for b in found}
    extra = [named[s] for s in chosen if s in named and s not in shown]
    if extra:
        groups.insert(0, {"key": "shared", "label": "In this link", "builds": extra, "above": 0})
    ids = [c["build"].share_id for c in context["columns"]]
    for column in context["columns"]:
        column["without_url"] = compare_url([s for s in ids if s != column["build"].share_id])
    return context | {
        "groups": groups,
        "checked": checked,
        "listed": listed,
        "problem": problem,
        "given": given,
        "submitted": submitted,
        "compare_list_url": compare_url(listed),
        "max_builds": MAX_BUILDS,
        "here": request.get_full_path(),
    }
