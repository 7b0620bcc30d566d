"""Import the BuildCores OpenDB (github.com/buildcores/buildcores-open-db, ODC-By) into the catalogue.

Input: the repository snapshot as a .tar.gz (as shipped in ../shared/opendb/) or a directory holding the
extracted JSON files (one part per file, ``open-db/<Category>/<uuid>.json``). Field meanings are taken from
the JSON schemas in that repository (``schemas/<Category>.schema.json``).

Rules (see ../shared/opendb/README.md: the data is community-edited and dirty):
- unknown is NULL (or "" for text), never 0: zeros in size/power/capacity fields mean "not filled in";
- a value the model's validators refuse becomes NULL and is counted as a flag ("value out of range: ...");
- a value of the wrong JSON type becomes NULL and is counted ("wrong type: ...");
- OpenDB motherboards only give PCIe slot generation/count/lanes: no positions, no electrical widths, no lane
  sharing. No PcieSlot/M2Socket/LaneRule rows are made (topology_curated stays False); the summary goes in
  ``notes``;
- a row is matched to the catalogue by ``opendb_id``: a second run updates, never duplicates;
- a curated part (curated=True) is never written: an OpenDB row with the same name or slug, or whose
  opendb_id a curator put on a curated part, is skipped with a reason;
- one transaction per run: a crash leaves nothing half-written.

Speed: parent Part rows go in with bulk_create (primary keys come back on SQLite >= 3.35 and PostgreSQL), the
multi-table child rows (catalog_gpu, ...) with one executemany per category (Django's bulk_create refuses
multi-table children). Updates use bulk_update on changed rows only. Bulk writes bypass django-simple-history:
imported rows get no historical records.
"""

from __future__ import annotations

import json
import math
import re
import tarfile
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import CATEGORY_MODELS, Part
from catalog.services import catalogue_bulk_write

OPENDB_URL = "https://github.com/buildcores/buildcores-open-db"
OPENDB_CREDIT = "Parts data from BuildCores OpenDB (https://github.com/buildcores/buildcores-open-db), ODC-By"
IMPORT_NOTE = "Imported from BuildCores OpenDB (ODC-By)"

# OpenDB folder name -> catalogue category.
CATEGORY_DIRS = {
    "CPU": "cpu",
    "GPU": "gpu",
    "Motherboard": "motherboard",
    "RAM": "memory",
    "Storage": "storage",
    "PSU": "psu",
    "PCCase": "case",
    "CPUCooler": "cooler",
    "CaseFan": "fan",
}
_FILE_RE = re.compile(r"(?:^|/)(" + "|".join(CATEGORY_DIRS) + r")/([^/]+)\.json$")
_SNAPSHOT_RE = re.compile(r"buildcores-open-db-([0-9a-f]{7,40})", re.I)
_MAX_FILE_BYTES = 2_000_000  # an OpenDB part file is a few KB; anything far larger is not one
BATCH = 1000

PARENT_FIELDS = ("name", "brand", "sources", "notes")


class OpenDBError(Exception):
    """The input cannot be read as an OpenDB snapshot (missing path, broken archive, no part files)."""


