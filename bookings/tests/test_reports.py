"""The managers' figures: what counts as booked, earned, missed and cancelled, on the studio's days."""

import sqlite3
from contextlib import closing
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import ConnectionDoesNotExist
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings import analytics, reports, services
from bookings.models import BookingState, Space, local_instant, studio_day
from bookings.tests.factories import BookingFactory, ClientFactory, ClosureFactory, SpaceFactory
from photostudio import replicas
from photostudio.errors import PermissionDenied

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)


def figures_of(report, space):
    return next(figures for figures in report.spaces if figures.space == space)


def test_only_bookings_starting_within_the_period_count(manager, studio):
    BookingFactory(space=studio, start=local_instant(MONDAY - timedelta(days=1), "10:00"), state="completed")
    inside = BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), state="completed")
    BookingFactory(space=studio, start=local_instant(MONDAY + timedelta(days=1), "10:00"), state="completed")

    report = reports.studio_report(viewer=manager, start=MONDAY, end=MONDAY)

    assert figures_of(report, studio).revenue == inside.price
    assert [day.revenue for day in report.days] == [inside.price]


def test_spaces_without_bookings_report_zeros_and_no_rates(manager, studio):
    figures = figures_of(reports.studio_report(viewer=manager, start=MONDAY, end=MONDAY), studio)

    assert (figures.bookings, figures.revenue, figures.open_hours) == (0, Decimal("0.00"), Decimal("14.0"))
    assert (figures.utilisation, figures.no_show_rate, figures.cancellation_rate) == (Decimal("0.0"), None, None)


def test_a_dst_day_opens_an_hour_less(manager, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    round_the_clock = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})

    figures = figures_of(
        reports.studio_report(viewer=manager, start=date(2030, 3, 31), end=date(2030, 3, 31)), round_the_clock
    )

    assert figures.open_hours == Decimal("23.0")


def test_totals_add_up_the_spaces(manager, studio):
    other = SpaceFactory()
    BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), state=BookingState.COMPLETED)
    BookingFactory(space=other, start=local_instant(MONDAY, "10:00"), state=BookingState.NO_SHOW)

    report = reports.studio_report(viewer=manager, start=MONDAY, end=MONDAY)

    assert (report.total.completed, report.total.no_shows, report.total.no_show_rate) == (1, 1, Decimal("50.0"))
    assert report.total.revenue == Decimal("100.00")


def test_total_hours_and_utilisation_are_of_the_exact_time_not_of_rounded_space_figures(manager, studio):
    other = SpaceFactory()
    start = local_instant(MONDAY, "10:00")
    for space in (studio, other):
        BookingFactory(space=space, start=start, end=start + timedelta(minutes=45), state=BookingState.COMPLETED)

    report = reports.studio_report(viewer=manager, start=MONDAY, end=MONDAY)

    assert [figures_of(report, space).booked_hours for space in (studio, other)] == [Decimal("0.8")] * 2
    assert report.total.booked_hours == Decimal("1.5") == sum(day.booked_hours for day in report.days)
    assert report.total.utilisation == Decimal("2.1")  # 1.5 of 70 open hours, not 1.6 of them


def test_utilisation_is_of_the_exact_hours_not_of_the_hours_as_rounded_for_reading(manager):
    short_day = SpaceFactory(opening_hours={"mon": ["10:00", "11:00"]})
    start = local_instant(MONDAY, "10:00")
    BookingFactory(space=short_day, start=start, end=start + timedelta(minutes=15), state=BookingState.COMPLETED)

    figures = figures_of(reports.studio_report(viewer=manager, start=MONDAY, end=MONDAY), short_day)

    assert figures.open_hours == Decimal("1.0")
    assert figures.utilisation == Decimal("25.0")  # a quarter of the hour, not its 0.2 hours as shown


def test_closed_hours_are_not_open_hours(manager, studio):
    other = SpaceFactory()
    # The whole studio 07:00-10:00 (one hour before opening), the studio also 09:00-12:00: 08:00-12:00 closed.
    ClosureFactory(space=None, start=local_instant(MONDAY, "07:00"), end=local_instant(MONDAY, "10:00"))
    ClosureFactory(space=studio, start=local_instant(MONDAY, "09:00"), end=local_instant(MONDAY, "12:00"))
    BookingFactory(space=studio, start=local_instant(MONDAY, "14:00"), state=BookingState.COMPLETED)

    report = reports.studio_report(viewer=manager, start=MONDAY, end=MONDAY + timedelta(days=1))

    assert figures_of(report, studio).open_hours == Decimal("24.0")  # 14 - 4 on Monday, 14 on Tuesday
    assert figures_of(report, other).open_hours == Decimal("26.0")  # 14 - 2, 14
    assert figures_of(report, studio).utilisation == Decimal("8.3")
    monday, tuesday = (day.open_hours for day in report.days)
    assert tuesday - monday == 4 + 2 * (Space.objects.count() - 1)


