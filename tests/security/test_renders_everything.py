"""Anything the API accepts renders everywhere (issue 17, item 5).

Builds are created through the API from generated bodies: catalogue parts of the seed catalogue with
placements, custom parts of every category with specs generated from the engine's own field tables (so a
field added there is generated here too), custom circuits with decimals, context figures across their whole
range, workloads, and names with odd characters. A body the API refuses must be a 4xx; for one it accepts,
the shared page, the edit page (and saving it unchanged), compare, every revision and every export (md,
csv, json) and the API's GET must answer below 500."""

import html
import json
import re

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from builds.configurator.state import circuit_label
from catalog.engine import specs as engine
from catalog.engine.estimator import METHODS, load_presets
from catalog.models import Part

pytestmark = pytest.mark.django_db

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30)
ODD = st.one_of(
    TEXT, st.sampled_from(["=1+1", "<b>x</b>", "[a](http://x)", "|a|b|", "x\ny", "`c`", " ", "\x00"])
)


def field_value(kind: tuple) -> st.SearchStrategy:
    """A valid value for one engine field kind (catalog.engine.specs: FIELDS)."""
    name = kind[0]
    if name == "num":
        lo, hi, lo_inclusive = kind[1], kind[2], kind[3]
        return st.floats(lo, hi, exclude_min=not lo_inclusive) | st.integers(int(lo) + 1, int(hi))
    if name == "int":
        return st.integers(kind[1], kind[2])
    if name == "intset":
        return st.sampled_from(kind[1])
    if name == "bool":
        return st.booleans()
    if name == "str":
        return st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=kind[1])
    if name == "choice":
        return st.sampled_from(kind[1])
    if name == "bool_or_str":
        return st.booleans() | st.text(min_size=1, max_size=20)
    if name == "strlist":
        inner = (
            st.sampled_from(kind[1]) if isinstance(kind[1], tuple) else st.text(min_size=1, max_size=kind[1])
        )
        return st.lists(inner, max_size=3)
    raise AssertionError(f"no strategy for field kind {kind!r}: add one")


@st.composite
def board_topology(draw) -> dict:
    positions = draw(st.lists(st.integers(1, 16), unique=True, max_size=7))
    slots = []
    for position in positions:
        physical = draw(st.sampled_from([1, 4, 8, 16]))
        slot = {"position": position, "physical_width": physical}
        slot["electrical_width"] = draw(st.sampled_from([w for w in engine.LINK_WIDTHS if w <= physical]))
        slot |= draw(
            st.fixed_dictionaries(
                {}, optional={"gen": st.integers(1, 6), "source": st.sampled_from(engine.LANE_SOURCES)}
            )
        )
        slots.append(slot)
    names = draw(st.lists(st.sampled_from(["M2_1", "M2_2", "M.2 CPU", "m2-3"]), unique=True, max_size=3))
    sockets = [{"name": n, "lanes": draw(st.sampled_from([1, 2, 4]))} for n in names]
    spec = {"pcie_slots": slots, "m2_sockets": sockets}
    targets = positions + names
    if targets:
        rule = st.fixed_dictionaries(
            {
                "when": st.sampled_from(targets),
                "target": st.sampled_from(targets),
                "effect": st.just("width"),
            },
        ) | st.fixed_dictionaries(
            {
                "when": st.sampled_from(targets),
                "target": st.sampled_from(targets),
                "effect": st.just("disable"),
            }
        )
        rules = draw(st.lists(rule, max_size=3))
        for r in rules:
            if r["effect"] == "width":
                r["width"] = draw(st.sampled_from([0, *engine.LINK_WIDTHS]))
        spec["lane_rules"] = rules
    return spec


def consistent(spec: dict) -> dict:
    """The engine's cross-field rules: a GPU's transient peak is at least its board power, a CPU has at
    least as many threads as cores."""
    for low, high in (("board_power_w", "transient_peak_w"), ("cores", "threads")):
        if low in spec and high in spec and spec[high] < spec[low]:
            spec[low], spec[high] = spec[high], spec[low]
    return spec


def spec_for(category: str) -> st.SearchStrategy:
    table = {k: v for k, v in engine.FIELDS[category].items() if v[0] not in ("slots", "m2", "rules")}
    scalar = st.fixed_dictionaries({}, optional={k: field_value(v) for k, v in table.items()}).map(consistent)
    if category == "motherboard":
        return st.tuples(scalar, board_topology()).map(lambda pair: pair[0] | pair[1])
    return scalar


@st.composite
def inline_part(draw) -> dict:
    category = draw(st.sampled_from(engine.CATEGORIES))
    quantity = draw(st.integers(1, 4))
    part = {"category": category, "name": draw(ODD), "spec": draw(spec_for(category)), "quantity": quantity}
    part |= draw(placement(category, quantity))
    return part


