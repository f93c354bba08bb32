"""The API's shapes for bookings, spaces and clients.

Input serializers check the shape of a request (types, lengths, ranges, known fields); the
services decide everything else. Output serializers render a booking with its state, the
transitions this caller may fire next and summaries of its client and space. Times go out in
UTC with their offset (``Z``).
"""

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from bookings import selectors, services
from bookings.models import (
    CLIENT_NOTES_MAX_LENGTH,
    REASON_MAX_LENGTH,
    SERIES_MAX_INTERVAL_WEEKS,
    SERIES_MAX_OCCURRENCES,
    WEEKDAYS,
    Booking,
    BookingSeries,
    BookingState,
    Client,
    Closure,
    Space,
    WaitlistEntry,
    WaitlistStatus,
    local_instant,
)
from bookings.reports import BOOKINGS_DEFINITION, REPORT_MAX_DAYS, Figures, Report
from employees.models import Employee
from photostudio.api import MULTILINE, EmailOrEmptyField, InputSerializer, QuerySerializer
from photostudio.inputs import FIRST_DAY, LAST_DAY, OUT_OF_CALENDAR_MESSAGE, in_calendar, skipped_day_error
from photostudio.openapi import ErrorDetailSerializer

# Large enough for any real session, small enough that a typo (10000) is refused as such.
MAX_PEOPLE = 1000
# The largest id a database row can have (a signed 64-bit integer).
MAX_ID = 2**63 - 1
_CENT = Decimal("0.01")


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time with its UTC offset, within the bookings' calendar, read as UTC."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2024-01-15T10:00:00Z.",
        "out_of_calendar": OUT_OF_CALENDAR_MESSAGE,
        "out_of_studio_calendar": "On the studio's clock ({zone}) that is outside the calendar: "
        + OUT_OF_CALENDAR_MESSAGE,
    }

    def __init__(self, **kwargs):
        super().__init__(input_formats=["iso-8601"], **kwargs)

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        # Roughly on the date as written (an offset moves it by less than a day) before converting,
        # which could overflow at year 1 or 9999; then exactly on the studio's clock, as the pages
        # and the day lists read it, where the midnight ending the last day is still in.
        if not FIRST_DAY - timedelta(days=1) <= value.date() <= LAST_DAY + timedelta(days=1):
            self.fail("out_of_calendar")
        first, last = _calendar_bounds(settings.TIME_ZONE)
        if not first <= value <= last:
            self.fail("out_of_studio_calendar", zone=settings.TIME_ZONE)
        return value.astimezone(UTC)


@functools.cache
def _calendar_bounds(time_zone: str) -> tuple[datetime, datetime]:
    """The first moment of the calendar's first day and the midnight ending its last on the
    studio's clock (``time_zone``, the key: tests change it)."""
    return local_instant(FIRST_DAY, "00:00"), local_instant(LAST_DAY, "24:00")


class CalendarDateField(serializers.DateField):
    default_error_messages = {"out_of_calendar": OUT_OF_CALENDAR_MESSAGE}

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not in_calendar(day):
            self.fail("out_of_calendar")
        return day


class MoneyField(serializers.DecimalField):
    """An amount as a decimal string ("75.50"), as the API answers it: exact, unlike a JSON number."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=10, decimal_places=2, min_value=0, **kwargs)


class PhotographerField(serializers.PrimaryKeyRelatedField):
    """An employee by id; whether they are an active photographer is the service's rule."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Employee.objects.all(), **kwargs)

    def to_internal_value(self, data):
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


# --- input ------------------------------------------------------------------------------------


class SpaceSlugField(serializers.SlugRelatedField):
    """A space named by its slug, looked up through the space cache (``selectors.space_with_slug``):
    a booking's space is checked on every create, where the query was a tenth of the Python time."""

    def __init__(self, **kwargs):
        super().__init__(
            slug_field="slug",
            queryset=Space.objects.all(),
            error_messages={"does_not_exist": "There is no space {value}: see /api/v1/spaces/ for the slugs."},
            **kwargs,
        )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            return super().to_internal_value(data)
        space = selectors.space_with_slug(data)
        if space is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data))
        return space


class BookingCreateSerializer(InputSerializer):
    client_name = serializers.CharField(max_length=200, help_text="Used when the phone number is new to the studio.")
    client_phone = serializers.CharField(
        max_length=32, help_text="Identifies the client; international form such as +14155550123."
    )
    client_email = EmailOrEmptyField(required=False, default="", help_text="Stored for a new client.")
    start_time = AwareDateTimeField(help_text="When the session starts, with its UTC offset.")
    end_time = AwareDateTimeField(help_text="When it ends; the space stays blocked for its buffer after that.")
    space_type = SpaceSlugField(help_text="The slug of a space, e.g. studio_a (see /api/v1/spaces/).")
    people_count = serializers.IntegerField(
        min_value=1, max_value=MAX_PEOPLE, help_text="How many people come; at most the space's capacity."
    )
    notes = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        style=MULTILINE,
        help_text="For the studio's staff.",
    )
    price = MoneyField(
        required=False, help_text="A price set by hand (managers); else the space's hourly rate applies."
    )


