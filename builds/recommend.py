""" "What should I build?": rigs recommended for workloads, a budget and a wall circuit (issue 13).

Pure Python over the engine: no Django import here (``builds.recommend_web`` loads the catalogue, converts
prices and serves the page and the API). Inputs are a typed ``Request`` and the catalogue as ``Offer``s
(an engine spec plus this request's price); the output is a ``Result``.

The search is not brute force over every combination:
1. GPU model and count: the engine's own workload table (``estimate_workloads``, the ONE adapter to the
   estimator) says which (model, count) hold every workload, how much RAM their offload needs and how fast
   they run (an optimistic PCIe link is used to prune on speed targets, so no candidate that could meet a
   target is pruned). Power-limit variants (90 / 80 / 71 % of board power) are added so a circuit that is
   too small for full power can still be used; the speed kept comes from the engine's power curve.
2. For each GPU candidate, best-first over platforms (CPU + board: same socket and memory type, enough x16
   slots, enough RAM capacity), then the rest of the rig: RAM (>= the offload need and the engine's 2x VRAM
   rule), one NVMe drive of >= 2 TB, PSUs (model x count: sustained, headroom, transients and connectors
   summed over the units as a necessary condition), case or open frame, CPU cooler, riser cables (in a case
   the last card may hang on one, vertically mounted; on an open frame all cards or none).
   Combinations are enumerated lazily in increasing cost (a k-way product enumeration under an A*-style
   global queue), so the first combination the engine passes is the cheapest one in the search space. Only
   necessary conditions prune before the engine runs; the engine decides.
3. A rig is valid when the engine reports no error and none of ``BLOCKING`` warnings, every workload fits
   and every target is met. Cost is compared as (parts without a price, price): a rig whose parts all have a
   price is preferred to one with unknowns, since an unknown price is not a zero price.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from catalog.engine import specs as engine
from catalog.engine.checks import check
from catalog.engine.fit import FORM_FACTOR_ALSO, dimm_kind_fits
from catalog.engine.report import Report, Severity
from catalog.engine.specs import (
    BoardSpec,
    CaseSpec,
    CoolerSpec,
    CpuSpec,
    GpuSpec,
    MemorySpec,
    PsuSpec,
    RiserSpec,
    StorageSpec,
)

# Warnings a recommendation must not carry (the issue: "PSUs assigned per GPU with transient headroom",
# "RAM at least what the workloads' offload needs and the engine's RAM rule").
BLOCKING = frozenset(
    {
        "TRANSIENT_RISK",
        "PSU_HEADROOM_LOW",
        "RAM_BELOW_2X_VRAM",
        "RAM_INSUFFICIENT_FOR_OFFLOAD",
        "COOLER_UNDERRATED",
    }
)
FITTING = ("fits", "fits_with_offload")
# Power-limit levels tried when the circuit is too small: fractions of board power. 0.714 is the lowest
# point of the engine's measured speed curve (power.SPEED_CURVE: Puget Systems, 4x RTX 3090 at 250-280 W).
POWER_LIMIT_FRACTIONS = (0.9, 0.8, 0.714)
# The best link a GPU could get (PCIe 5.0 x16, 63 GB/s): speed targets are pruned against this optimistic
# figure, so no candidate that could meet a target with a better link is dropped before the engine runs.
OPTIMISTIC_LINK_GBPS = 63.0
MIN_NVME_GB = 2000.0  # engine memory.NVME_SMALL_GB ("Capacity >= 2TB", seed 000)
MAX_EFFICIENCY = 0.94  # best point of the 80 PLUS Titanium curve (engine power.EFFICIENCY_115V)
PSU_HEADROOM = 0.8  # engine power.HEADROOM_FRACTION
ATX3_EXCURSION = 2.0  # engine power.ATX3_EXCURSION_FACTOR
DEFAULT_TRANSIENT = 1.7  # engine power.DEFAULT_TRANSIENT_FACTOR
BOARD_W = 50.0  # engine power.BOARD_W
CPU_FALLBACK_W = 125.0  # engine power.CPU_FALLBACK_W
MAX_PSUS = 4
MAX_KIT_COPIES = 8
ENCLOSURES = ("case", "open_frame", "any")
PRICE_MODES = ("new", "used", "any")
VALUE_PER = ("currency", "watt")


class RecommendError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# ---------------------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Offer:
    """A catalogue part as this request sees it: its engine spec and its price in the request's currency."""

    slug: str
    name: str
    category: str
    spec: Any
    price: float | None  # None: no price in the catalogue for the price mode asked
    condition: str | None = None  # "new" | "used" (which quote the price is)
    engine_price: float | None = None  # what POST /api/v1/check passes to the engine (USD, new else used)
    price_observed: str | None = None  # ISO date of the quote the price comes from


@dataclass(frozen=True, slots=True)
class Workload:
    request: dict  # the estimate-request fields, as POST /api/v1/check takes them in context.workloads
    label: str
    target_tokens_per_s: float | None = None
    target_days: float | None = None
    train_tokens: float | None = None


@dataclass(frozen=True, slots=True)
class Request:
    workloads: tuple[Workload, ...]
    budget: float | None = None
    currency: str = "USD"
    prices: str = "any"
    circuit: str | dict = "120v-15a"
    max_gpus: int = 4
    enclosure: str = "any"
    owned: tuple[tuple[str, int], ...] = ()
    value_per: str = "currency"
    max_checks: int = 160  # engine checks for the whole answer (bench: p95 <= 1.5 s on 2 cores)
    presets: Any = None  # the catalogue's model presets (catalog.workloads.presets); None: the seed file's


# ---------------------------------------------------------------------------------------------------------
# The one adapter to the estimator
# ---------------------------------------------------------------------------------------------------------
_ESTIMATE_CACHE: dict[tuple, tuple[dict, ...]] = {}


def estimate_workloads(
    gpu: GpuSpec, count: int, workloads: tuple[dict, ...], link_gbps: float | None = None, presets=None
) -> tuple[dict, ...]:
    """The engine's workload rows (verdict, ram_needed_gib, speed {low, expected, high, unit}) for ``count``
    cards of ``gpu`` with unknown RAM (so offload is not limited) and the given PCIe link. Every call to the
    estimator goes through here: if its signatures change, only this function changes."""
    from catalog.engine import workload as engine_workload
    from catalog.engine.state import build_state

    key = (gpu, count, link_gbps, _freeze(workloads), presets)
    hit = _ESTIMATE_CACHE.get(key)
    if hit is not None:
        return hit
    rig = engine.Rig((engine.Part("gpu", "gpu", "gpu", gpu, quantity=count),))
    context = engine.Context(workloads=tuple(workloads), presets=presets)
    state = build_state(rig, context, Report())
    for unit in state.gpus:
        unit.gbps = link_gbps
    try:
        engine_workload.check_workloads(rig, context, state)
        rows = tuple(state.report.workloads)
    except Exception as exc:  # an estimate that raises rules the candidate out, as the engine's check does
        rows = tuple({"verdict": "invalid", "error": type(exc).__name__} for _ in workloads)
    if len(_ESTIMATE_CACHE) > 20_000:
        _ESTIMATE_CACHE.clear()
    _ESTIMATE_CACHE[key] = rows
    return rows


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _expected(row: dict) -> float | None:
    speed = row.get("speed") or {}
    value = speed.get("expected")
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


