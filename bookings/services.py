"""Commands that change bookings and clients.

Each one checks the actor's permission, runs in one transaction and records what happened in the
event store (``events.services.publish``), which is the single record of a booking's history.
Failures are ``photostudio.errors`` domain errors.
"""

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, Transition

from bookings.models import (
    HOLDING_STATES,
    UNDO_ANY_PERMISSION,
    Booking,
    BookingSeries,
    BookingState,
    Client,
    Closure,
    Space,
    WaitlistEntry,
    WaitlistStatus,
)
from bookings.selectors import booking_alternatives, client_with_phone, first_closure_meeting
from employees.models import Role, backends_grant_nothing_per_object
from events.services import publish, publish_each
from photostudio.dates import day_text, moment_text, time_text
from photostudio.errors import (
    AlreadyOnWaitlist,
    BookingChanged,
    BookingClosed,
    BookingOverlap,
    ConcurrentChange,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    SpaceClosed,
    TooEarly,
    ValidationFailed,
    WaitlistEntryClosed,
    WaitlistSlotFree,
)
from photostudio.inputs import control_character_errors
from photostudio.models import save_unless_taken
from photostudio.phones import normalise_phone

RESCHEDULABLE_STATES = (BookingState.PENDING, BookingState.CONFIRMED)
CLIENT_FIELDS = ("full_name", "phone", "email", "notes")
BOOKING_FIELDS = ("notes", "people_count", "price", "photographer")
SPACE_FIELDS = ("slug", "name", "capacity", "hourly_rate", "buffer_minutes", "opening_hours", "is_active")
# Client fields as create_booking's arguments call them, so errors name what the caller sent.
_BOOKING_CLIENT_FIELDS = {"full_name": "client_name", "phone": "client_phone", "email": "client_email"}


class _Overlapped(Exception):
    """The exclusion constraint refused to save ``booking``: its transaction is aborted, so the
    booking in the way can only be named once that is rolled back (``_naming_overlaps``)."""

    def __init__(self, booking: Booking, *, offer_alternatives: bool):
        super().__init__(booking)
        self.booking, self.offer_alternatives = booking, offer_alternatives


def _naming_overlaps(service):
    """Decorates a service whose transaction saves a holding booking (``_save_holding``): once its
    transaction, or its savepoint within a caller's, is rolled back, an overlap the exclusion
    constraint refused becomes BookingOverlap naming the booking in the way."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except _Overlapped as refused:
            # The booking in the way committed before the constraint refused: the query sees it.
            booking = refused.booking
            raise _overlap(booking, _first_conflict(booking), offer_alternatives=refused.offer_alternatives) from None

    return wrapper


@_naming_overlaps
@transaction.atomic
def create_booking(
    *,
    actor,
    space: Space,
    start: datetime,
    end: datetime,
    people_count: int,
    client: Client | None = None,
    client_name: str = "",
    client_phone: str = "",
    client_email: str = "",
    notes: str = "",
    price: Decimal | None = None,
    photographer=None,
    series: BookingSeries | None = None,
    offer_alternatives: bool = True,
) -> Booking:
    """Book ``space`` from ``start`` to ``end`` (aware datetimes); the booking starts pending.

    The client is ``client`` or else the one with ``client_phone``, registered with
    ``client_name`` when the phone is new. The price is the space's hourly rate for the duration
    unless ``price`` is given, which needs ``bookings.override_booking_price``. A
    ``photographer`` is assigned as by ``assign_photographer``, in the same save, and recorded
    after ``booking.created``. A booking made as one date of a recurring ``series`` (see
    ``bookings.series``) belongs to it.

    Raises PermissionDenied, ValidationFailed (details name the offending arguments), SpaceClosed
    and BookingOverlap, whose details offer ``alternatives`` (see ``booking_alternatives``) unless
    not ``offer_alternatives``.
    """
    _require(actor, "bookings.add_booking", "book spaces")
    if price is not None:
        _require(actor, "bookings.override_booking_price", "set a booking's price by hand")
    if photographer is not None:
        _require(actor, "bookings.change_booking", "assign photographers")
    start, end = _aware("start", start), _aware("end", end)
    if client is None:
        client = client_for_booking(actor=actor, name=client_name, phone=client_phone, email=client_email)
    booking = Booking(
        client=client,
        space=space,
        start=start,
        end=end,
        blocks_until=end + space.buffer,
        people_count=people_count,
        price=price if price is not None else space.price_for(max(end - start, timedelta(0))),
        price_overridden=price is not None,
        notes=notes,
        series=series,
        created_by=actor,
        updated_by=actor,
    )
    assigned = _assign(booking, photographer) if photographer is not None else None
    _validate(booking)
    _save_holding(booking, offer_alternatives=offer_alternatives)
    payload = _snapshot(booking) if series is None else {**_snapshot(booking), "series": series.pk}
    publish("booking.created", booking, actor=actor, payload=payload)
    if assigned is not None:
        publish(assigned.event_type, booking, actor=actor, payload=assigned.payload)
    return booking


@_naming_overlaps
@transaction.atomic
def reschedule_booking(
    *,
    booking: Booking,
    actor,
    start: datetime,
    end: datetime,
    space: Space | None = None,
    offer_alternatives: bool = True,
    expected_revisions: Collection[int] | None = None,
) -> Booking:
    """Move a pending or confirmed booking to new times and, optionally, another space.

    The same rules as for a new booking apply. A price set by hand is kept; otherwise it is
    recalculated for the new duration and space. A move to where and when the booking already is
    changes and records nothing (no new revision, no event, no e-mail to the client). Raises
    PermissionDenied, BookingChanged (see ``_read_locked``), BookingClosed, ValidationFailed,
    SpaceClosed, BookingOverlap (offering ``alternatives``, as for a new booking, unless not
    ``offer_alternatives``) and ConcurrentChange.
    """
    _require(actor, "bookings.change_booking", "reschedule bookings")
    _read_locked(booking, expected_revisions=expected_revisions)
    edits = [edit] if (edit := _move(booking, start=start, end=end, space=space)) else []
    _save_edits(booking, edits, actor=actor, offer_alternatives=offer_alternatives)
    return booking


@dataclass(frozen=True)
class _Edit:
    """One part of a change to a booking, made in memory: the fields it set and the event that
    records it. The parts of one change are saved together (``_save_edits``): one save, one
    revision, each part's event."""

    fields: tuple[str, ...]
    event_type: str
    payload: dict
    # The space, start and end of buffer a move stopped holding, for the waitlist.
    freed: tuple[int, datetime, datetime] | None = None