class BookingUpdateSerializer(InputSerializer):
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, style=MULTILINE, help_text="Replaces the notes; any state."
    )
    people_count = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PEOPLE, help_text="At most the space's capacity."
    )
    photographer = PhotographerField(
        required=False, allow_null=True, help_text="An active photographer's employee id; null unassigns."
    )
    price = MoneyField(
        required=False,
        allow_null=True,
        help_text="A price set by hand (managers); null returns to the space's hourly rate.",
    )


class StateChangeSerializer(InputSerializer):
    target_state = serializers.ChoiceField(
        choices=BookingState.choices, help_text="The state to move to; see the booking's allowed_transitions."
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=REASON_MAX_LENGTH,
        style=MULTILINE,
        help_text="Required for cancelled and for an undo (see the transition's reason_required).",
    )


class RescheduleSerializer(InputSerializer):
    start_time = AwareDateTimeField(help_text="The new start, with its UTC offset.")
    end_time = AwareDateTimeField(help_text="The new end, with its UTC offset.")
    space_type = SpaceSlugField(
        required=False, help_text="Move to this space too; the booking's own space when left out."
    )


def _exact_times_field() -> serializers.ListField:
    """A series' answer to a time the clocks show twice on one of its dates (``RepeatedTime``)."""
    return serializers.ListField(
        child=AwareDateTimeField(),
        required=False,
        default=list,
        max_length=4,
        help_text="Where the start or end time is one the clocks show twice on a date of the series (the night "
        "they go back), the moment meant there, with its UTC offset: one of those a 400 answered under "
        "`details.repeated_time`. Without it such a time is refused, never guessed.",
    )


class SeriesCreateSerializer(BookingCreateSerializer):
    """A booking (as for /api/v1/bookings/) and the rule that repeats it."""

    interval_weeks = serializers.IntegerField(
        required=False,
        default=1,
        min_value=1,
        max_value=SERIES_MAX_INTERVAL_WEEKS,
        help_text="Repeat every this many weeks: 1 (the default) every week, 2 every other week, ...",
    )
    count = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=SERIES_MAX_OCCURRENCES,
        help_text=f"How many dates, the first included (at most {SERIES_MAX_OCCURRENCES}, within a year). Give this "
        "or `until`.",
    )
    until = CalendarDateField(
        required=False,
        help_text=f"Book every date up to this local day (included; at most {SERIES_MAX_OCCURRENCES} dates, within a "
        "year). Give this or `count`.",
    )
    skip_conflicts = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Book the free dates and answer the others in `skipped`, instead of booking nothing when a "
        "date is taken, closed or without the series' time (the night the clocks go forward past it).",
    )
    exact_times = _exact_times_field()

    def validate(self, attrs):
        if ("count" in attrs) == ("until" in attrs):
            message = "Give either count or until."
            raise serializers.ValidationError({"count": [message], "until": [message]})
        return attrs


def _from_day(help_text: str) -> CalendarDateField:
    return CalendarDateField(required=False, help_text=help_text)


_FROM_HELP = "Only the bookings on or after this local day (YYYY-MM-DD); the whole series when left out."


class SeriesCancelSerializer(InputSerializer):
    def get_fields(self):
        # "from" is a Python keyword, so the field cannot be declared as a class attribute.
        return {
            "from": _from_day(_FROM_HELP),
            "reason": serializers.CharField(
                max_length=REASON_MAX_LENGTH, style=MULTILINE, help_text="Why; recorded on every booking cancelled."
            ),
        }


class SeriesMoveSerializer(InputSerializer):
    def get_fields(self):
        return {
            "from": _from_day(_FROM_HELP),
            "start_time": serializers.TimeField(
                required=False,
                format="%H:%M",
                help_text="The new start on the studio's wall clock (HH:MM), on each booking's day; with end_time.",
            ),
            "end_time": serializers.TimeField(
                required=False,
                format="%H:%M",
                help_text="The new end (HH:MM); at or before the start means the next day; with start_time.",
            ),
            "exact_times": _exact_times_field(),
            "shift_days": serializers.IntegerField(
                required=False,
                default=0,
                min_value=-6,
                max_value=6,
                help_text="Move each booking this many days later (earlier when negative), e.g. 1 from Monday "
                "to Tuesday.",
            ),
            "space_type": serializers.SlugRelatedField(
                slug_field="slug",
                queryset=Space.objects.all(),
                required=False,
                help_text="Move to this space too.",
                error_messages={"does_not_exist": "There is no space {value}: see /api/v1/spaces/ for the slugs."},
            ),
        }


class ClosureCreateSerializer(InputSerializer):
    space = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Space.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The slug of the space to close, e.g. studio_a; null or left out closes the whole studio.",
        error_messages={"does_not_exist": "There is no space {value}: see /api/v1/spaces/ for the slugs."},
    )
    start_time = AwareDateTimeField(help_text="When the closure begins, with its UTC offset.")
    end_time = AwareDateTimeField(help_text="When it ends: bookings may start from then on.")
    reason = serializers.CharField(max_length=200, help_text="Why, for the staff: Holidays, Floor repainting, ...")


class ClientUpdateSerializer(InputSerializer):
    full_name = serializers.CharField(required=False, max_length=200, help_text="The client's name.")
    phone = serializers.CharField(
        required=False, max_length=32, help_text="Stored in international form; unique among clients."
    )
    email = EmailOrEmptyField(required=False, help_text="Empty for none.")
    notes = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=CLIENT_NOTES_MAX_LENGTH,
        style=MULTILINE,
        help_text="For the studio's staff.",
    )


