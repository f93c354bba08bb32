"""The managers' figures: what counts as booked, earned, missed and cancelled, on the studio's days."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bookings import reports
from bookings.models import BookingState, local_instant
from bookings.tests.factories import BookingFactory, SpaceFactory
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
