"""The OpenDB importer on real, dirty rows from the shared snapshot (../shared/opendb, never committed)."""

import functools
import io
import json
import math
import tarfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.importers.opendb import OPENDB_CREDIT, OpenDBError, import_opendb
from catalog.models import Case, Cooler, Cpu, Fan, Gpu, MemoryKit, Motherboard, Part, Psu, Storage

pytestmark = pytest.mark.django_db

SHARED = Path(__file__).resolve().parents[3] / "shared" / "opendb"
TARBALL = SHARED / "buildcores-open-db-136a77a.tar.gz"
if not TARBALL.exists():
    pytest.skip(f"OpenDB snapshot not found at {TARBALL} (../shared is absent)", allow_module_level=True)

# Real rows of snapshot 136a77a, each chosen for a kind of dirt (values checked against the raw JSON below).
ROWS = {
    # RX 7900 XTX, 355 W listed, all power connector counts 0 -> unknown, not "needs no cable"
    ("GPU", "117c10a0-95b0-4241-a8ab-5bb903855da5"),
    # RTX 5070 with one 12VHPWR input, "PCIe 5.0 x16", "3 Fans"
    ("GPU", "1292d73a-75d1-4b35-868c-e793f6d22399"),
    # RTX 4090 whose slot width is outside 1..6 slots
    ("GPU", "b48e2e97-98a1-4c88-8fc2-d9661c0430e4"),
    # Ryzen 5 9600: ppt 0 -> NULL
    ("CPU", "103ad632-4a9b-4126-9ed9-9d7ef4793060"),
    ("Motherboard", "00a76de3-ab0b-4444-b418-c7201b8fd560"),  # ASRock X870 Challenger WIFI
    ("PSU", "0087abaf-1f76-4dde-80c3-0b7db229f044"),  # 750 W, connector counts left at 0 (EPS 0 too)
    ("CaseFan", "03cc2907-512c-44a8-8f81-bc544a08649e"),  # NZXT F360U: "size" 360 (3 fans), out of range
    ("RAM", "000c0c27-8b0a-4760-92ec-89ef39e630d8"),
    ("Storage", "000e2e21-7ddc-48cd-9a02-7d8b3947263f"),
    ("PCCase", "1ae2401a-65b2-4e8f-bc44-ea4aced6ce51"),  # test bench -> open frame
    ("CPUCooler", "001bf0e9-535a-4d4b-840f-67fc82f6748c"),
}
# Two files, one product: the same name and part number PRIME-RTX5070-O12G.
DUPLICATE_NAME = "ASUS PRIME GeForce RTX 5070 12GB GDDR7 OC Edition"


@functools.cache
def snapshot() -> dict[tuple[str, str], bytes]:
    files = {}
    with tarfile.open(TARBALL) as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isfile() and len(parts) >= 3 and parts[-3] == "open-db" and parts[-1].endswith(".json"):
                files[(parts[-2], parts[-1][:-5])] = tar.extractfile(member).read()
    return files


def raw(folder: str, oid: str) -> dict:
    return json.loads(snapshot()[(folder, oid)])


def write_rows(root: Path, rows) -> Path:
    for folder, oid in rows:
        target = root / "open-db" / folder / f"{oid}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(snapshot()[(folder, oid)])
    return root


def duplicate_pair() -> list[tuple[str, str]]:
    return sorted(
        key
        for key, data in snapshot().items()
        if key[0] == "GPU" and json.loads(data)["metadata"]["name"] == DUPLICATE_NAME
    )


@pytest.fixture
def sample(tmp_path):
    return write_rows(tmp_path / "odb", ROWS)


