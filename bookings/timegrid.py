"""Where bookings sit on the staff pages' time grids: the calendar's columns and the Today timeline.

A grid runs from the earliest opening to the latest closing of the lanes it shows, on the studio's
wall clock (settings.TIME_ZONE); positions are percentages of the real time between them, so the
night the clocks go back has 25 hours with the repeated one drawn twice, and the night they go
forward 23. A template turns them into ``top``/``height`` (columns) or ``left``/``width`` (rows). Nothing here queries
the database: the views hand in the bookings a selector loaded.
"""

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
class Lane:
    day: date
    space: Space
    hours: list[str] | None  # ["HH:MM", "HH:MM"] opening and closing, None when closed
    open_from: float | None  # None: closed all day
    open_until: float | None
    blocks: list[Block]
    closures: list[ClosureBlock]
    cells: list[Cell]


@dataclass(frozen=True)
class Grid:
    first_hour: int
    last_hour: int
    length_hours: int  # real hours from first_hour to last_hour: 25 or 23 the nights the clocks change
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
    return _grid(lanes, labelled_day=day, now=now, closures=list(closures))


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
    return _grid(lanes, labelled_day=monday, now=now, closures=list(closures))


def _grid(
    lanes: list[tuple[date, Space, list[Booking]]], *, labelled_day: date, now: datetime, closures: list[Closure]
) -> Grid:
    """The hour labels are ``labelled_day``'s: the one day of a day grid, the Monday of a week's,
    on which no clocks change."""
    first_hour, last_hour = _hour_range(lanes)
    built = [
        _lane(day, space, bookings, closures=closures, scale=_Scale.of(day, first_hour, last_hour), now=now)
        for day, space, bookings in lanes
    ]
    labelled = _Scale.of(labelled_day, first_hour, last_hour)
    hour_starts = [labelled.first + timedelta(hours=hour) for hour in range(labelled.length // 60)]
    today = timezone.localdate(now, timezone.get_default_timezone())
    today_scale = _Scale.of(today, first_hour, last_hour)
    shows_now = any(day == today for day, _, _ in lanes) and today_scale.first <= now < today_scale.last
    return Grid(
        first_hour=first_hour,
        last_hour=last_hour,
        length_hours=len(hour_starts),
        hours=[(time_text(start), labelled.at(start)) for start in hour_starts],
        lanes=built,
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


class _Scale:
    """Instants to percentages of a lane by the real minutes since its first hour, clamped to it."""

    def __init__(self, first: datetime, last: datetime):
        self.first, self.last = first, last
        self.length = max(1, _minutes_between(first, last))

    @classmethod
    def of(cls, day: date, first_hour: int, last_hour: int) -> "_Scale":
        return cls(local_instant(day, f"{first_hour:02d}:00"), local_instant(day, f"{last_hour:02d}:00"))

    def at(self, instant: datetime) -> float:
        return round(self._percent(instant), 3)

    def span(self, first: datetime, last: datetime) -> float:
        """The length from one instant to another, both clamped to the grid."""
        return round(self._percent(last) - self._percent(first), 3)

    def _percent(self, instant: datetime) -> float:
        return min(100.0, max(0.0, 100 * _minutes_between(self.first, instant) / self.length))


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
