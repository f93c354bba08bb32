"""A single booking racing a recurring series for one of its dates, each on its own connection:
the database decides (the exclusion constraint on PostgreSQL, IMMEDIATE transactions on SQLite),
so one of them wins and the date is never booked twice."""

from datetime import timedelta

import pytest

from bookings import series, services
from bookings.models import Booking
from bookings.tests.factories import MONDAY_10_UTC, ClientFactory, SpaceFactory
from photostudio.errors import BookingOverlap, SeriesConflict
from photostudio.tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

RACED_DATE = MONDAY_10_UTC + timedelta(weeks=2)


def _race(receptionist):
    space = SpaceFactory()
    client = ClientFactory()

    def single():
        return services.create_booking(
            actor=receptionist,
            space=space,
            client=client,
            start=RACED_DATE,
            end=RACED_DATE + timedelta(hours=2),
            people_count=2,
        )

    def weekly():
        return series.create_series(
            actor=receptionist,
            space=space,
            start=MONDAY_10_UTC,
            end=MONDAY_10_UTC + timedelta(hours=2),
            people_count=2,
            interval_weeks=1,
            count=4,
            client_phone=client.phone,
        )

    return space, run_at_once([single, weekly])


def _assert_one_winner(space, outcomes):
    single, weekly = outcomes
    assert isinstance(single, Booking) != isinstance(weekly, series.SeriesChange), outcomes
    if isinstance(single, Booking):
        assert isinstance(weekly, SeriesConflict), outcomes
        assert [entry["code"] for entry in weekly.details["conflicts"]] == ["booking_overlap"]
    else:
        assert isinstance(single, BookingOverlap), outcomes
    on_the_date = Booking.objects.filter(space=space).overlapping(RACED_DATE, RACED_DATE + timedelta(hours=2))
    assert on_the_date.count() == 1
    assert Booking.objects.filter(space=space).count() == (1 if isinstance(single, Booking) else 4)


def test_a_single_booking_racing_a_series_for_one_of_its_dates_leaves_no_double_booking(receptionist):
    space, outcomes = _race(receptionist)

    _assert_one_winner(space, outcomes)


@pytest.mark.postgres
def test_the_database_alone_keeps_a_series_and_a_single_booking_from_sharing_a_date(receptionist, monkeypatch):
    # Without the service's overlap query both reach their INSERTs: the exclusion constraint decides.
    monkeypatch.setattr(services, "_first_conflict", lambda booking: None)

    space, outcomes = _race(receptionist)

    _assert_one_winner(space, outcomes)