def _move(booking: Booking, *, start: datetime, end: datetime, space: Space | None = None) -> _Edit | None:
    """``reschedule_booking``'s change, on a booking read under its row lock; None when it is
    already there."""
    if booking.state not in RESCHEDULABLE_STATES:
        raise BookingClosed(f"A {booking.get_state_display().lower()} booking cannot be rescheduled.")
    start, end = _aware("start", start), _aware("end", end)
    space = space or booking.space
    if (space.pk, start, end) == (booking.space_id, booking.start, booking.end):
        return None
    before = _held(booking)
    freed = (booking.space_id, booking.start, booking.blocks_until)
    booking.space, booking.start, booking.end = space, start, end
    booking.blocks_until = end + space.buffer
    if not booking.price_overridden:
        booking.price = space.price_for(max(end - start, timedelta(0)))
    _validate(booking)
    return _Edit(
        fields=("space", "start", "end", "blocks_until", "price"),
        event_type="booking.rescheduled",
        payload={"from": before, "to": _held(booking), "price": str(booking.price)},
        freed=freed,
    )


def _save_edits(booking: Booking, edits: list[_Edit], *, actor, offer_alternatives: bool = False) -> None:
    """Save the ``edits`` made to ``booking`` at once and record each, in order; a move is saved
    as holding its new time (``_save_holding``), and the slot it left is offered to the waitlist."""
    if not edits:
        return
    booking.updated_by = actor
    fields = [*dict.fromkeys(field for edit in edits for field in edit.fields), "updated_by", "updated_at"]
    freed = [edit.freed for edit in edits if edit.freed is not None]
    if freed:
        _save_holding(booking, offer_alternatives=offer_alternatives, update_fields=fields)
    else:
        _save_state_change(booking, update_fields=fields)
    for edit in edits:
        publish(edit.event_type, booking, actor=actor, payload=edit.payload)
    for slot in freed:
        _record_slot_openings(*slot, actor=actor)


@_naming_overlaps
@transaction.atomic
def transition_booking(
    *, booking: Booking, target_state: str, actor, reason: str = "", expected_revisions: Collection[int] | None = None
) -> Booking:
    """Move ``booking`` to ``target_state`` through the one state-machine transition that leads there.

    Starting and completing a session is for its assigned photographer, or for someone who may
    also change bookings (managers, admins), and not before the booking's ``earliest_begin`` /
    ``earliest_complete``. Going back to the state before the last change is an undo (see
    ``Booking``); an undo into a holding state needs the space to be free (and, back to pending
    or confirmed, open). Cancelling and undoing need a reason. Raises InvalidTransition for an
    unknown state or an illegal move, PermissionDenied, ValidationFailed (missing reason),
    TooEarly, SpaceClosed, BookingOverlap, BookingChanged (see ``_read_locked``) and
    ConcurrentChange when someone else changed the booking's state since it was read.
    """
    if target_state not in BookingState.values:
        raise InvalidTransition(
            f"{target_state!r} is not a booking state.", details={"to": target_state, "states": BookingState.values}
        )
    _read_locked_in_state_read(booking, expected_revisions=expected_revisions)
    move = booking.transition_to(target_state)
    if move is None:
        raise InvalidTransition(
            f"A {BookingState(booking.state).label.lower()} booking cannot become "
            f"{BookingState(target_state).label.lower()}.",
            details={"from": booking.state, "to": target_state, "allowed": booking.reachable_states()},
        )
    refusal = _transition_refusal(booking, move, actor)
    if refusal is not None:
        raise refusal
    reason = reason.strip()
    if move.custom.get("reason_required") and not reason:
        doing = "undoing the last change" if move.custom.get("undo") else "cancelling"
        raise ValidationFailed(f"Give a reason for {doing}.", details={"reason": [f"Give a reason for {doing}."]})
    if not all(condition(booking) for condition in move.conditions):
        raise _too_early(booking, move) if move.custom.get("not_before") else _not_yet(booking, move)
    source = booking.state
    getattr(booking, move.name)()
    booking.previous_state = source
    booking.state_changed_at = timezone.now()
    booking.state_changed_by = actor
    booking.updated_by = actor
    fields = ["state", "previous_state", "state_changed_at", "state_changed_by", "updated_by", "updated_at"]
    if booking.state in HOLDING_STATES and source not in HOLDING_STATES:
        _save_holding(booking, update_fields=fields)
    else:
        _save_state_change(booking, update_fields=fields)
    payload = {"from": source, "to": booking.state, "reason": reason, "transition": move.name}
    if move.custom.get("undo"):
        payload["undo"] = True
    publish("booking.state_changed", booking, actor=actor, payload=payload)
    if source in HOLDING_STATES and booking.state not in HOLDING_STATES:
        _record_slot_openings(booking.space_id, booking.start, booking.blocks_until, actor=actor)
    return booking


def _not_yet(booking: Booking, move: Transition) -> InvalidTransition:
    return InvalidTransition(
        f"The booking can become {BookingState(move.target).label.lower()} only once {move.custom['refused_until']}.",
        details={"from": booking.state, "to": move.target},
    )


def _too_early(booking: Booking, move: Transition) -> TooEarly:
    not_before = getattr(booking, move.custom["not_before"])
    doing = "begin" if move.target == BookingState.IN_PROGRESS else "complete"
    return TooEarly(
        f"Too early: this session can {doing} from {moment_text(not_before)}.",
        details={"from": booking.state, "to": move.target, "not_before": not_before.astimezone(UTC).isoformat()},
    )


# What ``transitions_allowed`` reads of a booking, its guards and permission checks included: a
# booking loaded with only these fields answers it without a query.
TRANSITION_FIELDS = frozenset(
    {"id", "state", "previous_state", "start", "photographer_id", "state_changed_by_id", "state_changed_at"}
)


