"""Custom specs the API takes wrongly (issue 17, items 17 and 18): lane rules naming a slot or M.2 socket
the board lacks are refused naming the field; form-factor spellings the sources use are accepted and stored
canonically, while unknown ones stay a 400."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builds.models import BuildItem
from catalog.engine.specs import FORM_FACTORS, SpecError, form_factor_name, spec_from_dict

pytestmark = pytest.mark.django_db

SLOTS = [{"position": 1, "physical_width": 16}, {"position": 3, "physical_width": 16}]
SOCKETS = [{"name": "M2_1", "lanes": 4}, {"name": "M2_2", "lanes": 4}]


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def board(rules, **extra):
    return {
        "category": "motherboard",
        "name": "Board",
        "spec": {"pcie_slots": SLOTS, "m2_sockets": SOCKETS} | {"lane_rules": rules} | extra,
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    when=st.one_of(st.integers(1, 16), st.text(min_size=1, max_size=16).filter(lambda s: "\x00" not in s)),
    target=st.one_of(st.integers(1, 16), st.sampled_from(["M2_1", "M2_2", "slot:4", "m2_1"])),
    index=st.integers(0, 2),
)
def test_lane_rules_must_name_what_the_board_has(client, when, target, index):
    rules = [{"when": 1, "target": "M2_1", "effect": "disable"}] * index
    rules.append({"when": when, "target": target, "effect": "width", "width": 8})
    known = {1, 3, "M2_1", "M2_2"}
    parts = [{"category": "gpu", "name": "g", "spec": {}}] * 2 + [board(rules)]
    response = post(client, "/api/v1/check", {"inline_parts": parts})
    if when in known and target in known:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        bad = "when" if when not in known else "target"
        assert response.json()["error"]["field"] == f"inline_parts[2].spec.lane_rules[{index}].{bad}"


def test_lane_rules_without_slots_or_sockets_are_refused():
    with pytest.raises(SpecError) as caught:
        spec_from_dict("motherboard", {"lane_rules": [{"when": 1, "target": 2, "effect": "disable"}]})
    assert caught.value.field == "motherboard.lane_rules[0].when"


ALIASES = {
    "ATX": ["atx", "Standard ATX"],
    "E-ATX": ["EATX", "E ATX", "e-atx", "Extended ATX", "extended-atx"],
    "Micro-ATX": ["Micro ATX", "micro-atx", "mATX", "MATX", "uATX", "µATX", "Micro_ATX"],
    "Mini-ITX": ["Mini ITX", "mini-itx", "Mini-ITX", "mITX", "Thin Mini-ITX"],
    "SSI-EEB": ["SSI EEB", "ssi-eeb"],
    "SSI-CEB": ["SSI CEB"],
    "EEB": ["eeb"],
    "XL-ATX": ["XL ATX", "xl-atx"],
}


@pytest.mark.parametrize(("canonical", "spelling"), [(c, s) for c, ss in ALIASES.items() for s in ss])
def test_form_factor_aliases_are_accepted_and_stored_canonically(client, canonical, spelling):
    body = {
        "name": "aliases",
        "inline_parts": [
            {"category": "motherboard", "name": "b", "spec": {"form_factor": spelling}},
            {"category": "case", "name": "c", "spec": {"form_factors": [spelling, "ATX"]}},
        ],
    }
    response = post(client, "/api/v1/builds", body)
    assert response.status_code == 201, response.content
    items = BuildItem.objects.filter(build__share_id=response.json()["share_id"]).order_by("position")
    assert items[0].custom_spec["form_factor"] == canonical
    assert items[1].custom_spec["form_factors"] == [canonical, "ATX"]


@given(st.text(max_size=30))
def test_every_spelling_is_canonical_or_refused(spelling):
    """Whatever the spelling, the engine either takes it as one of FORM_FACTORS or refuses it by name."""
    try:
        spec = spec_from_dict("motherboard", {"form_factor": spelling})
    except SpecError as exc:
        assert exc.field == "motherboard.form_factor"
        assert form_factor_name(spelling) not in FORM_FACTORS
    else:
        assert spec.form_factor in FORM_FACTORS


@pytest.mark.parametrize("spelling", ["HPTX", "Flex ATX", "ATX2", "mini", "", "Micro ATX plus"])
def test_unknown_form_factors_stay_a_400(client, spelling):
    body = {"inline_parts": [{"category": "motherboard", "name": "b", "spec": {"form_factor": spelling}}]}
    response = post(client, "/api/v1/check", body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "inline_parts[0].spec.form_factor"
