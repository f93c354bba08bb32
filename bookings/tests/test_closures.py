"""Closures: recording and removing them, bookings refused over them, free slots around them."""

from datetime import UTC, date, datetime, timedelta

import pytest

from bookings import selectors, services
from bookings.models import BookingState, Closure, WaitlistEntry, WaitlistStatus, local_instant
from bookings.tests.factories import (
    BookingFactory,
    ClientFactory,
    ClosureFactory,
    SpaceFactory,
    WaitlistEntryFactory,
)
from events.models import Event
from photostudio.errors import BookingOverlap, NotFound, PermissionDenied, SpaceClosed, ValidationFailed

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)


def at(clock, day=MONDAY):
    return local_instant(day, clock)


def closed(space, start, end, day=MONDAY, reason="Floor repainting"):
    return ClosureFactory(space=space, start=at(start, day), end=at(end, day), reason=reason)


def book(actor, space, start, end, day=MONDAY):
    return services.create_booking(
        actor=actor, space=space, client=ClientFactory(), start=at(start, day), end=at(end, day), people_count=2
    )


# --- create_closure -----------------------------------------------------------------------------


def test_manager_records_a_closure_of_one_space_with_its_event(manager, studio):
    recorded = services.create_closure(
        actor=manager, space=studio, start=at("12:00"), end=at("16:00"), reason="  Floor repainting "
    )

    closure = Closure.objects.get()
    assert recorded.closure == closure
    assert (closure.space, closure.reason, closure.created_by) == (studio, "Floor repainting", manager)
    event = Event.objects.get(type="closure.created")
    assert (event.aggregate_id, event.actor) == (str(closure.pk), manager)
    assert event.payload == {
        "id": closure.pk,
        "space": "test_studio",
        "start": at("12:00").isoformat(),
        "end": at("16:00").isoformat(),
        "reason": "Floor repainting",
        "affected_bookings": [],
        "waiting_entries": [],
    }


def test_closure_without_a_space_closes_the_whole_studio(manager):
    recorded = services.create_closure(actor=manager, start=at("00:00"), end=at("24:00"), reason="Holidays")

    assert recorded.closure.space is None
    assert recorded.closure.where == "The studio"


def test_closure_over_bookings_keeps_them_and_names_them(manager, studio):
    other_space = SpaceFactory()
    inside = BookingFactory(space=studio, start=at("13:00"), end=at("14:00"), state=BookingState.CONFIRMED)
    buffer_reaches_in = BookingFactory(space=studio, start=at("10:00"), end=at("11:50"))
    BookingFactory(space=studio, start=at("14:00"), end=at("15:00"), state=BookingState.CANCELLED)
    BookingFactory(space=studio, start=at("16:00"), end=at("17:00"))
    BookingFactory(space=other_space, start=at("13:00"), end=at("14:00"))

    recorded = services.create_closure(
        actor=manager, space=studio, start=at("12:00"), end=at("16:00"), reason="Maintenance"
    )

    assert recorded.affected_bookings == [buffer_reaches_in, inside]
    inside.refresh_from_db()
    assert inside.state == BookingState.CONFIRMED
    event = Event.objects.get(type="closure.created")
    assert event.payload["affected_bookings"] == [buffer_reaches_in.pk, inside.pk]


def test_closure_over_waiting_clients_slots_names_their_entries(manager, studio):
    waiting = WaitlistEntryFactory(space=studio, start=at("15:00"), end=at("17:00"))
    buffer_reaches_in = WaitlistEntryFactory(space=studio, start=at("11:00"), end=at("11:50"))  # buffer reaches in
    WaitlistEntryFactory(space=studio, start=at("17:00"), end=at("18:00"))
    WaitlistEntryFactory(space=SpaceFactory(), start=at("13:00"), end=at("14:00"))
    WaitlistEntryFactory(space=studio, start=at("13:00"), end=at("14:00"), status=WaitlistStatus.WITHDRAWN)

    recorded = services.create_closure(actor=manager, space=studio, start=at("12:00"), end=at("16:00"), reason="Roof")

    assert recorded.waiting_entries == [buffer_reaches_in, waiting]
    assert WaitlistEntry.objects.get(pk=waiting.pk).status == WaitlistStatus.WAITING
    event = Event.objects.get(type="closure.created")
    assert event.payload["waiting_entries"] == [buffer_reaches_in.pk, waiting.pk]


