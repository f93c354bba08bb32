"""A studio group with years of history, for ``manage.py seed_demo --bookings N``: benchmarks and
trying the pages at scale.

Four locations of six spaces each, their managers, front desk and photographers, N/20 clients and
N bookings in every state with the events their services would have recorded (created, then
each state change), written in bulk: COPY on PostgreSQL, batched inserts elsewhere. Bookings lie
on a grid of each space's opening hours (one slot per hour: the session, then the space's
buffer), so no two holding bookings of a space overlap and the exclusion constraint holds. The
grid ends a month after ``today`` (``future_days``) and reaches back as far as N bookings need; Mondays are quiet,
weekends full, and ``BUSY_DAY_OFFSET`` days before ``today`` every slot is taken.

Bookings that ended before ``now`` are completed, no-shows or cancelled; the ones under way are
in progress; later ones are pending, confirmed or cancelled. Events carry ``dispatched_at`` so
the relay does not send years of history.
"""

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection, models, transaction

from bookings.models import Booking, BookingState, Client, Space, local_instant
from employees.models import Employee
from employees.roles import Role
from events.models import Event
from events.partitions import create_partitions
from photostudio.inputs import FIRST_DAY

LOCATIONS = ["Riverside", "Old Town", "Harbour", "Hillside"]
# (slug suffix, name, capacity, hourly rate, buffer minutes, opening hours on weekdays, on weekends)
SPACE_KINDS = [
    ("studio_1", "Studio 1", 10, "80.00", 15, ["08:00", "22:00"], ["09:00", "20:00"]),
    ("studio_2", "Studio 2", 8, "70.00", 15, ["08:00", "22:00"], ["09:00", "20:00"]),
    ("cyclorama", "Cyclorama", 12, "120.00", 20, ["09:00", "21:00"], ["09:00", "21:00"]),
    ("daylight", "Daylight loft", 6, "65.00", 15, ["08:00", "20:00"], ["08:00", "20:00"]),
    ("portrait", "Portrait room", 4, "45.00", 10, ["09:00", "21:00"], ["10:00", "18:00"]),
    ("makeup", "Make-up room", 3, "25.00", 10, ["08:00", "22:00"], ["08:00", "20:00"]),
]
SLOT = timedelta(hours=1)
FUTURE_DAYS = 31
BUSY_DAY_OFFSET = 7
# Share of a day's slots that are booked, by weekday (Monday first).
DAY_FILL = (0.1, 0.6, 0.65, 0.7, 0.8, 0.95, 0.9)
BATCH = 10_000

FIRST_NAMES = ["Alice", "Ben", "Chiara", "Dmitri", "Emma", "Farah", "Goran", "Hana", "Ivan", "Julia", "Kenji", "Lena"]
LAST_NAMES = ["Moreau", "Okafor", "Rossi", "Ivanov", "Schulz", "Haddad", "Novak", "Sato", "Petrov", "Weber", "Kim"]


@dataclass(frozen=True)
class Grid:
    """A slot of one space: the session (an hour less the space's buffer) and its price."""

    space: Space
    session: timedelta
    price: Decimal


class AlreadySeeded(Exception):
    """The group's spaces already have bookings; seeding again would collide with them."""


class TooManyBookings(Exception):
    """The group's history would begin before the studio's calendar."""


@dataclass(frozen=True)
class GroupPlan:
    """How many bookings the group gets, on which days: ``plan_group`` works it out, reading only."""

    bookings: int
    today: date
    first_day: date
    last_day: date


def plan_group(*, bookings: int, today: date, future_days: int = FUTURE_DAYS) -> GroupPlan:
    """The days of a group of ``bookings`` bookings, from as far back as they need to ``future_days``
    after ``today``, on the group's spaces as they are saved (or will be). Raises TooManyBookings
    when they would begin before the studio's calendar (``photostudio.inputs.FIRST_DAY``): the
    pages, the API and the reports take no earlier day."""
    spaces, last_day = _planned_spaces(), today + timedelta(days=future_days)
    day, total = last_day, 0
    while True:
        for space_index, space in enumerate(spaces):
            total += len(_booked(day, len(_day_slots(space, day)), _day_fill(day, today), space_index))
        if total >= bookings:
            return GroupPlan(bookings=bookings, today=today, first_day=day, last_day=last_day)
        if day <= FIRST_DAY:
            raise TooManyBookings(f"The group's history from {FIRST_DAY} holds at most {total:,} bookings.")
        day -= timedelta(days=1)


