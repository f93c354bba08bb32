"""Every staff page, at a desktop and at a phone's size: axe-core finds no serious or critical
violation, and a phone never has to scroll a page sideways.

axe-core 4.14.1 is vendored in tests/browser/vendor/ (axe.min.js and its MPL-2.0 LICENSE, from the
npm package: ``npm pack axe-core@4.14.1``); the tests inject it, so nothing is fetched.
"""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Space, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory
from tests.browser.conftest import SCREENSHOTS
from tests.browser.studio import DESKTOP, MONDAY, PHONE, demo_studio, sign_in, staff_pages

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
# label-content-name-mismatch is experimental in axe-core and so off by default; the calendar's
# blocks once failed it.
AXE_OPTIONS = {"rules": {"label-content-name-mismatch": {"enabled": True}}}
AXE_RUN = """async (options) => {
    const result = await axe.run(document, options);
    return result.violations
        .filter((violation) => ["serious", "critical"].includes(violation.impact))
        .map((violation) => {
            const where = violation.nodes.slice(0, 3).map((node) => node.target.join(" ")).join(" | ");
            return `${violation.id} (${violation.impact}): ${violation.help}: ${where}`;
        });
}"""
HEADER_MAX_HEIGHT = 64
# The front desk's tablet and phones are tapped with a finger: no button or disclosure is less tall.
TAP_TARGET_MIN_HEIGHT = 44
SMALL_TAP_TARGETS = """(least) => Array.from(document.querySelectorAll("button, .button, summary"))
    .filter((target) => target.checkVisibility() && target.getBoundingClientRect().height < least)
    .map((target) => `${target.textContent.trim()} (${Math.round(target.getBoundingClientRect().height)}px)`)"""
# ...nor does a form's row of buttons touch the field above it, nor a link the form's last button,
# where a tap meant for the one hits the other.
BUTTONS_GLUED_TO_A_NEIGHBOUR = """(least) => Array.from(document.querySelectorAll("form .actions, form + p"))
    .filter((below) => below.previousElementSibling && below.checkVisibility())
    .filter((below) => {
        const above = below.previousElementSibling.getBoundingClientRect();
        return below.getBoundingClientRect().top - above.bottom < least;
    })
    .map((below) => below.textContent.trim().replace(/\\s+/g, " "))"""
BUTTONS_MIN_GAP = 8


@pytest.fixture(autouse=True)
def studio_clock():
    """Monday 14 January 2030, 09:40 in the studio, ticking: the live server and pyotp share it."""
    with time_machine.travel(datetime(2030, 1, 14, 9, 40, tzinfo=UTC), tick=True):
        yield


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN, AXE_OPTIONS)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_staff_page_has_a_serious_or_critical_axe_violation(open_page, live_server, viewport):
    studio = demo_studio()
    page = open_page(viewport)
    found = {}

    page.goto(f"{live_server.url}/login/")
    found["/login/"] = serious_violations(page)
    sign_in(page, live_server, studio["maria"], secret=studio["maria_secret"])
    for path in staff_pages():
        page.goto(f"{live_server.url}{path}")
        found[path] = serious_violations(page)
    page.goto(f"{live_server.url}/bookings/new/")
    page.get_by_role("button", name="Save booking").click()
    expect(page.locator(".error-summary")).to_be_visible()
    found["/bookings/new/ refused"] = serious_violations(page)
    if viewport == PHONE:
        page.get_by_role("link", name="Menu").click()
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        found["/bookings/new/ with the menu open"] = serious_violations(page)

    assert {path: violations for path, violations in found.items() if violations} == {}


def test_at_phone_size_no_staff_page_scrolls_sideways_and_the_header_stays_small(open_page, live_server):
    """Each page's picture is saved as test-artifacts/screenshots/phone-page-<path>.png."""
    studio = demo_studio()
    page = open_page(PHONE)
    sign_in(page, live_server, studio["maria"], secret=studio["maria_secret"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    too_wide, too_tall = {}, {}

    for path in staff_pages():
        page.goto(f"{live_server.url}{path}")
        scroll_width, inner_width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        header_height = page.locator(".topbar").bounding_box()["height"]
        if scroll_width > inner_width:
            too_wide[path] = scroll_width
        if header_height > HEADER_MAX_HEIGHT:
            too_tall[path] = header_height
        page.screenshot(path=str(SCREENSHOTS / f"phone-page{re.sub(r'[^a-z0-9]+', '-', path)}.png"), full_page=True)

    assert (too_wide, too_tall) == ({}, {})


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_staff_page_has_a_button_too_small_or_too_close_for_a_finger(open_page, live_server, viewport):
    studio = demo_studio()
    page = open_page(viewport)
    too_small, too_close = {}, {}

    def measure(path):
        if small := page.evaluate(SMALL_TAP_TARGETS, TAP_TARGET_MIN_HEIGHT):
            too_small[path] = small
        if glued := page.evaluate(BUTTONS_GLUED_TO_A_NEIGHBOUR, BUTTONS_MIN_GAP):
            too_close[path] = glued

    page.goto(f"{live_server.url}/login/")
    measure("/login/")
    sign_in(page, live_server, studio["maria"], secret=studio["maria_secret"])
    for path in staff_pages():
        page.goto(f"{live_server.url}{path}")
        measure(path)

    assert (too_small, too_close) == ({}, {})


# What the front desk pastes into notes, and a long address: no space to wrap at.
LINK = "https://drive.example.com/folders/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnop"
LONG_EMAIL = "maximiliane.alexandra.von.hohenzollern.sigmaringen@example-photography-agency.com"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_pasted_link_in_notes_or_a_long_email_does_not_push_a_page_sideways(open_page, live_server, viewport):
    studio = demo_studio()
    client = ClientFactory(full_name="Maxi Long", email=LONG_EMAIL, notes=f"Moodboard: {LINK}")
    booking = BookingFactory(
        space=Space.objects.get(slug="studio_b"),
        client=client,
        start=local_instant(MONDAY, "18:00"),
        end=local_instant(MONDAY, "20:00"),
        notes=f"Bring:{LINK}",
    )
    page = open_page(viewport)
    sign_in(page, live_server, studio["maria"], secret=studio["maria_secret"])
    too_wide = {}

    for path in (f"/bookings/{booking.pk}/", f"/clients/{client.pk}/"):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            too_wide[path] = overflow

    assert too_wide == {}
