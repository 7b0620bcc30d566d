"""The dual-4090 seed rig built step by step in the configurator, as a user would, in headless chromium."""

from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def codes(page) -> set[str]:
    return set(page.locator("#findings [data-code]").evaluate_all("els => els.map(e => e.dataset.code)"))


def rechecks(page) -> int:
    """How many re-checks the page has shown, swapped and settled (static/js/configurator.js counts them)."""
    return int(page.evaluate("Number(document.body.dataset.rechecked || 0)"))


def wait_rechecked(page, shown: int, timeout_s: float = 15) -> None:
    """Wait until the page has settled a re-check after `shown` (networkidle alone returns at once when the
    page was idle before, so the next action could hit a control about to be swapped out)."""
    for _ in range(int(timeout_s * 20)):
        if rechecks(page) > shown:
            return
        page.wait_for_timeout(50)
    raise AssertionError("no re-check settled")


class Recorder:
    """Counts the requests one change makes, and proves the page was not reloaded."""

    def __init__(self, watch):
        self.watch = watch
        watch.page.evaluate("window.__noReload = 1")

    def change(self, action):
        before = len(self.watch.requests)
        shown = rechecks(self.watch.page)
        with self.watch.page.expect_response(lambda r: "/builds/new/" in r.url):
            action()
        wait_rechecked(self.watch.page, shown)
        made = self.watch.requests[before:]
        assert self.watch.page.evaluate("window.__noReload") == 1, "the page reloaded"
        return made


class Actions:
    """What a user does, counted: typing into a field, a click, a choice in a menu."""

    def __init__(self, watch):
        self.watch = watch
        self.page = watch.page
        self.count = 0

    def fill(self, selector: str, text: str):
        self.count += 1
        self.page.locator(selector).fill(text)

    def click(self, selector: str):
        self.count += 1
        self.page.locator(selector).first.click()
        self.page.wait_for_load_state("networkidle")

    def select(self, selector: str, value: str):
        self.count += 1
        shown = rechecks(self.page)
        self.page.locator(selector).select_option(value)
        wait_rechecked(self.page, shown)


def add_from_open_picker(act: Actions, category: str, query: str, slug: str):
    """The picker of the next part the build needs is open already: add the part from its list, searching
    first only when the list does not show it (a search is one more action)."""
    page = act.page
    assert page.locator(f"#picker-{category}").get_attribute("open") is not None, f"{category} picker closed"
    page.wait_for_load_state("networkidle")
    link = f"#pick-{category} a.pick-add[data-slug='{slug}']"
    page.locator(f"#pick-{category} .picker-results").first.wait_for()
    if page.locator(link).count() == 0:

        def searched(response):
            url = urlparse(response.url)
            return url.path == f"/builds/pick/{category}/" and parse_qs(url.query).get("q") == [query]

        with page.expect_response(searched):
            act.fill(f"#picker-{category} input[name=q]", query)
        page.wait_for_load_state("networkidle")  # the search's list is in (a click on the old one is lost)
    page.locator(link).first.wait_for()
    assert page.locator(link).first.inner_text() == "Add"  # compatible: a plain "Add", not "Add anyway"
    shown = rechecks(page)
    act.click(link)
    wait_rechecked(page, shown)
    try:
        page.locator(f"#row-{category} .line[data-slug='{slug}']").first.wait_for(timeout=10000)
    except Exception:
        act.watch.screenshot(f"failed-add-{category}")
        raise


