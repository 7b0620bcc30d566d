"""The part picker: catalogue parts of a category, each tried in the build by the engine."""

import time
from dataclasses import dataclass, field

from django.db.models import F, Q

from builds.configurator.edits import SINGLE
from builds.configurator.state import State
from builds.inputs import MAX_ITEMS, Line
from builds.reports import errors_report
from catalog.engine.report import MISSING_PART_CODES
from catalog.models import CATEGORY_MODELS, Category

PICKER_LIMIT = 20
# Rig-level power errors (they name the PSUs, not the parts drawing the power) that a GPU candidate causes:
# a card that takes the wall draw past the circuit is not a plain "Add".
GPU_POWER_CODES = frozenset({"CIRCUIT_OVERLOAD", "PSU_INSUFFICIENT"})
PICKER_SCAN = 60
# Bounds on one picker request's work (issue 17): each part tried is a full engine check of the build with
# it, so a build of 64 lines x 16 units once cost ~1 s of CPU per request. The picker stops trying parts
# when this thread has used PICKER_CPU_BUDGET_S of CPU since the request began (or would, by the cost of
# the checks so far), or when the units checked (units in the build, summed over the checks) would pass
# PICKER_MAX_UNIT_CHECKS; the page says so and lists the rest of the scan unchecked.
PICKER_CPU_BUDGET_S = 0.04
PICKER_MAX_UNIT_CHECKS = 1000  # a check of a 1,000-unit build costs ~35 ms of CPU (2-core dev box, 2026-11)


@dataclass
class PickerList:
    candidates: list[dict]
    tried: int = 0  # parts checked in the build by the engine
    scanned: int = 0  # catalogue parts the list looked at
    cut: str = ""  # why the checks stopped early ("" = every scanned part was checked)
    unchecked: list[dict] = field(default_factory=list)  # scanned but not checked (after a cut)
    full: bool = False  # the build has MAX_ITEMS lines: a part can only be swapped in, not added
    more: bool = False  # the list stopped at PICKER_LIMIT with parts left: the page says to search


def _build_value(state: State, category: str, field: str) -> str:
    """A field of the build's one part of a category (its socket, its memory type), "" when not known."""
    line = next((line for line in state.lines if line.category == category and line.part is not None), None)
    return str(getattr(line.part, field, "") or "") if line else ""


def _prefiltered(qs, category: str, state: State):
    """Leave out, before any engine check, parts the engine would certainly refuse: a board or CPU of another
    socket than the build's CPU or board, a memory kit of another type than the board's. A part whose value
    is not known stays (unknown is not a mismatch). "show all" skips this, so every part shows its reason."""
    blank = Q(socket="") | Q(socket__isnull=True)
    if category == Category.MOTHERBOARD and (socket := _build_value(state, Category.CPU, "socket")):
        return qs.filter(Q(socket__iexact=socket) | blank)
    if category == Category.CPU and (socket := _build_value(state, Category.MOTHERBOARD, "socket")):
        return qs.filter(Q(socket__iexact=socket) | blank)
    if category == Category.MEMORY and (kind := _build_value(state, Category.MOTHERBOARD, "memory_type")):
        return qs.filter(Q(memory_type=kind) | Q(memory_type="") | Q(memory_type__isnull=True))
    return qs


def picker_candidates(
    state: State,
    category: str,
    *,
    q: str = "",
    show_all: bool = False,
    sort: str = "price",
    started: float | None = None,
    budget_s: float | None = None,
    max_unit_checks: int | None = None,
) -> PickerList:
    """Catalogue parts for a category, each tried in the build by the engine: a part is compatible when
    adding it (or swapping it in, for one-per-build categories) adds no new error of its own: one whose
    finding names its line (a rig-level finding that names no part is nobody's; a GPU also answers for the
    power errors in GPU_POWER_CODES). So a board is not ruled out because two GPUs already load the wall
    circuit (CIRCUIT_OVERLOAD names the PSUs), and a finding that only says a category is still missing (no
    CPU, board or PSU yet: MISSING_PART_CODES) is nobody's fault: on an empty build every part is offered.
    The checks stop at the CPU budget (counted from `started`, a time.thread_time() taken when the request began) or the unit
    budget, whatever the state; the rest of the scan is returned unchecked."""
    started = time.thread_time() if started is None else started
    budget_s = PICKER_CPU_BUDGET_S if budget_s is None else budget_s
    max_unit_checks = PICKER_MAX_UNIT_CHECKS if max_unit_checks is None else max_unit_checks
    model = CATEGORY_MODELS[category]
    qs = model.objects.filter(retired=False)
    if not show_all:
        qs = _prefiltered(qs, category, state)
    if q:
        qs = qs.filter(name__icontains=q[:100])
    order = {"price": "price_new_usd", "name": "name", "-price": "-price_new_usd"}.get(sort, "price_new_usd")
    field = order.lstrip("-")
    qs = qs.order_by(
        F(field).desc(nulls_last=True) if order.startswith("-") else F(field).asc(nulls_last=True), "id"
    )
    base_lines = [line for line in state.lines if not (category in SINGLE and line.category == category)]
    units = sum(line.quantity for line in base_lines) + 1  # units in one check: the build and the part
    if category == Category.MOTHERBOARD and 2 * units <= max_unit_checks:  # topology only for checks
        qs = qs.prefetch_related("pcie_slots", "m2_sockets", "lane_rules")
    parts = list(qs[:PICKER_SCAN])
    picked = PickerList(candidates=[], scanned=len(parts), full=len(base_lines) >= MAX_ITEMS)
    results = picked.candidates
    context = state.context()  # parsed once: every check below runs in it
    base_errors, check_cost, unit_checks = set(), 0.0, units
    if 2 * units <= max_unit_checks:  # the build's own check is worth making only if one part can follow
        t0 = time.thread_time()
        base = errors_report(base_lines, context)
        check_cost = time.thread_time() - t0  # a check with one more part costs about the same
        base_errors = {(f["code"], f["message"]) for f in base["findings"] if f["severity"] == "error"}
    for index, part in enumerate(parts):
        spent = time.thread_time() - started
        if spent + check_cost > budget_s or unit_checks + units > max_unit_checks:
            picked.cut = "time" if spent + check_cost > budget_s else "size"
            picked.unchecked = [
                {
                    "part": p,
                    "reasons": [],
                    "lines": [
                        *base_lines,
                        Line.for_part(p),
                    ],
                    "unchecked": True,
                }
                for p in parts[index : index + PICKER_LIMIT - len(results)]
            ]
            break
        t0 = time.thread_time()
        candidate = Line.for_part(part)
        report = errors_report([*base_lines, candidate], context)
        check_cost = max(check_cost, time.thread_time() - t0)
        unit_checks += units
        picked.tried += 1
        mine = len(base_lines)  # the candidate's line index in the report's part_index
        index_of = report.get("part_index", {})
        new_errors = [
            f
            for f in report["findings"]
            if f["severity"] == "error"
            and f["code"] not in MISSING_PART_CODES
            and (f["code"], f["message"]) not in base_errors
            and (
                any(index_of.get(p) == mine for p in f["parts"])
                or (category == Category.GPU and f["code"] in GPU_POWER_CODES)
            )
        ]
        if new_errors and not show_all:
            continue
        results.append(
            {"part": part, "reasons": [f["message"] for f in new_errors], "lines": [*base_lines, candidate]}
        )
        if len(results) >= PICKER_LIMIT:
            picked.more = index < len(parts) - 1 or len(parts) == PICKER_SCAN
            break
    return picked
