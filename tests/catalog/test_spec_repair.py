"""A curator's (or an import's) one bad value on a board makes only that value unknown: a lane rule naming a
socket the board lacks is left out, a slot's impossible generation becomes unknown; the board's other slots,
sockets and rules stay as curated (they once all went, and lane checks ran on an empty topology)."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.specs import repaired_spec
from tests.engine.factories import BOARD as BASE_BOARD
from tests.engine.factories import with_

# The engine tests' base board (two CPU slots, a chipset x1 and x4, three M.2 sockets, one lane rule), with a
# second, socket-driven rule.
BOARD = with_(
    BASE_BOARD, lane_rules=[*BASE_BOARD["lane_rules"], {"when": "M2_3", "target": 7, "effect": "disable"}]
)
RULES = [(r["when"], r["target"], r["effect"]) for r in BOARD["lane_rules"]]
POSITIONS = [slot["position"] for slot in BOARD["pcie_slots"]]
SOCKETS = [m["name"] for m in BOARD["m2_sockets"]]
BAD_RULES = [
    {"when": "M2_9", "target": 1, "effect": "disable"},  # a socket the board lacks
    {"when": 5, "target": 12, "effect": "disable"},  # a slot the board lacks
    {"when": 5, "target": 1, "effect": "explode"},
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(BAD_RULES), st.integers(0, 2))
def test_one_bad_lane_rule_leaves_the_others(bad, where):
    data = copy.deepcopy(BOARD)
    data["lane_rules"].insert(where, bad)
    spec = repaired_spec("motherboard", data)
    assert [(r.when, r.target, r.effect) for r in spec.lane_rules] == RULES
    assert [s.position for s in spec.pcie_slots] == POSITIONS
    assert [m.name for m in spec.m2_sockets] == SOCKETS


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 3), st.sampled_from([("gen", 99), ("electrical_width", 3), ("source", "sideways")]))
def test_one_bad_slot_field_becomes_unknown_and_the_slot_stays(index, bad):
    key, value = bad
    data = copy.deepcopy(BOARD)
    data["pcie_slots"][index][key] = value
    spec = repaired_spec("motherboard", data)
    assert [s.position for s in spec.pcie_slots] == POSITIONS
    assert getattr(spec.pcie_slots[index], key) is None
    assert len(spec.lane_rules) == len(RULES) and spec.socket == "AM5"