class DayQuerySerializer(QuerySerializer):
    date = CalendarDateField(help_text="A day of the studio's local calendar, YYYY-MM-DD.")

    def validate_date(self, day):
        if skipped := skipped_day_error(day):
            raise serializers.ValidationError(skipped.messages, code=skipped.code)
        return day


class SearchQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text="Part of a name, e-mail or phone number (matched on digits).",
    )


# --- output -----------------------------------------------------------------------------------


class UtcDateTimeField(serializers.DateTimeField):
    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, read_only=True, **kwargs)


class SpaceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Space
        fields = ["slug", "name"]
        read_only_fields = fields
        extra_kwargs = {"name": {"help_text": "The space's name as the studio shows it."}}


_CLIENT_FIELD_HELP = {
    "id": {"help_text": "The client's id (see /api/v1/clients/{id})."},
    "full_name": {"help_text": "The client's name."},
    "phone": {"help_text": "International form (E.164), e.g. +14155550123; one client per number."},
    "notes": {"help_text": "For the studio's staff."},
}


class ClientSummarySerializer(serializers.ModelSerializer):
    email = EmailOrEmptyField(read_only=True, help_text="Empty when unknown.")

    class Meta:
        model = Client
        fields = ["id", "full_name", "phone", "email"]
        read_only_fields = fields
        extra_kwargs = _CLIENT_FIELD_HELP


class EmployeeSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Employee
        fields = ["id", "full_name"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The employee's id."},
            "full_name": {"help_text": "The employee's name."},
        }


class PhotographerSummarySerializer(EmployeeSummarySerializer):
    is_active = serializers.BooleanField(
        read_only=True, help_text="False for a deactivated photographer, who stays on their bookings until changed."
    )

    class Meta(EmployeeSummarySerializer.Meta):
        fields = ["id", "full_name", "is_active"]
        read_only_fields = fields


class TransitionSerializer(serializers.Serializer):
    target_state = serializers.ChoiceField(
        choices=BookingState.choices, source="target", help_text="Send this as target_state."
    )
    transition = serializers.CharField(source="name", help_text="e.g. confirm, begin, complete, cancel.")
    reason_required = serializers.SerializerMethodField(help_text="Whether the request must give a reason.")
    undo = serializers.SerializerMethodField(
        help_text="True when this goes back to the state before the last change (an undo, with a reason)."
    )

    def get_reason_required(self, transition) -> bool:
        return bool(transition.custom.get("reason_required"))

    def get_undo(self, transition) -> bool:
        return bool(transition.custom.get("undo"))

    def to_representation(self, transition) -> dict:
        """The declared fields' values, built directly (see ``BookingSerializer.to_representation``)."""
        return {
            "target_state": transition.target,
            "transition": transition.name,
            "reason_required": self.get_reason_required(transition),
            "undo": self.get_undo(transition),
        }


_TRANSITION = TransitionSerializer()


def _currency() -> serializers.SerializerMethodField:
    return serializers.SerializerMethodField(
        help_text="The currency of the amounts beside it: the studio's ISO 4217 code (STUDIO_CURRENCY), e.g. USD."
    )


class CurrencyMixin:
    def get_currency(self, instance) -> str:
        return settings.STUDIO_CURRENCY


