"""Unknown PSU connector counts stay unknown: a verdict never reads a missing count as 0 (issue 15: a
1000 W unit whose 8-pin count the catalogue lacks was called "0 PCIe 8-pin" and ruled out for two 4090s)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from .factories import GPU, PSU, part, rig, run, with_

psu_8pin = st.one_of(st.none(), st.integers(min_value=0, max_value=16))  # the engine's bounds (specs.py)
psu_12v = st.one_of(st.none(), st.integers(min_value=0, max_value=8))
gpu_8pin = st.one_of(st.none(), st.integers(min_value=0, max_value=8))
gpu_12v = st.one_of(st.none(), st.integers(min_value=0, max_value=4))


def connector_findings(psu_8, psu_12, gpu_8, gpu_12, n):
    gpu = part("gpu", with_(GPU, power_8pin=gpu_8, power_12v2x6=gpu_12), "GPU", quantity=n)
    psu = part("psu", with_(PSU, wattage_w=3000, power_8pin=psu_8, power_12v2x6=psu_12), "PSU")
    report = run(rig(gpu=gpu, psu=psu))
    return [f for f in report.findings if f.code == "PSU_CONNECTORS_INSUFFICIENT"], report


@settings(max_examples=150, deadline=None)
@given(psu_8pin, psu_12v, gpu_8pin, gpu_12v, st.integers(min_value=1, max_value=4))
def test_a_connector_verdict_holds_whatever_the_unknown_counts_are(psu_8, psu_12, gpu_8, gpu_12, n):
    found, report = connector_findings(psu_8, psu_12, gpu_8, gpu_12, n)
    if found:
        # It must hold for any value of what is unknown: the most outputs a PSU could have still falls short.
        generous, _ = connector_findings(
            16 if psu_8 is None else psu_8, 8 if psu_12 is None else psu_12, gpu_8 or 0, gpu_12 or 0, n
        )
        assert generous, f"verdict rests on an unknown count: {found[0].message}"
        assert psu_8 is not None
    elif (psu_8 is None or psu_12 is None) and any(v is not None for v in (gpu_8, gpu_12)):
        # Not checked because a count is unknown: the report says so rather than staying silent.
        checked_fully, _ = connector_findings(psu_8 or 0, psu_12 or 0, gpu_8, gpu_12, n)
        if checked_fully:
            assert any("power connectors" in item for item in report.not_checked), report.not_checked


def test_known_counts_still_decide():
    found, _ = connector_findings(2, 0, 0, 1, 1)  # one 12V-2x6 card through an adapter needs 3 8-pin
    assert found and "has 2 PCIe 8-pin" in found[0].message
    assert not connector_findings(3, 0, 0, 1, 1)[0]
