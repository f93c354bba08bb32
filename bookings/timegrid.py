"""Where bookings sit on the staff pages' time grids: the calendar's columns and the Today timeline.

A grid runs from the earliest opening to the latest closing of the lanes it shows, on the studio's
wall clock (settings.TIME_ZONE), in rows of one real hour each, labelled down the side (or across the
top) for all its lanes. The night the clocks go back has 25 rows with the repeated hour drawn twice
('02:00 CEST', '02:00 CET'), the night they go forward 23. A week's lanes share the rows of all its
days, so every day lines up with the one set of labels, and a day leaves the rows it does not have
empty (``MissingHour``): the other days of the week the clocks go back have no second 02:00, and
the day they go forward has no 02:00. Positions are percentages of the rows; a template turns them
into ``top``/``height`` (columns) or ``left``/``width`` (rows). Nothing here queries the database:
the views hand in the bookings a selector loaded.
"""

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from bookings.models import HOLDING_STATES, Booking, BookingState, Closure, Space, local_instant
from bookings.selectors import closed_times, slots_around
from photostudio.dates import time_text

# Free time is offered in cells starting on the half hour; a click suggests an hour-long session.
CELL_MINUTES = 30
SUGGESTED_LENGTH = timedelta(hours=1)
# A session cannot be booked to start earlier than this rounding of now.
START_ROUNDING_MINUTES = 15
_DEFAULT_HOURS = (8, 20)


@dataclass(frozen=True)
class Block:
    """A booking on a lane; bookings that overlap (a cancelled one and its replacement) share it
    side by side as ``tracks``."""

    booking: Booking
    offset: float
    size: float
    buffer: float  # the clean-up time after the end, while the booking holds its space
    track: int
    tracks: int

    @property
    def end_offset(self) -> float:
        return round(self.offset + self.size, 3)

    @property
    def track_offset(self) -> float:
        return round(100 * self.track / self.tracks, 3)

    @property
    def track_size(self) -> float:
        return round(100 / self.tracks, 3)


@dataclass(frozen=True)
class ClosureBlock:
    """A closure over a lane, drawn beneath the bookings with its reason."""

    closure: Closure
    offset: float
    size: float


@dataclass(frozen=True)
class Cell:
    """A piece of free time where a new booking may start; ``end`` is the suggested end."""

    space: Space
    start: datetime
    end: datetime
    offset: float
    size: float
    first: bool  # the first cell of its stretch of free time, which is labelled

    @property
    def booking_query(self) -> str:
        """The query of the link that books it (``BookingPrefillForm``): its space and times on the
        studio's clock, and as the exact moments, which "02:30" alone is not the night the clocks go back."""
        local_start, local_end = (
            timezone.localtime(moment, timezone.get_default_timezone()) for moment in (self.start, self.end)
        )
        return urlencode(
            {
                "space": self.space.slug,
                "date": f"{local_start:%Y-%m-%d}",
                "start_time": f"{local_start:%H:%M}",
                "end_time": f"{local_end:%H:%M}",
                "alternative": f"{self.space.slug} {self.start.isoformat()} {self.end.isoformat()}",
            },
            safe=":",
        )


@dataclass(frozen=True)
class MissingHour:
    """A row of the grid that a lane's day does not have: the hour its clocks skip going forward
    (``skipped``), or the repeated hour of another day of its week."""

    offset: float
    size: float
    skipped: bool


@dataclass(frozen=True)
class Lane:
    day: date
    space: Space
    hours: list[str] | None  # ["HH:MM", "HH:MM"] opening and closing, None when closed
    open_from: float | None  # None: closed all day
    open_until: float | None
    blocks: list[Block]
    closures: list[ClosureBlock]
    cells: list[Cell]
    missing_hours: list[MissingHour]


@dataclass(frozen=True)
class Grid:
    first_hour: int
    last_hour: int
    length_hours: int  # hour rows from first_hour to last_hour: 25 or 23 the nights the clocks change
    hours: list[tuple[str, float]]  # hour label and its offset
    lanes: list[Lane]
    now: float | None  # where the current time is, on a grid that shows today at this hour


def day_grid(
    *, day: date, spaces: list[Space], bookings: Iterable[Booking], now: datetime, closures: Iterable[Closure] = ()
) -> Grid:
    """One lane per space on ``day``; ``bookings`` and ``closures`` are that day's (any space)."""
    by_space: dict[int, list[Booking]] = {space.pk: [] for space in spaces}
    for booking in bookings:
        if booking.space_id in by_space:
            by_space[booking.space_id].append(booking)
    lanes = [(day, space, by_space[space.pk]) for space in spaces]
    return _grid(lanes, now=now, closures=list(closures))


