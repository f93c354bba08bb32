from collections import Counter
from datetime import UTC, date, datetime

import pytest
import time_machine

from bookings.demo import DEMO_WEEK, create_demo_bookings
from bookings.models import Booking, BookingState, Client, Space
from bookings.selectors import bookings_for_week
from events.models import Event

pytestmark = pytest.mark.django_db

WEDNESDAY = date(2030, 1, 16)


@pytest.fixture
def demo(admin, photographer):
    with time_machine.travel(datetime(2030, 1, 16, 9, 0, tzinfo=UTC), tick=False):
        return create_demo_bookings(actor=admin, photographer=photographer, today=WEDNESDAY)


def test_demo_fills_the_week_around_today_in_every_state(demo, admin):
    assert len(demo) == len(DEMO_WEEK)
    assert Counter(Booking.objects.values_list("state", flat=True)) == Counter(entry[-1] for entry in DEMO_WEEK)
    assert {booking.start.date() for booking in demo} == {date(2030, 1, day) for day in range(13, 20)}
    assert len(bookings_for_week(viewer=admin, day=WEDNESDAY)) == 10  # Monday 14th to Sunday 20th


def test_demo_adds_a_space_and_clients_and_records_the_history(demo, photographer):
    assert Space.objects.get(slug="rooftop").buffer_minutes == 30
    assert Client.objects.count() == 5
    assert Event.objects.filter(type="booking.created").count() == len(DEMO_WEEK)
    started = Booking.objects.filter(state=BookingState.COMPLETED)
    assert {booking.photographer for booking in started} == {photographer}
