"""Managers' figures over a period: how full each space was, what the studio earned, how often
clients did not come or cancelled; per space and per day. Read by the Reports page, its CSVs and
the reports API, from the daily figures of ``bookings.analytics`` (pre-aggregated on
PostgreSQL, live elsewhere), so the number of queries does not grow with the bookings.

A booking belongs to the period when it starts on one of its local days (settings.TIME_ZONE).
A report's figures depend on nothing but the bookings of the period's months and the spaces, so
``rendered_report`` keeps a rendered report in ``photostudio.cache`` until one of those changes:
a booking's event drops its month (before and after a move), a closure's event the months it
covers, a change to a space or a refresh of the daily figures drops them all. A space's open hours
are its opening hours less its and the whole studio's closures.
"Bookings" are as ``analytics.BOOKINGS_DEFINITION`` says: every booking but cancelled ones (a
no-show held its space too); booked hours are theirs; revenue is the price of completed
sessions; the no-show rate is no-shows among the sessions that were due (completed or no-show);
the cancellation rate is cancellations among all bookings made (bookings and cancelled ones).
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from bookings import analytics
from bookings.models import WEEKDAYS, Booking, BookingState, Closure, Space, local_instant, studio_day
from events.models import EventType
from events.signals import event_recorded
from photostudio.cache import cache, key_part
from photostudio.errors import PermissionDenied
from photostudio.replicas import read_alias

T = TypeVar("T")

BOOKINGS_DEFINITION = analytics.BOOKINGS_DEFINITION
# The longest period one report covers: any five years.
REPORT_MAX_DAYS = 5 * 365 + 2


@dataclass(frozen=True)
class Figures:
    open_seconds: int
    booked_seconds: int
    bookings: int
    completed: int
    cancelled: int
    no_shows: int
    revenue: Decimal

    @property
    def open_hours(self) -> Decimal:
        return _hours(self.open_seconds)

    @property
    def booked_hours(self) -> Decimal:
        return _hours(self.booked_seconds)

    @property
    def utilisation(self) -> Decimal | None:
        """Of the exact times: the hours as shown are rounded to a tenth."""
        return _share(Decimal(self.booked_seconds), Decimal(self.open_seconds))

    @property
    def no_show_rate(self) -> Decimal | None:
        return _share(Decimal(self.no_shows), Decimal(self.completed + self.no_shows))

    @property
    def cancellation_rate(self) -> Decimal | None:
        return _share(Decimal(self.cancelled), Decimal(self.bookings + self.cancelled))


@dataclass(frozen=True)
class SpaceFigures(Figures):
    """The figures of one space, or of all of them (``space`` None)."""

    space: Space | None


@dataclass(frozen=True)
class DayFigures(Figures):
    """The figures of one local day, all spaces together."""

    day: date


@dataclass(frozen=True)
class Report:
    start: date
    end: date  # inclusive
    currency: str
    spaces: list[SpaceFigures]
    total: SpaceFigures
    days: list[DayFigures]


def studio_report(*, viewer, start: date, end: date) -> Report:
    """The figures of the local days ``start`` to ``end`` (inclusive), per space, per day and in
    total. Raises PermissionDenied without ``bookings.view_reports``. At most ten queries,
    whatever the number of bookings."""
    _require_reports(viewer)
    return _report(start=start, end=end)


def rendered_report(*, viewer, start: date, end: date, render: Callable[[Report], T]) -> T:
    """``render(studio_report(...))``, cached until a booking of the period's months or a space
    changes; ``render`` must depend on nothing else and be a module-level function (its name is
    in the key). The answer is shared between callers: treat it as read-only. Raises
    PermissionDenied without ``bookings.view_reports``. No query while cached."""
    _require_reports(viewer)
    key = f"bookings.report:{render.__module__}.{render.__qualname__}:" + key_part(
        (start, end, settings.TIME_ZONE, settings.STUDIO_CURRENCY)
    )
    return cache.get_or_set(key, lambda: render(_report(start=start, end=end)), namespaces=_namespaces(start, end))


def announce(*, start: date, end: date) -> None:
    """The request is going to read the report of ``start`` to ``end``: its versions are read
    with the request's first (the caller's), one L2 read for both."""
    cache.announce(*_namespaces(start, end))


def _require_reports(viewer) -> None:
    if not viewer.has_perm("bookings.view_reports"):
        raise PermissionDenied("Reports are for managers.", details={"permission": "bookings.view_reports"})


def _namespaces(start: date, end: date) -> list[str]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(analytics.month_namespace(month))
        month = (month + timedelta(days=31)).replace(day=1)
    return [analytics.FIGURES_NAMESPACE, *months]


def drop_after_event(sender, *, event, aggregate=None, **kwargs) -> None:
    """``event_recorded`` receiver: drop the reports of a changed booking's month, and of the
    month it moved from; of the months a closure recorded or removed covers."""
    if isinstance(aggregate, Closure):
        _, *months = _namespaces(studio_day(aggregate.start), studio_day(aggregate.end))
        cache.invalidate_for_change(*months)
        return
    if not isinstance(aggregate, Booking):
        return
    namespaces = [analytics.month_namespace(studio_day(aggregate.start))]
    moved_from = event.payload.get("from") if event.type == EventType.BOOKING_RESCHEDULED else None
    if isinstance(moved_from, dict):
        try:
            namespaces.append(analytics.month_namespace(studio_day(datetime.fromisoformat(moved_from["start"]))))
        except (KeyError, TypeError, ValueError):
            namespaces.append(analytics.FIGURES_NAMESPACE)
    cache.invalidate_for_change(*namespaces)


def drop_after_space_change(sender, instance: Space, **kwargs) -> None:
    """A space's name, opening hours or being active shows in every report."""
    if not kwargs.get("raw"):
        cache.invalidate_for_change(analytics.FIGURES_NAMESPACE)