class Skip(Exception):
    """A row that is not imported; the message is the reason counted in the report."""


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    files: int = 0
    seconds: float = 0.0
    # skip reasons ("missing name", "duplicate (same name and part number or spec)", ...) -> count
    reasons: Counter = field(default_factory=Counter)
    # values set to NULL on imported rows ("value out of range: gpu.length_mm", "zero -> NULL: ...") -> count
    flags: Counter = field(default_factory=Counter)
    # category -> {"imported": n, "updated": n, "unchanged": n, "skipped": n}
    by_category: dict = field(default_factory=lambda: defaultdict(Counter))
    # (opendb id or file, reason) per skipped row, e.g. ("5ed4af48-...", "duplicate of 60df7e9e-...")
    details: list = field(default_factory=list)

    def skip(self, category: str, ident: str, reason: str, detail: str | None = None) -> None:
        self.skipped += 1
        self.reasons[reason] += 1
        self.by_category[category]["skipped"] += 1
        self.details.append((ident, detail or reason))

    def as_dict(self) -> dict:
        data = {
            k: getattr(self, k) for k in ("imported", "updated", "unchanged", "skipped", "files", "seconds")
        }
        data["reasons"] = dict(self.reasons.most_common())
        data["flags"] = dict(self.flags.most_common())
        data["by_category"] = {k: dict(v) for k, v in sorted(self.by_category.items())}
        data["details"] = [list(d) for d in self.details]
        return data

    def lines(self, *, verbose: bool = False) -> list[str]:
        out = [
            f"OpenDB import: {self.files} files, {self.imported} imported, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped in {self.seconds:.1f} s"
        ]
        for cat, counts in sorted(self.by_category.items()):
            out.append(f"  {cat}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        if self.reasons:
            out.append("Skipped, by reason:")
            out += [f"  {n:6d}  {reason}" for reason, n in self.reasons.most_common()]
        if self.flags:
            out.append("Values set to NULL on imported rows, by reason:")
            out += [f"  {n:6d}  {reason}" for reason, n in self.flags.most_common()]
        if verbose and self.details:
            out.append("Skipped rows:")
            out += [f"  {ident}: {why}" for ident, why in self.details]
        out.append(OPENDB_CREDIT)
        return out


# ---------------------------------------------------------------------------------------------------------
# Reading the snapshot
# ---------------------------------------------------------------------------------------------------------
def iter_files(path: str | Path) -> Iterator[tuple[str, str, bytes]]:
    """(OpenDB folder, file stem, raw bytes) for every part file of the nine categories."""
    path = Path(path)
    if not path.exists():
        raise OpenDBError(f"{path}: no such file or directory")
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            m = _FILE_RE.search(file.relative_to(path).as_posix())
            if m and file.is_file():
                yield m.group(1), m.group(2), file.read_bytes()[:_MAX_FILE_BYTES]
        return
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                m = _FILE_RE.search(member.name)
                if not m or not member.isfile():
                    continue
                handle = tar.extractfile(member)
                yield m.group(1), m.group(2), handle.read(_MAX_FILE_BYTES) if handle else b""
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise OpenDBError(f"{path}: not a readable OpenDB archive (.tar.gz) or directory: {exc}") from exc


def snapshot_ref(path: str | Path) -> str:
    """The commit in the snapshot's name (buildcores-open-db-<sha>.tar.gz), else "main"."""
    m = _SNAPSHOT_RE.search(Path(path).name)
    return m.group(1) if m else "main"


# ---------------------------------------------------------------------------------------------------------
# Value parsing
# ---------------------------------------------------------------------------------------------------------
_NUM_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:mm|w|gb|cfm|mhz|mt/s|fans?)?\s*$", re.I)


class Row:
    """One OpenDB document with NULL-aware getters that record flags on the report."""

    def __init__(self, category: str, data: dict, flags: Counter):
        self.category = category
        self.data = data
        self.flags = flags

    def get(self, dotted: str):
        value = self.data
        for key in dotted.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    def text(self, dotted: str) -> str:
        value = self.get(dotted)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.flags[f"wrong type: {self.category}.{dotted}"] += 1
            return ""
        return " ".join(value.split())

    def num(self, dotted: str, target: str, *, zero_unknown: bool = True) -> float | None:
        """A number; free text like "320 mm" is parsed; 0 (unknown) -> None when zero_unknown."""
        value = self.get(dotted)
        if value is None:
            return None
        if isinstance(value, bool):
            value = None
        elif isinstance(value, str):
            m = _NUM_TEXT.match(value)
            value = float(m.group(1)) if m else None
        if not isinstance(value, int | float) or not math.isfinite(value):
            self.flags[f"wrong type: {self.category}.{target}"] += 1
            return None
        if value < 0:
            self.flags[f"value out of range: {self.category}.{target}"] += 1
            return None
        if value == 0 and zero_unknown:
            self.flags[f"zero -> NULL: {self.category}.{target}"] += 1
            return None
        return value

    def count(self, dotted: str, target: str, *, zero_unknown: bool = True) -> int | None:
        value = self.num(dotted, target, zero_unknown=zero_unknown)
        if value is None:
            return None
        if value != int(value):
            self.flags[f"wrong type: {self.category}.{target}"] += 1
            return None
        return int(value)

    def strlist(self, dotted: str) -> list[str]:
        value = self.get(dotted)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.flags[f"wrong type: {self.category}.{dotted}"] += 1
            return []
        return value