def transitions_allowed(*, booking: Booking, actor) -> list[Transition]:
    """The transitions ``actor`` may fire on ``booking`` now, by the rules of ``transition_booking``
    (a reason aside, and an undo's free slot), in target-state order. No query beyond the actor's
    permissions."""
    moves = [
        move
        for move in booking.transitions_from_here()
        if _transition_refusal(booking, move, actor) is None
        and all(condition(booking) for condition in move.conditions)
    ]
    return sorted(moves, key=lambda move: move.target)


# Who holds it may begin or complete a session assigned to another photographer.
_OTHERS_SESSIONS_PERMISSION = "bookings.change_booking"
# What ``transitions_allowed`` asks of an actor beside their id: each transition's permission,
# and what its guards ask.
TRANSITION_PERMISSIONS = tuple(
    sorted(
        {
            move.permission
            for move in Booking._meta.get_field("state").get_all_transitions(Booking)
            if isinstance(move.permission, str)
        }
        | {UNDO_ANY_PERMISSION, _OTHERS_SESSIONS_PERMISSION}
    )
)


def transition_rights(actor) -> tuple | None:
    """What ``transitions_allowed`` reads of ``actor``: their id and permissions, so that one
    actor's rights stand for every later request of theirs until a permission changes. None when
    an authentication backend may grant a permission on one booking, which no tuple can stand for."""
    if not backends_grant_nothing_per_object():
        return None
    return actor.pk, tuple(actor.has_perm(permission) for permission in TRANSITION_PERMISSIONS)


def transitions_settled_until(*, booking: Booking, now: datetime) -> datetime | None:
    """The first moment after ``now`` at which the clock alone may change what
    ``transitions_allowed`` answers for ``booking``, whoever asks; None when it never will."""
    return min((moment for moment in booking.transition_clock_moments() if moment > now), default=None)


def transitions_not_yet_allowed(*, booking: Booking, actor) -> list[tuple[Transition, datetime]]:
    """The time-guarded transitions ``actor`` could fire on ``booking`` but not yet, each with the
    first moment they may, in target-state order."""
    waiting = [
        (move, getattr(booking, move.custom["not_before"]))
        for move in booking.transitions_from_here()
        if move.custom.get("not_before")
        and _transition_refusal(booking, move, actor) is None
        and not all(condition(booking) for condition in move.conditions)
    ]
    return sorted(waiting, key=lambda pair: pair[0].target)


def why_no_transition(*, booking: Booking, actor) -> str:
    """Why ``actor`` can do nothing with ``booking`` now: the reasons its possible next steps are
    refused, or, when it has none left, that its life is over."""
    reasons = [
        refusal.message
        for move in booking.transitions_from_here()
        if (refusal := _transition_refusal(booking, move, actor)) is not None
    ]
    if reasons:
        return " ".join(dict.fromkeys(reasons))
    return f"A {booking.get_state_display().lower()} booking has no next step."


def _transition_refusal(booking: Booking, move: Transition, actor) -> PermissionDenied | None:
    """Why ``actor`` may not fire ``move`` on ``booking``, or None when they may."""
    permitted = move.has_perm(booking, actor)  # asked once: a day list asks it of every booking
    if move.custom.get("undo") and not permitted:
        return PermissionDenied(
            f"Only a manager, or the person who made the last change within {settings.BOOKING_UNDO_MINUTES} "
            "minutes of it, may undo it."
        )
    if not permitted:
        return PermissionDenied(f"{actor} may not mark bookings as {BookingState(move.target).label.lower()}.")
    if (
        move.custom.get("assigned_photographer_only")
        and booking.photographer_id != actor.pk
        and not actor.has_perm(_OTHERS_SESSIONS_PERMISSION)
    ):
        return PermissionDenied("Only the photographer assigned to this booking or a manager may do this.")
    return None


@transaction.atomic
def assign_photographer(*, booking: Booking, photographer, actor) -> Booking:
    """Put ``photographer`` (an active employee with the photographer role; None to unassign) on a booking.

    Raises PermissionDenied, BookingClosed for a booking that no longer holds its space,
    ValidationFailed for someone who is not an active photographer, and ConcurrentChange.
    """
    _require(actor, "bookings.change_booking", "assign photographers")
    _read_locked(booking)
    _save_edits(booking, [_assign(booking, photographer)], actor=actor)
    return booking


def _assign(booking: Booking, photographer) -> _Edit:
    """``assign_photographer``'s change, on a booking read under its row lock."""
    if booking.state not in HOLDING_STATES:
        raise BookingClosed(f"A {booking.get_state_display().lower()} booking cannot get another photographer.")
    if photographer is not None and not (photographer.is_active and photographer.role == Role.PHOTOGRAPHER):
        message = f"{photographer} is not an active photographer."
        raise ValidationFailed(message, details={"photographer": [message]})
    previous = booking.photographer_id
    booking.photographer = photographer
    return _Edit(
        fields=("photographer",),
        event_type="booking.photographer_assigned",
        payload={"from": previous, "to": booking.photographer_id},
    )


@_naming_overlaps
@transaction.atomic
def amend_booking(
    *,
    booking: Booking,
    actor,
    move: dict | None = None,
    changes: dict | None = None,
    expected_revisions: Collection[int] | None = None,
) -> Booking:
    """Reschedule (``move``: start, end, space, as for ``reschedule_booking``) and change details
    (``changes``, as for ``update_booking``) as one change: both happen or neither does, in one
    save (one new revision, checked against ``expected_revisions`` as by ``_read_locked``), recorded
    by the events each would record, in that order. Raises what either raises."""
    changes = changes or {}
    _require_details_change(actor, changes, doing="reschedule bookings" if move else "change bookings")
    _read_locked(booking, expected_revisions=expected_revisions)
    edits = [edit] if move and (edit := _move(booking, **move)) else []
    edits += _change_details(booking, changes)
    _save_edits(booking, edits, actor=actor, offer_alternatives=True)
    return booking


