"""/recommend/ in chromium: seed authors' situations through the htmx form, the chart, "Open in the
configurator" and "Save"."""

import pytest

from catalog.bootstrap import DATA_DIR, load_exchange_rates, load_model_presets, load_parts, read_json

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue():
    from builds import recommend_web

    recommend_web._CATALOGUE.clear()
    load_exchange_rates()
    load_model_presets()
    for path in sorted((DATA_DIR / "parts").glob("*.json")):
        load_parts(path.stem, read_json(path))


def fill(page, **values):
    for name, value in values.items():
        field = page.locator(f"#recommend-form [name={name}]")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(str(value))
        else:
            field.fill(str(value))


def test_seed_002_single_3090_budget_through_the_form_then_configurator_and_save(open_page, catalogue):
    # rexT7 (seed 002): "under my $2,000 target budget", used parts, 13B models on one card, US 120 V / 15 A
    watch = open_page("/recommend/")
    page = watch.page
    fill(
        page,
        model="llama-2-13b",
        method="inference",
        precision="int8",
        seq_len=4096,
        budget=2000,
        currency="USD",
        prices="used",
        circuit="120v-15a",
        enclosure="case",
        max_gpus=4,
    )
    page.locator("#recommend-form button[type=submit]").click()
    page.wait_for_selector("#recommended-rigs section[data-label=cheapest]")
    assert "/recommend/?" in page.url  # hx-push-url: the result is a link
    cards = page.locator("#recommended-rigs section")
    assert cards.count() >= 1
    assert page.locator("svg.recommend-chart circle").count() >= 1
    text = page.locator("#recommended-rigs").inner_text()
    assert "USD" in text and "Open in the configurator" in text
    watch.screenshot("recommend-seed-002")
    page.locator(
        "#recommended-rigs section[data-label=cheapest] a", has_text="Open in the configurator"
    ).click()
    page.wait_for_url("**/builds/new/?l=**")
    assert page.locator("body").inner_text().count("GPU") >= 1
    page.go_back()
    page.wait_for_selector("#recommended-rigs section[data-label=cheapest]")
    page.locator("#recommended-rigs section[data-label=cheapest] button", has_text="Save").click()
    page.wait_for_url("**/b/**")
    assert "Recommended" in page.locator("h1").inner_text()
    # chromium asks for /favicon.ico on the saved build's page, which the site does not serve (not ours)
    assert [e for e in watch.console_errors if "favicon.ico" not in e] == []
    assert watch.external_requests == []


def test_seed_004_mining_rig_budget_nothing_fits_says_what_to_relax(open_page, catalogue):
    # samsja (seed 004): 1,700 EUR, 230 V / 16 A, open frame, local 70B inference "that is memory bounded"
    # (asked here at 15 tokens/s: his three 3090s on x1 extenders were the point of the post)
    watch = open_page(
        "/recommend/?model=llama-3.1-70b&method=inference&precision=q4&seq_len=4096&target_tokens_per_s=15"
        "&budget=1700&currency=EUR&prices=used&circuit=230v-16a&enclosure=open_frame&max_gpus=4"
        "&value_per=currency"
    )
    page = watch.page
    page.wait_for_selector("#nothing-fits")
    assert page.locator("#nothing-fits li[data-field=budget]").count() == 1
    watch.screenshot("recommend-seed-004")
    assert watch.console_errors == []
