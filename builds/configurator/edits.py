"""What a request does to the configurator's state before anything is shown: the form's controls applied
(`apply_edits`), a custom part parsed, catalogue rows attached (`resolve_state`). No database writes: the
only queries are the catalogue reads of the parts named.
"""

from dataclasses import replace

from builds.configurator.state import DIGITS, State
from builds.inputs import MAX_ITEMS, SLUG_RE, InputError, Line, parts_by_slug, resolve_lines
from catalog.engine import specs as engine
from catalog.engine.placement import Placement
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
    for index, line in enumerate(state.lines):
        before = line.placement
        q = params.get(f"q{index}")
        if q and DIGITS.fullmatch(q) and 1 <= int(q) <= 16 and int(q) != line.quantity:
            line.quantity = int(q)
            line.placement = line.placement.for_quantity()
            changed = True
        for key, name in (("slots", f"s{index}"), ("psu", f"p{index}")):
            if name in params:
                line.placement = line.placement.with_units_text(key, params.get(name, ""), line.quantity)
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
    remove = params.get("x", "")
    if DIGITS.fullmatch(remove) and int(remove) < len(state.lines):
        del state.lines[int(remove)]
        changed = True
    if params.get("add"):
        changed |= add_part(state, params.get("add"))
    return changed


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