def test_dual_4090_seed_rig_from_an_empty_page_in_twelve_actions(open_page, seed_catalogue):
    """Seed 000's rig (two RTX 4090 FE, the second on a riser cable, Ryzen 9 7900X, MSI X670E CARBON, 96 GB
    DDR5, an NVMe drive, AX1600i, Phanteks Enthoo Pro 2, Thermalright cooler, six Phanteks T30 fans) from an
    empty page: each part from the picker that opens by itself, no "show all", at most 12 actions."""
    watch = open_page("/builds/new/")
    page = watch.page
    page.wait_for_load_state("networkidle")
    act = Actions(watch)
    page.locator("#pick-gpu a.pick-add").first.wait_for()  # the GPU list is there with the page
    assert page.locator("#pick-gpu .incompatible").count() == 0  # nothing ruled out on an empty build

    add_from_open_picker(act, "gpu", "4090 Founders", "nvidia-geforce-rtx-4090-fe")
    act.select("select[name=q0]", "2")
    act.select("select[name='m0.1']", "16")  # only the second card on a riser cable
    add_from_open_picker(act, "cpu", "7900X", "amd-ryzen-9-7900x")
    # The board list was fetched after the CPU: AM5 boards only, no AM4/sTR5 board with a plain "Add".
    page.locator("#pick-motherboard a.pick-add").first.wait_for()
    assert page.locator("#pick-motherboard .incompatible").count() == 0
    names = page.locator("#pick-motherboard .picker-results .fw-semibold").all_inner_texts()
    assert not [n for n in names if "B450" in n or "X570" in n or "TRX" in n or "M12SWA" in n], names
    add_from_open_picker(act, "motherboard", "X670E CARBON", "msi-mpg-x670e-carbon-wifi")
    add_from_open_picker(act, "memory", "96GB", "corsair-vengeance-ddr5-96gb-2x48gb-5600")
    # The PSU list reflects two 4090s: no unit too small for them is offered with a plain "Add".
    page.locator("#pick-psu a.pick-add").first.wait_for()
    offered = page.locator("#pick-psu .picker-results .fw-semibold").all_inner_texts()
    assert not [n for n in offered if " 750" in n or "1000" in n or "SF1000" in n], offered
    add_from_open_picker(act, "psu", "AX1600i", "corsair-ax1600i")
    add_from_open_picker(act, "storage", "990 PRO 4TB", "samsung-990-pro-4tb")
    add_from_open_picker(act, "case", "Enthoo Pro 2", "phanteks-enthoo-pro-2-closed-panel")
    add_from_open_picker(act, "cooler", "Frost Commander", "thermalright-frost-commander-140-black")
    add_from_open_picker(act, "fan", "T30", "phanteks-t30-120")
    fan_line = page.locator("#row-fan .line").first.get_attribute("id").removeprefix("line-")
    act.select(f"select[name=q{fan_line}]", "6")
    watch.screenshot("configurator-dual-4090-in-12-actions")

    print(f"dual-4090 seed rig: {act.count} actions")
    assert act.count <= 12, act.count
    assert page.locator("#build-parts input[name=all]:checked").count() == 0  # "show all" never ticked
    assert (
        "l=nvidia-geforce-rtx-4090-fe*1&l=nvidia-geforce-rtx-4090-fe*1~r" in page.url
    )  # split: one per mount
    lanes = page.locator("#lanes tbody tr").all_inner_texts()
    gpu_lanes = [row for row in lanes if "4090" in row]
    assert sum("x8 gen4" in row and "cpu" in row for row in gpu_lanes) == 2, lanes
    assert "riser" in gpu_lanes[1]
    found = codes(page)
    assert not found & {"GPU_SLOT_OBSTRUCTED", "PSU_MISSING", "CPU_MISSING", "BOARD_MISSING", "NO_NVME"}, (
        found
    )
    assert "TRANSIENT_RISK" in found  # 2x 4090 spikes against a 1,600 W PSU that is not ATX 3.x
    assert 'errors="0"' in page.locator("#r-summary").inner_html().replace("'", '"') or "no problems" in (
        page.locator("#r-summary").inner_text()
    )
    assert watch.console_errors == []
    assert watch.external_requests == []


