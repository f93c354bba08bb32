from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django_fsm import ConcurrentTransitionMixin

from bookings.models import Booking, BookingState, Space, local_instant
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, SpaceFactory

SPRING_FORWARD = date(2026, 3, 29)  # Europe/Berlin: 02:00 becomes 03:00, a 23-hour day
FALL_BACK = date(2026, 10, 25)  # Europe/Berlin: 03:00 becomes 02:00, a 25-hour day


def space_with_hours(opening_hours):
    return Space(slug="s", name="S", capacity=1, hourly_rate=Decimal("10"), opening_hours=opening_hours)


def test_default_opening_hours_are_valid():
    space_with_hours(Space().opening_hours).clean()


@pytest.mark.parametrize(
    "opening_hours",
    [
        {"mon": ["08:00", "22:00"], "sun": None},
        {"fri": ["00:00", "24:00"]},
        {},
    ],
)
def test_valid_opening_hours_pass(opening_hours):
    space_with_hours(opening_hours).clean()


@pytest.mark.parametrize(
    ("opening_hours", "complaint"),
    [
        (["08:00", "22:00"], "Use an object"),
        ({"monday": ["08:00", "22:00"]}, "Unknown days monday"),
        ({"mon": "08:00-22:00"}, 'mon: use ["HH:MM", "HH:MM"]'),
        ({"mon": ["8:00", "22:00"]}, 'mon: use ["HH:MM", "HH:MM"]'),
        ({"mon": ["08:00", "25:00"]}, 'mon: use ["HH:MM", "HH:MM"]'),
        ({"tue": ["22:00", "08:00"]}, "tue: closing time must be after opening time"),
        ({"wed": ["10:00", "10:00"]}, "wed: closing time must be after opening time"),
        ({"thu": ["24:00", "24:00"]}, "thu: closing time must be after opening time"),
    ],
)
def test_malformed_opening_hours_are_refused_with_a_reason(opening_hours, complaint):
    with pytest.raises(ValidationError) as refused:
        space_with_hours(opening_hours).clean()

    assert complaint in " ".join(refused.value.message_dict["opening_hours"])


def test_opening_window_is_in_the_studio_time_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    space = space_with_hours({"mon": ["08:00", "22:00"]})

    assert space.opening_window(date(2026, 1, 12)) == (
        datetime(2026, 1, 12, 7, 0, tzinfo=UTC),
        datetime(2026, 1, 12, 21, 0, tzinfo=UTC),
    )


def test_space_is_closed_on_a_day_without_hours():
    assert space_with_hours({"mon": ["08:00", "22:00"], "tue": None}).opening_window(date(2026, 1, 13)) is None


@pytest.mark.parametrize(("day", "hours"), [(SPRING_FORWARD, 23), (FALL_BACK, 25), (date(2026, 6, 1), 24)])
def test_a_round_the_clock_day_lasts_as_long_as_the_local_day(settings, day, hours):
    settings.TIME_ZONE = "Europe/Berlin"
    space = space_with_hours(dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ["00:00", "24:00"]))

    opens, closes = space.opening_window(day)

    assert closes - opens == timedelta(hours=hours)


def test_opening_hours_keep_their_wall_clock_time_across_a_dst_change(settings):
    settings.TIME_ZONE = "Europe/Berlin"

    assert local_instant(SPRING_FORWARD - timedelta(days=1), "08:00") == datetime(2026, 3, 28, 7, tzinfo=UTC)
    assert local_instant(SPRING_FORWARD, "08:00") == datetime(2026, 3, 29, 6, tzinfo=UTC)


@pytest.mark.parametrize(("minutes", "price"), [(120, "100.00"), (90, "75.00"), (1, "0.83"), (45, "37.50")])
def test_price_is_the_hourly_rate_for_the_duration_to_the_cent(minutes, price):
    space = Space(hourly_rate=Decimal("50.00"))

    assert space.price_for(timedelta(minutes=minutes)) == Decimal(price)


@pytest.mark.django_db
def test_state_cannot_be_assigned_directly():
    booking = BookingFactory()

    with pytest.raises(AttributeError):
        booking.state = BookingState.COMPLETED


def test_a_bookings_state_fields_are_the_ones_django_fsm_finds():
    booking = BookingFactory.build()

    assert list(booking.state_fields) == list(ConcurrentTransitionMixin.state_fields.fget(booking))
    assert [field.name for field in booking.state_fields] == ["state"]


@pytest.mark.django_db
def test_booking_reloads_its_protected_state():
    booking = BookingFactory(state=BookingState.PENDING)
    Booking.objects.filter(pk=booking.pk).update(state=BookingState.CONFIRMED)

    booking.refresh_from_db()

    assert booking.state == BookingState.CONFIRMED


@pytest.mark.django_db
def test_database_refuses_a_booking_that_ends_before_it_starts():
    with pytest.raises(IntegrityError):
        BookingFactory(start=MONDAY_10_UTC, end=MONDAY_10_UTC - timedelta(hours=1), blocks_until=MONDAY_10_UTC)


@pytest.mark.django_db
def test_database_refuses_a_space_without_room_for_anyone():
    with pytest.raises(IntegrityError):
        SpaceFactory(capacity=0)