# ---------------------------------------------------------------------------------------------------------
# Costs: (parts without a price, price) compared lexicographically
# ---------------------------------------------------------------------------------------------------------
Cost = tuple[int, float]
ZERO: Cost = (0, 0.0)


def add(*costs: Cost) -> Cost:
    u, a = 0, 0.0
    for c in costs:
        u += c[0]
        a += c[1]
    return (u, round(a, 2))


def line_cost(offer: Offer, quantity: int, owned: dict[str, int]) -> Cost:
    """Owned units cost nothing; the others their price, or count as unpriced."""
    buy = max(0, quantity - owned.get(offer.slug, 0))
    if buy == 0:
        return ZERO
    if offer.price is None:
        return (1, 0.0)
    return (0, offer.price * buy)


# ---------------------------------------------------------------------------------------------------------
# Candidates
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GpuCandidate:
    offer: Offer
    count: int
    power_limit_w: float | None
    cost: Cost
    ram_need_gib: float  # the workloads' offload need
    est_speeds: tuple[float | None, ...]  # expected per workload, default link
    speed_kept: float  # engine power curve at the limit (training)

    @property
    def label(self) -> str:
        limit = f" at {self.power_limit_w:.0f} W" if self.power_limit_w else ""
        return f"{self.count}x {self.offer.name}{limit}"

    @property
    def vram_gb(self) -> float:
        return (self.offer.spec.vram_gb or 0.0) * self.count

    @property
    def sustained_w(self) -> float:
        board = self.offer.spec.board_power_w or 0.0
        per = min(board, self.power_limit_w) if self.power_limit_w else board
        return per * self.count

    @property
    def transient_w(self) -> float:
        s = self.offer.spec
        board = s.board_power_w or 0.0
        peak = s.transient_peak_w if s.transient_peak_w is not None else board * DEFAULT_TRANSIENT
        frac = (self.power_limit_w / board) if (self.power_limit_w and board) else 1.0
        return peak * min(frac, 1.0) * self.count


@dataclass(slots=True)
class Option:
    """One choice for one category: the engine part lines it adds and their cost."""

    cost: Cost
    lines: tuple[tuple[Offer, int], ...]  # (offer, quantity)
    placement: dict = field(default_factory=dict)
    tag: str = ""


@dataclass(slots=True)
class Rig:
    """A candidate rig: GPU candidate, platform and one option per remaining category."""

    gpu: GpuCandidate
    cpu: Offer
    board: Offer
    options: tuple[Option, ...]
    cost: Cost
    mode: str  # "case" | "open_frame"
    risers: int  # GPUs on riser cables


@dataclass(slots=True)
class Evaluated:
    rig: Rig
    report: Report
    valid: bool
    reasons: list[str]
    parts: list[dict]  # API parts with explicit placement (what POST /api/v1/check takes)
    speeds: list[float | None]
    rows: list[dict]
    score: float | None  # geometric mean of expected speeds (the ranking speed)
    wall_w: float | None


@dataclass(slots=True)
class Stats:
    checks: int = 0
    considered: int = 0
    truncated: bool = False
    started: float = field(default_factory=time.perf_counter)
    rejections: dict[str, list[str]] = field(default_factory=dict)

    def reject(self, key: str, text: str) -> None:
        bucket = self.rejections.setdefault(key, [])
        if text not in bucket and len(bucket) < 8:
            bucket.append(text)


@dataclass(slots=True)
class Result:
    rigs: list[dict]
    considered: int
    engine_checks: int
    why_not: list[str]
    candidates: list[dict]
    relax: list[dict]
    closest: dict | None
    notes: list[str]
    context: dict
    elapsed_ms: float


