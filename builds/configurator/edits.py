"""What a request does to the configurator's state before anything is shown: the form's controls applied
(`apply_edits`), a custom part parsed, catalogue rows attached (`resolve_state`). No database writes: the
only queries are the catalogue reads of the parts named.
"""

from dataclasses import replace

from builds.configurator.state import DIGITS, State
from builds.inputs import MAX_ITEMS, MAX_UNITS, SLUG_RE, InputError, Line, parts_by_slug, resolve_lines
from catalog.engine import specs as engine
from catalog.engine.placement import RISER_MENU, Placement
from catalog.models import Category

SINGLE = {Category.CPU, Category.MOTHERBOARD, Category.CASE, Category.COOLER}  # one per build


def apply_edits(state: State, params) -> State:
    """The state with the state form's controls applied (the given state is left as it was): per line
    q<i> (quantity), s<i> (slots), r<i> (mount), p<i> (PSU units), w<i> (power limit); then x (remove line
    x) and add (a catalogue slug: appended, or swapped in for a one-per-build category). `changed` on the
    result says whether any line changed (a form submitted without JavaScript is then redirected)."""
    edited = replace(state, lines=[replace(line) for line in state.lines], errors=list(state.errors))
    edited.changed = _apply(edited, params)
    return edited


def _apply(state: State, params) -> bool:
    changed = False
    mounts: dict[int, list[str]] = {}  # line index -> the mount menu's value per card, where cards differ
    remounted: set[int] = set()  # ids of the lines a card's mount changed on
    for index, line in enumerate(state.lines):
        before = line.placement
        where = f"line {index + 1}"
        q = params.get(f"q{index}")
        if q and DIGITS.fullmatch(q) and 1 <= int(q) <= 16 and int(q) != line.quantity:
            if units(state) - line.quantity + int(q) > MAX_UNITS:
                state.errors.append(f"{where}: quantity {q} would pass {MAX_UNITS} units in the build")
            else:
                line.quantity = int(q)
                line.placement = line.placement.for_quantity()
                changed = True
        for key, name, label in (("slots", f"s{index}", "slots"), ("psu", f"p{index}", "PSU")):
            if name in params:
                try:
                    line.placement = line.placement.with_units_text(
                        key, params.get(name, ""), line.quantity, f"{where} {label}"
                    )
                except InputError as exc:  # said, and the line keeps its placement: never silently dropped
                    state.errors.append(f"{exc.field}: {exc.message}")
        _apply_cards(state, index, line, params, mounts, remounted)
        # A control changes its line only when its value differs from what the page showed: a riser width
        # the menu has no option for (x4, x8, set through the API) survives a re-check of another control.
        if f"r{index}" in params:
            line.placement = line.placement.with_riser_value(params.get(f"r{index}"))
        if f"w{index}" in params:
            raw = params.get(f"w{index}", "").strip()
            try:
                watts = float(raw) if raw else None
            except ValueError:
                watts = None
                state.errors.append(f"line {index + 1}: power limit {raw[:20]!r} is not a number")
            error = power_limit_error(watts) if watts is not None else None  # the engine's (API's) range
            if error:
                state.errors.append(f"line {index + 1}: power limit {error}")
                watts = None
            if watts != line.placement.power_limit_w:
                line.placement = replace(line.placement, power_limit_w=watts)
        changed |= line.placement != before
    changed |= _move_card(state, params.get("mv", ""))
    splits = {id(state.lines[i]): values for i, values in mounts.items()}  # before a removal renumbers
    remove = params.get("x", "")
    if DIGITS.fullmatch(remove) and int(remove) < len(state.lines):
        del state.lines[int(remove)]
        changed = True
    if splits:
        changed |= _split_by_mount(state, splits)
    elif remounted:  # a whole line's cards changed mount: it may rejoin a neighbour on that mount
        changed |= _merge_alike(state, remounted)
    if params.get("add"):
        changed |= add_part(state, params.get("add"))
    return changed


