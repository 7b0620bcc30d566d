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
