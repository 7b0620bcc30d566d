"""Firmware (DMI) slot tables: parsing, name matching, derived topology for imported boards, and the
curated boards' cross-check (manage.py verify_boards)."""

import gzip
import json
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.boardcheck import check_board
from catalog.dmi import (
    DEFAULT_PATH,
    FirmwareIndex,
    compare,
    derive_topology,
    is_intel,
    model_key,
    name_keys,
    parse_line,
    parse_slot,
    root_port_source,
)
from catalog.engine import check, parse_context
from catalog.models import Motherboard, TopologySource
from catalog.specs import engine_part, spec_for

OPENDB = Path(__file__).resolve().parents[3] / "shared" / "opendb" / "buildcores-open-db-136a77a.tar.gz"


def _slot(designation, type_, bif=False):
    return {"designation": designation, "type": type_, "length": "Long", "bifurcation": bif}


def _line(model, slots, *, vendor="ASUSTek Computer", same=1, reports=3, addresses=None):
    return {
        "vendor": vendor,
        "model": model,
        "kind": "Desktop",
        "reports": reports,
        "tables": [{"reports": reports, "models_with_same_table": same, "slots": slots}],
        "bus_addresses": addresses or {},
    }


# The ProArt Z790-Creator's firmware, as the extract holds it (most-reported table).
Z790 = _line(
    "ProArt Z790-CREATOR WIFI",
    [
        _slot("PCIEx16(G5)", "x16 PCI Express 5 x16", True),
        _slot("PCIEX16(G4)_1", "x4 PCI Express 4 x16"),
        _slot("PCIEX16(G4)_2", "x4 PCI Express 4 x16"),
        *[_slot(f"M.2_{i}", "x4 M.2 Socket 3") for i in range(1, 6)],
    ],
    addresses={
        "PCIEx16(G5)": {"0000:00:01.0": 4},
        "PCIEX16(G4)_1": {"0000:00:1c.4": 5},
        "PCIEX16(G4)_2": {"0000:00:1a.0": 6},
    },
)


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("x4 PCI Express 4 x16", ("pcie", 4, 16, 4)),
        ("x16 PCI Express", ("pcie", 16, None, None)),
        ("PCI Express x16", ("pcie", None, 16, None)),
        ("x16 PCI Express 3", ("pcie", 16, None, 3)),
        ("32-bit PCI Express", ("pcie", None, None, None)),
        ("x1 PCI Express 4 x1", ("pcie", 1, 1, 4)),
        ("x4 M.2 Socket 3", ("m2", 4, None, None)),
        ("M.2 Socket 1-SD", ("other", None, None, None)),
        ("32-bit PCI", ("other", None, None, None)),
        ("x16 PCI Express 3 x8", (None, None, None, None)),  # wider than the slot: widths not trusted
    ],
)
def test_slot_types_are_read_as_the_firmware_writes_them(type_, expected):
    s = parse_slot(_slot("PCIEX16_1", type_))
    kind, bus, phys, gen = expected
    if kind is None:
        assert s.electrical_width is None
        return
    assert (s.kind, s.electrical_width, s.physical_width, s.gen) == (kind, bus, phys, gen)


def test_m2_listed_as_pcie_is_an_m2_socket():
    assert parse_slot(_slot("M.2_1", "x4 PCI Express 4 x4")).kind == "m2"
    assert parse_slot(_slot("PCIEX16(G5)", "x16 <OUT OF SPEC>")).kind == "pcie"


@pytest.mark.parametrize(
    ("address", "source"),
    [
        ("0000:00:01.0", "cpu"),
        ("0000:00:01.1", "cpu"),
        ("0000:00:06.0", "cpu"),
        ("0000:00:1c.4", "chipset"),
        ("0000:00:1a.0", "chipset"),
        ("0000:00:1d.0", "chipset"),
        ("0000:00:03.1", None),
        ("0000:40:01.1", None),
    ],
)
def test_intel_root_ports_tell_cpu_from_chipset(address, source):
    assert root_port_source({address: 3, "0000:00:1f.0": 1}) == source


