import pytest

from catalog.engine.lanes import GBPS_PER_LANE, link_gbps

from .factories import BOARD, CASE, CPU, GPU, NVME, codes, part, rig, run, with_


def _gpu(**kw):
    qty = kw.pop("quantity", 1)
    spec = with_(GPU, **kw.pop("spec", {}))
    return part("gpu", spec, "GPU", quantity=qty, **kw)


def _board(**changes):
    return part("motherboard", with_(BOARD, **changes), "Board")


def _lane(report, unit=0):
    return [x for x in report.lanes if x["kind"] == "gpu"][unit]


def test_gbps_per_lane_follows_encoding():
    assert GBPS_PER_LANE[3] == pytest.approx(8 * 128 / 130 / 8, rel=1e-3)
    assert GBPS_PER_LANE[4] == pytest.approx(16 * 128 / 130 / 8, rel=1e-3)
    assert GBPS_PER_LANE[5] == pytest.approx(32 * 128 / 130 / 8, rel=1e-3)
    assert link_gbps(16, 4) == pytest.approx(31.5, abs=0.01)
    assert link_gbps(0, 4) is None and link_gbps(4, None) is None


def test_auto_placement_two_gpus_x8_x8_on_cpu_slots():
    r = run(rig(gpus=2))
    a, b = _lane(r, 0), _lane(r, 1)
    assert (a["slot"], b["slot"]) == (1, 5)
    assert (a["width"], b["width"]) == (8, 8)
    assert a["gen"] == 4  # min(GPU gen 4, slot gen 5, CPU gen 5)
    assert a["gbps"] == pytest.approx(8 * 1.969, abs=0.01)
    assert all(p["auto"] for p in r.placement)
    # a GPU-GPU x8/x8 split is expected: no warning about it
    assert not r.codes & {"LANE_SHARING", "GPU_LINK_DEGRADED", "GPU_ON_CHIPSET", "CPU_LANES_EXCEEDED"}


def test_single_gpu_gets_x16():
    r = run(rig())
    assert _lane(r)["width"] == 16 and _lane(r)["source"] == "cpu"


def test_user_placement_on_chipset_slot_degrades_link():
    r = run(rig(gpu=_gpu(quantity=2, slots=[1, 7])))
    assert [(x["slot"], x["width"]) for x in r.lanes if x["kind"] == "gpu"] == [(1, 16), (7, 4)]
    assert {"GPU_LINK_DEGRADED", "GPU_ON_CHIPSET"} <= r.codes
    (f,) = r.find("GPU_ON_CHIPSET")
    assert "7.9 GB/s uplink" in f.message
    assert all(not p["auto"] for p in r.placement if p["kind"] == "gpu")
    near = run(rig(gpu=_gpu(quantity=2, slots=[1, 5])))
    assert not near.codes & {"GPU_LINK_DEGRADED", "GPU_ON_CHIPSET"}


def test_x16_plus_x2_trap():
    slots = [
        {"position": 1, "physical_width": 16, "electrical_width": 16, "gen": 4, "source": "cpu"},
        {"position": 5, "physical_width": 16, "electrical_width": 2, "gen": 3, "source": "chipset"},
    ]
    r = run(rig(gpus=2, board=_board(pcie_slots=slots, lane_rules=None)))
    (f,) = r.find("GPU_LINK_DEGRADED")
    assert "2 lanes" in f.message and "PCIe 3.0 x2" in f.message


def test_x1_extender_is_its_own_code():
    r = run(rig(gpu=_gpu(riser_width=1)))
    assert "GPU_LINK_X1" in r.codes and "GPU_LINK_DEGRADED" not in r.codes
    assert _lane(r)["width"] == 1 and _lane(r)["riser"] is True
    assert "GPU_LINK_X1" not in codes(rig(gpu=_gpu(riser=True)))


def test_m2_drive_that_narrows_a_gpu_slot_is_lane_sharing():
    rules = [
        {"when": 5, "target": 1, "effect": "width", "width": 8},
        {"when": "M2_2", "target": 1, "effect": "width", "width": 8},
    ]
    board = _board(lane_rules=rules)
    # two drives: the careful placement uses M2_1 and the chipset M2_3, keeping the GPU at x16
    r = run(rig(board=board, nvme=part("storage", NVME, "SSD", quantity=2)))
    assert "LANE_SHARING" not in r.codes
    assert {p["slot"] for p in r.placement if p["kind"] == "m2"} == {"M2_1", "M2_3"}
    assert _lane(r)["width"] == 16
    r = run(rig(board=board, nvme=part("storage", NVME, "SSD", quantity=3)))
    (f,) = r.find("LANE_SHARING")
    assert "x16 to x8" in f.message
    assert _lane(r)["width"] == 8


