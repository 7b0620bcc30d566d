"""The part page shows where each slot row comes from, marks guesses, and credits firmware-derived data;
a curated board's evidence survives bootstrap (and a second bootstrap changes nothing)."""

import pytest

from catalog.bootstrap import load_parts
from catalog.models import Motherboard, PcieSlot, TopologySource

RECORD = {
    "slug": "test-evidence-board",
    "name": "Test Evidence Board",
    "brand": "Test",
    "spec": {
        "socket": "AM5",
        "pcie_slots": [
            {
                "position": 1,
                "physical_width": 16,
                "electrical_width": 16,
                "gen": 5,
                "source": "cpu",
                "bifurcation": ["x8x8"],
                "evidence": "manual",
                "designation": "PCIE_1",
            },
            {
                "position": 4,
                "physical_width": 16,
                "electrical_width": 4,
                "gen": 4,
                "source": "chipset",
                "evidence": "est",
            },
        ],
        "m2_sockets": [{"name": "M2_1", "gen": 5, "lanes": 4, "source": "cpu", "evidence": "manual"}],
        "lane_rules": [{"when": 4, "target": "M2_1", "effect": "disable", "evidence": "est"}],
    },
    "sources": [],
    "evidence": {
        "manual": {"kind": "manual", "url": "https://example.org/manual.pdf", "page": "1-3"},
        "est": {"kind": "estimated", "why": "row read from a board photo"},
    },
    "firmware": {"dmi_models": [], "exceptions": []},
}


@pytest.mark.django_db
def test_part_page_shows_evidence_per_row_and_a_legend(client):
    load_parts("motherboard", [RECORD])
    load_parts("motherboard", [RECORD])  # idempotent
    board = Motherboard.objects.get(slug=RECORD["slug"])
    assert board.topology_source == TopologySource.CURATED
    assert list(board.pcie_slots.values_list("evidence", "evidence_key")) == [
        ("manual", "manual"),
        ("estimated", "est"),
    ]
    html = client.get(f"/parts/motherboard/{RECORD['slug']}/").content.decode()
    assert html.count('class="evidence-ref evidence-manual"') == 2  # slot row 1 and M2_1
    assert html.count('class="evidence-ref evidence-estimated"') == 2  # slot row 4 and the rule
    assert "manual p. 1-3" in html
    assert 'href="https://example.org/manual.pdf"' in html
    assert "row read from a board photo" in html
    assert "Evidence, strongest first" in html
    assert "linuxhw" not in html  # no firmware-derived data shown, so no DMI credit


@pytest.mark.django_db
def test_firmware_derived_board_page_says_rows_unknown_and_credits_dmi(client):
    board = Motherboard.objects.create(
        slug="odb-board",
        category="motherboard",
        name="Some Board",
        brand="ASUS",
        curated=False,
        topology_source=TopologySource.FIRMWARE,
        evidence={"dmi": {"kind": "firmware", "reports": 4, "model": "SOME BOARD"}},
    )
    PcieSlot.objects.create(
        board=board,
        position=1,
        row_known=False,
        electrical_width=16,
        physical_width=16,
        gen=4,
        evidence="firmware",
        evidence_key="dmi",
        bifurcation=None,
    )
    html = client.get("/parts/motherboard/odb-board/").content.decode()
    assert "comes from the board's firmware" in html
    assert "firmware's order (rows unknown)" in html
    assert "4 reports" in html
    assert "DMI tables from linux-hardware.org (linuxhw/DMI)</a>, CC BY 4.0" in html


def _load(slugs):
    import json

    from catalog.bootstrap import DATA_DIR, load_exchange_rates

    load_exchange_rates()
    for category in ("motherboard", "cpu", "gpu"):
        records = json.loads((DATA_DIR / "parts" / f"{category}.json").read_text())
        load_parts(category, [r for r in records if r["slug"] in slugs])


@pytest.mark.django_db
def test_proart_z790_creator_puts_the_second_gpu_on_chipset_x4():
    # The firmware (00:1c.4, 00:1a.0) and the corrected catalogue: one CPU PCIe 5.0 x16 slot, two x16-size
    # slots wired x4 to the chipset. The old data split the CPU x16 as x8/x8 over two slots.
    from catalog.engine import Rig, check, parse_context
    from catalog.models import Part
    from catalog.specs import engine_part, spec_for

    board, cpu, gpu = "asus-proart-z790-creator-wifi", "intel-core-i9-13900k", "nvidia-geforce-rtx-3090-fe"
    _load({board, cpu, gpu})
    parts = [Part.objects.get(slug=s).typed() for s in (board, cpu, gpu)]
    rig = Rig(
        tuple(
            engine_part(part_id=p.slug, name=p.name, category=p.category, spec=spec_for(p), quantity=q)
            for p, q in zip(parts, (1, 1, 2), strict=True)
        )
    )
    report = check(rig, parse_context({}))
    lanes = sorted((x["width"], x["source"]) for x in report.lanes if x["kind"] == "gpu")
    assert lanes == [(4, "chipset"), (16, "cpu")]
    chipset = [f for f in report.findings if f.code == "GPU_ON_CHIPSET"]
    assert len(chipset) == 1 and "x4" in chipset[0].message