# ---------------------------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------------------------
class Search:
    def __init__(self, request: Request, catalogue: dict[str, list[Offer]]):
        self.req = request
        self.owned = {slug: qty for slug, qty in request.owned}
        self.catalogue = catalogue
        self.stats = Stats()
        self.context_data = {
            "circuit": request.circuit,
            "currency": request.currency,
            "workloads": [w.request for w in request.workloads],
        }
        self.context = replace(engine.parse_context(self.context_data), presets=request.presets)
        self.workloads = tuple(w.request for w in request.workloads)
        by_slug = {o.slug: o for offers in catalogue.values() for o in offers}
        self.owned_offers: dict[str, list[Offer]] = {}
        for slug, _ in request.owned:
            offer = by_slug.get(slug)
            if offer is None:
                raise RecommendError("owned", f"no part {slug!r} in the catalogue")
            self.owned_offers.setdefault(offer.category, []).append(offer)
        self._platform_cache: dict[tuple, list] = {}
        self._rest_cache: dict[tuple, list[list[Option]]] = {}
        self.dead: set[tuple] = set()
        self.why: dict[tuple, tuple[int, str]] = {}  # (gpu slug, count) -> (rank, reason)
        self._option_cache: dict[tuple, list[Option]] = {}
        self._bound_cache: dict[tuple, Cost] = {}
        self._floor: Cost | None = None

    def note_why(self, g: GpuCandidate, rank: int, text: str) -> None:
        """Why a GPU choice did not make it; the strongest reason wins (engine 3, power 2, other 1)."""
        key = (g.offer.slug, g.count)
        if key not in self.why or self.why[key][0] < rank:
            self.why[key] = (rank, text)

    # -- category options ------------------------------------------------------------------------------
    def offers(self, category: str) -> list[Offer]:
        """The offers of a category; an owned part restricts its category to the owned model."""
        owned = self.owned_offers.get(category)
        if owned:
            return owned[:1]
        return list(self.catalogue.get(category, ()))

    def gpu_candidates(self) -> list[GpuCandidate]:
        out: list[GpuCandidate] = []
        max_gpus = self.req.max_gpus
        for offer in self.offers("gpu"):
            spec: GpuSpec = offer.spec
            if spec.vram_gb is None or spec.memory_bandwidth_gbps is None:
                self.stats.reject("gpu", f"{offer.name}: memory or bandwidth unknown")
                continue
            owned_n = self.owned.get(offer.slug, 0)
            if offer.price is None and not owned_n:
                # The GPUs are most of a rig's price: an unpriced card would look free.
                kind = {"new": "new ", "used": "used or new "}.get(self.req.prices, "")
                self.stats.reject("unpriced", f"{offer.name}: no {kind}price in the catalogue")
                continue
            fitted = False
            for n in range(max(1, owned_n), max_gpus + 1):
                rows = estimate_workloads(spec, n, self.workloads, presets=self.req.presets)
                if not rows or any(r.get("verdict") not in FITTING for r in rows):
                    continue
                fitted = True
                optimistic = estimate_workloads(
                    spec, n, self.workloads, OPTIMISTIC_LINK_GBPS, self.req.presets
                )
                if not self._targets_possible(optimistic, n):
                    speeds = ", ".join(f"{v:g}" for v in (_expected(r) for r in optimistic) if v)
                    self.stats.reject(
                        "target",
                        f"{n}x {offer.name} holds the workloads but reaches only {speeds} tokens/s even on "
                        "the fastest PCIe link, below the target",
                    )
                    continue
                ram_need = max((r.get("ram_needed_gib") or 0.0) for r in rows)
                speeds = tuple(_expected(r) for r in rows)
                cost = line_cost(offer, n, self.owned)
                out.append(GpuCandidate(offer, n, None, cost, ram_need, speeds, 1.0))
                board = spec.board_power_w
                if board:
                    from catalog.engine.power import speed_kept

                    for frac in POWER_LIMIT_FRACTIONS:
                        limit = 5.0 * round(board * frac / 5.0)
                        kept = speed_kept(limit / board)
                        if self._targets_possible(optimistic, n, kept):
                            out.append(GpuCandidate(offer, n, limit, cost, ram_need, speeds, kept))
            if not fitted:
                self.stats.reject(
                    "memory",
                    f"{offer.name} ({spec.vram_gb:g} GB): the workloads do not fit on up to {max_gpus} cards",
                )
        return out

    def _targets_possible(self, rows: tuple[dict, ...], n: int, kept: float = 1.0) -> bool:
        for w, row in zip(self.req.workloads, rows, strict=False):
            speed = _expected(row)
            if speed is None:
                if w.target_tokens_per_s or w.target_days:
                    return False
                continue
            if w.request.get("method", "inference") != "inference":
                speed *= kept
            if w.target_tokens_per_s and speed < w.target_tokens_per_s:
                return False
            if w.target_days and w.train_tokens and w.train_tokens / speed / 86400 > w.target_days:
                return False
        return True

    def platforms(self, gpu: GpuCandidate) -> list[tuple[Cost, Offer, Offer]]:
        key = (gpu.offer.slug, gpu.count, gpu.ram_need_gib)
        hit = self._platform_cache.get(key)
        if hit is not None:
            return hit
        out = []
        ram_min = max(gpu.ram_need_gib, 2.0 * gpu.vram_gb)
        for board in self.offers("motherboard"):
            b: BoardSpec = board.spec
            if b.pcie_slots is None:
                self.stats.reject("platform", f"{board.name}: slot layout not curated")
                continue
            if not b.m2_sockets and not self.owned_offers.get("storage"):
                # the engine places M.2 drives only in listed sockets (M2_SLOTS_EXCEEDED otherwise)
                self.stats.reject("platform", f"{board.name}: no M.2 socket known for the NVMe drive")
                continue
            x16 = sum(1 for s in b.pcie_slots if (s.physical_width or s.electrical_width or 16) >= 16)
            if x16 < gpu.count:
                self.stats.reject("slots", f"{board.name} has {x16} x16 slot(s) for {gpu.count} GPUs")
                continue
            for cpu in self.offers("cpu"):
                c: CpuSpec = cpu.spec
                if b.socket and c.socket and b.socket.upper() != c.socket.upper():
                    continue
                if b.memory_type and c.memory_type and b.memory_type != c.memory_type:
                    continue
                caps = [x for x in (b.max_memory_gb, c.max_memory_gb) if x is not None]
                if caps and min(caps) < ram_min:
                    self.stats.reject(
                        "ram",
                        f"{cpu.name} on {board.name}: at most {min(caps):g} GB of RAM, {ram_min:g} GB needed",
                    )
                    continue
                cost = add(line_cost(cpu, 1, self.owned), line_cost(board, 1, self.owned))
                out.append((cost, cpu, board))
        out.sort(key=lambda x: (x[0], x[1].slug, x[2].slug))
        self._platform_cache[key] = out
        return out

    def memory_options(self, cpu: Offer, board: Offer, need_gb: float) -> list[Option]:
        b: BoardSpec = board.spec
        c: CpuSpec = cpu.spec
        mtype = b.memory_type or c.memory_type
        caps = [x for x in (b.max_memory_gb, c.max_memory_gb) if x is not None]
        cap = min(caps) if caps else None
        out = []
        for kit in self.offers("memory"):
            m: MemorySpec = kit.spec
            if m.modules is None or m.module_gb is None:
                continue
            if mtype and m.memory_type and m.memory_type != mtype:
                continue
            if not dimm_kind_fits(b.socket, m.registered):
                continue  # the engine refuses it (MEMORY_REGISTERED_MISMATCH)
            owned_q = self.owned.get(kit.slug, 0)
            for q in range(max(1, owned_q), MAX_KIT_COPIES + 1):
                total = m.modules * m.module_gb * q
                if b.memory_slots is not None and m.modules * q > b.memory_slots:
                    break
                if cap is not None and total > cap:
                    break
                if total >= need_gb:
                    out.append(Option(line_cost(kit, q, self.owned), ((kit, q),), tag="memory"))
                    break
        return sorted(out, key=lambda o: (o.cost, o.lines[0][0].slug))

    def storage_options(self) -> list[Option]:
        out = []
        for drive in self.offers("storage"):
            s: StorageSpec = drive.spec
            owned = drive.slug in self.owned
            if not owned and (s.interface != "nvme" or (s.capacity_gb or 0) < MIN_NVME_GB):
                continue
            q = max(1, self.owned.get(drive.slug, 0))
            out.append(Option(line_cost(drive, q, self.owned), ((drive, q),), tag="storage"))
        return sorted(out, key=lambda o: (o.cost, o.lines[0][0].slug))

    def psu_options(self, gpu: GpuCandidate, cpu: Offer, mem_modules: int) -> list[Option]:
        c: CpuSpec = cpu.spec
        cpu_w = c.ppt_w or c.tdp_w or CPU_FALLBACK_W
        sustained = gpu.sustained_w + cpu_w + BOARD_W + 5.0 * mem_modules + 8.0
        transient = gpu.transient_w
        spec_g: GpuSpec = gpu.offer.spec
        limit_w = self.context.circuit_limit_w
        if (gpu.sustained_w + cpu_w + BOARD_W) / MAX_EFFICIENCY > limit_w:
            ctx = self.context
            self.note_why(
                gpu,
                2,
                f"{gpu.count}x {gpu.offer.name} would fit the memory but not your {ctx.circuit_volts:g} V / "
                f"{ctx.circuit_amps:g} A circuit ({limit_w:,.0f} W continuous) with any PSU in the catalogue, "
                f"even power-limited to {POWER_LIMIT_FRACTIONS[-1]:.0%}",
            )
            return []
        out = []
        for psu in self.offers("psu"):
            p: PsuSpec = psu.spec
            if p.wattage_w is None:
                continue
            owned_q = self.owned.get(psu.slug, 0)
            for q in range(max(1, owned_q), MAX_PSUS + 1):
                if q > gpu.count + 1 and q > owned_q:  # one unit per GPU plus one for the system at most
                    break
                rating = p.wattage_w * q
                ride = p.wattage_w * (ATX3_EXCURSION if p.atx3 is True else 1.0) * q
                if rating * PSU_HEADROOM < sustained or ride < transient:
                    continue
                if not _connectors_possible(spec_g, gpu.count, p, q):
                    continue
                # more units than the fewest that pass can still be needed (the engine checks each unit)
                out.append(Option(line_cost(psu, q, self.owned), ((psu, q),), tag="psu"))
        return sorted(out, key=lambda o: (o.cost, o.lines[0][0].slug))

    def case_options(self, gpu: GpuCandidate, board: Offer, mode: str) -> list[Option]:
        out = []
        length = gpu.offer.spec.length_mm
        form = board.spec.form_factor
        for case in self.offers("case"):
            cs: CaseSpec = case.spec
            frame = cs.open_frame is True
            if (mode == "open_frame") != frame:
                continue
            if form and cs.form_factors is not None:  # engine fit.check_case FORM_FACTOR_MISMATCH
                takes = {ff for listed in cs.form_factors for ff in FORM_FACTOR_ALSO.get(listed, (listed,))}
                if form not in takes:
                    continue
            if not frame and length is not None and cs.max_gpu_length_mm is not None:
                if length > cs.max_gpu_length_mm:
                    continue
            out.append(Option(line_cost(case, 1, self.owned), ((case, 1),), tag="case"))
        return sorted(out, key=lambda o: (o.cost, o.lines[0][0].slug))

    def cooler_options(self, cpu: Offer) -> list[Option]:
        socket = (cpu.spec.socket or "").upper()
        out = []
        for cooler in self.offers("cooler"):
            s: CoolerSpec = cooler.spec
            if s.sockets is not None and socket and socket not in {x.upper() for x in s.sockets}:
                continue
            need = cpu.spec.ppt_w or cpu.spec.tdp_w
            if s.rated_w is not None and need is not None and s.rated_w < need:
                continue
            out.append(Option(line_cost(cooler, 1, self.owned), ((cooler, 1),), tag="cooler"))
        return sorted(out, key=lambda o: (o.cost, o.lines[0][0].slug))

    def riser_options(self, q: int) -> list[Option]:
        out = []
        for riser in self.offers("riser"):
            r: RiserSpec = riser.spec
            if r.kind not in (None, "cable") or (r.width is not None and r.width < 16):
                continue
            out.append(Option(line_cost(riser, q, self.owned), ((riser, q),), tag="riser"))
        return sorted(out, key=lambda o: (o.cost, o.lines[0][0].slug))

    def modes(self) -> list[tuple[str, str]]:
        """(enclosure, risers): in a case every card in a slot, or all but one (the last on a riser cable,
        vertically mounted, as seed 000 did); on an open frame every card in a slot or every card on a
        riser cable."""
        enc = self.req.enclosure
        owned_case = self.owned_offers.get("case")
        if owned_case:
            enc = "open_frame" if owned_case[0].spec.open_frame else "case"
        out = []
        if enc in ("case", "any"):
            out += [("case", "none"), ("case", "one")]
        if enc in ("open_frame", "any"):
            out += [("open_frame", "none"), ("open_frame", "all")]
        return out

    @staticmethod
    def riser_count(gpu: GpuCandidate, kind: str) -> int | None:
        if kind == "none":
            return 0
        if kind == "one":
            return 1 if gpu.count >= 2 else None
        return gpu.count

    def rest_lists(self, gpu: GpuCandidate, cpu: Offer, board: Offer, mode: str, risers: int):
        key = (id(gpu), cpu.slug, board.slug, mode, risers)
        hit = self._rest_cache.get(key)
        if hit is not None:
            return hit
        need = max(gpu.ram_need_gib, 2.0 * gpu.vram_gb)
        mem = self._cached(("mem", cpu.slug, board.slug, need), self.memory_options, cpu, board, need)
        if not mem:
            self.stats.reject("ram", f"no RAM kit gives {need:g} GB on the {board.name}")
        modules = min((o.lines[0][0].spec.modules * o.lines[0][1] for o in mem), default=0)
        lists = [
            mem,
            self._cached(("storage",), self.storage_options),
            self._cached(("psu", gpu, cpu.slug, modules), self.psu_options, gpu, cpu, modules),
            self._cached(
                ("case", gpu.offer.slug, board.spec.form_factor, mode), self.case_options, gpu, board, mode
            ),
            self._cached(("cooler", cpu.slug), self.cooler_options, cpu),
        ]
        if not lists[2] and (gpu.offer.slug, gpu.count) not in self.why:
            self.note_why(
                gpu,
                2,
                f"{gpu.count}x {gpu.offer.name}: no PSU model in the catalogue (up to {MAX_PSUS} units) carries "
                "their load and transients with 20 % headroom",
            )
        if risers:
            lists.append(self._cached(("riser", risers), self.riser_options, risers))
        self._rest_cache[key] = lists
        return lists

    def rest_bound(self, gpu: GpuCandidate, mode: str, risers: int) -> Cost:
        """A lower bound of what the rest of the rig (RAM, drive, PSU, case, cooler, risers) costs: the
        cheapest offer of each category (a frame or a case as the mode asks), ignoring fit."""
        key = ("bound", mode, risers)
        hit = self._bound_cache.get(key)
        if hit is None:
            parts = []
            for category in ("memory", "storage", "psu", "cooler"):
                parts.append(min((line_cost(o, 1, self.owned) for o in self.offers(category)), default=ZERO))
            frames = [o for o in self.offers("case") if (o.spec.open_frame is True) == (mode == "open_frame")]
            parts.append(min((line_cost(o, 1, self.owned) for o in frames), default=ZERO))
            if risers:
                parts.append(
                    min((line_cost(o, risers, self.owned) for o in self.offers("riser")), default=ZERO)
                )
            hit = self._bound_cache[key] = add(*parts)
        return hit

    def platform_floor(self) -> Cost:
        """The cheapest CPU plus the cheapest board, ignoring fit: a lower bound of any platform."""
        if self._floor is None:
            self._floor = add(
                min((line_cost(o, 1, self.owned) for o in self.offers("cpu")), default=ZERO),
                min((line_cost(o, 1, self.owned) for o in self.offers("motherboard")), default=ZERO),
            )
        return self._floor

    def _cached(self, key: tuple, fn, *args):
        hit = self._option_cache.get(key)
        if hit is None:
            hit = self._option_cache[key] = fn(*args)
        return hit

    # -- rigs and the engine ---------------------------------------------------------------------------
    def engine_parts(self, rig: Rig, placement: dict[int, dict] | None = None) -> tuple[list, list[dict]]:
        """The rig as engine parts (ids slug#index, as POST /api/v1/check builds them) and as API parts."""
        lines: list[tuple[Offer, int, dict]] = []
        gpu_place: dict = {}
        if rig.gpu.power_limit_w:
            gpu_place["power_limit_w"] = rig.gpu.power_limit_w
        direct = rig.gpu.count - rig.risers
        if direct:
            lines.append((rig.gpu.offer, direct, dict(gpu_place)))
        if rig.risers:
            lines.append((rig.gpu.offer, rig.risers, {**gpu_place, "riser": True}))
        lines.append((rig.cpu, 1, {}))
        lines.append((rig.board, 1, {}))
        for opt in rig.options:
            for offer, q in opt.lines:
                lines.append((offer, q, {}))
        # Owned parts of categories the search does not fill (fans, braces, a second GPU model...).
        present = {offer.slug for offer, _, _ in lines}
        for offers in self.owned_offers.values():
            for offer in offers:
                if offer.slug not in present:
                    lines.append((offer, self.owned[offer.slug], {}))
        if placement:
            for index, extra in placement.items():
                offer, q, place = lines[index]
                lines[index] = (offer, q, {**place, **extra})
        parts, api = [], []
        for index, (offer, q, place) in enumerate(lines):
            parts.append(
                engine.Part(
                    id=f"{offer.slug}#{index}",
                    name=offer.name,
                    category=offer.category,
                    spec=offer.spec,
                    quantity=q,
                    slots=tuple(place["slots"]) if place.get("slots") else None,
                    riser=place.get("riser"),
                    riser_width=place.get("riser_width"),
                    psu=tuple(place["psu"]) if place.get("psu") else None,
                    power_limit_w=place.get("power_limit_w"),
                    price=offer.engine_price,
                )
            )
            api.append({"slug": offer.slug, "quantity": q, **place})
        return parts, api

    def evaluate(self, rig: Rig) -> Evaluated:
        """Engine check with automatic placement, then again with that placement written out (what the
        client will post), which is the verdict returned."""
        parts, _ = self.engine_parts(rig)
        report = self._check(parts)
        placement = self._placement_from(report, parts)
        if placement:
            parts, api = self.engine_parts(rig, placement)
            report = self._check(parts)
        else:
            _, api = self.engine_parts(rig)
        self.stats.considered += 1
        return self._judge(rig, report, api)

    def _check(self, parts: list) -> Report:
        self.stats.checks += 1
        return check(engine.Rig(tuple(parts)), self.context)

    @staticmethod
    def _placement_from(report: Report, parts: list) -> dict[int, dict]:
        """Explicit slots (GPU line) and PSU units (every GPU) from the engine's automatic choice."""
        index = {p.id: i for i, p in enumerate(parts)}
        slots: dict[int, dict[int, int]] = {}
        for row in report.placement:
            if row.get("kind") == "gpu" and isinstance(row.get("slot"), int):
                slots.setdefault(index[row["part"]], {})[row["unit"]] = row["slot"]
        psus: dict[int, dict[int, int]] = {}
        for row in report.power.get("gpus", []):
            if row.get("psu") is not None:
                psus.setdefault(index[row["part"]], {})[row["unit"]] = row["psu"]
        out: dict[int, dict] = {}
        for i, part in enumerate(parts):
            if part.category != "gpu":
                continue
            extra = {}
            got = slots.get(i, {})
            if len(got) == part.quantity:
                extra["slots"] = [got[u] for u in range(part.quantity)]
            got_p = psus.get(i, {})
            if len(got_p) == part.quantity and len({*got_p.values()}) > 0:
                extra["psu"] = [got_p[u] for u in range(part.quantity)]
            if extra:
                out[i] = extra
        return out

    def _judge(self, rig: Rig, report: Report, api: list[dict]) -> Evaluated:
        reasons = [f"{f.code}: {f.message}" for f in report.findings if f.severity is Severity.ERROR]
        reasons += [f"{f.code}: {f.message}" for f in report.findings if f.code in BLOCKING]
        rows = [dict(r) for r in report.workloads]
        kept = min((g.get("speed_kept") or 1.0 for g in report.power.get("gpus", [])), default=1.0)
        speeds: list[float | None] = []
        for w, row in zip(self.req.workloads, rows, strict=False):
            speed = _expected(row)
            if row.get("verdict") not in FITTING:
                reasons.append(f"{w.label}: {row.get('verdict')} ({'; '.join(row.get('notes') or [])})")
            if speed is not None and w.request.get("method", "inference") != "inference":
                speed = round(speed * kept, 2)
            speeds.append(speed)
            if w.target_tokens_per_s and (speed is None or speed < w.target_tokens_per_s):
                reasons.append(
                    f"{w.label}: {speed or 0:g} tokens/s, below the {w.target_tokens_per_s:g} asked"
                )
            if w.target_days and w.train_tokens:
                days = w.train_tokens / speed / 86400 if speed else None
                if days is None or days > w.target_days:
                    reasons.append(
                        f"{w.label}: {days or float('inf'):.1f} days, over the {w.target_days:g} asked"
                    )
        known = [s for s in speeds if s]
        score = (
            math.exp(sum(math.log(s) for s in known) / len(known))
            if known and len(known) == len(speeds)
            else None
        )
        wall = report.power.get("wall_w")
        return Evaluated(rig, report, not reasons, reasons, api, speeds, rows, score, wall)

    # -- best-first enumeration ------------------------------------------------------------------------
    def cheapest(
        self,
        gpus: list[GpuCandidate],
        budget: float | None,
        accept: Callable[[Evaluated], bool] | None = None,
        max_checks: int | None = None,
    ) -> tuple[Evaluated | None, list[Evaluated]]:
        """The cheapest valid rig over the given GPU candidates (exact within the search space, unless the
        check limit is reached), and every rig the engine rejected on the way."""
        counter = itertools.count()
        heap: list = []
        modes = self.modes()
        floor = self.platform_floor()
        for g in gpus:
            bound = add(g.cost, floor, min(self.rest_bound(g, m, 0) for m, _ in modes))
            if budget is not None and bound[1] > budget + 1e-6:
                continue
            heap.append((bound, next(counter), "gpu", g))
        heapq.heapify(heap)
        failed: list[Evaluated] = []
        limit = max_checks if max_checks is not None else self.req.max_checks
        start_checks = self.stats.checks
        while heap:
            cost, _, kind, payload = heapq.heappop(heap)
            if budget is not None and cost[1] > budget + 1e-6:
                continue  # (unpriced, amount) order: a later entry may still be within the budget
            if kind == "gpu":  # expand a GPU choice into its platforms only when it could be the cheapest
                g = payload
                for pcost, cpu, board in self.platforms(g):
                    base = add(g.cost, pcost)
                    for mode, kind in modes:
                        risers = self.riser_count(g, kind)
                        if risers is None:
                            continue
                        bound = add(base, self.rest_bound(g, mode, risers))
                        if budget is not None and bound[1] > budget + 1e-6:
                            continue
                        heapq.heappush(
                            heap, (bound, next(counter), "platform", (g, cpu, board, mode, risers))
                        )
                continue
            if kind == "platform":
                g, cpu, board, mode, risers = payload
                lists = self.rest_lists(g, cpu, board, mode, risers)
                if any(not lst for lst in lists):
                    continue
                base = add(g.cost, line_cost(cpu, 1, self.owned), line_cost(board, 1, self.owned))
                idx = (0,) * len(lists)
                first = add(base, *(lst[0].cost for lst in lists))
                stream = (g, cpu, board, mode, risers, lists, base)
                heapq.heappush(heap, (first, next(counter), "combo", (stream, idx, 0)))
                continue
            stream, idx, last = payload
            g, cpu, board, mode, risers, lists, base = stream
            for j in range(last, len(lists)):
                if idx[j] + 1 < len(lists[j]):
                    nxt = idx[:j] + (idx[j] + 1,) + idx[j + 1 :]
                    c = add(base, *(lists[k][nxt[k]].cost for k in range(len(lists))))
                    if budget is not None and c[1] > budget + 1e-6:
                        continue
                    heapq.heappush(heap, (c, next(counter), "combo", (stream, nxt, j)))
            options = tuple(lists[k][idx[k]] for k in range(len(lists)))
            if not self._joint_ok(options, cpu):
                continue
            dead_key = self._dead_key(g, board, risers, options)
            power_key = self._power_key(g, cpu, options)
            if dead_key in self.dead or power_key in self.dead:
                continue
            if self.stats.checks - start_checks >= limit or self.stats.checks >= self.req.max_checks * 2:
                if max_checks is None:  # the main search, not a per-GPU probe for fastest / best value
                    self.stats.truncated = True
                break
            rig = Rig(g, cpu, board, options, cost, mode, risers)
            ev = self.evaluate(rig)
            if ev.valid and (accept is None or accept(ev)):
                return ev, failed
            failed.append(ev)
            codes = {f.code for f in ev.report.findings if f.severity is Severity.ERROR or f.code in BLOCKING}
            if codes & PLACEMENT_CODES:
                self.dead.add(dead_key)
            if codes & POWER_CODES:
                self.dead.add(power_key)
            for reason in ev.reasons[:1]:
                self.stats.reject(reason.split(":", 1)[0], f"{g.label} on {board.name}: {reason}")
                self.note_why(g, 3, self._engine_why(ev, reason))
        return None, failed

    def _engine_why(self, ev: Evaluated, reason: str) -> str:
        g = ev.rig.gpu
        code, _, message = reason.partition(": ")
        ctx = self.context
        if code == "CIRCUIT_OVERLOAD":
            return (
                f"{g.count}x {g.offer.name} would fit the memory but not your {ctx.circuit_volts:g} V / "
                f"{ctx.circuit_amps:g} A circuit with the PSUs in the catalogue (about {ev.wall_w or 0:,.0f} W "
                "at the wall)"
            )
        if code in PLACEMENT_CODES:
            return (
                f"{g.count}x {g.offer.name} would fit the memory but not on the boards tried "
                f"({ev.rig.board.name}: {message})"
            )
        return f"{g.count}x {g.offer.name} would fit the memory but the engine refused the rig: {reason}"

    @staticmethod
    def _power_key(g: GpuCandidate, cpu: Offer, options: tuple[Option, ...]) -> tuple:
        """What the engine's power figures depend on: the GPUs and their limit, the CPU, the PSU units, the
        memory modules and the drives (the board counts the same whichever it is)."""
        psu = next((o.lines[0] for o in options if o.tag == "psu"), None)
        mem = next((o.lines[0] for o in options if o.tag == "memory"), None)
        drive = next((o.lines[0] for o in options if o.tag == "storage"), None)
        modules = (mem[0].spec.modules or 1) * mem[1] if mem else 0
        return (
            "power",
            g.offer.slug,
            g.count,
            g.power_limit_w,
            cpu.slug,
            (psu[0].slug, psu[1]) if psu else None,
            modules,
            (drive[0].spec.interface, drive[1]) if drive else None,
        )

    @staticmethod
    def _dead_key(g: GpuCandidate, board: Offer, risers: int, options: tuple[Option, ...]) -> tuple:
        case = next((o.lines[0][0] for o in options if o.tag == "case"), None)
        rows = case.spec.expansion_slots if case is not None else None
        return (g.offer.slug, g.count, board.slug, risers, rows)

    @staticmethod
    def _joint_ok(options: tuple[Option, ...], cpu: Offer) -> bool:
        """Cooler height against the case (COOLER_TOO_TALL is an error)."""
        case = next((o.lines[0][0] for o in options if o.tag == "case"), None)
        cooler = next((o.lines[0][0] for o in options if o.tag == "cooler"), None)
        if case is None or cooler is None:
            return True
        cs: CaseSpec = case.spec
        h = cooler.spec.height_mm
        if cs.open_frame or h is None or cs.max_cooler_height_mm is None:
            return True
        return h <= cs.max_cooler_height_mm


