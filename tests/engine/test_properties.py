"""Hypothesis properties over any valid specs (generated from the validator's own field table)."""

import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from catalog.engine import Rig, SpecError, check, parse_context, part_from_dict, spec_from_dict
from catalog.engine.specs import _M2_FIELDS, _RULE_FIELDS, _SLOT_FIELDS, FIELDS

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _value(kind):
    k = kind[0]
    if k == "num":
        lo, hi, incl = kind[1], kind[2], kind[3]
        return st.floats(
            min_value=lo, max_value=hi, exclude_min=not incl, allow_nan=False, allow_infinity=False
        )
    if k == "int":
        return st.integers(min_value=kind[1], max_value=kind[2])
    if k == "intset":
        return st.sampled_from(kind[1])
    if k == "bool":
        return st.booleans()
    if k == "str":
        return st.text(min_size=1, max_size=min(kind[1], 12))
    if k == "choice":
        return st.sampled_from(kind[1])
    if k == "bool_or_str":
        return st.one_of(st.booleans(), st.sampled_from(["full", "semi"]))
    if k == "strlist":
        inner = (
            st.sampled_from(kind[1])
            if isinstance(kind[1], tuple)
            else st.sampled_from(["AM4", "AM5", "LGA1700"])
        )
        return st.lists(inner, max_size=4)
    if k == "slot_or_m2":
        return st.one_of(st.integers(1, 16), st.sampled_from(["M2_1", "M2_2", "M2_3"]))
    if k == "slots":
        return st.lists(
            _obj(_SLOT_FIELDS, required=("position",)), max_size=8, unique_by=lambda d: d["position"]
        )
    if k == "m2":
        return st.lists(_obj(_M2_FIELDS, required=("name",)), max_size=4, unique_by=lambda d: d["name"])
    if k == "rules":
        return st.lists(_obj(_RULE_FIELDS, required=("when", "target", "effect", "width")), max_size=4)
    raise AssertionError(k)


def _obj(table, required=()):
    return st.fixed_dictionaries(
        {k: _value(v) for k, v in table.items() if k in required},
        optional={k: st.one_of(st.none(), _value(v)) for k, v in table.items() if k not in required},
    )


def _spec(category):
    @st.composite
    def build(draw):
        data = draw(_obj(FIELDS[category]))
        if category == "motherboard":
            for s in data.get("pcie_slots") or []:
                if (
                    s.get("physical_width")
                    and s.get("electrical_width")
                    and s["electrical_width"] > s["physical_width"]
                ):
                    s["electrical_width"] = (
                        s["physical_width"] if s["physical_width"] in (1, 4, 8, 16) else None
                    )
        try:
            return spec_from_dict(category, data)
        except SpecError:
            assume(False)

    return build()


@st.composite
def parts(draw, category, max_qty=4, placement=False):
    spec = draw(_spec(category))
    qty = draw(st.integers(1, max_qty))
    data = {"category": category, "name": f"{category} part", "id": f"{category}-{draw(st.integers(0, 9))}"}
    p = part_from_dict({**data, "spec": {}, "quantity": qty})
    kw = {}
    if placement and category == "gpu":
        if draw(st.booleans()):
            kw["slots"] = tuple(draw(st.lists(st.integers(1, 16), min_size=qty, max_size=qty)))
        kw["riser"] = draw(st.sampled_from([None, True, False]))
        kw["riser_width"] = draw(st.sampled_from([None, 1, 4, 16]))
        if draw(st.booleans()):
            kw["psu"] = tuple(draw(st.lists(st.integers(0, 3), min_size=qty, max_size=qty)))
        kw["power_limit_w"] = draw(st.one_of(st.none(), st.floats(50, 600)))
    return type(p)(p.id, p.name, category, spec, qty, **kw)


@st.composite
def rigs(draw):
    out = []
    for cat, n in (
        ("gpu", 3),
        ("cpu", 1),
        ("motherboard", 1),
        ("memory", 2),
        ("storage", 3),
        ("psu", 2),
        ("case", 1),
        ("cooler", 1),
        ("fan", 2),
        ("riser", 2),
        ("brace", 1),
    ):
        for _ in range(draw(st.integers(0, n))):
            out.append(draw(parts(cat, placement=True)))
    return Rig(tuple(out))


@SETTINGS
@given(rigs(), st.sampled_from(["120v-15a", "120v-20a", "230v-10a", "230v-13a", "230v-16a"]))
def test_report_never_crashes_and_is_json(r, circuit):
    report = check(r, parse_context({"circuit": circuit}))
    json.dumps(report.to_dict(), allow_nan=False)


@SETTINGS
@given(rigs(), parts("gpu", max_qty=2))
def test_adding_a_gpu_never_lowers_the_power_figure(r, extra):
    before = check(r).power
    after = check(r.with_part(extra)).power
    assert after["sustained_w"] >= before["sustained_w"] - 1e-6
    if before["transient_w"] is not None and after["transient_w"] is not None:
        assert after["transient_w"] >= before["transient_w"] - 1e-6
    if len(after["psus"]) <= 1:
        assert after["wall_w"] >= before["wall_w"] - 1e-6


@SETTINGS
@given(
    rigs(),
    st.tuples(st.floats(100, 250), st.floats(5, 40)),
    st.tuples(st.floats(1.0, 2.0), st.floats(1.0, 2.0)),
)
def test_a_bigger_circuit_never_adds_circuit_overload(r, small, growth):
    volts, amps = small
    big = {"volts": min(480, volts * growth[0]), "amps": min(100, amps * growth[1])}
    small_report = check(r, parse_context({"circuit": {"volts": volts, "amps": amps}}))
    big_report = check(r, parse_context({"circuit": big}))
    if big_report.has("CIRCUIT_OVERLOAD"):
        assert small_report.has("CIRCUIT_OVERLOAD")


@SETTINGS
@given(st.sampled_from(sorted(FIELDS)), st.data())
def test_generated_valid_specs_are_accepted(category, data):
    spec = data.draw(_spec(category))
    assert spec is not None
