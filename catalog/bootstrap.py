"""First-run data load: curated catalogue, prices, model presets, example builds. Idempotent."""


def bootstrap_all() -> list[str]:
    return ["nothing to load yet"]
