"""Closures on the staff pages: the calendar and Today show them with their reason, offer no free
time inside them, and the booking forms name the closure that refuses a time."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from bookings.models import Booking, local_instant
from bookings.tests.factories import BookingFactory, ClosureFactory, SpaceFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)
NOW = datetime(2030, 1, 14, 7, 0, tzinfo=UTC)


def at(clock, day=MONDAY):
    return local_instant(day, clock)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def page(response) -> str:
    return response.content.decode()


def test_calendar_day_shows_a_closure_with_its_reason_and_no_free_time_in_it(desk, studio):
    other = SpaceFactory(name="Loft")
    closure = ClosureFactory(space=studio, start=at("12:00"), end=at("16:00"), reason="Floor repainting")

    response = desk.get("/calendar/", {"date": "2030-01-14"})

    lanes = {lane.space: lane for lane in response.context["grid"].lanes}
    assert [shut.closure for shut in lanes[studio].closures] == [closure]
    assert lanes[other].closures == []
    content = page(response)
    assert "Closed: Floor repainting" in content
    assert "space=test_studio&amp;date=2030-01-14&amp;start_time=11:00&amp;end_time=11:45" in content
    assert "space=test_studio&amp;date=2030-01-14&amp;start_time=12:00" not in content
    assert "space=test_studio&amp;date=2030-01-14&amp;start_time=16:00" in content
    assert response.context["closures"] == [closure]


def test_calendar_day_shows_a_whole_studio_closure_on_every_space(desk, studio):
    SpaceFactory(name="Loft")
    ClosureFactory(space=None, start=at("00:00"), end=at("24:00"), reason="Holidays")

    response = desk.get("/calendar/", {"date": "2030-01-14"})

    assert all(lane.closures and not lane.cells for lane in response.context["grid"].lanes)
    assert "The studio" in page(response)


def test_calendar_week_shows_a_closure_on_the_days_it_covers(desk, studio):
    tuesday = MONDAY + timedelta(days=1)
    ClosureFactory(
        space=studio, start=at("18:00", tuesday), end=at("10:00", tuesday + timedelta(days=1)), reason="Leak"
    )

    response = desk.get("/calendar/", {"view": "week", "date": "2030-01-16", "space": studio.slug})

    closed_days = [lane.day for lane in response.context["grid"].lanes if lane.closures]
    assert closed_days == [tuesday, tuesday + timedelta(days=1)]


def test_today_timeline_shows_a_closure(desk, studio):
    ClosureFactory(space=studio, start=at("12:00"), end=at("16:00"), reason="Photo shoot for the studio's own website")

    response = desk.get("/")

    assert "Closed: Photo shoot for the studio&#x27;s own website" in page(response)


def test_day_sheet_shows_the_closures_of_each_space(desk, studio):
    other = SpaceFactory(name="Loft")
    ClosureFactory(space=studio, start=at("12:00"), end=at("16:00"), reason="Floor repainting")

    response = desk.get("/calendar/day-sheet/", {"date": "2030-01-14"})

    sheets = {sheet["space"]: sheet for sheet in response.context["sheets"]}
    assert [c.reason for c in sheets[studio]["closures"]] == ["Floor repainting"]
    assert sheets[other]["closures"] == []
    assert "Closed</strong> Mon 14 Jan, 12:00–16:00 — Floor repainting" in " ".join(page(response).split())


def test_booking_form_names_the_closure_that_refuses_the_time(desk, studio):
    closure = ClosureFactory(space=studio, start=at("12:00"), end=at("16:00"), reason="Floor repainting")
    form = {
        "client_phone": "+14155550199",
        "client_name": "Nina Novak",
        "client_email": "",
        "space": studio.slug,
        "date": "2030-01-14",
        "start_time": "13:00",
        "end_time": "14:00",
        "people_count": "2",
        "photographer": "",
        "notes": "",
    }

    response = desk.post("/bookings/new/", form)

    assert response.status_code == 400
    errors = response.context["form"].errors["start_time"]
    assert any("Floor repainting" in error and f"closure #{closure.pk}" in error for error in errors)
    assert not Booking.objects.exists()


def test_edit_form_names_the_closure_that_refuses_a_new_time(desk, studio):
    booking = BookingFactory(space=studio, start=at("09:00"), end=at("10:00"))
    ClosureFactory(space=None, start=at("12:00"), end=at("16:00"), reason="Holidays")
    shown = {
        "space": studio.slug,
        "date": "2030-01-14",
        "start_time": "09:00",
        "end_time": "10:00",
        "people_count": "2",
        "photographer": "",
        "notes": "",
        "price": "",
    }
    sent = {**shown, **{f"initial-{name}": value for name, value in shown.items()}}

    response = desk.post(f"/bookings/{booking.pk}/edit/", {**sent, "start_time": "13:00", "end_time": "14:00"})

    assert response.status_code == 400
    assert any("Holidays" in error for error in response.context["form"].errors["start_time"])
    booking.refresh_from_db()
    assert booking.start == at("09:00")
