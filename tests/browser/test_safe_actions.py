"""Mistakes that can be put right and questions before doubtful changes, walked in Chromium."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Booking, BookingState, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, SpaceFactory
from employees.models import Employee, Role
from employees.tests.factories import EmployeeFactory, enrol_mfa
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


def test_undo_a_confirmation_with_a_reason(page, live_server, receptionist, studio, screenshot):
    booking = BookingFactory(space=studio, start=local_instant(MONDAY, "14:00"))
    sign_in(page, live_server, receptionist, path=f"/bookings/{booking.pk}/")

    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("is now confirmed")
    page.get_by_text("Undo the last change (Pending → Confirmed)…").click()
    page.get_by_role("button", name="Undo: back to pending").click()
    expect(page.locator("#undo_reason_error")).to_contain_text("Give a reason for undoing the last change.")
    page.get_by_label("Why undo it?").fill("Confirmed the wrong booking")
    page.get_by_role("button", name="Undo: back to pending").click()

    expect(page.get_by_role("status")).to_contain_text("is pending again (it was confirmed)")
    expect(page.locator(".history")).to_contain_text("Undone: Confirmed → Pending")
    expect(page.locator(".history")).to_contain_text("Reason: Confirmed the wrong booking")
    screenshot("20-undo-confirmation")
    assert Booking.objects.get(pk=booking.pk).state == BookingState.PENDING


def test_a_photographer_sees_when_the_session_may_start(page, live_server, studio, screenshot):
    photographer = EmployeeFactory(username="pia", full_name="Pia Photo", role=Role.PHOTOGRAPHER)
    booking = BookingFactory(
        space=studio, start=local_instant(MONDAY, "10:00"), state=BookingState.CONFIRMED, photographer=photographer
    )
    sign_in(page, live_server, photographer, path=f"/bookings/{booking.pk}/")

    expect(page.locator(".not-yet")).to_have_text("Start session from Mon 14 Jan, 09:30")
    expect(page.get_by_role("button", name="Start session")).to_have_count(0)
    screenshot("21-start-not-yet")


def test_a_known_phone_with_another_name_asks_which_is_right(page, live_server, receptionist, studio, screenshot):
    known = ClientFactory(full_name="Anna Known", phone="+14155550123", email="")
    sign_in(page, live_server, receptionist)

    page.goto(f"{live_server.url}/bookings/new/?space=studio_z&date=2030-01-15&start_time=10:00&end_time=11:00")
    page.get_by_label("Client's phone").fill("+1 415 555 0123")
    page.get_by_label("Client's name").fill("Bob Typed")
    page.get_by_role("button", name="Save booking").click()

    expect(page.locator("#id_book_known_client_error")).to_contain_text("+14155550123 belongs to Anna Known")
    screenshot("22-known-phone-question")
    page.get_by_label("Book Anna Known (the name typed is not kept)").check()
    page.get_by_role("button", name="Save booking").click()

    expect(page.get_by_role("heading", name=re.compile(r"Booking #\d+"))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Anna Known has no e-mail address: they will not be notified")
    assert Booking.objects.get().client == known


def test_deactivating_a_photographer_asks_about_their_sessions(page, live_server, studio, screenshot):
    manager = EmployeeFactory(username="maria", full_name="Maria Manager", role=Role.MANAGER)
    secret = enrol_mfa(manager)
    photographer = EmployeeFactory(username="pia", full_name="Pia Photo", role=Role.PHOTOGRAPHER)
    booking = BookingFactory(space=studio, start=local_instant(date(2030, 1, 16), "10:00"), photographer=photographer)
    sign_in(page, live_server, manager, secret=secret, path=f"/admin/employees/employee/{photographer.pk}/change/")

    page.get_by_label("Active").uncheck()
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("heading", name="Deactivate Pia Photo?")).to_be_visible()
    expect(page.locator(".upcoming-sessions")).to_contain_text(f"#{booking.pk}")
    screenshot("23-deactivate-photographer")
    page.get_by_role("button", name="Deactivate and keep them on their sessions").click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert not Employee.objects.get(pk=photographer.pk).is_active
    page.goto(f"{live_server.url}/bookings/{booking.pk}/")
    expect(page.locator(".facts")).to_contain_text("Pia Photo inactive")
