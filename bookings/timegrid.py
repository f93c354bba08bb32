"""Where bookings sit on the staff pages' time grids: the calendar's columns and the Today timeline.

A grid runs along the studio's wall clock (settings.TIME_ZONE) from the earliest opening to the
latest closing of the lanes it shows; positions are percentages of that length, so a template
turns them into ``top``/``height`` (columns) or ``left``/``width`` (rows). Nothing here queries
the database: the views hand in the bookings a selector loaded.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from bookings.models import HOLDING_STATES, Booking, BookingState, Closure, Space
from bookings.selectors import closed_times, slots_around

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
    hours: list[tuple[str, float]]  # hour label and its offset
    lanes: list[Lane]
    now: float | None  # where the current time is, on a grid that shows today at this hour

    @property
    def length_hours(self) -> int:
        return self.last_hour - self.first_hour


def day_grid(
    *, day: date, spaces: list[Space], bookings: Iterable[Booking], now: datetime, closures: Iterable[Closure] = ()
) -> Grid:
    """One lane per space on ``day``; ``bookings`` and ``closures`` are that day's (any space)."""
    by_space: dict[int, list[Booking]] = {space.pk: [] for space in spaces}
    for booking in bookings:
        if booking.space_id in by_space:
            by_space[booking.space_id].append(booking)
    return _grid([(day, space, by_space[space.pk]) for space in spaces], now=now, closures=list(closures))


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
    return _grid([(day, space, by_day[day]) for day in days], now=now, closures=list(closures))


def _grid(lanes: list[tuple[date, Space, list[Booking]]], *, now: datetime, closures: list[Closure]) -> Grid:
    first_hour, last_hour = _hour_range(lanes)
    scale = _Scale(first_hour * 60, last_hour * 60)
    today = timezone.localdate(now, timezone.get_default_timezone())
    built = [_lane(day, space, bookings, closures=closures, scale=scale, now=now) for day, space, bookings in lanes]
    now_minute = _minute(now, today)
    shows_now = any(day == today for day, _, _ in lanes) and first_hour * 60 <= now_minute < last_hour * 60
    return Grid(
        first_hour=first_hour,
        last_hour=last_hour,
        hours=[(f"{hour:02d}:00", scale.at(hour * 60)) for hour in range(first_hour, last_hour)],
        lanes=built,
        now=scale.at(now_minute) if shows_now else None,
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
        open_from=scale.at(_clock(hours[0])) if hours else None,
        open_until=scale.at(_clock(hours[1])) if hours else None,
        blocks=_blocks(shown, day=day, scale=scale),
        closures=[
            block for block in (_closure_block(closure, day=day, scale=scale) for closure in closed) if block.size
        ],
        cells=_cells(space, day, held, scale=scale, now=now),
    )


def _closure_block(closure: Closure, *, day: date, scale: "_Scale") -> ClosureBlock:
    start, end = _minute(closure.start, day), _minute(closure.end, day)
    return ClosureBlock(closure=closure, offset=scale.at(start), size=scale.span(start, end))


def _blocks(bookings: list[Booking], *, day: date, scale: "_Scale") -> list[Block]:
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
        start, end = _minute(booking.start, day), _minute(booking.end, day)
        holds = booking.state in HOLDING_STATES
        buffer_end = _minute(booking.blocks_until, day) if holds else end
        blocks.append(
            Block(
                booking=booking,
                offset=scale.at(start),
                size=scale.span(start, end),
                buffer=scale.span(end, buffer_end),
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
                    offset=scale.at(_minute(start, day)),
                    size=scale.span(_minute(start, day), _minute(visible_end, day)),
                    first=first,
                )
            )
            start, first = boundary, False
    return cells


class _Scale:
    """Wall-clock minutes of a day to percentages of the grid, clamped to it."""

    def __init__(self, first_minute: int, last_minute: int):
        self.first = first_minute
        self.length = max(1, last_minute - first_minute)

    def at(self, minute: int) -> float:
        return round(self._percent(minute), 3)

    def span(self, first_minute: int, last_minute: int) -> float:
        """The length from one minute to another, both clamped to the grid."""
        return round(self._percent(last_minute) - self._percent(first_minute), 3)

    def _percent(self, minute: int) -> float:
        return min(100.0, max(0.0, 100 * (minute - self.first) / self.length))


def _minute(instant: datetime, day: date) -> int:
    """Minutes from the studio's local midnight starting ``day`` to ``instant``, on the wall clock."""
    local = timezone.localtime(instant, timezone.get_default_timezone())
    return (local.date() - day).days * 24 * 60 + local.hour * 60 + local.minute


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _round_up(instant: datetime, minutes: int) -> datetime:
    local = timezone.localtime(instant, timezone.get_default_timezone()).replace(second=0, microsecond=0)
    if local.minute % minutes or instant.second or instant.microsecond:
        local += timedelta(minutes=minutes - local.minute % minutes)
    return local.astimezone(UTC)


def _next_boundary(instant: datetime, minutes: int) -> datetime:
    """The first wall-clock multiple of ``minutes`` after ``instant``."""
    local = timezone.localtime(instant, timezone.get_default_timezone()).replace(second=0, microsecond=0)
    return (local + timedelta(minutes=minutes - local.minute % minutes)).astimezone(UTC)