def _ceil(v: float | None) -> int | None:
    return None if v is None else math.ceil(v - 1e-9)


def _floor(v: float | None) -> int | None:
    return None if v is None else math.floor(v + 1e-9)


def _round(v: float | None) -> int | None:
    return None if v is None else int(Decimal(str(v)).quantize(Decimal(1), ROUND_HALF_UP))


def socket_name(value: str) -> str:
    """ "LGA 1700" -> "LGA1700" (the catalogue's spelling); AM5, sTR5, ... unchanged."""
    return re.sub(r"\bLGA\s+(\d)", r"LGA\1", value).strip()


# OpenDB motherboard / case form factor -> engine FORM_FACTORS (catalog/engine/specs.py). Thin Mini-ITX has
# the Mini-ITX 170 x 170 mm footprint (Intel Thin Mini-ITX spec); HPTX, Flex ATX, DTX, Mini DTX have no
# catalogue equivalent and stay unknown.
BOARD_FORM_FACTORS = {
    "ATX": "ATX",
    "EATX": "E-ATX",
    "E-ATX": "E-ATX",
    "Micro ATX": "Micro-ATX",
    "Mini-ITX": "Mini-ITX",
    "Thin Mini-ITX": "Mini-ITX",
    "SSI EEB": "SSI-EEB",
    "SSI CEB": "CEB",
    "XL ATX": "XL-ATX",
}
MEMORY_TYPES = ("DDR4", "DDR5")  # catalog.models.MemoryType
GPU_COOLING = {
    "4 Fans": "axial",
    "3 Fans": "axial",
    "2 Fans": "axial",
    "1 Fan": "axial",
    "Blower": "blower",
    "Hybrid": "hybrid",
    "Passive": "passive",
    # "Water Cooled" covers both full-cover blocks and AIO cards (e.g. Gigabyte WATERFORCE): left unknown.
}
EFFICIENCY = {
    "80+ Titanium": "titanium",
    "80+ Platinum": "platinum",
    "80+ Gold": "gold",
    "80+ Silver": "silver",
    "80+ Bronze": "bronze",
    "80+ Standard": "standard",
    "80+ White": "standard",
    "80+": "standard",
}
MODULAR = {"Full": "full", "Semi-Modular": "semi", "Non-Modular": "non"}
_PCIE_RE = re.compile(r"PCIe\s*(?:(\d)(?:\.\d+)?\s*)?x\s*(\d+)", re.I)
# A PCIe x16 slot delivers at most 75 W (PCI Express CEM specification): a card rated above that without any
# auxiliary connector listed has its connectors not filled in, not zero.
SLOT_POWER_W = 75


def _memory_type(values: list[str], notes: list[str]) -> str:
    known = [v for v in values if v]
    if len(known) == 1 and known[0] in MEMORY_TYPES:
        return known[0]
    if known:
        notes.append("Memory types (OpenDB): " + ", ".join(known))
    return ""


