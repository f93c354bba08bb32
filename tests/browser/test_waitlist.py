"""The waitlist walked in Chromium, at a desktop's and a phone's size: a booking refused because the
slot is taken puts the client on the waitlist; once the blocking booking is cancelled, Today shows
them and one click books them. axe-core finds no serious or critical violation on the way."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Booking, BookingState, WaitlistEntry, WaitlistStatus, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, SpaceFactory
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


def look(page, name: str, found: dict) -> None:
    """Axe the page as it is and keep a screenshot of it."""
    found[name] = serious_violations(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"waitlist-{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_taken_slot_waits_on_the_waitlist_and_is_booked_from_today_once_freed(open_page, live_server, viewport):
    size = "desktop" if viewport == DESKTOP else "phone"
    rita = EmployeeFactory(username="rita", full_name="Rita Reception", role=Role.RECEPTIONIST)
    studio = SpaceFactory(slug="studio_z", name="Studio Z")
    blocking = BookingFactory(
        space=studio,
        client=ClientFactory(full_name="Otto Early"),
        start=local_instant(MONDAY, "14:00"),
        end=local_instant(MONDAY, "16:00"),
        state=BookingState.CONFIRMED,
    )
    page = open_page(viewport)
    found = {}
    sign_in(page, live_server, rita)

    page.goto(f"{live_server.url}/bookings/new/?space=studio_z&date=2030-01-14&start_time=14:00&end_time=16:00")
    page.get_by_label("Client's phone").fill("+1 415 555 0142")
    page.get_by_label("Client's name").fill("Nina Novak")
    page.get_by_role("button", name="Save booking").click()
    expect(page.locator(".error-summary")).to_contain_text("Studio Z is already booked")
    look(page, f"{size}-1-booking-refused", found)

    page.get_by_role("button", name="Put Nina Novak on the waitlist for this slot").click()
    expect(page.get_by_role("heading", name=re.compile(r"Waitlist #\d+"))).to_contain_text("Waiting")
    expect(page.get_by_role("status")).to_contain_text("Nina Novak is on the waitlist")
    look(page, f"{size}-2-entry-waiting", found)
    entry = WaitlistEntry.objects.get()

    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name=re.compile("Waitlist: the slot is free"))).to_contain_text("0")
    page.goto(f"{live_server.url}/bookings/{blocking.pk}/")
    page.get_by_text("Cancel this booking…").click()
    page.get_by_label("Reason").fill("Client is ill")
    page.get_by_role("button", name="Cancel the booking").click()
    expect(page.locator(".page-head")).to_contain_text("Cancelled")

    page.goto(f"{live_server.url}/")
    openings = page.locator("section", has=page.get_by_role("heading", name=re.compile("Waitlist: the slot is free")))
    expect(openings).to_contain_text("Nina Novak")
    look(page, f"{size}-3-today-offers-the-slot", found)
    openings.get_by_role("button", name="Book Nina Novak Mon 14 Jan, 14:00").click()

    expect(page.get_by_role("heading", name=re.compile(r"Booking #\d+"))).to_contain_text("Pending")
    expect(page.locator("main")).to_contain_text("came off the waitlist")
    look(page, f"{size}-4-booked", found)
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED
    assert Booking.objects.get(pk=entry.booking_id).client.full_name == "Nina Novak"

    page.goto(f"{live_server.url}/waitlist/{entry.pk}/")
    expect(page.locator(".history")).to_contain_text("Put on the waitlist")
    expect(page.locator(".history")).to_contain_text("Slot freed")
    expect(page.locator(".history")).to_contain_text("Booked from the waitlist")
    look(page, f"{size}-5-entry-history", found)
    page.goto(f"{live_server.url}/waitlist/?status=booked")
    look(page, f"{size}-6-waitlist", found)

    assert {name: violations for name, violations in found.items() if violations} == {}
