"""Commands on recurring series: book the same slot every N weeks, cancel or move a series as a
whole or from one date on.

Each date of a series is an ordinary booking made, cancelled or moved by ``bookings.services``,
so every rule of a single booking (opening hours, overlaps with their buffer, closures, who may
do what) holds for each date and each records its own events; the series records one event more
(``booking.series_created``, ``booking.series_cancelled``, ``booking.series_moved``). A date the
studio refuses with a conflict (a ``Conflict``: booked, closed, ...) is listed with its refusal's
code; booking or moving a series is all or nothing unless told to skip those dates. Skipping them
also skips a date whose clock never shows the series' time (``skipped_time``, the night the clocks
go forward), which is otherwise the request's own error. A refused date offers no alternatives:
searching them on each of up to 52 dates would cost queries for choices the series form cannot
take. A refusal that would hold for every date (too many people, outside opening hours) is the
request's own error.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingSeries, BookingState, Space, local_instant, studio_day
from events.services import publish
from photostudio.dates import day_text, moment_text
from photostudio.errors import (
    BookingClosed,
    Conflict,
    PermissionDenied,
    RepeatedTime,
    SeriesConflict,
    SkippedTime,
    ValidationFailed,
)
from photostudio.inputs import (
    FIRST_DAY,
    LAST_DAY,
    in_calendar,
    repeated_instants,
    repeated_time_error,
    skipped_time_error,
)


@dataclass(frozen=True)
class Refusal:
    """Why one date of a series was not booked, moved or cancelled: a domain error's code and message."""

    day: date
    code: str
    message: str
    booking: Booking | None = None

    def as_detail(self) -> dict:
        detail = {"date": self.day.isoformat(), "code": self.code, "message": self.message}
        if self.booking is not None:
            detail["booking"] = self.booking.pk
        return detail


@dataclass(frozen=True)
class SeriesChange:
    """What a command did to a series: the bookings it made or changed, and the dates it left."""

    series: BookingSeries
    bookings: list[Booking]
    left: list[Refusal]


@transaction.atomic
def create_series(
    *,
    actor,
    space: Space,
    start: datetime,
    end: datetime,
    people_count: int,
    interval_weeks: int,
    count: int | None = None,
    until: date | None = None,
    skip_conflicts: bool = False,
    client_name: str = "",
    client_phone: str = "",
    client_email: str = "",
    notes: str = "",
    price: Decimal | None = None,
    photographer=None,
    exact_times: Collection[datetime] = (),
) -> SeriesChange:
    """Book ``space`` from ``start`` to ``end``, and again every ``interval_weeks`` weeks at the
    same wall-clock time (across DST changes too): ``count`` dates, or every date up to ``until``
    (one of them, at most SERIES_MAX_OCCURRENCES dates). Each date is booked as by
    ``create_booking`` with the same client, people, notes, price and photographer.

    A date refused with a Conflict (overlap, closure, ...) makes the whole series fail with
    SeriesConflict listing every refused date, unless ``skip_conflicts``: then the free dates are
    booked and the refused ones answered in ``left``; with no free date at all it fails all the
    same. A date whose clock skips the series' start or end time (the night the clocks go forward)
    fails it with SkippedTime, or with ``skip_conflicts`` is left like a taken one (code
    ``skipped_time``). A later date whose clock shows that time twice (the night they go back) is
    never guessed: it is booked at the moment among ``exact_times`` that the clock shows it as
    that day, or else the series fails with RepeatedTime naming the date and its moments to choose
    from; the first date is booked at ``start`` and ``end`` themselves. Raises PermissionDenied,
    ValidationFailed (a bad rule, or a booking the studio refuses on any date), SkippedTime,
    RepeatedTime and SeriesConflict.
    """
    if not actor.has_perm("bookings.add_booking"):
        raise PermissionDenied(f"{actor} may not book spaces.", details={"permission": "bookings.add_booking"})
    start, end = _aware("start", start), _aware("end", end)
    client = services.client_for_booking(actor=actor, name=client_name, phone=client_phone, email=client_email)
    series = BookingSeries(
        space=space,
        client=client,
        starts_on=studio_day(start),
        interval_weeks=interval_weeks,
        count=count,
        until=until,
        created_by=actor,
        updated_by=actor,
    )
    _validate(series)
    series.save()
    first_day = series.starts_on
    booked, refused = [], []
    for day in series.occurrence_days():
        try:
            occurrence_start, occurrence_end = (
                (start, end) if day == first_day else _same_clock_times(start, end, day, exact_times=exact_times)
            )
        except SkippedTime as skipped:
            if not skip_conflicts:
                raise
            refused.append(Refusal(day=day, code=skipped.refusal_code, message=skipped.message))
            continue
        try:
            with transaction.atomic():
                booked.append(
                    services.create_booking(
                        actor=actor,
                        space=space,
                        start=occurrence_start,
                        end=occurrence_end,
                        people_count=people_count,
                        client=client,
                        notes=notes,
                        price=price,
                        photographer=photographer,
                        series=series,
                        offer_alternatives=False,
                    )
                )
        except Conflict as exc:
            refused.append(Refusal(day=day, code=exc.code, message=exc.message))
    if refused and (not skip_conflicts or not booked):
        raise _series_conflict(refused, doing="booked")
    publish(
        "booking.series_created",
        series,
        actor=actor,
        payload={
            **_rule(series),
            "bookings": [booking.pk for booking in booked],
            "skipped": [refusal.as_detail() for refusal in refused],
        },
    )
    return SeriesChange(series=series, bookings=booked, left=refused)


