import pytest

from .factories import BOARD, CASE, COOLER, FAN, GPU, codes, part, rig, run, with_

SLOTS_1_4 = [
    {"position": 1, "physical_width": 16, "electrical_width": 8, "gen": 4, "source": "cpu"},
    {"position": 4, "physical_width": 16, "electrical_width": 8, "gen": 4, "source": "cpu"},
]
SLOTS_1_5 = [SLOTS_1_4[0], {**SLOTS_1_4[1], "position": 5}]


def _board(slots):
    return part("motherboard", with_(BOARD, pcie_slots=slots, lane_rules=None), "Board")


def _gpus(cooler="axial", n=2):
    return part("gpu", with_(GPU, cooler=cooler), "GPU", quantity=n)


def test_spacing_tight_for_open_air_cards():
    r = run(rig(board=_board(SLOTS_1_4), gpu=_gpus("axial")))
    (f,) = r.find("GPU_SPACING_TIGHT")
    assert "leaves 0 free slot" in f.message
    gaps = [g["gap_slots"] for g in r.thermal["gpus"]]
    assert gaps[0] == 0
    assert "GPU_SLOT_OBSTRUCTED" not in r.codes


@pytest.mark.parametrize("cooler", ["blower", "waterblock", "hybrid"])
def test_dense_cards_that_may_sit_together(cooler):
    assert "GPU_SPACING_TIGHT" not in codes(rig(board=_board(SLOTS_1_4), gpu=_gpus(cooler)))


def test_one_free_slot_is_enough():
    r = run(rig(board=_board(SLOTS_1_5), gpu=_gpus("flow_through")))
    assert "GPU_SPACING_TIGHT" not in r.codes
    assert r.thermal["gpus"][0]["gap_slots"] == 1


def test_case_air_rise_formula_and_warning():
    r = run(rig(fan=part("fan", FAN, "Fan", quantity=2)))
    t = r.thermal
    assert t["airflow_cfm"] == pytest.approx(70)  # half of 2 x 70 CFM
    assert t["case_air_rise_c"] == pytest.approx(1.76 * t["heat_into_case_w"] / 70, abs=0.1)
    (f,) = r.find("CASE_AIRFLOW_LOW")
    assert "1.76 x W / CFM" in f.message
    assert "CASE_AIRFLOW_LOW" not in codes(rig())  # six fans
    open_frame = part("case", with_(CASE, open_frame=True), "Frame")
    r = run(rig(fan=part("fan", FAN, "Fan", quantity=2), case=open_frame))
    assert "CASE_AIRFLOW_LOW" not in r.codes and r.thermal["case_air_rise_c"] is None


def test_blower_heat_mostly_leaves_the_case():
    axial = run(rig(gpu=_gpus("axial", 1))).thermal["heat_into_case_w"]
    blower = run(rig(gpu=_gpus("blower", 1))).thermal["heat_into_case_w"]
    assert blower < axial


def test_no_fans_means_airflow_not_checked():
    r = run(rig(fan=None))
    assert r.thermal["case_air_rise_c"] is None
    assert any("airflow" in s for s in r.not_checked)


def test_cooler_underrated():
    weak = part("cooler", with_(COOLER, rated_w=200), "Weak cooler")
    r = run(rig(cooler=weak))
    (f,) = r.find("COOLER_UNDERRATED")
    assert "200 W" in f.message and "230 W" in f.message
    assert "COOLER_UNDERRATED" not in codes(rig())