def test_disable_rule_on_a_populated_slot():
    board = _board(lane_rules=[{"when": "M2_3", "target": 7, "effect": "disable"}])
    r = run(rig(board=board, gpu=_gpu(slots=[7]), nvme=part("storage", NVME, "SSD", quantity=3)))
    (f,) = r.find("LANE_SHARING")
    assert "disables slot 7" in f.message
    r = run(rig(board=board, gpu=_gpu(slots=[7]), nvme=part("storage", NVME, "SSD", quantity=2)))
    assert "LANE_SHARING" not in r.codes


def test_cpu_lanes_exceeded():
    cpu20 = part("cpu", with_(CPU, cpu_lanes=20), "CPU20")
    r = run(rig(cpu=cpu20, nvme=part("storage", NVME, "SSD", quantity=2)))  # x16 + x4 + x4 on CPU
    (f,) = r.find("CPU_LANES_EXCEEDED")
    assert "24 lanes" in f.message and "20 usable" in f.message
    assert "CPU_LANES_EXCEEDED" not in codes(rig(cpu=cpu20))  # x16 + x4


def test_bifurcation_supported_unsupported_unverified():
    four = run(rig(gpu=_gpu(quantity=4, slots=[1, 1, 1, 1])))
    assert "BIFURCATION_UNSUPPORTED" not in four.codes
    assert [x["width"] for x in four.lanes if x["kind"] == "gpu"] == [4, 4, 4, 4]
    assert all(x["riser"] for x in four.lanes if x["kind"] == "gpu")
    assert "GPU_SLOT_OBSTRUCTED" not in four.codes
    two = run(rig(gpu=_gpu(quantity=2, slots=[1, 1])))
    assert not two.codes & {"BIFURCATION_UNSUPPORTED", "BIFURCATION_UNVERIFIED"}
    assert [x["width"] for x in two.lanes if x["kind"] == "gpu"] == [8, 8]
    slots = [dict(s) for s in BOARD["pcie_slots"]]
    slots[0]["bifurcation"] = ["x8x8"]
    r = run(rig(board=_board(pcie_slots=slots), gpu=_gpu(quantity=3, slots=[1, 1, 1])))
    (f,) = r.find("BIFURCATION_UNSUPPORTED")
    assert "x8x8" in f.message
    slots[0]["bifurcation"] = []
    assert "BIFURCATION_UNSUPPORTED" in codes(
        rig(board=_board(pcie_slots=slots), gpu=_gpu(quantity=2, slots=[1, 1]))
    )
    del slots[0]["bifurcation"]
    r = run(rig(board=_board(pcie_slots=slots), gpu=_gpu(quantity=2, slots=[1, 1])))
    assert "BIFURCATION_UNVERIFIED" in r.codes and "BIFURCATION_UNSUPPORTED" not in r.codes


def test_riser_gen_limit():
    riser3 = part("riser", {"pcie_gen": 3, "width": 16, "length_mm": 200}, "Gen3 riser")
    r = run(rig(gpu=_gpu(riser=True), extra=(riser3,)))
    (f,) = r.find("RISER_GEN_LIMIT")
    assert "PCIe 3.0" in f.message and "PCIe 4.0" in f.message
    assert _lane(r)["gen"] == 3
    riser4 = part("riser", {"pcie_gen": 4, "width": 16}, "Gen4 riser")
    assert "RISER_GEN_LIMIT" not in codes(rig(gpu=_gpu(riser=True), extra=(riser4,)))


def test_uncurated_board_is_read_conservatively():
    r = run(rig(gpus=2, board=_board(pcie_slots=None, m2_sockets=None, lane_rules=None)))
    assert "TOPOLOGY_UNCURATED" in r.codes
    assert [x["width"] for x in r.lanes if x["kind"] == "gpu"] == [16, 4]
    assert all(x["estimated"] for x in r.lanes if x["kind"] == "gpu")
    assert "TOPOLOGY_UNCURATED" not in codes(rig(gpus=2))
    workstation = part("cpu", with_(CPU, cpu_lanes=128), "TR")
    r = run(rig(gpus=2, cpu=workstation, board=_board(pcie_slots=None, lane_rules=None)))
    assert [x["width"] for x in r.lanes if x["kind"] == "gpu"] == [16, 16]


