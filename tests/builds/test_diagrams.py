"""The diagrams' text layout (builds/diagrams.py; issue 15, item 10), without a browser: labels wrap instead
of being cut, every label fits the canvas and no two overlap by the layout's own width estimate, for any
board, cards, PSUs and names. tests/browser/test_diagrams.py checks the same as rendered in chromium. Also
the compare table's marks (builds/compare.py): best and worst only where one build stands out."""

import html
import re
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from builds.compare import narrowest_link, odd_one_out, standout_marks
from builds.diagrams import (
    FONT_PX,
    WIDTH,
    compare_bars_svg,
    power_bars_svg,
    slot_layout_svg,
    text_width,
    thermal_gauge_svg,
    wrap,
)

TEXT = re.compile(r'<text x="([-\d.]+)" y="([-\d.]+)" class="([\w-]+)">(.*?)</text>')
ASCENT, DESCENT = 0.93, 0.24  # DejaVu Sans, in ems: the text box above and below the baseline


def boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    found = []
    for x, y, css, content in TEXT.findall(svg):
        text = html.unescape(content)
        x, y, size = float(x), float(y), FONT_PX[css]
        found.append((text, x, y - ASCENT * size, x + text_width(text, css), y + DESCENT * size))
    return found


def assert_laid_out(svg: str):
    height = float(re.search(r'viewBox="0 0 [\d.]+ ([\d.]+)"', svg).group(1))
    placed = boxes(svg)
    assert placed, "no text"
    for text, left, top, right, bottom in placed:
        assert left >= 0 and right <= WIDTH + 0.5, f"{text!r} runs off the side ({left:.0f}-{right:.0f})"
        assert top >= 0 and bottom <= height + 1, f"{text!r} runs off the top or bottom"
    for i, (a, al, at, ar, ab) in enumerate(placed):
        for b, bl, bt, br, bb in placed[i + 1 :]:
            assert not (al < br and bl < ar and at < bb and bt < ab), f"{a!r} overlaps {b!r}"


def all_text(svg: str) -> str:
    return " ".join(html.unescape(t[3]) for t in TEXT.findall(svg))


# --- wrap ----------------------------------------------------------------------------------------------

words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Z"]), min_size=1)


@settings(max_examples=200, deadline=None)
@given(st.lists(words, max_size=12), st.floats(min_value=10, max_value=400), st.sampled_from(sorted(FONT_PX)))
def test_wrap_keeps_every_character_and_each_line_fits(parts, width, css):
    text = " ".join(parts)
    lines = wrap(text, width, css)
    assert lines
    assert "".join(lines).replace(" ", "") == "".join(text.split())  # nothing cut, order kept
    for line in lines:
        assert text_width(line, css) <= width or len(line) == 1


def test_wrap_breaks_at_spaces_when_it_can():
    assert wrap("NVIDIA GeForce RTX 4090 Founders Edition", 150, "svg-muted") == [
        "NVIDIA GeForce RTX 4090",
        "Founders Edition",
    ]


# --- slots ---------------------------------------------------------------------------------------------


def slot(position, physical=16, electrical=16, gen=4, source="cpu", row_known=True):
    return SimpleNamespace(
        position=position,
        physical_width=physical,
        electrical_width=electrical,
        gen=gen,
        source=source,
        row_known=row_known,
    )


def gpu(n, slot_at, label="NVIDIA GeForce RTX 4090 Founders Edition", thickness=3.0):
    return {"part": f"gpu#{n}", "unit": 0, "label": label, "slot": slot_at, "thickness_slots": thickness}


def test_dual_4090_slot_diagram_names_each_card_in_full_beside_not_over_the_slot_labels():
    board = SimpleNamespace(
        pcie_slots=[slot(2, gen=5), slot(6, electrical=8, gen=5), slot(7, 16, 4, 4, "chipset")]
    )
    report = {
        "thermal": {"gpus": [gpu(0, 2), gpu(1, "riser")]},
        "lanes": [
            {"part": "gpu#0", "unit": 0, "width": 8, "gen": 4},
            {"part": "gpu#1", "unit": 0, "width": 8, "gen": 4},
        ],
        "findings": [],
    }
    svg = slot_layout_svg(board, report)
    assert_laid_out(svg)
    text = all_text(svg)
    assert "GPU 1 · 3 slots" in text
    assert "GPU 1: NVIDIA GeForce RTX 4090 Founders Edition — row 2, 3 slots thick, x8 gen4 link" in text
    assert "GPU 2: NVIDIA GeForce RTX 4090 Founders Edition — on a riser, x8 gen4 link" in text
    assert "x16 slot · x16 gen5 · cpu" in text and "x16 slot · x4 gen4 · chipset" in text


