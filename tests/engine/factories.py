"""Builders for engine tests: parts from inline dicts (through the strict validator), a clean base rig.

The base rig is synthetic (round numbers) and free of findings, so a test can change one thing and see
exactly one code appear. Real parts with sources live in test_seed_rigs.py.
"""

from __future__ import annotations

from catalog.engine import Context, Part, Rig, check, parse_context, part_from_dict

GPU = {
    "vram_gb": 24,
    "memory_bandwidth_gbps": 1008,
    "bf16_tflops": 165,
    "board_power_w": 450,
    "transient_peak_w": 550,
    "slot_width": 3,
    "length_mm": 290,
    "cooler": "axial",
    "pcie_gen": 4,
    "pcie_lanes": 16,
    "power_8pin": 0,
    "power_12v2x6": 1,
    "p2p": True,
}
CPU = {
    "socket": "AM5",
    "cores": 16,
    "threads": 32,
    "tdp_w": 170,
    "ppt_w": 230,
    "pcie_gen": 5,
    "cpu_lanes": 24,
    "memory_type": "DDR5",
    "memory_channels": 2,
    "max_memory_gb": 192,
}
# X670E-style topology: two CPU slots (x16, or x8/x8), a chipset x4 slot, two CPU M.2, one chipset M.2.
BOARD = {
    "socket": "AM5",
    "form_factor": "ATX",
    "memory_type": "DDR5",
    "memory_slots": 4,
    "max_memory_gb": 192,
    "chipset_uplink_gbps": 7.9,
    "pcie_slots": [
        {
            "position": 1,
            "physical_width": 16,
            "electrical_width": 16,
            "gen": 5,
            "source": "cpu",
            "bifurcation": ["x8x8", "x4x4x4x4"],
        },
        {"position": 2, "physical_width": 1, "electrical_width": 1, "gen": 4, "source": "chipset"},
        {"position": 5, "physical_width": 16, "electrical_width": 8, "gen": 5, "source": "cpu"},
        {"position": 7, "physical_width": 16, "electrical_width": 4, "gen": 4, "source": "chipset"},
    ],
    "m2_sockets": [
        {"name": "M2_1", "gen": 5, "lanes": 4, "source": "cpu"},
        {"name": "M2_2", "gen": 5, "lanes": 4, "source": "cpu"},
        {"name": "M2_3", "gen": 4, "lanes": 4, "source": "chipset"},
    ],
    "lane_rules": [{"when": 5, "target": 1, "effect": "width", "width": 8}],
}
MEMORY = {"memory_type": "DDR5", "modules": 2, "module_gb": 32, "speed_mts": 5600}
NVME = {"interface": "nvme", "pcie_gen": 4, "capacity_gb": 2000, "form_factor": "m2"}
PSU = {"wattage_w": 1000, "efficiency": "gold", "atx3": True, "power_8pin": 4, "power_12v2x6": 1}
CASE = {
    "form_factors": ["E-ATX"],
    "max_gpu_length_mm": 400,
    "max_cooler_height_mm": 185,
    "expansion_slots": 8,
    "open_frame": False,
}
COOLER = {"cooler_type": "air", "height_mm": 165, "rated_w": 250, "sockets": ["AM4", "AM5"]}
FAN = {"airflow_cfm": 70}


def part(category: str, spec: dict, name: str | None = None, **kw) -> Part:
    name = name or category.upper()
    data = {"category": category, "name": name, "id": kw.pop("id", name.lower().replace(" ", "-"))}
    data["spec"] = spec
    data.update(kw)
    return part_from_dict(data)


def with_(base: dict, **changes) -> dict:
    out = dict(base)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def base_parts(gpus: int = 1, **kw) -> dict[str, Part | None]:
    """Parts of the clean base rig by role; pass role=None to drop one, role=Part to replace it."""
    parts: dict[str, Part | None] = {
        "gpu": part("gpu", GPU, "Test GPU", quantity=gpus) if gpus else None,
        "cpu": part("cpu", CPU, "Test CPU"),
        "board": part("motherboard", BOARD, "Test Board"),
        "memory": part("memory", MEMORY, "Test RAM"),
        "nvme": part("storage", NVME, "Test NVMe"),
        "psu": part("psu", PSU, "Test PSU"),
        "case": part("case", CASE, "Test Case"),
        "cooler": part("cooler", COOLER, "Test Cooler"),
        "fan": part("fan", FAN, "Test Fan", quantity=6),
        "brace": part("brace", {}, "Test Brace"),
    }
    parts.update(kw)
    return parts


def rig(**kw) -> Rig:
    gpus = kw.pop("gpus", 1)
    extra = kw.pop("extra", ())
    return Rig(tuple(p for p in base_parts(gpus, **kw).values() if p is not None) + tuple(extra))


def run(r: Rig, context: Context | dict | None = None):
    ctx = context if isinstance(context, Context) else parse_context(context)
    return check(r, ctx)


def codes(r: Rig, context=None) -> set[str]:
    return run(r, context).codes
