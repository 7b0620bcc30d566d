"""Issue 15, item 3: placement per card. Each GPU card has its own slot row and mount; a different mount for one
card of a line makes it a line of its own (nothing else changes); the slot map's "card N here" moves one card;
slot text that is not slot rows is an error naming the line, never silently ignored."""

import pytest
from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

from builds.configurator.edits import apply_edits, resolve_state
from builds.configurator.page import build_page
from builds.configurator.state import State, decode_line, encode_line, state_from_params
from builds.inputs import Line
from catalog.engine.placement import Placement

RIG = "l=nvidia-geforce-rtx-4090-fe*2&l=amd-ryzen-9-7900x*1&l=msi-mpg-x670e-carbon-wifi*1&l=corsair-ax1600i*1"
MOUNTS = ["", "16", "1"]


def edited(query: str, **controls) -> State:
    params = QueryDict(query, mutable=True)
    for key, value in controls.items():
        params[key.replace("_", ".")] = value
    return apply_edits(state_from_params(params), params)


def gpu_units(state: State) -> list[tuple[str, str, int | None]]:
    """(slug, mount, slot) per GPU card, in order."""
    return [
        (line.slug, line.placement.riser_value, line.placement.slot_of(unit))
        for line in state.lines
        if line.slug and "rtx" in line.slug
        for unit in range(line.quantity)
    ]


def test_the_second_card_alone_goes_on_a_riser_in_one_change():
    state = edited(RIG, m0_1="16")
    assert [line.quantity for line in state.lines[:2]] == [1, 1]
    assert [line.placement.riser_value for line in state.lines[:2]] == ["", "16"]
    assert [line.slug for line in state.lines[2:]] == [
        "amd-ryzen-9-7900x",
        "msi-mpg-x670e-carbon-wifi",
        "corsair-ax1600i",
    ]
    assert state.changed


def test_same_mount_for_every_card_keeps_one_line():
    state = edited(RIG, m0_0="16", m0_1="16")
    assert state.lines[0].quantity == 2 and state.lines[0].placement.riser_value == "16"


@pytest.mark.django_db
def test_one_card_pinned_the_other_placed_by_the_engine(seed_catalogue):
    state = edited(RIG, c0_1="7")
    assert state.lines[0].placement.slots == (None, 7)
    resolve_state(state)
    page = build_page(state, "/builds/new/")
    rows = {(lane.unit, lane.slot, lane.auto) for lane in page.view.lanes}
    assert (1, 7, False) in rows  # the card the user moved
    assert any(unit == 0 and auto and slot != 7 for unit, slot, auto in rows)  # the other, still automatic
    gpu_map = next(r for r in page.sections if r.name == "row-gpu").data["section"].slot_map
    assert next(r for r in gpu_map if r.position == 7).status == "card"


@pytest.mark.django_db
def test_the_slot_maps_move_button_moves_one_card(seed_catalogue):
    one = RIG.replace("*2", "*1", 1)
    state = state_from_params(QueryDict(one))
    resolve_state(state)
    page = build_page(state, "/builds/new/")
    gpu_map = next(r for r in page.sections if r.name == "row-gpu").data["section"].slot_map
    free = next(r for r in gpu_map if r.moves)
    value = free.moves[-1][0]  # "<line>.<card>.<row>"
    moved = edited(one, mv=value)
    line, card, row = (int(v) for v in value.split("."))
    assert moved.lines[line].placement.slot_of(card) == row


@pytest.mark.parametrize("text", ["abc", "2,x,5", "1;2", "-1", "2.5"])
def test_slot_text_that_is_not_slot_rows_is_an_error_naming_the_line(text):
    before = "l=nvidia-geforce-rtx-4090-fe*2~s2.6"
    state = edited(before, s0=text)
    assert any(e.startswith("line 1 slots:") for e in state.errors), state.errors
    assert state.lines[0].placement.slots == (2, 6)  # kept, not silently reset


def test_slot_text_with_the_wrong_count_says_how_many():
    state = edited("l=nvidia-geforce-rtx-4090-fe*2", s0="2")
    assert any("1 given for 2 card" in e for e in state.errors), state.errors