slot_lists = st.lists(
    st.builds(
        slot,
        st.integers(1, 9),
        st.sampled_from([1, 4, 8, 16, None]),
        st.sampled_from([1, 4, 8, 16, None]),
        st.sampled_from([3, 4, 5, None]),
        st.sampled_from(["cpu", "chipset", "", "switch"]),
        st.booleans(),
    ),
    max_size=8,
    unique_by=lambda s: s.position,
)
names = st.text(min_size=1, max_size=120).map(lambda s: s.strip() or "card")
cards = st.lists(
    st.tuples(
        st.one_of(st.integers(1, 9), st.just("riser")), names, st.sampled_from([1, 2, 2.5, 2.75, 3, 3.5, 4])
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=80, deadline=None)
@given(slot_lists, cards, st.booleans(), st.one_of(st.none(), st.integers(1, 10)))
def test_any_board_and_cards_lay_out_without_overlap(slots, gpus, obstruct, case_rows):
    report = {
        "thermal": {"gpus": [gpu(i, at, label, thick) for i, (at, label, thick) in enumerate(gpus)]},
        "lanes": [{"part": f"gpu#{i}", "unit": 0, "width": 16, "gen": 4} for i in range(len(gpus))],
        "findings": [{"code": "GPU_SLOT_OBSTRUCTED", "parts": ["gpu#0"]}] if obstruct else [],
    }
    svg = slot_layout_svg(SimpleNamespace(pcie_slots=slots), report, case_rows)
    if not svg:
        assert not slots and all(at == "riser" for at, _, _ in gpus)
        return
    assert_laid_out(svg)
    drawn_rows = len(re.findall(r">(?:row|slot) \d+<", svg))
    rows_known = all(s.row_known for s in slots)
    # The case's limit is drawn (with its legend entry) exactly where it cuts the rows shown.
    cuts = rows_known and case_rows is not None and case_rows < drawn_rows
    assert ("svg-case-limit" in svg) == cuts
    assert (f"the case has {case_rows} expansion slots" in all_text(svg)) == cuts
    flat = all_text(svg).replace(" ", "")
    for _, label, _ in gpus:  # every name in full: wrapped, never cut
        assert " ".join(label.split()).replace(" ", "") in flat


# --- power, case air -----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(names, st.floats(0, 3000), st.floats(0, 5000), st.floats(0, 3000)), min_size=1, max_size=4
    ),
    st.floats(0, 20000),
)
def test_power_bars_wrap_long_psu_names_and_figures(psus, wall):
    report = {
        "power": {
            "psus": [
                {"unit": i, "name": name, "rating_w": rating, "sustained_w": sustained, "transient_w": peak}
                for i, (name, rating, peak, sustained) in enumerate(psus)
            ],
            "wall_w": wall,
            "amps": round(wall / 120, 1),
            "circuit_volts": 120.0,
            "circuit_amps": 15.0,
            "circuit_limit_w": 1440.0,
        }
    }
    svg = power_bars_svg(report)
    assert_laid_out(svg)
    assert "PSU 1:" in all_text(svg) and "a 120 V / 15 A circuit" in all_text(svg)


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 60), st.floats(0, 100000), st.floats(0, 100000))
def test_case_air_marker_label_never_meets_the_summary(rise, heat, cfm):
    svg = thermal_gauge_svg(
        {"thermal": {"case_air_rise_c": round(rise, 1), "heat_into_case_w": heat, "airflow_cfm": cfm}}
    )
    assert_laid_out(svg)
    assert "10 °C warning" in all_text(svg)


# --- compare -------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(names, min_size=2, max_size=4),
    st.lists(st.one_of(st.none(), st.floats(0, 1e6)), min_size=16, max_size=16),
)
def test_compare_chart_legend_shows_every_name_in_full(build_names, numbers):
    n = len(build_names)
    rows = [
        (label, numbers[i * 4 : i * 4 + n])
        for i, label in enumerate(["VRAM (GB)", "BF16", "Wall (W)", "Price"])
    ]
    svg = compare_bars_svg(rows, build_names)
    assert_laid_out(svg)
    flat = all_text(svg).replace(" ", "")
    for name in build_names:
        assert " ".join(name.split()).replace(" ", "") in flat


def test_three_builds_mark_only_the_extremes_that_stand_out():
    shown = ["96 GB", "48 GB", "72 GB"]
    assert standout_marks(shown, [96, 48, 72], "high") == ["best", "worst", ""]
    assert standout_marks(shown, [96, 48, 72], "low") == ["worst", "best", ""]
    # Two share the best: only the worst stands out. All the same: nothing.
    assert standout_marks(["0", "0", "2"], [0, 0, 2], "low") == ["", "", "worst"]
    assert standout_marks(["5", "5", "5"], [5, 5, 5], "low") == ["", "", ""]
    # Equal as printed (1,341 W both): a tie, whatever the decimals.
    assert standout_marks(["1,341 W", "1,341 W", "900 W"], [1341.4, 1341.2, 900], "low") == ["", "", "best"]
    # Unknown figures are not ranked; a row without a direction is not marked.
    assert standout_marks(["—", "4", "8"], [None, 4, 8], "high") == ["", "worst", "best"]
    assert standout_marks(["a", "b"], [1, 2], None) == ["", ""]
    assert (
        narrowest_link("x16 / x8") == 8 and narrowest_link("x16 / ?") is None and narrowest_link("—") is None
    )


def test_part_rows_mark_the_odd_one_out_not_every_row():
    a, b = ["1× RTX 4090"], ["3× RTX 3090"]
    assert odd_one_out([a, a, b]) == ["", "", "differs"]
    assert odd_one_out([a, b, ["2× A6000"]]) == ["", "", ""]  # all differ: nothing stands out
    assert odd_one_out([a, a, a]) == ["", "", ""]
    assert odd_one_out([a, b]) == ["differs", "differs"]