def connect() -> None:
    event_recorded.connect(drop_after_event, dispatch_uid="bookings.reports.drop_after_event")
    post_save.connect(drop_after_space_change, sender=Space, dispatch_uid="bookings.reports.space_saved")
    post_delete.connect(drop_after_space_change, sender=Space, dispatch_uid="bookings.reports.space_deleted")


def _report(*, start: date, end: date) -> Report:
    # Every query on the one database read_alias() chose: a replica and the primary, or two
    # replicas, lag by different amounts, and a report reading from two would count bookings of a
    # space it does not list, or list closures of a time its figures do not know yet.
    using = read_alias()
    tallies = analytics.tallies(start=start, end=end, using=using)
    spaces = list(
        Space.objects.using(using).filter(Q(is_active=True) | Q(pk__in=list(tallies.by_space))).order_by("name")
    )
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    open_by_space, open_by_day = _open_seconds(spaces, days)
    for (space_pk, day), seconds in _closed_seconds(spaces, start=start, end=end, using=using).items():
        open_by_space[space_pk] -= seconds
        open_by_day[day] -= seconds
    by_space = [
        SpaceFigures(space=space, **_figures(tallies.by_space.get(space.pk), open_by_space[space.pk]))
        for space in spaces
    ]
    return Report(
        start=start,
        end=end,
        currency=settings.STUDIO_CURRENCY,
        spaces=by_space,
        total=SpaceFigures(
            space=None,
            **_figures(_sum(tallies.by_space.get(space.pk) for space in spaces), sum(open_by_space.values())),
        ),
        days=[DayFigures(day=day, **_figures(tallies.by_day.get(day), open_by_day[day])) for day in days],
    )


@dataclass(frozen=True)
class Preset:
    label: str
    start: date
    end: date


def period_presets(today: date) -> list[Preset]:
    """The periods managers ask for most: this month, last month and this year, whole."""
    this_month = today.replace(day=1)
    next_month = (this_month + timedelta(days=31)).replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    return [
        Preset("This month", this_month, next_month - timedelta(days=1)),
        Preset("Last month", last_month, this_month - timedelta(days=1)),
        Preset("This year", date(today.year, 1, 1), date(today.year, 12, 31)),
    ]


