"""The main journeys of the staff, walked in Chromium as a person would, each saving a screenshot."""

import re
from datetime import UTC, date, datetime

import pyotp
import pytest
import time_machine
from playwright.sync_api import expect

from bookings.demo import create_demo_bookings
from bookings.models import Booking, BookingState, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa
from events.models import Event
from tests.browser.studio import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MONDAY = date(2030, 1, 14)


@pytest.fixture(autouse=True)
def studio_clock():
    """Monday 14 January 2030, 08:30 in the studio, ticking: the live server and pyotp share it."""
    with time_machine.travel(datetime(2030, 1, 14, 8, 30, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def studio():
    return SpaceFactory(slug="studio_z", name="Studio Z")


@pytest.fixture
def receptionist():
    return EmployeeFactory(username="rita", full_name="Rita Reception", role=Role.RECEPTIONIST)


def test_sign_in_with_password_and_authenticator_code(page, live_server, receptionist, screenshot):
    secret = enrol_mfa(receptionist)

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    screenshot("01-sign-in-code-step")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Rita Reception")
    screenshot("02-today-after-sign-in")


def test_book_a_free_slot_from_the_calendar(page, live_server, receptionist, studio, screenshot):
    sign_in(page, live_server, receptionist)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    page.get_by_role("link", name="Next day").click()
    expect(page.locator(".page-head")).to_contain_text("Tuesday 15 January 2030")
    screenshot("03-calendar-day")
    page.get_by_role("link", name="Book Studio Z on Tue 15 Jan at 10:00").click()

    expect(page.get_by_role("heading", name="New booking")).to_be_visible()
    expect(page.get_by_label("Space")).to_have_value("studio_z")
    expect(page.get_by_label("Starts")).to_have_value("10:00")
    expect(page.get_by_label("Ends")).to_have_value("11:00")
    page.get_by_label("Client's phone").fill("+1 415 555 0142")
    page.get_by_label("Client's name").fill("Nina Novak")
    page.get_by_label("People").fill("3")
    expect(page.locator("#price-preview")).to_contain_text("50.00")
    screenshot("04-booking-form-prefilled")
    page.get_by_role("button", name="Save booking").click()

    expect(page.get_by_role("heading", name=re.compile(r"Booking #\d+"))).to_be_visible()
    expect(page.locator(".page-head")).to_contain_text("Pending")
    expect(page.get_by_role("status")).to_contain_text("is saved as pending")
    screenshot("05-booking-detail")
    booking = Booking.objects.select_related("client").get()
    assert (booking.start, booking.client.full_name, booking.people_count) == (
        local_instant(date(2030, 1, 15), "10:00"),
        "Nina Novak",
        3,
    )


def test_a_clash_shows_the_overlap_error_naming_the_booking(page, live_server, receptionist, studio, screenshot):
    existing = BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), end=local_instant(MONDAY, "12:00"))
    sign_in(page, live_server, receptionist)

    page.goto(f"{live_server.url}/bookings/new/?space=studio_z&date=2030-01-14&start_time=11:00&end_time=12:30")
    page.get_by_label("Client's phone").fill("+1 415 555 0143")
    page.get_by_label("Client's name").fill("Otto Overlap")
    page.get_by_role("button", name="Save booking").click()

    error = page.locator("#id_start_time_error")
    expect(error).to_contain_text("Studio Z is already booked")
    expect(error).to_contain_text(f"(booking #{existing.pk})")
    expect(page.get_by_label("Starts")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("link", name=f"Open booking #{existing.pk}")).to_be_visible()
    screenshot("06-overlap-error")
    assert Booking.objects.count() == 1


def test_confirm_then_cancel_with_a_reason(page, live_server, receptionist, studio, screenshot):
    booking = BookingFactory(
        space=studio, start=local_instant(MONDAY, "14:00"), client=ClientFactory(full_name="Carla Client")
    )
    sign_in(page, live_server, receptionist, path=f"/bookings/{booking.pk}/")

    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("is now confirmed")
    page.get_by_text("Cancel this booking…").click()
    page.get_by_role("button", name="Cancel the booking").click()
    expect(page.locator("#id_reason_error")).to_contain_text("Give a reason for cancelling.")
    page.get_by_label("Reason").fill("Client's flight was cancelled")
    page.get_by_role("button", name="Cancel the booking").click()

    expect(page.get_by_role("status")).to_contain_text("is now cancelled")
    history = page.locator(".history")
    expect(history).to_contain_text("Pending → Confirmed")
    expect(history).to_contain_text("Confirmed → Cancelled")
    expect(history).to_contain_text("Reason: Client's flight was cancelled")
    screenshot("07-confirmed-then-cancelled")
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED


