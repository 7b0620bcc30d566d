"""Workload estimates over the admin-curated model presets (ModelPreset rows -> estimator ModelArch)."""

from django.core.cache import cache

from catalog.bootstrap import PRESET_COLUMNS
from catalog.engine import estimator
from catalog.engine.errors import InputError
from catalog.models import ModelPreset

PRESETS_CACHE_KEY = "catalog:model-presets"


def preset_entry(preset: ModelPreset) -> dict:
    entry = {
        k: getattr(preset, k)
        for k in PRESET_COLUMNS - {"source"} | {"slug"}
        if getattr(preset, k) is not None
    }
    entry.update({k: v for k, v in (preset.extra or {}).items() if k in estimator._ARCH_FIELDS})
    return entry


def presets() -> dict[str, estimator.ModelArch]:
    """Curated presets by slug (cached for a minute; the admin edits them rarely)."""
    archs = cache.get(PRESETS_CACHE_KEY)
    if archs is None:
        archs = {}
        for preset in ModelPreset.objects.all():
            try:
                archs[preset.slug] = estimator.arch_from_preset(preset_entry(preset))
            except (TypeError, ValueError):
                continue  # a half-edited preset is left out rather than breaking every estimate
        cache.set(PRESETS_CACHE_KEY, archs, 60)
    return archs or estimator.load_presets()


def estimate_from_body(body: dict) -> dict:
    try:
        arch, request, vram = estimator.parse_estimate_request(body, presets())
        result = estimator.estimate(arch, request, vram)
    except estimator.EstimateRequestError as exc:
        raise InputError(exc.field, exc.message) from None
    return result.as_dict()
