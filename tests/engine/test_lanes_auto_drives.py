"""Automatic GPU placement knows which M.2 sockets the build's drives will need: it does not put a card in a
slot that a needed socket switches off (found on the ASRock B450 Steel Legend: M2_1 disables PCIE4, and with
two drives in its two sockets a card placed in PCIE4 was reported "disabled, will not be detected" while free
x1 slots were left)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from .factories import BOARD, GPU, NVME, part, rig, run, with_

B450_LIKE = with_(
    BOARD,
    pcie_slots=[
        {"position": 1, "physical_width": 16, "electrical_width": 16, "gen": 3, "source": "cpu"},
        {"position": 2, "physical_width": 1, "electrical_width": 1, "gen": 2, "source": "chipset"},
        {"position": 3, "physical_width": 1, "electrical_width": 1, "gen": 2, "source": "chipset"},
        {"position": 4, "physical_width": 16, "electrical_width": 4, "gen": 3, "source": "cpu"},
        {"position": 5, "physical_width": 1, "electrical_width": 1, "gen": 2, "source": "chipset"},
        {"position": 6, "physical_width": 1, "electrical_width": 1, "gen": 2, "source": "chipset"},
    ],
    m2_sockets=[
        {"name": "M2_1", "gen": 3, "lanes": 4, "source": "cpu"},
        {"name": "M2_2", "gen": 3, "lanes": 2, "source": "chipset"},
    ],
    lane_rules=[{"when": "M2_1", "target": 4, "effect": "disable"}],
)


def placed(cards: int, drives: int):
    gpu = part("gpu", GPU, "GPU", quantity=cards, riser=True, riser_width=1)
    board = part("motherboard", B450_LIKE, "Board")
    nvme = part("storage", NVME, "SSD", quantity=drives) if drives else None
    report = run(rig(gpu=gpu, board=board, nvme=nvme))
    return report, {lane["slot"] for lane in report.lanes if isinstance(lane["slot"], int)}


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2))
def test_no_card_goes_where_a_needed_socket_switches_it_off(cards, drives):
    report, slots = placed(cards, drives)
    disabled = [f for f in report.findings if f.code == "LANE_SHARING" and "disables slot 4" in f.message]
    if drives == 2:
        assert 4 not in slots or cards > 5  # five free slots besides PCIE4 take up to five cards
        assert not disabled
    assert len(slots) == cards


def test_with_one_drive_the_drive_takes_the_harmless_socket():
    report, slots = placed(5, 1)
    assert 4 in slots  # M2_2 takes the drive; PCIE4 stays usable
    assert not [f for f in report.findings if f.code == "LANE_SHARING" and "slot 4" in f.message]