def _apply_cards(
    state: State, index: int, line: Line, params, mounts: dict[int, list[str]], remounted: set[int]
) -> None:
    """Per-card controls of a GPU line: c<i>.<k> (the slot row of card k, "" = automatic) and m<i>.<k> (its
    mount). Cards of one line on different mounts are split into lines later (_split_by_mount)."""
    for unit in range(line.quantity):
        name = f"c{index}.{unit}"
        if name not in params:
            continue
        raw = params.get(name, "").strip()
        if raw in ("", "auto"):
            slot = None
        elif DIGITS.fullmatch(raw) and 1 <= int(raw) <= 16:
            slot = int(raw)
        else:
            state.errors.append(
                f"line {index + 1} card {unit + 1} slot: {raw[:20]!r} is not a slot row (1-16)"
            )
            continue
        line.placement = line.placement.with_unit_slot(unit, slot, line.quantity)
    chosen = [params.get(f"m{index}.{unit}") for unit in range(line.quantity)]
    if all(value is None for value in chosen):
        return
    shown = line.placement.riser_value
    values = [shown if value is None or value not in RISER_MENU else value for value in chosen]
    if any(value != shown for value in values):
        remounted.add(id(line))
    if len(set(values)) == 1:
        line.placement = line.placement.with_riser_value(values[0])
    else:
        mounts[index] = values


def _merge_alike(state: State, remounted: set[int]) -> bool:
    """Adjacent lines of the same catalogue part on the same mount and power limit become one line again
    (the cards keep their slot rows and PSU units): a card put back "in the slot" rejoins its line. A line
    that continues a saved one (its prices paid) is never folded into another."""
    out: list[Line] = []
    merged = False
    for line in state.lines:
        last = out[-1] if out else None
        if (
            last is not None
            and (id(line) in remounted or id(last) in remounted)
            and line.slug is not None
            and line.slug == last.slug
            and line.item is None
            and line.placement.riser_value == last.placement.riser_value
            and line.placement.riser_width == last.placement.riser_width
            and line.placement.power_limit_w == last.placement.power_limit_w
            and last.quantity + line.quantity <= 16
        ):
            out[-1] = replace(last, quantity=last.quantity + line.quantity, placement=_joined(last, line))
            merged = True
            continue
        out.append(line)
    state.lines = out
    return merged


def _joined(first: Line, second: Line) -> Placement:
    def units(line: Line, key: str) -> list:
        values = getattr(line.placement, key)
        return list(values) if values and len(values) == line.quantity else [None] * line.quantity

    slots = units(first, "slots") + units(second, "slots")
    psu = units(first, "psu") + units(second, "psu")
    return replace(
        first.placement,
        slots=tuple(slots) if any(v is not None for v in slots) else None,
        psu=tuple(psu) if all(v is not None for v in psu) else None,
    )


def _move_card(state: State, move: str) -> bool:
    """`mv=<line>.<card>.<row>`: the slot map's "put this card here" button."""
    parts = move.split(".")
    if len(parts) != 3 or not all(DIGITS.fullmatch(p) for p in parts):
        if move:
            state.errors.append(f"move: {move[:30]!r} is not <line>.<card>.<slot row>")
        return False
    index, unit, row = (int(p) for p in parts)
    if index >= len(state.lines) or unit >= state.lines[index].quantity:
        state.errors.append(f"move: the build has no card {unit + 1} on line {index + 1}")
        return False
    if not 1 <= row <= 16:
        state.errors.append(f"move: {row} is not a slot row (1-16)")
        return False
    line = state.lines[index]
    before = line.placement
    line.placement = line.placement.with_unit_slot(unit, row, line.quantity)
    return line.placement != before


