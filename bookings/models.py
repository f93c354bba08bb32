"""The studio's spaces, its clients and the bookings that put one in the other."""

import functools
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Exists, F, Func, OuterRef, Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMFieldMixin, Transition, transition

from photostudio.dates import long_day_text, moment_text
from photostudio.inputs import LAST_DAY, day_on_the_clock, in_calendar
from photostudio.models import AuditedModel
from photostudio.phones import normalise_phone

# Keys of Space.opening_hours, in date.weekday() order.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")
_MINUTES_PER_DAY = 24 * 60


def local_instant(day: date, clock: str) -> datetime:
    """The moment, in UTC, the studio's wall clock (settings.TIME_ZONE) shows ``clock`` ("HH:MM") on ``day``.

    "24:00" is midnight at the end of ``day``. Opening hours keep their wall-clock times on a 23-
    or 25-hour DST day. UTC because Python subtracts and compares two datetimes of the same
    zone by wall clock, which is wrong across a DST change.
    """
    hours, minutes = divmod(_clock_minutes(clock), 60)
    if hours == 24:
        day, hours = day + timedelta(days=1), 0
    wall = datetime.combine(day, time(hours, minutes))
    return timezone.make_aware(wall, timezone.get_default_timezone()).astimezone(UTC)


def studio_day(instant: datetime) -> date:
    """The studio's local calendar date of an aware instant."""
    return timezone.localtime(instant, timezone.get_default_timezone()).date()


def _clock_minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def default_opening_hours() -> dict:
    return dict.fromkeys(WEEKDAYS, ["08:00", "22:00"])


def opening_hours_errors(value) -> list[str]:
    """Why ``value`` is not a valid Space.opening_hours, as messages for the admin form; [] when valid."""
    if not isinstance(value, dict):
        return ['Use an object such as {"mon": ["08:00", "22:00"], "sun": null}.']
    errors = []
    unknown = sorted(set(value) - set(WEEKDAYS))
    if unknown:
        errors.append(f"Unknown days {', '.join(unknown)}: use {', '.join(WEEKDAYS)}.")
    for day in WEEKDAYS:
        hours = value.get(day)
        if hours is None:
            continue
        if not (
            isinstance(hours, list)
            and len(hours) == 2
            and all(isinstance(clock, str) and _CLOCK.fullmatch(clock) for clock in hours)
        ):
            errors.append(f'{day}: use ["HH:MM", "HH:MM"], or null when closed.')
        elif _clock_minutes(hours[0]) >= _clock_minutes(hours[1]) or hours[0] == "24:00":
            errors.append(f"{day}: closing time must be after opening time.")
    return errors


