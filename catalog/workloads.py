"""Workload estimates over the admin-curated model presets (ModelPreset rows -> estimator ModelArch)."""

from catalog.bootstrap import PRESET_COLUMNS
from catalog.engine import estimator
from catalog.engine.errors import InputError
from catalog.models import ModelPreset
from catalog.services import catalogue_version

# The presets per catalogue version, per process: every ModelPreset save or delete bumps the version
# (catalog.signals), so an admin edit is seen by the next request.
_PRESETS: dict[int, estimator.Presets] = {}


def preset_entry(preset: ModelPreset) -> dict:
    entry = {
        k: getattr(preset, k)
        for k in PRESET_COLUMNS - {"source"} | {"slug"}
        if getattr(preset, k) is not None
    }
    entry.update({k: v for k, v in (preset.extra or {}).items() if k in estimator._ARCH_FIELDS})
    return entry


def presets() -> estimator.Presets:
    """The model presets: the catalogue's ModelPreset rows (curated in the admin), the one source for the
    engine's workload checks, /plan/ and the estimate API. The seed file's presets only while the table is
    empty (a database not yet bootstrapped)."""
    version = catalogue_version()
    found = _PRESETS.get(version)
    if found is None:
        archs = {}
        for preset in ModelPreset.objects.all():
            try:
                archs[preset.slug] = estimator.arch_from_preset(preset_entry(preset))
            except (TypeError, ValueError):
                continue  # a half-edited preset is left out rather than breaking every estimate
        found = estimator.Presets(archs) if archs else estimator.file_presets()
        _PRESETS.clear()
        _PRESETS[version] = found
    return found


def presets_cache_clear() -> None:
    _PRESETS.clear()


def estimate_from_body(body: dict) -> dict:
    try:
        arch, request, vram = estimator.parse_estimate_request(body, presets())
        result = estimator.estimate(arch, request, vram)
    except estimator.EstimateRequestError as exc:
        raise InputError(exc.field, exc.message) from None
    return result.as_dict()
