"""Firmware-derived slot tables for imported boards (issue: lane checks for thousands of boards).

An imported (not curated) board whose name matches a DMI model with a non-template table gets slot and M.2
rows from that table: widths, PCIe generation, and CPU or chipset where an Intel root port tells. Rows are
marked ``evidence="firmware"`` and ``row_known=False``: the firmware gives no physical row and no lane
sharing, so the engine checks widths and sources and claims nothing that needs the rows (TOPOLOGY_FIRMWARE).
Curated boards are never written. Idempotent: a second run rewrites the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from catalog.dmi import DEFAULT_PATH, DMI_CREDIT, DMI_URL, FirmwareIndex, derive_topology, is_intel
from catalog.models import M2Socket, Motherboard, PcieSlot, TopologySource
from catalog.services import catalogue_bulk_write


@dataclass
class FirmwareReport:
    boards: int = 0  # imported boards looked at
    matched: int = 0  # boards whose name matched a DMI model
    derived: int = 0  # boards that now have a firmware-derived slot table
    templates_or_blank: int = 0  # matched, but the firmware proves nothing (templates, no widths)

    def lines(self) -> list[str]:
        return [
            f"imported boards: {self.boards}",
            f"matched to a firmware (DMI) model: {self.matched}",
            f"slot tables derived from firmware: {self.derived}",
            f"matched but only templates or tables without widths: {self.templates_or_blank}",
            f"credit: {DMI_CREDIT}",
        ]


def import_board_firmware(
    path: str | Path = DEFAULT_PATH, *, index: FirmwareIndex | None = None
) -> FirmwareReport:
    index = index or FirmwareIndex.load(path)
    report = FirmwareReport()
    boards = Motherboard.objects.filter(curated=False).exclude(topology_source=TopologySource.CURATED)
    with transaction.atomic(), catalogue_bulk_write():  # one version bump, on commit
        for board in boards.only("id", "name", "brand", "socket", "topology_source"):
            report.boards += 1
            lines = index.match(board.name, board.brand)
            if not lines:
                continue
            report.matched += 1
            topology = derive_topology(lines, is_intel(board.socket))
            if topology is None:
                report.templates_or_blank += 1
                if board.topology_source == TopologySource.FIRMWARE:
                    _clear(board)
                continue
            _write(board, topology, sorted({ln["model"] for ln in lines}))
            report.derived += 1
    return report


def _clear(board: Motherboard) -> None:
    board.pcie_slots.all().delete()
    board.m2_sockets.all().delete()
    Motherboard.objects.filter(pk=board.pk).update(topology_source="", evidence={}, firmware={})


def _write(board: Motherboard, topology: dict, models: list[str]) -> None:
    board.pcie_slots.all().delete()
    board.m2_sockets.all().delete()
    board.lane_rules.all().delete()
    PcieSlot.objects.bulk_create(
        PcieSlot(
            board=board,
            position=s["position"],
            row_known=False,
            physical_width=s["physical_width"],
            electrical_width=s["electrical_width"],
            gen=s["gen"],
            source=s["source"] or "",
            bifurcation=None,
            designation=s["designation"],
            evidence="firmware",
            evidence_key="dmi",
        )
        for s in topology["pcie_slots"]
    )
    M2Socket.objects.bulk_create(
        M2Socket(
            board=board,
            name=m["name"],
            gen=m["gen"],
            lanes=m["lanes"],
            source=m["source"] or "",
            designation=m["designation"],
            evidence="firmware",
            evidence_key="dmi",
        )
        for m in topology["m2_sockets"]
    )
    Motherboard.objects.filter(pk=board.pk).update(
        topology_source=TopologySource.FIRMWARE,
        evidence={
            "dmi": {
                "kind": "firmware",
                "reports": topology["reports"],
                "model": topology["model"],
                "url": DMI_URL,
                "title": DMI_CREDIT,
            }
        },
        firmware={"dmi_models": models, "reports": topology["reports"]},
    )