def test_whole_studio_closure_names_bookings_of_every_space(manager, studio):
    elsewhere = BookingFactory(space=SpaceFactory(), start=at("13:00"), end=at("14:00"))
    here = BookingFactory(space=studio, start=at("12:30"), end=at("13:30"))

    recorded = services.create_closure(actor=manager, start=at("12:00"), end=at("16:00"), reason="Holidays")

    assert recorded.affected_bookings == [here, elsewhere]


def test_receptionist_cannot_record_a_closure(receptionist, studio):
    with pytest.raises(PermissionDenied):
        services.create_closure(actor=receptionist, space=studio, start=at("12:00"), end=at("16:00"), reason="x")

    assert not Closure.objects.exists()


@pytest.mark.parametrize(
    ("start", "end", "reason", "field"),
    [
        ("16:00", "12:00", "Maintenance", "end"),
        ("12:00", "12:00", "Maintenance", "end"),
        ("12:00", "16:00", " ", "reason"),
    ],
)
def test_closure_needs_an_end_after_its_start_and_a_reason(manager, studio, start, end, reason, field):
    with pytest.raises(ValidationFailed) as refused:
        services.create_closure(actor=manager, space=studio, start=at(start), end=at(end), reason=reason)

    assert field in refused.value.details
    assert not Event.objects.filter(type="closure.created").exists()


def test_closure_needs_times_with_a_time_zone(manager, studio):
    with pytest.raises(ValidationFailed) as refused:
        services.create_closure(
            actor=manager, space=studio, start=at("12:00").replace(tzinfo=None), end=at("16:00"), reason="x"
        )

    assert "start" in refused.value.details


# --- delete_closure -----------------------------------------------------------------------------


def test_manager_removes_a_closure_with_its_event(manager, studio):
    closure = closed(studio, "12:00", "16:00")
    closure_id = closure.pk

    services.delete_closure(closure=closure, actor=manager)

    assert not Closure.objects.exists()
    event = Event.objects.get(type="closure.deleted")
    assert (event.aggregate_id, event.actor, event.payload["reason"]) == (str(closure_id), manager, "Floor repainting")


def test_photographer_cannot_remove_a_closure(photographer, studio):
    closure = closed(studio, "12:00", "16:00")

    with pytest.raises(PermissionDenied):
        services.delete_closure(closure=closure, actor=photographer)

    assert Closure.objects.filter(pk=closure.pk).exists()


def test_removing_a_closure_removed_meanwhile_says_so(manager, studio):
    closure = closed(studio, "12:00", "16:00")
    Closure.objects.filter(pk=closure.pk).delete()

    with pytest.raises(NotFound):
        services.delete_closure(closure=closure, actor=manager)

    assert not Event.objects.filter(type="closure.deleted").exists()


# --- bookings refused over a closure ------------------------------------------------------------


def test_booking_inside_a_closure_is_refused_naming_it(receptionist, studio):
    closure = closed(studio, "12:00", "16:00")

    with pytest.raises(SpaceClosed) as refused:
        book(receptionist, studio, "13:00", "14:00")

    assert refused.value.code == "space_closed"
    assert refused.value.details == {
        "closure": {
            "id": closure.pk,
            "space": "test_studio",
            "start": at("12:00").isoformat(),
            "end": at("16:00").isoformat(),
            "reason": "Floor repainting",
        }
    }
    assert "Floor repainting" in refused.value.message
    assert f"closure #{closure.pk}" in refused.value.message