def _figures(tally: analytics.Tally | None, open_seconds: int) -> dict:
    tally = tally or analytics.Tally()
    return {
        "open_seconds": open_seconds,
        "booked_seconds": tally.booked_seconds,
        "bookings": tally.bookings,
        "completed": tally.completed,
        "cancelled": tally.cancelled,
        "no_shows": tally.no_shows,
        "revenue": _money(tally.revenue),
    }


def _sum(tallies: Iterable[analytics.Tally | None]) -> analytics.Tally:
    """The tallies (None for none) added up exactly: the total's hours and rates are of the exact
    time, not of the spaces' hours each rounded to a tenth."""
    total = analytics.Tally()
    for tally in tallies:
        if tally is not None:
            total.add(asdict(tally))
    return total


def _open_seconds(spaces: list[Space], days: list[date]) -> tuple[dict[int, int], dict[date, int]]:
    """How long each space opens over ``days``, and all of them on each day, by their opening
    hours: by the wall clock, corrected on the days a DST change makes 23 or 25 hours long."""
    wall = {space.pk: [_wall_seconds(space.opening_hours, weekday) for weekday in range(7)] for space in spaces}
    weekdays = Counter(day.weekday() for day in days)
    all_spaces = [sum(wall[space.pk][weekday] for space in spaces) for weekday in range(7)]
    by_space = {
        space.pk: sum(count * wall[space.pk][weekday] for weekday, count in weekdays.items()) for space in spaces
    }
    by_day = {day: all_spaces[day.weekday()] for day in days}
    zone = timezone.get_default_timezone()
    for day in days:
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        if midnight.utcoffset() == (midnight + timedelta(days=1)).utcoffset():
            continue
        for space in spaces:
            window = space.opening_window(day)
            exact = int((window[1] - window[0]).total_seconds()) if window else 0
            correction = exact - wall[space.pk][day.weekday()]
            by_space[space.pk] += correction
            by_day[day] += correction
    return by_space, by_day


def _closed_seconds(spaces: list[Space], *, start: date, end: date, using: str) -> dict[tuple[int, date], int]:
    """How long each space's opening hours lie in its or the whole studio's closures, per space and
    local day from ``start`` to ``end``; time that two closures share counts once. One query, on
    the database ``using``."""
    closures = list(
        Closure.objects.using(using)
        .filter(Q(space__in=spaces) | Q(space__isnull=True))
        .meeting(local_instant(start, "00:00"), local_instant(end, "24:00"))
    )
    closed = {}
    for closure in closures:
        first, last = max(start, studio_day(closure.start)), min(end, studio_day(closure.end))
        for day in (first + timedelta(days=offset) for offset in range((last - first).days + 1)):
            for space in spaces if closure.space_id is None else [s for s in spaces if s.pk == closure.space_id]:
                window = space.opening_window(day)
                if window and closure.start < window[1] and window[0] < closure.end:
                    closed.setdefault((space.pk, day), []).append(
                        (max(window[0], closure.start), min(window[1], closure.end))
                    )
    return {key: _covered_seconds(ranges) for key, ranges in closed.items()}


def _covered_seconds(ranges: list[tuple[datetime, datetime]]) -> int:
    """How long the union of ``ranges`` lasts."""
    seconds, reached = 0, None
    for range_start, range_end in sorted(ranges):
        if reached is not None and range_start < reached:
            range_start = reached
        if range_end > range_start:
            seconds += int((range_end - range_start).total_seconds())
            reached = range_end
    return seconds


def _wall_seconds(opening_hours: dict | None, weekday: int) -> int:
    hours = (opening_hours or {}).get(WEEKDAYS[weekday])
    if not hours:
        return 0
    (open_h, open_m), (close_h, close_m) = (map(int, clock.split(":")) for clock in hours)
    return (close_h * 60 + close_m - open_h * 60 - open_m) * 60


def _hours(seconds: int) -> Decimal:
    return (Decimal(int(seconds)) / Decimal(3600)).quantize(Decimal("0.1"))


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
        booked_hours=_hours(sum((b.duration for b in expected), timedelta(0)).total_seconds()),
    )