@transaction.atomic
def update_booking(*, booking: Booking, actor, expected_revisions: Collection[int] | None = None, **changes) -> Booking:
    """Change the fields given in ``changes``, leaving the rest: ``notes``, ``people_count``,
    ``price`` (set by hand, which needs ``bookings.override_booking_price``; None returns to the
    space's rate for the duration) and ``photographer`` (as ``assign_photographer``; None unassigns).

    Notes may change in any state, the rest only while the booking holds its space. The changes
    are saved at once (one new revision) and recorded by ``booking.photographer_assigned`` for a
    new photographer and ``booking.updated`` with each other changed field's old and new value,
    or not at all when no value changed. Raises ValidationFailed (a field that cannot be changed,
    more people than the space holds), PermissionDenied, BookingChanged (see ``_read_locked``),
    BookingClosed and ConcurrentChange.
    """
    _require_details_change(actor, changes, doing="change bookings")
    _read_locked(booking, expected_revisions=expected_revisions)
    _save_edits(booking, _change_details(booking, changes), actor=actor)
    return booking


def _require_details_change(actor, changes: dict, *, doing: str) -> None:
    unknown = set(changes) - set(BOOKING_FIELDS)
    if unknown:
        raise ValidationFailed(details={name: ["This field cannot be changed here."] for name in sorted(unknown)})
    _require(actor, "bookings.change_booking", doing)
    if "price" in changes:
        _require(actor, "bookings.override_booking_price", "set a booking's price by hand")


def _change_details(booking: Booking, changes: dict) -> list[_Edit]:
    """``update_booking``'s changes, on a booking read under its row lock: a new photographer
    and the other fields whose value changes, each an edit of its own."""
    edits = []
    if "photographer" in changes and _pk(changes["photographer"]) != booking.photographer_id:
        edits.append(_assign(booking, changes["photographer"]))
    before = {field: getattr(booking, field) for field in ("notes", "people_count", "price", "price_overridden")}
    after = dict(before)
    for field in ("notes", "people_count"):
        if field in changes:
            after[field] = changes[field]
    if "price" in changes:
        price = changes["price"]
        after["price"] = price if price is not None else booking.space.price_for(booking.duration)
        after["price_overridden"] = price is not None
    changed = [field for field in after if after[field] != before[field]]
    if not changed:
        return edits
    notes_only = set(changed) == {"notes"}
    if not notes_only and booking.state not in HOLDING_STATES:
        raise BookingClosed(f"A {booking.get_state_display().lower()} booking can only get new notes.")
    for field in changed:
        setattr(booking, field, after[field])
    if not notes_only:
        # A note is taken whatever became of the space since (closed, smaller, other hours), which
        # the booking's own rules would refuse.
        _validate(booking)
    payload = {"changes": {field: {"from": _plain(before[field]), "to": _plain(after[field])} for field in changed}}
    return [*edits, _Edit(fields=tuple(changed), event_type="booking.updated", payload=payload)]


@transaction.atomic
def update_client(
    *,
    client: Client,
    actor,
    full_name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    notes: str | None = None,
) -> Client:
    """Change the given fields of a client (None leaves a field as it is); the phone is normalised.
    Returns the client as saved; ``client`` itself is left as it was read.

    Records ``client.updated`` with each changed field's old and new value, or nothing when no
    value changed. The old values are the stored ones, read under a row lock: ``client`` may have
    been read before someone else changed it. Raises PermissionDenied and ValidationFailed
    (including a phone another client already has).
    """
    _require(actor, "bookings.change_client", "edit clients")
    given = {"full_name": full_name, "phone": phone, "email": email, "notes": notes}
    client = Client.objects.select_for_update().get(pk=client.pk)
    before = {field: getattr(client, field) for field in CLIENT_FIELDS}
    for field, value in given.items():
        if value is not None:
            setattr(client, field, value)
    _validate(client)
    changes = {
        field: {"from": before[field], "to": getattr(client, field)}
        for field in CLIENT_FIELDS
        if getattr(client, field) != before[field]
    }
    if not changes:
        return client
    client.updated_by = actor
    save_unless_taken(client, unique_field="phone", update_fields=[*changes, "updated_by", "updated_at"])
    publish("client.updated", client, actor=actor, payload={"changes": changes})
    return client


@transaction.atomic
def create_space(*, actor, **fields) -> Space:
    """A new space from ``fields`` (see SPACE_FIELDS); records ``space.created`` with its values.
    Raises PermissionDenied and ValidationFailed."""
    _require(actor, "bookings.add_space", "add spaces")
    unknown = set(fields) - set(SPACE_FIELDS)
    if unknown:
        raise ValidationFailed(details={name: ["This field cannot be set here."] for name in sorted(unknown)})
    space = Space(**fields)
    _validate(space)
    space.save()
    publish(
        "space.created", space, actor=actor, payload={field: _plain(getattr(space, field)) for field in SPACE_FIELDS}
    )
    return space


@transaction.atomic
def update_space(*, space: Space, actor, **changes) -> Space:
    """Change the given fields of a space (rates, hours, buffer, active, …; see SPACE_FIELDS).

    Records ``space.updated`` with each changed field's old and new value, or nothing when no
    value changed. Existing bookings keep their price and buffer. Raises PermissionDenied and
    ValidationFailed.
    """
    _require(actor, "bookings.change_space", "change spaces")
    unknown = set(changes) - set(SPACE_FIELDS)
    if unknown:
        raise ValidationFailed(details={name: ["This field cannot be changed here."] for name in sorted(unknown)})
    space = Space.objects.select_for_update().get(pk=space.pk)
    before = {field: getattr(space, field) for field in changes}
    for field, value in changes.items():
        setattr(space, field, value)
    _validate(space)
    changed = {
        field: {"from": _plain(before[field]), "to": _plain(getattr(space, field))}
        for field in changes
        if getattr(space, field) != before[field]
    }
    if not changed:
        return space
    space.save(update_fields=list(changed))
    publish("space.updated", space, actor=actor, payload={"changes": changed})
    return space


@transaction.atomic
def unassign_upcoming_sessions(*, photographer, actor) -> list[Booking]:
    """Take ``photographer`` off every booking of theirs that has not started and still holds its
    space, as ``assign_photographer`` does (one event each). Returns those bookings."""
    bookings = list(
        Booking.objects.select_for_update()
        .filter(photographer=photographer, state__in=HOLDING_STATES, start__gt=timezone.now())
        .order_by("start", "id")
    )
    return [assign_photographer(booking=booking, photographer=None, actor=actor) for booking in bookings]


