"""Undoing a booking's last state change: who may, until when, with a reason, into a free slot."""

from datetime import timedelta

import pytest
import time_machine

from bookings import services
from bookings.models import Booking, BookingState
from bookings.tests.api import api_as
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events.models import Event
from photostudio.errors import BookingOverlap, InvalidTransition, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

CHANGED_AT = MONDAY_10_UTC + timedelta(minutes=20)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(CHANGED_AT, tick=False) as traveller:
        yield traveller


def move(booking, target, actor, reason=""):
    return services.transition_booking(booking=booking, target_state=target, actor=actor, reason=reason)


def stored(booking):
    return Booking.objects.get(pk=booking.pk)


def test_the_person_who_confirmed_can_undo_it_with_a_reason(receptionist):
    booking = BookingFactory(state=BookingState.PENDING)
    move(booking, BookingState.CONFIRMED, receptionist)

    move(stored(booking), BookingState.PENDING, receptionist, reason="Wrong booking")

    assert stored(booking).state == BookingState.PENDING
    event = Event.objects.filter(type="booking.state_changed").order_by("id").last()
    assert event.payload == {
        "from": "confirmed",
        "to": "pending",
        "reason": "Wrong booking",
        "transition": "undo_to_pending",
        "undo": True,
    }
    assert event.actor == receptionist


def test_an_undo_needs_a_reason(receptionist):
    booking = BookingFactory(state=BookingState.PENDING)
    move(booking, BookingState.CONFIRMED, receptionist)

    with pytest.raises(ValidationFailed) as raised:
        move(stored(booking), BookingState.PENDING, receptionist, reason="  ")

    assert raised.value.details == {"reason": ["Give a reason for undoing the last change."]}
    assert stored(booking).state == BookingState.CONFIRMED


def test_the_person_who_changed_it_may_undo_only_within_the_undo_window(receptionist, clock, settings):
    settings.BOOKING_UNDO_MINUTES = 15
    booking = BookingFactory(state=BookingState.PENDING)
    move(booking, BookingState.CONFIRMED, receptionist)
    clock.shift(timedelta(minutes=16))

    with pytest.raises(PermissionDenied) as raised:
        move(stored(booking), BookingState.PENDING, receptionist, reason="Too late")

    assert "within 15 minutes" in raised.value.message
    offered = services.transitions_allowed(booking=stored(booking), actor=receptionist)
    assert BookingState.PENDING not in [move.target for move in offered]


def test_the_person_who_changed_it_may_still_undo_at_the_last_moment_of_the_window(receptionist, clock, settings):
    settings.BOOKING_UNDO_MINUTES = 15
    booking = BookingFactory(state=BookingState.PENDING)
    move(booking, BookingState.CONFIRMED, receptionist)
    clock.shift(timedelta(minutes=15))

    move(stored(booking), BookingState.PENDING, receptionist, reason="Just in time")

    assert stored(booking).state == BookingState.PENDING


def test_someone_else_at_the_front_desk_may_not_undo_it(receptionist):
    booking = BookingFactory(state=BookingState.PENDING)
    move(booking, BookingState.CONFIRMED, receptionist)
    colleague = EmployeeFactory(role=Role.RECEPTIONIST)

    with pytest.raises(PermissionDenied):
        move(stored(booking), BookingState.PENDING, colleague, reason="Not mine")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_undo_any_change_at_any_time(receptionist, clock, role):
    booking = BookingFactory(state=BookingState.PENDING)
    move(booking, BookingState.CONFIRMED, receptionist)
    clock.shift(timedelta(days=3))

    move(stored(booking), BookingState.PENDING, EmployeeFactory(role=role), reason="Client never confirmed")

    assert stored(booking).state == BookingState.PENDING


def test_a_cancelled_booking_is_reinstated_by_undoing_the_cancellation(receptionist):
    booking = BookingFactory(state=BookingState.CONFIRMED)
    move(booking, BookingState.CANCELLED, receptionist, reason="Client called")

    move(stored(booking), BookingState.CONFIRMED, receptionist, reason="Cancelled the wrong booking")

    assert stored(booking).state == BookingState.CONFIRMED


