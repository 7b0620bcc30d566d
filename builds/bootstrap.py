"""`manage.py bootstrap`: the curated catalogue (catalog.bootstrap) and then the example builds that use it.

It lives in builds because the example builds are builds; catalog never imports builds."""

from builds.examples import load_example_builds
from catalog.bootstrap import bootstrap_catalogue


def bootstrap_all() -> list[str]:
    lines = bootstrap_catalogue()
    lines.append(load_example_builds())
    return lines