@transaction.atomic
def cancel_series(*, series: BookingSeries, actor, reason: str, from_day: date | None = None) -> SeriesChange:
    """Cancel every booking of ``series`` (from the studio's local ``from_day`` on, when given)
    that is still to come, each as by ``transition_booking`` with ``reason``; the others (begun,
    over, cancelled) are left as they are and answered in ``left`` with why.

    Raises PermissionDenied, ValidationFailed (no reason), BookingClosed when no booking is left
    to cancel, and ConcurrentChange.
    """
    if not actor.has_perm("bookings.cancel_booking"):
        raise PermissionDenied(f"{actor} may not cancel bookings.", details={"permission": "bookings.cancel_booking"})
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Give a reason for cancelling.", details={"reason": ["Give a reason for cancelling."]})
    cancelled, left, now = [], [], timezone.now()
    for booking in _occurrences(series, from_day):
        if (refusal := _left_as_it_is(booking, "cancelled", now=now)) is not None:
            left.append(refusal)
            continue
        cancelled.append(
            services.transition_booking(
                booking=booking, target_state=BookingState.CANCELLED, actor=actor, reason=reason
            )
        )
    if not cancelled:
        raise _nothing_left(series, from_day, doing="cancelled")
    publish(
        "booking.series_cancelled",
        series,
        actor=actor,
        payload={
            "from": from_day and from_day.isoformat(),
            "reason": reason,
            "cancelled": [booking.pk for booking in cancelled],
            "untouched": [refusal.as_detail() for refusal in left],
        },
    )
    return SeriesChange(series=series, bookings=cancelled, left=left)


