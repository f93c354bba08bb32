"""Read-only queries over the calendar and the clients.

Each runs a fixed number of queries however many rows it returns. Days and weeks are the
studio's (settings.TIME_ZONE), so a local day may last 23 or 25 hours. Selectors that return
bookings take the ``viewer`` and return nothing to someone without ``bookings.view_booking``.
"""

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import slug_re
from django.db.models import Count, Prefetch, Q, QuerySet, Sum, Value
from django.utils import timezone

from bookings.models import (
    HOLDING_STATES,
    Booking,
    BookingSeries,
    BookingState,
    Client,
    Closure,
    Space,
    WaitlistEntry,
    WaitlistStatus,
    local_instant,
    studio_day,
)
from bookings.subscribers import notification_about
from events.models import Delivery, Event
from photostudio.cache import cache, key_part
from photostudio.compiled_queries import CompiledLookup
from photostudio.dates import day_text, time_text
from photostudio.errors import NotFound
from photostudio.phones import normalise_phone
from photostudio.replicas import read_alias

# Cache namespaces (photostudio.cache) of what the calendar shows: everything beside the bookings
# (spaces, clients, staff), one day of bookings, one day of one space's bookings.
CALENDAR_NAMESPACE = "calendar"
# Every cached free-slot list: closures are rare and may span any number of days and spaces.
CLOSURES_NAMESPACE = "closures"


# What a calendar feed covers: the last month's sessions for reference, a year of those ahead.
CALENDAR_FEED_PAST = timedelta(days=30)
CALENDAR_FEED_AHEAD = timedelta(days=365)


def day_namespace(day: date) -> str:
    return f"day:{day.isoformat()}"


def space_day_namespace(space_id: int, day: date) -> str:
    return f"space:{space_id}:day:{day.isoformat()}"


def days_touched(start: datetime, until: datetime) -> list[date]:
    """The studio's local days that ``[start, until)`` meets."""
    first, last = studio_day(start), studio_day(until - timedelta(microseconds=1))
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


@dataclass(frozen=True)
class Slot:
    """A stretch of time in which a new booking of the space fits, its own buffer included."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class ClientHistory:
    client: Client
    bookings: list[Booking]  # newest first
    total_bookings: int
    completed: int
    no_shows: int
    cancelled: int
    spend: Decimal  # the price of completed bookings


def get_booking(*, viewer, pk: int) -> Booking:
    """The booking with ``pk``, or NotFound when it does not exist or the viewer may not see it."""
    found = _BOOKING_WITH_PK.fetch(pk=pk) if _may_view_bookings(viewer) else []
    if not found:
        raise NotFound(f"There is no booking #{pk}.")
    return found[0]


def get_series(*, viewer, pk: int) -> BookingSeries:
    """The recurring series with ``pk``, its space and client loaded and its bookings (first to
    last, as ``series.bookings.all()``) prefetched; NotFound when it does not exist or the viewer
    may not see bookings."""
    series = None
    if viewer.has_perm("bookings.view_booking"):
        series = (
            BookingSeries.objects.filter(pk=pk)
            .select_related("space", "client")
            .prefetch_related(Prefetch("bookings", queryset=_visible_bookings(viewer).order_by("start", "id")))
            .first()
        )
    if series is None:
        raise NotFound(f"There is no booking series #{pk}.")
    return series


def visible_bookings(*, viewer) -> QuerySet[Booking]:
    """Every booking the viewer may see, in start order, with space, client and photographer
    loaded; from a read replica when there is one (for lists, not for changing a booking)."""
    return _visible_bookings(viewer).using(read_alias()).order_by("start", "id")


def bookings_between(
    *,
    viewer,
    start: datetime,
    end: datetime,
    space: Space | None = None,
    photographer=None,
    client: Client | None = None,
    states: list[str] | None = None,
) -> list[Booking]:
    """Bookings overlapping ``[start, end)`` in start order, narrowed by any of the other
    arguments; from a read replica when there is one."""
    bookings = _visible_bookings(viewer).using(read_alias()).overlapping(start, end)
    if space is not None:
        bookings = bookings.filter(space=space)
    if photographer is not None:
        bookings = bookings.filter(photographer=photographer)
    if client is not None:
        bookings = bookings.filter(client=client)
    if states:
        bookings = bookings.filter(state__in=states)
    return list(bookings.order_by("start", "id"))


def upcoming_sessions_of(*, photographer, now: datetime) -> list[Booking]:
    """The bookings ``photographer`` is assigned to that start after ``now`` and still hold their
    space, soonest first, with space and client loaded. One query."""
    return list(
        Booking.objects.filter(photographer=photographer, state__in=HOLDING_STATES, start__gt=now)
        .select_related("space", "client")
        .order_by("start", "id")
    )


def sees_whole_studio_calendar(subscriber) -> bool:
    """Whether ``subscriber``'s calendar feed has every session, not only their own."""
    return subscriber.has_perm("bookings.subscribe_studio_calendar")