def _utc(moment: datetime) -> str:
    """A time as ``UtcDateTimeField`` writes it: ISO 8601 in UTC, ``Z`` for the offset."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class BookingSerializer(CurrencyMixin, serializers.ModelSerializer):
    """A booking as ``context["viewer"]`` sees it.

    The declared fields describe the answer (the OpenAPI schema); ``to_representation`` builds it
    directly, since DRF's field-by-field rendering cost more than the query of a day's bookings.
    ``bookings/tests/test_api_serializers.py`` holds the two to the same output.
    """

    state = serializers.ChoiceField(
        choices=BookingState.choices, read_only=True, help_text="Where the booking is in its life."
    )
    allowed_transitions = serializers.SerializerMethodField(
        help_text="What this caller may do next: POST a target_state to /bookings/{id}/state."
    )
    start_time = UtcDateTimeField(source="start", help_text="When the session starts (UTC).")
    end_time = UtcDateTimeField(source="end", help_text="When it ends (UTC).")
    blocks_until = UtcDateTimeField(help_text="End plus the space's clean-up buffer: the space is held until then.")
    duration_minutes = serializers.SerializerMethodField(help_text="Real elapsed minutes, across DST changes too.")
    space_type = serializers.CharField(source="space.slug", read_only=True, help_text="The space's slug.")
    space = SpaceSummarySerializer(read_only=True, help_text="The space booked.")
    client = ClientSummarySerializer(read_only=True, help_text="Who the session is for.")
    photographer = PhotographerSummarySerializer(
        read_only=True, allow_null=True, help_text="The photographer running the session; null until assigned."
    )
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        read_only=True,
        help_text="What the session costs, as a decimal string, in `currency`.",
    )
    currency = _currency()
    created_at = UtcDateTimeField(help_text="When the booking was made.")
    updated_at = UtcDateTimeField(help_text="When it last changed.")

    class Meta:
        model = Booking
        fields = [
            "id",
            "state",
            "allowed_transitions",
            "start_time",
            "end_time",
            "blocks_until",
            "duration_minutes",
            "space_type",
            "space",
            "client",
            "people_count",
            "photographer",
            "price",
            "currency",
            "price_overridden",
            "notes",
            "series",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The booking's id, as in /api/v1/bookings/{id}."},
            "series": {
                "help_text": "The recurring series this booking is one date of (/api/v1/bookings/series/{id}); "
                "null for a single booking."
            },
            "people_count": {"help_text": "How many people come."},
            "price_overridden": {"help_text": "Set by hand by a manager: kept when the booking is rescheduled."},
            "notes": {"help_text": "For the studio's staff."},
        }

    @extend_schema_field(TransitionSerializer(many=True))
    def get_allowed_transitions(self, booking) -> list:
        return [_TRANSITION.to_representation(move) for move in self._allowed_moves(booking)]

    def _allowed_moves(self, booking):
        return services.transitions_allowed(booking=booking, actor=self.context["viewer"])

    def get_duration_minutes(self, booking) -> int:
        return int(booking.duration.total_seconds() // 60)

    def to_representation(self, booking) -> dict:
        return self.for_viewer(booking, self.viewer_independent_part(booking))

    def for_viewer(self, booking, part: dict) -> dict:
        """The answer for ``context["viewer"]``, from ``part``: the booking's ``viewer_independent_part``,
        perhaps cached (it is not changed)."""
        return part | {"allowed_transitions": self.get_allowed_transitions(booking)}

    def viewer_independent_part(self, booking) -> dict:
        """Every field but ``allowed_transitions``, which is the only one that depends on who asks
        (and when); it keeps its place, holding None until filled in."""
        return self.part_from_row({column: _follow(booking, column) for column in PART_COLUMNS})

    def part_from_row(self, row: dict) -> dict:
        """``viewer_independent_part`` from ``row``, the booking's ``PART_COLUMNS`` as
        ``QuerySet.values()`` gives them: a list can be rendered without building model instances."""
        return {
            "id": row["id"],
            "state": row["state"],
            "allowed_transitions": None,
            "start_time": _utc(row["start"]),
            "end_time": _utc(row["end"]),
            "blocks_until": _utc(row["blocks_until"]),
            "duration_minutes": int((row["end"].astimezone(UTC) - row["start"].astimezone(UTC)).total_seconds() // 60),
            "space_type": row["space__slug"],
            "space": {"slug": row["space__slug"], "name": row["space__name"]},
            "client": {
                "id": row["client_id"],
                "full_name": row["client__full_name"],
                "phone": row["client__phone"],
                "email": row["client__email"],
            },
            "people_count": row["people_count"],
            "photographer": None
            if row["photographer_id"] is None
            else {
                "id": row["photographer_id"],
                "full_name": row["photographer__full_name"],
                "is_active": row["photographer__is_active"],
            },
            "price": f"{row['price'].quantize(_CENT):f}",
            "currency": self.get_currency(None),
            "price_overridden": row["price_overridden"],
            "notes": row["notes"],
            "series": row["series_id"],
            "created_at": _utc(row["created_at"]),
            "updated_at": _utc(row["updated_at"]),
        }


def answer_json(booking, rendered: tuple[bytes, bytes], *, viewer) -> bytes:
    """``BookingSerializer.for_viewer``'s answer for ``viewer`` as the API renders it, from the
    booking's ``rendered_part``; no serializer is made for it."""
    moves = services.transitions_allowed(booking=booking, actor=viewer)
    transitions = tuple(tuple(_TRANSITION.to_representation(move).items()) for move in moves)
    head, tail = rendered
    return head + _rendered_transitions(transitions) + tail


_TRANSITIONS_KEY = b'"allowed_transitions":'
_NO_TRANSITIONS = _TRANSITIONS_KEY + b"null"


def rendered_part(part: dict) -> tuple[bytes, bytes]:
    """A ``viewer_independent_part`` as the API renders JSON, cut where its ``allowed_transitions``
    (None in ``part``) go: only ``id`` and ``state`` come before them."""
    rendered = JSONRenderer().render(part)
    cut = rendered.index(_NO_TRANSITIONS)
    return rendered[: cut + len(_TRANSITIONS_KEY)], rendered[cut + len(_NO_TRANSITIONS) :]


@functools.cache
def _rendered_transitions(transitions: tuple[tuple[tuple[str, object], ...], ...]) -> bytes:
    """``allowed_transitions`` as the API renders JSON, from each transition's items: a handful of
    lists recur in every day list."""
    return JSONRenderer().render([dict(items) for items in transitions])


# What ``BookingSerializer.part_from_row`` reads: a booking's own columns and its space's,
# client's and photographer's, named as ``QuerySet.values()`` names them.
PART_COLUMNS = (
    "id",
    "state",
    "start",
    "end",
    "blocks_until",
    "people_count",
    "price",
    "price_overridden",
    "notes",
    "series_id",
    "created_at",
    "updated_at",
    "space__slug",
    "space__name",
    "client_id",
    "client__full_name",
    "client__phone",
    "client__email",
    "photographer_id",
    "photographer__full_name",
    "photographer__is_active",
)


def _follow(instance, column: str):
    """The value ``QuerySet.values(column)`` would give for ``instance`` (None past a null relation)."""
    for name in column.split("__"):
        if instance is None:
            return None
        instance = getattr(instance, name)
    return instance