# ---------------------------------------------------------------------------------------------------------
# Per-category mapping: Row -> (child field values, extra note lines)
# ---------------------------------------------------------------------------------------------------------
def map_gpu(r: Row, notes: list[str]) -> dict:
    iface = r.text("interface")
    m = _PCIE_RE.search(iface)
    cooling = r.text("cooling")
    if cooling and cooling not in GPU_COOLING:
        notes.append(f"Cooling (OpenDB): {cooling}")
    tdp = _round(r.num("tdp", "board_power_w"))
    pc = r.get("power_connectors")
    p8 = p12 = None
    if isinstance(pc, dict):
        n6 = r.count("power_connectors.pcie_6_pin", "power_6pin", zero_unknown=False)
        n8 = r.count("power_connectors.pcie_8_pin", "power_8pin", zero_unknown=False)
        n12a = r.count("power_connectors.pcie_12VHPWR", "power_12v2x6", zero_unknown=False)
        n12b = r.count("power_connectors.pcie_12V_2x6", "power_12v2x6", zero_unknown=False)
        total = sum(v or 0 for v in (n6, n8, n12a, n12b))
        if total == 0 and (tdp is None or tdp > SLOT_POWER_W):
            r.flags["zero -> NULL: gpu.power connectors"] += 1
        else:
            p8 = n8 if n8 is not None else (0 if total else None)
            p12 = (
                (n12a or 0) + (n12b or 0)
                if (n12a is not None or n12b is not None)
                else (0 if total else None)
            )
            if n6:
                notes.append(f"6-pin PCIe inputs (OpenDB): {n6}")
    slot = r.num("total_slot_width", "slot_width") or r.num("case_expansion_slot_width", "slot_width")
    chipset = r.text("chipset")
    if chipset:
        notes.append(f"GPU (OpenDB chipset): {chipset}")
    return {
        "vram_gb": r.num("memory", "vram_gb"),
        "board_power_w": tdp,
        "length_mm": _ceil(r.num("length", "length_mm")),
        "slot_width": None if slot is None else Decimal(str(slot)).quantize(Decimal("0.01"), ROUND_HALF_UP),
        "cooler": GPU_COOLING.get(cooling, ""),
        "pcie_gen": int(m.group(1)) if m and m.group(1) else None,
        "pcie_lanes": int(m.group(2)) if m else None,
        "power_8pin": p8,
        "power_12v2x6": p12,
    }


def map_cpu(r: Row, notes: list[str]) -> dict:
    return {
        "socket": socket_name(r.text("socket")),
        "cores": r.count("cores.total", "cores"),
        "threads": r.count("cores.threads", "threads"),
        "tdp_w": _round(r.num("specifications.tdp", "tdp_w")),
        "ppt_w": _round(r.num("specifications.ppt", "ppt_w")),
        "memory_type": _memory_type(r.strlist("specifications.memory.types"), notes),
        "memory_channels": r.count("specifications.memory.channels", "memory_channels"),
        "max_memory_gb": _round(r.num("specifications.memory.maxSupport", "max_memory_gb")),
    }


def _slot_summary(r: Row) -> str:
    slots = r.get("pcie_slots")
    parts = []
    if isinstance(slots, list):
        for s in slots:
            if not isinstance(s, dict):
                continue
            qty, lanes, gen = s.get("quantity"), s.get("lanes"), s.get("gen")
            if not isinstance(qty, int | float) or not isinstance(lanes, int | float):
                continue
            parts.append(f"{int(qty)}x PCIe {gen + ' ' if isinstance(gen, str) and gen else ''}x{int(lanes)}")
    m2 = r.get("m2_slots")
    m2_counts: Counter = Counter()
    if isinstance(m2, list):
        for s in m2:
            if isinstance(s, dict):
                m2_counts[s.get("interface") if isinstance(s.get("interface"), str) else "?"] += 1
    text = ""
    if parts:
        text = "Expansion slots (OpenDB, no positions or lane sharing): " + ", ".join(parts) + "."
    if m2_counts:
        text += (
            (" " if text else "")
            + "M.2 (OpenDB): "
            + ", ".join(f"{n}x {i}" for i, n in m2_counts.items())
            + "."
        )
    return text


def map_motherboard(r: Row, notes: list[str]) -> dict:
    ff = r.text("form_factor")
    if ff and ff not in BOARD_FORM_FACTORS:
        notes.append(f"Form factor (OpenDB): {ff}")
    ram = r.text("memory.ram_type")
    summary = _slot_summary(r)
    if summary:
        notes.append(summary)
    return {
        "socket": socket_name(r.text("socket")),
        "chipset": r.text("chipset"),
        "form_factor": BOARD_FORM_FACTORS.get(ff, ""),
        "memory_type": _memory_type([ram], notes),
        "memory_slots": r.count("memory.slots", "memory_slots"),
        "max_memory_gb": _round(r.num("memory.max", "max_memory_gb")),
        "topology_curated": False,
    }


