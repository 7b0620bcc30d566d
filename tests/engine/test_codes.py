"""Every finding code fires on a rig made for it and stays silent on a near miss (issue 14, item 6).

One row per code in catalog.engine.report.CODES: a rig (and context) that fires it, and a rig that differs
in the one thing the check looks at and does not fire it. A code added to CODES without a row here fails
test_every_code_has_a_case; the severity and category the finding carries must be the registered ones.
The rigs are the clean synthetic base rig of factories.py with one change each.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catalog.engine.report import CODES
from catalog.engine.specs import Rig

from .factories import BOARD, CASE, COOLER, CPU, FAN, GPU, MEMORY, NVME, PSU, part, rig, run, with_

Case = tuple[Rig, dict | None]  # a rig and the context to check it in


def gpus(n: int = 1, **kw):
    spec = with_(GPU, **kw.pop("spec", {}))
    return part("gpu", spec, "GPU", quantity=n, **kw)


def board(**changes):
    return part("motherboard", with_(BOARD, **changes), "Board")


def psu(quantity: int = 1, **changes):
    return part("psu", with_(PSU, **changes), "PSU", quantity=quantity)


def drives(n: int):
    return part("storage", NVME, "SSD", quantity=n)


def bifurcation(modes):
    slots = [dict(s) for s in BOARD["pcie_slots"]]
    if modes is None:
        del slots[0]["bifurcation"]
    else:
        slots[0]["bifurcation"] = modes
    return board(pcie_slots=slots)


ONE_SLOT = [{"position": 1, "physical_width": 16, "electrical_width": 16, "gen": 5, "source": "cpu"}]
ADJACENT = [
    {"position": 1, "physical_width": 16, "electrical_width": 16, "gen": 4, "source": "cpu"},
    {"position": 3, "physical_width": 16, "electrical_width": 8, "gen": 4, "source": "cpu"},
]
SLOTS_1_4 = [
    {"position": 1, "physical_width": 16, "electrical_width": 8, "gen": 4, "source": "cpu"},
    {"position": 4, "physical_width": 16, "electrical_width": 8, "gen": 4, "source": "cpu"},
]
M2_NARROWS_SLOT_1 = [
    {"when": 5, "target": 1, "effect": "width", "width": 8},
    {"when": "M2_2", "target": 1, "effect": "width", "width": 8},
]
OFFLOAD_WORKLOAD = {
    "workloads": [
        {
            "model": "codellama-34b",
            "method": "full",
            "precision": "amp",
            "seq_len": 2048,
            "gpus": 2,
            "parallel": "zero3",
            "offload": "optimizer_and_params",
        }
    ]
}
BIG_RAM_BOARD = dict(max_memory_gb=2048, memory_slots=8)
BIG_RAM_CPU = part("cpu", with_(CPU, max_memory_gb=2048), "CPU")


def firmware_slots(evidence: str, **changes):
    return [dict(s, evidence=evidence, **changes) for s in BOARD["pcie_slots"]]


# code -> (fires, near miss); each a function returning (rig, context)
CASES: dict[str, tuple[Callable[[], Case], Callable[[], Case]]] = {
    "SOCKET_MISMATCH": (
        lambda: (rig(cpu=part("cpu", with_(CPU, socket="LGA1700"), "CPU")), None),
        lambda: (rig(cpu=part("cpu", with_(CPU, socket="am5"), "CPU")), None),  # case differs only
    ),
    "MEMORY_TYPE_MISMATCH": (
        lambda: (rig(memory=part("memory", with_(MEMORY, memory_type="DDR4"))), None),
        lambda: (rig(memory=part("memory", with_(MEMORY, memory_type="DDR5"))), None),
    ),
    "MEMORY_REGISTERED_MISMATCH": (  # an RDIMM kit on the base rig's AM5 board; an unbuffered one
        lambda: (rig(memory=part("memory", with_(MEMORY, registered=True))), None),
        lambda: (rig(memory=part("memory", with_(MEMORY, registered=False))), None),
    ),
    "MEMORY_SLOTS_EXCEEDED": (
        lambda: (rig(memory=part("memory", MEMORY, quantity=3)), None),  # 6 modules, 4 slots
        lambda: (rig(memory=part("memory", MEMORY, quantity=2)), None),  # 4 modules
    ),
    "MEMORY_CAPACITY_EXCEEDED": (
        lambda: (rig(memory=part("memory", with_(MEMORY, modules=4, module_gb=64))), None),  # 256 > 192
        lambda: (rig(memory=part("memory", with_(MEMORY, modules=4, module_gb=48))), None),  # 192
    ),
    "FORM_FACTOR_MISMATCH": (
        lambda: (rig(case=part("case", with_(CASE, form_factors=["Micro-ATX"]))), None),
        lambda: (rig(case=part("case", with_(CASE, form_factors=["ATX"]))), None),
    ),
    "GPU_TOO_LONG": (
        lambda: (rig(case=part("case", with_(CASE, max_gpu_length_mm=289))), None),
        lambda: (rig(case=part("case", with_(CASE, max_gpu_length_mm=290))), None),  # card is 290 mm
    ),
    "COOLER_TOO_TALL": (
        lambda: (rig(case=part("case", with_(CASE, max_cooler_height_mm=164))), None),
        lambda: (rig(case=part("case", with_(CASE, max_cooler_height_mm=165))), None),  # cooler 165
    ),
    "COOLER_SOCKET_UNSUPPORTED": (
        lambda: (rig(cooler=part("cooler", with_(COOLER, sockets=["AM4"]))), None),
        lambda: (rig(cooler=part("cooler", with_(COOLER, sockets=["AM5"]))), None),
    ),
    "SLOTS_EXHAUSTED": (
        lambda: (rig(gpus=2, board=board(pcie_slots=ONE_SLOT, lane_rules=None)), None),
        lambda: (rig(gpus=1, board=board(pcie_slots=ONE_SLOT, lane_rules=None)), None),
    ),
    "GPU_SLOT_OBSTRUCTED": (
        lambda: (rig(board=board(pcie_slots=ADJACENT, lane_rules=None), gpu=gpus(2, slots=[1, 3])), None),
        lambda: (  # the second card on a riser: its plug fits beside a 2.5-slot card
            rig(
                board=board(pcie_slots=ADJACENT, lane_rules=None),
                gpu=gpus(1, slots=[1], spec={"slot_width": 2.5}, id="a"),
                extra=(gpus(1, slots=[3], spec={"slot_width": 2.5}, riser=True, id="b"),),
            ),
            None,
        ),
    ),
    "M2_SLOTS_EXCEEDED": (
        lambda: (rig(nvme=drives(4)), None),
        lambda: (rig(nvme=drives(3)), None),  # three sockets
    ),
    "PSU_MISSING": (
        lambda: (rig(psu=None), None),
        lambda: (rig(gpus=0, psu=None), None),  # no GPU: no verdict on the PSU
    ),
    "CPU_MISSING": (
        lambda: (rig(cpu=None), None),
        lambda: (rig(gpus=0, cpu=None), None),
    ),
    "BOARD_MISSING": (
        lambda: (rig(board=None), None),
        lambda: (rig(gpus=0, board=None), None),
    ),
    "PSU_INSUFFICIENT": (
        lambda: (rig(gpus=2), None),
        lambda: (rig(gpus=1), None),
    ),
    "PSU_CONNECTORS_INSUFFICIENT": (
        lambda: (rig(psu=psu(power_8pin=2, power_12v2x6=0)), None),  # one 12V-2x6 card needs 3 8-pin
        lambda: (rig(psu=psu(power_8pin=3, power_12v2x6=0)), None),
    ),
    "PSU_ASSIGNMENT_INVALID": (
        lambda: (rig(gpu=gpus(2, psu=[0, 2]), psu=psu(2)), None),  # there is no PSU unit 2
        lambda: (rig(gpu=gpus(2, psu=[0, 1]), psu=psu(2)), None),
    ),
    "CIRCUIT_OVERLOAD": (
        lambda: (rig(gpus=3, psu=psu(2, wattage_w=1500)), None),  # 120 V / 15 A
        lambda: (rig(gpus=3, psu=psu(2, wattage_w=1500)), {"circuit": "230v-16a"}),
    ),
    "CIRCUIT_NEAR_LIMIT": (
        lambda: (rig(gpus=2, psu=psu(wattage_w=1600)), None),
        lambda: (rig(gpus=2, psu=psu(wattage_w=1600)), {"circuit": "230v-16a"}),
    ),
    "PSU_HEADROOM_LOW": (
        lambda: (rig(psu=psu(wattage_w=900)), None),
        lambda: (rig(psu=psu(wattage_w=1000)), None),
    ),
    "TRANSIENT_RISK": (
        lambda: (rig(gpu=gpus(spec={"transient_peak_w": 800}), psu=psu(atx3=False)), None),
        lambda: (rig(gpu=gpus(spec={"transient_peak_w": 800}), psu=psu(atx3=True)), None),  # rides 200 %
    ),
    "MULTI_PSU": (
        lambda: (rig(gpus=2, psu=psu(2)), None),
        lambda: (rig(gpus=2, psu=psu(1, wattage_w=1600)), None),
    ),
    "POWER_LIMIT": (
        lambda: (rig(gpu=gpus(power_limit_w=300)), None),
        lambda: (rig(gpu=gpus()), None),
    ),
    "PSU_EFFICIENCY_PAYBACK": (
        lambda: (rig(), {"kwh_price": 0.30, "hours_per_day": 24}),  # Gold: Platinum would pay back
        lambda: (rig(psu=psu(efficiency="titanium")), {"kwh_price": 0.30, "hours_per_day": 24}),
    ),
    "CPU_LANES_EXCEEDED": (
        lambda: (rig(cpu=part("cpu", with_(CPU, cpu_lanes=20), "CPU"), nvme=drives(2)), None),  # 24 > 20
        lambda: (rig(cpu=part("cpu", with_(CPU, cpu_lanes=20), "CPU"), nvme=drives(1)), None),  # 20
    ),
    "GPU_LINK_DEGRADED": (
        lambda: (rig(gpu=gpus(2, slots=[1, 7])), None),  # slot 7: x4
        lambda: (rig(gpu=gpus(2, slots=[1, 5])), None),  # x8 / x8
    ),
    "GPU_ON_CHIPSET": (
        lambda: (rig(gpu=gpus(2, slots=[1, 7])), None),
        lambda: (rig(gpu=gpus(2, slots=[1, 5])), None),
    ),
    "GPU_LINK_X1": (
        lambda: (rig(gpu=gpus(riser_width=1)), None),
        lambda: (rig(gpu=gpus(riser=True)), None),  # a full-width riser
    ),
    "LANE_SHARING": (
        lambda: (rig(board=board(lane_rules=M2_NARROWS_SLOT_1), nvme=drives(3)), None),  # M2_2 in use
        lambda: (rig(board=board(lane_rules=M2_NARROWS_SLOT_1), nvme=drives(2)), None),  # M2_1 + M2_3
    ),
    "BIFURCATION_UNSUPPORTED": (
        lambda: (rig(board=bifurcation(["x8x8"]), gpu=gpus(3, slots=[1, 1, 1])), None),
        lambda: (rig(board=bifurcation(["x8x8"]), gpu=gpus(2, slots=[1, 1])), None),
    ),
    "BIFURCATION_UNVERIFIED": (
        lambda: (rig(board=bifurcation(None), gpu=gpus(2, slots=[1, 1])), None),  # not curated
        lambda: (rig(board=bifurcation(["x8x8"]), gpu=gpus(2, slots=[1, 1])), None),
    ),
    "RISER_GEN_LIMIT": (
        lambda: (
            rig(gpu=gpus(riser=True), extra=(part("riser", {"pcie_gen": 3, "width": 16}, "Riser"),)),
            None,
        ),
        lambda: (
            rig(gpu=gpus(riser=True), extra=(part("riser", {"pcie_gen": 4, "width": 16}, "Riser"),)),
            None,
        ),
    ),
    "TOPOLOGY_UNCURATED": (
        lambda: (rig(gpus=2, board=board(pcie_slots=None, m2_sockets=None, lane_rules=None)), None),
        lambda: (rig(gpus=2), None),
    ),
    "TOPOLOGY_FIRMWARE": (
        lambda: (
            rig(gpus=2, board=board(pcie_slots=firmware_slots("firmware", row_known=False), lane_rules=[])),
            None,
        ),
        lambda: (rig(gpus=2, board=board(pcie_slots=firmware_slots("manual"), lane_rules=[])), None),
    ),
    "PARALLELISM_BANDWIDTH": (
        lambda: (rig(gpu=gpus(4, slots=[1, 1, 1, 1])), None),  # x4 links
        lambda: (rig(gpus=2), None),  # x8 / x8
    ),
    "NO_P2P": (
        lambda: (rig(gpu=gpus(2, spec={"p2p": False})), None),
        lambda: (rig(gpu=gpus(2, spec={"p2p": True})), None),
    ),
    "GPU_SPACING_TIGHT": (
        lambda: (
            rig(board=board(pcie_slots=SLOTS_1_4, lane_rules=None), gpu=gpus(2, spec={"cooler": "axial"})),
            None,
        ),
        lambda: (
            rig(board=board(pcie_slots=SLOTS_1_4, lane_rules=None), gpu=gpus(2, spec={"cooler": "blower"})),
            None,
        ),
    ),
    "CASE_AIRFLOW_LOW": (
        lambda: (rig(fan=part("fan", FAN, "Fan", quantity=2)), None),
        lambda: (rig(fan=part("fan", FAN, "Fan", quantity=6)), None),
    ),
    "COOLER_UNDERRATED": (
        lambda: (rig(cooler=part("cooler", with_(COOLER, rated_w=229))), None),  # CPU PPT 230 W
        lambda: (rig(cooler=part("cooler", with_(COOLER, rated_w=230))), None),
    ),
    "GPU_SAG": (
        lambda: (rig(gpu=gpus(spec={"length_mm": 336}), brace=None), None),
        lambda: (rig(gpu=gpus(spec={"length_mm": 336})), None),  # braced
    ),
    "RAM_BELOW_2X_VRAM": (
        lambda: (rig(gpus=2), None),  # 64 GB for 48 GB VRAM
        lambda: (rig(gpus=2, memory=part("memory", with_(MEMORY, modules=2, module_gb=48))), None),  # 96
    ),
    "RAM_INSUFFICIENT_FOR_OFFLOAD": (
        lambda: (
            rig(gpus=2, memory=part("memory", with_(MEMORY, modules=2, module_gb=64))),  # 128 GB
            OFFLOAD_WORKLOAD,
        ),
        lambda: (
            rig(
                gpus=2,
                cpu=BIG_RAM_CPU,
                board=board(**BIG_RAM_BOARD),
                memory=part("memory", with_(MEMORY, modules=8, module_gb=128)),  # 1 TB
            ),
            OFFLOAD_WORKLOAD,
        ),
    ),
    "STORAGE_SMALL": (
        lambda: (rig(nvme=part("storage", with_(NVME, capacity_gb=1999), "SSD")), None),
        lambda: (rig(nvme=part("storage", with_(NVME, capacity_gb=2000), "SSD")), None),
    ),
    "NO_NVME": (
        lambda: (rig(nvme=part("storage", {"interface": "sata_ssd", "capacity_gb": 4000}, "SATA")), None),
        lambda: (rig(nvme=part("storage", NVME, "SSD")), None),
    ),
}


def test_every_code_has_a_case():
    assert set(CASES) == set(CODES)


@pytest.mark.parametrize("code", list(CODES))
def test_code_fires(code):
    fires, _ = CASES[code]
    report = run(*fires())
    found = report.find(code)
    assert found, f"{code} did not fire; got {sorted(report.codes)}"
    severity, category, _ = CODES[code]
    assert all(f.severity == severity and f.category == category for f in found)
    assert all(f.message for f in found)


@pytest.mark.parametrize("code", list(CODES))
def test_code_does_not_fire_on_the_near_miss(code):
    _, near_miss = CASES[code]
    report = run(*near_miss())
    assert code not in report.codes