def test_maps_real_rows_into_typed_columns(sample):
    report = import_opendb(sample)
    assert (report.imported, report.updated, report.skipped) == (len(ROWS), 0, 0)

    xtx = Gpu.objects.get(opendb_id="117c10a0-95b0-4241-a8ab-5bb903855da5")
    src = raw("GPU", xtx.opendb_id)
    assert src["power_connectors"] == {"pcie_6_pin": 0, "pcie_8_pin": 0, "pcie_12VHPWR": 0, "pcie_12V_2x6": 0}
    assert xtx.power_8pin is None and xtx.power_12v2x6 is None  # zeros that mean "not filled in"
    assert xtx.board_power_w == src["tdp"] > 75
    assert (xtx.pcie_gen, xtx.pcie_lanes) == (4, 16)  # "PCIe 4.0 x16"
    assert xtx.vram_gb == 24
    assert xtx.length_mm == math.ceil(src["length"])
    assert xtx.bf16_tflops is None and xtx.memory_bandwidth_gbps is None and xtx.transient_peak_w is None
    assert not xtx.curated and xtx.brand == src["metadata"]["manufacturer"]
    assert xtx.notes.startswith("Imported from BuildCores OpenDB (ODC-By)")
    assert xtx.sources == [
        "https://github.com/buildcores/buildcores-open-db/blob/main/open-db/GPU/117c10a0-95b0-4241-a8ab-5bb903855da5.json"
    ]
    assert xtx.slug.endswith("-117c10a0") and xtx.slug.startswith("xfx-gaming-radeon-rx-7900-xtx")

    rtx5070 = Gpu.objects.get(opendb_id="1292d73a-75d1-4b35-868c-e793f6d22399")
    assert (rtx5070.power_8pin, rtx5070.power_12v2x6) == (0, 1)  # real counts kept, 0 included
    assert (rtx5070.pcie_gen, rtx5070.pcie_lanes, rtx5070.cooler) == (5, 16, "axial")
    assert rtx5070.slot_width == Decimal(str(raw("GPU", rtx5070.opendb_id)["total_slot_width"])).quantize(
        Decimal("0.01")
    )

    wide = Gpu.objects.get(opendb_id="b48e2e97-98a1-4c88-8fc2-d9661c0430e4")
    assert wide.slot_width is None  # listed width outside the model's 1..6 slots
    assert report.flags["value out of range: gpu.slot_width"] == 1

    cpu = Cpu.objects.get(opendb_id="103ad632-4a9b-4126-9ed9-9d7ef4793060")
    assert raw("CPU", cpu.opendb_id)["specifications"]["ppt"] == 0
    assert (cpu.socket, cpu.cores, cpu.threads, cpu.tdp_w, cpu.ppt_w) == ("AM5", 6, 12, 65, None)
    assert cpu.memory_type == "DDR5" and cpu.cpu_lanes is None and cpu.pcie_gen is None

    board = Motherboard.objects.get(opendb_id="00a76de3-ab0b-4444-b418-c7201b8fd560")
    assert (board.socket, board.form_factor, board.memory_type) == ("AM5", "ATX", "DDR5")
    assert board.topology_curated is False
    assert not board.pcie_slots.exists() and not board.m2_sockets.exists() and not board.lane_rules.exists()
    first = raw("Motherboard", board.opendb_id)["pcie_slots"][0]
    assert f"{first['quantity']}x PCIe {first['gen']} x{first['lanes']}" in board.notes

    psu = Psu.objects.get(opendb_id="0087abaf-1f76-4dde-80c3-0b7db229f044")
    assert (psu.wattage_w, psu.power_8pin, psu.power_12v2x6, psu.modular) == (750, None, None, "non")

    fan = Fan.objects.get(opendb_id="03cc2907-512c-44a8-8f81-bc544a08649e")
    assert fan.size_mm is None and report.flags["value out of range: fan.size_mm"] == 1

    kit = MemoryKit.objects.get(opendb_id="000c0c27-8b0a-4760-92ec-89ef39e630d8")
    assert (kit.memory_type, kit.modules, kit.module_gb, kit.speed_mts) == ("DDR5", 2, 24, 6400)

    ssd = Storage.objects.get(opendb_id="000e2e21-7ddc-48cd-9a02-7d8b3947263f")
    assert (ssd.interface, ssd.pcie_gen, ssd.form_factor) == ("nvme", 4, "m2")
    assert ssd.capacity_gb == raw("Storage", ssd.opendb_id)["capacity"]

    bench = Case.objects.get(opendb_id="1ae2401a-65b2-4e8f-bc44-ea4aced6ce51")
    assert bench.open_frame is True and "ATX" in bench.form_factors

    cooler = Cooler.objects.get(opendb_id="001bf0e9-535a-4d4b-840f-67fc82f6748c")
    assert cooler.cooler_type == "air" and cooler.height_mm == math.ceil(
        raw("CPUCooler", cooler.opendb_id)["height"]
    )
    assert "LGA1700" in cooler.sockets or "AM4" in cooler.sockets


