import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.engine.specs import (
    FIELDS,
    BoardSpec,
    Context,
    GpuSpec,
    SpecError,
    parse_context,
    part_from_dict,
    spec_from_dict,
)


def test_valid_gpu_spec_round_trips_numbers():
    s = spec_from_dict("gpu", {"vram_gb": 24, "board_power_w": 350, "cooler": "blower", "nvlink": True})
    assert isinstance(s, GpuSpec)
    assert s.vram_gb == 24.0 and s.board_power_w == 350.0 and s.cooler == "blower" and s.nvlink is True
    assert s.length_mm is None  # missing = unknown


def test_board_topology_is_parsed_sorted_and_frozen():
    s = spec_from_dict(
        "motherboard",
        {
            "pcie_slots": [
                {"position": 4, "electrical_width": 8, "source": "cpu"},
                {"position": 1, "electrical_width": 16, "source": "cpu", "bifurcation": ["x8x8"]},
            ],
            "m2_sockets": [{"name": "M2_1", "lanes": 4, "source": "cpu"}],
            "lane_rules": [{"when": 4, "target": 1, "effect": "width", "width": 8}],
        },
    )
    assert isinstance(s, BoardSpec)
    assert [p.position for p in s.pcie_slots] == [1, 4]
    assert s.pcie_slots[0].bifurcation == ("x8x8",)
    assert s.lane_rules[0].target == 1
    with pytest.raises(AttributeError):
        s.socket = "AM5"


@pytest.mark.parametrize(
    ("category", "data", "field"),
    [
        ("gpu", {"vram_gb": True}, "gpu.vram_gb"),  # bool is not a number
        ("gpu", {"vram_gb": "24"}, "gpu.vram_gb"),
        ("gpu", {"vram_gb": 0}, "gpu.vram_gb"),
        ("gpu", {"vram_gb": 2048}, "gpu.vram_gb"),
        ("gpu", {"vram_gb": math.nan}, "gpu.vram_gb"),
        ("gpu", {"board_power_w": math.inf}, "gpu.board_power_w"),
        ("gpu", {"board_power_w": 6000}, "gpu.board_power_w"),
        ("gpu", {"length_mm": 1200}, "gpu.length_mm"),
        ("gpu", {"cooler": "turbo"}, "gpu.cooler"),
        ("gpu", {"pcie_lanes": 3}, "gpu.pcie_lanes"),
        ("gpu", {"power_8pin": 1.5}, "gpu.power_8pin"),
        ("gpu", {"nvlink": 1}, "gpu.nvlink"),
        ("gpu", {"vram": 24}, "gpu.vram"),  # unknown field
        ("gpu", {"board_power_w": 350, "transient_peak_w": 300}, "gpu.transient_peak_w"),
        ("cpu", {"cores": 8, "threads": 4}, "cpu.threads"),
        ("psu", {"efficiency": "diamond"}, "psu.efficiency"),
        ("psu", {"wattage_w": 1e-300}, "psu.wattage_w"),  # below a sane minimum (10 W)
        ("fan", {"airflow_cfm": 0.001}, "fan.airflow_cfm"),
        ("case", {"form_factors": ["ATX", "BTX"]}, "case.form_factors[1]"),
        ("motherboard", {"pcie_slots": [{"position": 17}]}, "motherboard.pcie_slots[0].position"),
        ("motherboard", {"pcie_slots": [{"position": 0}]}, "motherboard.pcie_slots[0].position"),
        ("motherboard", {"pcie_slots": [{"electrical_width": 16}]}, "motherboard.pcie_slots[0].position"),
        (
            "motherboard",
            {"pcie_slots": [{"position": 1, "bifurcation": ["x2x2"]}]},
            "motherboard.pcie_slots[0].bifurcation[0]",
        ),
        (
            "motherboard",
            {"pcie_slots": [{"position": 1, "physical_width": 8, "electrical_width": 16}]},
            "motherboard.pcie_slots[0].electrical_width",
        ),
        (
            "motherboard",
            {"lane_rules": [{"when": 1, "target": 2, "effect": "width"}]},
            "motherboard.lane_rules[0].width",
        ),
        ("motherboard", {"pcie_slots": "x16"}, "motherboard.pcie_slots"),
    ],
)
def test_spec_from_dict_rejects_junk_naming_the_field(category, data, field):
    with pytest.raises(SpecError) as exc:
        spec_from_dict(category, data)
    assert exc.value.field == field