def _connectors_possible(g: GpuSpec, count: int, p: PsuSpec, q: int) -> bool:
    """Engine power._connectors summed over the PSU units (a necessary condition: adapters for missing
    12V-2x6 outputs are counted on the totals, which never needs more than per unit)."""
    if g.power_8pin is None and g.power_12v2x6 is None:
        return True
    if p.power_8pin is None and p.power_12v2x6 is None:
        return True
    need_8 = (g.power_8pin or 0) * count
    need_12 = (g.power_12v2x6 or 0) * count
    have_8, have_12 = (p.power_8pin or 0) * q, (p.power_12v2x6 or 0) * q
    adapt = max(0, need_12 - have_12)
    per_card = math.ceil((g.board_power_w or 600.0) / 150.0) if g.power_12v2x6 else 0
    return need_8 + adapt * per_card <= have_8


# Error codes whose cause is the GPUs' placement on the board (same GPUs, board, risers and case rows give
# the same placement whatever the PSU, RAM, drive or cooler): one failure rules out every such combination.
PLACEMENT_CODES = frozenset({"GPU_SLOT_OBSTRUCTED", "SLOTS_EXHAUSTED"})
# Codes that depend only on the power figures (see Search._power_key): one failure rules out every
# combination with the same GPUs, limit, CPU, PSU units, memory modules and drives.
POWER_CODES = frozenset(
    {
        "PSU_INSUFFICIENT",
        "PSU_HEADROOM_LOW",
        "TRANSIENT_RISK",
        "PSU_CONNECTORS_INSUFFICIENT",
        "CIRCUIT_OVERLOAD",
    }
)


