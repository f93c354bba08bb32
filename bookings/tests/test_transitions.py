from datetime import timedelta

import pytest
import time_machine

from bookings import selectors, services
from bookings.models import Booking, BookingState
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, PhotographerFactory, WaitlistEntryFactory
from events.models import Event
from photostudio.errors import ConcurrentChange, InvalidTransition, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

LEGAL = {
    (BookingState.PENDING, BookingState.CONFIRMED),
    (BookingState.PENDING, BookingState.CANCELLED),
    (BookingState.CONFIRMED, BookingState.IN_PROGRESS),
    (BookingState.CONFIRMED, BookingState.CANCELLED),
    (BookingState.CONFIRMED, BookingState.NO_SHOW),
    (BookingState.IN_PROGRESS, BookingState.COMPLETED),
}
ILLEGAL = sorted({(source, target) for source in BookingState for target in BookingState} - LEGAL)
AFTER_START = MONDAY_10_UTC + timedelta(minutes=20)


@pytest.fixture
def after_start():
    with time_machine.travel(AFTER_START, tick=False):
        yield


def move(booking, target, actor, reason=""):
    return services.transition_booking(booking=booking, target_state=target, actor=actor, reason=reason)


def stored_state(booking):
    return Booking.objects.get(pk=booking.pk).state


@pytest.mark.usefixtures("after_start")
@pytest.mark.parametrize(("source", "target"), sorted(LEGAL))
def test_every_legal_transition_moves_the_booking_and_records_who_and_why(manager, source, target):
    booking = BookingFactory(state=source, start=MONDAY_10_UTC)

    move(booking, target, manager, reason="  Because the studio said so ")

    assert stored_state(booking) == target
    event = Event.objects.get(type="booking.state_changed", aggregate_id=str(booking.pk))
    assert event.actor == manager
    assert {key: event.payload[key] for key in ("from", "to", "reason")} == {
        "from": source,
        "to": target,
        "reason": "Because the studio said so",
    }


@pytest.mark.usefixtures("after_start")
@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_every_illegal_transition_is_refused(admin, source, target):
    booking = BookingFactory(state=source, start=MONDAY_10_UTC)

    with pytest.raises(InvalidTransition) as raised:
        move(booking, target, admin, reason="trying")

    assert raised.value.code == "invalid_transition"
    assert (raised.value.details["from"], raised.value.details["to"]) == (source, target)
    assert stored_state(booking) == source
    assert not Event.objects.filter(type="booking.state_changed").exists()


def test_illegal_move_names_the_states_and_what_is_possible(manager):
    booking = BookingFactory(state=BookingState.PENDING)

    with pytest.raises(InvalidTransition) as raised:
        move(booking, BookingState.COMPLETED, manager)

    assert str(raised.value) == "A pending booking cannot become completed."
    assert raised.value.details["allowed"] == ["cancelled", "confirmed"]


def test_unknown_state_is_refused(manager):
    booking = BookingFactory(state=BookingState.PENDING)

    with pytest.raises(InvalidTransition) as raised:
        move(booking, "archived", manager)

    assert str(raised.value) == "'archived' is not a booking state."
    assert stored_state(booking) == BookingState.PENDING


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancelling_needs_a_reason(receptionist, reason):
    booking = BookingFactory(state=BookingState.CONFIRMED)

    with pytest.raises(ValidationFailed) as raised:
        move(booking, BookingState.CANCELLED, receptionist, reason=reason)

    assert list(raised.value.details) == ["reason"]
    assert stored_state(booking) == BookingState.CONFIRMED


def test_no_show_before_the_start_time_is_refused(receptionist):
    booking = BookingFactory(state=BookingState.CONFIRMED, start=MONDAY_10_UTC)

    with (
        time_machine.travel(MONDAY_10_UTC - timedelta(minutes=1), tick=False),
        pytest.raises(InvalidTransition) as raised,
    ):
        move(booking, BookingState.NO_SHOW, receptionist)

    assert str(raised.value) == "The booking can become no-show only once the booking's start time has passed."
    assert stored_state(booking) == BookingState.CONFIRMED


def test_no_show_can_be_marked_from_the_start_time(receptionist):
    booking = BookingFactory(state=BookingState.CONFIRMED, start=MONDAY_10_UTC)

    with time_machine.travel(MONDAY_10_UTC, tick=False):
        move(booking, BookingState.NO_SHOW, receptionist)

    assert stored_state(booking) == BookingState.NO_SHOW


# Who may fire which transition: the permission matrix, with the assigned photographer.
SOURCE_OF = {
    BookingState.CONFIRMED: BookingState.PENDING,
    BookingState.CANCELLED: BookingState.CONFIRMED,
    BookingState.NO_SHOW: BookingState.CONFIRMED,
    BookingState.IN_PROGRESS: BookingState.CONFIRMED,
    BookingState.COMPLETED: BookingState.IN_PROGRESS,
}
MAY = {
    "admin": set(SOURCE_OF),
    "manager": set(SOURCE_OF),
    "receptionist": {BookingState.CONFIRMED, BookingState.CANCELLED, BookingState.NO_SHOW},
    "photographer": {BookingState.IN_PROGRESS, BookingState.COMPLETED},
}


