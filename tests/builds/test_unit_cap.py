"""A build holds at most MAX_UNITS units (quantities summed): the API says so naming the field, the
configurator leaves the extra lines out and says which, and no control takes a build past it."""

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builds.configurator.edits import apply_edits
from builds.configurator.state import state_from_params
from builds.inputs import MAX_UNITS, InputError, parse_lines

GPU = "nvidia-geforce-rtx-4090-fe"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 16), min_size=1, max_size=64))
def test_the_api_refuses_more_units_than_a_build_holds(quantities):
    parts = [{"slug": GPU, "quantity": q} for q in quantities]
    if sum(quantities) > MAX_UNITS:
        with pytest.raises(InputError) as refused:
            parse_lines(parts, [])
        assert refused.value.field == "parts" and str(MAX_UNITS) in refused.value.message
    else:
        assert sum(line.quantity for line in parse_lines(parts, [])) == sum(quantities)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    quantities=st.lists(st.integers(1, 16), min_size=1, max_size=64),
    line=st.integers(0, 63),
    new_quantity=st.integers(1, 16),
)
def test_the_configurator_never_holds_more_than_the_cap(seed_catalogue, quantities, line, new_quantity):
    query = "&".join(f"l={GPU}*{q}" for q in quantities)
    state = state_from_params(QueryDict(query))
    assert sum(x.quantity for x in state.lines) <= MAX_UNITS
    kept = len(state.lines)
    assert len([e for e in state.errors if "left out" in e]) == len(quantities) - kept
    edited = apply_edits(state, QueryDict(f"{query}&q{line % max(kept, 1)}={new_quantity}&add={GPU}"))
    assert sum(x.quantity for x in edited.lines) <= MAX_UNITS
