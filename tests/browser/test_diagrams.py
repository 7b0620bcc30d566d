"""The server-drawn diagrams as a reader sees them (issue 15, item 10), in headless chromium at 1280 and
390 px: on every example build's page, a configurator page and the compare page, no two text boxes of one
diagram overlap, every text lies inside its diagram, and every label renders at 9 px or more."""

import pytest

from builds import selectors
from builds.configurator.state import encode_line, state_from_build
from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": PHONE}
MIN_FONT_PX = 9.0
# Every <text> of every diagram: its box on screen and its font size as rendered (CSS size x the SVG's scale).
MEASURE = """() => [...document.querySelectorAll('svg.diagram')].map((svg, index) => {
  const box = svg.getBoundingClientRect();
  const scale = svg.getScreenCTM().a;
  return {
    name: svg.getAttribute('aria-label') || (svg.querySelector('title') || {}).textContent || `svg ${index}`,
    box: {x: box.x, y: box.y, w: box.width, h: box.height},
    texts: [...svg.querySelectorAll('text')].map(t => {
      const r = t.getBoundingClientRect();
      return {text: t.textContent, x: r.x, y: r.y, w: r.width, h: r.height,
              px: parseFloat(getComputedStyle(t).fontSize) * scale};
    }),
  };
})"""
TOLERANCE = 0.5  # px: boxes that only touch do not overlap


def overlapping(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["w"] - TOLERANCE
        and b["x"] < a["x"] + a["w"] - TOLERANCE
        and a["y"] < b["y"] + b["h"] - TOLERANCE
        and b["y"] < a["y"] + a["h"] - TOLERANCE
    )


def problems(diagrams: list[dict], where: str) -> list[str]:
    found = []
    for diagram in diagrams:
        texts, box = diagram["texts"], diagram["box"]
        label = f"{where} · {diagram['name'][:50]}"
        for i, a in enumerate(texts):
            if a["px"] < MIN_FONT_PX:
                found.append(f"{label}: {a['text']!r} renders at {a['px']:.1f} px")
            inside = (
                a["x"] >= box["x"] - 1
                and a["y"] >= box["y"] - 1
                and a["x"] + a["w"] <= box["x"] + box["w"] + 1
                and a["y"] + a["h"] <= box["y"] + box["h"] + 1
            )
            if not inside:
                found.append(f"{label}: {a['text']!r} runs outside the diagram")
            found += [
                f"{label}: {a['text']!r} overlaps {b['text']!r}" for b in texts[i + 1 :] if overlapping(a, b)
            ]
    return found


def configurator_path(build) -> str:
    state = state_from_build(build, selectors.build_lines(build))
    return "/builds/new/?" + state.query(tokens=[encode_line(line) for line in state.lines])


@pytest.mark.parametrize("width", WIDTHS)
def test_diagram_labels_never_overlap_and_stay_readable(open_page, seed_catalogue, width):
    builds = sorted(seed_catalogue.values(), key=lambda b: b.name)
    pages = [(f"/b/{b.share_id}/", b.name) for b in builds]
    pages.append((configurator_path(seed_catalogue["dual-4090-home-server"]), "configurator, dual 4090"))
    three = ("4x-4090-threadripper-pro-trainer", "dual-4090-home-server", "3x-3090-mining-rig-conversion")
    pages.append(("/compare/?b=" + ",".join(seed_catalogue[k].share_id for k in three), "compare, 3 builds"))
    found, names, counted = [], [], 0
    watch = None
    for path, name in pages:
        if watch is None:
            watch = open_page(path, viewport=WIDTHS[width])
        else:
            watch.page.goto(watch.origin + path)
        diagrams = watch.page.evaluate(MEASURE)
        counted += sum(len(d["texts"]) for d in diagrams)
        names += [d["name"] for d in diagrams]
        found += problems(diagrams, f"{width} {name}")
        if name == "compare, 3 builds" or name.startswith("configurator"):
            watch.screenshot(f"diagrams-{width}-{name.split(',')[0]}")
    # Every kind of diagram was measured: slots, power, case air and the compare chart.
    for kind in ("Board slots", "Power per PSU", "Case air temperature rise", "Key figures per build"):
        assert any(name.startswith(kind) for name in names), kind
    assert counted > 100
    assert found == [], "\n".join(found)
    assert watch.console_errors == []
