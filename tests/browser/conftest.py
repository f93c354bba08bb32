"""Browser journeys: Playwright drives Debian's Chromium against pytest-django's live server.

Playwright cannot download its own browsers here, so the tests launch /usr/bin/chromium. They
skip, saying why, only where it is missing outside CI; with ``CI`` set a missing Chromium fails.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}: apt-get install chromium (CI never skips these)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="package", autouse=True)
def _django_beside_playwright():
    """Playwright's sync API keeps an event loop running in the tests' thread, which Django takes
    for async code and would refuse the factories' database calls. Allowed for these tests only,
    so the variable never reaches the rest of the suite or its subprocesses."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session", autouse=True)
def _patient_expectations():
    """CI runs both suites side by side on two cores: a page may take longer than Playwright's
    default 5 s to answer there. A wrong page still fails, only later."""
    expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail(f"CI is set and {CHROMIUM} is missing: CI must install Debian's chromium for the browser tests")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A front-desk tablet in landscape or a small laptop.
    return {**browser_context_args, "viewport": {"width": 1280, "height": 860}, "locale": "en-GB"}


@pytest.fixture
def open_page(browser):
    """``open_page(viewport, javascript=True)``: a fresh window of that size, CSP-free so axe can be injected."""
    contexts = []

    def open_(viewport, *, javascript=True):
        contexts.append(
            browser.new_context(viewport=viewport, locale="en-GB", java_script_enabled=javascript, bypass_csp=True)
        )
        return contexts[-1].new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(page):
    """``screenshot("name")`` saves the whole page (or, with full_page=False, what the window shows)
    to test-artifacts/screenshots/name.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