def test_slots_exhausted():
    one_slot = _board(
        pcie_slots=[{"position": 1, "physical_width": 16, "electrical_width": 16, "gen": 5, "source": "cpu"}],
        lane_rules=None,
    )
    r = run(rig(gpus=2, board=one_slot))
    (f,) = r.find("SLOTS_EXHAUSTED")
    assert "only 1 could be placed" in f.message
    assert "SLOTS_EXHAUSTED" not in codes(rig(gpus=1, board=one_slot))


def test_card_hanging_past_the_case_slots():
    r = run(rig(gpu=_gpu(slots=[7]), case=part("case", with_(CASE, expansion_slots=8))))
    assert "SLOTS_EXHAUSTED" in r.codes  # a 3-slot card in row 7 needs rows 7-9
    assert "SLOTS_EXHAUSTED" not in codes(rig(gpu=_gpu(slots=[5])))


ADJACENT = [
    {"position": 1, "physical_width": 16, "electrical_width": 16, "gen": 4, "source": "cpu"},
    {"position": 3, "physical_width": 16, "electrical_width": 8, "gen": 4, "source": "cpu"},
]


def test_obstruction_by_thickness_and_the_riser_plug():
    board = _board(pcie_slots=ADJACENT, lane_rules=None)
    r = run(rig(board=board, gpu=_gpu(quantity=2, slots=[1, 3])))
    (f,) = r.find("GPU_SLOT_OBSTRUCTED")
    assert "3 slots thick" in f.message
    # a 3-slot card covers row 3 completely: even a riser plug does not fit
    on_riser = _gpu(slots=[3], riser=True, id="b")
    assert "GPU_SLOT_OBSTRUCTED" in codes(rig(board=board, gpu=_gpu(slots=[1], id="a"), extra=(on_riser,)))
    # a 2.5-slot card leaves half of row 3: a riser plug fits, a card does not
    thin = {"slot_width": 2.5}
    assert "GPU_SLOT_OBSTRUCTED" in codes(rig(board=board, gpu=_gpu(quantity=2, slots=[1, 3], spec=thin)))
    first = _gpu(slots=[1], spec=thin, id="a")
    second = _gpu(slots=[3], spec=thin, riser=True, id="b")
    assert "GPU_SLOT_OBSTRUCTED" not in codes(rig(board=board, gpu=first, extra=(second,)))


def test_auto_placement_avoids_obstruction_when_it_can():
    slots = [
        *ADJACENT,
        {"position": 5, "physical_width": 16, "electrical_width": 8, "gen": 4, "source": "cpu"},
    ]
    r = run(rig(gpus=2, board=_board(pcie_slots=slots, lane_rules=None)))
    assert [x["slot"] for x in r.lanes if x["kind"] == "gpu"] == [1, 5]
    assert "GPU_SLOT_OBSTRUCTED" not in r.codes


def test_auto_placement_without_room_reports_obstruction():
    r = run(rig(gpus=2, board=_board(pcie_slots=ADJACENT, lane_rules=None)))
    assert "GPU_SLOT_OBSTRUCTED" in r.codes


def test_lane_map_lists_nvme_drives():
    r = run(rig())
    (d,) = [x for x in r.lanes if x["kind"] == "nvme"]
    assert d["slot"] == "M2_1" and d["width"] == 4 and d["gen"] == 4 and d["source"] == "cpu"


def test_card_in_an_x1_slot_needs_an_extender():
    r = run(rig(gpu=_gpu(slots=[2])))
    (f,) = r.find("SLOTS_EXHAUSTED")
    assert "physical x1 slot" in f.message
    assert "SLOTS_EXHAUSTED" not in codes(rig(gpu=_gpu(slots=[2], riser_width=1)))


def test_slot_that_is_not_on_the_board():
    r = run(rig(gpu=_gpu(slots=[9])))
    (f,) = r.find("SLOTS_EXHAUSTED")
    assert "slot 9" in f.message and "1, 2, 5, 7" in f.message