def placement(category: str, quantity: int) -> st.SearchStrategy:
    optional = {
        "slots": st.lists(st.integers(1, 16), min_size=quantity, max_size=quantity),
        "riser": st.booleans(),
        "riser_width": st.sampled_from([1, 4, 8, 16]),
        "psu": st.lists(st.integers(0, 3), min_size=quantity, max_size=quantity),
    }
    if category == "gpu":
        optional["power_limit_w"] = st.floats(10, 5000) | st.integers(10, 5000)
    return st.fixed_dictionaries({}, optional=optional)


CIRCUIT = st.sampled_from(list(engine.CIRCUITS)) | st.fixed_dictionaries(
    {"volts": st.floats(90, 480) | st.integers(90, 480), "amps": st.floats(1, 100) | st.integers(1, 100)}
)
CONTEXT = st.fixed_dictionaries(
    {},
    optional={
        "circuit": CIRCUIT,
        "kwh_price": st.floats(0, 100) | st.integers(0, 100),
        "hours_per_day": st.floats(0, 24),
        "currency": st.sampled_from(["USD", "EUR", "XYZ"]),
    },
)
WORKLOAD = st.fixed_dictionaries(
    {"model": st.sampled_from(sorted(load_presets()))},
    optional={
        "method": st.sampled_from(METHODS),
        "seq_len": st.integers(1, 32768),
        "batch": st.integers(1, 16),
        "gpus": st.integers(1, 8),
    },
)


@pytest.fixture
def owner(client, seed_catalogue, settings):
    settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE = 100_000
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 100_000
    client.force_login(get_user_model().objects.create_user("renders", password="x" * 20))
    return client, sorted(Part.objects.values_list("slug", "category")), next(iter(seed_catalogue.values()))


def pages_of(share_id: str, other: str) -> list[str]:
    return [
        f"/b/{share_id}/",
        f"/b/{share_id}/?print=1",
        f"/b/{share_id}/edit/",
        f"/b/{share_id}/?format=md",
        f"/b/{share_id}/?format=csv",
        f"/b/{share_id}/?format=json",
        f"/api/v1/builds/{share_id}",
        f"/compare/?b={share_id},{other}",
        f"/b/{share_id}/r/1/",
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_anything_the_api_accepts_renders_everywhere(owner, data):
    client, catalogue, example = owner
    parts = []
    for slug, category in data.draw(st.lists(st.sampled_from(catalogue), max_size=6), label="catalogue"):
        quantity = data.draw(st.integers(1, 3))
        parts.append({"slug": slug, "quantity": quantity} | data.draw(placement(category, quantity)))
    body = {
        "name": data.draw(ODD, label="name"),
        "parts": parts,
        "inline_parts": data.draw(st.lists(inline_part(), max_size=4), label="inline"),
        "context": data.draw(CONTEXT, label="context"),
        "workloads": data.draw(st.lists(WORKLOAD, max_size=2), label="workloads"),
    }
    body |= data.draw(
        st.fixed_dictionaries(
            {}, optional={"description": TEXT, "visibility": st.sampled_from(["public", "unlisted"])}
        )
    )
    created = client.post("/api/v1/builds", data=json.dumps(body), content_type="application/json")
    assert created.status_code < 500
    event(f"create {created.status_code}")
    if created.status_code != 201:
        event(f"refused: {re.sub(r'[0-9]+', 'N', created.json()['error']['field'])}")
        assert created.status_code == 400 and created.json()["error"]["field"]
        return
    share_id = created.json()["share_id"]
    for url in pages_of(share_id, example.share_id):
        response = client.get(url)
        assert response.status_code < 500, url
        assert response.status_code == 200, (url, response.status_code)
    # Saving the edit page unchanged works too, and the new revision renders.
    page = client.get(f"/b/{share_id}/edit/").content.decode()
    form = re.search(r'<form method="post".*?</form>', page, re.S)[0]
    state = re.search(r'name="state"[^>]*value="([^"]*)"', form)[1]
    saved = client.post(
        f"/b/{share_id}/edit/", {"state": html.unescape(state), "name": "saved", "visibility": "unlisted"}
    )
    assert saved.status_code == 302, saved.content.decode()[:3000]
    for url in (f"/b/{share_id}/", f"/b/{share_id}/r/2/", f"/b/{share_id}/?format=md"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "circuit",
    [
        {"volts": 120.5, "amps": 15},
        {"volts": 90.000001, "amps": 99.99},
        {"volts": 479.99999999999994, "amps": 1},
    ],
)
def test_custom_circuits_with_decimals_render_everywhere(owner, circuit):
    client, _, example = owner
    body = {
        "name": "decimal circuit",
        "parts": [{"slug": "nvidia-geforce-rtx-4090-fe"}],
        "context": {"circuit": circuit},
    }
    created = client.post("/api/v1/builds", data=json.dumps(body), content_type="application/json")
    share_id = created.json()["share_id"]
    for url in pages_of(share_id, example.share_id):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/b/{share_id}/edit/").content.decode()
    assert f'<option value="{circuit_label(circuit)}" selected>' in page  # the page shows the saved circuit