# --- Waitlist ----------------------------------------------------------------------------------


@transaction.atomic
def add_to_waitlist(
    *,
    actor,
    space: Space,
    start: datetime,
    end: datetime,
    people_count: int,
    client: Client | None = None,
    client_name: str = "",
    client_phone: str = "",
    client_email: str = "",
    notes: str = "",
) -> WaitlistEntry:
    """Put a client on the waitlist for ``space`` from ``start`` to ``end``, which another booking
    holds; the arguments are ``create_booking``'s (the client found or registered the same way).

    The slot must be one the studio would book but for that booking: the same times, opening
    hours, capacity and closure rules apply; and it must be still to come, as an entry whose start
    has come can no longer be booked (``book_waitlist_entry``). Raises PermissionDenied,
    ValidationFailed, SpaceClosed, WaitlistSlotFree when nothing holds the slot (book it instead)
    and AlreadyOnWaitlist when the client already waits for the space at an overlapping time.
    """
    _require(actor, "bookings.add_waitlistentry", "put clients on the waitlist")
    start, end = _aware("start", start), _aware("end", end)
    if start <= timezone.now():
        message = "The slot has started or passed: a client can only wait for one still to come."
        raise ValidationFailed(message, details={"start": [message]})
    if client is None:
        client = client_for_booking(actor=actor, name=client_name, phone=client_phone, email=client_email)
    wanted = Booking(
        client=client,
        space=space,
        start=start,
        end=end,
        blocks_until=end + space.buffer,
        people_count=people_count,
        price=space.price_for(max(end - start, timedelta(0))),
        notes=notes,
    )
    _validate(wanted)
    ensure_space_open(space=space, start=start, until=wanted.blocks_until)
    if _first_conflict(wanted) is None:
        raise WaitlistSlotFree(f"{space.name} is free at that time: book it instead.", details={"space": space.slug})
    # The client's row lock makes two clerks adding them at once take turns: the second sees the
    # first's entry below. (SQLite's IMMEDIATE transactions take turns anyway.) NO KEY UPDATE leaves
    # rows referring to the client (a booking of theirs made meanwhile) free to be written.
    Client.objects.select_for_update(no_key=True).filter(pk=client.pk).exists()
    waiting = (
        WaitlistEntry.objects.filter(client=client, space=space, status=WaitlistStatus.WAITING)
        .filter(start__lt=end, end__gt=start)
        .first()
    )
    if waiting is not None:
        raise AlreadyOnWaitlist(
            f"{client.full_name} is already on the waitlist for {space.name} at that time (entry #{waiting.pk}).",
            details={"waitlist_entry": waiting.pk},
        )
    entry = WaitlistEntry(
        client=client,
        space=space,
        start=start,
        end=end,
        blocks_until=wanted.blocks_until,
        people_count=people_count,
        notes=notes,
        created_by=actor,
        updated_by=actor,
    )
    _validate(entry)
    entry.save()
    publish("waitlist.added", entry, actor=actor, payload=_waitlist_snapshot(entry))
    return entry


@transaction.atomic
def book_waitlist_entry(*, entry: WaitlistEntry, actor) -> WaitlistEntry:
    """Book the waiting client into the slot through ``create_booking``, so every rule of a new
    booking applies (the slot must be free: BookingOverlap otherwise); the entry becomes
    ``booked`` with the booking.

    Raises PermissionDenied, WaitlistEntryClosed when the entry is not waiting or its start has
    passed, and whatever ``create_booking`` raises.
    """
    _require(actor, "bookings.change_waitlistentry", "book clients from the waitlist")
    entry = _waiting_entry(entry)
    if entry.start <= timezone.now():
        raise WaitlistEntryClosed("The slot has started or passed: this entry can no longer be booked.")
    booking = create_booking(
        actor=actor,
        space=entry.space,
        start=entry.start,
        end=entry.end,
        people_count=entry.people_count,
        client=entry.client,
        notes=entry.notes,
    )
    _resolve(entry, WaitlistStatus.BOOKED, actor=actor, booking=booking)
    publish("waitlist.booked", entry, actor=actor, payload={"booking": booking.pk})
    return entry


@transaction.atomic
def withdraw_waitlist_entry(*, entry: WaitlistEntry, actor, reason: str = "") -> WaitlistEntry:
    """Take a waiting client off the waitlist (they booked elsewhere, no longer want the slot).

    Raises PermissionDenied and WaitlistEntryClosed when the entry is not waiting.
    """
    _require(actor, "bookings.change_waitlistentry", "withdraw waitlist entries")
    entry = _waiting_entry(entry)
    _resolve(entry, WaitlistStatus.WITHDRAWN, actor=actor)
    publish("waitlist.withdrawn", entry, actor=actor, payload={"reason": reason.strip()})
    return entry


@transaction.atomic
def expire_waitlist(*, now: datetime) -> list[WaitlistEntry]:
    """Mark every waiting entry whose start has come by ``now`` as expired (one
    ``waitlist.expired`` event each, by no one); running it twice changes nothing more."""
    entries = list(
        WaitlistEntry.objects.select_for_update()
        .filter(status=WaitlistStatus.WAITING, start__lte=now)
        .order_by("start", "id")
    )
    for entry in entries:
        _resolve(entry, WaitlistStatus.EXPIRED, actor=None, at=now)
        publish("waitlist.expired", entry, payload={"start": entry.start.isoformat()})
    return entries