class Space(models.Model):
    """A bookable room or area of the studio; reference data managed in the admin.

    ``opening_hours`` is one JSON object for the whole week so the admin edits it in one field:
    weekday keys ``mon`` … ``sun`` mapped to ``["HH:MM", "HH:MM"]`` wall-clock times in the
    studio's TIME_ZONE, or to null when closed (a missing day is closed too). Closing may be
    ``"24:00"``. ``clean()`` validates the shape.
    """

    slug = models.SlugField(unique=True, help_text="Stable key the API uses as space_type, e.g. studio_a.")
    name = models.CharField(max_length=100)
    capacity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], help_text="The most people a session in this space may have."
    )
    hourly_rate = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    buffer_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="Clean-up or set-change time the space stays blocked after each booking."
    )
    opening_hours = models.JSONField(default=default_opening_hours)
    is_active = models.BooleanField(default=True, help_text="Inactive spaces take no new bookings.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="space_capacity_at_least_one"),
            models.CheckConstraint(condition=Q(hourly_rate__gte=0), name="space_hourly_rate_not_negative"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = opening_hours_errors(self.opening_hours)
        if errors:
            raise ValidationError({"opening_hours": errors})

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)

    def hours_on(self, day: date) -> list[str] | None:
        """``["HH:MM", "HH:MM"]`` for ``day``'s weekday, or None when the space is closed, as it is
        on a day the studio's clock skips whole (``day_on_the_clock``)."""
        if not day_on_the_clock(day):
            return None
        return (self.opening_hours or {}).get(WEEKDAYS[day.weekday()]) or None

    def opening_window(self, day: date) -> tuple[datetime, datetime] | None:
        """When the space opens and closes on the studio's local ``day``, as aware instants."""
        hours = self.hours_on(day)
        if hours is None:
            return None
        return local_instant(day, hours[0]), local_instant(day, hours[1])

    def price_for(self, duration: timedelta) -> Decimal:
        """The hourly rate for the real elapsed ``duration``, to the cent."""
        hours = Decimal(int(duration.total_seconds())) / Decimal(3600)
        return (self.hourly_rate * hours).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# As long as the client form and API take: longer notes, imported, would make the client's edit
# page refuse every change.
CLIENT_NOTES_MAX_LENGTH = 5000


class Client(AuditedModel):
    """A customer of the studio. One client per phone number, stored as E.164."""

    full_name = models.CharField(max_length=200)
    # Long enough for a number as typed; clean() stores the E.164 form (at most 16 characters).
    phone = models.CharField(
        max_length=32, unique=True, error_messages={"unique": "Another client already has this phone number."}
    )
    email = models.EmailField(blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["full_name", "id"]

    def __str__(self):
        return f"{self.full_name} ({self.phone})"

    def clean(self):
        self.full_name = self.full_name.strip()
        if not self.full_name:
            raise ValidationError({"full_name": "Enter the client's name."})
        try:
            self.phone = normalise_phone(self.phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from None
        try:
            MaxLengthValidator(CLIENT_NOTES_MAX_LENGTH)(self.notes)
        except ValidationError as exc:
            raise ValidationError({"notes": exc.messages}) from None


# A series books at most this many dates, the last within this many days of the first.
SERIES_MAX_OCCURRENCES = 52
SERIES_MAX_SPAN_DAYS = 366
SERIES_MAX_INTERVAL_WEEKS = 52


class BookingSeries(AuditedModel):
    """Bookings of one client in one space at the same wall-clock time every ``interval_weeks``
    weeks from ``starts_on``: ``count`` dates, or every date up to ``until`` (exactly one of them).

    The rule is the one the series was booked with; its bookings are the truth about each date
    (each is an ordinary booking with its own state and history, and may have been moved). Who
    may book, cancel or move a series follows the bookings' permissions, so it has none of its own.
    """

    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="series")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="series")
    starts_on = models.DateField(help_text="The studio's local date of the first booking.")
    interval_weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(SERIES_MAX_INTERVAL_WEEKS)],
        help_text="1 for every week, 2 for every other week, ...",
    )
    count = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(SERIES_MAX_OCCURRENCES)],
        help_text="How many dates; empty when the series runs until a date.",
    )
    until = models.DateField(null=True, blank=True, help_text="The last date the series may book; empty with a count.")

    class Meta:
        ordering = ["-starts_on", "-id"]
        default_permissions = ()
        verbose_name_plural = "booking series"
        constraints = [
            models.CheckConstraint(
                condition=Q(count__isnull=True, until__isnull=False) | Q(count__isnull=False, until__isnull=True),
                name="booking_series_count_or_until",
            ),
            models.CheckConstraint(condition=Q(interval_weeks__gte=1), name="booking_series_interval_positive"),
            models.CheckConstraint(
                condition=Q(count__gte=1) | Q(count__isnull=True), name="booking_series_count_positive"
            ),
        ]

    def __str__(self):
        return f"Series #{self.pk} every {self.interval_weeks} week(s) from {self.starts_on}"

    def clean(self):
        if (self.count is None) == (self.until is None):
            raise ValidationError({"count": ["Give either a number of dates or a last date, not both."]})
        if (
            self.starts_on is None
            or not 1 <= (self.interval_weeks or 0) <= SERIES_MAX_INTERVAL_WEEKS
            or (self.count is not None and not 1 <= self.count <= SERIES_MAX_OCCURRENCES)
        ):
            return  # the fields' own validators say what is wrong
        if self.until is not None and self.until < self.starts_on:
            raise ValidationError({"until": ["The last date must be on or after the first booking's date."]})
        field = "count" if self.count is not None else "until"
        days = self.occurrence_days()
        if len(days) > SERIES_MAX_OCCURRENCES:
            message = f"A series books at most {SERIES_MAX_OCCURRENCES} dates: choose fewer or a longer interval."
            raise ValidationError({field: [message]})
        if days[-1] - self.starts_on > timedelta(days=SERIES_MAX_SPAN_DAYS):
            message = "A series books dates within a year of its first: choose fewer dates or a shorter interval."
            raise ValidationError({field: [message]})
        if not in_calendar(days[-1]):
            message = f"A series books dates up to {LAST_DAY}, the calendar's last day: choose fewer dates."
            raise ValidationError({field: [message]})

    def occurrence_days(self) -> list[date]:
        """The studio's local dates the rule books, first to last."""
        step = timedelta(weeks=self.interval_weeks)
        if self.count is not None:
            return [self.starts_on + step * index for index in range(self.count)]
        days = []
        day = self.starts_on
        while day <= self.until and len(days) <= SERIES_MAX_OCCURRENCES:
            days.append(day)
            day += step
        return days