@transaction.atomic
def move_series(
    *,
    series: BookingSeries,
    actor,
    from_day: date | None = None,
    start_time: time | None = None,
    end_time: time | None = None,
    shift_days: int = 0,
    space: Space | None = None,
    exact_times: Collection[datetime] = (),
) -> SeriesChange:
    """Move every pending or confirmed booking of ``series`` still to come (from the studio's
    local ``from_day`` on, when given), each as by ``reschedule_booking``: ``shift_days`` days
    later (earlier when negative), to the wall-clock ``start_time``-``end_time`` (both or neither;
    an end at or before the start is on the next day), and/or to ``space``. Bookings that can no
    longer move (begun, over, cancelled) are left as they are and answered in ``left`` with why;
    those already where the move would take them are neither moved nor recorded, and a move that
    changes nothing records no ``booking.series_moved``.

    A new time the clocks skip on a date is refused (SkippedTime). One they show twice on a date
    (the night they go back) is never guessed: it is the moment among ``exact_times`` that the
    clock shows it as that day, or else the move fails with RepeatedTime naming the date and its
    moments to choose from.

    Without new times, each booking keeps its own wall-clock times on its new day, each with the
    UTC offset it has there, but for a time the clocks show twice that day, which keeps the offset
    it had (the night they go back, 02:30 CET stays the second 02:30 and 02:30 CEST the first; a
    booking left on its own day keeps its very start and end).

    All or nothing: a booking refused with a Conflict at its new time makes the whole move fail
    with SeriesConflict listing every refused date. Raises PermissionDenied, ValidationFailed
    (SkippedTime and RepeatedTime among them), BookingClosed when no booking is left to move,
    SeriesConflict and ConcurrentChange.
    """
    if not actor.has_perm("bookings.change_booking"):
        raise PermissionDenied(
            f"{actor} may not reschedule bookings.", details={"permission": "bookings.change_booking"}
        )
    if (start_time is None) != (end_time is None):
        field = "end_time" if end_time is None else "start_time"
        raise ValidationFailed(details={field: ["Give both the new start and end time, or neither."]})
    if start_time is None and not shift_days and space is None:
        message = "Say what to change: the times, the days or the space."
        raise ValidationFailed(message, details={"non_field_errors": [message]})
    moved, already_there, left, refused, now = [], [], [], [], timezone.now()
    # A booking lies within one day's opening hours and the dates are a week or more apart, so a date
    # shifted by at most six days never lands on another date of its series.
    for booking in _occurrences(series, from_day):
        if (refusal := _left_as_it_is(booking, "moved", now=now)) is not None:
            left.append(refusal)
            continue
        day = studio_day(booking.start)
        if not in_calendar(new_day := day + timedelta(days=shift_days)):
            message = f"{day} would move to {new_day}, outside the calendar ({FIRST_DAY} to {LAST_DAY})."
            raise ValidationFailed(message, details={"shift_days": [message]})
        new_start, new_end = _moved_times(booking, new_day, start_time, end_time, exact_times=exact_times)
        revision = booking.revision
        try:
            with transaction.atomic():
                services.reschedule_booking(
                    booking=booking, actor=actor, start=new_start, end=new_end, space=space, offer_alternatives=False
                )
        except Conflict as exc:
            refused.append(Refusal(day=day, code=exc.code, message=exc.message, booking=booking))
            continue
        # The reschedule saves no new revision of a booking already where it would move it.
        (moved if booking.revision != revision else already_there).append(booking)
    if refused:
        raise _series_conflict(refused, doing="moved")
    if not moved and not already_there:
        raise _nothing_left(series, from_day, doing="moved")
    if not moved:
        return SeriesChange(series=series, bookings=[], left=left)
    publish(
        "booking.series_moved",
        series,
        actor=actor,
        payload={
            "from": from_day and from_day.isoformat(),
            "shift_days": shift_days,
            "start_time": start_time and f"{start_time:%H:%M}",
            "end_time": end_time and f"{end_time:%H:%M}",
            "space": space and space.slug,
            "moved": [booking.pk for booking in moved],
            "untouched": [refusal.as_detail() for refusal in left],
        },
    )
    return SeriesChange(series=series, bookings=moved, left=left)


def _occurrences(series: BookingSeries, from_day: date | None) -> list[Booking]:
    """The series' bookings on or after ``from_day`` (all without one), locked, first to last."""
    bookings = (
        Booking.objects.select_for_update(of=("self",))
        .filter(series=series)
        .select_related("space", "client")
        .order_by("start", "id")
    )
    if from_day is not None:
        bookings = bookings.filter(start__gte=local_instant(from_day, "00:00"))
    return list(bookings)


