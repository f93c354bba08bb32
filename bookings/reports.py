"""Managers' figures over a period: how full each space was, what the studio earned, how often
clients did not come or cancelled. Read-only selectors with a fixed number of queries.

A booking belongs to the period when it starts on one of its local days (settings.TIME_ZONE).
Booked time is every booking but cancelled ones (a no-show held its space too); revenue is the
price of completed sessions; the no-show rate is no-shows among the sessions that were due
(completed or no-show); the cancellation rate is cancellations among all bookings.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from bookings.models import Booking, BookingState, Space
from bookings.selectors import day_bounds
from photostudio.errors import PermissionDenied
from photostudio.replicas import read_alias

_COMPLETED = Q(state=BookingState.COMPLETED)
_BOOKED = ~Q(state=BookingState.CANCELLED)


@dataclass(frozen=True)
class Figures:
    """The figures of one space, or of all of them (``space`` None)."""

    space: Space | None
    open_hours: Decimal
    booked_hours: Decimal
    bookings: int
    completed: int
    cancelled: int
    no_shows: int
    revenue: Decimal

    @property
    def utilisation(self) -> Decimal | None:
        return _share(self.booked_hours, self.open_hours)

    @property
    def no_show_rate(self) -> Decimal | None:
        return _share(Decimal(self.no_shows), Decimal(self.completed + self.no_shows))

    @property
    def cancellation_rate(self) -> Decimal | None:
        return _share(Decimal(self.cancelled), Decimal(self.bookings))


@dataclass(frozen=True)
class DayFigures:
    day: date
    bookings: int  # not cancelled
    revenue: Decimal


@dataclass(frozen=True)
class Report:
    start: date
    end: date  # inclusive
    spaces: list[Figures]
    total: Figures
    days: list[DayFigures]


def studio_report(*, viewer, start: date, end: date) -> Report:
    """The figures of the local days ``start`` to ``end`` (inclusive), per space and in total,
    and the revenue of each day, read from a read replica when there is one. Raises
    PermissionDenied without ``bookings.view_reports``. Three queries, whatever the number of bookings."""
    if not viewer.has_perm("bookings.view_reports"):
        raise PermissionDenied("Reports are for managers.", details={"permission": "bookings.view_reports"})
    period_start, _ = day_bounds(start)
    _, period_end = day_bounds(end)
    database = read_alias()
    bookings = Booking.objects.using(database).filter(start__gte=period_start, start__lt=period_end).order_by()
    per_space = {
        row["space"]: row
        for row in bookings.values("space").annotate(
            count=Count("id"),
            completed=Count("id", filter=_COMPLETED),
            cancelled=Count("id", filter=Q(state=BookingState.CANCELLED)),
            no_shows=Count("id", filter=Q(state=BookingState.NO_SHOW)),
            booked=Sum(ExpressionWrapper(F("end") - F("start"), output_field=DurationField()), filter=_BOOKED),
            revenue=Sum("price", filter=_COMPLETED),
        )
    }
    spaces = Space.objects.using(database).filter(Q(is_active=True) | Q(pk__in=list(per_space))).order_by("name")
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    figures = [_figures(space, per_space.get(space.pk, {}), days) for space in spaces]
    per_day = {
        row["day"]: row
        for row in bookings.annotate(day=TruncDate("start", tzinfo=timezone.get_default_timezone()))
        .values("day")
        .annotate(count=Count("id", filter=_BOOKED), revenue=Sum("price", filter=_COMPLETED))
    }
    return Report(
        start=start,
        end=end,
        spaces=figures,
        total=_sum(figures),
        days=[
            DayFigures(
                day=day,
                bookings=per_day.get(day, {}).get("count", 0),
                revenue=_money(per_day.get(day, {}).get("revenue")),
            )
            for day in days
        ],
    )


def _figures(space: Space, row: dict, days: list[date]) -> Figures:
    booked: timedelta = row.get("booked") or timedelta(0)
    return Figures(
        space=space,
        open_hours=_hours(sum((_open_time(space, day) for day in days), timedelta(0))),
        booked_hours=_hours(booked),
        bookings=row.get("count", 0),
        completed=row.get("completed", 0),
        cancelled=row.get("cancelled", 0),
        no_shows=row.get("no_shows", 0),
        revenue=_money(row.get("revenue")),
    )


def _sum(figures: list[Figures]) -> Figures:
    return Figures(
        space=None,
        open_hours=sum((f.open_hours for f in figures), Decimal("0.0")),
        booked_hours=sum((f.booked_hours for f in figures), Decimal("0.0")),
        bookings=sum(f.bookings for f in figures),
        completed=sum(f.completed for f in figures),
        cancelled=sum(f.cancelled for f in figures),
        no_shows=sum(f.no_shows for f in figures),
        revenue=sum((f.revenue for f in figures), Decimal("0.00")),
    )


def _open_time(space: Space, day: date) -> timedelta:
    """How long ``space`` opens on ``day`` by its opening hours (a DST day's hour more or less included)."""
    window = space.opening_window(day)
    return window[1] - window[0] if window else timedelta(0)


def _hours(duration: timedelta) -> Decimal:
    return (Decimal(int(duration.total_seconds())) / Decimal(3600)).quantize(Decimal("0.1"))


def _money(amount) -> Decimal:
    """A sum of prices to the cent; SQLite's SUM drops the trailing zeros."""
    return (amount or Decimal(0)).quantize(Decimal("0.01"))


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` of ``whole`` in percent to one decimal, or None when there is no whole."""
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class DaySummary:
    """Key figures of a day's bookings, for the Today page."""

    bookings: int  # not cancelled
    pending: int
    confirmed: int
    in_progress: int
    completed: int
    no_shows: int
    cancelled: int
    people: int  # expected in the studio: bookings neither cancelled nor no-show
    expected_revenue: Decimal  # the price of bookings neither cancelled nor no-show
    booked_hours: Decimal


def summarise_day(bookings: list[Booking]) -> DaySummary:
    """Count the day's bookings a selector already loaded; no query."""
    by_state = {state: [b for b in bookings if b.state == state] for state in BookingState.values}
    expected = [b for b in bookings if b.state not in (BookingState.CANCELLED, BookingState.NO_SHOW)]
    return DaySummary(
        bookings=len(bookings) - len(by_state[BookingState.CANCELLED]),
        pending=len(by_state[BookingState.PENDING]),
        confirmed=len(by_state[BookingState.CONFIRMED]),
        in_progress=len(by_state[BookingState.IN_PROGRESS]),
        completed=len(by_state[BookingState.COMPLETED]),
        no_shows=len(by_state[BookingState.NO_SHOW]),
        cancelled=len(by_state[BookingState.CANCELLED]),
        people=sum(b.people_count for b in expected),
        expected_revenue=sum((b.price for b in expected), Decimal("0.00")),
        booked_hours=_hours(sum((b.duration for b in expected), timedelta(0))),
    )
