"""A session begins no earlier than BOOKING_EARLY_START_MINUTES before its start and completes no
earlier than its start; bookings in the past need a confirmation in the form, not in the API."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bookings import services
from bookings.models import Booking, BookingState
from bookings.tests.api import api_as, booking_body
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory
from photostudio.errors import TooEarly

pytestmark = pytest.mark.django_db


def move(booking, target, actor):
    return services.transition_booking(booking=booking, target_state=target, actor=actor)


def test_a_session_may_not_begin_more_than_the_early_start_before_it(photographer, settings):
    settings.BOOKING_EARLY_START_MINUTES = 30
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=photographer, start=MONDAY_10_UTC)

    with time_machine.travel(MONDAY_10_UTC - timedelta(minutes=31), tick=False), pytest.raises(TooEarly) as raised:
        move(booking, BookingState.IN_PROGRESS, photographer)

    assert raised.value.code == "too_early"
    assert raised.value.details["not_before"] == "2030-01-14T09:30:00+00:00"
    assert "09:30" in raised.value.message
    assert Booking.objects.get(pk=booking.pk).state == BookingState.CONFIRMED


def test_a_session_may_begin_from_the_early_start(photographer):
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=photographer, start=MONDAY_10_UTC)

    with time_machine.travel(MONDAY_10_UTC - timedelta(minutes=30), tick=False):
        move(booking, BookingState.IN_PROGRESS, photographer)

    assert Booking.objects.get(pk=booking.pk).state == BookingState.IN_PROGRESS


def test_a_session_may_not_complete_before_its_start(photographer):
    booking = BookingFactory(state=BookingState.IN_PROGRESS, photographer=photographer, start=MONDAY_10_UTC)

    with time_machine.travel(MONDAY_10_UTC - timedelta(minutes=1), tick=False), pytest.raises(TooEarly) as raised:
        move(booking, BookingState.COMPLETED, photographer)

    assert raised.value.details["not_before"] == "2030-01-14T10:00:00+00:00"


def test_a_session_may_complete_from_its_start(photographer):
    booking = BookingFactory(state=BookingState.IN_PROGRESS, photographer=photographer, start=MONDAY_10_UTC)

    with time_machine.travel(MONDAY_10_UTC, tick=False):
        move(booking, BookingState.COMPLETED, photographer)

    assert Booking.objects.get(pk=booking.pk).state == BookingState.COMPLETED


def test_api_answers_too_early_with_the_first_allowed_time(photographer):
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=photographer, start=MONDAY_10_UTC)

    with time_machine.travel(datetime(2030, 1, 14, 8, 56, tzinfo=UTC), tick=False):
        response = api_as(photographer).post(f"/api/v1/bookings/{booking.pk}/state", {"target_state": "in_progress"})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "too_early"
    assert error["details"]["not_before"] == "2030-01-14T09:30:00+00:00"
    assert "from Mon 14 Jan 2030, 09:30" in error["message"]


def test_too_early_moves_are_not_offered_but_named_with_their_time(photographer):
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=photographer, start=MONDAY_10_UTC)

    with time_machine.travel(datetime(2030, 1, 14, 8, 56, tzinfo=UTC), tick=False):
        offered = services.transitions_allowed(booking=booking, actor=photographer)
        waiting = services.transitions_not_yet_allowed(booking=booking, actor=photographer)

    assert offered == []
    assert [(move.target, moment) for move, moment in waiting] == [
        (BookingState.IN_PROGRESS, datetime(2030, 1, 14, 9, 30, tzinfo=UTC))
    ]


def test_the_api_books_in_the_past_for_imports(receptionist, studio):
    with time_machine.travel(MONDAY_10_UTC + timedelta(days=2), tick=False):
        response = api_as(receptionist).post("/api/v1/bookings/", booking_body(studio, MONDAY_10_UTC))

    assert response.status_code == 201