@transaction.atomic
def _record_slot_openings(space_id: int | None, start: datetime, until: datetime, *, actor) -> None:
    """Note on each waiting entry of the space (of every space when ``space_id`` is None) whose
    slot meets ``[start, until)`` and is now free that its slot opened (``waitlist.slot_opened``,
    by ``actor``, who freed it), in the transaction that freed it: a stretch a booking stopped
    holding (cancelled, ended, marked no-show or moved away) or a closure removed. The same
    queries however many entries it opens: one UPDATE of them, one INSERT of their events."""
    candidates = WaitlistEntry.objects.select_for_update().filter(
        status=WaitlistStatus.WAITING, start__lt=until, blocks_until__gt=start
    )
    if space_id is not None:
        candidates = candidates.filter(space_id=space_id)
    now = timezone.now()
    opened = list(candidates.with_free_slot().filter(start__gt=now).order_by("start", "id"))
    WaitlistEntry.objects.filter(pk__in=[entry.pk for entry in opened]).update(slot_opened_at=now, updated_at=now)
    for entry in opened:
        entry.slot_opened_at = entry.updated_at = now
    publish_each(
        "waitlist.slot_opened", opened, actor=actor, payload={"start": start.isoformat(), "until": until.isoformat()}
    )


def _waiting_entry(entry: WaitlistEntry) -> WaitlistEntry:
    """``entry`` read again under a row lock, or WaitlistEntryClosed when it is no longer waiting."""
    entry = WaitlistEntry.objects.select_for_update().select_related("client", "space").get(pk=entry.pk)
    if entry.status != WaitlistStatus.WAITING:
        raise WaitlistEntryClosed(
            f"This waitlist entry is {entry.get_status_display().lower()}, no longer waiting.",
            details={"status": entry.status},
        )
    return entry


def _resolve(entry: WaitlistEntry, status: str, *, actor, booking: Booking | None = None, at=None) -> None:
    entry.status = status
    entry.booking = booking
    entry.resolved_at = at or timezone.now()
    entry.updated_by = actor
    entry.save(update_fields=["status", "booking", "resolved_at", "updated_by", "updated_at"])


def _waitlist_snapshot(entry: WaitlistEntry) -> dict:
    return {
        "space": entry.space.slug,
        "start": entry.start.isoformat(),
        "end": entry.end.isoformat(),
        "client": entry.client_id,
        "people_count": entry.people_count,
    }


def _pk(instance) -> int | None:
    return None if instance is None else instance.pk


def _plain(value):
    """``value`` as JSON holds it: a price as its exact decimal string."""
    return str(value) if isinstance(value, Decimal) else value


def client_for_booking(*, actor, name: str, phone: str, email: str) -> Client:
    """The client with this phone number, or a new one registered with ``name`` (its row records who did it)."""
    try:
        phone = normalise_phone(phone)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], details={"client_phone": exc.messages}) from None
    if (known := client_with_phone(phone)) is not None:
        return known
    _require(actor, "bookings.add_client", "register new clients")
    client = Client(full_name=name, phone=phone, email=email, created_by=actor, updated_by=actor)
    try:
        _validate(client, rename=_BOOKING_CLIENT_FIELDS)
        save_unless_taken(client, unique_field="phone", reported_as=_BOOKING_CLIENT_FIELDS["phone"])
    except ValidationFailed as refused:
        # Another clerk registered this phone since it was looked up: theirs is the client to book.
        if _BOOKING_CLIENT_FIELDS["phone"] in refused.details and (registered := client_with_phone(phone)):
            return registered
        raise
    return client


def _save_holding(booking: Booking, *, offer_alternatives: bool = False, **save_kwargs) -> None:
    """Save a booking that holds its space, refusing a pending or confirmed one that touches a
    closure (``ensure_space_open``) and any overlap with another holding booking, with the free
    times and spaces to offer instead when ``offer_alternatives``.

    On PostgreSQL the exclusion constraint finds an overlap as the row is written (waiting for a
    concurrent booking's commit), and a query names the booking in the way once the calling
    service's transaction is rolled back: call this only from a service decorated with
    ``_naming_overlaps``. A save that succeeds costs neither a query nor a savepoint of its own.
    SQLite has no such constraint: there the query runs first, and the IMMEDIATE transaction mode
    serialises it and the write.
    """
    if booking.state in RESCHEDULABLE_STATES:
        ensure_space_open(space=booking.space, start=booking.start, until=booking.blocks_until)
    if connection.vendor != "postgresql":
        conflict = _first_conflict(booking)
        if conflict is not None:
            raise _overlap(booking, conflict, offer_alternatives=offer_alternatives)
    try:
        _save_state_change(booking, **save_kwargs)
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != Booking.OVERLAP_CONSTRAINT:
            raise
        raise _Overlapped(booking, offer_alternatives=offer_alternatives) from None