def test_tarball_and_directory_give_the_same_rows(tmp_path, sample):
    tar_path = tmp_path / "buildcores-open-db-136a77a.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        tar.add(sample / "open-db", arcname="./open-db")
    report = import_opendb(tar_path)
    assert report.imported == len(ROWS)
    # a snapshot named after its commit links each part to that commit's file
    assert Cpu.objects.get().sources == [
        "https://github.com/buildcores/buildcores-open-db/blob/136a77a/open-db/CPU/103ad632-4a9b-4126-9ed9-9d7ef4793060.json"
    ]
    again = import_opendb(sample, ref="136a77a")
    assert (again.imported, again.updated, again.unchanged) == (0, 0, len(ROWS))


def test_second_run_updates_never_duplicates(sample):
    import_opendb(sample)
    slugs = dict(Part.objects.values_list("opendb_id", "slug"))
    second = import_opendb(sample)
    assert (second.imported, second.updated, second.unchanged) == (0, 0, len(ROWS))
    assert (
        Part.objects.count()
        == len(ROWS)
        == Gpu.objects.count() + Part.objects.exclude(category="gpu").count()
    )

    # An upstream edit is an update in place: same row, same slug.
    path = sample / "open-db" / "GPU" / "1292d73a-75d1-4b35-868c-e793f6d22399.json"
    data = json.loads(path.read_text())
    data["length"] = 333
    path.write_text(json.dumps(data))
    third = import_opendb(sample)
    assert (third.imported, third.updated, third.unchanged) == (0, 1, len(ROWS) - 1)
    gpu = Gpu.objects.get(opendb_id="1292d73a-75d1-4b35-868c-e793f6d22399")
    assert gpu.length_mm == 333 and gpu.slug == slugs[gpu.opendb_id]
    assert Part.objects.count() == len(ROWS)


def test_duplicates_are_skipped_with_the_kept_id(tmp_path):
    pair = duplicate_pair()
    assert len(pair) == 2
    report = import_opendb(write_rows(tmp_path / "odb", pair))
    assert (report.imported, report.skipped) == (1, 1)
    kept = Gpu.objects.get()
    skipped_id, why = report.details[0]
    assert why == f"duplicate of {kept.opendb_id}" and skipped_id != kept.opendb_id
    assert report.reasons["duplicate (same name and part number or spec)"] == 1
    # equally complete copies: the lower id is kept, run after run
    assert kept.opendb_id == min(oid for _, oid in pair)
    again = import_opendb(tmp_path / "odb")
    assert (again.imported, again.unchanged, again.skipped) == (0, 1, 1)


def test_same_name_different_products_are_both_kept(tmp_path):
    # Gigabyte WINDFORCE 3X GTX 970: OC and non-OC SKUs share a name (different part numbers and lengths).
    pair = [("GPU", "5ed4af48-2100-4ba7-8bef-b26f8f1ea26c"), ("GPU", "60df7e9e-16c0-465e-9d31-0302399c4d9a")]
    report = import_opendb(write_rows(tmp_path / "odb", pair))
    assert (report.imported, report.skipped) == (2, 0)
    assert len({p.slug for p in Part.objects.all()}) == 2
    zeros = Gpu.objects.get(opendb_id="5ed4af48-2100-4ba7-8bef-b26f8f1ea26c")
    filled = Gpu.objects.get(opendb_id="60df7e9e-16c0-465e-9d31-0302399c4d9a")
    assert (zeros.power_8pin, filled.power_8pin) == (None, 1)  # all-zero connectors on a 145 W card: unknown
    assert "6-pin PCIe inputs (OpenDB): 1" in filled.notes