def test_a_bad_card_slot_or_move_is_named():
    assert any("card 2 slot" in e for e in edited(RIG, c0_1="abc").errors)
    assert any(e.startswith("move:") for e in edited(RIG, mv="9.9.9").errors)
    assert any(e.startswith("move:") for e in edited(RIG, mv="zz").errors)


@settings(max_examples=60, deadline=None)
@given(
    quantity=st.integers(1, 6),
    data=st.data(),
)
def test_per_card_mounts_keep_every_card_its_place_and_order(quantity, data):
    """Any per-card mounts on a line with any slots: the cards come out in order, each on the mount chosen
    for it, each in the slot row it had; the number of cards is unchanged."""
    slots = data.draw(
        st.one_of(
            st.none(),
            st.lists(st.one_of(st.none(), st.integers(1, 16)), min_size=quantity, max_size=quantity),
        )
    )
    placement = Placement(slots=tuple(slots) if slots and any(s is not None for s in slots) else None)
    token = encode_line(Line(slug="nvidia-geforce-rtx-4090-fe", quantity=quantity, placement=placement))
    mounts = data.draw(st.lists(st.sampled_from(MOUNTS), min_size=quantity, max_size=quantity))
    state = edited(f"l={token}&l=amd-ryzen-9-7900x*1", **{f"m0_{k}": m for k, m in enumerate(mounts)})
    cards = gpu_units(state)
    assert [mount for _, mount, _ in cards] == mounts
    assert [slot for _, _, slot in cards] == [placement.slot_of(k) for k in range(quantity)]
    assert state.lines[-1].slug == "amd-ryzen-9-7900x"
    # Adjacent cards on one mount share a line: as few lines as the mounts allow.
    runs = 1 + sum(1 for a, b in zip(mounts, mounts[1:], strict=False) if a != b)
    assert len(state.lines) == runs + 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(1, 16)), min_size=1, max_size=16))
def test_slots_with_automatic_cards_read_back_from_the_url(slots):
    placement = Placement(slots=tuple(slots)) if any(s is not None for s in slots) else Placement()
    line = Line(slug="nvidia-geforce-rtx-4090-fe", quantity=len(slots), placement=placement)
    assert decode_line(encode_line(line), 0).placement == placement


@pytest.mark.django_db
def test_the_api_takes_null_for_a_card_the_engine_places(client, seed_catalogue):
    body = {
        "parts": [
            {"slug": "nvidia-geforce-rtx-4090-fe", "quantity": 2, "slots": [None, 6]},
            {"slug": "msi-mpg-x670e-carbon-wifi"},
            {"slug": "amd-ryzen-9-7900x"},
        ]
    }
    report = client.post("/api/v1/check", body, content_type="application/json").json()
    placed = {(p["unit"], p["auto"]) for p in report["placement"]}
    assert placed == {(0, True), (1, False)}
    lanes = {lane["unit"]: lane["slot"] for lane in report["lanes"]}
    assert lanes[1] == 6 and lanes[0] not in (6, None)


STATES = [
    # seed 000 with one card in its 8-slot case (row 7 is free but a 3-slot card there would pass row 8);
    # and with the second card on a riser
    RIG.replace("*2", "*1", 1) + "&l=phanteks-enthoo-pro-2-closed-panel*1",
    RIG.replace("*2", "*1", 1) + "&l=nvidia-geforce-rtx-4090-fe*1~r&l=phanteks-enthoo-pro-2-closed-panel*1",
    # a workstation board with four 3-slot cards
    "l=supermicro-m12swa-tf*1&l=amd-ryzen-threadripper-pro-5955wx*1&l=nvidia-geforce-rtx-3090-fe*1"
    "&l=nvidia-geforce-rtx-3090-fe*1~r&l=phanteks-enthoo-pro*1",
]
BLOCKING = {"GPU_SLOT_OBSTRUCTED", "SLOTS_EXHAUSTED"}


