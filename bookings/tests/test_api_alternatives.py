"""Conflict help in the API: a 409 ``booking_overlap`` offers the free times and spaces instead."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from bookings.models import Booking, Space, local_instant
from bookings.tests.api import api_as, booking_body
from bookings.tests.factories import BookingFactory, SpaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2030, 1, 11, 9, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def only_the_tests_spaces():
    """The spaces of a fresh install take no bookings here: only those a test makes."""
    Space.objects.update(is_active=False)


def at(clock):
    return local_instant(date(2030, 1, 14), clock)


def test_an_overlapping_booking_answers_the_nearest_free_times_and_the_free_spaces(receptionist, studio):
    existing = BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    SpaceFactory(slug="attic", name="Attic", capacity=2)
    SpaceFactory(slug="booth", name="Booth", capacity=1)

    response = api_as(receptionist).post("/api/v1/bookings/", booking_body(studio, at("11:00"), people_count=2))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "booking_overlap"
    assert error["details"] == {
        "conflicting_booking": {
            "id": existing.pk,
            "start": "2030-01-14T10:00:00+00:00",
            "end": "2030-01-14T12:00:00+00:00",
            "blocks_until": "2030-01-14T12:15:00+00:00",
        },
        "alternatives": {
            "same_space": [
                {"start": "2030-01-14T12:15:00+00:00", "end": "2030-01-14T14:15:00+00:00"},
                {"start": "2030-01-14T12:30:00+00:00", "end": "2030-01-14T14:30:00+00:00"},
                {"start": "2030-01-14T12:45:00+00:00", "end": "2030-01-14T14:45:00+00:00"},
            ],
            "other_spaces": [
                {
                    "space": "attic",
                    "space_name": "Attic",
                    "start": "2030-01-14T11:00:00+00:00",
                    "end": "2030-01-14T13:00:00+00:00",
                }
            ],
        },
    }
    assert Booking.objects.count() == 1


def test_an_offered_alternative_can_be_booked_as_it_is(receptionist, studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    SpaceFactory(slug="attic", name="Attic")
    api = api_as(receptionist)
    refused = api.post("/api/v1/bookings/", booking_body(studio, at("11:00"))).json()["error"]["details"]

    other = refused["alternatives"]["other_spaces"][0]
    later = refused["alternatives"]["same_space"][0]
    in_attic = api.post(
        "/api/v1/bookings/",
        booking_body(studio, at("11:00"), space_type=other["space"], start_time=other["start"], end_time=other["end"]),
    )
    later_here = api.post(
        "/api/v1/bookings/",
        booking_body(
            studio, at("11:00"), client_phone="+14155550111", start_time=later["start"], end_time=later["end"]
        ),
    )

    assert (in_attic.status_code, later_here.status_code) == (201, 201)


def test_an_overlapping_reschedule_answers_alternatives_around_the_booking_s_own_time(receptionist, studio):
    moving = BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    BookingFactory(space=studio, start=at("14:00"), end=at("16:00"))
    SpaceFactory(slug="attic", name="Attic")

    response = api_as(receptionist).post(
        f"/api/v1/bookings/{moving.pk}/reschedule",
        {"start_time": at("14:00").isoformat(), "end_time": at("16:00").isoformat()},
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "booking_overlap"
    assert error["details"]["alternatives"] == {
        "same_space": [
            {"start": "2030-01-14T11:45:00+00:00", "end": "2030-01-14T13:45:00+00:00"},
            {"start": "2030-01-14T16:15:00+00:00", "end": "2030-01-14T18:15:00+00:00"},
            {"start": "2030-01-14T11:30:00+00:00", "end": "2030-01-14T13:30:00+00:00"},
        ],
        "other_spaces": [
            {
                "space": "attic",
                "space_name": "Attic",
                "start": "2030-01-14T14:00:00+00:00",
                "end": "2030-01-14T16:00:00+00:00",
            }
        ],
    }


def test_a_full_studio_answers_empty_alternatives(receptionist, studio):
    BookingFactory(space=studio, start=at("08:00"), end=at("20:00"))

    response = api_as(receptionist).post("/api/v1/bookings/", booking_body(studio, at("11:00")))

    assert response.status_code == 409
    assert response.json()["error"]["details"]["alternatives"] == {"same_space": [], "other_spaces": []}


def test_a_free_time_offered_in_the_repeated_hour_is_the_instant_booked(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # the clocks go back from 03:00 CEST to 02:00 CET on 25 October 2026
    space = SpaceFactory(slug="night", opening_hours={"sun": ["00:00", "24:00"]}, buffer_minutes=0)
    BookingFactory(
        space=space, start=datetime(2026, 10, 24, 22, 0, tzinfo=UTC), end=datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    )
    BookingFactory(
        space=space, start=datetime(2026, 10, 25, 2, 30, tzinfo=UTC), end=datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
    )
    api = api_as(receptionist)

    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), tick=False):
        asked = booking_body(space, datetime(2026, 10, 24, 23, 0, tzinfo=UTC), hours=1)
        offered = api.post("/api/v1/bookings/", asked).json()["error"]["details"]["alternatives"]["same_space"][0]
        booked = api.post("/api/v1/bookings/", {**asked, "start_time": offered["start"], "end_time": offered["end"]})

    assert offered == {"start": "2026-10-25T01:30:00+00:00", "end": "2026-10-25T02:30:00+00:00"}  # 02:30 CET
    assert booked.status_code == 201
    assert (booked.json()["start_time"], booked.json()["end_time"]) == ("2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z")
