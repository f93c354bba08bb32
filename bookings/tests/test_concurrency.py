"""Simultaneous requests, each on its own database connection, as two clerks in two browsers.

On PostgreSQL the exclusion constraint decides between bookings that passed the overlap query at
the same time; on SQLite the IMMEDIATE transactions run one after the other. Either way exactly
one wins. Transitions of one booking are decided by django-fsm's optimistic concurrency.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from bookings import services
from bookings.models import Booking, BookingState
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, ClientFactory, SpaceFactory
from events.models import Event
from photostudio.errors import BookingOverlap, ConcurrentChange

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(calls):
    """Run each call in its own thread and connection, released together; returns results or errors."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # the outcome under test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


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
