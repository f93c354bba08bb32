"""The reports' daily figures: pre-aggregated on PostgreSQL, yet never stale; live on SQLite."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from bookings import analytics, reports, services
from bookings.models import BookingState, local_instant, studio_day
from bookings.tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def last_week():
    return studio_day(timezone.now()) - timedelta(days=7)


def view_row(space, day) -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT bookings, no_shows FROM {analytics.VIEW} WHERE space_id = %s AND day = %s", [space.pk, day]
        )
        row = cursor.fetchone()
    return None if row is None else {"bookings": row[0], "no_shows": row[1]}


def figures(manager, space, day):
    report = reports.studio_report(viewer=manager, start=day, end=day)
    return next(f for f in report.spaces if f.space == space), report.days[0]


@pytest.mark.postgres
def test_refresh_stores_the_daily_figures_per_space(manager, studio):
    day = last_week()
    BookingFactory(space=studio, start=local_instant(day, "10:00"), state=BookingState.COMPLETED)
    BookingFactory(space=studio, start=local_instant(day, "13:00"), state=BookingState.CANCELLED)

    call_command("refresh_analytics", verbosity=0)

    assert view_row(studio, day) == {"bookings": 1, "no_shows": 0}
    space_figures, day_figures = figures(manager, studio, day)
    assert (space_figures.bookings, space_figures.cancelled, space_figures.revenue) == (1, 1, 100)
    assert (day_figures.bookings, day_figures.cancelled) == (1, 1)


@pytest.mark.postgres
def test_a_change_after_the_refresh_shows_at_once(manager, studio):
    day = last_week()
    booking = BookingFactory(space=studio, start=local_instant(day, "10:00"), state=BookingState.CONFIRMED)
    analytics.refresh()

    services.transition_booking(booking=booking, target_state=BookingState.NO_SHOW, actor=manager)

    assert view_row(studio, day) == {"bookings": 1, "no_shows": 0}  # the view has not seen it yet
    space_figures, day_figures = figures(manager, studio, day)
    assert (space_figures.no_shows, day_figures.no_shows) == (1, 1)


@pytest.mark.postgres
def test_a_booking_moved_out_of_a_past_day_leaves_it_at_once(manager, studio):
    day = last_week()
    booking = BookingFactory(space=studio, start=local_instant(day + timedelta(days=14), "10:00"))
    BookingFactory(space=studio, start=local_instant(day, "16:00"), state=BookingState.COMPLETED)
    services.reschedule_booking(
        booking=booking, actor=manager, start=local_instant(day, "10:00"), end=local_instant(day, "12:00")
    )
    analytics.refresh()

    services.reschedule_booking(
        booking=booking,
        actor=manager,
        start=local_instant(day + timedelta(days=14), "10:00"),
        end=local_instant(day + timedelta(days=14), "12:00"),
    )

    assert figures(manager, studio, day)[0].bookings == 1


@pytest.mark.postgres
def test_today_is_counted_live(manager, studio):
    analytics.refresh()
    today = studio_day(timezone.now())

    BookingFactory(space=studio, start=local_instant(today, "08:00"), state=BookingState.PENDING)

    assert figures(manager, studio, today)[0].bookings == 1


@pytest.mark.postgres
def test_a_new_time_zone_rebuilds_the_view(manager, studio, settings):
    day = last_week()
    BookingFactory(space=studio, start=local_instant(day, "10:00"), state=BookingState.COMPLETED)
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: 10:00 UTC is the next local evening

    state = analytics.refresh()

    assert state.time_zone == "Pacific/Kiritimati"
    assert view_row(studio, day) is None


@pytest.mark.postgres
def test_view_and_live_count_alike(manager, studio, monkeypatch):
    day = last_week()
    for clock, state in [("08:00", "completed"), ("11:00", "no_show"), ("14:00", "cancelled"), ("17:00", "pending")]:
        BookingFactory(space=studio, start=local_instant(day, clock), state=state)
    analytics.refresh()
    from_view = reports.studio_report(viewer=manager, start=day - timedelta(days=1), end=day)

    monkeypatch.setattr(analytics, "view_state", lambda using: None)  # what SQLite does: count everything live

    assert reports.studio_report(viewer=manager, start=day - timedelta(days=1), end=day) == from_view
    assert from_view.total.bookings == 3


def test_without_postgresql_there_is_nothing_to_refresh(capsys):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL has the view; this is about the databases without it")

    call_command("refresh_analytics")

    assert "counted live" in capsys.readouterr().out
    assert analytics.refresh() is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_builds_the_view_from_the_bookings_already_stored(studio):
    day = last_week()
    BookingFactory(space=studio, start=local_instant(day, "10:00"), state=BookingState.COMPLETED)

    call_command("migrate", "bookings", "0003", verbosity=0)
    assert analytics.view_state() is None
    call_command("migrate", "bookings", verbosity=0)

    assert view_row(studio, day) == {"bookings": 1, "no_shows": 0}
