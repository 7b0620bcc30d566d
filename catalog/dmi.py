"""Firmware slot tables (DMI type 9) of real boards, from the linuxhw/DMI extract in ../shared/dmi/.

Pure Python (no Django): read the extract, match a board name to its firmware models, turn a table into
slot and M.2 rows (widths, generation, CPU or chipset where an Intel root port tells), and compare a curated
board with its firmware. What the firmware says and where it lies: ../shared/dmi/README.md and
docs/board-evidence.md. Credit: "DMI tables from linux-hardware.org (linuxhw/DMI), CC BY 4.0".
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

DMI_CREDIT = "DMI tables from linux-hardware.org (linuxhw/DMI), CC BY 4.0"
DMI_URL = "https://github.com/linuxhw/DMI"
DEFAULT_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "dmi" / "linuxhw-dmi-slots.jsonl.gz"
# A table reported by more than this many different models of one vendor is a firmware template copied
# across boards, not evidence about any one of them (README).
TEMPLATE_MODELS = 3
MAX_ROWS = 16  # slot order numbers stored as positions are 1..16

# DMI vendor string -> the brand names used by the catalogue and OpenDB (lowercase).
VENDOR_BRANDS = {
    "ASUSTek Computer": ("asus", "asustek"),
    "Gigabyte Technology": ("gigabyte",),
    "ASRock": ("asrock",),
    "ASRockRack": ("asrock rack", "asrock"),
    "MSI": ("msi", "micro-star"),
    "Supermicro": ("supermicro",),
    "Biostar": ("biostar",),
    "EVGA": ("evga",),
    "NZXT": ("nzxt",),
}

_TYPE = re.compile(
    r"^(?:x(?P<bus>\d+) )?(?:\d+-bit )?(?P<kind>PCI Express|M\.2 Socket (?P<key>[\w-]+)|<OUT OF SPEC>|.+?)"
    r"(?: (?P<gen>\d))?(?: x(?P<phys>\d+))?$"
)
_M2_NAME = re.compile(r"(?<![A-Z0-9])M\.?2(?![0-9])|NGFF", re.I)
_PCIE_NAME = re.compile(r"PCI[-_ ]?E|PCIEX|SLOT|PEG", re.I)
_INTEL_CPU_PORTS = {"01", "06"}
_INTEL_PCH_PORTS = {"1a", "1b", "1c", "1d"}
WIDTHS = (1, 2, 4, 8, 16)


@dataclass(frozen=True, slots=True)
class FirmwareSlot:
    designation: str
    kind: str  # "pcie" | "m2" | "other" (legacy PCI, AGP, Wi-Fi E-key M.2 ...)
    electrical_width: int | None
    physical_width: int | None
    gen: int | None
    bifurcation: bool
    source: str | None  # "cpu" | "chipset" | None (not told)


@dataclass(frozen=True, slots=True)
class FirmwareTable:
    vendor: str
    model: str
    reports: int  # reports of this model
    table_reports: int  # reports that showed this table
    models_with_same_table: int
    slots: tuple[FirmwareSlot, ...]

    @property
    def template(self) -> bool:
        return self.models_with_same_table > TEMPLATE_MODELS

    @property
    def pcie(self) -> tuple[FirmwareSlot, ...]:
        return tuple(s for s in self.slots if s.kind == "pcie")

    @property
    def m2(self) -> tuple[FirmwareSlot, ...]:
        return tuple(s for s in self.slots if s.kind == "m2")


def _width(value: str | None) -> int | None:
    if value is None:
        return None
    n = int(value)
    return n if n in WIDTHS else None


def root_port_source(addresses: dict[str, int] | None) -> str | None:
    """CPU or chipset from the slot's most seen PCI address, on Intel desktops only (README): root ports
    00:01.x and 00:06.0 are the CPU's, 00:1a-00:1d the chipset's. Anything else says nothing."""
    if not addresses:
        return None
    address = max(addresses.items(), key=lambda kv: kv[1])[0]
    m = re.fullmatch(r"(?:[0-9a-f]{4}:)?00:([0-9a-f]{2})\.[0-7]", address.lower())
    if not m:
        return None
    if m.group(1) in _INTEL_CPU_PORTS:
        return "cpu"
    if m.group(1) in _INTEL_PCH_PORTS:
        return "chipset"
    return None


def parse_slot(raw: dict, addresses: dict[str, int] | None = None, intel: bool = False) -> FirmwareSlot:
    """One DMI slot: "x4 PCI Express 4 x16" = electrically x4, PCIe 4.0, physically x16."""
    designation = str(raw.get("designation") or "")
    text = str(raw.get("type") or "").strip()
    m = _TYPE.match(text)
    bus = _width(m.group("bus")) if m else None
    kind_text = m.group("kind") if m else text
    gen = int(m.group("gen")) if m and m.group("gen") else None
    phys = _width(m.group("phys")) if m else None
    if kind_text.startswith("M.2 Socket"):
        # Socket 3 is the M-key storage socket; Socket 1-SD / 1-DP are E/A-key Wi-Fi sockets.
        kind = "m2" if (m.group("key") or "").startswith("3") else "other"
        phys = None
    elif _M2_NAME.search(designation) and (kind_text == "PCI Express" or kind_text == "<OUT OF SPEC>"):
        kind, phys = "m2", None
    elif kind_text == "PCI Express" or (kind_text == "<OUT OF SPEC>" and _PCIE_NAME.search(designation)):
        kind = "pcie"
    else:
        kind = "other"
    if gen is not None and not 1 <= gen <= 6:
        gen = None
    if bus is not None and phys is not None and bus > phys:
        bus = None  # the firmware contradicts itself: trust neither the width nor a guess
    source = root_port_source(addresses) if intel else None
    return FirmwareSlot(designation, kind, bus, phys, gen, bool(raw.get("bifurcation")), source)


def parse_line(line: dict, intel: bool = False) -> list[FirmwareTable]:
    addresses = line.get("bus_addresses") or {}
    tables = []
    for t in line.get("tables") or []:
        slots = tuple(parse_slot(s, addresses.get(s.get("designation")), intel) for s in t.get("slots") or [])
        tables.append(
            FirmwareTable(
                vendor=line.get("vendor", ""),
                model=line.get("model", ""),
                reports=int(line.get("reports") or 0),
                table_reports=int(t.get("reports") or 0),
                models_with_same_table=int(t.get("models_with_same_table") or 0),
                slots=slots,
            )
        )
    return tables


def evidence_table(tables: Iterable[FirmwareTable]) -> FirmwareTable | None:
    """The most-reported table that is not a copied template (tables come most common first)."""
    for t in tables:
        if not t.template:
            return t
    return None


# ---------------------------------------------------------------------------------------------------------
# Name matching
# ---------------------------------------------------------------------------------------------------------
_SUFFIX = re.compile(
    r"\b(?:LGA ?\d{3,4}|AM[2-5]\+?|sTRX4|sWRX8|sTR5|TR4|SP[356]|FM2\+?|FM1|DDR[2-5]|"
    r"(?:Thin )?Mini[- ]?ITX|Micro[- ]?ATX|mATX|E-?ATX|Extended ATX|XL-?ATX|SSI[- ]?[CE]EB|CEB|EEB|ATX|"
    r"Mini-?DTX|DTX|uATX)\b.*$",
    re.I,
)


_CHIPSET_PREFIX = re.compile(
    r"^(?:(?:AMD|Intel) )?(?:[ABHQXZ]\d{2,3}[A-Z]?|TRX\d0|WRX\d0|W[67]\d0|\d{3}[A-Z]?) ", re.I
)


def model_key(text: str) -> str:
    """A model name folded for comparison: case, punctuation, "Wi-Fi"/"WIFI" and MSI's "(MS-7D70)" do not
    count."""
    t = text.lower()
    t = re.sub(r"\(ms-[0-9a-z]{4}\)", " ", t)
    t = t.replace("wi-fi", "wifi")
    return re.sub(r"[^a-z0-9]+", "", t)


def name_keys(name: str, brand: str = "") -> list[str]:
    """Keys a catalogue or OpenDB board name may match: the name without its brand, and without the
    trailing socket / memory / form-factor words OpenDB appends ("B860M H LGA1851 DDR5 Micro ATX")."""
    text = " ".join(name.split())
    for b in sorted({brand, *(x for names in VENDOR_BRANDS.values() for x in names)}, key=len, reverse=True):
        if b and text.lower().startswith(b.lower() + " "):
            text = text[len(b) + 1 :]
            break
    short = _SUFFIX.sub("", text).strip(" -,")
    # OpenDB often puts the chipset before the model: "Asus H310 PRIME H310M-A R2.0", "MSI AMD 970 970A ...".
    unprefixed = _CHIPSET_PREFIX.sub("", short)
    keys: list[str] = []
    for candidate in (text, short, unprefixed):
        key = model_key(candidate)
        if len(key) >= 3 and key not in keys:
            keys.append(key)
    return keys


def brand_matches(vendor: str, brand: str) -> bool:
    b = brand.lower().strip()
    return any(b == x or b.startswith(x) for x in VENDOR_BRANDS.get(vendor, ()))


@dataclass
class FirmwareIndex:
    """Every DMI line by model key, for matching many boards in one pass."""

    lines: dict[str, list[dict]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> FirmwareIndex:
        index = cls()
        for line in read_lines(path):
            index.lines.setdefault(model_key(line.get("model", "")), []).append(line)
        return index

    def match(self, name: str, brand: str = "") -> list[dict]:
        """The DMI lines of this board: same brand, same model once folded (see name_keys)."""
        for key in name_keys(name, brand):
            found = [
                ln
                for ln in self.lines.get(key, [])
                if not brand or brand_matches(ln.get("vendor", ""), brand)
            ]
            if found:
                return found
        return []

    def by_models(self, models: Iterable[str]) -> list[dict]:
        wanted = set(models)
        return [
            ln
            for key in {model_key(m) for m in wanted}
            for ln in self.lines.get(key, [])
            if ln["model"] in wanted
        ]


def read_lines(path: str | Path = DEFAULT_PATH) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for raw in fh:
            if raw.strip():
                yield json.loads(raw)


# ---------------------------------------------------------------------------------------------------------
# Firmware-derived topology and the cross-check
# ---------------------------------------------------------------------------------------------------------
def derive_topology(lines: list[dict], intel: bool) -> dict | None:
    """Slot and M.2 rows from the board's evidence table, or None when the firmware proves nothing (only
    templates, no PCIe slot, or a slot whose width it leaves out). Rows are in firmware order, row unknown."""
    best: tuple[int, FirmwareTable] | None = None
    for line in lines:
        table = evidence_table(parse_line(line, intel))
        if table is not None and (best is None or table.table_reports > best[0]):
            best = (table.table_reports, table)
    if best is None:
        return None
    table = best[1]
    pcie = table.pcie[:MAX_ROWS]
    if not pcie or any(s.electrical_width is None and s.physical_width is None for s in pcie):
        return None
    slots = [
        {
            "position": i,
            "row_known": False,
            "physical_width": s.physical_width,
            "electrical_width": s.electrical_width,
            "gen": s.gen,
            "source": s.source,
            "bifurcation": None,
            "designation": s.designation[:40],
            "evidence": "firmware",
        }
        for i, s in enumerate(pcie, start=1)
    ]
    m2 = [
        {
            "name": f"M2_{i}",
            "gen": s.gen,
            "lanes": s.electrical_width if s.electrical_width in (1, 2, 4) else None,
            "source": s.source,
            "designation": s.designation[:40],
            "evidence": "firmware",
        }
        for i, s in enumerate(table.m2, start=1)
    ]
    return {"pcie_slots": slots, "m2_sockets": m2, "reports": table.table_reports, "model": table.model}


@dataclass(frozen=True, slots=True)
class Disagreement:
    field: str  # "slot_count", "m2_count", "<designation>.electrical_width", ...
    firmware: object
    catalogue: object
    explained: str = ""  # the reason recorded in the data, "" when unexplained


def compare(record: dict, table: FirmwareTable, intel: bool) -> list[Disagreement]:
    """Every way a curated board record differs from its firmware table (before exceptions apply)."""
    spec = record.get("spec") or {}
    slots = spec.get("pcie_slots") or []
    sockets = spec.get("m2_sockets") or []
    out: list[Disagreement] = []
    if len(table.pcie) != len(slots):
        out.append(Disagreement("slot_count", len(table.pcie), len(slots)))
    if len(table.m2) != len(sockets):
        out.append(Disagreement("m2_count", len(table.m2), len(sockets)))
    by_name = {s.designation: s for s in table.slots}
    for row in [*slots, *sockets]:
        fw = by_name.get(row.get("designation") or "")
        if fw is None:
            continue
        d = fw.designation
        is_slot = "position" in row
        pairs = [
            ("electrical_width", fw.electrical_width, row.get("electrical_width" if is_slot else "lanes")),
            ("gen", fw.gen, row.get("gen")),
        ]
        if is_slot:
            pairs.append(("physical_width", fw.physical_width, row.get("physical_width")))
            pairs.append(("bifurcation", fw.bifurcation, bool(row.get("bifurcation"))))
        if intel:
            pairs.append(("source", fw.source, row.get("source")))
        for name, theirs, ours in pairs:
            if theirs is None:
                continue  # the firmware does not say: nothing to compare
            if name == "gen" and ours is not None and theirs != ours:
                out.append(Disagreement(f"{d}.{name}", theirs, ours))
            elif name != "gen" and theirs != ours:
                out.append(Disagreement(f"{d}.{name}", theirs, ours))
    return out


def explain(disagreements: list[Disagreement], exceptions: list[dict]) -> list[Disagreement]:
    """Attach the recorded reason to each disagreement the data explains."""
    reasons = {x.get("field"): x.get("reason", "") for x in exceptions or []}
    return [Disagreement(d.field, d.firmware, d.catalogue, reasons.get(d.field, "")) for d in disagreements]


def is_intel(socket: str | None) -> bool:
    return bool(socket) and socket.upper().startswith("LGA")
