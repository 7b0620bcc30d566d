import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.engine.power import DEFAULT_TRANSIENT_FACTOR, efficiency_at, speed_kept
from catalog.engine.specs import CIRCUITS

from .factories import GPU, PSU, codes, part, rig, run, with_


def _psu(name="PSU", quantity=1, **changes):
    return part("psu", with_(PSU, **changes), name, quantity=quantity)


def _gpus(n=1, **kw):
    spec = with_(GPU, **kw.pop("spec", {}))
    return part("gpu", spec, "GPU", quantity=n, **kw)


def test_80_plus_table_points():
    assert efficiency_at("gold", 0.5) == pytest.approx(0.90)
    assert efficiency_at("gold", 0.2) == pytest.approx(0.87)
    assert efficiency_at("gold", 0.35) == pytest.approx(0.885)
    assert efficiency_at("titanium", 0.1) == pytest.approx(0.90)
    assert efficiency_at("platinum", 1.2) == pytest.approx(0.89)
    assert efficiency_at(None, 0.5) == pytest.approx(0.80)  # unknown tier: the 80 PLUS floor


def test_speed_kept_curve_matches_published_points():
    assert speed_kept(1.0) == 1.0
    assert speed_kept(280 / 350) >= 0.95  # Puget: 3090 at 280 W keeps over 95 %
    assert 0.93 <= speed_kept(250 / 350) <= 0.95  # DESIGN: 250-280 W keeps ~94-95 %
    assert speed_kept(0.5) < speed_kept(0.7) < speed_kept(0.9)


def test_power_figures_and_wall():
    r = run(rig())
    p = r.power
    (psu,) = p["psus"]
    assert psu["sustained_w"] == pytest.approx(p["sustained_w"])
    assert p["sustained_w"] > 450 + 230  # GPU + CPU PPT + the rest
    assert p["wall_w"] == pytest.approx(psu["sustained_w"] / psu["efficiency_at_load"], rel=1e-3)
    assert p["amps"] == pytest.approx(p["wall_w"] / 120, rel=1e-3)
    assert p["circuit_limit_w"] == pytest.approx(1440)
    assert p["headroom_w"] == pytest.approx(1440 - p["wall_w"], abs=0.2)


def test_psu_insufficient_per_psu():
    r = run(rig(gpus=2))
    (f,) = r.find("PSU_INSUFFICIENT")
    assert "1,000 W rating" in f.message and "2x Test GPU" in f.message
    assert "PSU_INSUFFICIENT" not in codes(rig(gpus=1))


def test_headroom_low():
    r = run(rig(psu=_psu(wattage_w=900)))
    (f,) = r.find("PSU_HEADROOM_LOW")
    assert "900 W" in f.message
    assert not {"PSU_HEADROOM_LOW", "PSU_INSUFFICIENT"} & codes(rig())


def test_transient_risk_depends_on_atx3():
    spiky = _gpus(spec={"transient_peak_w": 800})
    r = run(rig(gpu=spiky, psu=_psu(atx3=False)))
    (f,) = r.find("TRANSIENT_RISK")
    assert "800 W in transients" in f.message and "not ATX 3.x" in f.message
    assert "TRANSIENT_RISK" not in codes(rig(gpu=spiky))  # ATX 3.x rides through 200 %
    assert "TRANSIENT_RISK" not in codes(rig(psu=_psu(atx3=False)))  # 550 W peak fits


def test_default_transient_factor_is_used_and_said():
    r = run(rig(gpu=_gpus(spec={"transient_peak_w": None}), psu=_psu(atx3=False)))
    g = r.power["gpus"][0]
    assert g["transient_assumed"] is True
    assert g["transient_w"] == pytest.approx(450 * DEFAULT_TRANSIENT_FACTOR)
    (f,) = r.find("TRANSIENT_RISK")
    assert "assumed 1.7x" in f.message


def test_connectors():
    few = _psu(power_8pin=2, power_12v2x6=0)
    r = run(rig(psu=few))
    (f,) = r.find("PSU_CONNECTORS_INSUFFICIENT")
    assert "need 3 8-pin" in f.message
    assert "PSU_CONNECTORS_INSUFFICIENT" not in codes(rig(psu=_psu(power_8pin=3, power_12v2x6=0)))
    assert "PSU_CONNECTORS_INSUFFICIENT" not in codes(rig())  # native 12V-2x6


def test_circuit_overload_and_bigger_circuit():
    big = rig(gpus=3, psu=_psu(quantity=2, wattage_w=1500))
    r = run(big)
    (f,) = r.find("CIRCUIT_OVERLOAD")
    assert "1,440 W continuous" in f.message
    assert "CIRCUIT_OVERLOAD" not in codes(big, {"circuit": "230v-16a"})
    assert "CIRCUIT_OVERLOAD" not in codes(big, {"circuit": {"volts": 240, "amps": 30}})


