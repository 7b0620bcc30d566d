import json
import re
from pathlib import Path

from catalog.engine import CHECKS, check
from catalog.engine.report import CODES, SEVERITY_ORDER, Severity
from catalog.engine.specs import Rig

from .factories import rig, run

ENGINE = Path(__file__).resolve().parents[2] / "catalog" / "engine"
FINDINGS_DOC = Path(__file__).resolve().parents[2] / "docs" / "findings.md"
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


def test_docs_list_exactly_the_registered_codes():
    """docs/findings.md is the public contract: one row per code in CODES, same severity and category."""
    rows = re.findall(
        r"^\| ([A-Z0-9_]+) \| (error|warning|info) \| ([a-z]+) \|", FINDINGS_DOC.read_text(), re.M
    )
    documented = {code: (severity, category) for code, severity, category in rows}
    assert len(rows) == len(documented)  # no code twice
    assert documented == {code: (sev.value, cat) for code, (sev, cat, _) in CODES.items()}


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
