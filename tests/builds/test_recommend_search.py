"""builds.recommend on a small synthetic catalogue: every recommended rig passes the engine, the cheapest is
the cheapest valid rig of the search space (brute force), owned parts are always in the rig and cost nothing,
nothing exceeds the budget, and nothing-fits answers say what to relax. No database."""

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builds import recommend as R
from catalog.engine import specs as S
from catalog.engine.checks import check
from catalog.engine.report import Severity

pytestmark = pytest.mark.engine_only


def offer(slug, category, spec, price):
    return R.Offer(
        slug, slug, category, S.spec_from_dict(category, spec), price, "new" if price else None, price
    )


SLOT = {"physical_width": 16, "electrical_width": 16, "gen": 4, "source": "cpu", "evidence": "manual"}
CATALOGUE = {
    "gpu": [
        offer(
            "g24",
            "gpu",
            {
                "vram_gb": 24,
                "memory_bandwidth_gbps": 936,
                "bf16_tflops": 71,
                "board_power_w": 350,
                "slot_width": 3,
                "length_mm": 313,
                "cooler": "flow_through",
                "pcie_gen": 4,
                "pcie_lanes": 16,
                "power_8pin": 2,
                "power_12v2x6": 0,
            },
            700,
        ),
        offer(
            "g16",
            "gpu",
            {
                "vram_gb": 16,
                "memory_bandwidth_gbps": 448,
                "bf16_tflops": 40,
                "board_power_w": 180,
                "slot_width": 2,
                "length_mm": 240,
                "cooler": "axial",
                "pcie_gen": 4,
                "pcie_lanes": 16,
                "power_8pin": 1,
                "power_12v2x6": 0,
            },
            400,
        ),
    ],
    "cpu": [
        offer(
            "c8",
            "cpu",
            {
                "socket": "AM4",
                "tdp_w": 65,
                "ppt_w": 88,
                "pcie_gen": 4,
                "cpu_lanes": 20,
                "memory_type": "DDR4",
                "max_memory_gb": 128,
            },
            150,
        ),
        offer(
            "c16",
            "cpu",
            {
                "socket": "AM4",
                "tdp_w": 105,
                "ppt_w": 142,
                "pcie_gen": 4,
                "cpu_lanes": 20,
                "memory_type": "DDR4",
                "max_memory_gb": 128,
            },
            300,
        ),
    ],
    "motherboard": [
        offer(
            "b-one",
            "motherboard",
            {
                "socket": "AM4",
                "form_factor": "ATX",
                "memory_type": "DDR4",
                "memory_slots": 4,
                "max_memory_gb": 128,
                "pcie_slots": [{"position": 1, **SLOT}],
                "m2_sockets": [{"name": "M2_1", "gen": 4, "lanes": 4, "source": "cpu"}],
            },
            90,
        ),
        offer(
            "b-two",
            "motherboard",
            {
                "socket": "AM4",
                "form_factor": "ATX",
                "memory_type": "DDR4",
                "memory_slots": 4,
                "max_memory_gb": 128,
                "pcie_slots": [
                    {"position": 1, **SLOT, "electrical_width": 8},
                    {"position": 4, **SLOT, "electrical_width": 8},
                ],
                "m2_sockets": [{"name": "M2_1", "gen": 4, "lanes": 4, "source": "cpu"}],
            },
            200,
        ),
    ],
    "memory": [
        offer("m32", "memory", {"memory_type": "DDR4", "modules": 2, "module_gb": 16}, 60),
        offer("m64", "memory", {"memory_type": "DDR4", "modules": 2, "module_gb": 32}, 110),
    ],
    "storage": [
        offer(
            "nv2",
            "storage",
            {"interface": "nvme", "capacity_gb": 2000, "form_factor": "m2", "pcie_gen": 4},
            120,
        ),
        offer(
            "nv4",
            "storage",
            {"interface": "nvme", "capacity_gb": 4000, "form_factor": "m2", "pcie_gen": 4},
            230,
        ),
    ],
    "psu": [
        offer(
            "p850",
            "psu",
            {"wattage_w": 850, "efficiency": "gold", "atx3": True, "power_8pin": 4, "power_12v2x6": 0},
            110,
        ),
        offer(
            "p1600",
            "psu",
            {"wattage_w": 1600, "efficiency": "platinum", "atx3": False, "power_8pin": 8, "power_12v2x6": 0},
            350,
        ),
    ],
    "case": [
        offer(
            "tower",
            "case",
            {
                "form_factors": ["ATX"],
                "max_gpu_length_mm": 330,
                "max_cooler_height_mm": 170,
                "expansion_slots": 7,
                "open_frame": False,
                "included_fans": 3,
            },
            100,
        ),
        offer("frame", "case", {"open_frame": True}, 40),
    ],
    "cooler": [
        offer("tall", "cooler", {"cooler_type": "air", "height_mm": 175, "sockets": ["AM4"]}, 30),
        offer("short", "cooler", {"cooler_type": "air", "height_mm": 150, "sockets": ["AM4"]}, 45),
    ],
    "riser": [offer("riser", "riser", {"pcie_gen": 4, "width": 16, "kind": "cable"}, 20)],
}
INFER_8B = {"model": "llama-3.1-8b", "method": "inference", "precision": "bf16", "seq_len": 4096}