def test_amd_bus_addresses_say_nothing():
    assert (
        parse_slot(_slot("PCIE_1", "x16 PCI Express 4 x16"), {"0000:00:01.1": 3}, intel=False).source is None
    )


@pytest.mark.parametrize(
    ("name", "brand", "model"),
    [
        ("ASUS ProArt Z790-CREATOR WIFI", "ASUS", "ProArt Z790-CREATOR WIFI"),
        ("ASUS ROG Crosshair VIII Hero (WI-FI)", "ASUS", "ROG CROSSHAIR VIII HERO (WI-FI)"),
        ("MSI MPG X670E CARBON WIFI", "MSI", "MPG X670E CARBON WIFI (MS-7D70)"),
        ("Gigabyte B860M H LGA1851 DDR5 Micro ATX", "Gigabyte", "B860M H"),
        ("Asus H310 PRIME H310M-A R2.0 LGA1151 DDR4 Micro ATX", "ASUS", "PRIME H310M-A R2.0"),
        ("Supermicro M12SWA-TF", "Supermicro", "M12SWA-TF"),
    ],
)
def test_names_match_their_firmware_model(name, brand, model):
    assert model_key(model) in name_keys(name, brand)


def test_match_needs_the_same_vendor_and_the_whole_model():
    index = FirmwareIndex()
    for line in (
        _line("B860M H", [], vendor="Gigabyte Technology"),
        _line("B860M", [], vendor="Gigabyte Technology"),
        _line("B860M H", [], vendor="MSI"),
    ):
        index.lines.setdefault(model_key(line["model"]), []).append(line)
    found = index.match("Gigabyte B860M H LGA1851 DDR5 Micro ATX", "Gigabyte")
    assert [(x["vendor"], x["model"]) for x in found] == [("Gigabyte Technology", "B860M H")]
    assert index.match("Gigabyte B860M H2 DDR5 Micro ATX", "Gigabyte") == []
    assert index.match("ASRock B860M H", "ASRock") == []


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=60), st.sampled_from(["ASUS", "MSI", "Gigabyte", "ASRock", ""]))
def test_name_keys_never_fail_and_are_folded(name, brand):
    for key in name_keys(name, brand):
        assert key == model_key(key) and len(key) >= 3


def test_derived_topology_from_the_z790_creator_firmware():
    topo = derive_topology([Z790], intel=True)
    slots = topo["pcie_slots"]
    assert [(s["electrical_width"], s["physical_width"], s["gen"], s["source"]) for s in slots] == [
        (16, 16, 5, "cpu"),
        (4, 16, 4, "chipset"),
        (4, 16, 4, "chipset"),
    ]
    assert all(s["row_known"] is False and s["evidence"] == "firmware" for s in slots)
    assert len(topo["m2_sockets"]) == 5


def test_templates_and_widthless_tables_prove_nothing():
    template = dict(Z790, tables=[dict(Z790["tables"][0], models_with_same_table=4)])
    assert derive_topology([template], intel=True) is None
    blank = _line("X", [_slot("PCIE_1", "PCI Express"), _slot("PCIE_2", "x16 PCI Express")])
    assert derive_topology([blank], intel=False) is None


def test_compare_names_each_disagreement():
    record = {
        "slug": "z790",
        "spec": {
            "socket": "LGA1700",
            "pcie_slots": [
                {
                    "position": 1,
                    "physical_width": 16,
                    "electrical_width": 16,
                    "gen": 5,
                    "source": "cpu",
                    "bifurcation": ["x8x8"],
                    "designation": "PCIEx16(G5)",
                },
                {
                    "position": 4,
                    "physical_width": 16,
                    "electrical_width": 8,
                    "gen": 5,
                    "source": "cpu",
                    "bifurcation": [],
                    "designation": "PCIEX16(G4)_1",
                },
            ],
            "m2_sockets": [{"name": f"M2_{i}", "gen": 4, "lanes": 4, "source": "cpu"} for i in range(4)],
        },
    }
    table = parse_line(Z790, intel=True)[0]
    fields = {d.field for d in compare(record, table, intel=True)}
    assert fields == {
        "slot_count",
        "m2_count",
        "PCIEX16(G4)_1.electrical_width",
        "PCIEX16(G4)_1.gen",
        "PCIEX16(G4)_1.source",
    }