def _split_by_mount(state: State, splits: dict[int, list[str]]) -> bool:
    """A line whose cards were given different mounts becomes one line per run of cards on the same mount
    (each card keeps its slot row and PSU unit): only the second card on a riser takes one change."""
    out: list[Line] = []
    for line in state.lines:
        values = splits.get(id(line))
        if values is None:
            out.append(line)
            continue
        start = 0
        for end in range(1, len(values) + 1):
            if end == len(values) or values[end] != values[start]:
                part = replace(line, quantity=end - start, placement=line.placement.units(start, end))
                if start:  # the first run continues the saved line (its prices paid); the others are new
                    part.item, part.saved = None, {}
                part.placement = part.placement.with_riser_value(values[start])
                out.append(part)
                start = end
    if len(out) > MAX_ITEMS:
        state.errors.append(f"mount: splitting the line would pass {MAX_ITEMS} lines; remove a line first")
        return False
    state.lines = out
    return True


def units(state: State) -> int:
    return sum(line.quantity for line in state.lines)


def power_limit_error(watts: float) -> str | None:
    try:
        engine.part_from_dict({"category": "gpu", "power_limit_w": watts})
    except engine.SpecError as exc:
        return exc.message
    return None


def add_part(state: State, slug: str) -> bool:
    part = parts_by_slug({slug}).get(slug) if SLUG_RE.fullmatch(slug) else None
    if part is None:
        state.errors.append(f"add: no part {slug[:60]!r} in the catalogue")
        return False
    if len(state.lines) >= MAX_ITEMS:
        state.errors.append(f"add: at most {MAX_ITEMS} lines in a build")
        return False
    if units(state) + 1 > MAX_UNITS and part.category not in SINGLE:
        state.errors.append(f"add: a build holds at most {MAX_UNITS} units")
        return False
    if part.category in SINGLE:
        # Lines read from the query are not resolved yet: catalogue lines know their category by slug.
        known = parts_by_slug({line.slug for line in state.lines if line.slug})
        state.lines = [
            line
            for line in state.lines
            if (known[line.slug].category if line.slug in known else line.category) != part.category
        ]
    state.lines.append(Line(slug=part.slug, category=part.category, name=part.name))
    return True


def resolve_state(state: State) -> None:
    """Attach catalogue rows; unknown slugs and invalid placements are dropped with an error."""
    try:
        resolve_lines(state.lines)
        return
    except InputError:
        pass
    good = []
    by_slug = parts_by_slug({line.slug for line in state.lines if line.slug})
    for index, line in enumerate(state.lines):
        if line.slug is not None and line.slug not in by_slug:
            state.errors.append(f"line {index + 1}: no part {line.slug[:60]!r} in the catalogue")
            continue
        try:
            resolve_lines([line])
        except InputError as exc:
            state.errors.append(f"line {index + 1}: {exc.message}; placement reset")
            line.placement = Placement()
            resolve_lines([line])
        good.append(line)
    state.lines = good


def parse_custom_spec(category: str, text: str) -> dict:
    """`key = value` lines into inline spec fields: numbers, true/false, comma lists for list fields.
    The engine's strict spec_from_dict then checks names, types and ranges (its error names the field)."""
    spec = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = (part.strip() for part in line.partition("="))
        if not sep or not key:
            raise InputError(f"spec line {number}", "write it as name = value, e.g. vram_gb = 24")
        lowered = value.lower()
        if lowered in ("true", "yes"):
            spec[key] = True
        elif lowered in ("false", "no"):
            spec[key] = False
        elif key in ("form_factors", "sockets", "bifurcation"):
            spec[key] = [v.strip() for v in value.split(",") if v.strip()]
        else:
            try:
                number_value = float(value)
                spec[key] = (
                    int(number_value) if number_value.is_integer() and "." not in value else number_value
                )
            except ValueError:
                spec[key] = value
    try:
        engine.spec_from_dict(category, spec)
    except engine.SpecError as exc:
        raise InputError(exc.field, exc.message) from None
    return spec