def test_booking_whose_clean_up_buffer_reaches_into_a_closure_is_refused(receptionist, studio):
    closed(studio, "12:00", "16:00")

    with pytest.raises(SpaceClosed):
        book(receptionist, studio, "10:00", "11:50")


def test_booking_ending_one_buffer_before_a_closure_is_taken(receptionist, studio):
    closed(studio, "12:00", "16:00")

    booking = book(receptionist, studio, "10:00", "11:45")

    assert booking.blocks_until == at("12:00")


def test_booking_may_start_the_moment_a_closure_ends(receptionist, studio):
    closed(studio, "12:00", "16:00")

    assert book(receptionist, studio, "16:00", "17:00").start == at("16:00")


def test_closure_of_another_space_does_not_refuse_a_booking(receptionist, studio):
    closed(SpaceFactory(), "12:00", "16:00")

    assert book(receptionist, studio, "13:00", "14:00").space == studio


def test_whole_studio_closure_refuses_a_booking_of_any_space(receptionist, studio):
    closed(None, "00:00", "24:00", reason="Holidays")

    with pytest.raises(SpaceClosed) as refused:
        book(receptionist, studio, "13:00", "14:00")

    assert refused.value.details["closure"]["space"] is None
    assert refused.value.message.startswith("The studio is closed")