def map_memory(r: Row, notes: list[str]) -> dict:
    modules = r.count("modules.quantity", "modules")
    module_gb = r.num("modules.capacity_gb", "module_gb")
    total = r.num("capacity", "capacity_gb")
    if module_gb is None and modules and total and total % modules == 0:
        module_gb = total / modules
    return {
        "memory_type": _memory_type([r.text("ram_type")], notes),
        "modules": modules,
        "module_gb": None if module_gb is None or module_gb != int(module_gb) else int(module_gb),
        "speed_mts": _round(r.num("speed", "speed_mts")),
    }


def map_storage(r: Row, notes: list[str]) -> dict:
    iface = r.text("interface")
    kind = r.text("storage_type") or r.text("type")
    ff = r.text("form_factor")
    nvme = r.get("nvme") is True
    if "PCIe" in iface or iface == "U.2" or (not iface and nvme):
        interface = "nvme"
    elif "SATA" in iface:  # "SATA 6.0 Gb/s", "M.2 SATA", "mSATA"
        interface = {"SSD": "sata_ssd", "HDD": "hdd", "SSHD": "hdd"}.get(kind, "")
    elif not iface and kind in ("HDD", "SSHD"):
        interface = "hdd"
    else:
        interface = ""
    if iface and not interface:
        notes.append(f"Interface (OpenDB): {iface}")
    if iface == "U.2":
        form = "u2"
    elif ff.startswith("M.2"):
        form = "m2"
    else:
        form = {'2.5"': "2.5", '3.5"': "3.5"}.get(ff, "")
        if ff and not form:
            notes.append(f"Form factor (OpenDB): {ff}")
    gen = re.search(r"PCIe\s*(\d)\.\d", iface)
    return {
        "interface": interface,
        "pcie_gen": int(gen.group(1)) if gen else None,
        "capacity_gb": _round(r.num("capacity", "capacity_gb")),
        "form_factor": form,
    }


def map_psu(r: Row, notes: list[str]) -> dict:
    c = r.get("connectors")
    p8 = p12 = None
    if isinstance(c, dict):
        n8 = r.count("connectors.pcie_6_plus_2_pin", "power_8pin", zero_unknown=False)
        n12 = r.count("connectors.pcie_12vhpwr", "power_12v2x6", zero_unknown=False)
        eps = r.count("connectors.eps_8_pin", "eps_8_pin", zero_unknown=False)
        # Every ATX/SFX PSU has a CPU (EPS) connector: EPS 0 with no PCIe connectors means the contributor did
        # not fill the connector counts in, not a PSU without GPU connectors.
        if not n8 and not n12 and not eps:
            r.flags["zero -> NULL: psu.power connectors"] += 1
        else:
            p8, p12 = n8, n12
    eff = r.text("efficiency_rating")
    mod = r.text("modular")
    return {
        "wattage_w": _round(r.num("wattage", "wattage_w")),
        "efficiency": EFFICIENCY.get(eff, ""),
        "atx3": None,
        "power_8pin": p8,
        "power_12v2x6": p12,
        "form_factor": r.text("form_factor")[:10],
        "modular": MODULAR.get(mod, ""),
    }


def map_case(r: Row, notes: list[str]) -> dict:
    kind = r.text("form_factor")
    if kind:
        notes.append(f"Case type (OpenDB): {kind}")
    boards = []
    for ff in r.strlist("supported_motherboard_form_factors"):
        mapped = BOARD_FORM_FACTORS.get(ff.strip())
        if mapped and mapped not in boards:
            boards.append(mapped)
    return {
        "form_factors": boards,
        "max_gpu_length_mm": _floor(r.num("max_video_card_length", "max_gpu_length_mm")),
        "max_cooler_height_mm": _floor(r.num("max_cpu_cooler_height", "max_cooler_height_mm")),
        "expansion_slots": r.count("expansion_slots", "expansion_slots"),
        "open_frame": "Test Bench" in kind,
        "fan_mounts": None,
        "included_fans": None,
    }