def _same_clock_times(
    start: datetime, end: datetime, day: date, *, exact_times: Collection[datetime]
) -> tuple[datetime, datetime]:
    """The instants the studio's wall clock shows ``start``'s and ``end``'s local times on ``day``
    (the end as many days after it as ``end`` is after ``start``), as ``_wall_clock_times`` reads
    them, on the fields ``start`` and ``end``."""
    zone = timezone.get_default_timezone()
    start_clock, end_clock = timezone.localtime(start, zone), timezone.localtime(end, zone)
    new_start, new_end = _wall_clock_times(
        day,
        start_clock.time(),
        day + (end_clock.date() - start_clock.date()),
        end_clock.time(),
        fields={"start": "start", "end": "end"},
        exact_times=exact_times,
    )
    return new_start + _past_the_minute(start_clock), new_end + _past_the_minute(end_clock)


def _past_the_minute(clock: datetime) -> timedelta:
    return timedelta(seconds=clock.second, microseconds=clock.microsecond)


def _same_clock(moment: datetime, day: date, *, field: str, ends: bool = False) -> datetime:
    """The instant the studio's wall clock shows ``moment``'s local time on ``day``: where it shows
    that time twice on ``day``, the one with ``moment``'s UTC offset (the first when neither has it).
    SkippedTime on ``field`` when the clocks skip that time on ``day`` (see ``_wall_clock_instant``
    for ``ends``)."""
    clock = timezone.localtime(moment, timezone.get_default_timezone())
    on_the_minute = clock.time().replace(second=0, microsecond=0)
    at_its_offset = datetime.combine(day, on_the_minute, tzinfo=UTC) - clock.utcoffset()
    moments = _typed_moments(day, on_the_minute, field=field, ends=ends, exact_times=[at_its_offset])
    return moments[0] + _past_the_minute(clock)


def _wall_clock_instant(day: date, clock: time, *, field: str, ends: bool = False) -> datetime:
    # An end at 00:00 is the moment the day before ends, which every day has, also one the clocks
    # leave at midnight (00:00 to 01:00 in the Azores).
    error = None if ends and clock == time(0, 0) else skipped_time_error(day, clock)
    if error is not None:
        raise SkippedTime(error.message, day=day, details={field: error.messages})
    return local_instant(day, f"{clock:%H:%M}")


def _moved_times(
    booking: Booking, day: date, start_time: time | None, end_time: time | None, *, exact_times: Collection[datetime]
):
    if start_time is None:
        return _same_clock(booking.start, day, field="shift_days"), _same_clock(
            booking.end, day + (studio_day(booking.end) - studio_day(booking.start)), field="shift_days", ends=True
        )
    end_day = day + timedelta(days=1) if end_time <= start_time else day
    return _wall_clock_times(
        day, start_time, end_day, end_time, fields={"start": "start_time", "end": "end_time"}, exact_times=exact_times
    )


def _wall_clock_times(
    day: date,
    start_time: time,
    end_day: date,
    end_time: time,
    *,
    fields: dict[str, str],
    exact_times: Collection[datetime],
) -> tuple[datetime, datetime]:
    """The moments the studio's clock shows ``start_time`` on ``day`` and ``end_time`` on
    ``end_day``, for a time given for several dates at once. One it shows twice (the night the
    clocks go back) is the moment among ``exact_times`` it shows it as, or else RepeatedTime
    names ``day`` and the moments to choose from; one it never shows is SkippedTime. Either
    refusal is on the field ``fields`` names for the start or the end."""
    moments = {
        "start": _typed_moments(day, start_time, field=fields["start"], exact_times=exact_times),
        "end": _typed_moments(end_day, end_time, field=fields["end"], ends=True, exact_times=exact_times),
    }
    if any(len(choices) > 1 for choices in moments.values()):
        raise _repeated_time(day, moments, {"start": (day, start_time), "end": (end_day, end_time)}, fields)
    return moments["start"][0], moments["end"][0]