def test_unknown_category_is_rejected():
    with pytest.raises(SpecError) as exc:
        spec_from_dict("toaster", {})
    assert exc.value.field == "category"


def test_none_means_unknown_not_zero():
    s = spec_from_dict("gpu", {"vram_gb": None, "board_power_w": 350})
    assert s.vram_gb is None


def test_part_from_dict_validates_placement():
    p = part_from_dict(
        {"category": "gpu", "name": "x", "spec": {}, "quantity": 2, "slots": [1, 4], "psu": [0, 1]}
    )
    assert p.slots == (1, 4) and p.psu == (0, 1)
    with pytest.raises(SpecError) as exc:
        part_from_dict({"category": "gpu", "name": "x", "spec": {}, "quantity": 2, "slots": [1]})
    assert exc.value.field == "inline_parts[0].slots"
    with pytest.raises(SpecError) as exc:
        part_from_dict({"category": "gpu", "name": "x", "spec": {"vram_gb": -1}}, index=3)
    assert exc.value.field == "inline_parts[3].spec.vram_gb"
    with pytest.raises(SpecError) as exc:
        part_from_dict({"category": "psu", "name": "x", "spec": {}, "power_limit_w": 200})
    assert exc.value.field == "inline_parts[0].power_limit_w"
    with pytest.raises(SpecError) as exc:
        part_from_dict({"category": "gpu", "name": "x", "spec": {}, "quantity": 17})
    assert exc.value.field == "inline_parts[0].quantity"


def test_parse_context_circuits_and_defaults():
    assert parse_context(None) == Context()
    c = parse_context({"circuit": "230v-16a", "kwh_price": 0.3, "hours_per_day": 24, "currency": "EUR"})
    assert (c.circuit_volts, c.circuit_amps, c.currency) == (230.0, 16.0, "EUR")
    assert c.circuit_limit_w == pytest.approx(230 * 16 * 0.8)
    custom = parse_context({"circuit": {"volts": 240, "amps": 30}})
    assert custom.circuit_limit_w == pytest.approx(5760)
    assert Context().circuit_limit_w == pytest.approx(1440)  # 120 V x 15 A x 80 %


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"circuit": "110v-15a"}, "context.circuit"),
        ({"circuit": {"volts": 240}}, "context.circuit"),
        ({"circuit": {"volts": 240, "amps": 30, "phase": 3}}, "context.circuit.phase"),
        ({"circuit": {"volts": 240, "amps": True}}, "context.circuit.amps"),
        ({"kwh_price": -1}, "context.kwh_price"),
        ({"kwh_price": math.nan}, "context.kwh_price"),
        ({"hours_per_day": 25}, "context.hours_per_day"),
        ({"currency": "usd"}, "context.currency"),
        ({"workloads": "llama"}, "context.workloads"),
        ({"colour": "red"}, "context.colour"),
    ],
)
def test_parse_context_rejects_junk(data, field):
    with pytest.raises(SpecError) as exc:
        parse_context(data)
    assert exc.value.field == field


_JUNK = st.one_of(
    st.booleans(),
    st.text(max_size=5),
    st.just(math.nan),
    st.just(math.inf),
    st.just(-math.inf),
    st.floats(min_value=1e7, max_value=1e12),
    st.floats(max_value=-1e-3, min_value=-1e9),
    st.lists(st.integers(), max_size=2),
)
_NUMERIC_FIELDS = sorted(
    (cat, name) for cat, table in FIELDS.items() for name, kind in table.items() if kind[0] in ("num", "int")
)


@given(st.sampled_from(_NUMERIC_FIELDS), _JUNK)
def test_numeric_fields_reject_junk_with_field_name(cat_field, junk):
    category, name = cat_field
    with pytest.raises(SpecError) as exc:
        spec_from_dict(category, {name: junk})
    assert exc.value.field == f"{category}.{name}"


@given(st.sampled_from(sorted(FIELDS)), st.text(min_size=1, max_size=12))
def test_unknown_fields_are_rejected(category, key):
    if key in FIELDS[category]:
        return
    with pytest.raises(SpecError) as exc:
        spec_from_dict(category, {key: 1})
    assert exc.value.field == f"{category}.{key}"
