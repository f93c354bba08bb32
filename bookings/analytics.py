"""The daily figures behind the reports: per space and local day, how many bookings, in which
state, how many hours they held and what they earned.

On PostgreSQL the materialized view ``bookings_daily_figures`` holds them pre-aggregated, one
row per space and day, refreshed CONCURRENTLY (readers never wait) by beat every
``ANALYTICS_REFRESH_INTERVAL`` seconds and by ``manage.py refresh_analytics``. What may have
changed since the last refresh is counted live from the bookings: every day from the refresh
day on (today, the future), and the earlier days of bookings that have an event since (a
late no-show, a booking moved out of a past day). So a report is never stale. The view's
comment records the time zone its days are in and when it was refreshed; a refresh under
another ``TIME_ZONE`` rebuilds it. Elsewhere (SQLite) every figure is counted live, with the
same definitions.

A booking belongs to the local day (settings.TIME_ZONE) it starts on. What "bookings" means is
said once, in ``BOOKINGS_DEFINITION``, which the Reports page, its CSVs and the API show.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from bookings.models import Booking, BookingState, Space, studio_day
from bookings.selectors import day_bounds
from events.models import Event, EventType
from photostudio.cache import cache

BOOKINGS_DEFINITION = (
    "Bookings are all bookings that start in the period except cancelled ones (cancelled bookings are "
    "counted apart); booked hours are theirs; revenue is the price of completed sessions."
)

VIEW = "bookings_daily_figures"
# What is cached from these figures (the reports) is filed under this namespace, which a refresh
# drops, and under each month's (``month_namespace``), which a change to a booking of it drops.
FIGURES_NAMESPACE = "figures"
# A change saved this long before a refresh may commit after the refresh has read the bookings:
# its day is counted live rather than trusted to the view.
COMMIT_MARGIN = timedelta(minutes=10)
_REFRESH_LOCK = 7_340_011  # pg_try_advisory_xact_lock key: one refresh at a time

_NOT_CANCELLED = ~Q(state=BookingState.CANCELLED)
_COMPLETED = Q(state=BookingState.COMPLETED)


def view_sql(time_zone: str) -> list[str]:
    """The statements that (re)create the view for days in ``time_zone``."""
    zone = time_zone.replace("'", "''")
    return [
        f"DROP MATERIALIZED VIEW IF EXISTS {VIEW}",
        f"""
        CREATE MATERIALIZED VIEW {VIEW} AS
        SELECT space_id,
               (start AT TIME ZONE '{zone}')::date AS day,
               count(*) FILTER (WHERE state <> 'cancelled') AS bookings,
               count(*) FILTER (WHERE state = 'pending') AS pending,
               count(*) FILTER (WHERE state = 'confirmed') AS confirmed,
               count(*) FILTER (WHERE state = 'in_progress') AS in_progress,
               count(*) FILTER (WHERE state = 'completed') AS completed,
               count(*) FILTER (WHERE state = 'no_show') AS no_shows,
               count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
               coalesce(sum(extract(epoch FROM "end" - start)) FILTER (WHERE state <> 'cancelled'), 0)::bigint
                   AS booked_seconds,
               coalesce(sum(price) FILTER (WHERE state = 'completed'), 0) AS revenue
        FROM bookings_booking
        GROUP BY space_id, day
        """,
        f"CREATE UNIQUE INDEX {VIEW}_day_space ON {VIEW} (day, space_id)",
    ]


@dataclass
class Tally:
    """Counts of some bookings; adds up."""

    bookings: int = 0
    completed: int = 0
    no_shows: int = 0
    cancelled: int = 0
    booked_seconds: int = 0
    revenue: Decimal = field(default_factory=lambda: Decimal("0.00"))

    def add(self, row: dict) -> None:
        self.bookings += int(row["bookings"])
        self.completed += int(row["completed"])
        self.no_shows += int(row["no_shows"])
        self.cancelled += int(row["cancelled"])
        self.booked_seconds += int(row["booked_seconds"] or 0)
        self.revenue += Decimal(row["revenue"] or 0)


@dataclass
class Tallies:
    by_space: dict[int, Tally]
    by_day: dict[date, Tally]


@dataclass(frozen=True)
class ViewState:
    time_zone: str
    refreshed_at: datetime


def tallies(*, start: date, end: date, using: str) -> Tallies:
    """The bookings of the local days ``start`` to ``end`` (inclusive), tallied per space and per
    day: from the view where it is current, live for the rest; every query on the database
    ``using``, whose view and bookings are of one moment. At most seven queries."""
    result = Tallies(by_space={}, by_day={})
    state = view_state(using)
    if state is None or state.time_zone != settings.TIME_ZONE:
        _add_live(result, [(start, end, None)], using=using)
        return result
    since = state.refreshed_at - COMMIT_MARGIN
    live_from = studio_day(since)
    changed = _changed_days(since=since, before=live_from, using=using) if start < live_from else {}
    changed = {day: spaces for day, spaces in changed.items() if start <= day <= end}
    if start < live_from:
        last_day = min(end, live_from - timedelta(days=1))
        _add_from_view(result, start=start, end=last_day, excluded=changed, using=using)
    ranges = [(day, day, spaces) for day, spaces in sorted(changed.items())]
    if end >= live_from:
        ranges.append((max(start, live_from), end, None))
    _add_live(result, ranges, using=using)
    return result


def month_namespace(day: date) -> str:
    return f"figures:{day:%Y-%m}"


def view_state(using: str = DEFAULT_DB_ALIAS) -> ViewState | None:
    """The view's time zone and last refresh on the database ``using``; None when there is no
    view (SQLite)."""
    if connections[using].vendor != "postgresql":
        return None
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", [VIEW])
        row = cursor.fetchone()
    if not row or not row[0]:
        return None
    comment = json.loads(row[0])
    return ViewState(comment["time_zone"], datetime.fromisoformat(comment["refreshed_at"]))


def refresh() -> ViewState | None:
    """Bring the view up to date (CONCURRENTLY: reports keep reading it meanwhile), rebuilding it
    when TIME_ZONE changed. None on SQLite, or when another refresh is running right now."""
    if connection.vendor != "postgresql":
        return None
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s), now()", [_REFRESH_LOCK])
        locked, started = cursor.fetchone()
        if not locked:
            return None
        current = view_state()
        if current is None or current.time_zone != settings.TIME_ZONE:
            for statement in view_sql(settings.TIME_ZONE):
                cursor.execute(statement)
        else:
            cursor.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {VIEW}")
        state = ViewState(settings.TIME_ZONE, started.astimezone(UTC))
        comment = json.dumps({"time_zone": state.time_zone, "refreshed_at": state.refreshed_at.isoformat()})
        # DDL takes no bound parameters (DATABASE_PREPARED_STATEMENTS): the comment goes in as a literal.
        cursor.execute(connection.ops.compose_sql(f"COMMENT ON MATERIALIZED VIEW {VIEW} IS %s", [comment]))
        # Rows written without an event (in bulk, by SQL) show from this refresh on, cached or not.
        cache.invalidate_for_change(FIGURES_NAMESPACE)
    return state


def _changed_days(*, since: datetime, before: date, using: str) -> dict[date, set[int]]:
    """The spaces, per local day before ``before``, whose figures may have changed since ``since``:
    where each booking with an event since then starts, and where a rescheduled one started."""
    boundary, _ = day_bounds(before)
    recent = Event.objects.using(using).filter(aggregate_type="bookings.booking", occurred_at__gte=since).order_by()
    changed: dict[date, set[int]] = {}
    # The ids first: as a subquery, PostgreSQL may scan every booking that starts before the boundary.
    booking_ids = {int(pk) for pk in recent.values_list("aggregate_id", flat=True)}
    touched = Booking.objects.using(using).filter(pk__in=booking_ids, start__lt=boundary)
    for space_id, start in touched.values_list("space_id", "start"):
        changed.setdefault(studio_day(start), set()).add(space_id)
    moves = recent.filter(type=EventType.BOOKING_RESCHEDULED).values_list("payload", flat=True)
    if moves:
        spaces = dict(Space.objects.using(using).values_list("slug", "pk"))
        for payload in moves:
            moved_from = payload.get("from") or {}
            if "start" in moved_from and moved_from.get("space") in spaces:
                day = studio_day(datetime.fromisoformat(moved_from["start"]))
                if day < before:
                    changed.setdefault(day, set()).add(spaces[moved_from["space"]])
    return changed


def _add_from_view(result: Tallies, *, start: date, end: date, excluded: dict[date, set[int]], using: str) -> None:
    pairs = [(day, space_id) for day, spaces in excluded.items() for space_id in spaces]
    exclusion, params = "", []
    if pairs:
        exclusion = "AND (day, space_id) NOT IN (" + ", ".join(["(%s::date, %s)"] * len(pairs)) + ")"
        params = [value for pair in pairs for value in pair]
    sums = (
        "sum(bookings) AS bookings, sum(completed) AS completed, sum(no_shows) AS no_shows, "
        "sum(cancelled) AS cancelled, sum(booked_seconds) AS booked_seconds, sum(revenue) AS revenue"
    )
    # One pass over the view for both tallies: a row per space (day NULL) and a row per day (space NULL).
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT space_id, day, {sums} FROM {VIEW} WHERE day >= %s AND day <= %s {exclusion} "
            "GROUP BY GROUPING SETS ((space_id), (day))",
            [start, end, *params],
        )
        columns = [column.name for column in cursor.description]
        for row in cursor.fetchall():
            values = dict(zip(columns, row, strict=True))
            if values["day"] is None:
                result.by_space.setdefault(values["space_id"], Tally()).add(values)
            else:
                result.by_day.setdefault(values["day"], Tally()).add(values)


def _add_live(result: Tallies, ranges: list[tuple[date, date, set[int] | None]], *, using: str) -> None:
    """Count the bookings of each (first day, last day, spaces or None for all) range live."""
    if not ranges:
        return
    condition = Q()
    for first, last, spaces in ranges:
        lower, _ = day_bounds(first)
        _, upper = day_bounds(last)
        part = Q(start__gte=lower, start__lt=upper)
        condition |= part & Q(space_id__in=spaces) if spaces is not None else part
    bookings = Booking.objects.using(using).filter(condition).order_by()
    sums = {
        "bookings": Count("id", filter=_NOT_CANCELLED),
        "completed": Count("id", filter=_COMPLETED),
        "no_shows": Count("id", filter=Q(state=BookingState.NO_SHOW)),
        "cancelled": Count("id", filter=Q(state=BookingState.CANCELLED)),
        "booked": Sum(ExpressionWrapper(F("end") - F("start"), output_field=DurationField()), filter=_NOT_CANCELLED),
        "revenue": Sum("price", filter=_COMPLETED),
    }
    for row in bookings.values("space").annotate(**sums):
        result.by_space.setdefault(row["space"], Tally()).add(_seconds(row))
    day = TruncDate("start", tzinfo=timezone.get_default_timezone())
    for row in bookings.annotate(day=day).values("day").annotate(**sums):
        result.by_day.setdefault(row["day"], Tally()).add(_seconds(row))


def _seconds(row: dict) -> dict:
    booked = row["booked"]
    return {**row, "booked_seconds": int(booked.total_seconds()) if booked else 0}
