import pytest

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport_name", ["desktop", "phone"])
def test_home_loads_without_console_errors_or_external_requests(open_page, viewport_name):
    viewport = PHONE if viewport_name == "phone" else {"width": 1366, "height": 900}
    watch = open_page("/", viewport=viewport)
    watch.page.wait_for_load_state("networkidle")
    assert watch.page.locator("h1").inner_text().startswith("Plan a deep-learning rig")
    # htmx loaded from our own static files
    assert watch.page.evaluate("typeof window.htmx") == "object"
    watch.screenshot(f"home-{viewport_name}")
    assert watch.console_errors == []
    assert watch.external_requests == []
    # no horizontal scrolling at phone width
    assert watch.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
