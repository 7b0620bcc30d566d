"""Exports never carry user text as markup or formulas (issue 17, items 6, 9 and 10).

CSV: every cell a spreadsheet would read as a formula (OWASP CSV injection: = + - @ tab CR first) is
neutralised in every CSV the app writes (the build export, the price-quote export). Markdown: build and part
names (and findings that quote them) are literal text: no link, image, HTML or code span comes from them and
the parts table keeps its four columns. The Markdown export answers for every build, PSU or not."""

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from builds.exports import markdown
from catalog.models import Part, PriceQuote
from catalog.prices_csv import (
    FORMULA_TRIGGERS,
    PLAIN_NUMBER,
    csv_cell,
    csv_cell_read,
    prices_export_csv,
    prices_import_csv,
)
from catalog.services import Money

pytestmark = pytest.mark.django_db

MD = MarkdownIt("commonmark").enable("table")
USER_MARKUP = {"link_open", "image", "html_inline", "html_block", "code_inline", "code_block", "fence"}
# Text with the characters that matter, mixed with anything else.
HOSTILE = st.text(
    st.one_of(
        st.sampled_from(
            list("=+-@\t\r\n|`*_[]()<>!#\\&~{}:;'\" ./") + ["\u2028", "\x0b", "\u00a0", "\ufeff"]
        ),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=40,
)
NAMES = HOSTILE.filter(lambda s: s.strip() and "\x00" not in s)


def formula_like(cell: str) -> bool:
    """What a spreadsheet would evaluate: a trigger first (leading blanks aside), unless a plain number."""
    if PLAIN_NUMBER.fullmatch(cell):
        return False
    return cell.lstrip("\x20\n\x0b\x0c").startswith(FORMULA_TRIGGERS) or cell.startswith(FORMULA_TRIGGERS)


@given(HOSTILE)
def test_csv_cells_never_start_a_formula_and_read_back_exactly(text):
    cell = csv_cell(text)
    assert not formula_like(cell) or cell.startswith("'")
    assert csv_cell_read(cell) == text


def inline_text(token) -> str:
    return "".join(child.content for child in token.children or [] if child.type == "text")


def expected(name: str) -> str:
    """The name as it should read: one line, trimmed (markdown-it turns NUL into U+FFFD)."""
    import re

    return re.sub(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+", " ", name).replace("\x00", "\ufffd").strip()


@settings(max_examples=150, deadline=None)
@given(build_name=HOSTILE, part_names=st.lists(HOSTILE, min_size=1, max_size=3), message=HOSTILE)
def test_markdown_keeps_user_text_literal(build_name, part_names, message):
    build = SimpleNamespace(name=build_name, share_id="abc", get_absolute_url=lambda: "/b/abc/")
    rows = [
        {"category": "gpu", "name": name, "quantity": 1, "today": Money(Decimal("1499"), "USD")}
        for name in part_names
    ]
    report = {"findings": [{"severity": "error", "code": "GPU_TOO_LONG", "message": message}]}
    tokens = MD.parse(markdown(build, None, report, rows))
    code_spans = [t for t in tokens if t.children for t in t.children if t.type == "code_inline"]
    assert [c.content for c in code_spans] == ["GPU_TOO_LONG"]  # the engine's code only
    for token in tokens:
        for child in token.children or [token]:
            assert child.type not in USER_MARKUP - {"code_inline"}, child
    heading = tokens[[t.type for t in tokens].index("heading_open") + 1]
    assert inline_text(heading) == expected(build_name)
    cells_per_row = []
    cells = []
    for i, token in enumerate(tokens):
        if token.type == "tr_open":
            cells = []
        elif token.type in ("td_open", "th_open"):
            cells.append(inline_text(tokens[i + 1]))
        elif token.type == "tr_close":
            cells_per_row.append(cells)
    assert [len(c) for c in cells_per_row] == [4] * (1 + len(part_names))
    assert [c[1] for c in cells_per_row[1:]] == [expected(n) for n in part_names]


@pytest.fixture
def api(client, seed_catalogue, settings):
    settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE = 100_000
    settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = 100_000
    return client


def create(client, body) -> str:
    response = client.post("/api/v1/builds", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["share_id"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(build_name=NAMES.filter(lambda s: len(s.strip()) <= 200), part_name=NAMES)
def test_build_exports_neutralise_user_text(api, build_name, part_name):
    share_id = create(
        api,
        {
            "name": build_name,
            "parts": [{"slug": "nvidia-geforce-rtx-4090-fe"}],
            "inline_parts": [{"category": "gpu", "name": part_name, "spec": {"length_mm": 999}}],
        },
    )
    text = api.get(f"/b/{share_id}/?format=csv").content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        assert len(row) == 6
        for cell in row:
            assert not formula_like(cell) or cell.startswith("'"), row
    assert csv_cell_read(rows[2][1]) == part_name
    md = api.get(f"/b/{share_id}/?format=md")
    assert md.status_code == 200
    for token in MD.parse(md.content.decode()):
        for child in token.children or [token]:
            assert child.type not in USER_MARKUP - {"code_inline"}


def test_price_quote_export_neutralises_and_imports_back(seed_catalogue):
    part = Part.objects.get(slug="corsair-ax1600i")
    hostile = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", " =lead", "'=x"]
    for source in hostile:
        PriceQuote.objects.create(
            part=part, amount=Decimal("10.00"), currency="USD", source=source, observed_at=datetime.now(UTC)
        )
    queryset = PriceQuote.objects.filter(source__in=hostile).order_by("id")
    text = prices_export_csv(queryset)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(hostile)
    for row in rows:
        for cell in row.values():
            assert not formula_like(cell) or cell.startswith("'"), row
    before = PriceQuote.objects.count()
    report = prices_import_csv(text)
    assert report.ok, (report.error, report.rejected)
    assert PriceQuote.objects.count() == before + len(hostile)
    assert sorted(
        PriceQuote.objects.order_by("-id").values_list("source", flat=True)[: len(hostile)]
    ) == sorted(hostile)


@pytest.mark.parametrize(
    "parts",
    [
        [],
        [{"slug": "amd-ryzen-9-7900x"}],
        [{"slug": "nvidia-geforce-rtx-4090-fe", "quantity": 2}],
        [{"slug": "msi-mpg-x670e-carbon-wifi"}, {"slug": "amd-ryzen-9-7900x"}],
    ],
)
def test_markdown_export_answers_without_a_psu(api, parts):
    share_id = create(api, {"name": "no psu", "parts": parts})
    response = api.get(f"/b/{share_id}/?format=md")
    assert response.status_code == 200
    assert "W peak" in response.content.decode()


def report_with_nones(draw_paths, report):
    """The report with the chosen figures (and whole sections) replaced by None."""
    if isinstance(report, dict):
        return {k: None if draw_paths(k) else report_with_nones(draw_paths, v) for k, v in report.items()}
    if isinstance(report, list):
        return [report_with_nones(draw_paths, v) for v in report]
    return report


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_markdown_takes_any_figure_as_unknown(data):
    """Every figure the Markdown export reads may be None (unknown) in a report: never an exception."""
    report = {
        "power": {"sustained_w": 900.0, "transient_w": 1500.0, "wall_w": 990.0, "circuit": "120v-15a"},
        "capacity": {"vram_gb": 48.0, "ram_gb": 128.0},
        "compute": {"bf16_tflops": 330.0},
        "findings": [{"severity": "warning", "code": "X", "message": "m"}],
    }
    broken = report_with_nones(lambda key: data.draw(st.booleans(), label=key), report)
    rows = [{"category": "gpu", "name": "n", "quantity": 1, "today": Money(None, "USD")}]
    text = markdown(
        SimpleNamespace(name="b", share_id="s", get_absolute_url=lambda: "/b/s/"), None, broken, rows
    )
    assert text.startswith("## b")