class SeriesDateSerializer(serializers.Serializer):
    """A date of a series left as it was, and why."""

    date = serializers.DateField(help_text="The studio's local day of the date.")
    code = serializers.CharField(
        help_text="The code of the refusal, as the single booking would have answered it: booking_overlap, "
        "space_closed, booking_closed, ...; skipped_time for a date whose clock never shows the series' time "
        "(the night the clocks go forward past it)."
    )
    message = serializers.CharField(help_text="The refusal in words, for a person.")
    booking = serializers.IntegerField(
        required=False, help_text="The booking of that date, when there is one (not for a date never booked)."
    )


class SeriesSerializer(serializers.ModelSerializer):
    """A recurring series with its bookings as ``context["viewer"]`` sees them."""

    space_type = serializers.CharField(source="space.slug", read_only=True, help_text="The space booked.")
    client = ClientSummarySerializer(read_only=True, help_text="Who the sessions are for.")
    bookings = BookingSerializer(
        source="bookings.all", many=True, read_only=True, help_text="Every booking of the series, first to last."
    )
    created_at = UtcDateTimeField(help_text="When the series was booked.")

    class Meta:
        model = BookingSeries
        fields = [
            "id",
            "space_type",
            "client",
            "starts_on",
            "interval_weeks",
            "count",
            "until",
            "created_at",
            "bookings",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The series' id, as in /api/v1/bookings/series/{id}."},
            "starts_on": {"help_text": "The local day of the first date."},
            "interval_weeks": {"help_text": "Every this many weeks."},
            "count": {"help_text": "How many dates were asked for; null when booked until a date."},
            "until": {"help_text": "The last day asked for; null when booked for a count."},
        }


class SeriesCreatedSerializer(serializers.Serializer):
    series = SeriesSerializer(help_text="The series with the bookings made.")
    skipped = SeriesDateSerializer(
        many=True, help_text="With skip_conflicts: the dates not booked and why; empty otherwise."
    )


class SeriesCancelledSerializer(serializers.Serializer):
    series = SeriesSerializer(help_text="The series after the change.")
    cancelled = serializers.ListField(child=serializers.IntegerField(), help_text="The ids of the bookings cancelled.")
    untouched = SeriesDateSerializer(
        many=True, help_text="The bookings left as they were (begun, over, or no longer pending or confirmed), and why."
    )


class SeriesMovedSerializer(serializers.Serializer):
    series = SeriesSerializer(help_text="The series after the change.")
    moved = serializers.ListField(child=serializers.IntegerField(), help_text="The ids of the bookings moved.")
    untouched = SeriesDateSerializer(
        many=True, help_text="The bookings left as they were (cancelled, running, over), and why."
    )


class NotificationSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="booking_created, booking_confirmed, booking_cancelled, booking_rescheduled, booking_reminder "
        "or photographer_assigned."
    )
    channel = serializers.CharField(help_text='How it goes out: "email".')
    recipient = serializers.ChoiceField(choices=["client", "photographer"], help_text="Whom it is for.")
    status = serializers.ChoiceField(
        choices=["pending", "running", "succeeded", "skipped", "failed"],
        help_text="succeeded: sent; skipped: not sent on purpose; failed: gave up after its attempts; "
        "pending or running: on its way.",
    )
    at = UtcDateTimeField(
        help_text="When it was sent, skipped or given up; while pending, when the next attempt is due."
    )
    not_sent_because = serializers.CharField(
        help_text="Why it was skipped or failed, e.g. the client has no e-mail address; empty otherwise."
    )


class BookingDetailSerializer(BookingSerializer):
    """A booking with the notifications sent about it (``context["notifications"]``)."""

    notifications = serializers.SerializerMethodField(
        help_text="Each notification about the booking, oldest first, sent or not and why."
    )

    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "notifications"]
        read_only_fields = fields

    @extend_schema_field(NotificationSerializer(many=True))
    def get_notifications(self, booking) -> list:
        return NotificationSerializer(self.context["notifications"], many=True).data

    def to_representation(self, booking) -> dict:
        return super().to_representation(booking) | {"notifications": self.get_notifications(booking)}


class BookingWarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["client_name_mismatch", "client_email_mismatch", "client_not_notified"],
        help_text="client_name_mismatch: the phone number belongs to a client of another name, who was "
        "booked; client_email_mismatch: that client has another e-mail address than the one typed, which "
        "is not kept; client_not_notified: the client has no e-mail address and gets no notifications.",
    )
    message = serializers.CharField(help_text="The warning in words, for a person.")
    details = serializers.DictField(
        help_text="client_id, and for a name mismatch client_name and typed_name, for an e-mail mismatch "
        "client_email and typed_email."
    )

    def to_representation(self, warning) -> dict:
        """The declared fields' values, built directly (see ``BookingSerializer.to_representation``)."""
        return {"code": warning.code, "message": warning.message, "details": warning.details}


_WARNING = BookingWarningSerializer()


class BookingWithWarningsSerializer(BookingSerializer):
    """A booking just made or changed with what whoever did it should know (``context["warnings"]``)."""

    warnings = serializers.SerializerMethodField(
        help_text="Things to know about the booking just made or changed, e.g. a phone number that belongs to "
        "a client of another name, or a photographer on another session at the time; empty when there are none."
    )

    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "warnings"]
        read_only_fields = fields

    @extend_schema_field(BookingWarningSerializer(many=True))
    def get_warnings(self, booking) -> list:
        return [_WARNING.to_representation(warning) for warning in self.context["warnings"]]

    def to_representation(self, booking) -> dict:
        return super().to_representation(booking) | {"warnings": self.get_warnings(booking)}


