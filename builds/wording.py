"""Labels in plain English (issue 15, item 11): picker summaries with singular nouns and articles,
circuits as "230 V / 10 A", and what the case-air panel asks for."""

import re

from catalog.engine.wording import with_article

# What one part of a category is called in a sentence ("Choose a GPU", "Add another fan").
PART_NOUNS = {
    "gpu": "GPU",
    "cpu": "CPU",
    "motherboard": "motherboard",
    "memory": "memory kit",
    "storage": "drive",
    "psu": "power supply",
    "case": "case or open frame",
    "cooler": "CPU cooler",
    "fan": "case fan",
    "riser": "riser or extender",
    "brace": "GPU brace",
}
# A multi-GPU strategy code as a short label (the workload table's GPUs column).
PARALLEL_SHORT = {
    "ddp": "DDP",
    "zero3": "ZeRO-3",
    "fsdp": "FSDP",
    "pipeline": "layer split",
    "tensor": "tensor split",
    "expert": "expert split",
}
CIRCUIT_CODE = re.compile(r"^([0-9.]+)v-([0-9.]+)a$", re.IGNORECASE)


def picker_summary(category: str, has_rows: bool, single: bool) -> str:
    noun = PART_NOUNS.get(category, category)
    if single and has_rows:
        return f"Swap the {noun}"
    if has_rows:
        return f"Add another {noun}"
    return f"Choose {with_article(noun)}"


def circuit_text(code) -> str:
    """'230v-10a' or {"volts": 230, "amps": 10} as '230 V / 10 A'; anything else as given."""
    if isinstance(code, dict) and code.get("volts") and code.get("amps"):
        return f"{float(code['volts']):g} V / {float(code['amps']):g} A"
    match = CIRCUIT_CODE.match(str(code or ""))
    if not match:
        return str(code or "")
    return f"{float(match.group(1)):g} V / {float(match.group(2)):g} A"


def thermal_hint(categories: set[str], report: dict) -> str:
    """Why the case-air panel has no estimate, for this build: no case, no fans, or fans with no rating."""
    thermal = report.get("thermal") or {}
    if thermal.get("open_frame") or thermal.get("case_air_rise_c") is not None:
        return ""
    if "case" not in categories and "fan" not in categories:
        return "Add a case and case fans to estimate the air temperature rise."
    if "case" not in categories:
        return "Add a case (or an open frame) to estimate the air temperature rise."
    if "fan" not in categories:
        return "Add the case fans (with their rated airflow) to estimate the air temperature rise."
    if not thermal.get("gpus"):
        return "Add a GPU to estimate the air temperature rise."
    return "A case fan in the build has no rated airflow (CFM): the air temperature rise is not estimated."


def parallel_text(code: str | None) -> str:
    return PARALLEL_SHORT.get(code or "", code or "")


def part_noun(category: str) -> str:
    """A category code ("psu") as the word for one such part ("power supply")."""
    return PART_NOUNS.get(category, category)
