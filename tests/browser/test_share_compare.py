"""Issue 15, item 5 in the browser: save a build, see its share link and copy it; add two builds to the
compare list from their pages and open the comparison; axe-core finds nothing serious on these pages."""

import os
from pathlib import Path

import pytest

from builds.models import Build
from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import WIDE, axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GPU = "nvidia-geforce-rtx-4090-fe"
SHOTS = os.environ.get("RIGSITE_SHOTS_DIR")  # also write the screenshots there (issue 15: look at them)


def shot(watch, name: str) -> None:
    path = watch.screenshot(name)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        watch.page.screenshot(path=str(Path(SHOTS) / path.name), full_page=True)
        watch.page.screenshot(path=str(Path(SHOTS) / f"{name}-top.png"))  # the first screen, to look at


def no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width} px wide"


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
def test_save_copy_link_and_compare_two_builds(open_page, live_server, seed_catalogue, viewport):
    size = viewport["width"]
    watch = open_page(
        f"/builds/new/?l={GPU}*1&l=corsair-ax1600i*1",
        viewport=viewport,
        bypass_csp=True,  # axe is injected as an inline script
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = watch.page
    page.wait_for_load_state("networkidle")  # the next part's picker loads its list with the page
    page.fill("#id_name", f"Copied rig {size}")
    page.click("text=Save build")
    page.wait_for_url("**/b/*/edit/")
    build = Build.objects.get(name=f"Copied rig {size}")
    share_url = f"{live_server.url}/b/{build.share_id}/"

    # The confirmation: the full address in a labelled read-only field, a Copy button that says "Copied".
    panel = page.locator(".share-panel")
    assert panel.is_visible() and "Saved." in panel.inner_text()
    field = page.get_by_label("Anyone with this link can view it:")
    assert field.input_value() == share_url and field.get_attribute("readonly") is not None
    page.get_by_role("button", name="Copy link").click()
    page.locator("#share-link-status").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == share_url
    no_overflow(page)
    shot(watch, f"share-saved-{size}")
    assert axe_violations(page) == []

    # Shown once: a reload has the compact share row, no confirmation.
    page.reload()
    assert page.locator(".share-panel").count() == 0
    assert page.get_by_label("Share link").input_value() == share_url
    no_overflow(page)
    shot(watch, f"share-edit-{size}")

    # "Add to compare" on the configurator comes back to the address shown, unsaved changes included.
    page.goto(f"{live_server.url}/b/{build.share_id}/edit/?l={GPU}*2&l=corsair-ax1600i*1")
    shown = page.url
    assert "l=" in shown
    page.get_by_role("button", name="Add to compare").click()
    page.wait_for_url(shown)
    assert "(1 of 4)" in page.inner_text("main")
    page.get_by_role("button", name="Remove from compare").click()
    page.wait_for_url(shown)
    assert "(0 of 4 left)" in page.inner_text("main")

    # The revision page has "Add to compare" too.
    page.goto(f"{live_server.url}/b/{build.share_id}/r/1/")
    assert page.get_by_role("button", name="Add to compare").is_visible()
    no_overflow(page)
    shot(watch, f"share-revision-{size}")
    assert axe_violations(page) == []

    # The editor's shared page keeps a compact share link; add this build and an example to compare.
    page.goto(share_url)
    assert page.get_by_label("Share link").input_value() == share_url
    page.get_by_role("button", name="Add to compare").click()
    page.wait_for_url(share_url)
    assert f"Added “Copied rig {size}” to your compare list (1 of 4)." in page.inner_text("main")
    assert page.get_by_role("link", name="Compare (1)").is_visible()
    no_overflow(page)
    shot(watch, f"share-detail-{size}")
    assert axe_violations(page) == []

    example = seed_catalogue["dual-4090-home-server"]
    page.goto(f"{live_server.url}{example.get_absolute_url()}")
    page.get_by_role("button", name="Add to compare").click()
    page.get_by_role("link", name="Compare (2)").click()
    page.wait_for_url("**/compare/?b=*")
    headers = page.locator("table.compare-table thead th a").all_inner_texts()
    assert headers == [f"Copied rig {size}", example.name]
    # Both are ticked by name in "Your compare list"; the chart and the table are drawn.
    group = page.locator("fieldset", has_text="Your compare list")
    assert (
        group.get_by_role("checkbox", name=f"Copied rig {size}", exact=True).is_checked()
        and group.get_by_role("checkbox", name=example.name, exact=True).is_checked()
    )
    assert page.locator("svg").count() >= 1
    no_overflow(page)
    shot(watch, f"share-compare-{size}")
    assert axe_violations(page) == []

    # Choosing by name: untick one, tick an example, compare.
    group.get_by_role("checkbox", name=f"Copied rig {size}", exact=True).uncheck()
    other = seed_catalogue["single-3090-build-out"]
    page.locator("fieldset", has_text="Examples").get_by_role("checkbox", name=other.name, exact=True).check()
    page.get_by_role("button", name="Compare chosen builds").click()
    page.wait_for_url(f"**/compare/?b={example.share_id}&b={other.share_id}")
    assert page.locator("table.compare-table thead th a").all_inner_texts() == [example.name, other.name]

    # Too few: the message names the problem.
    page.locator("fieldset", has_text="Examples").get_by_role(
        "checkbox", name=other.name, exact=True
    ).uncheck()
    page.get_by_role("button", name="Compare chosen builds").click()
    alert = page.get_by_role("alert")
    assert f"You chose 1 build (“{example.name}”): choose at least 2 to compare." in alert.inner_text()
    shot(watch, f"share-compare-problem-{size}")
    assert axe_violations(page) == []
    assert watch.console_errors == [] and watch.external_requests == []
