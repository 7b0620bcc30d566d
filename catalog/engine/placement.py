"""Where a build line's units sit: slots, riser, riser width, PSU unit, power limit. One value type with its
conversions to and from every form it takes:

- JSON (the API's part fields, BuildItem.placement, revision snapshots): `from_json` / `as_json`;
- the configurator's URL token flags (`s1.4`, `r`, `r1`, `p0.1`, `w300`; docs/url-state.md):
  `from_flags` / `flags`;
- the configurator's form controls (s<i>, r<i>, p<i>, w<i>): `form_values` and the `with_*` edits;
- the engine's Part fields: `engine_fields`;
- words, for people (the revision page): `describe`.

Validation of ranges and lengths stays in the engine's strict part parser (specs.part_from_dict), which
reads the same JSON keys; this module only moves values between forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from .errors import InputError

KEYS = ("slots", "riser", "riser_width", "psu", "power_limit_w")
DIGITS = re.compile(r"[0-9]{1,3}")
AUTO_FLAG = "x"  # in a slots flag, a unit the engine places: "s2.x"
# The configurator's mount menu: value -> (riser, riser_width).
RISER_MENU = {"": (None, None), "16": (True, None), "1": (True, 1)}


def number_text(value) -> str:
    """The shortest text that reads back to the same float (repr), without a trailing ".0"."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _ints(text: str, where: str, sep: str) -> list[int]:
    parts = [x for x in text.split(sep) if x != ""]
    if not all(DIGITS.fullmatch(x) for x in parts):
        raise InputError(where, f"{text[:40]!r} is not a list of numbers")
    return [int(x) for x in parts]


