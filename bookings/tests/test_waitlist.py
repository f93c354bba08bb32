"""The waitlist's services and selector: putting a client on it when the slot is taken, noting
when the slot opens, booking, withdrawing and expiring entries."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import history, selectors, services, tasks
from bookings.models import Booking, BookingState, WaitlistEntry, WaitlistStatus
from bookings.tests.factories import (
    MONDAY_10_UTC,
    BookingFactory,
    ClientFactory,
    ClosureFactory,
    SpaceFactory,
    WaitlistEntryFactory,
)
from events.models import Event
from photostudio.errors import (
    AlreadyOnWaitlist,
    BookingOverlap,
    PermissionDenied,
    ValidationFailed,
    WaitlistEntryClosed,
    WaitlistSlotFree,
)

pytestmark = pytest.mark.django_db

NOW = MONDAY_10_UTC - timedelta(days=3)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def taken(studio):
    """A pending booking of the studio, Monday 10:00-12:00."""
    return BookingFactory(space=studio, start=MONDAY_10_UTC)


def add(actor, space, *, start=MONDAY_10_UTC, hours=2, **fields):
    arguments = {
        "client_name": "Ada Lovelace",
        "client_phone": "+14155550100",
        "people_count": 2,
        "notes": "Wants the morning light",
        **fields,
    }
    return services.add_to_waitlist(
        actor=actor, space=space, start=start, end=start + timedelta(hours=hours), **arguments
    )


def cancel(booking, actor):
    return services.transition_booking(
        booking=booking, target_state=BookingState.CANCELLED, actor=actor, reason="Client called off"
    )


def events_of(entry):
    return list(
        Event.objects.filter(aggregate_type="bookings.waitlistentry", aggregate_id=str(entry.pk))
        .order_by("id")
        .values_list("type", flat=True)
    )


def test_a_client_is_put_on_the_waitlist_for_a_taken_slot(receptionist, studio, taken):
    entry = add(receptionist, studio)

    stored = WaitlistEntry.objects.get(pk=entry.pk)
    assert stored.status == WaitlistStatus.WAITING
    assert stored.client.full_name == "Ada Lovelace"
    assert (stored.start, stored.end) == (MONDAY_10_UTC, MONDAY_10_UTC + timedelta(hours=2))
    assert stored.blocks_until == stored.end + studio.buffer
    assert stored.created_by == receptionist
    event = Event.objects.get(type="waitlist.added")
    assert event.actor == receptionist
    assert event.payload == {
        "space": studio.slug,
        "start": MONDAY_10_UTC.isoformat(),
        "end": (MONDAY_10_UTC + timedelta(hours=2)).isoformat(),
        "client": stored.client_id,
        "people_count": 2,
    }


def test_a_known_phone_puts_its_client_on_the_waitlist(receptionist, studio, taken):
    known = ClientFactory(phone="+14155550100", full_name="Grace Hopper")

    entry = add(receptionist, studio)

    assert entry.client == known


def test_a_free_slot_is_booked_not_waited_for(receptionist, studio):
    with pytest.raises(WaitlistSlotFree):
        add(receptionist, studio)

    assert not WaitlistEntry.objects.exists()


def test_the_waitlist_keeps_the_booking_rules(receptionist, studio, taken):
    with pytest.raises(ValidationFailed) as raised:
        add(receptionist, studio, people_count=studio.capacity + 1)

    assert "people_count" in raised.value.details
    assert not WaitlistEntry.objects.exists()


def test_a_client_waits_once_for_the_same_slot(receptionist, studio, taken):
    first = add(receptionist, studio)

    with pytest.raises(AlreadyOnWaitlist) as raised:
        add(receptionist, studio, start=MONDAY_10_UTC + timedelta(hours=1))

    assert raised.value.details == {"waitlist_entry": first.pk}


def test_photographers_do_not_keep_the_waitlist(photographer, studio, taken):
    with pytest.raises(PermissionDenied):
        add(photographer, studio)


def test_photographers_do_not_withdraw_waiting_clients(receptionist, photographer, studio, taken):
    entry = add(receptionist, studio)

    with pytest.raises(PermissionDenied):
        services.withdraw_waitlist_entry(entry=entry, actor=photographer, reason="Found elsewhere")

    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_a_waiting_entry_is_offered_once_its_slot_is_free(receptionist, studio, taken):
    entry = add(receptionist, studio)
    assert selectors.waitlist_openings(viewer=receptionist, now=NOW, limit=10) == []

    cancel(taken, receptionist)

    assert selectors.waitlist_openings(viewer=receptionist, now=NOW, limit=10) == [entry]


def test_a_booking_starting_as_the_slots_clean_up_ends_leaves_it_free(receptionist, studio, taken):
    entry = add(receptionist, studio)  # 10:00-12:00, cleaned up by 12:15
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=2, minutes=15))

    cancel(taken, receptionist)

    assert selectors.waitlist_openings(viewer=receptionist, now=NOW, limit=10) == [entry]


def test_a_slot_still_held_by_the_buffer_is_not_offered(receptionist, studio, taken):
    entry = add(receptionist, studio, start=MONDAY_10_UTC + timedelta(hours=2), hours=1)
    cancel(taken, receptionist)
    BookingFactory(space=studio, start=MONDAY_10_UTC - timedelta(hours=1), end=MONDAY_10_UTC + timedelta(hours=2))

    assert selectors.waitlist_openings(viewer=receptionist, now=NOW, limit=10) == []
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


@pytest.mark.parametrize("closed", ["the space", "the whole studio"])
def test_a_slot_freed_inside_a_closure_is_not_offered(receptionist, studio, taken, closed):
    entry = add(receptionist, studio)
    cancel(taken, receptionist)
    closure = ClosureFactory(
        space=studio if closed == "the space" else None,
        start=entry.blocks_until - timedelta(minutes=1),
        end=entry.blocks_until + timedelta(hours=1),
    )

    assert selectors.waitlist_openings(viewer=receptionist, now=NOW, limit=10) == []

    closure.delete()

    assert selectors.waitlist_openings(viewer=receptionist, now=NOW, limit=10) == [entry]


def test_openings_leave_out_started_slots_and_other_statuses(receptionist, studio, taken):
    entry = add(receptionist, studio)
    cancel(taken, receptionist)

    assert selectors.waitlist_openings(viewer=receptionist, now=MONDAY_10_UTC, limit=10) == []
    services.withdraw_waitlist_entry(entry=entry, actor=receptionist)
    assert selectors.waitlist_openings(viewer=receptionist, now=NOW, limit=10) == []


def test_a_space_that_takes_no_bookings_offers_no_opening(receptionist, studio, taken):
    add(receptionist, studio)
    cancel(taken, receptionist)
    studio.is_active = False
    studio.save()

    assert selectors.waitlist_openings(viewer=receptionist, now=NOW, limit=10) == []


def test_openings_are_one_query_however_many(receptionist, studio, django_assert_num_queries):
    for day in range(5):
        WaitlistEntryFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=day))

    receptionist.has_perm("bookings.view_waitlistentry")  # the permissions, read once per request

    with django_assert_num_queries(1):
        openings = selectors.waitlist_openings(viewer=receptionist, now=NOW, limit=10)
        assert [entry.client.full_name for entry in openings]

    assert len(openings) == 5


def test_booking_an_opened_slot_books_the_client_and_records_it(receptionist, studio, taken):
    entry = add(receptionist, studio)
    cancel(taken, receptionist)

    booked = services.book_waitlist_entry(entry=entry, actor=receptionist)

    stored = WaitlistEntry.objects.get(pk=entry.pk)
    assert stored.status == WaitlistStatus.BOOKED
    assert stored.resolved_at == NOW
    booking = stored.booking
    assert booked.booking == booking
    assert (booking.client, booking.space, booking.start, booking.end) == (entry.client, studio, entry.start, entry.end)
    assert (booking.state, booking.people_count, booking.notes) == (BookingState.PENDING, 2, "Wants the morning light")
    assert Event.objects.get(type="waitlist.booked").payload == {"booking": booking.pk}
    assert Event.objects.filter(type="booking.created", aggregate_id=str(booking.pk)).exists()


def test_booking_a_slot_still_taken_is_refused_and_the_client_keeps_waiting(receptionist, studio, taken):
    entry = add(receptionist, studio)

    with pytest.raises(BookingOverlap):
        services.book_waitlist_entry(entry=entry, actor=receptionist)

    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING
    assert Booking.objects.count() == 1


def test_an_entry_is_booked_once(receptionist, studio, taken):
    entry = add(receptionist, studio)
    cancel(taken, receptionist)
    services.book_waitlist_entry(entry=entry, actor=receptionist)

    with pytest.raises(WaitlistEntryClosed) as raised:
        services.book_waitlist_entry(entry=entry, actor=receptionist)

    assert raised.value.details == {"status": "booked"}
    assert Booking.objects.count() == 2


def test_a_slot_that_has_started_is_not_booked(receptionist, studio, taken, clock):
    entry = add(receptionist, studio)
    cancel(taken, receptionist)
    clock.move_to(MONDAY_10_UTC)

    with pytest.raises(WaitlistEntryClosed):
        services.book_waitlist_entry(entry=entry, actor=receptionist)


def test_booking_from_the_waitlist_needs_the_right_to_change_it(photographer, receptionist, studio, taken):
    entry = add(receptionist, studio)
    cancel(taken, receptionist)

    with pytest.raises(PermissionDenied):
        services.book_waitlist_entry(entry=entry, actor=photographer)


def test_a_withdrawn_entry_records_why_and_cannot_be_booked(receptionist, studio, taken):
    entry = add(receptionist, studio)

    services.withdraw_waitlist_entry(entry=entry, actor=receptionist, reason="Booked elsewhere ")

    stored = WaitlistEntry.objects.get(pk=entry.pk)
    assert (stored.status, stored.resolved_at, stored.booking) == (WaitlistStatus.WITHDRAWN, NOW, None)
    assert Event.objects.get(type="waitlist.withdrawn").payload == {"reason": "Booked elsewhere"}
    with pytest.raises(WaitlistEntryClosed):
        services.book_waitlist_entry(entry=stored, actor=receptionist)


def test_entries_whose_start_came_expire_once(receptionist, studio, taken):
    due = add(receptionist, studio)
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=1))
    later = add(receptionist, studio, start=MONDAY_10_UTC + timedelta(days=1), client_phone="+14155550101")

    expired = services.expire_waitlist(now=MONDAY_10_UTC)

    assert expired == [due]
    assert WaitlistEntry.objects.get(pk=due.pk).status == WaitlistStatus.EXPIRED
    assert WaitlistEntry.objects.get(pk=due.pk).resolved_at == MONDAY_10_UTC
    assert WaitlistEntry.objects.get(pk=later.pk).status == WaitlistStatus.WAITING
    assert services.expire_waitlist(now=MONDAY_10_UTC) == []
    event = Event.objects.get(type="waitlist.expired")
    assert (event.aggregate_id, event.actor) == (str(due.pk), None)


def test_a_cancellation_records_that_the_waiting_clients_slot_opened(receptionist, studio, taken):
    entry = add(receptionist, studio)
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=1))
    elsewhere = add(receptionist, studio, start=MONDAY_10_UTC + timedelta(days=1), client_phone="+14155550101")

    cancel(taken, receptionist)

    assert WaitlistEntry.objects.get(pk=entry.pk).slot_opened_at == NOW
    assert WaitlistEntry.objects.get(pk=elsewhere.pk).slot_opened_at is None
    assert events_of(entry) == ["waitlist.added", "waitlist.slot_opened"]


def test_a_slot_freed_after_it_started_is_not_recorded_as_opened(receptionist, studio, taken, clock):
    entry = add(receptionist, studio)
    clock.move_to(MONDAY_10_UTC + timedelta(minutes=30))

    cancel(taken, receptionist)

    assert WaitlistEntry.objects.get(pk=entry.pk).slot_opened_at is None
    assert events_of(entry) == ["waitlist.added"]


def test_the_slot_opened_event_names_who_freed_the_slot(receptionist, manager, studio, taken):
    add(receptionist, studio)

    cancel(taken, manager)

    assert Event.objects.get(type="waitlist.slot_opened").actor == manager


def test_a_booking_moved_away_records_that_the_slot_opened(receptionist, studio, taken):
    entry = add(receptionist, studio)

    services.reschedule_booking(
        booking=taken,
        actor=receptionist,
        start=MONDAY_10_UTC + timedelta(hours=4),
        end=MONDAY_10_UTC + timedelta(hours=6),
    )

    assert WaitlistEntry.objects.get(pk=entry.pk).slot_opened_at == NOW
    assert selectors.waitlist_openings(viewer=receptionist, now=NOW, limit=10) == [entry]


@pytest.mark.parametrize("closed", ["the space", "the whole studio"])
def test_removing_a_closure_records_that_the_slots_it_held_opened(receptionist, manager, studio, taken, closed):
    entry = add(receptionist, studio)
    held_later = BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=2))
    later = add(receptionist, studio, start=held_later.start, client_phone="+14155550101")
    cancel(held_later, receptionist)  # free, but its slot opened before the closure went
    closure = ClosureFactory(
        space=studio if closed == "the space" else None, start=MONDAY_10_UTC, end=MONDAY_10_UTC + timedelta(hours=4)
    )
    cancel(taken, receptionist)
    assert WaitlistEntry.objects.get(pk=entry.pk).slot_opened_at is None

    services.delete_closure(closure=closure, actor=manager)

    assert WaitlistEntry.objects.get(pk=entry.pk).slot_opened_at == NOW
    assert events_of(entry) == ["waitlist.added", "waitlist.slot_opened"]
    assert events_of(later) == ["waitlist.added", "waitlist.slot_opened"]  # once, when it opened
    opened = Event.objects.get(aggregate_id=str(entry.pk), type="waitlist.slot_opened")
    assert opened.actor == manager


def test_removing_a_closure_costs_as_many_queries_however_many_slots_it_opens(manager):
    def queries_to_remove_a_closure_over(waiting: int) -> int:
        space = SpaceFactory()
        closure = ClosureFactory(space=space, start=MONDAY_10_UTC, end=MONDAY_10_UTC + timedelta(days=1))
        for number in range(waiting):
            WaitlistEntryFactory(space=space, start=MONDAY_10_UTC + timedelta(hours=2 * number))
        with CaptureQueriesContext(connection) as queries:
            services.delete_closure(closure=closure, actor=manager)
        assert WaitlistEntry.objects.filter(space=space, slot_opened_at__isnull=False).count() == waiting
        return len(queries)

    queries_to_remove_a_closure_over(1)  # first, for what is looked up once per process (content types)
    assert queries_to_remove_a_closure_over(5) == queries_to_remove_a_closure_over(1)


def test_a_cancellation_tells_many_waiting_clients_in_as_many_queries_as_one(receptionist, django_assert_num_queries):
    def booking_waited_for_by(waiting: int) -> Booking:
        booking = BookingFactory(space=SpaceFactory(), start=MONDAY_10_UTC)
        WaitlistEntryFactory.create_batch(waiting, space=booking.space, start=booking.start)
        return booking

    cancel(booking_waited_for_by(1), receptionist)  # first, for what is looked up once per process
    one, many = booking_waited_for_by(1), booking_waited_for_by(6)
    with CaptureQueriesContext(connection) as queries_for_one:
        cancel(one, receptionist)

    with django_assert_num_queries(len(queries_for_one)):
        cancel(many, receptionist)

    assert WaitlistEntry.objects.filter(space=many.space, slot_opened_at=NOW).count() == 6


def test_the_slots_a_removed_closure_opens_are_recorded_in_the_order_of_their_start(manager, studio):
    closure = ClosureFactory(space=studio, start=MONDAY_10_UTC, end=MONDAY_10_UTC + timedelta(days=1))
    later, earlier, earliest = (
        WaitlistEntryFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=hours)) for hours in (6, 3, 0)
    )

    services.delete_closure(closure=closure, actor=manager)

    opened = Event.objects.filter(type="waitlist.slot_opened").order_by("id")
    assert [(event.aggregate_id, event.actor, event.payload) for event in opened] == [
        (str(entry.pk), manager, {"start": closure.start.isoformat(), "until": closure.end.isoformat()})
        for entry in (earliest, earlier, later)
    ]


def test_a_confirmation_opens_no_slot(receptionist, studio, taken):
    entry = add(receptionist, studio)

    services.transition_booking(booking=taken, target_state=BookingState.CONFIRMED, actor=receptionist)

    assert WaitlistEntry.objects.get(pk=entry.pk).slot_opened_at is None
    assert events_of(entry) == ["waitlist.added"]


def test_the_history_of_an_entry_reads_as_what_happened(receptionist, studio, taken):
    entry = add(receptionist, studio)
    cancel(taken, receptionist)
    services.book_waitlist_entry(entry=entry, actor=receptionist)

    titles = [line.title for line in history.describe(selectors.waitlist_history(entry=entry))]

    assert titles == ["Put on the waitlist", "Slot freed", "Booked from the waitlist"]


def test_beat_expires_the_waiting_entries_whose_start_came(receptionist, studio, taken, clock, settings):
    entry = add(receptionist, studio)
    clock.move_to(MONDAY_10_UTC + timedelta(minutes=1))

    tasks.expire_waitlist()

    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.EXPIRED
    assert settings.CELERY_BEAT_SCHEDULE["expire-waitlist"]["task"] == tasks.expire_waitlist.name