# ---------------------------------------------------------------------------------------------------------
# The answer
# ---------------------------------------------------------------------------------------------------------
def _price(ev: Evaluated, currency: str) -> dict:
    return {"amount": round(ev.rig.cost[1], 2), "currency": currency, "unpriced_parts": ev.rig.cost[0]}


def rig_dict(search: Search, ev: Evaluated, label: str) -> dict:
    req = search.req
    price = _price(ev, req.currency)
    workloads = []
    for w, row, speed in zip(req.workloads, ev.rows, ev.speeds, strict=False):
        sp = row.get("speed") or {}
        item = {
            "label": w.label,
            "model": row.get("model"),
            "method": row.get("method"),
            "precision": row.get("precision"),
            "verdict": row.get("verdict"),
            "gpus_used": row.get("gpus_used"),
            "offload": row.get("offload"),
            "memory_per_gpu_gib": row.get("memory_per_gpu_gib"),
            "ram_needed_gib": row.get("ram_needed_gib"),
            "tokens_per_s": speed,
            "speed": sp or None,
            "target_tokens_per_s": w.target_tokens_per_s,
        }
        if w.train_tokens and speed:
            item["days"] = round(w.train_tokens / speed / 86400, 2)
            item["target_days"] = w.target_days
        met = True
        if w.target_tokens_per_s:
            met = speed is not None and speed >= w.target_tokens_per_s
        if w.target_days and w.train_tokens:
            met = met and bool(speed) and w.train_tokens / speed / 86400 <= w.target_days
        item["meets_target"] = met
        workloads.append(item)
    parts = []
    owned_left = dict(search.owned)  # owned units are given to the first lines of their part
    for line in ev.parts:
        offer = _offer_of(search, line["slug"])
        owned_q = min(owned_left.get(line["slug"], 0), line["quantity"])
        if owned_q:
            owned_left[line["slug"]] -= owned_q
        parts.append(
            {
                "slug": line["slug"],
                "name": offer.name if offer else line["slug"],
                "category": offer.category if offer else None,
                "quantity": line["quantity"],
                "slots": line.get("slots"),
                "riser": line.get("riser"),
                "riser_width": line.get("riser_width"),
                "psu": line.get("psu"),
                "power_limit_w": line.get("power_limit_w"),
                "unit_price": offer.price if offer else None,
                "condition": offer.condition if offer else None,
                "price_observed_at": offer.price_observed if offer else None,
                "owned": owned_q,
            }
        )
    value = None
    if ev.score:
        if req.value_per == "watt" and ev.wall_w:
            value = round(ev.score / ev.wall_w, 4)
        elif ev.rig.cost[1] > 0:
            value = round(ev.score / ev.rig.cost[1], 5)
    notes = []
    g = ev.rig.gpu
    if g.power_limit_w:
        notes.append(
            f"GPUs power-limited to {g.power_limit_w:.0f} W (nvidia-smi -pl): training keeps about "
            f"{g.speed_kept:.0%} of its speed (engine power curve); decode speed is taken as unchanged"
        )
    if ev.rig.risers:
        notes.append(
            f"{ev.rig.risers} GPU(s) on PCIe riser cables"
            + (" (one mounted vertically in the case)" if ev.rig.mode == "case" else "")
        )
    if "radeon" in g.offer.name.lower() or g.offer.slug.startswith("amd-"):  # a name test: no vendor field
        notes.append(
            "AMD GPU: runs on ROCm, not CUDA; the speed model is calibrated on NVIDIA cards, and some runtimes "
            "(bitsandbytes QLoRA, some vLLM kernels) support ROCm only partly"
        )
    return {
        "label": label,
        "summary": f"{ev.rig.gpu.label}, {ev.rig.cpu.name}, {ev.rig.board.name}",
        "notes": notes,
        "parts": parts,
        "context": {k: v for k, v in search.context_data.items()},
        "price": price,
        "wall_w": ev.wall_w,
        "findings": [f.to_dict() for f in ev.report.findings],
        "ok": ev.report.ok,
        "workloads": workloads,
        "speed": ev.score,
        "value": value,
        "value_per": req.value_per,
        "enclosure": ev.rig.mode,
    }