def test_malformed_files_are_reported_not_raised(tmp_path, sample):
    gpu_dir = sample / "open-db" / "GPU"
    (gpu_dir / "broken.json").write_text('{"opendb_id": "broken", "metadata": {"name": "x"')
    (gpu_dir / "notobject.json").write_text("[1, 2, 3]")
    (gpu_dir / "noname-0000-0000-0000-000000000000.json").write_text('{"metadata": {"manufacturer": "X"}}')
    (gpu_dir / "latin1.json").write_bytes(b'{"metadata": {"name": "Caf\xe9"}}')
    wrong = {
        "opendb_id": "wrongtypes-0000-0000-0000-000000000000",
        "metadata": {"name": "Wrong Types Card", "manufacturer": 7, "part_numbers": "not-a-list"},
        "memory": "lots",
        "length": "285 mm",
        "tdp": True,
        "interface": 16,
        "power_connectors": {"pcie_8_pin": 1.5},
        "total_slot_width": -2,
    }
    (gpu_dir / "wrongtypes-0000-0000-0000-000000000000.json").write_text(json.dumps(wrong))
    report = import_opendb(sample)
    assert report.imported == len(ROWS) + 1
    assert report.reasons["unparseable json"] == 2  # broken JSON, not UTF-8
    assert report.reasons["not a json object"] == 1
    assert report.reasons["missing name"] == 1
    card = Gpu.objects.get(opendb_id="wrongtypes-0000-0000-0000-000000000000")
    assert card.length_mm == 285  # unit text parsed
    assert card.vram_gb is None and card.board_power_w is None and card.slot_width is None
    assert card.pcie_lanes is None and card.power_8pin is None and card.brand == ""
    assert report.flags["wrong type: gpu.vram_gb"] == 1
    assert report.flags["wrong type: gpu.board_power_w"] == 1


def test_curated_parts_are_never_overwritten(sample):
    src = raw("CPU", "103ad632-4a9b-4126-9ed9-9d7ef4793060")
    curated = Cpu.objects.create(
        slug="amd-ryzen-5-9600", name=src["metadata"]["name"], category="cpu", curated=True, tdp_w=65, cores=6
    )
    claimed = Gpu.objects.create(
        slug="curated-rtx-5070",
        name="Curated RTX 5070 entry",
        category="gpu",
        curated=True,
        opendb_id="1292d73a-75d1-4b35-868c-e793f6d22399",
        length_mm=250,
    )
    report = import_opendb(sample)
    assert report.imported == len(ROWS) - 2
    assert report.reasons["matches a curated part"] == 1
    assert report.reasons["curated part has this opendb_id"] == 1
    curated.refresh_from_db()
    claimed.refresh_from_db()
    assert curated.opendb_id is None and curated.ppt_w is None and curated.notes == ""
    assert claimed.length_mm == 250 and claimed.name == "Curated RTX 5070 entry"
    assert Cpu.objects.count() == 1


def test_unreadable_input_is_a_clear_error(tmp_path):
    bad = tmp_path / "snapshot.tar.gz"
    bad.write_bytes(b"this is not gzip")
    with pytest.raises(OpenDBError, match="not a readable OpenDB archive"):
        import_opendb(bad)
    with pytest.raises(OpenDBError, match="no such file"):
        import_opendb(tmp_path / "missing.tar.gz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OpenDBError, match="no OpenDB part files"):
        import_opendb(tmp_path / "empty")
    with pytest.raises(CommandError, match="not a readable OpenDB archive"):
        call_command("import_opendb", str(bad))
    assert not Part.objects.exists()


def test_truncated_archive_leaves_nothing_half_written(tmp_path, sample):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(sample / "open-db", arcname="open-db")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(OpenDBError):
        import_opendb(cut)
    assert not Part.objects.exists()


def test_command_prints_report_and_credit(sample):
    out = io.StringIO()
    call_command("import_opendb", str(sample), stdout=out)
    text = out.getvalue()
    assert f"{len(ROWS)} imported, 0 updated, 0 unchanged, 0 skipped" in text
    assert "value out of range: gpu.slot_width" in text
    assert OPENDB_CREDIT in text
    assert "github.com/buildcores/buildcores-open-db" in OPENDB_CREDIT and "ODC-By" in OPENDB_CREDIT