def seed_group(
    plan: GroupPlan, *, now: datetime, progress: Callable[[int, int], None] = lambda done, total: None
) -> dict:
    """Create the group and the bookings of ``plan``; report what was made. Raises AlreadySeeded
    when the group's spaces have bookings."""
    bookings, today, first, last_day = plan.bookings, plan.today, plan.first_day, plan.last_day
    spaces = _spaces()
    if Booking.objects.filter(space__in=spaces).exists():
        raise AlreadySeeded(
            f"The studio group already has {Booking.objects.filter(space__in=spaces).count()} bookings."
        )
    staff = _staff()
    clients = _clients(max(1, bookings // 20))
    grids = {space.pk: Grid(space, SLOT - space.buffer, space.price_for(SLOT - space.buffer)) for space in spaces}
    create_partitions(first=first - timedelta(days=62), last=last_day)
    rng = random.Random(bookings)
    next_id = (Booking.objects.aggregate(models.Max("id"))["id__max"] or 0) + 1
    done = 0
    batch: list[tuple] = []
    for start, space in _slots(spaces, first_day=first, last_day=last_day, today=today):
        if done + len(batch) == bookings:
            break
        batch.append((next_id + done + len(batch), start, grids[space.pk]))
        if len(batch) == BATCH:
            _write(batch, rng=rng, now=now, staff=staff, clients=clients)
            done += len(batch)
            batch = []
            progress(done, bookings)
    if batch:
        _write(batch, rng=rng, now=now, staff=staff, clients=clients)
        done += len(batch)
        progress(done, bookings)
    _reset_sequences()
    _analyze([Booking, Client, Event])
    return {"bookings": done, "clients": len(clients), "first_day": first, "last_day": last_day}


def busy_day(today: date) -> date:
    """The day on which every slot of the group is booked."""
    return today - timedelta(days=BUSY_DAY_OFFSET)


def group_slugs() -> list[str]:
    """The slugs of the group's spaces."""
    return [f"{_prefix(location)}_{kind[0]}" for location in LOCATIONS for kind in SPACE_KINDS]


def _prefix(location: str) -> str:
    return location.lower().replace(" ", "_")


def _planned_spaces() -> list[Space]:
    """The group's spaces in the grid's order: those already saved as they are, the others unsaved."""
    saved = Space.objects.in_bulk(group_slugs(), field_name="slug")
    return [saved.get(space.slug, space) for space in _new_spaces()]


def _new_spaces() -> list[Space]:
    return [
        Space(
            slug=f"{_prefix(location)}_{suffix}",
            name=f"{location} {name}",
            capacity=capacity,
            hourly_rate=Decimal(rate),
            buffer_minutes=buffer,
            opening_hours={
                **dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), weekdays),
                **dict.fromkeys(("sat", "sun"), weekends),
            },
        )
        for location in LOCATIONS
        for suffix, name, capacity, rate, buffer, weekdays, weekends in SPACE_KINDS
    ]


def _spaces() -> list[Space]:
    fields = ("name", "capacity", "hourly_rate", "buffer_minutes", "opening_hours")
    return [
        Space.objects.get_or_create(slug=space.slug, defaults={field: getattr(space, field) for field in fields})[0]
        for space in _new_spaces()
    ]


def _staff() -> dict[str, list[Employee]]:
    """Each location's manager, two at the front desk and three photographers (no password: a
    manager sets one in the admin)."""
    staff: dict[str, list[Employee]] = {Role.MANAGER: [], Role.RECEPTIONIST: [], Role.PHOTOGRAPHER: []}
    for location in LOCATIONS:
        prefix = _prefix(location)
        people = [(Role.MANAGER, "manager", 1), (Role.RECEPTIONIST, "desk", 2), (Role.PHOTOGRAPHER, "photo", 3)]
        for role, title, count in people:
            for number in range(1, count + 1):
                username = f"{prefix}_{title}{number}"
                employee = Employee.objects.filter(username=username).first() or Employee.objects.create_user(
                    username,
                    None,
                    full_name=f"{location} {role.label} {number}",
                    role=role,
                    department=location,
                    email=f"{username}@example.com",
                )
                staff[role].append(employee)
    return staff


