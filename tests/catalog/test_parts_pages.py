"""Parts pages: /parts/<category>/ lists (search, sorts, filters, currency, build filter, pages) and details."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.charts import price_history_svg
from catalog.models import ExchangeRate
from catalog.services import price_quote_add
from tests.catalog.factories import (
    BuildFactory,
    BuildItemFactory,
    CaseFactory,
    CpuFactory,
    GpuFactory,
    LaneRuleFactory,
    M2SocketFactory,
    MemoryKitFactory,
    MotherboardFactory,
    PcieSlotFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    # exchange_rates() caches the rates for 300 s; every test sets its own.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def eur_at_half():
    ExchangeRate.objects.create(
        currency="EUR", per_usd=Decimal("0.5"), observed_at=timezone.now().date(), source="test"
    )
    cache.clear()


def priced(part, amount, *, condition="new", days_ago=0, currency="USD"):
    price_quote_add(
        part=part,
        amount=amount,
        currency=currency,
        condition=condition,
        source="test shop",
        observed_at=timezone.now() - timedelta(days=days_ago),
    )
    part.refresh_from_db()
    return part


def listed_slugs(response) -> list[str]:
    return [row.part.slug for row in response.context["listing"].rows]


# --- the list -----------------------------------------------------------------------------------------


def test_unknown_category_is_404(client):
    assert client.get("/parts/nope/").status_code == 404
    assert client.get("/parts/gpu/no-such-gpu/").status_code == 404


def test_list_shows_live_parts_with_gpu_columns_and_unknown_not_zero(client):
    GpuFactory(slug="big", name="Big card", vram_gb=48, bf16_tflops=100, board_power_w=300, length_mm=267)
    GpuFactory(slug="old", name="Old card", retired=True)
    GpuFactory(slug="blank", name="Blank card")  # every spec unknown
    response = client.get("/parts/gpu/")
    assert response.status_code == 200
    assert listed_slugs(response) == ["big", "blank"]  # retired parts leave the list
    html = response.content.decode()
    for header in (
        "VRAM",
        "BF16 TFLOPS",
        "Bandwidth",
        "Power",
        "Slots",
        "Length",
        "Price / GB",
        "Price / TFLOP",
    ):
        assert header in html
    blank_row = re.search(r'<tr data-slug="blank">(.*?)</tr>', html, re.S).group(1)
    assert "unknown" in blank_row and ">0 " not in blank_row and "0 GB" not in blank_row
    assert "48 GB" in html and "267 mm" in html
    assert "page 1 of 1" in html
    assert 'style="' not in html and "<style" not in html  # CSP: style-src 'self' only
    assert "css/parts.css" in html


def test_other_categories_show_their_own_key_specs(client):
    CpuFactory(slug="c1", socket="AM5", cores=16, threads=32, tdp_w=170, cpu_lanes=24, memory_type="DDR5")
    html = client.get("/parts/cpu/").content.decode()
    assert "AM5" in html and "16 / 32" in html and "170 W" in html and "CPU lanes" in html
    assert "Price / GB" not in html  # GPU-only columns


def test_search_matches_name_or_brand_case_insensitively(client):
    GpuFactory(slug="a", name="GeForce RTX 4090", brand="NVIDIA")
    GpuFactory(slug="b", name="Radeon RX 7900 XTX", brand="AMD")
    GpuFactory(slug="c", name="Arc A770", brand="Intel")
    assert listed_slugs(client.get("/parts/gpu/", {"q": "rtx"})) == ["a"]
    assert listed_slugs(client.get("/parts/gpu/", {"q": "amd"})) == ["b"]
    assert listed_slugs(client.get("/parts/gpu/", {"q": "nothing-like-this"})) == []


def test_sort_by_price_puts_unpriced_parts_last_in_both_directions(client):
    priced(GpuFactory(slug="dear", name="A dear"), 300)
    priced(GpuFactory(slug="cheap", name="B cheap"), 100)
    GpuFactory(slug="unpriced", name="C unpriced")
    priced(GpuFactory(slug="used-only", name="D used"), 50, condition="used")
    assert listed_slugs(client.get("/parts/gpu/", {"sort": "price"})) == [
        "cheap",
        "dear",
        "used-only",
        "unpriced",
    ]
    assert listed_slugs(client.get("/parts/gpu/", {"sort": "-price"})) == [
        "dear",
        "cheap",
        "used-only",
        "unpriced",
    ]
    # No sort given: price, low first.
    assert listed_slugs(client.get("/parts/gpu/"))[0] == "cheap"


def test_sort_by_price_per_gb_and_per_tflop(client):
    # $1000 / 48 GB = $20.83/GB but $10/TFLOP; $500 / 12 GB = $41.67/GB and $25/TFLOP.
    priced(GpuFactory(slug="roomy", vram_gb=48, bf16_tflops=100), 1000)
    priced(GpuFactory(slug="small", vram_gb=12, bf16_tflops=20), 500)
    priced(GpuFactory(slug="fast", vram_gb=16, bf16_tflops=200), 1200)  # $75/GB, $6/TFLOP
    GpuFactory(slug="nothing-known")
    assert listed_slugs(client.get("/parts/gpu/", {"sort": "price_per_gb"})) == [
        "roomy",
        "small",
        "fast",
        "nothing-known",
    ]
    assert listed_slugs(client.get("/parts/gpu/", {"sort": "-price_per_tflop"})) == [
        "small",
        "roomy",
        "fast",
        "nothing-known",
    ]
    html = client.get("/parts/gpu/", {"sort": "price_per_gb"}).content.decode()
    assert "$21" in html and "$10" in html  # per GB and per TFLOP of the 48 GB card


def test_gpu_only_sort_on_a_cpu_list_falls_back_to_name_with_a_note(client):
    CpuFactory(slug="zeta", name="Zeta CPU")
    CpuFactory(slug="alpha", name="Alpha CPU")
    response = client.get("/parts/cpu/", {"sort": "price_per_gb"})
    assert response.status_code == 200
    assert listed_slugs(response) == ["alpha", "zeta"]
    assert response.context["listing"].sort == "name"
    html = response.content.decode()
    assert "applies to GPUs only" in html
    assert '<option value="name" selected>' in html  # the select shows the sort applied
    assert '<option value="price_per_gb"' not in html  # and offers no GPU-only sort


def test_sort_by_power_and_name(client):
    GpuFactory(slug="hot", name="A hot", board_power_w=450)
    GpuFactory(slug="cool", name="B cool", board_power_w=170)
    GpuFactory(slug="unknown-power", name="C unknown")
    assert listed_slugs(client.get("/parts/gpu/", {"sort": "power"})) == ["cool", "hot", "unknown-power"]
    assert listed_slugs(client.get("/parts/gpu/", {"sort": "-power"})) == ["hot", "cool", "unknown-power"]
    assert listed_slugs(client.get("/parts/gpu/", {"sort": "-name"})) == ["unknown-power", "cool", "hot"]


def test_range_filters_on_vram_and_power(client):
    GpuFactory(slug="g12", vram_gb=12, board_power_w=170)
    GpuFactory(slug="g24", vram_gb=24, board_power_w=350)
    GpuFactory(slug="g48", vram_gb=48, board_power_w=300)
    GpuFactory(slug="g-unknown")
    slugs = set(listed_slugs(client.get("/parts/gpu/", {"vram_min": "24"})))
    assert slugs == {"g24", "g48"}  # unknown VRAM does not pass a VRAM filter
    assert set(listed_slugs(client.get("/parts/gpu/", {"vram_min": "16", "vram_max": "32"}))) == {"g24"}
    assert set(listed_slugs(client.get("/parts/gpu/", {"power_max": "300"}))) == {"g12", "g48"}


def test_socket_filter_for_cpus_and_boards(client):
    CpuFactory(slug="am5-cpu", socket="AM5")
    CpuFactory(slug="am4-cpu", socket="AM4")
    MotherboardFactory(slug="am4-board", socket="AM4")
    response = client.get("/parts/cpu/", {"socket": "AM5"})
    assert listed_slugs(response) == ["am5-cpu"]
    assert '<option value="AM4"' in response.content.decode()  # choices come from the listed sockets
    assert listed_slugs(client.get("/parts/motherboard/", {"socket": "AM4"})) == ["am4-board"]


def test_bad_filter_input_shows_form_errors_not_a_500(client):
    GpuFactory(slug="kept", name="Kept card", vram_gb=24)
    GpuFactory(slug="other", name="Other card", vram_gb=24)
    response = client.get(
        "/parts/gpu/",
        {
            "vram_min": "lots",
            "power_max": "-5",
            "price_max": "inf",
            "sort": "'; drop table",
            "currency": "XXX",
            "page": "abc",
            "q": "kept",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {"vram_min", "power_max", "price_max", "sort", "currency"} <= set(form.errors)
    html = response.content.decode()
    assert "Some filters were not applied" in html and "invalid-feedback" in html
    assert listed_slugs(response) == ["kept"]  # the valid filter still applies
    assert response.context["listing"].currency == "USD"


def test_vram_min_above_max_is_a_form_error(client):
    response = client.get("/parts/gpu/", {"vram_min": "48", "vram_max": "24"})
    assert response.status_code == 200
    assert "vram_max" in response.context["form"].errors


def test_socket_not_in_the_catalogue_is_a_form_error(client):
    CpuFactory(socket="AM5")
    response = client.get("/parts/cpu/", {"socket": "LGA9999"})
    assert response.status_code == 200 and "socket" in response.context["form"].errors


def test_currency_converts_prices_and_price_max_is_in_that_currency(client, eur_at_half):
    priced(GpuFactory(slug="g300", vram_gb=10, bf16_tflops=10), 300)
    priced(GpuFactory(slug="g100", vram_gb=10, bf16_tflops=10), 100)
    response = client.get("/parts/gpu/", {"currency": "EUR", "price_max": "100"})
    assert listed_slugs(response) == ["g100"]  # $100 = EUR 50 <= 100; $300 = EUR 150 > 100
    html = response.content.decode()
    assert "€50" in html and "€5" in html and "prices in EUR" in html  # price and EUR 5 per GB
    assert "$100" not in html
    assert listed_slugs(client.get("/parts/gpu/", {"price_max": "100"})) == ["g100"]
    assert set(listed_slugs(client.get("/parts/gpu/", {"currency": "EUR", "price_max": "150"}))) == {
        "g100",
        "g300",
    }


def test_pagination_fifty_a_page(client):
    for i in range(60):
        GpuFactory(slug=f"gpu-{i:02d}", name=f"GPU {i:02d}")
    first = client.get("/parts/gpu/", {"sort": "name"})
    assert len(listed_slugs(first)) == 50 and "page 1 of 2" in first.content.decode()
    assert 'rel="next"' in first.content.decode()
    second = client.get("/parts/gpu/", {"sort": "name", "page": "2"})
    assert listed_slugs(second) == [f"gpu-{i:02d}" for i in range(50, 60)]
    assert "page 2 of 2" in second.content.decode()
    assert "sort=name" in re.search(r'rel="prev" href="([^"]+)"', second.content.decode()).group(1)
    assert len(listed_slugs(client.get("/parts/gpu/", {"page": "99"}))) == 10  # past the end: last page


def test_compatible_with_build_filters_by_socket_memory_and_case_length(client):
    board = MotherboardFactory(slug="b-am5", socket="AM5", memory_type="DDR5")
    MotherboardFactory(slug="b-am4", socket="AM4", memory_type="DDR4")
    CpuFactory(slug="c-am5", socket="AM5")
    cpu_am4 = CpuFactory(slug="c-am4", socket="AM4")
    MemoryKitFactory(slug="m-ddr5", memory_type="DDR5")
    MemoryKitFactory(slug="m-ddr4", memory_type="DDR4")
    case = CaseFactory(slug="small-case", max_gpu_length_mm=300)
    GpuFactory(slug="short", length_mm=267)
    GpuFactory(slug="long", length_mm=336)
    GpuFactory(slug="length-unknown")
    build = BuildFactory()
    BuildItemFactory(build=build, part=board)
    BuildItemFactory(build=build, part=case)
    share = build.share_id
    assert listed_slugs(client.get("/parts/cpu/", {"build": share})) == ["c-am5"]
    assert listed_slugs(client.get("/parts/memory/", {"build": share})) == ["m-ddr5"]
    assert set(listed_slugs(client.get("/parts/gpu/", {"build": share}))) == {"short", "length-unknown"}
    # A build with only a CPU: boards for that CPU's socket.
    cpu_build = BuildFactory()
    BuildItemFactory(build=cpu_build, part=cpu_am4)
    response = client.get("/parts/motherboard/", {"build": cpu_build.share_id})
    assert listed_slugs(response) == ["b-am4"]
    assert "socket AM4" in response.content.decode()
    # An unknown build id is ignored, and the page says so.
    response = client.get("/parts/cpu/", {"build": "no-such-build"})
    assert set(listed_slugs(response)) == {"c-am5", "c-am4"}
    assert "No build with that id" in response.content.decode()


def test_stale_price_badge(client, settings):
    settings.RIGSITE_PRICE_STALE_DAYS = 90
    priced(GpuFactory(slug="stale"), 500, days_ago=200)
    priced(GpuFactory(slug="fresh"), 500, days_ago=3)
    html = client.get("/parts/gpu/").content.decode()
    stale_row = re.search(r'<tr data-slug="stale">(.*?)</tr>', html, re.S).group(1)
    fresh_row = re.search(r'<tr data-slug="fresh">(.*?)</tr>', html, re.S).group(1)
    assert "stale price" in stale_row and "stale price" not in fresh_row


def test_opendb_credit_only_when_an_imported_part_is_listed(client):
    GpuFactory(slug="curated-card")
    html = client.get("/parts/gpu/").content.decode()
    assert "Parts data from" not in html
    GpuFactory(slug="imported-card", curated=False, opendb_id="abc-123")
    html = client.get("/parts/gpu/").content.decode()
    assert "Parts data from" in html and "BuildCores OpenDB" in html and "(ODC-By)" in html
    assert 'href="https://github.com/buildcores/buildcores-open-db"' in html


def list_queries(client, url, params) -> int:
    client.get(url, params)  # warm the rate cache and the socket choices alike for both sizes
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("category", "make", "params"),
    [
        ("gpu", lambda i: GpuFactory(vram_gb=24, bf16_tflops=71, length_mm=280), {"sort": "price_per_gb"}),
        ("cpu", lambda i: CpuFactory(socket="AM5", cores=16, threads=32), {"socket": "AM5"}),
        ("motherboard", lambda i: MotherboardFactory(socket="AM5"), {"sort": "-price"}),
    ],
)
def test_list_query_count_is_constant_in_the_number_of_parts(
    client, django_assert_max_num_queries, category, make, params
):
    case = CaseFactory(max_gpu_length_mm=330)
    build = BuildFactory()
    BuildItemFactory(build=build, part=case)
    params = {**params, "build": build.share_id, "currency": "USD"}
    parts = [make(i) for i in range(5)]
    for part in parts:
        priced(part, 700)
    few = list_queries(client, f"/parts/{category}/", params)
    for i in range(55):
        priced(make(i), 800 + i)
    with django_assert_max_num_queries(few):
        response = client.get(f"/parts/{category}/", params)
    assert len(response.context["listing"].rows) == 50
    assert few <= 6


# --- the detail page ----------------------------------------------------------------------------------


@pytest.fixture
def board():
    board = MotherboardFactory(
        slug="test-x870e",
        name="Test X870E",
        socket="AM5",
        memory_type="DDR5",
        memory_slots=4,
        topology_curated=True,
        sources=["https://example.com/manual.pdf", "javascript:alert(1)"],
        notes="Two CPU x16 slots.",
    )
    PcieSlotFactory(
        board=board, position=1, physical_width=16, electrical_width=16, gen=5, bifurcation=["x8x8"]
    )
    PcieSlotFactory(board=board, position=3, physical_width=16, electrical_width=8, gen=5)
    PcieSlotFactory(board=board, position=4, physical_width=16, electrical_width=4, gen=4, source="chipset")
    M2SocketFactory(board=board, name="M2_1", gen=5, lanes=4)
    LaneRuleFactory(board=board, when="3", target="1", effect="width", width=8)
    LaneRuleFactory(board=board, when="M2_1", target="4", effect="disable", width=None)
    priced(board, 500, days_ago=100)
    priced(board, 450, days_ago=10)
    priced(board, 300, condition="used", days_ago=5)
    return board


def test_board_detail_shows_topology_rules_in_words_and_price_chart(client, board):
    response = client.get("/parts/motherboard/test-x870e/")
    assert response.status_code == 200
    html = response.content.decode()
    topology = re.search(r'<table class="table table-sm topology-table">(.*?)</table>', html, re.S).group(1)
    assert topology.count("<tr>") == 4  # header + three slots
    assert "x8x8" in topology and "chipset" in topology
    assert "M2_1" in html
    assert "When slot 3 is populated, slot 1 runs at x8." in html
    assert "When M2_1 is populated, slot 4 is disabled." in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "<title" in svg and "Price history of Test X870E (USD)" in svg
    assert "Date observed" in svg and "Price (USD)" in svg
    assert svg.count("<polyline") == 1  # two new quotes make a line; the single used quote is a point
    assert svg.count("<circle") == 3
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no external request
    assert 'style="' not in html and "<style" not in html
    assert 'href="https://example.com/manual.pdf"' in html
    assert 'href="javascript:' not in html  # a non-http source is shown as text, never as a link
    assert "Two CPU x16 slots." in html
    assert "$450" in html and "$300" in html  # current new and used prices
    history_table = r'<table class="table table-sm price-history-table">(.*?)</table>'
    history = re.search(history_table, html, re.S).group(1)
    assert history.count("test shop") == 3


def test_detail_unknown_specs_read_unknown_and_units_are_shown(client):
    GpuFactory(slug="half-known", vram_gb=24, length_mm=313, slot_width=Decimal("3"), fp8=None)
    html = client.get("/parts/gpu/half-known/").content.decode()
    row = re.search(r"Transient peak</th>\s*<td>(.*?)</td>", html, re.S).group(1)
    assert "unknown" in row
    fp8 = re.search(r"FP8</th>\s*<td>(.*?)</td>", html, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", fp8).strip() == "unknown"
    assert "24 GB" in html and "313 mm" in html and "3 slots" in html
    assert "No price quotes yet." in html and "<svg" not in html


def test_detail_currency_and_retired_badge(client, eur_at_half):
    gpu = priced(GpuFactory(slug="gone", name="Gone card", vram_gb=24), 1000)
    gpu.retired = True
    gpu.save()
    html = client.get("/parts/gpu/gone/", {"currency": "EUR"}).content.decode()
    assert "retired" in html and "€500" in html and "Price (EUR)" in html
    assert client.get("/parts/gpu/gone/", {"currency": "nope"}).status_code == 200


def test_detail_of_a_part_under_the_wrong_category_is_404(client):
    GpuFactory(slug="a-gpu")
    assert client.get("/parts/cpu/a-gpu/").status_code == 404


def test_detail_query_count_is_constant_in_topology_and_history(client, django_assert_max_num_queries, board):
    client.get("/parts/motherboard/test-x870e/")
    with CaptureQueriesContext(connection) as ctx:
        client.get("/parts/motherboard/test-x870e/")
    small = len(ctx.captured_queries)
    for position in (5, 6, 7):
        PcieSlotFactory(board=board, position=position, electrical_width=4, source="chipset")
    for days in range(20, 40):
        priced(board, 400 + days, days_ago=days)
    with django_assert_max_num_queries(small):
        assert client.get("/parts/motherboard/test-x870e/").status_code == 200


# --- the chart ----------------------------------------------------------------------------------------


def test_chart_escapes_text_and_is_empty_without_data():
    now = timezone.now()
    svg = price_history_svg(
        {"new": [(now - timedelta(days=30), Decimal("10")), (now, Decimal("12"))]},
        currency="USD",
        title="<script>alert(1)</script>",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'role="img"' in svg and "aria-labelledby" in svg
    assert price_history_svg({}, currency="USD", title="x") == ""


def test_chart_single_quote_is_a_point_with_padded_axis():
    svg = price_history_svg({"used": [(timezone.now(), Decimal("583"))]}, currency="USD", title="one")
    assert svg.count("<circle") == 1 and "<polyline" not in svg
    assert "used: $583" in svg
