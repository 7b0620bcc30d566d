"""A curator's (or an import's) one bad value on a board makes only that value unknown: a lane rule naming a
socket the board lacks is left out, a slot's impossible generation becomes unknown; the board's other slots,
sockets and rules stay as curated (they once all went, and lane checks ran on an empty topology)."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.specs import repaired_spec

BOARD = {
    "socket": "AM5",
    "form_factor": "ATX",
    "pcie_slots": [
        {"position": 1, "physical_width": 16, "electrical_width": 16, "gen": 5, "source": "cpu"},
        {"position": 4, "physical_width": 16, "electrical_width": 8, "gen": 5, "source": "cpu"},
        {"position": 7, "physical_width": 16, "electrical_width": 4, "gen": 4, "source": "chipset"},
    ],
    "m2_sockets": [
        {"name": "M2_1", "gen": 5, "lanes": 4, "source": "cpu"},
        {"name": "M2_2", "gen": 4, "lanes": 4, "source": "chipset"},
    ],
    "lane_rules": [
        {"when": 4, "target": 1, "effect": "width", "width": 8},
        {"when": "M2_2", "target": 7, "effect": "disable"},
    ],
}
BAD_RULES = [
    {"when": "M2_9", "target": 1, "effect": "disable"},  # a socket the board lacks
    {"when": 4, "target": 12, "effect": "disable"},  # a slot the board lacks
    {"when": 4, "target": 1, "effect": "explode"},
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(BAD_RULES), st.integers(0, 2))
def test_one_bad_lane_rule_leaves_the_others(bad, where):
    data = copy.deepcopy(BOARD)
    data["lane_rules"].insert(where, bad)
    spec = repaired_spec("motherboard", data)
    assert [(r.when, r.target, r.effect) for r in spec.lane_rules] == [
        (4, 1, "width"),
        ("M2_2", 7, "disable"),
    ]
    assert [s.position for s in spec.pcie_slots] == [1, 4, 7]
    assert [m.name for m in spec.m2_sockets] == ["M2_1", "M2_2"]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2), st.sampled_from([("gen", 99), ("electrical_width", 3), ("source", "sideways")]))
def test_one_bad_slot_field_becomes_unknown_and_the_slot_stays(index, bad):
    key, value = bad
    data = copy.deepcopy(BOARD)
    data["pcie_slots"][index][key] = value
    spec = repaired_spec("motherboard", data)
    assert [s.position for s in spec.pcie_slots] == [1, 4, 7]
    assert getattr(spec.pcie_slots[index], key) is None
    assert len(spec.lane_rules) == 2 and spec.socket == "AM5"
