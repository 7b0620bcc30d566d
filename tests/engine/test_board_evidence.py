"""Board slot tables with evidence: estimated rows say so in the findings that rest on them, and boards
whose slot rows are unknown (firmware-derived tables) never yield a verdict that needs the rows."""

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.engine.specs import SpecError, spec_from_dict

from .factories import BOARD, CASE, GPU, codes, part, rig, run, with_

ROW_VERDICTS = {"GPU_SLOT_OBSTRUCTED", "GPU_SPACING_TIGHT"}


def _slots(evidence: str, **changes):
    return [dict(s, evidence=evidence, **changes) for s in BOARD["pcie_slots"]]


def _board(slots, **changes):
    return part("motherboard", with_(BOARD, pcie_slots=slots, **changes), "Board")


def _gpus(n, **spec):
    return part("gpu", with_(GPU, **spec), "GPU", quantity=n)


def test_evidence_kinds_are_validated():
    spec_from_dict("motherboard", with_(BOARD, pcie_slots=_slots("manual")))
    try:
        spec_from_dict("motherboard", with_(BOARD, pcie_slots=_slots("rumour")))
    except SpecError as exc:
        assert exc.field == "motherboard.pcie_slots[0].evidence"
    else:  # pragma: no cover
        raise AssertionError("an unknown evidence kind was accepted")


def test_finding_on_an_estimated_row_says_so():
    # Two 4-slot open-air cards in rows 1 and 5: no free slot between them.
    gpu = part("gpu", with_(GPU, slot_width=4), "GPU", quantity=2, slots=[1, 5])
    sure = run(rig(gpu=gpu, board=_board(_slots("manual")), gpus=0))
    guessed = run(rig(gpu=gpu, board=_board(_slots("estimated")), gpus=0))
    tight = [f for f in guessed.findings if f.code in {"GPU_SPACING_TIGHT"}]
    assert not [f for f in sure.findings if "estimated" in f.message]
    assert tight and all("Slot row 1 is estimated" in f.message for f in tight)


def test_chipset_finding_on_an_estimated_row_says_so():
    gpu = part("gpu", GPU, "GPU", quantity=1, slots=[7])
    r = run(rig(gpu=gpu, board=_board(_slots("estimated")), gpus=0))
    chipset = [f for f in r.findings if f.code == "GPU_ON_CHIPSET"]
    assert chipset and "Slot row 7 is estimated" in chipset[0].message
    lane = [x for x in r.lanes if x["kind"] == "gpu"][0]
    assert lane["estimated"] is True and lane["evidence"] == "estimated"


def test_estimated_sharing_rule_says_so():
    rules = [{"when": "M2_3", "target": 7, "effect": "disable", "evidence": "estimated"}]
    drive = part("storage", {"interface": "nvme", "pcie_gen": 4, "capacity_gb": 2000}, "NVMe", quantity=3)
    gpu = part("gpu", GPU, "GPU", quantity=1, slots=[7])
    r = run(rig(gpu=gpu, nvme=drive, board=_board(_slots("manual"), lane_rules=rules), gpus=0))
    sharing = [f for f in r.findings if f.code == "LANE_SHARING"]
    assert sharing and "sharing rule is estimated" in sharing[0].message


def test_firmware_board_reports_what_it_did_not_check():
    slots = _slots("firmware", row_known=False)
    r = run(rig(gpus=2, board=_board(slots, lane_rules=[])))
    assert "TOPOLOGY_FIRMWARE" in r.codes
    assert "TOPOLOGY_UNCURATED" not in r.codes
    assert any("rows are not known" in n for n in r.not_checked)
    # widths and sources are still checked: two cards on the CPU slots
    lanes = [x for x in r.lanes if x["kind"] == "gpu"]
    assert {x["source"] for x in lanes} == {"cpu"}


def test_curated_board_is_not_reported_as_firmware_derived():
    r = run(rig(gpus=2))
    assert "TOPOLOGY_FIRMWARE" not in r.codes


def test_firmware_board_chipset_slot_still_warns():
    slots = _slots("firmware", row_known=False)
    gpu = part("gpu", GPU, "GPU", quantity=1, slots=[7])
    assert "GPU_ON_CHIPSET" in codes(rig(gpu=gpu, gpus=0, board=_board(slots, lane_rules=[])))


# Any number of thick cards, in any user placement, on a board whose rows are unknown: the engine must
# never claim an obstruction, a tight gap or a case overhang, because it cannot know the rows.
_positions = st.lists(st.integers(1, 8), min_size=1, max_size=8, unique=True)


@settings(max_examples=60, deadline=None)
@given(
    rows=_positions,
    widths=st.lists(st.sampled_from([1, 4, 8, 16]), min_size=8, max_size=8),
    n_gpus=st.integers(1, 6),
    thickness=st.sampled_from([2, 2.5, 3, 3.5, 4]),
    cooler=st.sampled_from(["axial", "blower", "flow_through"]),
    case_rows=st.integers(2, 8),
    place=st.booleans(),
)
def test_firmware_board_never_yields_a_row_verdict(rows, widths, n_gpus, thickness, cooler, case_rows, place):
    slots = [
        {
            "position": p,
            "physical_width": 16,
            "electrical_width": widths[i],
            "gen": 4,
            "source": "cpu" if i == 0 else "chipset",
            "evidence": "firmware",
            "row_known": False,
        }
        for i, p in enumerate(rows)
    ]
    board = _board(slots, lane_rules=[], m2_sockets=[])
    placement = {}
    if place:
        placement["slots"] = [rows[i % len(rows)] for i in range(n_gpus)]
    gpu = part("gpu", with_(GPU, slot_width=thickness, cooler=cooler), "GPU", quantity=n_gpus, **placement)
    case = part("case", with_(CASE, expansion_slots=case_rows), "Case")
    r = run(rig(gpu=gpu, gpus=0, board=board, case=case))
    assert not r.codes & ROW_VERDICTS
    overhang = [f for f in r.findings if f.code == "SLOTS_EXHAUSTED" and "expansion slots" in f.message]
    assert not overhang
    assert "TOPOLOGY_FIRMWARE" in r.codes
    # the same table with known rows does claim row verdicts somewhere in this space (the near miss)
    if place and n_gpus >= 2 and len(rows) >= 2 and thickness >= 3:
        known = [dict(s, row_known=True, evidence="manual") for s in slots]
        stacked = sorted(rows)[:2]
        if stacked[1] - stacked[0] < thickness:
            g2 = part("gpu", with_(GPU, slot_width=thickness), "GPU", quantity=2, slots=stacked)
            r2 = run(rig(gpu=g2, gpus=0, board=_board(known, lane_rules=[], m2_sockets=[]), case=case))
            assert r2.codes & ROW_VERDICTS
