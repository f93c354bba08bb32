"""The API's shapes for bookings, spaces and clients.

Input serializers check the shape of a request (types, lengths, ranges, known fields); the
services decide everything else. Output serializers render a booking with its state, the
transitions this caller may fire next and summaries of its client and space. Times go out in
UTC with their offset (``Z``).
"""

from datetime import UTC

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings import services
from bookings.filtersets import FIRST_DAY, LAST_DAY
from bookings.models import WEEKDAYS, Booking, BookingState, Client, Space
from employees.models import Employee
from photostudio.api import InputSerializer

# Large enough for any real session, small enough that a typo (10000) is refused as such.
MAX_PEOPLE = 1000
# The largest id a database row can have (a signed 64-bit integer).
MAX_ID = 2**63 - 1


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time with its UTC offset, within the bookings' calendar, read as UTC."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2024-01-15T10:00:00Z.",
        "out_of_calendar": f"Give a date from {FIRST_DAY} to {LAST_DAY}.",
    }

    def __init__(self, **kwargs):
        super().__init__(input_formats=["iso-8601"], **kwargs)

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        # Checked on the date as written, before converting, which could overflow at year 1 or 9999.
        if not FIRST_DAY <= value.date() <= LAST_DAY:
            self.fail("out_of_calendar")
        return value.astimezone(UTC)


class CalendarDateField(serializers.DateField):
    default_error_messages = {"out_of_calendar": f"Give a date from {FIRST_DAY} to {LAST_DAY}."}

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not FIRST_DAY <= day <= LAST_DAY:
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


class BookingCreateSerializer(InputSerializer):
    client_name = serializers.CharField(max_length=200, help_text="Used when the phone number is new to the studio.")
    client_phone = serializers.CharField(
        max_length=32, help_text="Identifies the client; international form such as +14155550123."
    )
    client_email = serializers.EmailField(required=False, allow_blank=True, default="", max_length=254)
    start_time = AwareDateTimeField()
    end_time = AwareDateTimeField()
    space_type = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Space.objects.all(),
        help_text="The slug of a space, e.g. studio_a (see /api/v1/spaces/).",
        error_messages={"does_not_exist": "There is no space {value}: see /api/v1/spaces/ for the slugs."},
    )
    people_count = serializers.IntegerField(min_value=1, max_value=MAX_PEOPLE)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    price = MoneyField(
        required=False, help_text="A price set by hand (managers); else the space's hourly rate applies."
    )


class BookingUpdateSerializer(InputSerializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    people_count = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PEOPLE)
    photographer = PhotographerField(
        required=False, allow_null=True, help_text="An active photographer's employee id; null unassigns."
    )
    price = MoneyField(
        required=False,
        allow_null=True,
        help_text="A price set by hand (managers); null returns to the space's hourly rate.",
    )


class StateChangeSerializer(InputSerializer):
    target_state = serializers.ChoiceField(choices=BookingState.choices)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=1000, help_text="Required for cancelled."
    )


class RescheduleSerializer(InputSerializer):
    start_time = AwareDateTimeField()
    end_time = AwareDateTimeField()
    space_type = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Space.objects.all(),
        required=False,
        help_text="Move to this space too; the booking's own space when left out.",
        error_messages={"does_not_exist": "There is no space {value}: see /api/v1/spaces/ for the slugs."},
    )


class ClientUpdateSerializer(InputSerializer):
    full_name = serializers.CharField(required=False, max_length=200)
    phone = serializers.CharField(required=False, max_length=32)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class DayQuerySerializer(serializers.Serializer):
    date = CalendarDateField(help_text="A day of the studio's local calendar, YYYY-MM-DD.")


class SearchQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


# --- output -----------------------------------------------------------------------------------


class UtcDateTimeField(serializers.DateTimeField):
    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, read_only=True, **kwargs)


class SpaceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Space
        fields = ["slug", "name"]
        read_only_fields = fields


class ClientSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "full_name", "phone", "email"]
        read_only_fields = fields


class PhotographerSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Employee
        fields = ["id", "full_name"]
        read_only_fields = fields


class TransitionSerializer(serializers.Serializer):
    target_state = serializers.ChoiceField(choices=BookingState.choices, source="target")
    transition = serializers.CharField(source="name", help_text="e.g. confirm, begin, complete, cancel.")
    reason_required = serializers.SerializerMethodField()

    def get_reason_required(self, transition) -> bool:
        return bool(transition.custom.get("reason_required"))


class BookingSerializer(serializers.ModelSerializer):
    """A booking as ``context["viewer"]`` sees it."""

    state = serializers.ChoiceField(choices=BookingState.choices, read_only=True)
    allowed_transitions = serializers.SerializerMethodField(
        help_text="What this caller may do next: POST a target_state to /bookings/{id}/state."
    )
    start_time = UtcDateTimeField(source="start")
    end_time = UtcDateTimeField(source="end")
    blocks_until = UtcDateTimeField(help_text="End plus the space's clean-up buffer: the space is held until then.")
    duration_minutes = serializers.SerializerMethodField()
    space_type = serializers.CharField(source="space.slug", read_only=True)
    space = SpaceSummarySerializer(read_only=True)
    client = ClientSummarySerializer(read_only=True)
    photographer = PhotographerSummarySerializer(read_only=True, allow_null=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

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
            "price_overridden",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(TransitionSerializer(many=True))
    def get_allowed_transitions(self, booking) -> list:
        moves = services.transitions_allowed(booking=booking, actor=self.context["viewer"])
        return TransitionSerializer(moves, many=True).data

    def get_duration_minutes(self, booking) -> int:
        return int(booking.duration.total_seconds() // 60)


def _hours() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2, allow_null=True)


class OpeningHoursSerializer(serializers.Serializer):
    """Per weekday, ``["HH:MM", "HH:MM"]`` on the studio's wall clock, or null when closed."""

    mon = _hours()
    tue = _hours()
    wed = _hours()
    thu = _hours()
    fri = _hours()
    sat = _hours()
    sun = _hours()


class SpaceSerializer(serializers.ModelSerializer):
    hourly_rate = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    opening_hours = serializers.SerializerMethodField()

    class Meta:
        model = Space
        fields = ["slug", "name", "capacity", "hourly_rate", "buffer_minutes", "opening_hours", "is_active"]
        read_only_fields = fields

    @extend_schema_field(OpeningHoursSerializer)
    def get_opening_hours(self, space) -> dict:
        hours = space.opening_hours or {}
        return {day: hours.get(day) or None for day in WEEKDAYS}


class SlotSerializer(serializers.Serializer):
    start = UtcDateTimeField()
    end = UtcDateTimeField()
    duration_minutes = serializers.SerializerMethodField()

    def get_duration_minutes(self, slot) -> int:
        return int(slot.duration.total_seconds() // 60)


class FreeSlotsSerializer(serializers.Serializer):
    space_type = serializers.CharField(source="space.slug")
    date = serializers.DateField()
    slots = SlotSerializer(many=True, help_text="Where a new booking fits, its own buffer included; soonest first.")


class ClientSerializer(serializers.ModelSerializer):
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        model = Client
        fields = ["id", "full_name", "phone", "email", "notes", "created_at", "updated_at"]
        read_only_fields = fields


class ClientHistorySerializer(serializers.Serializer):
    client = ClientSerializer()
    total_bookings = serializers.IntegerField()
    completed = serializers.IntegerField()
    no_shows = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    spend = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="The price of completed bookings.")
    bookings = BookingSerializer(many=True, help_text="Newest first.")


class BookingsHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error"])
    component = serializers.CharField()
    active_spaces = serializers.IntegerField(required=False)
    error = serializers.CharField(required=False)
