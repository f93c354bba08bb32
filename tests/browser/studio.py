"""The demo studio the phone, print and accessibility tests walk, and the staff pages they visit."""

import re
from datetime import UTC, date, datetime

import pyotp
import time_machine
from playwright.sync_api import expect

from bookings.demo import create_demo_bookings
from bookings.models import Booking, Client, local_instant
from bookings.tests.factories import BookingFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa

MONDAY = date(2030, 1, 14)
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def demo_studio() -> dict:
    """Three spaces plus the demo rooftop, the demo week around Monday 14 January 2030, a session
    of Pete's this afternoon with notes, and the staff: Maria (manager, with an authenticator app),
    Rita (front desk) and Pete (photographer)."""
    admin = EmployeeFactory(username="admin", role=Role.ADMIN)
    pete = EmployeeFactory(username="pete", full_name="Pete Photographer", role=Role.PHOTOGRAPHER)
    for slug, name in (("studio_a", "Studio A"), ("studio_b", "Studio B"), ("makeup_room", "Make-up room")):
        SpaceFactory(slug=slug, name=name, capacity=10)
    with time_machine.travel(datetime(2030, 1, 14, 7, 0, tzinfo=UTC), tick=False):
        create_demo_bookings(actor=admin, photographer=pete, today=MONDAY)
        BookingFactory(
            space=SpaceFactory(slug="loft", name="Loft with a long name for the phone", capacity=6),
            start=local_instant(MONDAY, "16:00"),
            end=local_instant(MONDAY, "18:00"),
            photographer=pete,
            notes="Family portrait, bring the step stool",
            state="confirmed",
        )
    maria = EmployeeFactory(username="maria", full_name="Maria Manager", role=Role.MANAGER)
    return {
        "maria": maria,
        "maria_secret": enrol_mfa(maria),
        "rita": EmployeeFactory(username="rita", full_name="Rita Reception", role=Role.RECEPTIONIST),
        "pete": pete,
    }


def sign_in(page, live_server, employee, *, secret=None, path="/"):
    page.goto(f"{live_server.url}{path}")
    page.get_by_label("Username").fill(employee.username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    if secret is not None:
        expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
        page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def staff_pages() -> list[str]:
    """Every staff page a manager can open (the admin is Django's own), with a booking and a client of
    the demo, the Clients page refusing a search (its field error beside the field), and the page of
    a booking that does not exist."""
    booking = Booking.objects.filter(start__gte=local_instant(MONDAY, "00:00")).order_by("start").first()
    client = Client.objects.order_by("pk").first()
    return [
        "/",
        "/calendar/",
        f"/calendar/?view=week&date={MONDAY:%Y-%m-%d}&space=studio_b",
        f"/calendar/day-sheet/?date={MONDAY:%Y-%m-%d}",
        "/bookings/",
        "/bookings/new/",
        f"/bookings/{booking.pk}/",
        f"/bookings/{booking.pk}/edit/",
        "/clients/",
        "/clients/?q=ann%09smith",
        f"/clients/{client.pk}/",
        f"/clients/{client.pk}/edit/",
        "/reports/",
        "/waitlist/",
        "/profile/",
        "/password/change/",
        "/profile/mfa/backup-codes/",
        "/profile/mfa/enroll/",
        "/bookings/999999/",
    ]