def map_cooler(r: Row, notes: list[str]) -> dict:
    water = r.get("water_cooled")
    kind = "aio" if water is True else "air" if water is False else ""
    height = _ceil(r.num("height", "height_mm"))
    radiator = r.num("radiator_size", "radiator_mm")
    if kind == "aio" and radiator:
        notes.append(f"Radiator (OpenDB): {radiator:g} mm")
    sockets = []
    for s in r.strlist("cpu_sockets"):
        name = socket_name(s)
        if name and name not in sockets:
            sockets.append(name)
    return {
        "cooler_type": kind,
        # Catalogue format: height_mm is the air cooler's height; an AIO's listed height is the pump block's.
        "height_mm": height if kind == "air" else None,
        "rated_w": None,
        "sockets": sockets,
    }


def map_fan(r: Row, notes: list[str]) -> dict:
    qty = r.count("quantity", "quantity")
    if qty and qty > 1:
        notes.append(f"Pack of {qty} fans (OpenDB).")
    # Schema: a constant airflow is in min_airflow only; max_airflow is the top of a PWM range.
    airflow = r.num("max_airflow", "airflow_cfm") or r.num("min_airflow", "airflow_cfm")
    return {"airflow_cfm": airflow, "size_mm": _round(r.num("size", "size_mm"))}


MAPPERS = {
    "gpu": map_gpu,
    "cpu": map_cpu,
    "motherboard": map_motherboard,
    "memory": map_memory,
    "storage": map_storage,
    "psu": map_psu,
    "case": map_case,
    "cooler": map_cooler,
    "fan": map_fan,
}


@dataclass
class Mapped:
    category: str
    opendb_id: str
    name: str
    brand: str
    spec: dict
    notes: str
    sources: list
    part_numbers: frozenset
    filled: int = 0
    flags: Counter = field(default_factory=Counter)  # this row's values set to NULL, by reason


def _child_fields(model) -> dict[str, models.Field]:
    return {f.name: f for f in model._meta.local_concrete_fields if f.name != "part_ptr"}


def _validate(category: str, spec: dict, flags: Counter) -> None:
    """Run the model's own validators and choices: a refused value becomes unknown (NULL / "")."""
    fields = _child_fields(CATEGORY_MODELS[category])
    for name, value in spec.items():
        if value is None or value == "" or value == [] or isinstance(value, bool):
            continue
        f = fields[name]
        try:
            if f.choices and value not in {c[0] for c in f.choices}:
                raise ValidationError("not a choice")
            if isinstance(value, str) and f.max_length and len(value) > f.max_length:
                raise ValidationError("too long")
            f.run_validators(value)
        except ValidationError:
            flags[f"value out of range: {category}.{name}"] += 1
            spec[name] = "" if isinstance(f, models.CharField) else None


def map_document(folder: str, stem: str, raw: bytes, ref: str) -> Mapped:
    flags: Counter = Counter()
    category = CATEGORY_DIRS[folder]
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Skip("unparseable json") from exc
    if not isinstance(data, dict):
        raise Skip("not a json object")
    oid = data.get("opendb_id")
    if oid is None:
        oid = stem
    if not isinstance(oid, str) or not re.fullmatch(r"[0-9A-Za-z-]{8,64}", oid):
        raise Skip("missing or invalid opendb_id")
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise Skip("missing name")
    name = " ".join(name.split())
    limit = Part._meta.get_field("name").max_length
    if len(name) > limit:
        name = name[: limit + 1].rsplit(" ", 1)[0][:limit].rstrip(" ,;-/")
        flags["value truncated: name"] += 1
    brand = meta.get("manufacturer")
    brand = " ".join(brand.split())[:80] if isinstance(brand, str) else ""
    pns = meta.get("part_numbers")
    # Part numbers shorter than 4 characters ("OC") are junk, not identifiers.
    part_numbers = frozenset(
        p.strip().upper()
        for p in (pns if isinstance(pns, list) else [])
        if isinstance(p, str) and len(p.strip()) >= 4
    )
    row = Row(category, data, flags)
    extra: list[str] = []
    spec = MAPPERS[category](row, extra)
    _validate(category, spec, flags)
    notes = "\n".join([IMPORT_NOTE, *extra])
    filled = sum(1 for v in spec.values() if v not in (None, "", []) and not isinstance(v, bool))
    return Mapped(
        category=category,
        opendb_id=oid,
        name=name,
        brand=brand,
        spec=spec,
        notes=notes,
        sources=[f"{OPENDB_URL}/blob/{ref}/open-db/{folder}/{stem}.json"],
        part_numbers=part_numbers,
        filled=filled,
        flags=flags,
    )