def request(**kw):
    kw.setdefault("workloads", (R.Workload(INFER_8B, "8B bf16"),))
    kw.setdefault("max_gpus", 2)
    return R.Request(**kw)


def engine_rig(parts):
    out = []
    for i, (o, q, place) in enumerate(parts):
        out.append(
            S.Part(
                f"{o.slug}#{i}",
                o.name,
                o.category,
                o.spec,
                quantity=q,
                riser=place.get("riser"),
                power_limit_w=place.get("power_limit_w"),
                price=o.engine_price,
            )
        )
    return S.Rig(tuple(out))


def valid(req, parts):
    context = S.parse_context(
        {"circuit": req.circuit, "currency": req.currency, "workloads": [w.request for w in req.workloads]}
    )
    report = check(engine_rig(parts), context)
    if any(f.severity is Severity.ERROR or f.code in R.BLOCKING for f in report.findings):
        return False
    kept = min((g["speed_kept"] for g in report.power["gpus"]), default=1.0)
    for w, row in zip(req.workloads, report.workloads, strict=True):
        if row["verdict"] not in R.FITTING:
            return False
        speed = (row.get("speed") or {}).get("expected")
        if speed is not None and w.request.get("method") != "inference":
            speed *= kept
        if w.target_tokens_per_s and (speed is None or speed < w.target_tokens_per_s):
            return False
        if w.target_days and (not speed or w.train_tokens / speed / 86400 > w.target_days):
            return False
    return True