def _hours() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(),
        min_length=2,
        max_length=2,
        allow_null=True,
        help_text='Opening and closing time, e.g. ["08:00", "22:00"]; null when closed.',
    )


class OpeningHoursSerializer(serializers.Serializer):
    """Per weekday, ``["HH:MM", "HH:MM"]`` on the studio's wall clock, or null when closed."""

    mon = _hours()
    tue = _hours()
    wed = _hours()
    thu = _hours()
    fri = _hours()
    sat = _hours()
    sun = _hours()


class SpaceSerializer(CurrencyMixin, serializers.ModelSerializer):
    hourly_rate = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        read_only=True,
        help_text="The price of an hour, as a decimal string, in `currency`.",
    )
    currency = _currency()
    opening_hours = serializers.SerializerMethodField(help_text="Per weekday, on the studio's wall clock.")

    class Meta:
        model = Space
        fields = ["slug", "name", "capacity", "hourly_rate", "currency", "buffer_minutes", "opening_hours", "is_active"]
        read_only_fields = fields
        extra_kwargs = {"name": {"help_text": "The space's name as the studio shows it."}}

    @extend_schema_field(OpeningHoursSerializer)
    def get_opening_hours(self, space) -> dict:
        hours = space.opening_hours or {}
        return {day: hours.get(day) or None for day in WEEKDAYS}


class SlotSerializer(serializers.Serializer):
    start = UtcDateTimeField(help_text="The earliest a new booking may start here (UTC).")
    end = UtcDateTimeField(help_text="The latest it may end (UTC).")
    duration_minutes = serializers.SerializerMethodField(help_text="How long the slot is.")

    def get_duration_minutes(self, slot) -> int:
        return int(slot.duration.total_seconds() // 60)


class FreeSlotsSerializer(serializers.Serializer):
    space_type = serializers.CharField(source="space.slug", help_text="The space's slug.")
    date = serializers.DateField(help_text="The day of the studio's calendar asked about.")
    slots = SlotSerializer(many=True, help_text="Where a new booking fits, its own buffer included; soonest first.")


class AlternativeTimeSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Send it as start_time (UTC).")
    end = serializers.DateTimeField(help_text="Send it as end_time (UTC): the same length as asked.")


class AlternativeSpaceSerializer(AlternativeTimeSerializer):
    space = serializers.CharField(help_text="The space's slug: send it as space_type.")
    space_name = serializers.CharField(help_text="The space's name, for a person.")


class BookingAlternativesSerializer(serializers.Serializer):
    same_space = AlternativeTimeSerializer(
        many=True,
        help_text="Other times of the same length in the asked space on the studio's same day, within its "
        "opening hours and buffers, none in the past; nearest to the asked start first (at most 3).",
    )
    other_spaces = AlternativeSpaceSerializer(
        many=True,
        help_text="Other active spaces that hold the people count and are free at exactly the asked time, "
        "by name (at most 3).",
    )


class ConflictingBookingSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The booking that holds the space.")
    start = serializers.DateTimeField(help_text="When it starts (UTC).")
    end = serializers.DateTimeField(help_text="When it ends (UTC).")
    blocks_until = serializers.DateTimeField(help_text="Its end plus the space's clean-up buffer (UTC).")


class ConflictDetailsSerializer(serializers.Serializer):
    conflicting_booking = ConflictingBookingSerializer(
        required=False,
        help_text="booking_overlap: the booking in the way (left out when it was released meanwhile).",
    )
    alternatives = BookingAlternativesSerializer(
        required=False,
        help_text="booking_overlap of a new booking or a reschedule: what the studio could book instead. "
        "Another request may take them first.",
    )


class BookingConflictDetailSerializer(ErrorDetailSerializer):
    details = ConflictDetailsSerializer(help_text="Facts about the clash; empty for other codes than booking_overlap.")


class BookingConflictSerializer(serializers.Serializer):
    """A 409 about a booking's time: the one error body, its details described."""

    error = BookingConflictDetailSerializer()


class ClientSerializer(serializers.ModelSerializer):
    email = EmailOrEmptyField(read_only=True, help_text="Empty when unknown.")
    created_at = UtcDateTimeField(help_text="When the client was registered.")
    updated_at = UtcDateTimeField(help_text="When their details last changed.")

    class Meta:
        model = Client
        fields = ["id", "full_name", "phone", "email", "notes", "created_at", "updated_at"]
        read_only_fields = fields
        extra_kwargs = _CLIENT_FIELD_HELP


class ClientHistorySerializer(CurrencyMixin, serializers.Serializer):
    client = ClientSerializer(help_text="The client.")
    total_bookings = serializers.IntegerField(help_text="Every booking, in any state.")
    completed = serializers.IntegerField(help_text="Sessions that took place.")
    no_shows = serializers.IntegerField(help_text="Sessions the client did not come to.")
    cancelled = serializers.IntegerField(help_text="Bookings cancelled before the session.")
    spend = serializers.DecimalField(
        # No bound: a sum of prices of up to 10 digits each outgrows any fixed number of digits.
        max_digits=None,
        decimal_places=2,
        help_text="The price of completed bookings, in `currency`.",
    )
    currency = _currency()
    bookings = BookingSerializer(many=True, help_text="Newest first.")


class ClosureSerializer(serializers.ModelSerializer):
    space = SpaceSummarySerializer(
        read_only=True, allow_null=True, help_text="The space closed; null: the whole studio."
    )
    start_time = UtcDateTimeField(source="start", help_text="When the closure begins (UTC).")
    end_time = UtcDateTimeField(source="end", help_text="When it ends (UTC): bookings may start from then on.")
    created_by = EmployeeSummarySerializer(read_only=True, allow_null=True, help_text="Who recorded it.")
    created_at = UtcDateTimeField(help_text="When it was recorded.")

    class Meta:
        model = Closure
        fields = ["id", "space", "start_time", "end_time", "reason", "created_by", "created_at"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The closure's id, as in /api/v1/closures/{id}."},
            "reason": {"help_text": "Why the space or the studio is closed."},
        }


class AffectedBookingSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=BookingState.choices, read_only=True, help_text="The booking's state.")
    start_time = UtcDateTimeField(source="start", help_text="When the session starts (UTC).")
    end_time = UtcDateTimeField(source="end", help_text="When it ends (UTC).")
    blocks_until = UtcDateTimeField(help_text="End plus the clean-up buffer (UTC).")
    space_type = serializers.CharField(source="space.slug", read_only=True, help_text="The space's slug.")
    client = ClientSummarySerializer(read_only=True, help_text="Who the session is for.")

    class Meta:
        model = Booking
        fields = ["id", "state", "start_time", "end_time", "blocks_until", "space_type", "client"]
        read_only_fields = fields
        extra_kwargs = {"id": {"help_text": "The booking's id, as in /api/v1/bookings/{id}."}}