@pytest.mark.usefixtures("after_start")
@pytest.mark.parametrize("role", sorted(MAY))
@pytest.mark.parametrize("target", sorted(SOURCE_OF))
def test_transition_permission_matrix(request, photographer, role, target):
    actor = request.getfixturevalue(role)
    booking = BookingFactory(state=SOURCE_OF[target], start=MONDAY_10_UTC, photographer=photographer)

    if target in MAY[role]:
        move(booking, target, actor, reason="client called")
        assert stored_state(booking) == target
    else:
        with pytest.raises(PermissionDenied):
            move(booking, target, actor, reason="client called")
        assert stored_state(booking) == SOURCE_OF[target]


@pytest.mark.parametrize(("source", "target"), [("confirmed", "in_progress"), ("in_progress", "completed")])
def test_photographer_cannot_run_someone_else_s_session(photographer, source, target):
    booking = BookingFactory(state=source, photographer=PhotographerFactory())

    with pytest.raises(PermissionDenied) as raised:
        move(booking, target, photographer)

    assert str(raised.value) == "Only the photographer assigned to this booking or a manager may do this."
    assert stored_state(booking) == source


def test_photographer_cannot_start_a_session_nobody_is_assigned_to(photographer):
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=None)

    with pytest.raises(PermissionDenied):
        move(booking, BookingState.IN_PROGRESS, photographer)


@pytest.mark.usefixtures("after_start")
def test_manager_can_start_a_session_nobody_is_assigned_to(manager):
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=None)

    move(booking, BookingState.IN_PROGRESS, manager)

    assert stored_state(booking) == BookingState.IN_PROGRESS


def test_transition_of_a_stale_copy_is_refused_as_a_concurrent_change(receptionist):
    booking = BookingFactory(state=BookingState.PENDING)
    stale = Booking.objects.get(pk=booking.pk)
    move(booking, BookingState.CONFIRMED, receptionist)

    with pytest.raises(ConcurrentChange) as raised:
        move(stale, BookingState.CANCELLED, receptionist, reason="double click")

    assert raised.value.code == "concurrent_change"
    assert stored_state(booking) == BookingState.CONFIRMED
    assert Event.objects.filter(type="booking.state_changed").count() == 1


def test_transition_of_a_stale_copy_from_get_booking_is_refused_as_a_concurrent_change(receptionist):
    booking = BookingFactory(state=BookingState.PENDING, photographer=None)
    stale = selectors.get_booking(viewer=receptionist, pk=booking.pk)
    move(booking, BookingState.CONFIRMED, receptionist)

    with pytest.raises(ConcurrentChange):
        move(stale, BookingState.CANCELLED, receptionist, reason="double click")

    assert stale.photographer is None
    assert stored_state(booking) == BookingState.CONFIRMED


def test_a_cancellation_from_a_copy_read_before_a_move_still_counts_as_a_newer_revision(receptionist):
    # Calendars replace their copy of a booking only when its revision (the feed's SEQUENCE) grows.
    booking = BookingFactory(state=BookingState.PENDING)
    read_before_the_move = Booking.objects.get(pk=booking.pk)
    services.reschedule_booking(
        booking=booking,
        actor=receptionist,
        start=booking.start + timedelta(hours=1),
        end=booking.end + timedelta(hours=1),
    )
    moved = Booking.objects.get(pk=booking.pk).revision

    move(read_before_the_move, BookingState.CANCELLED, receptionist, reason="Client called off")

    assert Booking.objects.get(pk=booking.pk).revision == moved + 1


def test_a_cancellation_from_a_copy_read_before_a_move_frees_the_slot_the_booking_held(receptionist):
    booking = BookingFactory(state=BookingState.PENDING)
    read_before_the_move = Booking.objects.get(pk=booking.pk)
    later = MONDAY_10_UTC + timedelta(hours=4)
    services.reschedule_booking(booking=booking, actor=receptionist, start=later, end=later + timedelta(hours=2))
    waiting = WaitlistEntryFactory(space=booking.space, start=later)

    move(read_before_the_move, BookingState.CANCELLED, receptionist, reason="Client called off")

    waiting.refresh_from_db()
    assert waiting.slot_opened_at is not None
    cancelled = Event.objects.get(type="booking.state_changed")
    assert Event.objects.filter(type="waitlist.slot_opened", aggregate_id=str(waiting.pk)).exists(), cancelled


def test_transition_records_who_changed_the_booking(receptionist):
    booking = BookingFactory(state=BookingState.PENDING)

    move(booking, BookingState.CONFIRMED, receptionist)

    assert Booking.objects.get(pk=booking.pk).updated_by == receptionist