def _clients(count: int) -> list[int]:
    """``count`` clients with made-up names and +1555 phone numbers; their ids."""
    first_id = (Client.objects.aggregate(models.Max("id"))["id__max"] or 0) + 1
    taken = set(Client.objects.filter(phone__startswith="+1555").values_list("phone", flat=True))
    made_at = datetime.now(UTC)
    rows = []
    for offset in range(count):
        phone = f"+1555{first_id + offset:07d}"
        if phone in taken:
            continue
        name = f"{FIRST_NAMES[offset % len(FIRST_NAMES)]} {LAST_NAMES[(offset // len(FIRST_NAMES)) % len(LAST_NAMES)]}"
        rows.append((first_id + offset, name, phone, "", "", made_at, made_at, None, None))
    _insert(
        Client,
        ["id", "full_name", "phone", "email", "notes", "created_at", "updated_at", "created_by_id", "updated_by_id"],
        rows,
    )
    return [row[0] for row in rows]


def _day_slots(space: Space, day: date) -> list[datetime]:
    hours = space.hours_on(day)
    if hours is None:
        return []
    opens, closes = local_instant(day, hours[0]), local_instant(day, hours[1])
    count = int((closes - opens) / SLOT)
    return [opens + SLOT * index for index in range(count)]


def _day_fill(day: date, today: date) -> float:
    return 1.0 if day == busy_day(today) else DAY_FILL[day.weekday()]


def _booked(day: date, slots: int, fill: float, space_index: int) -> list[int]:
    """Which of a space's ``slots`` are booked on ``day``: the same answer every time it is asked."""
    chooser = random.Random(day.toordinal() * 100 + space_index)
    return [index for index in range(slots) if chooser.random() < fill]


def _slots(spaces: list[Space], *, first_day: date, last_day: date, today: date) -> Iterator[tuple[datetime, Space]]:
    day = first_day
    while day <= last_day:
        for space_index, space in enumerate(spaces):
            slots = _day_slots(space, day)
            for index in _booked(day, len(slots), _day_fill(day, today), space_index):
                yield slots[index], space
        day += timedelta(days=1)


def _write(batch, *, rng: random.Random, now: datetime, staff: dict, clients: list[int]) -> None:
    desks, photographers = staff[Role.RECEPTIONIST], staff[Role.PHOTOGRAPHER]
    bookings, events = [], []
    for booking_id, start, grid in batch:
        end = start + grid.session
        state = _state(rng, start=start, end=end, now=now)
        desk = rng.choice(desks)
        created_at = start - timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 600))
        if created_at > now:
            created_at = now - timedelta(minutes=rng.randint(60, 30 * 24 * 60))
        photographer = rng.choice(photographers) if state != BookingState.PENDING and rng.random() < 0.8 else None
        if state in (BookingState.IN_PROGRESS, BookingState.COMPLETED):
            photographer = photographer or rng.choice(photographers)
        client_id = rng.choice(clients)
        people = rng.randint(1, grid.space.capacity)
        history = _history(rng, state=state, created_at=created_at, start=start, end=end, now=now)
        updated_at = history[-1][0] if history else created_at
        actors = [
            photographer.pk if transition in ("begin", "complete") else desk.pk for _, _, transition, _ in history
        ]
        # What an undo would go back to: the state before the last change, and who made it when.
        previous_state = (history[-2][1] if len(history) > 1 else BookingState.PENDING) if history else ""
        state_changed_at, state_changed_by = (history[-1][0], actors[-1]) if history else (None, None)
        bookings.append(
            (
                booking_id,
                client_id,
                grid.space.pk,
                photographer.pk if photographer else None,
                start,
                end,
                end + grid.space.buffer,
                people,
                grid.price,
                False,
                "",
                state,
                previous_state,
                state_changed_at,
                state_changed_by,
                created_at,
                updated_at,
                desk.pk,
                desk.pk,
            )
        )
        snapshot = {
            "space": grid.space.slug,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "client": client_id,
            "people_count": people,
            "price": str(grid.price),
            "state": BookingState.PENDING,
        }
        events.append(_event("booking.created", booking_id, snapshot, desk.pk, created_at))
        source = BookingState.PENDING
        for (at, target, transition, reason), actor in zip(history, actors, strict=True):
            payload = {"from": source, "to": target, "reason": reason, "transition": transition}
            events.append(_event("booking.state_changed", booking_id, payload, actor, at))
            source = target
    with transaction.atomic():
        _insert(
            Booking,
            [
                "id",
                "client_id",
                "space_id",
                "photographer_id",
                "start",
                "end",
                "blocks_until",
                "people_count",
                "price",
                "price_overridden",
                "notes",
                "state",
                "previous_state",
                "state_changed_at",
                "state_changed_by_id",
                "created_at",
                "updated_at",
                "created_by_id",
                "updated_by_id",
            ],
            bookings,
        )
        _insert(
            Event,
            [
                "type",
                "aggregate_type",
                "aggregate_id",
                "payload",
                "actor_id",
                "occurred_at",
                "dispatched_at",
                "dispatch_attempts",
            ],
            events,
        )