def test_a_closure_across_midnight_closes_both_days(manager, studio):
    ClosureFactory(
        space=studio, start=local_instant(MONDAY, "20:00"), end=local_instant(MONDAY + timedelta(days=1), "09:00")
    )

    report = reports.studio_report(viewer=manager, start=MONDAY, end=MONDAY + timedelta(days=1))

    assert figures_of(report, studio).open_hours == Decimal("25.0")  # 14 - 2, 14 - 1


def test_reports_are_for_those_who_may_see_them(receptionist):
    with pytest.raises(PermissionDenied):
        reports.studio_report(viewer=receptionist, start=MONDAY, end=MONDAY)


def test_day_summary_leaves_cancelled_and_no_shows_out_of_the_expected(studio):
    bookings = [
        BookingFactory(space=studio, start=local_instant(MONDAY, "08:00"), state=BookingState.NO_SHOW),
        BookingFactory(space=studio, start=local_instant(MONDAY, "11:00"), state=BookingState.IN_PROGRESS),
        BookingFactory(space=studio, start=local_instant(MONDAY, "14:00"), state=BookingState.CANCELLED),
    ]

    summary = reports.summarise_day(bookings)

    assert (summary.bookings, summary.no_shows, summary.in_progress, summary.cancelled) == (2, 1, 1, 1)
    assert (summary.people, summary.expected_revenue, summary.booked_hours) == (2, Decimal("100.00"), Decimal("2.0"))


# --- rendered_report: cached until what it shows changes -----------------------------------------

JANUARY = (date(2030, 1, 1), date(2030, 1, 31))


def report_totals(report) -> dict:
    """A render for rendered_report: the total figures (module-level, as it must be)."""
    return {"bookings": report.total.bookings, "completed": report.total.completed, "spaces": len(report.spaces)}


def january_totals(manager):
    return reports.rendered_report(viewer=manager, start=JANUARY[0], end=JANUARY[1], render=report_totals)


def test_a_rendered_report_is_the_render_of_the_report(manager, studio):
    BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), state=BookingState.COMPLETED)

    assert january_totals(manager) == report_totals(
        reports.studio_report(viewer=manager, start=JANUARY[0], end=JANUARY[1])
    )


def test_a_repeated_report_costs_no_query(manager, studio, django_assert_num_queries):
    BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), state=BookingState.COMPLETED)
    january_totals(manager)

    with django_assert_num_queries(0):
        assert january_totals(manager)["completed"] == 1


def test_a_booking_made_in_the_period_shows_at_once(manager, studio):
    january_totals(manager)

    services.create_booking(
        actor=manager,
        space=studio,
        client=ClientFactory(),
        start=local_instant(MONDAY, "10:00"),
        end=local_instant(MONDAY, "12:00"),
        people_count=1,
    )

    assert january_totals(manager)["bookings"] == 1


def test_a_state_change_in_the_period_shows_at_once(manager, studio):
    booking = BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), state=BookingState.PENDING)
    january_totals(manager)

    services.transition_booking(booking=booking, target_state=BookingState.CANCELLED, actor=manager, reason="Ill")

    assert january_totals(manager)["bookings"] == 0


def test_a_booking_moved_out_of_the_period_leaves_it_at_once(manager, studio):
    booking = BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), state=BookingState.PENDING)
    january_totals(manager)
    march = date(2030, 3, 11)

    services.reschedule_booking(
        booking=booking, actor=manager, start=local_instant(march, "10:00"), end=local_instant(march, "12:00")
    )

    assert january_totals(manager)["bookings"] == 0


def test_a_booking_moved_into_the_period_shows_at_once(manager, studio):
    booking = BookingFactory(space=studio, start=local_instant(date(2030, 3, 11), "10:00"), state=BookingState.PENDING)
    january_totals(manager)

    services.reschedule_booking(
        booking=booking, actor=manager, start=local_instant(MONDAY, "10:00"), end=local_instant(MONDAY, "12:00")
    )

    assert january_totals(manager)["bookings"] == 1


def january_open_hours(report) -> Decimal:
    """A render for rendered_report: the open hours of the whole studio."""
    return report.total.open_hours


def test_a_closure_recorded_or_removed_in_the_period_shows_at_once(manager, studio):
    def open_hours():
        return reports.rendered_report(viewer=manager, start=JANUARY[0], end=JANUARY[1], render=january_open_hours)

    before = open_hours()

    recorded = services.create_closure(
        actor=manager,
        space=None,
        start=local_instant(MONDAY, "08:00"),
        end=local_instant(MONDAY, "22:00"),
        reason="Holiday",
    )
    assert before - open_hours() == 14 * Space.objects.count()

    services.delete_closure(closure=recorded.closure, actor=manager)
    assert open_hours() == before


