"""The dual-4090 seed rig built step by step in the configurator, as a user would, in headless chromium."""

import pytest

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def codes(page) -> set[str]:
    return set(page.locator("#findings [data-code]").evaluate_all("els => els.map(e => e.dataset.code)"))


class Recorder:
    """Counts the requests one change makes, and proves the page was not reloaded."""

    def __init__(self, watch):
        self.watch = watch
        watch.page.evaluate("window.__noReload = 1")

    def change(self, action):
        before = len(self.watch.requests)
        with self.watch.page.expect_response(lambda r: "/builds/new/" in r.url):
            action()
        self.watch.page.wait_for_load_state("networkidle")
        made = self.watch.requests[before:]
        assert self.watch.page.evaluate("window.__noReload") == 1, "the page reloaded"
        return made


def pick(watch, category: str, query: str, slug: str, recorder: Recorder):
    page = watch.page
    page.locator(f"#picker-{category} summary").click()
    page.locator(f"#picker-{category} input[name=q]").fill(query)
    page.locator(f"#pick-{category} a.pick-add[data-slug='{slug}']").first.wait_for()
    made = recorder.change(
        lambda: page.locator(f"#pick-{category} a.pick-add[data-slug='{slug}']").first.click()
    )
    assert [r for r in made if "/builds/new/" in r] and len([r for r in made if "/builds/new/" in r]) == 1
    return made


def test_dual_4090_rig_step_by_step(open_page, seed_catalogue):
    watch = open_page("/builds/new/")
    page = watch.page
    rec = Recorder(watch)
    pick(watch, "motherboard", "X670E CARBON", "msi-mpg-x670e-carbon-wifi", rec)
    pick(watch, "cpu", "7900X", "amd-ryzen-9-7900x", rec)
    pick(watch, "psu", "AX1600i", "corsair-ax1600i", rec)
    pick(watch, "gpu", "4090 Founders", "nvidia-geforce-rtx-4090-fe", rec)
    watch.screenshot("configurator-1-one-gpu")
    assert "PSU_MISSING" not in codes(page)

    # The second card, placed automatically: x8/x8 from the CPU, no obstruction.
    made = rec.change(lambda: page.locator("select[name=q3]").select_option("2"))
    assert len([r for r in made if "/builds/new/" in r]) == 1  # one round trip per change
    lanes = page.locator("#lanes tbody tr").all_inner_texts()
    assert sum("x8 gen4" in row for row in lanes) == 2
    assert "GPU_SLOT_OBSTRUCTED" not in codes(page)
    assert "/builds/new/?l=" in page.url  # the address is the shareable state
    watch.screenshot("configurator-2-two-gpus-auto")

    # Directly below a 3-slot card: its cooler covers that slot.
    def place(slots):
        field = page.locator("input[name=s3]")
        field.fill(slots)
        field.press("Enter") if False else field.dispatch_event("change")

    rec.change(lambda: place("6,7"))
    assert "GPU_SLOT_OBSTRUCTED" in codes(page)
    assert page.locator("svg .svg-card-bad").count() >= 1
    watch.screenshot("configurator-3-obstructed")

    # Split the line: one card in the slot, one on a riser cable (what the author did).
    rec.change(lambda: page.locator("select[name=q3]").select_option("1"))
    pick(watch, "gpu", "4090 Founders", "nvidia-geforce-rtx-4090-fe", rec)
    rec.change(lambda: page.locator("select[name=r4]").select_option("16"))
    rec.change(lambda: place("2"))
    assert "GPU_SLOT_OBSTRUCTED" not in codes(page)
    assert "TRANSIENT_RISK" in codes(page)  # 2x 4090 spikes against a 1,600 W PSU that is not ATX 3.x
    watch.screenshot("configurator-4-riser")

    # Swap the PSU for an ATX 3.x unit: the 200 % excursion rating rides through the spikes.
    rec.change(lambda: page.locator("#line-2 button.remove").click())
    watch.screenshot("configurator-4b-psu-removed")
    page.evaluate("['#lanes', '#workloads', '#findings'].forEach(s => document.querySelector(s).__kept = 1)")
    pick(watch, "psu", "TX-1600", "seasonic-prime-tx-1600-atx3", rec)
    assert "TRANSIENT_RISK" not in codes(page)
    # Only the regions that changed were swapped: the lane map and the workload table are the same nodes.
    kept = page.evaluate(
        "['#lanes', '#workloads', '#findings'].map(s => document.querySelector(s).__kept === 1)"
    )
    assert kept == [True, True, False]
    watch.screenshot("configurator-5-atx3-psu")

    # Back goes to the previous state (the URL history is the state).
    page.go_back()
    page.wait_for_load_state("networkidle")
    assert "seasonic" not in page.url

    assert watch.console_errors == []
    assert watch.external_requests == []


def test_configurator_at_phone_width(open_page, seed_catalogue):
    build = seed_catalogue["dual-4090-home-server"]
    watch = open_page(f"/b/{build.share_id}/", viewport=PHONE)
    watch.page.wait_for_load_state("networkidle")
    watch.screenshot("shared-dual-4090-phone")
    assert watch.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert watch.console_errors == []
