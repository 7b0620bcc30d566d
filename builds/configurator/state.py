"""The configurator's state in the URL, so every change is a shareable link and the back button works.

A line is one `l` query parameter: `<slug>*<qty>` followed by placement flags separated by `~`:
`s1.4` slots per unit, `r` on a riser (`r1` an x1 extender), `p0.1` PSU unit per GPU, `w300` power limit.
A custom part is `c:<base64url JSON {category, name, spec}>*<qty>...`. Context: `circuit`, `kwh`,
`hours`, `cur`. Example: `?l=nvidia-geforce-rtx-4090-fe*2~s1.5&l=amd-ryzen-9-7950x*1&circuit=120v-20a`.
The grammar, bounds and control parameters: docs/url-state.md.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import QueryDict

from builds.inputs import MAX_ITEMS, MAX_UNITS, InputError, Line, check_json_values
from builds.money import localised_context
from catalog.engine import specs as engine
from catalog.engine.placement import Placement, number_text

CIRCUIT_CHOICES = [
    ("120v-15a", "120 V / 15 A (North America)"),
    ("120v-20a", "120 V / 20 A (North America)"),
    ("230v-10a", "230 V / 10 A"),
    ("230v-13a", "230 V / 13 A (UK)"),
    ("230v-16a", "230 V / 16 A (EU)"),
    ("240v-30a", "240 V / 30 A (dedicated circuit)"),
]
DIGITS = re.compile(r"[0-9]{1,3}")
SLUG = re.compile(r"[a-z0-9-]{1,220}")
# A custom circuit "<volts>v-<amps>a"; decimals allowed ("120.5v-15a"): any circuit the engine accepts
# has a label that reads back to the same numbers (circuit_label / circuit_value).
CIRCUIT_RE = re.compile(r"^([0-9]{1,3}(?:\.[0-9]{1,17})?)v-([0-9]{1,3}(?:\.[0-9]{1,17})?)a$")
CURRENCIES = ["USD", "EUR", "CNY", "GBP", "JPY"]
MAX_STATE_CHARS = 64 * 1024
MAX_TOKEN_CHARS = 8 * 1024


@dataclass
class State:
    lines: list[Line] = field(default_factory=list)
    circuit: str = "120v-15a"
    kwh_price: float | None = None
    hours_per_day: float | None = None
    currency: str = "USD"
    errors: list[str] = field(default_factory=list)
    changed: bool = False  # set by edits.apply_edits: a control changed a line

    def context_data(self) -> dict:
        data = {"circuit": circuit_value(self.circuit), "currency": self.currency}
        if self.kwh_price is not None:
            data["kwh_price"] = self.kwh_price
        if self.hours_per_day is not None:
            data["hours_per_day"] = self.hours_per_day
        return data

    def build_context(self) -> dict:
        """What a saved build keeps of the context; its currency is a column of its own."""
        return {k: v for k, v in self.context_data().items() if k != "currency"}

    def context(self) -> engine.Context:
        return engine.parse_context(localised_context(self.context_data()))

    def query(self, lines: list[Line] | None = None, tokens: list[str] | None = None) -> str:
        """The state as a query string; `tokens` (already encoded lines) skips encoding them again."""
        if tokens is None:
            tokens = [encode_line(line) for line in (self.lines if lines is None else lines)]
        params = [("l", token) for token in tokens]
        if self.circuit != "120v-15a":
            params.append(("circuit", self.circuit))
        if self.kwh_price is not None:
            params.append(("kwh", number_text(self.kwh_price)))
        if self.hours_per_day is not None:
            params.append(("hours", number_text(self.hours_per_day)))
        if self.currency != "USD":
            params.append(("cur", self.currency))
        return urlencode(params, safe="*~.:,")


def circuit_value(label: str) -> str | dict:
    """A named circuit as the engine knows it, else {volts, amps} from a label such as "220v-10a"."""
    if label in engine.CIRCUITS:
        return label
    volts, amps = CIRCUIT_RE.match(label).groups()
    return {"volts": _label_number(volts), "amps": _label_number(amps)}


def _label_number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def circuit_label(value) -> str:
    if isinstance(value, dict):
        return f"{number_text(value.get('volts', 120))}v-{number_text(value.get('amps', 15))}a"
    return value if isinstance(value, str) else "120v-15a"


def circuit_ok(label: str) -> bool:
    """A named circuit, or a custom one within the engine's own bounds (defined once, in parse_context)."""
    if label in engine.CIRCUITS:
        return True
    if not CIRCUIT_RE.match(label):
        return False
    try:
        engine.parse_context({"circuit": circuit_value(label)})
    except engine.SpecError:
        return False
    return True