@pytest.mark.django_db
@pytest.mark.parametrize("query", STATES)
def test_every_move_the_slot_map_offers_fits(seed_catalogue, query):
    """A "card N here" button never leads to a blocked card: each offered move, applied, adds no
    obstruction and does not push a card past the case."""
    state = state_from_params(QueryDict(query))
    resolve_state(state)
    page = build_page(state, "/builds/new/")
    before = {f.code for f in page.view.findings} & BLOCKING
    gpu_map = next(r for r in page.sections if r.name == "row-gpu").data["section"].slot_map
    moves = [value for row in gpu_map for value, _text, _name in row.moves]
    assert state.errors == [] and moves  # every part is in the seed catalogue, and some row is free
    if query == STATES[0]:
        assert "0.0.6" in moves and "0.0.7" not in moves  # rows 6-8 fit the case; rows 7-9 would not
    for value in moves:
        moved = edited(query, mv=value)
        resolve_state(moved)
        after = {f.code for f in build_page(moved, "/builds/new/").view.findings} & BLOCKING
        assert after <= before, (value, after)


def test_a_bad_slot_flag_keeps_the_part():
    state = state_from_params(QueryDict("l=nvidia-geforce-rtx-4090-fe*2~sabc&l=amd-ryzen-9-7900x*1"))
    assert [(line.slug, line.quantity) for line in state.lines] == [
        ("nvidia-geforce-rtx-4090-fe", 2),
        ("amd-ryzen-9-7900x", 1),
    ]
    assert state.lines[0].placement == Placement()
    assert any(
        e.startswith("line 1 (nvidia-geforce-rtx-4090-fe)") and "placement reset" in e for e in state.errors
    )


@pytest.mark.django_db
def test_split_cards_are_numbered_across_the_build_in_findings_and_page(seed_catalogue):
    state = edited(RIG, m0_1="16")
    resolve_state(state)
    page = build_page(state, "/builds/new/")
    labels = [lane.label for lane in page.view.lanes]
    assert labels == [
        "NVIDIA GeForce RTX 4090 Founders Edition #1",
        "NVIDIA GeForce RTX 4090 Founders Edition #2",
    ]
    rows = next(r for r in page.sections if r.name == "row-gpu").data["section"].rows
    assert [card.number for row in rows for card in row.cards] == [1, 2]


def test_a_card_put_back_in_the_slot_rejoins_its_line():
    split = edited(RIG, m0_1="16")
    query = State(lines=split.lines).query()
    back = edited(query, m1_0="")
    assert [(line.slug, line.quantity, line.placement.riser_value) for line in back.lines[:1]] == [
        ("nvidia-geforce-rtx-4090-fe", 2, "")
    ]
    assert len(back.lines) == len(split.lines) - 1


def test_identical_lines_are_not_merged_by_an_unrelated_change():
    """Two lines of one card each (say, two prices paid) stay two lines through a change elsewhere, even though
    the page sends every card's mount menu with it."""
    query = "l=nvidia-geforce-rtx-4090-fe*1&l=nvidia-geforce-rtx-4090-fe*1&l=amd-ryzen-9-7900x*1"
    state = edited(query, m0_0="", m1_0="", circuit="230v-16a")
    assert [line.quantity for line in state.lines] == [1, 1, 1]


@pytest.mark.django_db
def test_the_slot_map_marks_the_covered_card_not_the_one_above(seed_catalogue):
    state = state_from_params(QueryDict(RIG.replace("*2", "*2~s6.7", 1)))
    resolve_state(state)
    page = build_page(state, "/builds/new/")
    assert "GPU_SLOT_OBSTRUCTED" in {f.code for f in page.view.findings}
    gpu_map = next(r for r in page.sections if r.name == "row-gpu").data["section"].slot_map
    status = {row.position: row.status for row in gpu_map}
    assert status[7] == "card-bad" and status[6] == "card"


@pytest.mark.django_db
def test_the_slot_map_draws_the_case_end_once_above_the_first_row_past_it(seed_catalogue):
    case = Line(category="case", name="Short case", spec={"form_factors": ["ATX"], "expansion_slots": 5})
    query = RIG.replace("*2", "*1", 1) + "&l=" + encode_line(case)
    state = state_from_params(QueryDict(query))
    resolve_state(state)
    page = build_page(state, "/builds/new/")
    gpu_map = next(r for r in page.sections if r.name == "row-gpu").data["section"].slot_map
    assert [(row.position, row.case_before) for row in gpu_map] == [(2, False), (6, True), (7, False)]
    assert {row.position: row.status for row in gpu_map}[7] == "beyond"