def test_circuit_near_limit():
    r = rig(gpus=2, psu=_psu(wattage_w=1600))
    assert "CIRCUIT_NEAR_LIMIT" in codes(r)
    assert not {"CIRCUIT_NEAR_LIMIT", "CIRCUIT_OVERLOAD"} & codes(r, {"circuit": "230v-16a"})
    assert "CIRCUIT_NEAR_LIMIT" not in codes(rig())


def test_multi_psu_assignment_balances_and_reports():
    r = run(rig(gpus=2, psu=_psu(quantity=2, wattage_w=1000)))
    (f,) = r.find("MULTI_PSU")
    assert "PSU 0" in f.message and "PSU 1" in f.message and "sync" in f.message
    psus = r.power["psus"]
    assert len(psus[0]["powers"]) >= 1 and len(psus[1]["powers"]) >= 1
    assert "PSU_INSUFFICIENT" not in r.codes
    assert "MULTI_PSU" not in codes(rig())


def test_user_psu_assignment_is_honoured():
    r = run(rig(gpu=_gpus(2, psu=[1, 1]), psu=_psu(quantity=2, wattage_w=1000)))
    assert [g["psu"] for g in r.power["gpus"]] == [1, 1]
    assert r.power["psus"][1]["sustained_w"] == pytest.approx(900)
    assert "PSU_ASSIGNMENT_INVALID" not in r.codes
    r = run(rig(gpu=_gpus(2, psu=[0, 2]), psu=_psu(quantity=2, wattage_w=1000)))
    assert "PSU_ASSIGNMENT_INVALID" in r.codes


def test_power_limit_caps_sustained_and_transient():
    r = run(rig(gpu=_gpus(power_limit_w=300)))
    g = r.power["gpus"][0]
    assert g["sustained_w"] == 300 and g["watts_saved"] == 150
    assert g["transient_w"] == pytest.approx(550 * 300 / 450, abs=0.1)
    (f,) = r.find("POWER_LIMIT")
    assert "450 W to 300 W" in f.message
    assert "POWER_LIMIT" not in codes(rig())
    base = run(rig())
    assert r.power["sustained_w"] == pytest.approx(base.power["sustained_w"] - 150)


def test_unknown_gpu_power_is_not_checked_not_zero():
    r = run(rig(gpu=_gpus(spec={"board_power_w": None, "transient_peak_w": None})))
    assert any("power of" in s for s in r.not_checked)


_ADVICE = re.compile(r"[Aa] (\d+(?:\.\d+)?) V / (\d+(?:\.\d+)?) A circuit carries it")
_LIMIT = re.compile(r"power-limit each GPU to (\d+) W")


@settings(max_examples=60, deadline=None)
@given(
    n_gpus=st.integers(1, 8),
    board_w=st.sampled_from([250, 300, 350, 450, 600]),
    circuit=st.sampled_from(["120v-15a", "120v-20a", "230v-10a"]),
)
def test_circuit_overload_advice_names_what_works(n_gpus, board_w, circuit):
    gpu = part("gpu", with_(GPU, board_power_w=board_w, transient_peak_w=None), "GPU", quantity=n_gpus)
    r = run(rig(gpu=gpu, gpus=0, psu=_psu(quantity=4, wattage_w=1600)), {"circuit": circuit})
    found = r.find("CIRCUIT_OVERLOAD")
    if not found:
        return
    (f,) = found
    assert "needs a 15 A breaker" not in f.message and "breaker at" not in f.message
    named = _ADVICE.search(f.message)
    if named:  # the circuit it names carries the rig
        volts, amps = float(named.group(1)), float(named.group(2))
        assert (volts, amps) in CIRCUITS.values()
        ok = run(
            rig(gpu=gpu, gpus=0, psu=_psu(quantity=4, wattage_w=1600)),
            {"circuit": {"volts": volts, "amps": amps}},
        )
        assert "CIRCUIT_OVERLOAD" not in ok.codes
    else:
        assert "split it over two circuits" in f.message
    limit = _LIMIT.search(f.message)
    if limit:  # the power limit it names brings the rig under this circuit
        limited = part(
            "gpu",
            with_(GPU, board_power_w=board_w, transient_peak_w=None),
            "GPU",
            quantity=n_gpus,
            power_limit_w=int(limit.group(1)),
        )
        ok = run(rig(gpu=limited, gpus=0, psu=_psu(quantity=4, wattage_w=1600)), {"circuit": circuit})
        assert "CIRCUIT_OVERLOAD" not in ok.codes