class BookingState(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# A booking in one of these states holds its space, buffer included, against every other booking.
HOLDING_STATES = (BookingState.PENDING, BookingState.CONFIRMED, BookingState.IN_PROGRESS)


class _TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def earliest_start_ending_after(moment: datetime) -> datetime:
    """The lower bound of the start of a booking that ends after ``moment``: none lasts longer
    than BOOKING_MAX_DURATION_MINUTES."""
    return moment - timedelta(minutes=settings.BOOKING_MAX_DURATION_MINUTES)


class BookingQuerySet(models.QuerySet):
    """Time-range filters written so an index serves them however long the history grows."""

    def overlapping(self, start: datetime, end: datetime) -> "BookingQuerySet":
        """Bookings whose ``[start, end)`` meets ``[start, end)``.

        ``start`` is bounded from below too: a booking lasts at most BOOKING_MAX_DURATION_MINUTES,
        so one ending after ``start`` began less than that before it. Without the bound the
        database reads every booking that ever started before ``end``.
        """
        return self.overlapping_from(earliest_start_ending_after(start), start, end)

    def overlapping_from(self, earliest_start: datetime, start: datetime, end: datetime) -> "BookingQuerySet":
        """``overlapping(start, end)``, given its lower bound of the start,
        ``earliest_start_ending_after(start)``: a compiled query takes it as a value of its own."""
        return self.filter(end__gt=start, start__gt=earliest_start, start__lt=end)

    def ending_after(self, moment: datetime) -> "BookingQuerySet":
        """Bookings that end after ``moment``, found from their start as ``overlapping`` explains."""
        return self.filter(end__gt=moment, start__gt=earliest_start_ending_after(moment))

    def holding_during(self, start: datetime, until: datetime) -> "BookingQuerySet":
        """Bookings holding their space (buffer included) at some moment of ``[start, until)``.

        On PostgreSQL the condition is the exclusion constraint's own range expression, so the
        constraint's GiST index answers it (exact whatever each booking's buffer was).
        """
        holding = self.filter(state__in=HOLDING_STATES)
        if connections[self.db].vendor == "postgresql":
            return holding.alias(held=_TsTzRange("start", "blocks_until", RangeBoundary())).filter(
                held__overlap=DateTimeTZRange(start, until, "[)")
            )
        return holding.filter(start__lt=until, blocks_until__gt=start)


def _has_started(booking: "Booking") -> bool:
    return timezone.now() >= booking.start


def _may_begin_now(booking: "Booking") -> bool:
    return timezone.now() >= booking.earliest_begin


def _may_complete_now(booking: "Booking") -> bool:
    return timezone.now() >= booking.start


# Who holds it undoes any booking's last state change at any time.
UNDO_ANY_PERMISSION = "bookings.undo_booking_state_change"
# The longest reason for a change (a cancellation, an undo, a withdrawal from the waitlist), kept
# in the history and the events.
REASON_MAX_LENGTH = 1000


def _may_undo(booking: "Booking", user) -> bool:
    """Managers and admins undo any time; whoever made the change, within BOOKING_UNDO_MINUTES."""
    if user.has_perm(UNDO_ANY_PERMISSION):
        return True
    window_ends = booking.undo_window_ends
    return (
        booking.state_changed_by_id is not None
        and booking.state_changed_by_id == user.pk
        and window_ends is not None
        and timezone.now() <= window_ends
    )


def _undoes_to(state: str):
    def came_from(booking: "Booking") -> bool:
        return booking.previous_state == state

    came_from.__name__ = f"came_from_{state}"
    return came_from


def SET_NULL_COUNTING_REVISION(collector, field, sub_objs, using):
    """``on_delete`` of a booking's photographer: SET_NULL that counts the change in each
    booking's ``revision`` and ``updated_at`` as ``Booking.save`` does, in the deletion's
    transaction, so the API's ETag and the calendars' SEQUENCE move as for any other change.
    Not lazy: the bookings are read first and each update names them by id, so the one counting
    the revision finds them whether it runs before or after the one nulling the photographer."""
    collector.add_field_update(field, None, sub_objs)
    collector.add_field_update(field.model._meta.get_field("revision"), F("revision") + 1, sub_objs)
    collector.add_field_update(field.model._meta.get_field("updated_at"), timezone.now(), sub_objs)


class Booking(ConcurrentTransitionMixin, AuditedModel):
    """A session of one client in one space, moving through the state machine below.

    ``pending → confirmed → in_progress → completed``; ``pending | confirmed → cancelled`` (with a
    reason); ``confirmed → no_show`` once the start time has passed. ``state`` is protected: only
    the transition methods change it, and ConcurrentTransitionMixin makes a save fail with
    ``ConcurrentTransition`` when the row's state changed since it was read.

    The last state change can be undone (``undo_to_*``): back to ``previous_state``, by a manager
    or by ``state_changed_by`` within BOOKING_UNDO_MINUTES of ``state_changed_at``. A session
    begins no earlier than BOOKING_EARLY_START_MINUTES before its start and completes no earlier
    than its start (``custom["not_before"]`` names the property that says when).

    ``blocks_until`` is ``end`` plus the space's buffer at booking time. On PostgreSQL the
    exclusion constraint ``booking_space_no_overlap`` (migration 0002, PostgreSQL only, hence not
    in Meta) forbids two holding bookings of one space whose ``[start, blocks_until)`` overlap.
    The history of a booking lives in ``events.Event``, not here.
    """

    OVERLAP_CONSTRAINT = "booking_space_no_overlap"

    objects = BookingQuerySet.as_manager()

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="bookings")
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="bookings")
    photographer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=SET_NULL_COUNTING_REVISION,
        related_name="photo_sessions",
        limit_choices_to={"role": "photographer"},
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocks_until = models.DateTimeField(editable=False, help_text="End plus the space's buffer at booking time.")
    people_count = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    price_overridden = models.BooleanField(
        default=False, editable=False, help_text="Set by hand by a manager: rescheduling keeps it."
    )
    notes = models.TextField(blank=True)
    state = FSMField(max_length=20, choices=BookingState.choices, default=BookingState.PENDING, protected=True)
    # A database default too: rows written in bulk by SQL or COPY (imports, seeding) need not name it.
    previous_state = models.CharField(
        max_length=20,
        choices=BookingState.choices,
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text="The state before the last state change, which an undo returns to; empty before any change.",
    )
    state_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    state_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="Who made the last state change: they may undo it for BOOKING_UNDO_MINUTES.",
    )
    series = models.ForeignKey(
        BookingSeries,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
        editable=False,
        help_text="The recurring series this booking is one date of; empty for a single booking.",
    )
    # A database default too, for rows written in bulk (see previous_state).
    revision = models.PositiveIntegerField(
        default=0,
        db_default=0,
        editable=False,
        help_text="How many times the booking was saved after it was made; calendars read it as the SEQUENCE.",
    )

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["start"], name="booking_start_idx"),
            models.Index(fields=["space", "start"], name="booking_space_start_idx"),
            # The front desk's lists of what to act on and the reminders look only at bookings
            # holding their space, a sliver of years of history.
            models.Index(fields=["start"], condition=Q(state__in=HOLDING_STATES), name="booking_holding_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="booking_ends_after_start"),
            models.CheckConstraint(condition=Q(blocks_until__gte=F("end")), name="booking_blocks_after_end"),
            models.CheckConstraint(condition=Q(people_count__gte=1), name="booking_people_at_least_one"),
            models.CheckConstraint(condition=Q(price__gte=0), name="booking_price_not_negative"),
        ]
        permissions = [
            ("confirm_booking", "Can confirm bookings"),
            ("cancel_booking", "Can cancel bookings"),
            ("start_booking", "Can start booked sessions"),
            ("complete_booking", "Can complete booked sessions"),
            ("mark_no_show_booking", "Can mark bookings as no-show"),
            ("override_booking_price", "Can set a booking's price by hand"),
            ("undo_booking_state_change", "Can undo any booking's last state change, at any time"),
            ("view_reports", "Can view reports"),
            ("subscribe_studio_calendar", "Can subscribe to the whole studio's or a space's calendar feed"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.space} {moment_text(self.start)}"

    def get_constraints(self):
        """Meta's constraints but the check constraints, which restate for the database what the
        fields' validators and ``clean()`` already refuse in words (and ``blocks_until`` is end
        plus a buffer that cannot be negative): validating them again would cost a query each."""
        return [
            (model, [constraint for constraint in constraints if not isinstance(constraint, models.CheckConstraint)])
            for model, constraints in super().get_constraints()
        ]

    def save(self, *args, **kwargs):
        """Save, counting each change of an existing booking in ``revision``, whoever makes it, so
        the copies calendars keep of it (feeds, e-mailed invitations) are replaced, never outdated.
        The services change a booking read again under its row lock, so the revision counted on is
        the stored one."""
        if not self._state.adding:
            self.revision += 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "revision"}
        super().save(*args, **kwargs)

    @property
    def duration(self) -> timedelta:
        """Real elapsed time, also for times given in a local zone (see ``local_instant``)."""
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)

    def clean(self):
        """Times, size and opening hours; overlap needs the other bookings and lives in the service."""
        if self.start is None or self.end is None or self.space_id is None:
            return
        errors: dict[str, list[str]] = {}
        if self.end <= self.start:
            errors["end"] = ["The booking must end after it starts."]
        else:
            shortest = timedelta(minutes=settings.BOOKING_MIN_DURATION_MINUTES)
            longest = timedelta(minutes=settings.BOOKING_MAX_DURATION_MINUTES)
            if self.duration < shortest:
                errors["end"] = [f"A booking lasts at least {settings.BOOKING_MIN_DURATION_MINUTES} minutes."]
            elif self.duration > longest:
                errors["end"] = [f"A booking lasts at most {settings.BOOKING_MAX_DURATION_MINUTES} minutes."]
            else:
                errors.update(self._opening_hours_errors())
        if not self.space.is_active:
            errors["space"] = [f"{self.space.name} takes no bookings at the moment."]
        if self.people_count and self.people_count > self.space.capacity:
            errors["people_count"] = [f"{self.space.name} holds at most {self.space.capacity} people."]
        if errors:
            raise ValidationError(errors)

    def _opening_hours_errors(self) -> dict[str, list[str]]:
        day = studio_day(self.start)
        hours = self.space.hours_on(day)
        if hours is None:
            return {"start": [f"{self.space.name} is closed on {long_day_text(day)}."]}
        opens, closes = local_instant(day, hours[0]), local_instant(day, hours[1])
        if opens <= self.start and self.end <= closes:
            return {}
        return {"start": [f"{self.space.name} is open {hours[0]}–{hours[1]} on {long_day_text(day)}."]}

    @property
    def earliest_begin(self) -> datetime:
        """The first moment the session may begin (BOOKING_EARLY_START_MINUTES before its start)."""
        return self.start - timedelta(minutes=settings.BOOKING_EARLY_START_MINUTES)

    @property
    def earliest_complete(self) -> datetime:
        """The first moment the session may complete: its start."""
        return self.start

    @property
    def undo_window_ends(self) -> datetime | None:
        """The last moment whoever made the last state change may undo it; None before any change."""
        if self.state_changed_at is None:
            return None
        return self.state_changed_at + timedelta(minutes=settings.BOOKING_UNDO_MINUTES)

    def transition_clock_moments(self) -> tuple[datetime, ...]:
        """The moments from which the transitions' guards (above this class) may answer otherwise
        by the clock alone: the earliest begin, the start, and the first after the undo window."""
        window_ends = self.undo_window_ends
        after_window = () if window_ends is None else (window_ends + timedelta(microseconds=1),)
        return self.earliest_begin, self.start, *after_window

    @property
    def photographer_is_inactive(self) -> bool:
        """The assigned photographer has been deactivated (they stay on the booking until someone changes it)."""
        return self.photographer is not None and not self.photographer.is_active

    @property
    def state_fields(self) -> tuple[FSMFieldMixin, ...]:
        # django-fsm's filters every field of the model for each instance built: a fifth of a day
        # list's cache miss, which builds a booking for each of its rows.
        return _state_fields()

    def transitions_from_here(self) -> list[Transition]:
        """Transitions out of the current state; an undo only towards the state before the last change."""
        state, previous_state = self.state, self.previous_state  # read once: the FSM field's descriptor is slow
        return [
            candidate
            for candidate in _transitions_out_of(state)
            if not candidate.custom.get("undo") or candidate.target == previous_state
        ]

    def transition_to(self, target_state: str) -> Transition | None:
        """The transition that moves this booking from its current state to ``target_state``, if any."""
        for candidate in self.transitions_from_here():
            if candidate.target == target_state:
                return candidate
        return None

    def reachable_states(self) -> list[str]:
        """States one transition away from the current one, whatever the guards say."""
        return sorted({candidate.target for candidate in self.transitions_from_here()})

    @transition(
        field=state, source=BookingState.PENDING, target=BookingState.CONFIRMED, permission="bookings.confirm_booking"
    )
    def confirm(self):
        """The client has confirmed the session."""

    @transition(
        field=state,
        source=BookingState.CONFIRMED,
        target=BookingState.IN_PROGRESS,
        permission="bookings.start_booking",
        conditions=[_may_begin_now],
        custom={"assigned_photographer_only": True, "not_before": "earliest_begin"},
    )
    def begin(self):
        """The session has started in the space."""

    @transition(
        field=state,
        source=BookingState.IN_PROGRESS,
        target=BookingState.COMPLETED,
        permission="bookings.complete_booking",
        conditions=[_may_complete_now],
        custom={"assigned_photographer_only": True, "not_before": "earliest_complete"},
    )
    def complete(self):
        """The session is over."""

    @transition(
        field=state,
        source=[BookingState.PENDING, BookingState.CONFIRMED],
        target=BookingState.CANCELLED,
        permission="bookings.cancel_booking",
        custom={"reason_required": True},
    )
    def cancel(self):
        """The session will not take place; the space is free again."""

    @transition(
        field=state,
        source=BookingState.CONFIRMED,
        target=BookingState.NO_SHOW,
        permission="bookings.mark_no_show_booking",
        conditions=[_has_started],
        custom={"refused_until": "the booking's start time has passed"},
    )
    def mark_no_show(self):
        """The client did not come; only once the start time has passed."""

    # Undo: each goes back one step, to ``previous_state`` only; reinstating a cancelled booking is one.
    @transition(
        field=state,
        source=[BookingState.CONFIRMED, BookingState.CANCELLED],
        target=BookingState.PENDING,
        permission=_may_undo,
        conditions=[_undoes_to(BookingState.PENDING)],
        custom={"undo": True, "reason_required": True},
    )
    def undo_to_pending(self):
        """Undo the confirmation, or the cancellation, of a pending booking."""

    @transition(
        field=state,
        source=[BookingState.IN_PROGRESS, BookingState.CANCELLED, BookingState.NO_SHOW],
        target=BookingState.CONFIRMED,
        permission=_may_undo,
        conditions=[_undoes_to(BookingState.CONFIRMED)],
        custom={"undo": True, "reason_required": True},
    )
    def undo_to_confirmed(self):
        """Undo the start of the session, the cancellation or the no-show of a confirmed booking."""

    @transition(
        field=state,
        source=BookingState.COMPLETED,
        target=BookingState.IN_PROGRESS,
        permission=_may_undo,
        conditions=[_undoes_to(BookingState.IN_PROGRESS)],
        custom={"undo": True, "reason_required": True},
    )
    def undo_to_in_progress(self):
        """Undo the completion of a session."""


