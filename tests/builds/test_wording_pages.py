"""Issue 15, item 11: what users read is English, not codes: picker summaries, categories, strategies,
circuits; the case-air panel asks for what the build lacks."""

import re

import pytest

from builds.wording import circuit_text, picker_summary, thermal_hint


@pytest.mark.parametrize(
    ("category", "rows", "single", "expected"),
    [
        ("gpu", False, False, "Choose a GPU"),
        ("gpu", True, False, "Add another GPU"),
        ("cpu", True, True, "Swap the CPU"),
        ("memory", False, False, "Choose a memory kit"),
        ("psu", True, False, "Add another power supply"),
        ("case", False, True, "Choose a case or open frame"),
        ("fan", True, False, "Add another case fan"),
    ],
)
def test_picker_summary(category, rows, single, expected):
    assert picker_summary(category, rows, single) == expected


def test_circuit_text():
    assert circuit_text("220v-10a") == "220 V / 10 A"
    assert circuit_text({"volts": 240, "amps": 30}) == "240 V / 30 A"
    assert circuit_text("120.5v-15a") == "120.5 V / 15 A"
    assert circuit_text("something") == "something"


def test_thermal_hint_matches_the_build():
    none = {"thermal": {"case_air_rise_c": None, "gpus": [1]}}
    assert "Add a case and case fans" in thermal_hint({"gpu"}, none)
    assert thermal_hint({"gpu", "case"}, none).startswith("Add the case fans")
    assert "no rated airflow" in thermal_hint({"gpu", "case", "fan"}, none)
    assert thermal_hint({"gpu", "case", "fan"}, {"thermal": {"case_air_rise_c": 5.0}}) == ""


def test_pages_show_words_not_codes(client, seed_catalogue):
    build = seed_catalogue["dual-4090-home-server"]
    page = client.get(f"/b/{build.share_id}/").content.decode()
    parts = page[page.index('id="parts-table"') : page.index("</table>", page.index('id="parts-table"'))]
    assert "Power supply" in parts and "Motherboard" in parts
    assert not re.search(r'text-body-secondary">(gpu|cpu|psu|motherboard|memory)<', parts)
    assert not re.search(r"\((ddp|zero3|pipeline|tensor|fsdp)\)", page)  # workload table's strategies
    md = client.get(f"/b/{build.share_id}/?format=md").content.decode()
    assert "| GPU |" in md and "| gpu |" not in md and "220v-10a" not in md
    new = client.get("/builds/new/?circuit=220v-10a").content.decode()
    assert '<option value="220v-10a" selected>220 V / 10 A</option>' in new
    assert "Choose a GPU" in new and "Choose gpus" not in new
