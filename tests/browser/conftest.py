"""Playwright (sync API) driving Debian's chromium, headless, against pytest-django's live_server."""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls in fixtures are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("Debian's chromium is not installed: the test command installs it (apt-get install chromium)")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """Records console errors and every request that leaves the live server."""

    def __init__(self, page, origin: str):
        self.page = page
        self.origin = origin
        self.console_errors: list[str] = []
        self.external_requests: list[str] = []
        self.requests: list[str] = []
        page.on(
            "console",
            lambda msg: (
                msg.type == "error"
                and self.console_errors.append(
                    f"{msg.text} at {msg.location.get('url')}:{msg.location.get('lineNumber')}"
                )
            ),
        )
        page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))
        page.on("request", self._on_request)

    def _on_request(self, request):
        url = request.url
        self.requests.append(f"{request.method} {url}")
        if not (url.startswith(self.origin) or url.startswith("data:") or url.startswith("about:")):
            self.external_requests.append(url)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def open_page(browser, live_server):
    contexts = []

    def _open(path: str, viewport=DESKTOP, **context_args):
        context = browser.new_context(viewport=viewport, **context_args)
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch(page, live_server.url)
        page.goto(live_server.url + path)
        return watch

    yield _open
    for context in contexts:
        context.close()