class ClosureQuerySet(models.QuerySet):
    def meeting(self, start: datetime, until: datetime) -> "ClosureQuerySet":
        """Closures whose ``[start, end)`` meets ``[start, until)``.

        Served by the index on ``end``: a closure meeting the range ends after its start, and the
        closures that have not ended by a given moment are few however long the history grows.
        """
        return self.filter(end__gt=start, start__lt=until)

    def of_space(self, space: "Space") -> "ClosureQuerySet":
        """Closures of ``space`` and of the whole studio."""
        return self.filter(Q(space=space) | Q(space__isnull=True))


class Closure(AuditedModel):
    """A stretch of time in which one space, or the whole studio (no space), takes no bookings:
    a holiday, maintenance, a private event.

    A pending or confirmed booking may not touch a closure, its clean-up buffer included (the
    space must be clean and empty when the closure begins); ``bookings.services.ensure_space_open``
    is the one check. A closure is never edited: it is removed and recorded again.
    """

    space = models.ForeignKey(
        Space,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="closures",
        help_text="The space closed; empty closes the whole studio.",
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, help_text="Shown to staff, e.g. Holidays or Floor repainting.")

    objects = ClosureQuerySet.as_manager()

    class Meta:
        ordering = ["start", "id"]
        default_permissions = ("add", "delete", "view")
        indexes = [models.Index(fields=["end"], name="closure_end_idx")]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="closure_ends_after_start")]

    def __str__(self):
        return f"{self.where} closed {moment_text(self.start)} – {moment_text(self.end)}: {self.reason}"

    @property
    def where(self) -> str:
        """The space's name, or "The studio" for a closure of every space."""
        return self.space.name if self.space is not None else "The studio"

    def clean(self):
        self.reason = (self.reason or "").strip()
        if not self.reason:
            raise ValidationError({"reason": "Say why it is closed, e.g. Holidays."})
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError({"end": "The closure must end after it starts."})


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    BOOKED = "booked", "Booked"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


