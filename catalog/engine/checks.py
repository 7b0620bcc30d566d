"""The check registry and ``check(rig, context) -> Report``.

Order: placement (lanes.place) once, then the figure builders (power, thermal, capacity, interconnect,
cost), then every check in CHECKS. Each check is ``State -> list[Finding]``; adding one is adding a
function to CHECKS (codes are a public contract: docs/findings.md).
"""

from __future__ import annotations

from collections.abc import Callable

from . import cost, fit, interconnect, lanes, memory, power, thermal
from .report import Finding, Report
from .specs import Context, Rig
from .state import State, build_state

try:  # workload.py (LLM memory/speed) is written by another helper; the engine works without it.
    from . import workload as _workload
except ImportError:  # pragma: no cover - depends on the other module being present
    _workload = None

Check = Callable[[State], list[Finding]]

CHECKS: list[Check] = [
    fit.check_missing,
    fit.check_socket,
    fit.check_memory,
    fit.check_registered,
    fit.check_case,
    fit.check_cooler_socket,
    fit.check_sag,
    lanes.check_topology,
    lanes.check_slots,
    lanes.check_links,
    lanes.check_cpu_lanes,
    lanes.check_lane_sharing,
    lanes.check_bifurcation,
    power.check_psu_present,
    power.check_psus,
    power.check_circuit,
    power.check_multi_psu,
    power.check_power_limits,
    thermal.check_spacing,
    thermal.check_case_airflow,
    thermal.check_cpu_cooler,
    memory.check_ram,
    memory.check_storage,
    interconnect.check_parallelism,
    interconnect.check_p2p,
    cost.check_efficiency_payback,
]

ALWAYS_NOT_CHECKED = (
    "BIOS bifurcation and PCIe generation settings",
    "cable lengths and routing (PSU cables, riser cables)",
    "riser signal integrity at PCIe 4.0/5.0 (long risers often need a lower gen setting)",
    "clearance between the CPU cooler, RAM heat spreaders and the first GPU",
    "VRM and memory (GDDR6X) temperatures",
    "noise",
)


def _run_workloads(rig: Rig, context: Context, state: State) -> list[Finding]:
    fn = getattr(_workload, "check_workloads", None) if _workload is not None else None
    if fn is None:
        if context.workloads:
            state.report.not_checked.append("workloads (estimator not available)")
        return []
    try:
        found = fn(rig, context, state)
    except Exception as exc:  # a bad estimate must not take the compatibility report down
        state.report.not_checked.append(f"workloads (estimator failed: {type(exc).__name__})")
        return []
    return list(found or ())


def check(rig: Rig, context: Context | None = None, *, workloads: bool = True) -> Report:
    """The whole report; `workloads=False` leaves the workload table out (its findings are warnings only:
    a part picker that asks only for new errors saves the estimator's work)."""
    context = context or Context()
    report = Report()
    state = build_state(rig, context, report)
    lanes.place(state)
    power.compute(state)
    thermal.compute(state)
    memory.compute(state)
    interconnect.compute(state)
    cost.compute(state)
    findings = report.findings
    for fn in CHECKS:
        findings.extend(fn(state))
    if workloads:
        findings.extend(_run_workloads(rig, context, state))
    if state.gpus and any(u.spec.slot_width is None for u in state.gpus):
        report.not_checked.append(
            f"card thickness of GPUs without slot_width (taken as {lanes.DEFAULT_GPU_THICKNESS:g} slots)"
        )
    report.not_checked.extend(ALWAYS_NOT_CHECKED)
    report.sort()
    return report