def calendar_feed_bookings(*, subscriber, now: datetime, space: Space | None = None) -> list[Booking]:
    """The bookings of ``subscriber``'s calendar feed, in start order: those meeting the
    CALENDAR_FEED_PAST before ``now`` to the CALENDAR_FEED_AHEAD after it, cancelled ones too (so
    calendars drop them); every session for holders of ``bookings.subscribe_studio_calendar``,
    else only those the subscriber is the photographer of; only ``space``'s when given. One query."""
    bookings = (
        _visible_bookings(subscriber)
        .using(read_alias())
        .overlapping(now - CALENDAR_FEED_PAST, now + CALENDAR_FEED_AHEAD)
    )
    if not sees_whole_studio_calendar(subscriber):
        bookings = bookings.filter(photographer=subscriber)
    if space is not None:
        bookings = bookings.filter(space=space)
    return list(bookings.order_by("start", "id"))


def bookings_for_day(*, viewer, day: date, **filters) -> list[Booking]:
    """Bookings of the studio's local calendar ``day``; ``filters`` as for ``bookings_between``."""
    start, end = day_bounds(day)
    return bookings_between(viewer=viewer, start=start, end=end, **filters)


def bookings_for_week(*, viewer, day: date, **filters) -> list[Booking]:
    """Bookings of the Monday-to-Sunday week that contains ``day``; ``filters`` as for ``bookings_between``."""
    monday = day - timedelta(days=day.weekday())
    start, _ = day_bounds(monday)
    _, end = day_bounds(monday + timedelta(days=6))
    return bookings_between(viewer=viewer, start=start, end=end, **filters)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The studio's local midnight starting ``day`` and the one ending it."""
    return local_instant(day, "00:00"), local_instant(day, "24:00")


def free_slots(*, space: Space, day: date) -> list[Slot]:
    """Where a new booking of ``space`` fits on the studio's local ``day``: opening hours minus
    bookings and closures.

    A held booking blocks its space until its ``blocks_until`` (end plus buffer), a closure of the
    space or of the whole studio until its end; a new booking must also leave its own buffer
    before the next of them, so a slot ends one buffer before the next booking or closure starts,
    except at closing time. Slots shorter than the minimum booking duration are left out. One
    query, none while cached (until a booking of the space on that day, or on the next when the
    day's closing time plus the buffer reaches past midnight, or any closure changes).
    """
    window = space.opening_window(day)
    if window is None or not space.is_active:
        return []
    opens, closes = window
    # What holds the space up to a buffer after closing counts: past midnight, the next day's.
    until = closes + space.buffer
    held = cache.get_or_set(
        "bookings.blocked:" + key_part((space.pk, opens, until)),
        lambda: _blocked_times(space, opens, until),
        namespaces=[
            *(space_day_namespace(space.pk, held_day) for held_day in days_touched(opens, until)),
            CLOSURES_NAMESPACE,
        ],
    )
    return slots_around(space=space, day=day, held=held)


def announce_free_slots(*, slug: str, day: date | None) -> None:
    """The request will read a space and its free slots on ``day`` (None when not yet known): the
    versions that can be named before the space is known are read with the caller's, in one L2
    read, and so is the space's day when this process has seen the space before. That is a
    guess (the slug may name another space now) and only fetches a version early: the slots are
    still read under the space that ``get_space`` finds."""
    namespaces = [CALENDAR_NAMESPACE, CLOSURES_NAMESPACE]
    space_id = _space_ids_by_slug.get(slug)
    if space_id is not None and day is not None:
        namespaces.append(space_day_namespace(space_id, day))
    cache.announce(*namespaces)