def test_a_closure_refusal_tells_the_two_half_past_twos_of_the_night_clocks_go_back_apart(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(name="Night Studio", opening_hours={"sun": ["00:00", "24:00"]}, buffer_minutes=0)
    # From the first 02:30 (CEST) to the second (CET) of Sunday 25 October 2026.
    closure = ClosureFactory(
        space=night,
        start=datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        end=datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        reason="Fire drill",
    )

    with pytest.raises(SpaceClosed) as refused:
        services.create_booking(
            actor=receptionist,
            space=night,
            client=ClientFactory(),
            start=datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
            end=datetime(2026, 10, 25, 2, 0, tzinfo=UTC),
            people_count=2,
        )

    assert refused.value.message.startswith(
        f"Night Studio is closed on Sun 25 Oct 2026 from 02:30 CEST to 02:30 CET for “Fire drill” "
        f"(closure #{closure.pk})"
    )


def test_closure_is_named_before_an_overlapping_booking(receptionist, studio):
    BookingFactory(space=studio, start=at("13:00"), end=at("14:00"))
    closed(studio, "12:00", "16:00")

    with pytest.raises(SpaceClosed):
        book(receptionist, studio, "13:00", "14:00")


def test_rescheduling_into_a_closure_is_refused_and_changes_nothing(receptionist, studio):
    booking = BookingFactory(space=studio, start=at("10:00"), end=at("11:00"))
    closed(studio, "12:00", "16:00")

    with pytest.raises(SpaceClosed):
        services.reschedule_booking(booking=booking, actor=receptionist, start=at("12:30"), end=at("13:30"))

    booking.refresh_from_db()
    assert (booking.start, booking.end) == (at("10:00"), at("11:00"))
    assert not Event.objects.filter(type="booking.rescheduled").exists()


def test_moving_to_a_closed_space_is_refused(receptionist, studio):
    closed_space = SpaceFactory()
    closed(closed_space, "08:00", "22:00")
    booking = BookingFactory(space=studio, start=at("10:00"), end=at("11:00"))

    with pytest.raises(SpaceClosed):
        services.amend_booking(
            booking=booking, actor=receptionist, move={"start": at("10:00"), "end": at("11:00"), "space": closed_space}
        )


def test_booking_inside_a_closure_may_still_get_new_notes_and_be_cancelled(receptionist, studio):
    booking = BookingFactory(space=studio, start=at("13:00"), end=at("14:00"))
    closed(studio, "12:00", "16:00")

    services.update_booking(booking=booking, actor=receptionist, notes="Client told about the repainting")
    services.transition_booking(
        booking=booking, target_state=BookingState.CANCELLED, actor=receptionist, reason="Closed"
    )

    assert booking.state == BookingState.CANCELLED


def test_undoing_a_cancellation_into_a_closure_is_refused(manager, studio):
    booking = BookingFactory(space=studio, start=at("13:00"), end=at("14:00"), state=BookingState.CONFIRMED)
    services.transition_booking(booking=booking, target_state=BookingState.CANCELLED, actor=manager, reason="Closed")
    closed(studio, "12:00", "16:00")

    with pytest.raises(SpaceClosed):
        services.transition_booking(booking=booking, target_state=BookingState.CONFIRMED, actor=manager, reason="Oops")

    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED


def test_booking_after_a_closure_was_removed_is_taken(manager, receptionist, studio):
    closure = closed(studio, "12:00", "16:00")
    services.delete_closure(closure=closure, actor=manager)

    assert book(receptionist, studio, "13:00", "14:00").start == at("13:00")


def test_overlap_is_still_refused_beside_a_closure(receptionist, studio):
    closed(studio, "16:00", "18:00")
    BookingFactory(space=studio, start=at("13:00"), end=at("14:00"))

    with pytest.raises(BookingOverlap):
        book(receptionist, studio, "13:30", "14:30")


# --- free slots ---------------------------------------------------------------------------------


def test_free_slots_leave_out_a_closure_and_the_buffer_before_it(studio):
    closed(studio, "12:00", "16:00")

    slots = selectors.free_slots(space=studio, day=MONDAY)

    assert [(slot.start, slot.end) for slot in slots] == [(at("08:00"), at("11:45")), (at("16:00"), at("22:00"))]


def test_free_slots_leave_out_the_whole_studio_closure(studio):
    closed(None, "00:00", "24:00", reason="Holidays")

    assert selectors.free_slots(space=studio, day=MONDAY) == []


def test_free_slots_ignore_another_space_closure(studio):
    closed(SpaceFactory(), "12:00", "16:00")

    assert [(slot.start, slot.end) for slot in selectors.free_slots(space=studio, day=MONDAY)] == [
        (at("08:00"), at("22:00"))
    ]


def test_free_slots_follow_a_closure_recorded_and_removed_after_they_were_read(manager, studio):
    selectors.free_slots(space=studio, day=MONDAY)

    recorded = services.create_closure(actor=manager, space=studio, start=at("12:00"), end=at("16:00"), reason="x")
    assert len(selectors.free_slots(space=studio, day=MONDAY)) == 2

    services.delete_closure(closure=recorded.closure, actor=manager)
    assert len(selectors.free_slots(space=studio, day=MONDAY)) == 1


def test_free_slots_merge_a_closure_and_bookings(studio):
    BookingFactory(space=studio, start=at("09:00"), end=at("10:00"))
    closed(studio, "09:30", "12:00")

    slots = selectors.free_slots(space=studio, day=MONDAY)

    assert [(slot.start, slot.end) for slot in slots] == [(at("08:00"), at("08:45")), (at("12:00"), at("22:00"))]


def test_slots_around_take_closed_times_of_loaded_closures(studio):
    closures = [closed(studio, "12:00", "16:00"), closed(SpaceFactory(), "08:00", "22:00")]

    slots = selectors.slots_around(
        space=studio, day=MONDAY, held=selectors.closed_times(space=studio, closures=closures)
    )

    assert [(slot.start, slot.end) for slot in slots] == [(at("08:00"), at("11:45")), (at("16:00"), at("22:00"))]


def test_closures_between_give_a_space_its_own_and_the_studio_closures(receptionist, studio):
    own = closed(studio, "12:00", "16:00")
    studio_wide = closed(None, "18:00", "20:00")
    closed(SpaceFactory(), "12:00", "16:00")
    closed(studio, "12:00", "16:00", day=MONDAY + timedelta(days=1))

    found = selectors.closures_for_day(viewer=receptionist, day=MONDAY, space=studio)

    assert found == [own, studio_wide]
