"""A closure on the calendar, at a desktop's and at a phone's size, and a booking it refuses, walked
in Chromium; axe-core finds no serious or critical violation on either page."""

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Space, local_instant
from bookings.tests.factories import ClosureFactory
from tests.browser.studio import DESKTOP, MONDAY, PHONE, demo_studio, sign_in
from tests.browser.test_every_staff_page import serious_violations
from tests.browser.test_phone_print_and_forms import shoot

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def studio_clock():
    """Monday 14 January 2030, 09:40 in the studio, ticking: the live server and pyotp share it."""
    with time_machine.travel(datetime(2030, 1, 14, 9, 40, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def studio():
    staff = demo_studio()
    ClosureFactory(
        space=Space.objects.get(slug="studio_a"),
        start=local_instant(MONDAY, "14:30"),
        end=local_instant(MONDAY, "18:00"),
        reason="Floor repainting",
    )
    return staff


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_calendar_shows_a_closure_with_its_reason(open_page, live_server, studio, viewport):
    page = open_page(viewport)
    sign_in(page, live_server, studio["rita"], path="/calendar/?date=2030-01-14&space=studio_a")

    closure = page.locator(".tg-lane[data-space='studio_a'] .tg-closure")
    expect(closure).to_be_visible()
    expect(closure).to_contain_text("Closed: Floor repainting")
    expect(page.get_by_role("heading", name="Closed on this day")).to_be_visible()
    lane = page.locator(".tg-lane[data-space='studio_a']")
    expect(lane.locator("a.tg-free[href*='start_time=15:00']")).to_have_count(0)
    closure.scroll_into_view_if_needed()
    shoot(page, f"calendar-closure-{'phone' if viewport == PHONE else 'desktop'}", full_page=False)
    assert serious_violations(page) == []


def test_a_booking_in_a_closure_is_refused_naming_it(open_page, live_server, studio):
    page = open_page(DESKTOP)
    sign_in(
        page,
        live_server,
        studio["rita"],
        path="/bookings/new/?space=studio_a&date=2030-01-14&start_time=15:00&end_time=16:00",
    )
    page.get_by_label("Client's phone").fill("+1 415 555 0177")
    page.get_by_label("Client's name").fill("Cora Closed")

    page.get_by_role("button", name="Save booking").click()

    expect(page.locator(".error-summary")).to_contain_text("Floor repainting")
    expect(page.get_by_label("Starts")).to_have_attribute("aria-invalid", "true")
    shoot(page, "booking-refused-by-closure")
    assert serious_violations(page) == []


def test_today_shows_the_closure_on_its_timeline(open_page, live_server, studio):
    page = open_page(DESKTOP)
    sign_in(page, live_server, studio["rita"])

    closure = page.locator(".tl-track .tg-closure")
    expect(closure).to_be_visible()
    expect(closure).to_contain_text("Closed: Floor repainting")
    shoot(page, "today-closure-desktop", full_page=False)
    assert serious_violations(page) == []