def _offer_of(search: Search, slug: str) -> Offer | None:
    for offers in search.catalogue.values():
        for o in offers:
            if o.slug == slug:
                return o
    return None


def _candidate_point(ev: Evaluated, labels: set[str]) -> dict:
    return {
        "label": ev.rig.gpu.label,
        "price": ev.rig.cost[1],
        "unpriced_parts": ev.rig.cost[0],
        "speed": ev.score,
        "valid": ev.valid,
        "recommended": sorted(labels),
    }


def recommend(request: Request, catalogue: dict[str, list[Offer]]) -> Result:
    t0 = time.perf_counter()
    search = Search(request, catalogue)
    gpus = search.gpu_candidates()
    budget = request.budget
    found: dict[str, Evaluated] = {}
    evaluated: dict[tuple, Evaluated] = {}
    notes: list[str] = []

    def remember(ev: Evaluated | None, failed: list[Evaluated]) -> None:
        for e in [*failed, *([ev] if ev else [])]:
            key = (e.rig.gpu.offer.slug, e.rig.gpu.count, e.rig.gpu.power_limit_w)
            prev = evaluated.get(key)
            if prev is None or (e.valid and (not prev.valid or e.rig.cost < prev.rig.cost)):
                evaluated[key] = e

    # 1. The cheapest rig that meets every target, within the budget.
    cheapest, failed = search.cheapest(gpus, budget)
    remember(cheapest, failed)
    if cheapest is not None:
        found["cheapest"] = cheapest
    # 2. Fastest within budget and 3. best value: the cheapest valid rig per GPU candidate, in order of
    # the estimated speed (fastest) and estimated speed per GPU price (value); a few candidates each.
    if cheapest is not None:
        per_gpu_checks = max(6, request.max_checks // 16)
        groups: dict[tuple, list[GpuCandidate]] = {}
        for g in gpus:
            if budget is None or g.cost[1] <= budget + 1e-6:
                groups.setdefault((g.offer.slug, g.count), []).append(g)
        done: set = {(cheapest.rig.gpu.offer.slug, cheapest.rig.gpu.count)}

        def run_group(key: tuple, full_power_first: bool = False) -> Evaluated | None:
            """The cheapest valid rig for one (model, count); for the fastest, each power limit on its
            own from full power down, so a limit is only taken when full power does not fit."""
            done.add(key)
            variants = sorted(groups[key], key=lambda g: -(g.power_limit_w or math.inf))
            batches = [[g] for g in variants] if full_power_first else [variants]
            for batch in batches:
                ev, fl = search.cheapest(batch, budget, max_checks=per_gpu_checks)
                remember(ev, fl)
                if ev is not None:
                    return ev
            return None

        def best(key) -> Evaluated:
            pool = [e for e in [*evaluated.values(), cheapest] if e.valid and e.score]
            return max(pool, key=key, default=cheapest)

        # 2. Fastest within the budget: (model, count) groups in order of estimated speed, until no group
        # left can beat the fastest rig found (estimates use a slower link than most rigs get: 5 % margin).
        by_speed = sorted(groups, key=lambda k: (-max(_gmean(g.est_speeds, g) for g in groups[k]), k))
        if cheapest.rig.gpu.power_limit_w:  # the cheapest took a power limit: is full power affordable too?
            key = (cheapest.rig.gpu.offer.slug, cheapest.rig.gpu.count)
            if key in groups:
                run_group(key, full_power_first=True)
        tried = 0
        for key in by_speed:
            if tried >= 10 or search.stats.checks >= request.max_checks:
                break
            est = max(_gmean(g.est_speeds, g) for g in groups[key])
            top = best(lambda e: e.score or 0.0)
            if top.score and est * 1.05 < top.score:
                break
            if key in done:
                continue
            tried += 1
            run_group(key, full_power_first=True)
        # 3. Best value: groups in order of estimated speed per GPU price.
        by_value = sorted(
            groups, key=lambda k: (-max(_gmean(g.est_speeds, g) / max(g.cost[1], 1.0) for g in groups[k]), k)
        )
        tried = 0
        for key in by_value:
            if tried >= 4 or search.stats.checks >= request.max_checks:
                break
            if key in done:
                continue
            tried += 1
            run_group(key)
        found["fastest"] = best(lambda e: (e.score or 0.0, -e.rig.cost[0], -e.rig.cost[1]))
        found["best_value"] = best(lambda e: (_value_of(e, request), e.score or 0.0))
    rigs = []
    labels_of: dict[int, set[str]] = {}
    for label in ("cheapest", "fastest", "best_value"):
        ev = found.get(label)
        if ev is None:
            continue
        labels_of.setdefault(id(ev), set()).add(label)
        rigs.append(rig_dict(search, ev, label))
    candidates = []
    for ev in evaluated.values():
        candidates.append(_candidate_point(ev, labels_of.get(id(ev), set())))
    for ev in found.values():
        if all(id(ev) != id(e) for e in evaluated.values()):
            candidates.append(_candidate_point(ev, labels_of.get(id(ev), set())))
    why_not = explain(search, gpus, found.get("cheapest"), evaluated)
    relax: list[dict] = []
    closest = None
    if not rigs:
        relax, closest, checks, considered = relaxations(request, catalogue)
        search.stats.checks += checks
        search.stats.considered += considered
    if any(r["price"]["unpriced_parts"] for r in rigs):
        notes.append(
            "Parts without a price in the catalogue count in unpriced_parts, not as zero: the budget is "
            "checked against the priced parts, and rigs whose parts all have prices are preferred."
        )
    if search.stats.truncated:
        notes.append(
            f"The search stopped at its limit of {request.max_checks} engine checks: a cheaper rig may exist."
        )
    return Result(
        rigs=rigs,
        considered=search.stats.considered,
        engine_checks=search.stats.checks,
        why_not=why_not,
        candidates=sorted(candidates, key=lambda c: (c["price"], c["label"])),
        relax=relax,
        closest=closest,
        notes=notes,
        context=search.context_data,
        elapsed_ms=round(1000 * (time.perf_counter() - t0), 1),
    )


def _gmean(speeds: Iterable[float | None], g: GpuCandidate | None = None) -> float:
    vals = [s for s in speeds if s]
    if not vals:
        return 0.0
    base = math.exp(sum(math.log(v) for v in vals) / len(vals))
    return base * (g.speed_kept if g is not None else 1.0)


def _value_of(ev: Evaluated, request: Request) -> float:
    if not ev.score:
        return 0.0
    if request.value_per == "watt":
        return ev.score / ev.wall_w if ev.wall_w else 0.0
    return ev.score / ev.rig.cost[1] if ev.rig.cost[1] > 0 else ev.score * 1e9


def explain(
    search: Search, gpus: list[GpuCandidate], chosen: Evaluated | None, evaluated: dict[tuple, Evaluated]
) -> list[str]:
    """Why the obvious cheaper options were rejected: every GPU choice (model x count) whose cards cost
    less than the recommended cheapest rig's, with the strongest reason the search or the engine gave."""
    out: list[str] = []
    chosen_cost = chosen.rig.gpu.cost if chosen else (10**9, math.inf)
    budget = search.req.budget
    seen: set = set()
    for g in sorted(gpus, key=lambda g: (g.cost, g.offer.slug, g.count)):
        key = (g.offer.slug, g.count)
        if key in seen or g.cost >= chosen_cost:
            continue
        if chosen is not None and key == (chosen.rig.gpu.offer.slug, chosen.rig.gpu.count):
            continue
        seen.add(key)
        reason = search.why.get(key)
        if reason is not None:
            out.append(reason[1].rstrip(".") + ".")
        elif budget is not None and g.cost[1] > budget:
            out.append(f"{g.count}x {g.offer.name}: the cards alone cost more than the budget.")
        else:
            than = "the one recommended" if chosen is not None else "the budget"
            out.append(
                f"{g.count}x {g.offer.name}: with the platform, PSUs and case they need, the rig costs more than "
                f"{than}."
            )
        if len(out) >= 8:
            break
    # Then the obvious alternatives within the budget that cost more than the cheapest: say which ones the
    # circuit rules out at any power limit (a necessary condition: no engine check needed).
    ctx = search.context
    cpu_w = min(
        ((c.spec.ppt_w or c.spec.tdp_w or CPU_FALLBACK_W) for c in search.offers("cpu")),
        default=CPU_FALLBACK_W,
    )
    extra = 0
    models: set[str] = {slug for slug, _ in seen}
    for g in sorted(gpus, key=lambda g: (g.cost, g.offer.slug, g.count)):
        key = (g.offer.slug, g.count)
        if key in seen or g.offer.slug in models or extra >= 5:
            continue  # the fewest cards of each model that hold the workloads: the obvious option
        if budget is not None and g.cost[1] > budget:
            continue
        models.add(g.offer.slug)
        if chosen is not None and key == (chosen.rig.gpu.offer.slug, chosen.rig.gpu.count):
            continue
        seen.add(key)
        reason = search.why.get(key)
        if reason is not None and reason[0] >= 2:
            out.append(reason[1].rstrip(".") + ".")
            extra += 1
            continue
        board = g.offer.spec.board_power_w or 0.0
        lowest = 5.0 * round(board * POWER_LIMIT_FRACTIONS[-1] / 5.0) * g.count
        if board and (lowest + cpu_w + BOARD_W) / MAX_EFFICIENCY > ctx.circuit_limit_w:
            out.append(
                f"{g.count}x {g.offer.name} would fit the memory but not your {ctx.circuit_volts:g} V / "
                f"{ctx.circuit_amps:g} A circuit ({ctx.circuit_limit_w:,.0f} W continuous) with any PSU in the "
                f"catalogue, even power-limited to {POWER_LIMIT_FRACTIONS[-1]:.0%}."
            )
            extra += 1
    rej = search.stats.rejections
    for key in ("memory", "target", "unpriced"):
        for text in rej.get(key, [])[:2]:
            if len(out) < 12:
                out.append(text + ".")
    return out


def relaxations(
    request: Request, catalogue: dict[str, list[Offer]]
) -> tuple[list[dict], dict | None, int, int]:
    """Nothing fits: try each constraint relaxed on its own and say which one gives a rig, and at what."""
    biggest = {"volts": 240, "amps": 30}
    tries: list[tuple[str, str, Request]] = []
    if request.budget is not None:
        tries.append(("budget", "raise the budget", replace(request, budget=None)))
    if request.circuit != biggest:
        tries.append(("circuit", "a dedicated 240 V / 30 A circuit", replace(request, circuit=biggest)))
    if request.max_gpus < 8:
        tries.append(("max_gpus", "accept up to 8 GPUs", replace(request, max_gpus=8)))
    if request.enclosure != "any":
        tries.append(("enclosure", "accept a case or an open frame", replace(request, enclosure="any")))
    if any(w.target_tokens_per_s or w.target_days for w in request.workloads):
        plain = tuple(replace(w, target_tokens_per_s=None, target_days=None) for w in request.workloads)
        tries.append(("workloads", "drop the speed targets", replace(request, workloads=plain)))
    if request.prices != "any":
        tries.append(("prices", "take new or used prices", None))
    out: list[dict] = []
    closest = None
    checks = considered = 0
    for field_name, text, relaxed in tries:
        if relaxed is None:
            continue
        s = Search(replace(relaxed, max_checks=max(20, request.max_checks // 4)), catalogue)
        ev, _ = s.cheapest(s.gpu_candidates(), relaxed.budget)
        checks += s.stats.checks
        considered += s.stats.considered
        if ev is None:
            continue
        d = rig_dict(s, ev, "closest")
        out.append(
            {
                "field": field_name,
                "relax": text,
                "price": d["price"],
                "summary": d["summary"],
            }
        )
        if closest is None or (field_name == "budget"):
            closest = d
    if not out and len(tries) > 1:
        # No single constraint is the blocker: relax them all together and name each one relaxed.
        combined = request
        for _, _, relaxed in tries:
            if relaxed is None:
                continue
            combined = replace(
                combined,
                budget=relaxed.budget if relaxed.budget != request.budget else combined.budget,
                circuit=relaxed.circuit if relaxed.circuit != request.circuit else combined.circuit,
                max_gpus=max(relaxed.max_gpus, combined.max_gpus),
                enclosure=relaxed.enclosure if relaxed.enclosure != request.enclosure else combined.enclosure,
                workloads=relaxed.workloads if relaxed.workloads != request.workloads else combined.workloads,
            )
        s = Search(replace(combined, max_checks=max(20, request.max_checks // 4)), catalogue)
        ev, _ = s.cheapest(s.gpu_candidates(), combined.budget)
        checks += s.stats.checks
        considered += s.stats.considered
        if ev is not None:
            d = rig_dict(s, ev, "closest")
            names = [f for f, _, r in tries if r is not None]
            out.append(
                {
                    "field": ", ".join(names),
                    "relax": "all of: " + "; ".join(t for _, t, r in tries if r is not None),
                    "price": d["price"],
                    "summary": d["summary"],
                }
            )
            closest = d
    if request.budget is not None and out:
        for item in out:
            if item["field"] == "budget":
                item["relax"] = f"raise the budget to {item['price']['amount']:,.0f} {request.currency}"
    return out, closest, checks, considered


__all__ = [
    "BLOCKING",
    "Offer",
    "RecommendError",
    "Request",
    "Result",
    "Search",
    "Workload",
    "estimate_workloads",
    "recommend",
]