# ---------------------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------------------
def _norm_name(name: str) -> str:
    return " ".join(name.lower().split())


def _dedupe(rows: list[Mapped], report: ImportReport) -> list[Mapped]:
    """Same category and name, and the same part number or the same mapped spec: one part. The row with the
    most known fields wins (ties: lowest id), so a duplicate with zeros does not hide a filled one."""
    groups: dict[tuple[str, str], list[Mapped]] = defaultdict(list)
    for m in rows:
        groups[(m.category, _norm_name(m.name))].append(m)
    kept: list[Mapped] = []
    for group in groups.values():
        if len(group) == 1:
            kept.append(group[0])
            continue
        group.sort(key=lambda m: (-m.filled, m.opendb_id))
        winners: list[Mapped] = []
        for m in group:
            dup = next((w for w in winners if (m.part_numbers & w.part_numbers) or m.spec == w.spec), None)
            if dup is None:
                winners.append(m)
            else:
                report.skip(
                    m.category,
                    m.opendb_id,
                    "duplicate (same name and part number or spec)",
                    f"duplicate of {dup.opendb_id}",
                )
        kept += winners
    return kept


def _make_slug(name: str, oid: str, taken: set[str]) -> str:
    base = slugify(name).replace("_", "-").strip("-")[:180].strip("-") or "part"
    key = re.sub(r"[^0-9a-z]", "", oid.lower())
    for n in (8, 12, 16, len(key)):
        slug = f"{base}-{key[:n]}"
        if slug not in taken:
            return slug
    i = 2
    while f"{base}-{key}-{i}" in taken:
        i += 1
    return f"{base}-{key}-{i}"


def _insert_children(model, rows: list[tuple[int, dict]]) -> None:
    fields = list(_child_fields(model).values())
    ptr = model._meta.get_field("part_ptr")
    qn = connection.ops.quote_name
    cols = ", ".join(qn(f.column) for f in [ptr, *fields])
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({cols}) VALUES ({', '.join(['%s'] * (len(fields) + 1))})"  # noqa: S608 - identifiers from model meta
    params = []
    for pk, spec in rows:
        values = [pk]
        for f in fields:
            value = spec.get(f.name, f.get_default())
            values.append(f.get_db_prep_save(value, connection))
        params.append(values)
    with connection.cursor() as cursor:
        for i in range(0, len(params), BATCH):
            cursor.executemany(sql, params[i : i + BATCH])


def import_opendb(path: str | Path, *, ref: str | None = None) -> ImportReport:
    """Import (or refresh) the OpenDB snapshot at `path` (.tar.gz or directory). Raises OpenDBError when the
    input itself cannot be read; dirty rows are skipped or flagged in the returned report."""
    started = time.perf_counter()
    report = ImportReport()
    ref = ref or snapshot_ref(path)
    mapped: list[Mapped] = []
    seen_ids: dict[str, str] = {}
    for folder, stem, raw in iter_files(path):
        report.files += 1
        category = CATEGORY_DIRS[folder]
        try:
            m = map_document(folder, stem, raw, ref)
        except Skip as exc:
            report.skip(category, f"{folder}/{stem}.json", str(exc))
            continue
        if m.opendb_id in seen_ids:
            report.skip(category, m.opendb_id, "duplicate opendb_id", f"duplicate of {seen_ids[m.opendb_id]}")
            continue
        seen_ids[m.opendb_id] = f"{folder}/{stem}.json"
        mapped.append(m)
    if report.files == 0:
        raise OpenDBError(
            f"{path}: no OpenDB part files found (expected <Category>/<uuid>.json for "
            + ", ".join(CATEGORY_DIRS)
            + ")"
        )
    mapped = _dedupe(mapped, report)
    mapped.sort(key=lambda m: (m.category, m.opendb_id))

    with transaction.atomic(), catalogue_bulk_write():  # one version bump on commit: caches see the rows
        _write(mapped, report)
    report.seconds = time.perf_counter() - started
    return report