def brute_force(req, below):
    """Every rig of the search space (one GPU model x count x power limit, CPU, board, RAM kit x copies, one
    >= 2 TB NVMe drive, PSU model x count (up to one per GPU plus one), case or frame, cooler; riser cables:
    in a case none or the last card, on a frame none or all) that costs less than ``below``: the valid ones."""
    owned = dict(req.owned)
    c = CATALOGUE

    def cost(o, q):
        buy = max(0, q - owned.get(o.slug, 0))
        return 0.0 if buy == 0 else o.price * buy

    def restrict(cat):
        mine = [o for o in c[cat] if o.slug in owned]
        return mine or c[cat]

    found = []
    gpus = []
    for g in restrict("gpu"):
        for n in range(max(1, owned.get(g.slug, 0)), req.max_gpus + 1):
            for frac in (None, *R.POWER_LIMIT_FRACTIONS):
                limit = None if frac is None else 5.0 * round(g.spec.board_power_w * frac / 5.0)
                gpus.append((g, n, limit))
    for (g, n, limit), cpu, board, kit, kq, drive, psu, pq, case, cooler in itertools.product(
        gpus,
        restrict("cpu"),
        restrict("motherboard"),
        restrict("memory"),
        range(1, 3),
        restrict("storage"),
        restrict("psu"),
        range(1, 5),
        restrict("case"),
        restrict("cooler"),
    ):
        if kq < owned.get(kit.slug, 0) or pq < owned.get(psu.slug, 0) or pq > n + 1:
            continue
        frame = case.spec.open_frame is True
        if req.enclosure == "case" and frame or req.enclosure == "open_frame" and not frame:
            continue
        riser_counts = (0, n) if frame else ((0, 1) if n >= 2 else (0,))
        for risers in riser_counts:
            lines = [(cpu, 1), (board, 1), (kit, kq), (drive, 1), (psu, pq), (case, 1), (cooler, 1)]
            total = cost(g, n) + sum(cost(o, q) for o, q in lines)
            riser_lines = []
            if risers:
                total += cost(c["riser"][0], risers)
                riser_lines = [(c["riser"][0], risers, {})]
            if total >= below - 1e-6 or (req.budget is not None and total > req.budget + 1e-6):
                continue
            place = {"power_limit_w": limit} if limit else {}
            gpu_lines = []
            if n - risers:
                gpu_lines.append((g, n - risers, place))
            if risers:
                gpu_lines.append((g, risers, {**place, "riser": True}))
            parts = [*gpu_lines, *((o, q, {}) for o, q in lines), *riser_lines]
            if valid(req, parts):
                found.append((total, [(o.slug, q) for o, q, _ in parts]))
    return found


def cheapest(result):
    return next((r for r in result.rigs if r["label"] == "cheapest"), None)


def assert_guarantees(req, result):
    for rig in result.rigs:
        assert not [f for f in rig["findings"] if f["severity"] == "error"], rig["findings"]
        assert not [f for f in rig["findings"] if f["code"] in R.BLOCKING]
        if req.budget is not None:
            assert rig["price"]["amount"] <= req.budget + 1e-6
        slugs: dict[str, int] = {}
        for p in rig["parts"]:
            slugs[p["slug"]] = slugs.get(p["slug"], 0) + p["quantity"]
        for slug, qty in req.owned:
            assert slugs.get(slug, 0) >= qty, (slug, rig["parts"])
        # owned units cost nothing; every other unit its price
        paid = sum((p["quantity"] - p["owned"]) * p["unit_price"] for p in rig["parts"] if p["unit_price"])
        assert rig["price"]["amount"] == pytest.approx(paid)
        assert sum(p["owned"] for p in rig["parts"]) == sum(min(q, slugs.get(s, 0)) for s, q in req.owned)
    if not result.rigs:
        assert result.relax or result.why_not


def test_recommended_cheapest_is_the_cheapest_valid_rig():
    req = request(budget=3000)
    result = R.recommend(req, CATALOGUE)
    rig = cheapest(result)
    assert rig is not None
    assert_guarantees(req, result)
    cheaper = brute_force(req, rig["price"]["amount"])
    assert cheaper == [], cheaper[:3]
    # and the brute force does find it (the search space is the same)
    assert brute_force(req, rig["price"]["amount"] + 0.01)


def test_circuit_rules_out_full_power_and_says_why():
    # 2x g24 (350 W) on a 120 V / 6 A circuit (576 W continuous): only power-limited or single cards
    req = request(
        circuit={"volts": 120, "amps": 6},
        max_gpus=2,
        workloads=(R.Workload({**INFER_8B, "model": "llama-2-13b"}, "13B bf16"),),
    )
    result = R.recommend(req, CATALOGUE)
    assert_guarantees(req, result)
    for rig in result.rigs:
        assert rig["wall_w"] <= 120 * 6 * 0.8


