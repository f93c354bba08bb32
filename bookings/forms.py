"""Shapes of the staff pages' forms. They check what was typed; ``bookings.services`` decide, and
``add_domain_error`` shows a service's refusal on the fields it names."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.urls import reverse
from django.utils import timezone

from bookings.models import BookingState, Space, local_instant
from bookings.reports import REPORT_MAX_DAYS
from employees.models import Employee, Role
from photostudio.errors import BookingOverlap, DomainError


class DomainErrorsMixin:
    """Show a service's DomainError on the form: each entry of its ``details`` on the field it
    names (renamed through ``detail_fields``), anything else as an error of the whole form."""

    detail_fields: dict[str, str] = {}
    # The field that shows an overlap; its message names the conflicting booking, which the
    # page links to as ``conflict_id``.
    overlap_field: str | None = None
    conflict_id: int | None = None

    def add_domain_error(self, error: DomainError) -> None:
        if isinstance(error, BookingOverlap) and self.overlap_field:
            self.conflict_id = error.details.get("conflicting_booking", {}).get("id")
            self.add_error(self.overlap_field, error.message)
            return
        shown = False
        for name, messages in error.details.items():
            field = self.detail_fields.get(name, name)
            if field in self.fields and isinstance(messages, list):
                for message in messages:
                    self.add_error(field, message)
                shown = True
        if not shown:
            self.add_error(None, error.message)


def _time_input():
    return forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 900})


def _local_range(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """The instants of ``start`` and ``end`` on the studio's ``day``; an end of 00:00 is midnight
    at the end of the day."""
    end_clock = "24:00" if end == time(0, 0) else f"{end:%H:%M}"
    return local_instant(day, f"{start:%H:%M}"), local_instant(day, end_clock)


class TimesMixin:
    """``date``, ``start_time`` and ``end_time`` on the studio's wall clock, as ``start``/``end``."""

    def clean(self):
        cleaned = super().clean()
        if all(cleaned.get(name) is not None for name in ("date", "start_time", "end_time")):
            cleaned["start"], cleaned["end"] = _local_range(cleaned["date"], cleaned["start_time"], cleaned["end_time"])
        return cleaned


def active_spaces():
    return Space.objects.filter(is_active=True).order_by("name")


def active_photographers():
    return Employee.objects.filter(role=Role.PHOTOGRAPHER, is_active=True).order_by("full_name", "username")


