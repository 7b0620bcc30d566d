"""Issue 15, item 11: messages say "1 GPU" / "2 GPUs" and "an AM4 CPU", and NO_NVME matches the build."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.engine.memory import no_nvme_message
from catalog.engine.specs import StorageSpec
from catalog.engine.wording import article, plural, with_article

from .factories import MEMORY, part, rig, run, with_


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("AM4", "an"),
        ("AM5", "an"),
        ("LGA1700", "an"),
        ("sTR5", "an"),
        ("sWRX8", "an"),
        ("SP5", "an"),
        ("TR4", "a"),
        ("DDR5", "a"),
        ("SATA SSD", "a"),
        ("NVMe drive", "an"),
        ("800 W", "an"),
        ("1,600 W", "a"),
        ("11 A", "an"),
        ("ATX 3.x PSU", "an"),
        ("unit", "a"),
        ("open frame", "an"),
        ("hour", "an"),
        ("motherboard", "a"),
    ],
)
def test_article(word, expected):
    assert article(word) == expected
    assert with_article(word) == f"{expected} {word}"


@given(st.integers(0, 10_000))
def test_plural_never_writes_parenthesised_s(n):
    text = plural(n, "GPU")
    assert "(s)" not in text
    assert text == ("1 GPU" if n == 1 else f"{n} GPUs")


def test_missing_cpu_message_counts_gpus_in_words():
    one = run(rig(gpus=1, cpu=None)).to_dict()
    two = run(rig(gpus=2, cpu=None)).to_dict()
    messages = {f["message"] for r in (one, two) for f in r["findings"] if f["code"] == "CPU_MISSING"}
    assert "The build has 1 GPU but no CPU." in messages and "The build has 2 GPUs but no CPU." in messages


def drive(interface):
    return part("storage", {"interface": interface, "capacity_gb": 2000}, interface)


def test_no_nvme_speaks_of_what_the_build_has():
    assert "No storage drive" in no_nvme_message([]) and "SATA" not in no_nvme_message([])
    sata = no_nvme_message([type("D", (), {"spec": StorageSpec(interface="sata_ssd")})()])
    assert "from a SATA SSD" in sata
    hdd = no_nvme_message([type("D", (), {"spec": StorageSpec(interface="hdd")})()])
    assert "from a hard disk" in hdd and "SATA" not in hdd
    for storage, expected in (
        (None, "No storage drive"),
        (drive("hdd"), "hard disk"),
        (drive("sata_ssd"), "SATA SSD"),
    ):
        report = run(rig(nvme=storage)).to_dict()
        found = [f["message"] for f in report["findings"] if f["code"] == "NO_NVME"]
        assert found and expected in found[0], found


def test_registered_kit_on_am5_fires_and_unknown_does_not():
    def codes(memory):
        return run(rig(memory=memory)).codes

    assert "MEMORY_REGISTERED_MISMATCH" in codes(part("memory", with_(MEMORY, registered=True)))
    assert "MEMORY_REGISTERED_MISMATCH" not in codes(part("memory", MEMORY))  # unknown: silent
    assert "MEMORY_REGISTERED_MISMATCH" not in codes(part("memory", with_(MEMORY, registered=False)))


@given(st.text(max_size=12))
def test_article_answers_for_any_text(word):
    # Any socket or part name a curator or the API gives (Unicode digits such as "²" included) gets an article.
    assert article(word) in ("a", "an")