def test_per_card_placement_slot_map_and_region_swaps(open_page, seed_catalogue):
    rig = "l=nvidia-geforce-rtx-4090-fe*2&l=amd-ryzen-9-7900x*1&l=msi-mpg-x670e-carbon-wifi*1&l=corsair-ax1600i*1"
    watch = open_page(f"/builds/new/?{rig}")
    page = watch.page
    page.wait_for_load_state("networkidle")
    rec = Recorder(watch)
    # Card 1 directly above card 2: card 1's cooler covers card 2's slot.
    rec.change(lambda: page.locator("select[name='c0.0']").select_option("6"))
    made = rec.change(lambda: page.locator("select[name='c0.1']").select_option("7"))
    assert len([r for r in made if "/builds/new/" in r]) == 1  # one round trip per change
    assert "GPU_SLOT_OBSTRUCTED" in codes(page)
    assert page.locator("svg .svg-card-bad").count() >= 1
    assert page.locator("#row-gpu .slot-map-row[data-row='7']").inner_text().startswith("Row 7")
    watch.screenshot("configurator-obstructed")
    # The slot map's button moves card 1 back to the free top row.
    rec.change(
        lambda: page.locator(
            "#row-gpu .slot-map-row[data-row='2'] button.slot-move", has_text="Card 1"
        ).click()
    )
    assert "GPU_SLOT_OBSTRUCTED" not in codes(page)

    # Swap the PSU for an ATX 3.x unit: only the regions that changed are swapped.
    page.evaluate("['#lanes', '#workloads', '#findings'].forEach(s => document.querySelector(s).__kept = 1)")
    rec.change(lambda: page.locator("#line-3 button.remove").click())
    page.locator("#picker-psu summary").click()
    page.locator("#picker-psu input[name=q]").fill("TX-1600")
    page.locator("#pick-psu a.pick-add[data-slug='seasonic-prime-tx-1600-atx3']").first.wait_for()
    rec.change(
        lambda: page.locator("#pick-psu a.pick-add[data-slug='seasonic-prime-tx-1600-atx3']").first.click()
    )
    assert "TRANSIENT_RISK" not in codes(page)
    kept = page.evaluate(
        "['#lanes', '#workloads', '#findings'].map(s => document.querySelector(s).__kept === 1)"
    )
    assert kept == [True, True, False]

    # Back goes to the previous state (the URL history is the state).
    page.go_back()
    page.wait_for_load_state("networkidle")
    assert "seasonic" not in page.url
    assert watch.console_errors == []


def test_the_verdict_stays_in_view_on_a_phone(open_page, seed_catalogue):
    """At 390 px, a change far down the page (the wall circuit) updates the compact verdict, which is in view
    without scrolling back up."""
    rig = "l=nvidia-geforce-rtx-4090-fe*2&l=amd-ryzen-9-7900x*1&l=msi-mpg-x670e-carbon-wifi*1&l=corsair-ax1600i*1"
    watch = open_page(f"/builds/new/?{rig}", viewport=PHONE)
    page = watch.page
    page.wait_for_load_state("networkidle")
    rec = Recorder(watch)
    bar = page.locator("#r-summary")
    before = bar.inner_text()
    assert "1,440 W at the wall" in before  # 120 V / 15 A
    circuit = page.locator("select[name=circuit]")
    circuit.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 1000  # far below the top of the page
    rec.change(lambda: circuit.select_option("230v-16a"))
    assert page.evaluate("window.scrollY") == scrolled  # no scrolling
    after = bar.inner_text()
    assert after != before and "2,944 W at the wall" in after, after
    box = bar.bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], box  # in view
    watch.screenshot("phone-verdict-after-change")
    # One tap to the report, one back to the parts.
    page.locator("#r-summary a[href='#report']").click()
    for _ in range(50):  # the jump may scroll smoothly
        if abs(page.locator("#report").bounding_box()["y"]) < 120:
            break
        page.wait_for_timeout(100)
    assert abs(page.locator("#report").bounding_box()["y"]) < 120
    assert watch.console_errors == []


def test_configurator_at_phone_width(open_page, seed_catalogue):
    build = seed_catalogue["dual-4090-home-server"]
    watch = open_page(f"/b/{build.share_id}/", viewport=PHONE)
    watch.page.wait_for_load_state("networkidle")
    watch.screenshot("shared-dual-4090-phone")
    assert watch.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert watch.console_errors == []


def test_a_failed_save_keeps_the_build_in_the_address_and_shows_the_error(open_page, seed_catalogue):
    watch = open_page("/builds/new/?l=nvidia-geforce-rtx-4090-fe*1&l=amd-ryzen-9-7900x*1")
    page = watch.page
    page.wait_for_load_state("networkidle")
    page.fill("#id_name", "   ")
    with page.expect_navigation():
        page.click("text=Save build")
    page.wait_for_load_state("networkidle")
    assert "l=nvidia-geforce-rtx-4090-fe*1" in page.url  # the configuration is still the page's address
    assert page.evaluate("document.activeElement && document.activeElement.id") == "id_name"
    error = page.locator("#save-form .save-error").first
    box = error.bounding_box()
    assert box and 0 <= box["y"] <= page.viewport_size["height"], box  # in view, not 1,900 px down
    assert watch.console_errors == []
