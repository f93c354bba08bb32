"""The selectors behind the staff pages: slots over loaded bookings, what needs action, client search."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from bookings import selectors
from bookings.models import BookingState, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory
from employees.tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)


def at(clock, day=MONDAY):
    return local_instant(day, clock)


def ids(bookings):
    return [booking.pk for booking in bookings]


def test_slots_around_loaded_bookings_match_free_slots(studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    BookingFactory(space=studio, start=at("15:00"), end=at("16:00"))
    held = [(booking.start, booking.blocks_until) for booking in studio.bookings.order_by("start")]

    loaded = selectors.slots_around(space=studio, day=MONDAY, held=held)

    assert loaded == selectors.free_slots(space=studio, day=MONDAY)
    assert [
        (timezone.localtime(s.start).strftime("%H:%M"), timezone.localtime(s.end).strftime("%H:%M")) for s in loaded
    ] == [
        ("08:00", "09:45"),
        ("12:15", "14:45"),
        ("16:15", "22:00"),
    ]


def test_slots_around_ignore_bookings_of_other_days(studio):
    tuesday = BookingFactory(space=studio, start=at("10:00", MONDAY + timedelta(days=1)))

    loaded = selectors.slots_around(space=studio, day=MONDAY, held=[(tuesday.start, tuesday.blocks_until)])

    assert loaded == selectors.free_slots(space=studio, day=MONDAY)


def test_needs_action_sorts_pending_soon_and_past_start(receptionist):
    now = at("11:00")
    to_confirm = BookingFactory(start=at("16:00"), state=BookingState.PENDING)
    soon = BookingFactory(start=at("11:30"), state=BookingState.CONFIRMED)
    past_start = BookingFactory(start=at("09:00"), end=at("10:00"), state=BookingState.CONFIRMED)
    BookingFactory(start=at("08:00"), end=at("09:00"), state=BookingState.PENDING)  # over: nothing to confirm
    BookingFactory(start=at("18:00"), state=BookingState.CONFIRMED)  # not soon
    BookingFactory(start=at("09:00"), state=BookingState.COMPLETED)

    needs = selectors.bookings_needing_action(viewer=receptionist, now=now, soon=timedelta(hours=1), limit=10)

    assert ids(needs.to_confirm) == [to_confirm.pk]
    assert ids(needs.starting_soon) == [soon.pk]
    assert ids(needs.to_mark) == [past_start.pk]


def test_needs_action_lists_at_most_the_limit(receptionist):
    for hour in range(10, 15):
        BookingFactory(
            start=at(f"{hour}:00", MONDAY + timedelta(days=1)), end=at(f"{hour}:30", MONDAY + timedelta(days=1))
        )

    needs = selectors.bookings_needing_action(viewer=receptionist, now=at("09:00"), soon=timedelta(hours=1), limit=3)

    assert len(needs.to_confirm) == 3


@pytest.mark.parametrize("query", ["alice", "MOREAU", "(415) 555-0101", "555 0101", "alice@client"])
def test_clients_are_found_by_name_phone_or_email(receptionist, query):
    alice = ClientFactory(full_name="Alice Moreau", phone="+14155550101", email="alice@client.test")
    ClientFactory(full_name="Ben Okafor", phone="+14155550102", email="ben@client.test")

    assert list(selectors.clients_matching(viewer=receptionist, query=query)) == [alice]


def test_a_short_number_does_not_match_every_phone(receptionist):
    ClientFactory(full_name="Ben Okafor", phone="+14155550102", email="ben@client.test")

    assert list(selectors.clients_matching(viewer=receptionist, query="1")) == []


def test_clients_are_hidden_from_someone_who_may_not_see_them():
    ClientFactory()
    outsider = EmployeeFactory()
    outsider.groups.clear()

    assert list(selectors.clients_matching(viewer=outsider, query="")) == []