class WaitlistEntryQuerySet(models.QuerySet):
    def with_free_slot(self) -> "WaitlistEntryQuerySet":
        """Entries whose slot, ``[start, blocks_until)``, no booking holding the space meets (the
        condition of ``BookingQuerySet.holding_during``, which the booking services refuse on) and
        no closure of the space or of the whole studio touches, asked of every entry at once."""
        held = Booking.objects.filter(
            space=OuterRef("space"),
            state__in=HOLDING_STATES,
            start__lt=OuterRef("blocks_until"),
            blocks_until__gt=OuterRef("start"),
        )
        closed = Closure.objects.filter(
            Q(space=OuterRef("space")) | Q(space__isnull=True),
            start__lt=OuterRef("blocks_until"),
            end__gt=OuterRef("start"),
        )
        return self.filter(~Exists(held), ~Exists(closed))


class WaitlistEntry(AuditedModel):
    """A client waiting for a space at a time another booking holds: ``waiting`` until it is
    ``booked`` (``booking`` is the booking made), ``withdrawn`` or ``expired`` (its start passed).

    ``blocks_until`` is ``end`` plus the space's buffer when the client was put on the list: the
    stretch a booking of the slot would hold, which ``selectors.waitlist_openings`` checks is free.
    ``slot_opened_at`` is the last time a cancelled or moved booking freed the slot. The entry's
    history (added, slot opened, booked, withdrawn, expired) lives in ``events.Event``.
    """

    objects = WaitlistEntryQuerySet.as_manager()

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="waitlist_entries")
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="waitlist_entries")
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocks_until = models.DateTimeField(editable=False, help_text="End plus the space's buffer when added.")
    people_count = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING)
    booking = models.ForeignKey(
        Booking,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        editable=False,
        help_text="The booking made from this entry.",
    )
    slot_opened_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When a cancelled or moved booking last freed the slot."
    )
    resolved_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the entry was booked, withdrawn or expired."
    )

    class Meta:
        ordering = ["start", "id"]
        verbose_name_plural = "waitlist entries"
        indexes = [
            # Today and the expiry look only at the waiting entries, a sliver of the list's history.
            models.Index(fields=["start"], condition=Q(status="waiting"), name="waitlist_waiting_start_idx"),
            models.Index(fields=["space", "start"], name="waitlist_space_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="waitlist_ends_after_start"),
            models.CheckConstraint(condition=Q(blocks_until__gte=F("end")), name="waitlist_blocks_after_end"),
            models.CheckConstraint(condition=Q(people_count__gte=1), name="waitlist_people_at_least_one"),
            models.CheckConstraint(
                condition=Q(status="booked", booking__isnull=False) | (~Q(status="booked") & Q(booking__isnull=True)),
                name="waitlist_booked_has_booking",
            ),
        ]

    def __str__(self):
        return f"Waitlist #{self.pk} {self.space} {moment_text(self.start)}"


@functools.cache
def _state_fields() -> tuple[FSMFieldMixin, ...]:
    return tuple(field for field in Booking._meta.fields if isinstance(field, FSMFieldMixin))


@functools.cache
def _transitions_out_of(state: str) -> tuple[Transition, ...]:
    """The booking's transitions whose source is ``state`` (or any state), as declared on the class:
    a day list asks for every booking it shows."""
    return tuple(
        candidate
        for candidate in Booking._meta.get_field("state").get_all_transitions(Booking)
        if candidate.source in (state, "*")
    )