def _typed_moments(
    day: date, clock: time, *, field: str, ends: bool = False, exact_times: Collection[datetime]
) -> list[datetime]:
    """The moments the studio's clock shows ``clock`` on ``day``: one, or in the hour the clocks
    repeat the two it shows it at, unless one of them is among ``exact_times``. SkippedTime on
    ``field`` when it shows it never (see ``_wall_clock_instant`` for ``ends``)."""
    repeated = repeated_instants(day, clock)
    if repeated is None:
        return [_wall_clock_instant(day, clock, field=field, ends=ends)]
    return [moment for moment in repeated if moment in exact_times][:1] or list(repeated)


def _repeated_time(
    day: date, moments: dict[str, list[datetime]], typed: dict[str, tuple[date, time]], fields: dict[str, str]
) -> RepeatedTime:
    """The refusal of a time the clocks repeat on ``day``: the message of each repeated one on its
    field, and under ``repeated_time`` the moments to choose from, to be sent back as exact times."""
    details = {
        fields[name]: repeated_time_error(*typed[name]).messages
        for name, choices in moments.items()
        if len(choices) > 1
    }
    message = next(iter(details.values()))[0]
    details["repeated_time"] = {
        "date": day.isoformat(),
        **{name: [moment.isoformat() for moment in choices] for name, choices in moments.items()},
    }
    return RepeatedTime(message, moments=moments, details=details)


def _left_as_it_is(booking: Booking, doing: str, *, now: datetime) -> Refusal | None:
    """Why a change of its series leaves ``booking`` as it is, or None when the change applies to
    it: only a pending or confirmed booking still to come is cancelled or moved, never a date that
    has begun (a session running, or one that took place but was not marked, is no less begun)."""
    if booking.state not in services.RESCHEDULABLE_STATES:
        why = f"is {booking.get_state_display().lower()}"
    elif booking.start <= now:
        why = f"began {moment_text(booking.start)}"
    else:
        return None
    return Refusal(
        day=studio_day(booking.start),
        code=BookingClosed.code,
        message=f"Booking #{booking.pk} {why}: it cannot be {doing}.",
        booking=booking,
    )


def _series_conflict(refused: list[Refusal], *, doing: str) -> SeriesConflict:
    days = ", ".join(day_text(refusal.day) for refusal in refused)
    dates = "1 date" if len(refused) == 1 else f"{len(refused)} dates"
    return SeriesConflict(
        f"Nothing was {doing}: {dates} of the series cannot be {doing} ({days}).",
        details={"conflicts": [refusal.as_detail() for refusal in refused]},
    )


def _nothing_left(series: BookingSeries, from_day: date | None, *, doing: str) -> BookingClosed:
    since = f" from {day_text(from_day)} on" if from_day else ""
    return BookingClosed(f"No booking of series #{series.pk}{since} can still be {doing}.")


def _rule(series: BookingSeries) -> dict:
    return {
        "space": series.space.slug,
        "client": series.client_id,
        "starts_on": series.starts_on.isoformat(),
        "interval_weeks": series.interval_weeks,
        "count": series.count,
        "until": series.until and series.until.isoformat(),
    }


def _aware(field: str, value) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        message = "Give a date and time with its time zone (UTC offset)."
        raise ValidationFailed(message, details={field: [message]})
    return value.astimezone(UTC)


def _validate(series: BookingSeries) -> None:
    try:
        series.full_clean()
    except ValidationError as exc:
        details = {
            "non_field_errors" if field == NON_FIELD_ERRORS else field: messages
            for field, messages in exc.message_dict.items()
        }
        raise ValidationFailed(next(iter(details.values()))[0], details=details) from None