def test_a_change_in_another_month_keeps_the_cached_report(manager, studio, django_assert_num_queries):
    january_totals(manager)
    march = date(2030, 3, 11)
    services.create_booking(
        actor=manager,
        space=studio,
        client=ClientFactory(),
        start=local_instant(march, "10:00"),
        end=local_instant(march, "12:00"),
        people_count=1,
    )

    with django_assert_num_queries(0):
        january_totals(manager)


def test_a_new_space_shows_at_once(manager, studio):
    spaces = january_totals(manager)["spaces"]

    services.create_space(actor=manager, slug="attic", name="Attic", capacity=2, hourly_rate=Decimal("10.00"))

    assert january_totals(manager)["spaces"] == spaces + 1


def test_a_cached_report_is_still_for_managers_only(manager, receptionist, studio):
    january_totals(manager)

    with pytest.raises(PermissionDenied):
        january_totals(receptionist)


@pytest.mark.postgres
def test_a_refresh_of_the_daily_figures_drops_the_cached_reports(manager, studio):
    january_totals(manager)
    BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), state=BookingState.COMPLETED)  # no event

    analytics.refresh()

    assert january_totals(manager)["completed"] == 1


# --- read replicas: one report, one database -------------------------------------------------------


@pytest.fixture
def replica(monkeypatch):
    """``replica(name)``: a replica alias that ``read_alias`` sends the reports' reads to (from a
    caller who has not written), a connection of its own to the database ``name`` (the test
    database, or a copy of it taken earlier: a replica lagging behind)."""
    alias = "replica_1"
    monkeypatch.setattr(replicas, "replica_aliases", lambda: [alias])
    monkeypatch.setattr(replicas, "_reachable", lambda alias: True)
    wrote, recently_wrote = replicas._wrote.set(False), replicas._recently_wrote.set(False)

    def connect(name: str) -> str:
        primary = connections[DEFAULT_DB_ALIAS]
        options = {key: value for key, value in primary.settings_dict["OPTIONS"].items() if key != "pool"}
        # Set up by hand, outside settings.DATABASES: the test database exists already.
        connections[alias] = type(primary)({**primary.settings_dict, "NAME": name, "OPTIONS": options}, alias)
        return alias

    yield connect
    replicas._wrote.reset(wrote)
    replicas._recently_wrote.reset(recently_wrote)
    try:
        replica_connection = connections[alias]
    except ConnectionDoesNotExist:
        return
    replica_connection.close()
    del connections[alias]


@pytest.mark.django_db(transaction=True)
def test_every_query_of_a_report_goes_to_the_one_database_read_alias_chose(manager, studio, replica):
    day = studio_day(timezone.now()) - timedelta(days=7)  # before the refresh: on PostgreSQL, from the view
    BookingFactory(space=studio, start=local_instant(day, "10:00"), state=BookingState.COMPLETED)
    ClosureFactory(space=studio, start=local_instant(day, "08:00"), end=local_instant(day, "09:00"))
    analytics.refresh()  # on PostgreSQL the report reads the materialized view too
    alias = replica(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    assert manager.has_perm("bookings.view_reports")  # the permissions are the primary's to read

    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        CaptureQueriesContext(connections[alias]) as on_replica,
    ):
        report = reports.studio_report(viewer=manager, start=day, end=day)

    assert (report.total.bookings, figures_of(report, studio).open_hours) == (1, Decimal("13.0"))
    assert [query["sql"] for query in on_primary.captured_queries] == []
    assert on_replica.captured_queries


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the lagging copy is taken with SQLite's backup")
@pytest.mark.django_db(transaction=True)
def test_a_report_read_from_a_lagging_replica_lists_the_spaces_it_counts(manager, studio, replica, tmp_path):
    BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"))
    copy = tmp_path / "replica.sqlite3"
    with closing(sqlite3.connect(copy)) as replica_file:
        connections[DEFAULT_DB_ALIAS].ensure_connection()
        connections[DEFAULT_DB_ALIAS].connection.backup(replica_file)
    newer = SpaceFactory(name="New studio")  # not on the replica yet
    BookingFactory(space=newer, start=local_instant(MONDAY, "14:00"))
    replica(str(copy))

    report = reports.studio_report(viewer=manager, start=MONDAY, end=MONDAY)

    assert [figures.space.name for figures in report.spaces] == ["Test Studio"]
    assert report.total.bookings == sum(day.bookings for day in report.days) == 1