def _write(mapped: list[Mapped], report: ImportReport) -> None:
    existing = {
        oid: (pk, cat, curated, slug)
        for oid, pk, cat, curated, slug in Part.objects.filter(opendb_id__isnull=False).values_list(
            "opendb_id", "id", "category", "curated", "slug"
        )
    }
    taken = set(Part.objects.values_list("slug", flat=True))
    curated_names = {}
    curated_slugs = {}
    for slug, name in Part.objects.filter(curated=True).values_list("slug", "name"):
        curated_names[_norm_name(name)] = slug
        curated_slugs[slug] = slug

    new: list[Mapped] = []
    updates: dict[str, list[tuple[int, Mapped]]] = defaultdict(list)
    for m in mapped:
        hit = existing.get(m.opendb_id)
        if hit and hit[2]:
            report.skip(m.category, m.opendb_id, "curated part has this opendb_id", f"curated part {hit[3]}")
            continue
        match = curated_names.get(_norm_name(m.name)) or curated_slugs.get(slugify(m.name))
        if match and not hit:
            report.skip(m.category, m.opendb_id, "matches a curated part", f"matches curated part {match}")
            continue
        if hit:
            if hit[1] != m.category:
                report.skip(m.category, m.opendb_id, "category changed", f"category changed from {hit[1]}")
                continue
            updates[m.category].append((hit[0], m))
        else:
            new.append(m)
        report.flags.update(m.flags)

    # New parts: parents in bulk, then child rows with part_ptr_id set.
    parents = []
    for m in new:
        slug = _make_slug(m.name, m.opendb_id, taken)
        taken.add(slug)
        parents.append(
            Part(
                slug=slug,
                name=m.name,
                brand=m.brand,
                category=m.category,
                curated=False,
                opendb_id=m.opendb_id,
                sources=m.sources,
                notes=m.notes,
            )
        )
    created = Part.objects.bulk_create(parents, batch_size=BATCH)
    if any(p.pk is None for p in created):  # pragma: no cover - only on databases without RETURNING
        pks = dict(
            Part.objects.filter(opendb_id__in=[m.opendb_id for m in new]).values_list("opendb_id", "id")
        )
        for p in created:
            p.pk = pks[p.opendb_id]
    by_cat: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for part, m in zip(created, new, strict=True):
        by_cat[m.category].append((part.pk, m.spec))
        report.by_category[m.category]["imported"] += 1
    for category, rows in by_cat.items():
        _insert_children(CATEGORY_MODELS[category], rows)
    report.imported += len(new)

    # Existing imported parts: compare, update what changed.
    now = timezone.now()
    parent_updates: list[Part] = []
    for category, pairs in updates.items():
        model = CATEGORY_MODELS[category]
        child_names = list(_child_fields(model))
        current = {
            row["part_ptr_id"]: row
            for row in model.objects.filter(pk__in=[pk for pk, _ in pairs]).values(
                "part_ptr_id", *PARENT_FIELDS, *child_names
            )
        }
        child_updates = []
        for pk, m in pairs:
            cur = current[pk]
            new_parent = {"name": m.name, "brand": m.brand, "sources": m.sources, "notes": m.notes}
            parent_changed = any(cur[k] != v for k, v in new_parent.items())
            child_changed = any(cur[k] != m.spec.get(k, cur[k]) for k in child_names)
            if not parent_changed and not child_changed:
                report.unchanged += 1
                report.by_category[category]["unchanged"] += 1
                continue
            report.updated += 1
            report.by_category[category]["updated"] += 1
            parent_updates.append(Part(pk=pk, updated_at=now, **new_parent))
            if child_changed:
                obj = model(pk=pk)
                for k in child_names:
                    if k in m.spec:
                        setattr(obj, k, m.spec[k])
                child_updates.append(obj)
        if child_updates:
            spec_names = [k for k in child_names if k in pairs[0][1].spec]
            model.objects.bulk_update(child_updates, spec_names, batch_size=BATCH)
    if parent_updates:
        Part.objects.bulk_update(parent_updates, [*PARENT_FIELDS, "updated_at"], batch_size=BATCH)