def test_reinstating_needs_the_slot_to_be_free(receptionist):
    booking = BookingFactory(state=BookingState.CONFIRMED, start=MONDAY_10_UTC)
    move(booking, BookingState.CANCELLED, receptionist, reason="Client called")
    taken = BookingFactory(space=booking.space, start=MONDAY_10_UTC + timedelta(hours=1))

    with pytest.raises(BookingOverlap) as raised:
        move(stored(booking), BookingState.CONFIRMED, receptionist, reason="Cancelled the wrong booking")

    assert raised.value.details["conflicting_booking"]["id"] == taken.pk
    assert stored(booking).state == BookingState.CANCELLED


def test_a_completed_session_goes_back_to_in_progress(manager):
    booking = BookingFactory(state=BookingState.IN_PROGRESS)
    move(booking, BookingState.COMPLETED, manager)

    move(stored(booking), BookingState.IN_PROGRESS, manager, reason="Completed too soon")

    assert stored(booking).state == BookingState.IN_PROGRESS


def test_only_the_last_change_is_undone(manager):
    booking = BookingFactory(state=BookingState.PENDING)
    move(booking, BookingState.CONFIRMED, manager)
    move(stored(booking), BookingState.IN_PROGRESS, manager)

    with pytest.raises(InvalidTransition):
        move(stored(booking), BookingState.PENDING, manager, reason="Two steps back")

    assert stored(booking).state == BookingState.IN_PROGRESS


def test_an_undo_is_offered_only_towards_the_previous_state(manager):
    booking = BookingFactory(state=BookingState.CANCELLED, previous_state=BookingState.PENDING)

    offered = [
        (t.target, t.custom.get("undo", False)) for t in services.transitions_allowed(booking=booking, actor=manager)
    ]

    assert offered == [("pending", True)]


def test_api_lists_the_undo_and_carries_it_out(receptionist):
    booking = BookingFactory(state=BookingState.PENDING)
    api = api_as(receptionist)
    confirmed = api.post(f"/api/v1/bookings/{booking.pk}/state", {"target_state": "confirmed"}).json()

    assert {"target_state": "pending", "transition": "undo_to_pending", "reason_required": True, "undo": True} in (
        confirmed["allowed_transitions"]
    )
    response = api.post(f"/api/v1/bookings/{booking.pk}/state", {"target_state": "pending", "reason": "Oops"})
    assert response.status_code == 200
    assert response.json()["state"] == "pending"


def test_api_refuses_an_undo_into_a_taken_slot_with_booking_overlap(manager):
    booking = BookingFactory(state=BookingState.CANCELLED, previous_state=BookingState.CONFIRMED)
    BookingFactory(space=booking.space, start=booking.start)

    response = api_as(manager).post(
        f"/api/v1/bookings/{booking.pk}/state", {"target_state": "confirmed", "reason": "Reinstate"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "booking_overlap"


def test_history_shows_the_undo(receptionist):
    booking = BookingFactory(state=BookingState.PENDING)
    move(booking, BookingState.CONFIRMED, receptionist)
    move(stored(booking), BookingState.PENDING, receptionist, reason="Wrong booking")

    body = api_as(receptionist).get(f"/api/v1/bookings/{booking.pk}/history").json()

    assert body[-1]["payload"]["undo"] is True


@pytest.mark.postgres
def test_an_undo_into_a_taken_slot_is_refused_by_the_database_naming_the_booking(manager):
    booking = BookingFactory(state=BookingState.CANCELLED, previous_state=BookingState.PENDING)
    taken = BookingFactory(space=booking.space, start=booking.start)

    with pytest.raises(BookingOverlap) as raised:
        move(booking, BookingState.PENDING, manager, reason="Reinstate")

    assert raised.value.details["conflicting_booking"]["id"] == taken.pk
    assert stored(booking).state == BookingState.CANCELLED
