import pytest

from .factories import BOARD, GPU, codes, part, rig, run, with_


def _gpus(n=2, **kw):
    spec = with_(GPU, **kw.pop("spec", {}))
    return part("gpu", spec, "GPU", quantity=n, **kw)


def test_pairs_and_verdicts_on_x8_x8():
    r = run(rig(gpus=2))
    ic = r.interconnect
    (pair,) = ic["pairs"]
    assert pair["path"] == "pcie_p2p" and pair["gbps"] == pytest.approx(15.75, abs=0.01)
    assert ic["parallelism"] == {"data": "ok", "tensor": "ok", "pipeline": "ok", "expert": "ok"}
    assert "PARALLELISM_BANDWIDTH" not in r.codes


def test_x4_links_limit_model_parallelism_not_data_parallel():
    r = run(rig(gpu=_gpus(4, slots=[1, 1, 1, 1])))  # x4x4x4x4 bifurcation
    assert r.interconnect["parallelism"]["data"] == "ok"
    assert r.interconnect["parallelism"]["tensor"] == "limited"
    (f,) = r.find("PARALLELISM_BANDWIDTH")
    assert "x4" in f.message and "7.88 GB/s" in f.message and "Data parallel is fine" in f.message
    assert len(r.interconnect["pairs"]) == 6


def test_x1_makes_data_parallel_slow_too():
    r = run(rig(gpu=_gpus(2, riser_width=1)))
    assert r.interconnect["parallelism"]["data"] == "slow"
    assert "PARALLELISM_BANDWIDTH" in r.codes


def test_single_gpu_has_no_parallelism_verdict():
    r = run(rig())
    assert r.interconnect["parallelism"] == {} and "PARALLELISM_BANDWIDTH" not in r.codes


def test_no_p2p():
    r = run(rig(gpu=_gpus(2, spec={"p2p": False})))
    (f,) = r.find("NO_P2P")
    assert "1 of 1 GPU pairs" in f.message
    assert r.interconnect["pairs"][0]["path"] == "host"
    assert "NO_P2P" not in codes(rig(gpus=2))
    chipset = run(rig(gpu=_gpus(2, slots=[1, 7])))
    assert "NO_P2P" in chipset.codes  # behind the chipset


def test_nvlink_capability_is_reported_but_not_assumed():
    r = run(rig(gpu=_gpus(2, spec={"nvlink": True, "chip": "GA102"})))
    assert r.interconnect["pairs"][0]["nvlink_capable"] is True
    assert any("NVLink" in s for s in r.not_checked)
    assert BOARD  # the base board is the one in factories
