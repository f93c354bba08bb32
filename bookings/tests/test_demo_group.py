"""seed_demo --bookings N: a studio group with history, in bulk, that keeps the studio's rules."""

import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from bookings.demo_group import busy_day, group_slugs, plan_group, progress_bar, seed_group
from bookings.models import HOLDING_STATES, Booking, BookingState, Client, Space
from bookings.tests.factories import SpaceFactory
from employees.models import Employee
from events.models import Event

pytestmark = pytest.mark.django_db

TODAY = date(2030, 1, 16)
NOON = datetime(2030, 1, 16, 12, 0, tzinfo=UTC)


@pytest.fixture
def group():
    return seed_group(plan_group(bookings=2500, today=TODAY, future_days=1), now=NOON)


def test_the_group_has_the_bookings_asked_for_in_every_state(group):
    states = Counter(Booking.objects.values_list("state", flat=True))

    assert group["bookings"] == Booking.objects.count() == 2500
    assert set(states) == set(BookingState.values)
    assert Space.objects.filter(slug__startswith="riverside_").count() == 6


def test_every_booking_has_the_history_its_state_implies(group):
    created = Event.objects.filter(type="booking.created").count()
    completed = Booking.objects.filter(state=BookingState.COMPLETED).count()

    assert created == 2500
    assert Event.objects.filter(type="booking.state_changed", payload__to="completed").count() == completed
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_holding_bookings_of_a_space_never_overlap(group):
    holding = Booking.objects.filter(state__in=HOLDING_STATES)
    overlapping = holding.filter(
        space__bookings__state__in=HOLDING_STATES,
        space__bookings__start__lt=F("blocks_until"),
        space__bookings__blocks_until__gt=F("start"),
    ).exclude(space__bookings__pk=F("pk"))

    assert not overlapping.exists()


def test_the_busy_day_has_every_slot_booked(group):
    day = busy_day(TODAY)
    riverside_studio = Space.objects.get(slug="riverside_studio_1")  # open 08:00-22:00 on weekdays

    assert Booking.objects.filter(space=riverside_studio, start__date=day).count() == 14


def test_seeding_twice_is_refused_with_a_message(tmp_path):
    output = io.StringIO()
    call_command("seed_demo", bookings=50, credentials_file=tmp_path / "logins", stdout=output)
    assert "50 bookings of 2 clients" in output.getvalue()

    with pytest.raises(CommandError, match="already has 50 bookings"):
        call_command("seed_demo", bookings=50, credentials_file=tmp_path / "logins", stdout=output)


def test_a_silly_number_of_bookings_is_refused():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_demo", bookings=0)


def test_more_bookings_than_the_calendar_holds_are_refused_before_anything_is_written(tmp_path):
    before = (Space.objects.count(), Employee.objects.count(), Booking.objects.count())

    refused = r"history from 2000-01-01 holds at most [\d,]+ bookings\. Ask for fewer"
    a_month_in = datetime(2000, 2, 1, 12, tzinfo=UTC)  # 50,000 bookings would reach back before 2000
    with time_machine.travel(a_month_in, tick=False), pytest.raises(CommandError, match=refused):
        call_command("seed_demo", bookings=50_000, credentials_file=tmp_path / "logins")

    assert (Space.objects.count(), Employee.objects.count(), Booking.objects.count()) == before
    assert not (tmp_path / "logins").exists()


def test_the_plan_follows_the_group_spaces_hours_as_they_are_saved():
    as_built = plan_group(bookings=500, today=TODAY, future_days=1)
    for slug in group_slugs():  # saved before, open two hours on Mondays only
        SpaceFactory(slug=slug, opening_hours={"mon": ["08:00", "10:00"]})

    planned = plan_group(bookings=500, today=TODAY, future_days=1)

    assert (planned.last_day, planned.bookings) == (as_built.last_day, 500)
    assert planned.first_day < as_built.first_day - timedelta(days=60)


def test_the_progress_bar_redraws_one_line():
    written = []
    draw = progress_bar(written.append, width=4)

    draw(1, 2)
    draw(2, 2)

    assert written == ["\r[##--]  50%  1 / 2", "\r[####] 100%  2 / 2\n"]


@pytest.mark.postgres
def test_the_planner_knows_the_size_of_the_tables_written_in_bulk(group):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN ('bookings_booking', 'bookings_client')"
        )
        estimated = dict(cursor.fetchall())

    assert estimated == {"bookings_booking": 2500, "bookings_client": Client.objects.count()}