def _curated_records():
    return json.loads(
        (Path(__file__).resolve().parents[2] / "catalog/data/parts/motherboard.json").read_text()
    )


@pytest.mark.skipif(not DEFAULT_PATH.exists(), reason="../shared/dmi is not beside this checkout")
def test_verify_boards_passes_on_the_curated_catalogue():
    # Every disagreement with the firmware is fixed in the data or explained there (make test runs it too).
    call_command("verify_boards", "--quiet")


def test_a_row_without_evidence_fails_the_check():
    index = FirmwareIndex()
    record = {
        "slug": "x",
        "name": "Test Board",
        "brand": "Nobody",
        "evidence": {"m": {"kind": "manual", "url": "https://example.org/manual.pdf", "page": "2"}},
        "spec": {"pcie_slots": [{"position": 1, "evidence": "m"}, {"position": 2}]},
    }
    result = check_board(record, index)
    assert result.evidence_errors == ["spec.pcie_slots[1].evidence: None names no evidence entry"]
    record["spec"]["pcie_slots"][1]["evidence"] = "m"
    assert check_board(record, index).ok


@pytest.mark.skipif(not (DEFAULT_PATH.exists() and OPENDB.exists()), reason="../shared data sets absent")
def test_hundreds_of_opendb_boards_gain_a_firmware_table():
    index = FirmwareIndex.load()
    derived = 0
    with tarfile.open(OPENDB) as tar:
        for member in tar:
            if "/Motherboard/" not in member.name or not member.name.endswith(".json"):
                continue
            row = json.load(tar.extractfile(member))
            meta = row.get("metadata") or {}
            lines = index.match(meta.get("name") or "", meta.get("manufacturer") or "")
            socket = (row.get("socket") or "").replace(" ", "")
            derived += bool(lines and derive_topology(lines, is_intel(socket)))
    assert derived >= 300


@pytest.mark.django_db
def test_import_board_firmware_writes_rows_and_lane_checks_run(tmp_path):
    path = tmp_path / "dmi.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(json.dumps(Z790) + "\n")
    board = Motherboard.objects.create(
        slug="asus-proart-z790-creator-wifi-odb",
        category="motherboard",
        name="ASUS ProArt Z790-CREATOR WIFI",
        brand="ASUS",
        socket="LGA1700",
        curated=False,
    )
    curated = Motherboard.objects.create(
        slug="curated-z790",
        category="motherboard",
        name="ASUS ProArt Z790-CREATOR WIFI D5",
        brand="ASUS",
        socket="LGA1700",
        curated=True,
        topology_source=TopologySource.CURATED,
    )
    call_command("import_board_firmware", "--dmi", str(path))
    call_command("import_board_firmware", "--dmi", str(path))  # idempotent
    board.refresh_from_db()
    assert board.topology_source == TopologySource.FIRMWARE
    assert board.firmware["dmi_models"] == ["ProArt Z790-CREATOR WIFI"]
    assert board.pcie_slots.count() == 3 and board.m2_sockets.count() == 5
    assert not curated.pcie_slots.exists()
    # lane checks work on it: the second GPU lands on a chipset x4 slot, and no row verdict is claimed
    gpu = {"vram_gb": 24, "pcie_gen": 4, "pcie_lanes": 16, "slot_width": 3, "cooler": "axial"}
    from catalog.engine import Rig, part_from_dict

    parts = (
        engine_part(part_id=board.slug, name=board.name, category="motherboard", spec=spec_for(board)),
        part_from_dict({"category": "gpu", "name": "GPU", "id": "gpu", "spec": gpu, "quantity": 2}),
    )
    report = check(Rig(parts), parse_context({}))
    lanes = sorted((x["width"], x["source"]) for x in report.lanes if x["kind"] == "gpu")
    assert lanes == [(4, "chipset"), (16, "cpu")]
    assert {"GPU_ON_CHIPSET", "TOPOLOGY_FIRMWARE"} <= report.codes
    assert not report.codes & {"GPU_SLOT_OBSTRUCTED", "GPU_SPACING_TIGHT"}