def _state(rng: random.Random, *, start: datetime, end: datetime, now: datetime) -> str:
    draw = rng.random()
    if end <= now:
        if draw < 0.1:
            return BookingState.CANCELLED
        return BookingState.NO_SHOW if draw < 0.16 else BookingState.COMPLETED
    if start <= now:
        return BookingState.IN_PROGRESS
    if draw < 0.08:
        return BookingState.CANCELLED
    return BookingState.PENDING if draw < 0.4 else BookingState.CONFIRMED


def _history(rng, *, state: str, created_at: datetime, start: datetime, end: datetime, now: datetime) -> list[tuple]:
    """(when, to, transition, reason) of each state change that led to ``state``, none after ``now``."""
    confirmed_at = max(
        created_at, min(created_at + timedelta(hours=rng.randint(1, 48)), start - timedelta(minutes=30), now)
    )
    cancelled_at = min(created_at + (start - created_at) * rng.random(), now)
    confirm = (confirmed_at, BookingState.CONFIRMED, "confirm", "")
    paths = {
        BookingState.PENDING: [],
        BookingState.CONFIRMED: [confirm],
        BookingState.CANCELLED: [(cancelled_at, BookingState.CANCELLED, "cancel", "Client cancelled by phone")],
        BookingState.IN_PROGRESS: [confirm, (start, BookingState.IN_PROGRESS, "begin", "")],
        BookingState.COMPLETED: [
            confirm,
            (start, BookingState.IN_PROGRESS, "begin", ""),
            (end, BookingState.COMPLETED, "complete", ""),
        ],
        BookingState.NO_SHOW: [confirm, (start + timedelta(minutes=30), BookingState.NO_SHOW, "mark_no_show", "")],
    }
    return paths[state]


def _event(event_type: str, booking_id: int, payload: dict, actor_id: int, at: datetime) -> tuple:
    return (event_type, "bookings.booking", str(booking_id), payload, actor_id, at, at, 0)


def _insert(model: type[models.Model], fields: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (values of ``fields``, in order): COPY on PostgreSQL, batched INSERTs elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        columns = ", ".join(f'"{model._meta.get_field(field).column}"' for field in fields)
        with connection.cursor() as cursor, cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(value) if isinstance(value, dict) else value for value in row])
        return
    model.objects.bulk_create((model(**dict(zip(fields, row, strict=True))) for row in rows), batch_size=500)


def _reset_sequences() -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), [Booking, Client])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _analyze(written: list[type[models.Model]]) -> None:
    """Gather the planner's statistics of the tables just filled in bulk. Until (auto)ANALYZE runs
    they have none, and PostgreSQL plans as if they were small: a day list then joins every client
    by a sequential scan instead of looking up its ~200 by key (25 ms instead of 2 ms at 1M)."""
    with connection.cursor() as cursor:
        for model in written:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def progress_bar(write: Callable[[str], None], width: int = 40) -> Callable[[int, int], None]:
    """A progress bar that redraws its line through ``write``: ``[####----]  50%  5,000 / 10,000``."""

    def draw(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        bar = f"\r[{'#' * filled}{'-' * (width - filled)}] {100 * done // max(total, 1):3d}%  {done:,} / {total:,}"
        write(bar + ("\n" if done >= total else ""))

    return draw