def week_grid(
    *, monday: date, space: Space, bookings: Iterable[Booking], now: datetime, closures: Iterable[Closure] = ()
) -> Grid:
    """One lane per day of the week starting ``monday``, for one space; ``bookings`` and
    ``closures`` are that week's."""
    days = [monday + timedelta(days=offset) for offset in range(7)]
    by_day: dict[date, list[Booking]] = {day: [] for day in days}
    for booking in bookings:
        if booking.space_id != space.pk:
            continue
        for day in days:
            if _minute(booking.start, day) < 24 * 60 and _minute(booking.end, day) > 0:
                by_day[day].append(booking)
    lanes = [(day, space, by_day[day]) for day in days]
    return _grid(lanes, now=now, closures=list(closures))


def _grid(lanes: list[tuple[date, Space, list[Booking]]], *, now: datetime, closures: list[Closure]) -> Grid:
    first_hour, last_hour = _hour_range(lanes)
    scales = {day: _Scale(day, first_hour, last_hour) for day in sorted({day for day, _, _ in lanes})}
    rows = sorted({row for scale in scales.values() for row in scale.own_rows})
    for scale in scales.values():
        scale.share(rows)
    # Labelled as the longest day writes them, which names the zone of each 02:00 it repeats.
    labels: dict[tuple[int, int], str] = {}
    for scale in sorted(scales.values(), key=lambda scale: len(scale.hour_starts), reverse=True):
        for start, row in zip(scale.hour_starts, scale.own_rows, strict=True):
            labels.setdefault(row, time_text(start))
    today = timezone.localdate(now, timezone.get_default_timezone())
    today_scale = scales.get(today)
    shows_now = today_scale is not None and today_scale.first <= now < today_scale.last
    return Grid(
        first_hour=first_hour,
        last_hour=last_hour,
        length_hours=len(rows),
        hours=[(labels[row], round(100 * index / len(rows), 3)) for index, row in enumerate(rows)],
        lanes=[
            _lane(day, space, bookings, closures=closures, scale=scales[day], now=now) for day, space, bookings in lanes
        ],
        now=today_scale.at(now) if shows_now else None,
    )


def _hour_range(lanes) -> tuple[int, int]:
    opening = [space.hours_on(day) for day, space, _ in lanes]
    opening = [hours for hours in opening if hours]
    if not opening:
        return _DEFAULT_HOURS
    earliest = min(_clock(hours[0]) for hours in opening)
    latest = max(_clock(hours[1]) for hours in opening)
    return earliest // 60, min(24, -(-latest // 60))


def _lane(
    day: date, space: Space, bookings: list[Booking], *, closures: list[Closure], scale: "_Scale", now: datetime
) -> Lane:
    shown = [booking for booking in bookings if booking.state != BookingState.CANCELLED]
    hours = space.hours_on(day) if space.is_active else None
    closed = [
        closure
        for closure in closures
        if closure.space_id in (None, space.pk)
        and _minute(closure.start, day) < 24 * 60
        and _minute(closure.end, day) > 0
    ]
    held = sorted(
        [
            *((booking.start, booking.blocks_until) for booking in bookings if booking.state in HOLDING_STATES),
            *closed_times(space=space, closures=closed),
        ],
        key=lambda pair: pair[0],
    )
    return Lane(
        day=day,
        space=space,
        hours=hours,
        open_from=scale.at(local_instant(day, hours[0])) if hours else None,
        open_until=scale.at(local_instant(day, hours[1])) if hours else None,
        blocks=_blocks(shown, scale=scale),
        closures=[block for block in (_closure_block(closure, scale=scale) for closure in closed) if block.size],
        cells=_cells(space, day, held, scale=scale, now=now),
        missing_hours=scale.missing_hours(),
    )


def _closure_block(closure: Closure, *, scale: "_Scale") -> ClosureBlock:
    return ClosureBlock(closure=closure, offset=scale.at(closure.start), size=scale.span(closure.start, closure.end))


def _blocks(bookings: list[Booking], *, scale: "_Scale") -> list[Block]:
    tracks_end: list[datetime] = []
    placed: list[tuple[Booking, int]] = []
    cluster: list[int] = []  # indexes into placed of the current group of overlapping bookings
    cluster_end = None
    sizes: dict[int, int] = {}
    for booking in sorted(bookings, key=lambda b: (b.start, b.pk)):
        if cluster_end is not None and booking.start >= cluster_end:
            for index in cluster:
                sizes[index] = len(tracks_end)
            tracks_end, cluster = [], []
        track = next((i for i, end in enumerate(tracks_end) if end <= booking.start), len(tracks_end))
        if track == len(tracks_end):
            tracks_end.append(booking.end)
        else:
            tracks_end[track] = booking.end
        cluster.append(len(placed))
        placed.append((booking, track))
        cluster_end = max(tracks_end)
    for index in cluster:
        sizes[index] = len(tracks_end)
    blocks = []
    for index, (booking, track) in enumerate(placed):
        buffer_end = booking.blocks_until if booking.state in HOLDING_STATES else booking.end
        blocks.append(
            Block(
                booking=booking,
                offset=scale.at(booking.start),
                size=scale.span(booking.start, booking.end),
                buffer=scale.span(booking.end, buffer_end),
                track=track,
                tracks=sizes[index],
            )
        )
    return blocks