def test_owned_gpu_is_in_every_rig_and_costs_nothing():
    req = request(owned=(("g16", 1),), budget=2000)
    result = R.recommend(req, CATALOGUE)
    assert result.rigs
    assert_guarantees(req, result)
    for rig in result.rigs:
        gpu = next(p for p in rig["parts"] if p["category"] == "gpu")
        assert gpu["slug"] == "g16" and gpu["owned"] == 1
    rig = cheapest(result)
    assert brute_force(req, rig["price"]["amount"]) == []


def test_nothing_fits_says_what_to_relax():
    req = request(budget=500)  # the cheapest valid rig costs more
    result = R.recommend(req, CATALOGUE)
    assert result.rigs == []
    fields = {r["field"] for r in result.relax}
    assert "budget" in fields
    budget = next(r for r in result.relax if r["field"] == "budget")
    assert budget["price"]["amount"] > 500
    assert result.closest is not None


def test_speed_target_too_high_relaxes_the_target():
    w = R.Workload(INFER_8B, "8B bf16", target_tokens_per_s=10_000)
    result = R.recommend(request(workloads=(w,)), CATALOGUE)
    assert result.rigs == []
    assert "workloads" in {r["field"] for r in result.relax}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    budget=st.one_of(st.none(), st.integers(min_value=800, max_value=4000)),
    circuit=st.sampled_from(["120v-15a", "230v-10a", {"volts": 120, "amps": 8}]),
    owned=st.sampled_from([(), (("g24", 1),), (("p1600", 1),), (("m64", 1),)]),
    enclosure=st.sampled_from(["any", "case", "open_frame"]),
)
def test_property_cheapest_matches_brute_force(budget, circuit, owned, enclosure):
    req = request(budget=budget, circuit=circuit, owned=owned, enclosure=enclosure)
    result = R.recommend(req, CATALOGUE)
    assert_guarantees(req, result)
    rig = cheapest(result)
    if rig is None:
        assert brute_force(req, math.inf) == []
    else:
        assert rig["price"]["unpriced_parts"] == 0
        assert brute_force(req, rig["price"]["amount"]) == []


def test_best_value_per_watt_is_the_best_ratio_among_valid_rigs():
    req = request(budget=4000, value_per="watt")
    result = R.recommend(req, CATALOGUE)
    value = next(r for r in result.rigs if r["label"] == "best_value")
    assert value["value_per"] == "watt"
    assert value["value"] == pytest.approx(value["speed"] / value["wall_w"], rel=1e-3)
    fastest = next(r for r in result.rigs if r["label"] == "fastest")
    assert fastest["speed"] >= max(r["speed"] for r in result.rigs)
    for point in result.candidates:
        if point["valid"] and point["speed"]:
            assert point["price"] <= 4000


def test_estimator_adapter_is_the_engines_workload_table():
    g24 = CATALOGUE["gpu"][0].spec
    rows = R.estimate_workloads(g24, 1, (INFER_8B,))
    assert rows[0]["verdict"] == "fits" and rows[0]["speed"]["expected"] > 0
    rows_16 = R.estimate_workloads(CATALOGUE["gpu"][1].spec, 1, (INFER_8B,))
    assert rows_16[0]["verdict"] == "does_not_fit"  # 16 GB of bf16 weights on a 16 GB card


def test_training_days_target_is_met_by_the_cheapest_valid_rig():
    lora = {"model": "llama-3.1-8b", "method": "lora", "precision": "bf16", "seq_len": 2048}
    one = R.estimate_workloads(CATALOGUE["gpu"][0].spec, 1, (lora,))[0]["speed"]["expected"]
    tokens = one * 86400 * 3  # three days on one g24 at full power
    w = R.Workload(lora, "8B LoRA", target_days=2.0, train_tokens=tokens)
    req = request(workloads=(w,), budget=5000)
    result = R.recommend(req, CATALOGUE)
    assert_guarantees(req, result)
    rig = cheapest(result)
    assert rig is not None and rig["workloads"][0]["days"] <= 2.0
    assert sum(p["quantity"] for p in rig["parts"] if p["category"] == "gpu") >= 2
    assert brute_force(req, rig["price"]["amount"]) == []
