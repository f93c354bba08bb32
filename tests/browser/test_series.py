"""Booking a recurring series from the booking form, at a desktop's and a phone's size: the taken
date is listed, the free dates are booked, the booking page shows the series with its actions and
cancels its later dates; axe-core finds no serious or critical violation on the way."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Booking, BookingSeries, BookingState, local_instant
from bookings.tests.factories import BookingFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from tests.browser.conftest import SCREENSHOTS
from tests.browser.studio import DESKTOP, PHONE, sign_in
from tests.browser.test_every_staff_page import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MONDAY = date(2030, 1, 14)


@pytest.fixture(autouse=True)
def studio_clock():
    """Monday 14 January 2030, 08:30 in the studio, ticking: the live server shares it."""
    with time_machine.travel(datetime(2030, 1, 14, 8, 30, tzinfo=UTC), tick=True):
        yield


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_book_a_weekly_series_skipping_a_taken_date_then_cancel_its_later_dates(open_page, live_server, viewport):
    studio = SpaceFactory(slug="studio_z", name="Studio Z")
    taken = BookingFactory(space=studio, start=local_instant(MONDAY + timedelta(weeks=2), "10:30"))
    rita = EmployeeFactory(username="rita", full_name="Rita Reception", role=Role.RECEPTIONIST)
    size = "phone" if viewport == PHONE else "desktop"
    page = open_page(viewport)
    sign_in(page, live_server, rita)

    page.goto(f"{live_server.url}/bookings/new/?space=studio_z&date=2030-01-14&start_time=10:00&end_time=11:00")
    page.get_by_label("Client's phone").fill("+1 415 555 0177")
    page.get_by_label("Client's name").fill("Rhea Regular")
    page.get_by_label("How often").select_option(label="Every week")
    page.get_by_label("Number of dates").fill("4")
    page.get_by_role("button", name="Save booking").click()

    conflicts = page.get_by_test_id("series-conflicts")
    expect(conflicts).to_contain_text("Mon 28 Jan 2030")
    expect(conflicts).to_contain_text(f"booking #{taken.pk}")
    expect(page.locator(".error-summary")).to_contain_text("The series was not booked")
    assert serious_violations(page) == []
    screenshot(page, f"series-01-taken-date-{size}")
    assert not BookingSeries.objects.exists()

    page.get_by_label("Book the free dates only").check()
    page.get_by_role("button", name="Save booking").click()

    expect(page.get_by_role("heading", name=re.compile(r"Booking #\d+"))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("3 bookings are saved as pending")
    expect(page.get_by_role("status")).to_contain_text("Mon 28 Jan 2030")
    series_card = page.get_by_test_id("series")
    expect(series_card).to_contain_text("Part of a series")
    expect(series_card.get_by_role("listitem")).to_have_count(3)
    assert serious_violations(page) == []
    screenshot(page, f"series-02-booking-of-a-series-{size}")

    series_card.get_by_role("link", name="Mon 21 Jan 2030, 10:00").click()
    expect(page.locator(".page-head")).to_contain_text("Monday 21 January 2030")
    page.get_by_text("Move dates of this series…").click()
    page.get_by_text("Cancel dates of this series…").click()
    expect(page.get_by_label("Day of the week")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, f"series-03-series-actions-{size}")
    page.locator("#series_reason").fill("Moving to another city")
    page.get_by_role("button", name="Cancel these dates").click()

    expect(page.get_by_role("status")).to_contain_text("2 bookings are cancelled")
    screenshot(page, f"series-04-later-dates-cancelled-{size}")
    states = list(Booking.objects.filter(series__isnull=False).order_by("start").values_list("state", flat=True))
    assert states == [BookingState.PENDING, BookingState.CANCELLED, BookingState.CANCELLED]

    page.goto(f"{live_server.url}/calendar/?date=2030-01-14")
    marked = page.locator(".tg-booking").filter(has=page.get_by_test_id("series-mark"))
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("Rhea Regular")
    assert serious_violations(page) == []
    screenshot(page, f"series-05-marked-in-the-calendar-{size}")