# The space each slug named when this process last read it (space_with_slug), for announce_free_slots.
_space_ids_by_slug: dict[str, int] = {}
_SPACE_IDS_BOUND = 1_000


def _blocked_times(space: Space, start: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    bookings = Booking.objects.filter(space=space).holding_during(start, until).order_by()
    closures = Closure.objects.of_space(space).meeting(start, until).order_by()
    return sorted(bookings.values_list("start", "blocks_until").union(closures.values_list("start", "end"), all=True))


def slots_around(*, space: Space, day: date, held: Iterable[tuple[datetime, datetime]]) -> list[Slot]:
    """``free_slots`` over already loaded ``(start, until)`` pairs of what blocks the space, in
    start order: its holding bookings' ``(start, blocks_until)`` and its closures' (and the whole
    studio's) ``(start, end)``, see ``closed_times``. Pairs outside the day change nothing. No query."""
    window = space.opening_window(day)
    if window is None or not space.is_active:
        return []
    opens, closes = window
    shortest = timedelta(minutes=settings.BOOKING_MIN_DURATION_MINUTES)
    slots, cursor = [], opens
    for booked_from, blocked_until in held:
        slot_end = min(booked_from - space.buffer, closes)
        if slot_end - cursor >= shortest:
            slots.append(Slot(cursor, slot_end))
        cursor = max(cursor, blocked_until)
    if closes - cursor >= shortest:
        slots.append(Slot(cursor, closes))
    return slots


# Free starts offered instead of a refused one lie on the studio clock's quarter hours (the
# booking form's time step) or exactly at the edge of a free slot.
ALTERNATIVE_START_STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class Alternative:
    """A booking of the asked length that the space would take: ``start`` to ``end``."""

    space: Space
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Alternatives:
    """Where a booking refused for an overlap could go instead, on the same day."""

    same_space: list[Alternative]  # other starts in the asked space, nearest to the asked start first
    other_spaces: list[Alternative]  # other spaces free at exactly the asked time, by name

    def as_details(self) -> dict:
        """The shape of ``details.alternatives`` in a ``booking_overlap`` answer."""
        return {
            "same_space": [
                {"start": choice.start.isoformat(), "end": choice.end.isoformat()} for choice in self.same_space
            ],
            "other_spaces": [
                {
                    "space": choice.space.slug,
                    "space_name": choice.space.name,
                    "start": choice.start.isoformat(),
                    "end": choice.end.isoformat(),
                }
                for choice in self.other_spaces
            ],
        }


def booking_alternatives(
    *,
    space: Space,
    start: datetime,
    end: datetime,
    people: int,
    exclude_booking: Booking | None = None,
    limit: int = 3,
) -> Alternatives:
    """What to offer instead of booking ``space`` from ``start`` to ``end`` (aware), which is taken.

    ``same_space``: up to ``limit`` other starts of the same length in ``space`` on the studio's
    day of ``start``, nearest to ``start`` first (the earlier of two as near), within the opening
    hours, clear of buffers and closures, none in the past. ``other_spaces``: up to ``limit`` other
    active spaces holding ``people`` that are free from ``start`` to ``end``, by name.
    ``exclude_booking`` (one being moved) holds nothing. Two queries.
    """
    day = studio_day(start)
    others = list(Space.objects.filter(is_active=True, capacity__gte=people).exclude(pk=space.pk).order_by("name"))
    held = _held_on(day, spaces=[space, *others], exclude_booking=exclude_booking)
    duration = end - start
    return Alternatives(
        same_space=[
            Alternative(space, moment, moment + duration)
            for moment in _nearest_free_starts(
                slots_around(space=space, day=day, held=held[space.pk]),
                asked=start,
                duration=duration,
                not_before=timezone.now(),
                day=day,
            )[:limit]
        ],
        other_spaces=[
            Alternative(other, start, end)
            for other in others
            if any(
                slot.start <= start and end <= slot.end
                for slot in slots_around(space=other, day=day, held=held[other.pk])
            )
        ][:limit],
    )


def _held_on(day: date, *, spaces: list[Space], exclude_booking: Booking | None) -> dict[int, list]:
    """What blocks each of ``spaces`` on ``day``, in start order: its holding bookings'
    ``(start, blocks_until)``, buffers included, and its and the whole studio's closures'
    ``(start, end)``. One query for all the spaces."""
    opens, closes = day_bounds(day)
    until = closes + max(space.buffer for space in spaces)
    bookings = Booking.objects.filter(space__in=spaces).holding_during(opens, until)
    if exclude_booking is not None:
        bookings = bookings.exclude(pk=exclude_booking.pk)
    closures = Closure.objects.filter(Q(space__in=spaces) | Q(space__isnull=True)).meeting(opens, until)
    rows = (
        bookings.order_by()
        .values_list("space_id", "start", "blocks_until")
        .union(closures.order_by().values_list("space_id", "start", "end"), all=True)
    )
    held = {space.pk: [] for space in spaces}
    for space_id, blocked_from, blocked_until in sorted(rows, key=lambda row: row[1]):
        for blocked in held if space_id is None else [space_id]:
            held[blocked].append((blocked_from, blocked_until))
    return held


def _nearest_free_starts(
    slots: list[Slot], *, asked: datetime, duration: timedelta, not_before: datetime, day: date
) -> list[datetime]:
    """Every start from which ``duration`` fits in one of ``slots`` and that is not before
    ``not_before``: a slot's first and last possible start, and the quarter hours between; nearest
    to ``asked`` first."""
    midnight, _ = day_bounds(day)
    starts = set()
    for slot in slots:
        earliest, latest = max(slot.start, not_before), slot.end - duration
        if earliest > latest:
            continue
        starts.update(moment for moment in (slot.start, latest) if moment >= earliest)
        steps = -((midnight - earliest) // ALTERNATIVE_START_STEP)  # the first quarter hour from ``earliest``
        moment = midnight + steps * ALTERNATIVE_START_STEP
        while moment <= latest:
            starts.add(moment)
            moment += ALTERNATIVE_START_STEP
    return sorted(starts, key=lambda moment: (abs(moment - asked), moment))


def closed_times(*, space: Space, closures: Iterable[Closure]) -> list[tuple[datetime, datetime]]:
    """The ``(start, end)`` of the loaded ``closures`` that close ``space`` (its own and the whole
    studio's), for ``slots_around``. No query."""
    return [(closure.start, closure.end) for closure in closures if closure.space_id in (None, space.pk)]


def visible_closures(*, viewer) -> QuerySet[Closure]:
    """Every closure in start order with its space and maker loaded; none for a viewer without
    ``bookings.view_closure``."""
    if not viewer.has_perm("bookings.view_closure"):
        return Closure.objects.none()
    return Closure.objects.select_related("space", "created_by").order_by("start", "id")


def closures_between(*, viewer, start: datetime, end: datetime, space: Space | None = None) -> list[Closure]:
    """Closures meeting ``[start, end)`` in start order, of ``space`` and of the whole studio when
    a space is given, else of every space. One query."""
    closures = visible_closures(viewer=viewer).meeting(start, end)
    if space is not None:
        closures = closures.of_space(space)
    return list(closures)


def closures_for_day(*, viewer, day: date, space: Space | None = None) -> list[Closure]:
    """Closures meeting the studio's local ``day``, as ``closures_between``."""
    start, end = day_bounds(day)
    return closures_between(viewer=viewer, start=start, end=end, space=space)


def closures_for_week(*, viewer, day: date, space: Space | None = None) -> list[Closure]:
    """Closures meeting the Monday-to-Sunday week that contains ``day``, as ``closures_between``."""
    monday = day - timedelta(days=day.weekday())
    start, _ = day_bounds(monday)
    _, end = day_bounds(monday + timedelta(days=6))
    return closures_between(viewer=viewer, start=start, end=end, space=space)


def get_closure(*, viewer, pk: int) -> Closure:
    """The closure with ``pk``, or NotFound when there is none or the viewer may not see closures."""
    closure = visible_closures(viewer=viewer).filter(pk=pk).first()
    if closure is None:
        raise NotFound(f"There is no closure #{pk}.")
    return closure


def client_history(*, viewer, client: Client) -> ClientHistory:
    """All bookings of ``client``, newest first, with totals. Two queries."""
    bookings = _visible_bookings(viewer).filter(client=client)
    totals = bookings.aggregate(
        total=Count("id"),
        completed=Count("id", filter=Q(state=BookingState.COMPLETED)),
        no_shows=Count("id", filter=Q(state=BookingState.NO_SHOW)),
        cancelled=Count("id", filter=Q(state=BookingState.CANCELLED)),
        spend=Sum("price", filter=Q(state=BookingState.COMPLETED)),
    )
    return ClientHistory(
        client=client,
        bookings=list(bookings.order_by("-start", "-id")),
        total_bookings=totals["total"] or 0,
        completed=totals["completed"] or 0,
        no_shows=totals["no_shows"] or 0,
        cancelled=totals["cancelled"] or 0,
        spend=totals["spend"] or Decimal("0.00"),
    )


def booking_history(*, booking: Booking) -> list[Event]:
    """What happened to ``booking``, oldest first, from the event store, with each event's actor."""
    return list(
        Event.objects.filter(aggregate_type=Booking._meta.label_lower, aggregate_id=str(booking.pk))
        .select_related("actor")
        .order_by("occurred_at", "id")
    )


@dataclass(frozen=True)
class NeedsAction:
    """What the front desk should act on now, each list soonest first."""

    to_confirm: list[Booking]  # pending and not over yet
    starting_soon: list[Booking]  # confirmed, starting within the coming ``soon``
    to_mark: list[Booking]  # confirmed and past their start: begin the session or mark a no-show


def bookings_needing_action(*, viewer, now: datetime, soon: timedelta, limit: int) -> NeedsAction:
    """At most ``limit`` bookings of each kind of ``NeedsAction``. Three queries."""
    bookings = _visible_bookings(viewer)
    confirmed = bookings.filter(state=BookingState.CONFIRMED)
    return NeedsAction(
        to_confirm=list(bookings.filter(state=BookingState.PENDING).ending_after(now).order_by("start", "id")[:limit]),
        starting_soon=list(confirmed.filter(start__gt=now, start__lte=now + soon).order_by("start", "id")[:limit]),
        to_mark=list(confirmed.filter(start__lte=now).order_by("start", "id")[:limit]),
    )


def visible_waitlist(*, viewer) -> QuerySet[WaitlistEntry]:
    """Every waitlist entry the viewer may see (``bookings.view_waitlistentry``), in start order,
    with client, space, booking and who added it loaded."""
    if not viewer.has_perm("bookings.view_waitlistentry"):
        return WaitlistEntry.objects.none()
    return WaitlistEntry.objects.select_related("client", "space", "booking", "created_by").order_by("start", "id")


def get_waitlist_entry(*, viewer, pk: int) -> WaitlistEntry:
    """The waitlist entry with ``pk``, or NotFound when there is none or the viewer may not see it."""
    entry = visible_waitlist(viewer=viewer).filter(pk=pk).first()
    if entry is None:
        raise NotFound(f"There is no waitlist entry #{pk}.")
    return entry


def waitlist_openings(*, viewer, now: datetime, limit: int) -> list[WaitlistEntry]:
    """At most ``limit`` waiting entries, soonest first, whose slot is still to come, in a space
    that takes bookings, and free now (no booking holding the space meets it, by the booking
    services' own overlap test, and no closure touches it): the clients the front desk can book at
    once. One query."""
    waiting = visible_waitlist(viewer=viewer).filter(status=WaitlistStatus.WAITING, start__gt=now)
    return list(waiting.filter(space__is_active=True).with_free_slot()[:limit])


def waitlist_history(*, entry: WaitlistEntry) -> list[Event]:
    """What happened to ``entry``, oldest first, from the event store, with each event's actor."""
    return list(
        Event.objects.filter(aggregate_type=WaitlistEntry._meta.label_lower, aggregate_id=str(entry.pk))
        .select_related("actor")
        .order_by("occurred_at", "id")
    )


def clients_matching(*, viewer, query: str = "") -> QuerySet[Client]:
    """Clients whose name, e-mail or phone number contains ``query`` (all of them for an empty
    one), by name; nobody for a viewer without ``bookings.view_client``. The phone matches on
    digits, so "(415) 555-0101" finds +14155550101. From a read replica when there is one."""
    return _clients_matching(viewer, query).using(read_alias())


def client_matches(query: str, *, prefix: str = "") -> Q:
    """A condition on clients (through ``prefix``, e.g. "client__") whose name contains ``query``
    or whose phone number contains its digits (three or more) or is the number ``query`` is, as
    dialled in the studio's country (``07911 123456`` is +447911123456, whose digits lack the 0)."""
    matches = Q(**{f"{prefix}full_name__icontains": query.strip()})
    digits = phonenumbers.normalize_digits_only(query)  # as stored: ASCII, whatever script was typed
    if len(digits) >= 3:
        matches |= Q(**{f"{prefix}phone__contains": digits})
        with suppress(ValidationError):
            matches |= Q(**{f"{prefix}phone": normalise_phone(query)})
    return matches


@dataclass(frozen=True)
class BookingWarning:
    """Something whoever made or changed a booking should know, though the booking is saved."""

    code: str  # client_name_mismatch, client_email_mismatch, client_not_notified, photographer_busy
    message: str
    details: dict


def same_name(first: str, second: str) -> bool:
    """Whether two typed names are the same name, case and spacing aside."""
    return " ".join(first.split()).casefold() == " ".join(second.split()).casefold()


def known_client_named_otherwise(*, phone: str, name: str) -> Client | None:
    """The client who has ``phone`` when their name is not ``name`` (an empty name matches any);
    None for a new or unreadable phone number. One query."""
    try:
        phone = normalise_phone(phone)
    except ValidationError:
        return None
    client = Client.objects.filter(phone=phone).first()
    if client is None or not name.strip() or same_name(client.full_name, name):
        return None
    return client


def booking_warnings(*, booking: Booking, client_name: str = "", client_email: str = "") -> list[BookingWarning]:
    """What to tell whoever just made ``booking`` for a client typed as ``client_name`` and
    ``client_email``: the phone number's client has another name (the booking is theirs) or
    another e-mail address (which stays theirs), or the client has no e-mail address and will not
    be notified. No query."""
    client = booking.client
    warnings = []
    if client_name.strip() and not same_name(client.full_name, client_name):
        warnings.append(
            BookingWarning(
                code="client_name_mismatch",
                message=f"{client.phone} belongs to {client.full_name}, not {client_name.strip()}: "
                f"the booking is {client.full_name}'s. Correct the phone number if it is someone else.",
                details={"client_id": client.pk, "client_name": client.full_name, "typed_name": client_name.strip()},
            )
        )
    typed_email = client_email.strip()
    if typed_email and typed_email.casefold() != client.email.casefold():
        on_file = f"has the e-mail address {client.email}" if client.email else "has no e-mail address"
        warnings.append(
            BookingWarning(
                code="client_email_mismatch",
                message=f"{client.full_name} {on_file}, not {typed_email}: the client is unchanged. "
                "Change it on the client's page if the typed address is right.",
                details={"client_id": client.pk, "client_email": client.email, "typed_email": typed_email},
            )
        )
    if not client.email:
        warnings.append(
            BookingWarning(
                code="client_not_notified",
                message=f"{client.full_name} has no e-mail address: they will not be notified of this booking.",
                details={"client_id": client.pk},
            )
        )
    return warnings


def photographer_clash(booking: Booking) -> Booking | None:
    """The first other session holding ``booking``'s photographer at an overlapping time (they
    cannot be in two places), if ``booking`` holds its space and has a photographer."""
    if booking.photographer_id is None or booking.state not in HOLDING_STATES:
        return None
    return (
        Booking.objects.overlapping(booking.start, booking.end)
        .filter(photographer_id=booking.photographer_id, state__in=HOLDING_STATES)
        .exclude(pk=booking.pk)
        .select_related("space")
        .order_by("start", "pk")
        .first()
    )


def photographer_warnings(booking: Booking) -> list[BookingWarning]:
    """``photographer_busy`` when ``booking``'s photographer holds another session at the time."""
    other = photographer_clash(booking)
    if other is None:
        return []
    return [
        BookingWarning(
            code="photographer_busy",
            message=f"{booking.photographer} is also on booking #{other.pk} ({other.space.name}, "
            f"{day_text(other.start)} {time_text(other.start)}–{time_text(other.end)}) at this time.",
            details={"photographer_id": booking.photographer_id, "booking_id": other.pk},
        )
    ]


def get_client(*, viewer, pk: int) -> Client:
    """The client with ``pk``, or NotFound when there is none or the viewer may not see clients."""
    client = _clients_matching(viewer, "").filter(pk=pk).first()
    if client is None:
        raise NotFound(f"There is no client #{pk}.")
    return client


def visible_spaces(*, viewer) -> QuerySet[Space]:
    """Every space, active or not, by name; none for a viewer without ``bookings.view_space``."""
    if not _may_see_spaces(viewer):
        return Space.objects.none()
    return Space.objects.order_by("name", "id")


def get_space(*, viewer, slug: str) -> Space:
    """The space with ``slug``, or NotFound when there is none or the viewer may not see spaces.
    No query while cached, until any space changes (``calendar``, see ``day_lists``); the space is
    shared with other requests: do not change it."""
    space = space_with_slug(slug) if _may_see_spaces(viewer) else None
    if space is None:
        raise NotFound(f"There is no space {slug!r}.")
    return space


def space_with_slug(slug: str) -> Space | None:
    """The space with ``slug`` (None when there is none), whoever asks: for checking a request's
    space slug. Cached as ``get_space`` says; the space is shared: do not change it."""
    if not slug_re.match(slug):  # no space has it: not asked for (PostgreSQL refuses a NUL outright)
        return None
    # Not with get_or_set: an unknown slug is not filed, so made-up ones cannot fill the cache.
    key = cache.versioned_key("bookings.space:" + key_part(slug), namespaces=[CALENDAR_NAMESPACE])
    space = cache.get_versioned(key) if key is not None else None
    if space is None:
        space = Space.objects.filter(slug=slug).first()
        if space is not None and key is not None:
            cache.set_versioned(key, space)
    if space is not None and _space_ids_by_slug.get(slug) != space.pk:
        if len(_space_ids_by_slug) >= _SPACE_IDS_BOUND:
            _space_ids_by_slug.clear()
        _space_ids_by_slug[slug] = space.pk
    return space


def _may_see_spaces(viewer) -> bool:
    return viewer.has_perm("bookings.view_space")


def active_space_count() -> int:
    """How many spaces take bookings; one query, for the bookings health check."""
    return Space.objects.filter(is_active=True).count()


def _clients_matching(viewer, query: str) -> QuerySet[Client]:
    if not viewer.has_perm("bookings.view_client"):
        return Client.objects.none()
    clients = Client.objects.order_by("full_name", "id")
    query = query.strip()
    if not query:
        return clients
    return clients.filter(client_matches(query) | Q(email__icontains=query))


def calendar_bookings() -> QuerySet[Booking]:
    """Every booking in start order with space, client and photographer loaded, whoever asks:
    for work done on no one's behalf (cache warming). Viewers go through ``visible_bookings``."""
    return Booking.objects.select_related("space", "client", "photographer").order_by("start", "id")


def _visible_bookings(viewer) -> QuerySet[Booking]:
    if not _may_view_bookings(viewer):
        return Booking.objects.none()
    return _bookings_with_relations()


def _may_view_bookings(viewer) -> bool:
    return viewer.has_perm("bookings.view_booking")


def _bookings_with_relations() -> QuerySet[Booking]:
    return Booking.objects.select_related("space", "client", "photographer")


# Every change of a booking starts from get_booking: compiled once, not on each request.
_BOOKING_WITH_PK = CompiledLookup(lambda pk: _bookings_with_relations().filter(pk=pk).order_by(), pk=int)


def client_with_phone(phone: str) -> Client | None:
    """The client with the (normalised) phone number ``phone``, if any."""
    found = _CLIENT_WITH_PHONE.fetch(phone=phone)
    return found[0] if found else None


# Each booking made finds its client by phone: compiled once, not on each request.
_CLIENT_WITH_PHONE = CompiledLookup(lambda phone: Client.objects.filter(phone=phone).order_by(), phone=str)


def first_closure_meeting(*, space_id: int, start: datetime, until: datetime) -> Closure | None:
    """The earliest closure of space ``space_id`` or of the whole studio that meets [start, until)."""
    found = _FIRST_CLOSURE_MEETING.fetch(space=space_id, start=start, until=until)
    return found[0] if found else None


# Each booking made or moved asks for a closure in its way: compiled once, not on each request.
_FIRST_CLOSURE_MEETING = CompiledLookup(
    lambda space, start, until: (
        Closure.objects.of_space(space).meeting(start, until).select_related("space").order_by("start")[:1]
    ),
    space=int,
    start=datetime,
    until=datetime,
)


def _within(records: QuerySet, field: str, start: datetime | None, end: datetime | None) -> QuerySet:
    if start is not None:
        records = records.filter(**{f"{field}__gte": start})
    if end is not None:
        records = records.filter(**{f"{field}__lt": end})
    return records


BOOKING_EXPORT_COLUMNS = (
    "id",
    "space",
    "client_name",
    "client_phone",
    "photographer",
    "start",
    "end",
    "state",
    "people_count",
    "price",
    "currency",
    "notes",
    "created_at",
)


def bookings_for_export(start: datetime | None, end: datetime | None) -> QuerySet:
    """Every booking starting in ``[start, end)`` as rows of ``BOOKING_EXPORT_COLUMNS``, oldest first."""
    return (
        _within(Booking.objects.all(), "start", start, end)
        .annotate(currency=Value(settings.STUDIO_CURRENCY))
        .order_by("start", "id")
        .values_list(
            "id",
            "space__slug",
            "client__full_name",
            "client__phone",
            "photographer__username",
            "start",
            "end",
            "state",
            "people_count",
            "price",
            "currency",
            "notes",
            "created_at",
        )
    )


CLIENT_EXPORT_COLUMNS = ("id", "name", "phone", "email", "notes", "created_at")


def clients_for_export(start: datetime | None, end: datetime | None) -> QuerySet:
    """Every client registered in ``[start, end)`` as rows of ``CLIENT_EXPORT_COLUMNS``, oldest first."""
    return (
        _within(Client.objects.all(), "created_at", start, end)
        .order_by("created_at", "id")
        .values_list("id", "full_name", "phone", "email", "notes", "created_at")
    )


@dataclass(frozen=True)
class Notification:
    """One message the studio sends (or chose not to send) about something that happened."""

    kind: str  # booking_created, booking_confirmed, booking_cancelled, booking_rescheduled, ...
    channel: str  # how it goes out: "email"
    recipient: str  # "client" or "photographer"
    status: str  # a Delivery.Status: pending, running, succeeded, skipped, failed
    at: datetime  # when it was sent, skipped or given up; when the next attempt is due while pending
    not_sent_because: str  # why it was skipped or failed; empty otherwise
    event_type: str

    @property
    def sent(self) -> bool:
        return self.status == Delivery.Status.SUCCEEDED

    @property
    def kind_label(self) -> str:
        return _NOTIFICATION_LABELS.get(self.kind, self.kind)


_NOTIFICATION_LABELS = {
    "booking_created": "Booking received",
    "booking_confirmed": "Booking confirmed",
    "booking_cancelled": "Booking cancelled",
    "booking_rescheduled": "Booking moved",
    "booking_reminder": "Reminder",
    "photographer_assigned": "Session assigned",
}


def notifications_for(*, booking: Booking) -> list[Notification]:
    """The notifications about ``booking``, oldest first: one per delivery of a notification
    subscriber for one of its events. One query."""
    deliveries = (
        Delivery.objects.filter(event__aggregate_type=booking._meta.label_lower, event__aggregate_id=str(booking.pk))
        .exclude(handler__startswith="webhook:")
        .select_related("event")
        .order_by("event__occurred_at", "event_id", "id")
    )
    found = []
    for delivery in deliveries:
        about = notification_about(delivery.handler, delivery.event)
        if about is None:
            continue
        finished = delivery.status in (Delivery.Status.SUCCEEDED, Delivery.Status.SKIPPED, Delivery.Status.FAILED)
        found.append(
            Notification(
                kind=about[0],
                channel="email",
                recipient=about[1],
                status=delivery.status,
                at=(delivery.finished_at or delivery.created_at) if finished else delivery.next_attempt_at,
                not_sent_because=_why_not_sent(delivery),
                event_type=delivery.event.type,
            )
        )
    return found


def _why_not_sent(delivery: Delivery) -> str:
    if delivery.status == Delivery.Status.SKIPPED:
        return delivery.outcome
    if delivery.status == Delivery.Status.FAILED:
        return delivery.last_error
    return ""
