import pytest

from .factories import PSU, part, rig, run, with_


def test_yearly_cost_from_wall_power():
    r = run(rig(), {"kwh_price": 0.30, "hours_per_day": 24, "currency": "EUR"})
    c = r.cost
    assert c["yearly_kwh"] == pytest.approx(r.power["wall_w"] * 24 * 365 / 1000, rel=1e-3)
    assert c["yearly_cost"] == pytest.approx(c["yearly_kwh"] * 0.30, rel=1e-3)
    assert c["currency"] == "EUR"


def test_efficiency_payback_scales_with_price_and_hours():
    low = run(rig(), {"kwh_price": 0.10, "hours_per_day": 8})
    high = run(rig(), {"kwh_price": 0.40, "hours_per_day": 24})
    (lo,) = low.cost["efficiency_payback"]
    (hi,) = high.cost["efficiency_payback"]
    assert lo["next_tier"] == "platinum"
    assert hi["saved_per_year"] == pytest.approx(lo["saved_per_year"] * 12, rel=0.01)
    (f,) = low.find("PSU_EFFICIENCY_PAYBACK")
    assert "Platinum" in f.message and "USD" in f.message


def test_titanium_has_no_higher_tier():
    r = run(rig(psu=part("psu", with_(PSU, efficiency="titanium"), "Ti")))
    assert "PSU_EFFICIENCY_PAYBACK" not in r.codes and r.cost["efficiency_payback"] == []