@dataclass(frozen=True, slots=True)
class Placement:
    """Per unit (slots and psu have one entry per unit when given); None = the engine decides."""

    slots: tuple[int | None, ...] | None = None  # a None entry: the engine places that unit
    riser: bool | None = None  # True: off the board on a riser cable or extender
    riser_width: int | None = None  # 1 = a mining x1 extender
    psu: tuple[int, ...] | None = None  # the PSU unit powering each unit (units numbered across PSU lines)
    power_limit_w: float | None = None  # GPUs: the nvidia-smi power limit

    # -- JSON ------------------------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, data: dict | None) -> Placement:
        """From the placement keys of a JSON object (other keys ignored; null = not given). Values are
        taken as they are: the engine's part parser validates them."""
        data = data or {}

        def seq(value):
            return tuple(value) if isinstance(value, list | tuple) else value

        return cls(
            slots=seq(data.get("slots")),
            riser=data.get("riser"),
            riser_width=data.get("riser_width"),
            psu=seq(data.get("psu")),
            power_limit_w=data.get("power_limit_w"),
        )

    def as_json(self) -> dict:
        """The keys that are given, JSON-ready (lists for slots and psu)."""
        data: dict[str, Any] = {}
        for key in KEYS:
            value = getattr(self, key)
            if value is not None:
                data[key] = list(value) if isinstance(value, tuple) else value
        return data

    def __bool__(self) -> bool:
        return any(getattr(self, key) is not None for key in KEYS)

    # -- URL token flags ---------------------------------------------------------------------------------
    def flags(self) -> list[str]:
        """The line token's placement flags, in a fixed order (docs/url-state.md)."""
        out = []
        if self.slots:
            out.append("s" + ".".join(AUTO_FLAG if s is None else str(s) for s in self.slots))
        if self.riser:
            out.append("r" + (str(self.riser_width) if self.riser_width else ""))
        if self.psu:
            out.append("p" + ".".join(str(s) for s in self.psu))
        if self.power_limit_w:
            out.append(f"w{number_text(self.power_limit_w)}")  # exact: the state reads back equal
        return out

    @classmethod
    def from_flags(cls, flags: list[str], where: str) -> Placement:
        values: dict[str, Any] = {}
        for flag in flags:
            kind, rest = flag[:1], flag[1:]
            if kind == "s":
                units = [x for x in rest.split(".") if x != ""]
                values["slots"] = tuple(None if x == AUTO_FLAG else _ints(x, where, ".")[0] for x in units)
            elif kind == "r":
                values["riser"] = True
                if rest:
                    widths = _ints(rest, where, ".")
                    if not widths:
                        raise InputError(where, "riser width is not a number")
                    values["riser_width"] = widths[0]
            elif kind == "p":
                values["psu"] = tuple(_ints(rest, where, "."))
            elif kind == "w":
                try:
                    values["power_limit_w"] = float(rest)
                except ValueError:
                    raise InputError(where, f"power limit {rest!r} is not a number") from None
            elif flag:
                raise InputError(where, f"unknown flag {flag!r}")
        return cls(**values)

    # -- form controls -----------------------------------------------------------------------------------
    @property
    def slots_text(self) -> str:
        return ",".join("auto" if s is None else str(s) for s in self.slots or ())

    def slot_of(self, unit: int) -> int | None:
        """The slot row the user gave this unit (None: the engine places it)."""
        return self.slots[unit] if self.slots and unit < len(self.slots) else None

    @property
    def psu_text(self) -> str:
        return ",".join(str(s) for s in self.psu or ())

    @property
    def riser_value(self) -> str:
        """The mount menu's value: "1" an x1 extender, "16" any riser cable, "" in the slot."""
        if self.riser_width == 1:
            return "1"
        return "16" if self.riser else ""

    @property
    def power_limit_text(self) -> str:
        return number_text(self.power_limit_w) if self.power_limit_w is not None else ""  # reads back equal

    def with_units_text(self, key: str, text: str, quantity: int, where: str = "placement") -> Placement:
        """slots or psu from the form's "2,5" text: one number per unit ("auto" for a slot the engine
        picks), or empty for automatic. Anything else is an InputError naming the field, never ignored."""
        raw = [v for v in text.replace(" ", "").split(",") if v != ""]
        if not raw:
            return replace(self, **{key: None})
        what = "slots" if key == "slots" else "PSU units"
        values: list[int | None] = []
        for v in raw:
            if key == "slots" and v.lower() in ("auto", AUTO_FLAG):
                values.append(None)
            elif DIGITS.fullmatch(v):
                values.append(int(v))
            else:
                example = "slot rows such as 2,5" if key == "slots" else "PSU unit numbers such as 1,2"
                raise InputError(where, f"{what} {text[:40]!r}: {v[:20]!r} is not a number (give {example})")
        if len(values) != quantity:
            raise InputError(
                where, f"{what} {text[:40]!r}: {len(values)} given for {quantity} card(s), one each"
            )
        if all(v is None for v in values):
            return replace(self, **{key: None})
        return replace(self, **{key: tuple(values)})

    def with_unit_slot(self, unit: int, slot: int | None, quantity: int) -> Placement:
        """One unit moved to a slot row (None: back to automatic placement); the others keep theirs."""
        slots = list(self.slots) if self.slots and len(self.slots) == quantity else [None] * quantity
        slots[unit] = slot
        return replace(self, slots=None if all(v is None for v in slots) else tuple(slots))

    def units(self, start: int, stop: int) -> Placement:
        """The placement of units start..stop-1 alone (a line split in two keeps each unit's place)."""
        return replace(
            self,
            slots=self.slots[start:stop] if self.slots else None,
            psu=self.psu[start:stop] if self.psu else None,
        )

    def with_riser_value(self, value: str) -> Placement:
        """The mount menu's choice; a width the menu has no option for (x4, x8, set through the API) is
        kept unless the menu's value differs from what the page showed."""
        if value == self.riser_value:
            return self
        riser, width = RISER_MENU.get(value, (None, None))
        return replace(self, riser=riser, riser_width=width)

    def for_quantity(self) -> Placement:
        """After a quantity change: the per-unit lists no longer match, so they go back to automatic."""
        return replace(self, slots=None, psu=None)

    # -- engine --------------------------------------------------------------------------------------------
    def engine_fields(self) -> dict:
        """The engine Part's placement fields."""
        return {
            "slots": tuple(self.slots) if self.slots and any(v is not None for v in self.slots) else None,
            "riser": self.riser,
            "riser_width": self.riser_width,
            "psu": tuple(self.psu) if self.psu else None,
            "power_limit_w": self.power_limit_w,
        }

    # -- words ---------------------------------------------------------------------------------------------
    def describe(self) -> str:
        """In words, for people: "slots 1, 4; on a riser cable; PSU 1, 1, 2, 2; power limit 300 W"
        (PSU units numbered from 1, as the page shows them); "automatic" when nothing is set."""
        words = []
        if self.slots:
            words.append(
                ("slot " if len(self.slots) == 1 else "slots ")
                + ", ".join("automatic" if v is None else str(v) for v in self.slots)
            )
        if self.riser:
            words.append(
                "on an x1 extender"
                if self.riser_width == 1
                else f"on an x{self.riser_width} riser"
                if self.riser_width
                else "on a riser cable"
            )
        elif self.riser is False:
            words.append("in the slot")
        if self.psu:
            words.append(
                ("PSU " if len(self.psu) == 1 else "PSUs ") + ", ".join(str(p + 1) for p in self.psu)
            )
        if self.power_limit_w is not None:
            words.append(f"power limit {number_text(self.power_limit_w)} W")
        return "; ".join(words) or "automatic"