class HistoryEntrySerializer(serializers.Serializer):
    """One event in a booking's history."""

    id = serializers.IntegerField(help_text="The event's id (see /api/v1/events/{id} with the right to read the log).")
    type = serializers.CharField(
        help_text="booking.created, booking.state_changed, booking.rescheduled, booking.updated, ..."
    )
    occurred_at = UtcDateTimeField(help_text="When it happened (UTC).")
    actor = EmployeeSummarySerializer(allow_null=True, help_text="Who did it; null for the system.")
    payload = serializers.DictField(
        help_text="What changed: states and reason (with `undo: true` for an undo), times, fields' old and new values."
    )


# --- waitlist ---------------------------------------------------------------------------------


class WaitlistEntryCreateSerializer(BookingCreateSerializer):
    """The booking the client wanted, as for POST /api/v1/bookings/ (no price: it is set when booked)."""

    price = None


class WithdrawSerializer(InputSerializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=REASON_MAX_LENGTH,
        style=MULTILINE,
        help_text="Why the client no longer waits; kept in the entry's history.",
    )


class WaitlistEntrySerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=WaitlistStatus.choices,
        read_only=True,
        help_text="waiting; booked (see booking), withdrawn, or expired (its start passed while waiting).",
    )
    start_time = UtcDateTimeField(source="start", help_text="When the wanted session starts (UTC).")
    end_time = UtcDateTimeField(source="end", help_text="When it ends (UTC).")
    space_type = serializers.CharField(source="space.slug", read_only=True, help_text="The space's slug.")
    space = SpaceSummarySerializer(read_only=True, help_text="The space wanted.")
    client = ClientSummarySerializer(read_only=True, help_text="Who waits.")
    booking = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The booking made from this entry; null unless booked."
    )
    slot_opened_at = UtcDateTimeField(
        allow_null=True, help_text="When a cancelled or moved booking last freed the slot; null if never."
    )
    resolved_at = UtcDateTimeField(allow_null=True, help_text="When it was booked, withdrawn or expired.")
    created_by = EmployeeSummarySerializer(read_only=True, allow_null=True, help_text="Who put the client on it.")
    created_at = UtcDateTimeField(help_text="When the client was put on the waitlist.")

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "status",
            "start_time",
            "end_time",
            "space_type",
            "space",
            "client",
            "people_count",
            "notes",
            "booking",
            "slot_opened_at",
            "resolved_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The entry's id, as in /api/v1/waitlist/{id}."},
            "people_count": {"help_text": "How many people would come."},
            "notes": {"help_text": "For the studio's staff; they go on the booking."},
        }


class ClosureCreatedSerializer(ClosureSerializer):
    """A new closure with the bookings that already hold its time (``context["affected_bookings"]``)
    and the waitlist entries waiting for a slot in it (``context["waiting_entries"]``)."""

    affected_bookings = serializers.SerializerMethodField(
        help_text="Pending, confirmed or running bookings whose time, clean-up buffer included, meets the "
        "closure, in start order. They are neither moved nor cancelled: reschedule or cancel each."
    )
    waiting_entries = serializers.SerializerMethodField(
        help_text="Waitlist entries still waiting for a slot the closure meets, in start order. They stay "
        "waiting (the slot cannot be booked while closed): tell the clients, or withdraw each."
    )

    class Meta(ClosureSerializer.Meta):
        fields = [*ClosureSerializer.Meta.fields, "affected_bookings", "waiting_entries"]
        read_only_fields = fields

    @extend_schema_field(AffectedBookingSerializer(many=True))
    def get_affected_bookings(self, closure) -> list:
        return AffectedBookingSerializer(self.context["affected_bookings"], many=True).data

    @extend_schema_field(WaitlistEntrySerializer(many=True))
    def get_waiting_entries(self, closure) -> list:
        return WaitlistEntrySerializer(self.context["waiting_entries"], many=True).data


