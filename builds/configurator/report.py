"""A typed view over the engine's report (its JSON dict, docs/findings.md and catalog/engine/report.py), so
the page and its templates read attributes, and the report's keys are read in this one module."""

from dataclasses import dataclass, field

from builds.inputs import Line
from builds.money import Totals, totals_for  # noqa: F401 - the page's totals (builds/money.py)
from builds.wording import parallel_text

SEVERITY_LABELS = {"error": "Problems", "warning": "Warnings", "info": "Advice"}
VERDICT_LABELS = {"fits": "fits", "does_not_fit": "does not fit", "fits_with_offload": "fits with offload"}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    parts: tuple[str, ...]
    part_names: tuple[str, ...]  # the build lines it concerns, by name


@dataclass(frozen=True)
class FindingGroup:
    severity: str
    label: str
    items: tuple[Finding, ...]


@dataclass(frozen=True)
class LaneRow:
    part: str
    unit: int
    label: str
    slot: object
    riser: bool | None
    riser_width: int | None
    width: int | None
    gen: int | None
    source: str | None
    gbps: float | None
    estimated: bool
    auto: bool  # placed by the engine, not by the user


@dataclass(frozen=True)
class PowerGpu:
    label: str
    board_power_w: float | None
    limit_w: float | None
    transient_w: float | None
    transient_assumed: bool
    speed_kept: float | None


@dataclass(frozen=True)
class WorkloadRow:
    """The workload table's cells, formatted once in Python (Django's filters cost ~0.3 ms a row here)."""

    label: str
    verdict: str
    verdict_class: str
    verdict_label: str
    gpus: str
    memory: str
    ram: str
    speed: str
    assumption: str
    reason: str  # why it does not fit (catalog.engine.workload.fit_reason)


@dataclass
class ReportView:
    """What the page shows of one engine report for one state's lines."""

    raw: dict  # the engine's JSON (the API, exports and diagrams take it as it is)
    findings: list[Finding] = field(default_factory=list)
    flagged: dict[int, str] = field(default_factory=dict)  # line index -> worst severity (not info)
    lanes: list[LaneRow] = field(default_factory=list)
    power_gpus: list[PowerGpu] = field(default_factory=list)
    workloads: list[WorkloadRow] = field(default_factory=list)
    vram_gb: float | None = None
    bf16_tflops: float | None = None
    yearly_cost: float | None = None
    not_checked: list[str] = field(default_factory=list)
    parallelism: list[tuple[str, str]] = field(default_factory=list)
    obstructed: list[str] = field(default_factory=list)  # part ids of GPUs whose slot is covered

    @property
    def finding_groups(self) -> list[FindingGroup]:
        return [
            FindingGroup(severity, label, tuple(f for f in self.findings if f.severity == severity))
            for severity, label in SEVERITY_LABELS.items()
        ]

    @property
    def power(self) -> dict:
        return self.raw.get("power", {})

    @property
    def thermal(self) -> dict:
        return self.raw.get("thermal", {})


def report_view(report: dict, lines: list[Line]) -> ReportView:
    names = {i: line.name for i, line in enumerate(lines)}
    index_of = report.get("part_index", {})
    view = ReportView(raw=report)
    for f in report.get("findings", []):
        indices = sorted({index_of.get(p) for p in f["parts"]} - {None})
        view.findings.append(
            Finding(
                code=f["code"],
                severity=f["severity"],
                message=f["message"],
                parts=tuple(f["parts"]),
                part_names=tuple(names[i] for i in indices if i in names),
            )
        )
        if f["severity"] != "info":
            for i in indices:
                view.flagged.setdefault(i, f["severity"])
        if f["code"] == "GPU_SLOT_OBSTRUCTED":
            view.obstructed.extend(f["parts"])
    view.obstructed.sort()
    auto_placed = {(p["part"], p["unit"]) for p in report.get("placement", []) if p.get("auto")}
    view.lanes = [
        LaneRow(
            part=lane["part"],
            unit=lane["unit"],
            label=lane.get("label", ""),
            slot=lane.get("slot"),
            riser=lane.get("riser"),
            riser_width=lane.get("riser_width"),
            width=lane.get("width"),
            gen=lane.get("gen"),
            source=lane.get("source"),
            gbps=lane.get("gbps"),
            estimated=bool(lane.get("estimated")),
            auto=(lane["part"], lane["unit"]) in auto_placed,
        )
        for lane in report.get("lanes", [])
    ]
    view.power_gpus = [
        PowerGpu(
            label=g.get("label", ""),
            board_power_w=g.get("board_power_w"),
            limit_w=g.get("limit_w"),
            transient_w=g.get("transient_w"),
            transient_assumed=bool(g.get("transient_assumed")),
            speed_kept=g.get("speed_kept"),
        )
        for g in report.get("power", {}).get("gpus", [])
    ]
    view.workloads = [_workload_row(w) for w in report.get("workloads", [])]
    view.vram_gb = report.get("capacity", {}).get("vram_gb")
    view.bf16_tflops = report.get("compute", {}).get("bf16_tflops")
    view.yearly_cost = report.get("cost", {}).get("yearly_cost")
    view.not_checked = list(report.get("not_checked", []))
    interconnect = report.get("interconnect") or {}
    if interconnect.get("pairs"):
        view.parallelism = list((interconnect.get("parallelism") or {}).items())
    return view


def _workload_row(w: dict) -> WorkloadRow:
    speed = w.get("speed")
    ram = w.get("ram_needed_gib")
    verdict = w.get("verdict") or "unknown"
    return WorkloadRow(
        label=w.get("label", ""),
        verdict=verdict,
        verdict_class=verdict.replace("_", ""),
        verdict_label=VERDICT_LABELS.get(w.get("verdict"), w.get("verdict") or "?"),
        gpus=(f"{w['gpus_used']}" + (f" ({parallel_text(w['parallel'])})" if w.get("parallel") else ""))
        if w.get("gpus_used")
        else "—",
        memory="—" if w.get("memory_per_gpu_gib") is None else f"{w['memory_per_gpu_gib']:.1f}",
        ram=f"{ram:.0f} GiB" if ram else "—",
        speed=f"{speed['low']:,.0f}–{speed['high']:,.0f} {speed['unit']}"
        + (f" ({speed['runtime']})" if speed.get("runtime") else "")
        if speed
        else "—",
        assumption=speed.get("assumption", "") if speed else "",
        reason=w.get("reason") or "",
    )