def encode_line(line: Line) -> str:
    if line.slug:
        head = line.slug
    else:
        payload = json.dumps(
            {"category": line.category, "name": line.name, "spec": line.spec}, separators=(",", ":")
        )
        head = "c:" + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return "~".join([f"{head}*{line.quantity}", *line.placement.flags()])


def decode_line(token: str, index: int, errors: list[str] | None = None) -> Line:
    """One `l` token. A placement flag that does not parse is an InputError; given `errors`, the line is kept
    instead with its placement reset and the error said there (a bad slot list never drops the part)."""
    where = f"line {index + 1}"
    if len(token) > MAX_TOKEN_CHARS:
        raise InputError(where, f"longer than {MAX_TOKEN_CHARS} characters")
    head, *flags = token.split("~")
    name_part, _, qty_text = head.partition("*")
    try:
        quantity = int(qty_text or "1")
    except ValueError:
        raise InputError(where, f"quantity {qty_text!r} is not a number") from None
    if not 1 <= quantity <= 16:
        raise InputError(where, "quantity must be between 1 and 16")
    line = Line(quantity=quantity)
    if name_part.startswith("c:"):
        try:
            raw = base64.urlsafe_b64decode(name_part[2:] + "=" * (-len(name_part[2:]) % 4))
            data = json.loads(raw)
            check_json_values(data, "custom part")  # no NUL or lone surrogate reaches a saved build
            line.category, line.name, line.spec = data["category"], str(data["name"])[:200], data["spec"]
            engine.spec_from_dict(line.category, line.spec)
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as exc:
            raise InputError(where, f"custom part is malformed ({exc})") from None
    else:
        if not SLUG.fullmatch(name_part):
            raise InputError(where, f"{name_part[:40]!r} is not a part slug")
        line.slug = name_part
    try:
        line.placement = Placement.from_flags(flags, where)
    except InputError as exc:
        if errors is None:
            raise
        errors.append(
            f"{exc.field} ({name_part[:60] if line.slug else line.name}): {exc.message}; placement reset"
        )
    return line


def _context_number(params, key: str, field: str, errors: list[str]) -> float | None:
    """A context figure from the query, in the bounds the engine (and so the API) allows: one range."""
    raw = params.get(key, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        errors.append(f"{key}: {raw[:40]!r} is not a number")
        return None
    try:
        engine.parse_context({field: value})
    except engine.SpecError as exc:  # a number out of the engine's range says so ("-1 out of range ...")
        errors.append(f"{key}: {exc.message}")
        return None
    return value


def state_from_params(params) -> State:
    """Parse the query (or form) parameters; bad lines are dropped with an error, never a 500."""
    state = State()
    units = 0
    for index, token in enumerate(params.getlist("l")[:MAX_ITEMS]):
        try:
            line = decode_line(token, index, state.errors)
        except InputError as exc:
            state.errors.append(f"{exc.field}: {exc.message}")
            continue
        if units + line.quantity > MAX_UNITS:
            state.errors.append(f"line {index + 1}: left out: a build holds at most {MAX_UNITS} units")
            continue
        units += line.quantity
        state.lines.append(line)
    circuit = params.get("circuit", "120v-15a")
    if circuit_ok(circuit):
        state.circuit = circuit
    else:
        state.errors.append(f"circuit: {circuit[:40]!r} is not a known circuit")
    state.kwh_price = _context_number(params, "kwh", "kwh_price", state.errors)
    state.hours_per_day = _context_number(params, "hours", "hours_per_day", state.errors)
    currency = params.get("cur", "USD")
    state.currency = currency if currency in CURRENCIES else "USD"
    return state


def state_from_form(params) -> State:
    """Forms other than the state form itself (pickers, custom part, save) carry the whole state as one
    `state` field holding the query string: one input instead of one per line in every form."""
    if "state" in params:
        return state_from_params(QueryDict(params.get("state", "")[:MAX_STATE_CHARS]))
    return state_from_params(params)


def state_from_build(build, lines: list[Line]) -> State:
    context = build.context or {}
    return State(
        lines=lines,
        circuit=circuit_label(context.get("circuit", "120v-15a")),
        kwh_price=context.get("kwh_price"),
        hours_per_day=context.get("hours_per_day"),
        currency=build.currency,
    )