class WaitlistEntryDetailSerializer(WaitlistEntrySerializer):
    """An entry with what happened to it (``context["history"]``)."""

    history = serializers.SerializerMethodField(
        help_text="Its events, oldest first: waitlist.added, waitlist.slot_opened, waitlist.booked, "
        "waitlist.withdrawn, waitlist.expired."
    )

    class Meta(WaitlistEntrySerializer.Meta):
        fields = [*WaitlistEntrySerializer.Meta.fields, "history"]
        read_only_fields = fields

    @extend_schema_field(HistoryEntrySerializer(many=True))
    def get_history(self, entry) -> list:
        return HistoryEntrySerializer(self.context["history"], many=True).data


class BookingsHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error"], help_text="ok, or error with a 503.")
    component = serializers.CharField(help_text='Always "bookings".')
    active_spaces = serializers.IntegerField(required=False, help_text="Spaces taking bookings (when ok).")
    error = serializers.CharField(required=False, help_text="What failed (when error).")


# --- reports ----------------------------------------------------------------------------------


class ReportQuerySerializer(QuerySerializer):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``: whole local days, both included, at most five years."""

    def get_fields(self):
        # "from" is a Python keyword, so the fields cannot be declared as class attributes.
        return {
            "from": CalendarDateField(help_text="The first local day of the period, YYYY-MM-DD."),
            "to": CalendarDateField(help_text="The last local day of the period (included), YYYY-MM-DD."),
        }

    def validate(self, attrs):
        if attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": "The period must end on or after its first day."})
        if (attrs["to"] - attrs["from"]).days >= REPORT_MAX_DAYS:
            raise serializers.ValidationError({"to": f"Choose at most five years ({REPORT_MAX_DAYS:,} days)."})
        return attrs


def _hours_field(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=1, help_text=help_text)


class ReportFiguresSerializer(serializers.Serializer):
    open_hours = _hours_field("Hours the space(s) open by their opening hours, less closures.")
    booked_hours = _hours_field("Hours of the bookings (cancelled ones excluded).")
    utilisation = serializers.DecimalField(
        # No bound: a closure keeps the bookings already holding its time, so booked hours may be
        # many times the open ones.
        max_digits=None,
        decimal_places=1,
        allow_null=True,
        help_text="Booked hours as a percentage of open hours; null when nothing opened. Over 100 when "
        "bookings held time a closure has since taken.",
    )
    bookings = serializers.IntegerField(help_text="Bookings that start in the period, cancelled ones excluded.")
    completed = serializers.IntegerField(help_text="Sessions that took place.")
    no_shows = serializers.IntegerField(help_text="Sessions the client did not come to.")
    cancelled = serializers.IntegerField(help_text="Bookings cancelled (not counted in bookings).")
    revenue = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="The price of completed sessions, in the report's currency."
    )


class SpaceReportSerializer(ReportFiguresSerializer):
    space = SpaceSummarySerializer(help_text="The space.")


class DayReportSerializer(ReportFiguresSerializer):
    date = serializers.DateField(help_text="A local day of the period, all spaces together.")


class ReportSerializer(serializers.Serializer):
    """Documents the reports answer; ``report_body`` renders it (a five-year report has
    thousands of days, too many for DRF's per-field rendering)."""

    from_ = serializers.DateField(help_text="The first day of the period.")
    to = serializers.DateField(help_text="The last day of the period (included).")
    currency = serializers.CharField(help_text="ISO 4217 code of every amount (settings.STUDIO_CURRENCY).")
    bookings_definition = serializers.CharField(help_text="What the figures count as bookings, in words.")
    total = ReportFiguresSerializer(help_text="All spaces over the whole period.")
    spaces = SpaceReportSerializer(many=True, help_text="Each space over the whole period, by name.")
    days = DayReportSerializer(many=True, help_text="Each day of the period, all spaces together, oldest first.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return {
            name: fields[name] for name in ("from", "to", "currency", "bookings_definition", "total", "spaces", "days")
        }


def report_json(report: Report) -> bytes:
    """``report_body`` rendered as the API renders JSON."""
    return JSONRenderer().render(report_body(report))


def report_body(report: Report) -> dict:
    """The reports answer as ReportSerializer documents it."""
    return {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "currency": report.currency,
        "bookings_definition": BOOKINGS_DEFINITION,
        "total": _figures_body(report.total),
        "spaces": [
            {"space": {"slug": figures.space.slug, "name": figures.space.name}, **_figures_body(figures)}
            for figures in report.spaces
        ],
        "days": [{"date": figures.day.isoformat(), **_figures_body(figures)} for figures in report.days],
    }


def _figures_body(figures: Figures) -> dict:
    return {
        "open_hours": str(figures.open_hours),
        "booked_hours": str(figures.booked_hours),
        "utilisation": None if figures.utilisation is None else str(figures.utilisation),
        "bookings": figures.bookings,
        "completed": figures.completed,
        "no_shows": figures.no_shows,
        "cancelled": figures.cancelled,
        "revenue": str(figures.revenue),
    }