def test_find_the_client_by_name_and_from_the_booking_form(page, live_server, receptionist, studio, screenshot):
    alice = ClientFactory(full_name="Alice Moreau", phone="+14155550101", email="alice@example.com")
    ClientFactory(full_name="Ben Okafor", phone="+14155550102")
    BookingFactory(client=alice, space=studio, start=local_instant(date(2030, 1, 7), "10:00"), state="completed")
    sign_in(page, live_server, receptionist)

    page.get_by_role("link", name="Clients").click()
    page.get_by_label("Name, phone or e-mail").fill("moreau")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Alice Moreau").click()
    expect(page.get_by_role("heading", name="Alice Moreau")).to_be_visible()
    expect(page.locator(".figures")).to_contain_text("100.00")
    screenshot("08-client-detail")

    page.goto(f"{live_server.url}/bookings/new/")
    page.get_by_label("Client's phone").press_sequentially("555 0101", delay=30)
    match = page.get_by_role("button", name=re.compile("Alice Moreau"))
    expect(match).to_be_visible()
    screenshot("09-client-search-in-booking-form")
    match.click()
    expect(page.get_by_label("Client's phone")).to_have_value("+14155550101")
    expect(page.get_by_label("Client's name")).to_have_value("Alice Moreau")


def test_enrol_mfa_from_the_profile(page, live_server, receptionist, screenshot):
    sign_in(page, live_server, receptionist)

    page.get_by_role("link", name="Rita Reception").click()
    page.get_by_role("link", name="Set up two-factor authentication").click()
    page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("img", name="QR code with your secret")).to_be_visible()
    screenshot("10-mfa-enrolment")
    # One password field in sight: the one that confirms; starting over with a new code is folded away.
    expect(page.get_by_label("Your password").filter(visible=True)).to_have_count(1)
    secret = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    page.get_by_role("textbox", name="Code").fill(pyotp.TOTP(secret).now())
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Two-factor authentication is on")).to_be_visible()
    expect(page.get_by_test_id("backup-codes").locator("span")).to_have_count(10)
    screenshot("11-backup-codes")
    assert Event.objects.filter(type="employee.mfa_enabled", actor=receptionist).exists()


def test_manager_cancels_bookings_in_bulk_in_the_admin(page, live_server, studio, screenshot):
    manager = EmployeeFactory(username="maria", full_name="Maria Manager", role=Role.MANAGER)
    secret = enrol_mfa(manager)
    first = BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), client=ClientFactory(full_name="Ann"))
    second = BookingFactory(space=studio, start=local_instant(MONDAY, "14:00"), client=ClientFactory(full_name="Bob"))
    done = BookingFactory(
        space=studio, start=local_instant(date(2030, 1, 7), "10:00"), state="completed", client=ClientFactory()
    )
    sign_in(page, live_server, manager, secret=secret, path="/admin/bookings/booking/")

    expect(page.get_by_role("heading", name="Select booking to view")).to_be_visible()
    for booking in (first, second, done):
        page.locator(f"input[name=_selected_action][value='{booking.pk}']").check()
    page.locator("select[name=action]").select_option("cancel_selected")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", name="Cancel bookings")).to_be_visible()
    page.get_by_label("Reason").fill("Studio closed for repairs")
    page.get_by_role("button", name="Cancel these bookings").click()

    messages = page.locator(".messagelist")
    expect(messages).to_contain_text("Cancelled 2 bookings.")
    expect(messages).to_contain_text(f"#{done.pk}")
    expect(messages).to_contain_text("A completed booking cannot become cancelled.")
    screenshot("12-admin-bulk-cancel")
    assert list(Booking.objects.order_by("start").values_list("state", flat=True)) == [
        "completed",
        "cancelled",
        "cancelled",
    ]


def test_today_and_calendar_of_the_demo_week(page, live_server, screenshot):
    """The pictures in the README: the demo week as a new user sees it after ``make run``."""
    admin = EmployeeFactory(username="admin", role=Role.ADMIN)
    photographer = EmployeeFactory(username="pete", full_name="Pete Photographer", role=Role.PHOTOGRAPHER)
    for slug, name in (("studio_a", "Studio A"), ("studio_b", "Studio B"), ("makeup_room", "Make-up room")):
        SpaceFactory(slug=slug, name=name, capacity=10)
    with time_machine.travel(datetime(2030, 1, 14, 7, 0, tzinfo=UTC), tick=False):
        create_demo_bookings(actor=admin, photographer=photographer, today=MONDAY)
    receptionist = EmployeeFactory(username="rita", full_name="Rita Reception", role=Role.RECEPTIONIST)

    with time_machine.travel(datetime(2030, 1, 14, 9, 40, tzinfo=UTC), tick=True):
        sign_in(page, live_server, receptionist)
        expect(page.locator(".tl-row .tg-booking")).to_have_count(3)
        expect(page.get_by_role("heading", name=re.compile("Starting within the hour"))).to_contain_text("1")
        first_hour, names = page.locator(".tl-scale span").first, page.locator(".tl-row > :first-child").first
        assert first_hour.bounding_box()["x"] >= names.bounding_box()["x"] + names.bounding_box()["width"]
        expect(first_hour).to_have_text("08:00")
        screenshot("today")
        page.get_by_role("link", name="Open the calendar").click()
        expect(page.locator(".tg-lane .tg-booking")).to_have_count(3)
        screenshot("calendar")

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_server.url}/")
        screenshot("today-phone", full_page=False)
        page.goto(f"{live_server.url}/calendar/?space=studio_a")
        expect(page.locator(".tg-lane .tg-booking").filter(visible=True)).to_have_count(2)
        screenshot("calendar-phone", full_page=False)