class BookingForm(DomainErrorsMixin, TimesMixin, forms.Form):
    """A new booking. An existing client is found by phone; a new phone registers a client with
    the name given. ``price`` exists only for those who may set prices by hand."""

    detail_fields = {"start": "start_time", "end": "end_time"}
    overlap_field = "start_time"

    client_phone = forms.CharField(
        label="Client's phone",
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "placeholder": "+1 415 555 0101"}),
    )
    client_name = forms.CharField(
        label="Client's name",
        max_length=200,
        required=False,
        help_text="Needed for a new client. A known phone number books its client.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    client_email = forms.EmailField(label="Client's e-mail", required=False)
    space = forms.ModelChoiceField(queryset=active_spaces(), to_field_name="slug", empty_label=None)
    date = forms.DateField(widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    start_time = forms.TimeField(label="Starts", widget=_time_input())
    end_time = forms.TimeField(label="Ends", widget=_time_input(), help_text="00:00 means midnight.")
    people_count = forms.IntegerField(label="People", min_value=1, max_value=1000, initial=1)
    photographer = forms.ModelChoiceField(
        queryset=active_photographers(), required=False, empty_label="No photographer yet"
    )
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    price = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text="Leave empty for the space's hourly rate.",
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["space"].queryset = active_spaces()
        self.fields["photographer"].queryset = active_photographers()
        if not actor.has_perm("bookings.override_booking_price"):
            del self.fields["price"]
        # Typing a phone number or a name lists the known clients it matches (htmx).
        search = {
            "hx-get": reverse("client-search"),
            "hx-trigger": "input changed delay:300ms",
            "hx-target": "#client-matches",
        }
        for name in ("client_phone", "client_name"):
            self.fields[name].widget.attrs.update(search)

    def booking_arguments(self) -> dict:
        """``create_booking``'s arguments, but the actor."""
        data = self.cleaned_data
        return {
            "space": data["space"],
            "start": data["start"],
            "end": data["end"],
            "people_count": data["people_count"],
            "client_name": data["client_name"],
            "client_phone": data["client_phone"],
            "client_email": data["client_email"],
            "notes": data["notes"],
            "price": data.get("price"),
            "photographer": data["photographer"],
        }


class BookingEditForm(DomainErrorsMixin, TimesMixin, forms.Form):
    """A pending or confirmed booking's times and space (``reschedule_booking``) and its details
    (``update_booking``): people, photographer, notes and, for those who may, a hand-set price."""

    detail_fields = {"start": "start_time", "end": "end_time"}
    overlap_field = "start_time"

    space = forms.ModelChoiceField(queryset=active_spaces(), to_field_name="slug", empty_label=None)
    date = forms.DateField(widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    start_time = forms.TimeField(label="Starts", widget=_time_input())
    end_time = forms.TimeField(label="Ends", widget=_time_input(), help_text="00:00 means midnight.")
    people_count = forms.IntegerField(label="People", min_value=1, max_value=1000)
    photographer = forms.ModelChoiceField(
        queryset=active_photographers(), required=False, empty_label="No photographer"
    )
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    price = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text="Leave empty for the space's hourly rate.",
    )

    def __init__(self, data=None, *, booking, actor):
        zone = timezone.get_default_timezone()
        start, end = timezone.localtime(booking.start, zone), timezone.localtime(booking.end, zone)
        initial = {
            "space": booking.space.slug,
            "date": start.date(),
            "start_time": start.time(),
            "end_time": end.time(),
            "people_count": booking.people_count,
            "photographer": booking.photographer_id,
            "notes": booking.notes,
            "price": booking.price if booking.price_overridden else None,
        }
        super().__init__(data, initial=initial)
        self.booking = booking
        self.fields["space"].queryset = active_spaces()
        self.fields["photographer"].queryset = active_photographers()
        if not actor.has_perm("bookings.override_booking_price"):
            del self.fields["price"]

    def move_arguments(self) -> dict | None:
        """``reschedule_booking``'s arguments when the space or the times changed, else None."""
        data, booking = self.cleaned_data, self.booking
        if (data["space"], data["start"], data["end"]) == (booking.space, booking.start, booking.end):
            return None
        return {"space": data["space"], "start": data["start"], "end": data["end"]}

    def detail_changes(self) -> dict:
        """``update_booking``'s changes: the details that differ from the booking's."""
        data, booking = self.cleaned_data, self.booking
        current = {
            "people_count": booking.people_count,
            "photographer": booking.photographer,
            "notes": booking.notes,
            "price": booking.price if booking.price_overridden else None,
        }
        return {name: data[name] for name, value in current.items() if name in data and data[name] != value}


class PricePreviewForm(TimesMixin, forms.Form):
    space = forms.ModelChoiceField(queryset=Space.objects.all(), to_field_name="slug")
    date = forms.DateField()
    start_time = forms.TimeField()
    end_time = forms.TimeField()


class TransitionForm(DomainErrorsMixin, forms.Form):
    target_state = forms.ChoiceField(choices=BookingState.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Say why: the client sees it in the cancellation e-mail and it stays in the history.",
    )


class CancelForm(forms.Form):
    """The reason for cancelling bookings in bulk (the admin's action)."""

    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": "Give a reason for cancelling."},
    )


class ClientForm(DomainErrorsMixin, forms.Form):
    full_name = forms.CharField(label="Name", max_length=200)
    phone = forms.CharField(max_length=32, widget=forms.TextInput(attrs={"type": "tel"}))
    email = forms.EmailField(label="E-mail", required=False)
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))


class SearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)


class CalendarForm(forms.Form):
    """Which day or week of the calendar to show; anything unreadable falls back to today."""

    VIEWS = [("day", "Day"), ("week", "Week")]

    date = forms.DateField(required=False)
    view = forms.ChoiceField(choices=VIEWS, required=False)
    space = forms.ModelChoiceField(queryset=Space.objects.all(), to_field_name="slug", required=False)

    def choice(self, *, today: date) -> tuple[date, str, Space | None]:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("date") or today, data.get("view") or "day", data.get("space")


class ReportForm(forms.Form):
    """The period of the reports: whole local days, ``start`` to ``end`` inclusive."""

    start = forms.DateField(label="From", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

    @staticmethod
    def default_period(today: date) -> dict:
        return {"start": today - timedelta(days=29), "end": today}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The period must end on or after its first day.")
            elif (end - start).days >= REPORT_MAX_DAYS:
                self.add_error("end", f"Choose at most five years ({REPORT_MAX_DAYS:,} days).")
        return cleaned


class BookingPrefillForm(forms.Form):
    """What a link to a new booking says about it (the calendar's free slot, a client's page);
    unreadable values are left out."""

    space = forms.ModelChoiceField(queryset=Space.objects.filter(is_active=True), to_field_name="slug", required=False)
    date = forms.DateField(required=False)
    start_time = forms.TimeField(required=False)
    end_time = forms.TimeField(required=False)
    client_phone = forms.CharField(required=False, max_length=32)
    client_name = forms.CharField(required=False, max_length=200)

    def prefill(self, *, today: date) -> dict:
        self.is_valid()
        values = {name: value for name, value in self.cleaned_data.items() if value}
        if "space" in values:
            values["space"] = values["space"].slug
        return {"date": today, "people_count": 1, **values}
