"""The calendar feed on the profile page, walked in Chromium at desktop and phone size: the URL
shown opens the photographer's sessions in a calendar parser, and a new address ends the old one."""

import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest
import time_machine
import vobject
from playwright.sync_api import expect

from bookings.models import Booking
from tests.browser.conftest import SCREENSHOTS
from tests.browser.studio import DESKTOP, PHONE, demo_studio, sign_in
from tests.browser.test_every_staff_page import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def studio_clock():
    """Monday 14 January 2030, 09:40 in the studio, ticking: the live server shares it."""
    with time_machine.travel(datetime(2030, 1, 14, 9, 40, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def window(browser, request):
    """A fresh browser window of the test's viewport, CSP-free so axe can be injected."""
    context = browser.new_context(viewport=request.param, locale="en-GB", bypass_csp=True)
    yield context.new_page()
    context.close()


def _fetch(url: str) -> tuple[int, str]:
    """What a calendar app gets from ``url``: no cookie, no sign-in."""
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, ""


@pytest.mark.parametrize("window", [DESKTOP, PHONE], ids=["desktop", "phone"], indirect=True)
def test_a_photographer_subscribes_to_their_sessions_and_replaces_the_address(window, live_server):
    """Pictures: test-artifacts/screenshots/profile-calendar-feed[-replaced]-<desktop|phone>.png."""
    page, pete = window, demo_studio()["pete"]
    size = "desktop" if page.viewport_size == DESKTOP else "phone"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, live_server, pete, path="/profile/")

    address = page.get_by_label("Your feed's address")
    expect(address).to_be_visible()
    old_url = address.input_value()
    status, body = _fetch(old_url)
    assert status == 200
    listed = {event.uid.value for event in vobject.readOne(body).contents.get("vevent", [])}
    assert listed
    assert all(
        Booking.objects.get(pk=int(uid.split("@")[0].removeprefix("booking-"))).photographer == pete for uid in listed
    )
    assert serious_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / f"profile-calendar-feed-{size}.png"), full_page=True)

    page.get_by_role("button", name="New address (the old one stops working)").click()

    expect(page.get_by_role("status")).to_contain_text("Your calendar feed has a new address")
    new_url = page.get_by_label("Your feed's address").input_value()
    assert new_url != old_url
    assert _fetch(old_url)[0] == 404
    assert _fetch(new_url)[0] == 200
    assert serious_violations(page) == []
    scroll_width, inner_width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width
    page.evaluate(
        "() => window.scrollTo(0, 0)"
    )  # the redirect scrolled to the feed; the sticky header would float mid-picture
    page.screenshot(path=str(SCREENSHOTS / f"profile-calendar-feed-replaced-{size}.png"), full_page=True)