def ensure_space_open(*, space: Space, start: datetime, until: datetime) -> None:
    """Refuse a booking of ``space`` over ``[start, until)`` (its start to the end of its clean-up
    buffer) that touches a closure of the space or of the whole studio: raises SpaceClosed naming
    the earliest such closure.

    Call it inside the transaction that saves the booking. On PostgreSQL it holds a share lock on
    the space's row until that transaction ends; ``create_closure`` locks the same row for update
    before it reads the bookings, so of a booking and a closure made at the same moment one waits
    for the other's commit: either the booking is refused, or the closure lists it among its
    affected bookings. On SQLite the IMMEDIATE transactions run one after the other anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {Space._meta.db_table} WHERE id = %s FOR SHARE", [space.pk])
    if (closure := first_closure_meeting(space_id=space.pk, start=start, until=until)) is not None:
        raise _closed(closure)


def _closed(closure: Closure) -> SpaceClosed:
    zone = timezone.get_default_timezone()
    start, end = (timezone.localtime(moment, zone) for moment in (closure.start, closure.end))
    until = time_text(end) if start.date() == end.date() else moment_text(end)
    return SpaceClosed(
        f"{closure.where} is closed on {day_text(start)} from {time_text(start)} to {until} for “{closure.reason}” "
        f"(closure #{closure.pk}): the booking and its clean-up must fit outside it.",
        details={"closure": closure_snapshot(closure)},
    )


def closure_snapshot(closure: Closure) -> dict:
    """The closure as plain values, as events and the ``space_closed`` error name it."""
    return {
        "id": closure.pk,
        "space": closure.space.slug if closure.space is not None else None,
        "start": closure.start.isoformat(),
        "end": closure.end.isoformat(),
        "reason": closure.reason,
    }


@dataclass(frozen=True)
class RecordedClosure:
    """A new closure, the bookings already holding its time, which it neither moves nor cancels,
    and the waiting clients whose slot it closes, who stay waiting (Today offers them no more)."""

    closure: Closure
    affected_bookings: list[Booking]  # in start order
    waiting_entries: list[WaitlistEntry]  # in start order


@transaction.atomic
def create_closure(
    *, actor, start: datetime, end: datetime, reason: str, space: Space | None = None
) -> RecordedClosure:
    """Close ``space`` (None: the whole studio) from ``start`` to ``end`` for ``reason``; from then
    on no pending or confirmed booking may touch that time (see ``ensure_space_open``).

    Bookings already holding the time, clean-up buffer included, stay as they are and are
    returned (and named in the ``closure.created`` event) for the manager to move or cancel; so
    are the waitlist entries still waiting for a slot it meets, whose clients may want telling.
    Locks the rows of the spaces it closes first, so a booking saved at the same moment is
    either refused or among them. Raises PermissionDenied and ValidationFailed.
    """
    _require(actor, "bookings.add_closure", "close spaces")
    start, end = _aware("start", start), _aware("end", end)
    closure = Closure(space=space, start=start, end=end, reason=reason, created_by=actor, updated_by=actor)
    _validate(closure)
    closed_spaces = Space.objects.select_for_update().order_by("pk")
    if space is not None:
        closed_spaces = closed_spaces.filter(pk=space.pk)
    list(closed_spaces.values_list("pk", flat=True))  # the lock ensure_space_open's share lock waits for
    closure.save()
    affected = Booking.objects.holding_during(start, end).select_related("space", "client")
    if space is not None:
        affected = affected.filter(space=space)
    affected = list(affected.order_by("start", "id"))
    waiting = WaitlistEntry.objects.filter(
        status=WaitlistStatus.WAITING, start__lt=end, blocks_until__gt=start
    ).select_related("space", "client", "created_by")
    if space is not None:
        waiting = waiting.filter(space=space)
    waiting = list(waiting.order_by("start", "id"))
    publish(
        "closure.created",
        closure,
        actor=actor,
        payload={
            **closure_snapshot(closure),
            "affected_bookings": [booking.pk for booking in affected],
            "waiting_entries": [entry.pk for entry in waiting],
        },
    )
    return RecordedClosure(closure=closure, affected_bookings=affected, waiting_entries=waiting)


@transaction.atomic
def delete_closure(*, closure: Closure, actor) -> None:
    """Remove a closure: its time takes bookings again, and the waiting clients whose slot is now
    free are told (``waitlist.slot_opened``). Records ``closure.deleted`` with what it was.
    Raises PermissionDenied, and NotFound when it was removed meanwhile."""
    _require(actor, "bookings.delete_closure", "remove closures")
    closure = Closure.objects.select_for_update(of=("self",)).select_related("space").filter(pk=closure.pk).first()
    if closure is None:
        raise NotFound("This closure was removed meanwhile.")
    publish("closure.deleted", closure, actor=actor, payload=closure_snapshot(closure))
    closure.delete()
    _record_slot_openings(closure.space_id, closure.start, closure.end, actor=actor)


def _read_locked(booking: Booking, *, expected_revisions: Collection[int] | None = None) -> None:
    """Read ``booking`` again under a row lock, for a change computed from its other fields (a
    price from its times, its times keeping a price set by hand): a copy read before someone
    else's change would write a price for times it no longer has, or drop one set meanwhile.

    With ``expected_revisions``, the revisions the caller's change may be made on (an ``If-Match``
    listing ETags, a form opened earlier), raises BookingChanged unless the stored revision is one
    of them — never with none: under the lock, so of two changes decided on one revision the second
    always hears of the first. ``details`` name the one revision expected as ``expected_revision``,
    otherwise all of them, ascending, as ``expected_revisions``.
    """
    stored = Booking.objects.select_for_update(of=("self",)).get(pk=booking.pk)
    # Copied rather than refresh_from_db(): django-fsm's lifts the protection of the state field
    # for the whole process while it reads, and another thread's read, done meanwhile, puts it
    # back before this one sets the state (AttributeError: two clerks' changes in one process).
    for field in Booking._meta.concrete_fields:
        value = booking.__dict__[field.attname] = stored.__dict__[field.attname]
        # The related rows the caller read (space, client…) are kept where the row still names
        # them, sparing the change a query each.
        if field.is_relation and field.is_cached(booking) and _pk(field.get_cached_value(booking)) != value:
            field.delete_cached_value(booking)
    booking.__dict__.pop("_prefetched_objects_cache", None)
    booking._update_initial_state()  # what the state-guarded save compares with
    if expected_revisions is None or booking.revision in expected_revisions:
        return
    expected, now = sorted(expected_revisions), booking.revision
    if not expected:
        message = f"is at revision {now}, and your change names none of its versions"
    else:
        named = f"revision {expected[0]}" if len(expected) == 1 else f"revisions {', '.join(map(str, expected))}"
        message = f"was changed by someone else since you read it ({named}, now {now})"
    named_revisions = {"expected_revision": expected[0]} if len(expected) == 1 else {"expected_revisions": expected}
    raise BookingChanged(
        f"Booking #{booking.pk} {message}: read it again and redo your change on what it says now.",
        details={**named_revisions, "revision": now},
    )


def _read_locked_in_state_read(booking: Booking, *, expected_revisions: Collection[int] | None = None) -> None:
    """``_read_locked``, for a state change decided on the state the caller read: ConcurrentChange
    when someone else changed it since. Its times are the stored ones, which the slot it frees and
    the days whose lists change are read from."""
    state_read = booking.state
    _read_locked(booking, expected_revisions=expected_revisions)
    if booking.state != state_read:
        raise ConcurrentChange()


def _save_state_change(booking: Booking, **save_kwargs) -> None:
    try:
        booking.save(**save_kwargs)
    except ConcurrentTransition:
        raise ConcurrentChange() from None


def _first_conflict(booking: Booking) -> Booking | None:
    """The earliest other holding booking of the same space whose time, buffer included, meets this one's."""
    others = (
        Booking.objects.filter(space=booking.space)
        .holding_during(booking.start, booking.blocks_until)
        .select_related("space")
    )
    if booking.pk is not None:
        others = others.exclude(pk=booking.pk)
    return others.order_by("start").first()


