"""Simultaneous requests, each on its own database connection, as two clerks in two browsers.

On PostgreSQL the exclusion constraint decides between bookings that passed the overlap query at
the same time; on SQLite the IMMEDIATE transactions run one after the other. Either way exactly
one wins. Transitions of one booking are decided by django-fsm's optimistic concurrency. A
closure and a booking meet on the space's row lock: the booking is refused or the closure names it.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from bookings import services
from bookings.models import Booking, BookingState, Client, WaitlistEntry
from bookings.tests.api import api_as
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, ClientFactory, SpaceFactory
from events.models import Event
from photostudio.errors import AlreadyOnWaitlist, BookingChanged, BookingOverlap, ConcurrentChange, SpaceClosed
from photostudio.tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_simultaneous_overlapping_bookings_leave_exactly_one(receptionist):
    space = SpaceFactory(capacity=10)
    client = ClientFactory()

    def book(minutes_later):
        start = MONDAY_10_UTC + timedelta(minutes=minutes_later)
        return lambda: services.create_booking(
            actor=receptionist, space=space, client=client, start=start, end=start + timedelta(hours=2), people_count=2
        )

    outcomes = run_at_once([book(5 * n) for n in range(20)])

    winners = [outcome for outcome in outcomes if isinstance(outcome, Booking)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, BookingOverlap)]
    assert (len(winners), len(refused)) == (1, 19), outcomes
    assert all(error.code == "booking_overlap" for error in refused)
    assert Booking.objects.filter(space=space).count() == 1
    assert Event.objects.filter(type="booking.created").count() == 1


@pytest.mark.postgres
def test_the_database_alone_refuses_nineteen_of_twenty_simultaneous_overlapping_bookings(receptionist, monkeypatch):
    # Without the service's overlap query every create reaches the INSERT: only the exclusion
    # constraint stands between them, and its refusal still answers booking_overlap.
    monkeypatch.setattr(services, "_first_conflict", lambda booking: None)
    space = SpaceFactory(capacity=10)
    client = ClientFactory()

    def book(minutes_later):
        start = MONDAY_10_UTC + timedelta(minutes=minutes_later)
        return lambda: services.create_booking(
            actor=receptionist, space=space, client=client, start=start, end=start + timedelta(hours=2), people_count=2
        )

    outcomes = run_at_once([book(5 * n) for n in range(20)])

    refused = [outcome for outcome in outcomes if isinstance(outcome, BookingOverlap)]
    assert len([outcome for outcome in outcomes if isinstance(outcome, Booking)]) == 1, outcomes
    assert len(refused) == 19, outcomes
    assert {error.code for error in refused} == {"booking_overlap"}
    assert Booking.objects.filter(space=space).count() == 1


def test_two_simultaneous_transitions_of_one_booking_leave_exactly_one(receptionist):
    booking = BookingFactory(state=BookingState.PENDING)
    as_read_by_one, as_read_by_other = Booking.objects.get(pk=booking.pk), Booking.objects.get(pk=booking.pk)

    outcomes = run_at_once(
        [
            lambda: services.transition_booking(booking=as_read_by_one, target_state="confirmed", actor=receptionist),
            lambda: services.transition_booking(
                booking=as_read_by_other, target_state="cancelled", actor=receptionist, reason="Client called off"
            ),
        ]
    )

    winners = [outcome for outcome in outcomes if isinstance(outcome, Booking)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, ConcurrentChange)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    booking.refresh_from_db()
    assert booking.state == winners[0].state
    assert Event.objects.filter(type="booking.state_changed").count() == 1


def test_two_clerks_editing_one_booking_opened_at_one_revision_cannot_both_save(receptionist):
    booking = BookingFactory(notes="")
    as_read_by_one, as_read_by_other = Booking.objects.get(pk=booking.pk), Booking.objects.get(pk=booking.pk)

    def edit(copy, notes):
        return lambda: services.update_booking(booking=copy, actor=receptionist, expected_revisions={0}, notes=notes)

    connection.close()  # back to the pool: the clerks need a connection each at once
    outcomes = run_at_once([edit(as_read_by_one, "Bring a tripod"), edit(as_read_by_other, "No tripod")])

    winners = [outcome for outcome in outcomes if isinstance(outcome, Booking)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, BookingChanged)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    booking.refresh_from_db()
    assert (booking.notes, booking.revision) == (winners[0].notes, 1)
    assert Event.objects.filter(type="booking.updated").count() == 1


def test_two_simultaneous_api_edits_with_one_if_match_leave_one_and_answer_412_to_the_other(receptionist):
    booking = BookingFactory(notes="")
    etag = api_as(receptionist).get(f"/api/v1/bookings/{booking.pk}")["ETag"]

    def edit(notes):
        return lambda: api_as(receptionist).patch(
            f"/api/v1/bookings/{booking.pk}", {"notes": notes}, headers={"If-Match": etag}
        )

    connection.close()  # back to the pool: the clerks need a connection each at once
    outcomes = run_at_once([edit("Bring a tripod"), edit("No tripod")])

    assert sorted(response.status_code for response in outcomes) == [200, 412], outcomes
    won = next(response for response in outcomes if response.status_code == 200)
    lost = next(response for response in outcomes if response.status_code == 412)
    assert lost.json()["error"]["code"] == "booking_changed"
    booking.refresh_from_db()
    assert (booking.notes, f'"{booking.pk}-{booking.revision}"') == (won.json()["notes"], won["ETag"])
    assert Event.objects.filter(type="booking.updated").count() == 1


def test_bookings_made_while_a_closure_is_recorded_are_refused_or_named_by_it(receptionist, manager):
    space = SpaceFactory()
    client = ClientFactory()

    def book(hours_later):
        start = MONDAY_10_UTC + timedelta(hours=hours_later)
        return lambda: services.create_booking(
            actor=receptionist,
            space=space,
            client=client,
            start=start,
            end=start + timedelta(minutes=45),
            people_count=2,
        )

    def close():
        return services.create_closure(
            actor=manager, space=space, start=MONDAY_10_UTC, end=MONDAY_10_UTC + timedelta(hours=6), reason="Leak"
        )

    outcomes = run_at_once([close, *(book(hours) for hours in range(5))])

    recorded = outcomes[0]
    assert isinstance(recorded, services.RecordedClosure), outcomes
    booked = {outcome.pk for outcome in outcomes[1:] if isinstance(outcome, Booking)}
    refused = [outcome for outcome in outcomes[1:] if not isinstance(outcome, Booking)]
    assert all(isinstance(error, SpaceClosed) for error in refused), outcomes
    assert {booking.pk for booking in recorded.affected_bookings} == booked
    assert set(Booking.objects.filter(space=space).values_list("pk", flat=True)) == booked


@pytest.mark.postgres  # SQLite's IMMEDIATE transactions take turns: only PostgreSQL races
def test_two_clerks_putting_one_client_on_the_waitlist_at_once_make_one_entry(receptionist):
    space = SpaceFactory()
    BookingFactory(space=space, start=MONDAY_10_UTC)
    client = ClientFactory()

    def add():
        return services.add_to_waitlist(
            actor=receptionist,
            space=space,
            client=client,
            start=MONDAY_10_UTC,
            end=MONDAY_10_UTC + timedelta(hours=2),
            people_count=2,
        )

    connection.close()  # back to the pool: the clerks need a connection each at once
    outcomes = run_at_once([add for _ in range(5)])

    added = [outcome for outcome in outcomes if isinstance(outcome, WaitlistEntry)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, AlreadyOnWaitlist)]
    assert (len(added), len(refused)) == (1, 4), outcomes
    assert WaitlistEntry.objects.filter(client=client).count() == 1


@pytest.mark.postgres  # SQLite's IMMEDIATE transactions take turns: only PostgreSQL runs them side by side
def test_a_client_being_put_on_the_waitlist_can_be_booked_meanwhile(receptionist):
    full_space, free_space = SpaceFactory(), SpaceFactory()
    BookingFactory(space=full_space, start=MONDAY_10_UTC)
    client = ClientFactory()
    waitlisted, booked = threading.Event(), threading.Event()

    def waitlist_and_hold_the_transaction_open():
        with transaction.atomic():
            services.add_to_waitlist(
                actor=receptionist,
                space=full_space,
                client=client,
                start=MONDAY_10_UTC,
                end=MONDAY_10_UTC + timedelta(hours=2),
                people_count=2,
            )
            waitlisted.set()
            return booked.wait(timeout=5)  # False: the booking waited for this transaction to end

    def book_once_waitlisted():
        waitlisted.wait(timeout=10)
        try:
            return services.create_booking(
                actor=receptionist,
                space=free_space,
                client=client,
                start=MONDAY_10_UTC,
                end=MONDAY_10_UTC + timedelta(hours=2),
                people_count=2,
            )
        finally:
            booked.set()

    connection.close()  # back to the pool: the clerks need a connection each at once
    booked_while_waitlisting, booking = run_at_once([waitlist_and_hold_the_transaction_open, book_once_waitlisted])

    assert booked_while_waitlisting is True, booking
    assert isinstance(booking, Booking), booking


@pytest.mark.postgres  # SQLite's IMMEDIATE transactions take turns: only PostgreSQL races
def test_two_clerks_booking_one_new_client_at_once_both_book_them(receptionist):
    spaces = [SpaceFactory(), SpaceFactory()]

    def book(space):
        return lambda: services.create_booking(
            actor=receptionist,
            space=space,
            start=MONDAY_10_UTC,
            end=MONDAY_10_UTC + timedelta(hours=2),
            people_count=2,
            client_name="Ada Lovelace",
            client_phone="+14155550100",
        )

    connection.close()  # back to the pool: the clerks need a connection each at once
    outcomes = run_at_once([book(space) for space in spaces])

    assert all(isinstance(outcome, Booking) for outcome in outcomes), outcomes
    client = Client.objects.get(phone="+14155550100")
    assert {outcome.client_id for outcome in outcomes} == {client.pk}
    assert Booking.objects.filter(client=client).count() == 2


@pytest.mark.postgres
def test_booking_made_while_a_closure_is_being_recorded_waits_for_it_and_is_refused(receptionist, manager):
    space = SpaceFactory()
    closure_written = threading.Event()

    def close():
        with transaction.atomic():
            services.create_closure(
                actor=manager, space=space, start=MONDAY_10_UTC, end=MONDAY_10_UTC + timedelta(hours=6), reason="Leak"
            )
            closure_written.set()
            _until_a_session_waits_for_a_lock()

    def book():
        closure_written.wait(timeout=10)
        return services.create_booking(
            actor=receptionist,
            space=space,
            client=ClientFactory(),
            start=MONDAY_10_UTC + timedelta(hours=1),
            end=MONDAY_10_UTC + timedelta(hours=2),
            people_count=2,
        )

    connection.close()  # back to the pool: the two sessions need a connection each at once
    outcomes = run_at_once([close, book])

    assert isinstance(outcomes[1], SpaceClosed), outcomes
    assert not Booking.objects.filter(space=space).exists()


def _until_a_session_waits_for_a_lock(attempts: int = 500) -> None:
    """Returns once another session of the test database waits for a row lock (or after the
    attempts, when the test then fails on its outcome)."""
    with connection.cursor() as cursor:
        for _ in range(attempts):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            cursor.execute("SELECT pg_sleep(0.02)")


def test_two_clerks_editing_one_client_at_once_record_a_history_that_follows_on(receptionist):
    client = ClientFactory(notes="")
    # Each clerk opened the client before either saved.
    copies = [Client.objects.get(pk=client.pk) for _ in range(2)]

    outcomes = run_at_once(
        [
            lambda: services.update_client(client=copies[0], actor=receptionist, notes="Prefers mornings"),
            lambda: services.update_client(client=copies[1], actor=receptionist, notes="Bring the dog"),
        ]
    )

    assert all(isinstance(outcome, Client) for outcome in outcomes), outcomes
    first, second = (
        event.payload["changes"]["notes"] for event in Event.objects.filter(type="client.updated").order_by("pk")
    )
    assert first["from"] == ""
    assert second["from"] == first["to"]
    assert Client.objects.get(pk=client.pk).notes == second["to"]