def _cells(space: Space, day: date, held, *, scale: "_Scale", now: datetime) -> list[Cell]:
    shortest = timedelta(minutes=settings.BOOKING_MIN_DURATION_MINUTES)
    earliest = _round_up(now, START_ROUNDING_MINUTES)
    cells = []
    for slot in slots_around(space=space, day=day, held=held):
        start = max(slot.start, earliest)
        first = True
        while start + shortest <= slot.end:
            boundary = _next_boundary(start, CELL_MINUTES)
            visible_end = min(boundary, slot.end)
            cells.append(
                Cell(
                    space=space,
                    start=start,
                    end=min(start + SUGGESTED_LENGTH, slot.end),
                    offset=scale.at(start),
                    size=scale.span(start, visible_end),
                    first=first,
                )
            )
            start, first = boundary, False
    return cells


def _hour_starts(first: datetime, last: datetime) -> list[datetime]:
    """The instants, one real hour apart from ``first``, at which a day's rows start before ``last``."""
    return [first + timedelta(hours=hour) for hour in range(-(-_minutes_between(first, last) // 60))]


def _row(start: datetime) -> tuple[int, int]:
    """The row an hour starting at ``start`` takes: its minute of the local day, then which of the
    two the night the clocks go back repeats it (``fold``)."""
    local = timezone.localtime(start, timezone.get_default_timezone())
    return local.hour * 60 + local.minute, local.fold


class _Scale:
    """Instants of one lane's day to percentages of the rows its grid ``share``s (before any is
    placed), clamped to the day's hours."""

    def __init__(self, day: date, first_hour: int, last_hour: int):
        self.first = local_instant(day, f"{first_hour:02d}:00")
        self.last = local_instant(day, f"{last_hour:02d}:00")
        self.hour_starts = _hour_starts(self.first, self.last)
        self.own_rows = [_row(start) for start in self.hour_starts]
        # Fewer real minutes than the clock shows: the clocks go forward within this day's hours.
        self.skips_hours = _minutes_between(self.first, self.last) < 60 * (last_hour - first_hour)

    def share(self, rows: list[tuple[int, int]]) -> None:
        """Lay the day on ``rows``, the sorted rows of all the grid's days, which include its own."""
        index = {row: number for number, row in enumerate(rows)}
        self.row_count = max(1, len(rows))
        self.row_numbers = [index[row] for row in self.own_rows]
        self.missing_rows = sorted(set(range(len(rows))) - set(self.row_numbers))

    def at(self, instant: datetime) -> float:
        return round(self._percent(instant), 3)

    def span(self, first: datetime, last: datetime) -> float:
        """The length from one instant to another, both clamped to the grid."""
        return round(self._percent(last) - self._percent(first), 3)

    def missing_hours(self) -> list[MissingHour]:
        share = 100 / self.row_count
        return [
            MissingHour(offset=round(share * row, 3), size=round(share, 3), skipped=self.skips_hours)
            for row in self.missing_rows
        ]

    def _percent(self, instant: datetime) -> float:
        if not self.hour_starts:  # hours that all fall in the gap of the clocks going forward
            return 0.0
        instant = min(self.last, max(self.first, instant))
        index = bisect.bisect_right(self.hour_starts, instant) - 1
        into_hour = _minutes_between(self.hour_starts[index], instant) / 60
        return 100 * (self.row_numbers[index] + into_hour) / self.row_count


def _minutes_between(first: datetime, last: datetime) -> int:
    return (last - first) // timedelta(minutes=1)


def _minute(instant: datetime, day: date) -> int:
    """Minutes from the studio's local midnight starting ``day`` to ``instant``, on the wall clock."""
    local = timezone.localtime(instant, timezone.get_default_timezone())
    return (local.date() - day).days * 24 * 60 + local.hour * 60 + local.minute


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _round_up(instant: datetime, minutes: int) -> datetime:
    local = timezone.localtime(instant, timezone.get_default_timezone())
    if local.minute % minutes or local.second or local.microsecond:
        return _next_boundary(instant, minutes)
    return instant.astimezone(UTC)


def _next_boundary(instant: datetime, minutes: int) -> datetime:
    """The first wall-clock multiple of ``minutes`` after ``instant``, counted in real time (in UTC):
    adding to the local time would jump from the first 02:30 of the night the clocks go back to 03:00,
    past the repeated hour."""
    local = timezone.localtime(instant, timezone.get_default_timezone())
    whole_minute = instant.astimezone(UTC) - timedelta(seconds=local.second, microseconds=local.microsecond)
    return whole_minute + timedelta(minutes=minutes - local.minute % minutes)