def _overlap(booking: Booking, conflict: Booking | None, *, offer_alternatives: bool) -> BookingOverlap:
    """The refusal of ``booking``, naming ``conflict`` when known and, when asked, offering the
    free times and spaces of ``booking_alternatives``."""
    message, details = None, {}
    if conflict is not None:
        zone = timezone.get_default_timezone()
        start, end, free = (
            timezone.localtime(moment, zone) for moment in (conflict.start, conflict.end, conflict.blocks_until)
        )
        message = (
            f"{conflict.space.name} is already booked on {day_text(start)} from {time_text(start)} to {time_text(end)}"
        )
        if free != end:
            message += f" and blocked for clean-up until {time_text(free)}"
        message += f" (booking #{conflict.pk})."
        details["conflicting_booking"] = {
            "id": conflict.pk,
            "start": conflict.start.isoformat(),
            "end": conflict.end.isoformat(),
            "blocks_until": conflict.blocks_until.isoformat(),
        }
    if offer_alternatives:
        alternatives = booking_alternatives(
            space=booking.space,
            start=booking.start,
            end=booking.end,
            people=booking.people_count,
            exclude_booking=booking if booking.pk is not None else None,
        )
        details["alternatives"] = alternatives.as_details()
    return BookingOverlap(message, details=details)


def _require(actor, permission: str, action: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(f"{actor} may not {action}.", details={"permission": permission})


def _aware(field: str, value) -> datetime:
    """``value`` in UTC, where durations and comparisons are exact even across a DST change."""
    if not isinstance(value, datetime) or timezone.is_naive(value):
        message = "Give a date and time with its time zone (UTC offset)."
        raise ValidationFailed(message, details={field: [message]})
    return value.astimezone(UTC)


def _validate(instance, *, rename: dict[str, str] | None = None) -> None:
    """``full_clean()`` with its ValidationError turned into ValidationFailed, fields renamed as asked.

    A booking's state is left out: only its transitions set it (cleaning would assign it, which
    the protected field refuses). So is a price the service worked out from the times rather than
    one given: times refused as too long are refused for that, not for the price they would cost,
    and times within one day's opening hours (25 hours at most) price within its digits at any
    hourly rate a space holds.
    """
    exclude = _held_relations(instance)
    if isinstance(instance, Booking):
        exclude += ["state"] if instance.price_overridden else ["state", "price"]
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        details = {
            "non_field_errors" if field == NON_FIELD_ERRORS else (rename or {}).get(field, field): messages
            for field, messages in errors.items()
        }
        raise ValidationFailed(next(iter(details.values()))[0], details=details) from None


def _held_relations(instance) -> list[str]:
    """The foreign keys of ``instance`` set to an object this request read from the database (the
    space, the client, the actor): asking again whether it exists would cost a query each, and
    the foreign key constraint holds at commit. Keys with ``limit_choices_to`` are still checked."""
    return [
        field.name
        for field in instance._meta.concrete_fields
        if field.many_to_one
        and not field.remote_field.limit_choices_to
        and field.is_cached(instance)
        and (related := field.get_cached_value(instance)) is not None
        and not related._state.adding
    ]


def _times(booking: Booking) -> dict:
    return {"space": booking.space.slug, "start": booking.start.isoformat(), "end": booking.end.isoformat()}


def _held(booking: Booking) -> dict:
    """``_times`` and the end of the buffer the booking holds, which its space's buffer no longer
    tells once that changes."""
    return {**_times(booking), "blocks_until": booking.blocks_until.isoformat()}


def _snapshot(booking: Booking) -> dict:
    return {
        **_times(booking),
        "client": booking.client_id,
        "people_count": booking.people_count,
        "price": str(booking.price),
        "state": booking.state,
    }


@dataclass(frozen=True)
class ClientImport:
    """What importing client rows did (or, not committed, would do). Rows are known by line number."""

    new: list[Client]
    known_lines: list[int]
    problems: list[tuple[int, str]]


@transaction.atomic
def import_clients(*, rows: Iterable[tuple[int, dict[str, str]]], actor, commit: bool) -> ClientImport:
    """Register a client for each row (``name``, ``phone``, ``email``, ``notes``) whose phone no
    client has yet; a row whose phone is already known is left alone, so importing a file twice
    changes nothing. Bad rows are reported with why, never half-saved. With ``commit`` False
    nothing is written. Each new client records ``client.created``.

    Raises PermissionDenied unless the actor may register clients.
    """
    _require(actor, "bookings.add_client", "register new clients")
    candidates: dict[str, tuple[int, Client]] = {}
    problems = []
    for line, row in rows:
        client = Client(
            full_name=row.get("name", ""),
            phone=row.get("phone", ""),
            email=row.get("email", ""),
            notes=row.get("notes", ""),
            created_by=actor,
            updated_by=actor,
        )
        errors = control_character_errors(client)
        try:
            client.full_clean(exclude=["created_by", "updated_by"], validate_unique=False)
        except ValidationError as exc:
            errors = exc.message_dict | errors
        if errors:
            problems.append((line, "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())))
            continue
        if client.phone in candidates:
            problems.append((line, f"phone {client.phone} is already on line {candidates[client.phone][0]}"))
            continue
        candidates[client.phone] = (line, client)
    known = _known_phones(list(candidates))
    new = [client for phone, (_, client) in candidates.items() if phone not in known]
    if commit and new:
        try:
            with transaction.atomic():
                Client.objects.bulk_create(new, batch_size=500)
        except IntegrityError:
            raise ValidationFailed(
                "A client with one of these phone numbers was registered during the import; nothing was "
                "imported, run it again."
            ) from None
        for client in new:
            publish("client.created", client, actor=actor, payload={"source": "import"})
    return ClientImport(
        new=new,
        known_lines=sorted(line for phone, (line, _) in candidates.items() if phone in known),
        problems=problems,
    )


def _known_phones(phones: list[str], chunk: int = 500) -> set[str]:
    # In chunks: SQLite limits how many parameters one query may carry.
    known = set()
    for offset in range(0, len(phones), chunk):
        batch = phones[offset : offset + chunk]
        known.update(Client.objects.filter(phone__in=batch).values_list("phone", flat=True))
    return known
