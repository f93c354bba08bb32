"""Which bookings a list shows: one FilterSet for the API and the staff pages alike.

Days are the studio's local calendar days (settings.TIME_ZONE): a booking is on a day when it
overlaps it, so one running past midnight shows on both days.
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from bookings.models import Booking, BookingState, Client, Closure, Space, WaitlistEntry, WaitlistStatus
from bookings.selectors import client_matches, day_bounds
from employees.models import Employee, Role
from photostudio.inputs import ChoicesInFilter, InputRulesForm, calendar_validator


class _BookingOrdering(django_filters.OrderingFilter):
    """Sorts by the list's columns; the booking's start, then its id, break ties so pages are stable."""

    def filter(self, queryset, value):
        ordered = super().filter(queryset, value)
        if value:
            ordered = ordered.order_by(*ordered.query.order_by, "start", "id")
        return ordered


def _day_filter(*, label: str, help_text: str, method: str) -> django_filters.DateFilter:
    # The rule is the field's own, not only its form's: the day list reads ``date`` with the field
    # alone. A label of its own: django-filter names a filter that is no model field "[invalid name]",
    # which a page's error summary would show.
    return django_filters.DateFilter(method=method, validators=[calendar_validator], label=label, help_text=help_text)


class _FromToDaysFilterSet(django_filters.FilterSet):
    """A list filtered by a range of local days, ``from`` (declared by each list: its rows end
    after that day's start) to ``to`` (they start before that day's end); ``to`` before ``from``
    is the caller's error."""

    def until_day(self, queryset, name, value):
        _, end = day_bounds(value)
        return queryset.filter(start__lt=end)

    def is_valid(self):
        valid = super().is_valid()
        first, last = self.form.cleaned_data.get("from"), self.form.cleaned_data.get("to")
        if valid and first and last and first > last:
            self.form.add_error("to", ValidationError("Give a day on or after from."))
            return False
        return valid


class BookingFilterSet(_FromToDaysFilterSet):
    date = _day_filter(
        label="Day", help_text="Bookings on this day of the studio's calendar (YYYY-MM-DD).", method="on_day"
    )
    to = _day_filter(
        label="To",
        help_text="Bookings on or before this day of the studio's calendar (YYYY-MM-DD).",
        method="until_day",
    )
    space = django_filters.ModelChoiceFilter(
        queryset=Space.objects.all(), to_field_name="slug", help_text="A space's slug, e.g. studio_a."
    )
    state = ChoicesInFilter(
        choices=BookingState.choices, label="State", help_text="One or more states, comma-separated."
    )
    photographer = django_filters.ModelChoiceFilter(
        queryset=Employee.objects.filter(role=Role.PHOTOGRAPHER), help_text="The assigned photographer's id."
    )
    # The page carries client and ordering in hidden inputs (from a client's page, a column's
    # heading): a refusal names them in the error summary without a field to go to.
    client = django_filters.ModelChoiceFilter(
        queryset=Client.objects.all(),
        label="The client of the link followed",
        widget=forms.HiddenInput,
        help_text="The client's id.",
    )
    search = django_filters.CharFilter(
        method="by_client",
        label="Client",
        max_length=100,
        help_text="Part of the client's name, or of their phone number (matched on digits, so "
        '"555 0101" finds +14155550101).',
    )
    ordering = _BookingOrdering(
        fields=(
            ("start", "start"),
            ("space__name", "space"),
            ("client__full_name", "client"),
            ("people_count", "people"),
            ("photographer__full_name", "photographer"),
            ("price", "price"),
            ("state", "state"),
        ),
        label="The order of the link followed",
        widget=forms.HiddenInput,
        help_text="Sort by start, space, client, people, photographer, price or state; a leading - "
        "reverses (-start: latest first). Ties keep start order.",
    )

    class Meta:
        model = Booking
        form = InputRulesForm
        fields = []

    def by_client(self, queryset, name, value):
        return queryset.filter(client_matches(value, prefix="client__")) if value.strip() else queryset

    def on_day(self, queryset, name, value):
        start, end = day_bounds(value)
        return queryset.overlapping(start, end)

    def from_day(self, queryset, name, value):
        start, _ = day_bounds(value)
        return queryset.ending_after(start)


# "from" is a Python keyword, so it joins the declared filters by name.
BookingFilterSet.base_filters = {
    "date": BookingFilterSet.base_filters["date"],
    "from": _day_filter(
        label="From",
        help_text="Bookings on or after this day of the studio's calendar (YYYY-MM-DD).",
        method="from_day",
    ),
    **{name: flt for name, flt in BookingFilterSet.base_filters.items() if name != "date"},
}


class ClosureFilterSet(_FromToDaysFilterSet):
    """Closures by the local days they meet and by space (a space's list includes the whole
    studio's closures)."""

    to = _day_filter(
        label="To",
        help_text="Closures meeting this day of the studio's calendar or an earlier one (YYYY-MM-DD).",
        method="until_day",
    )
    space = django_filters.ModelChoiceFilter(
        queryset=Space.objects.all(),
        to_field_name="slug",
        method="of_space",
        help_text="A space's slug, e.g. studio_a: its closures and the whole studio's.",
    )

    class Meta:
        model = Closure
        form = InputRulesForm
        fields = []

    def from_day(self, queryset, name, value):
        start, _ = day_bounds(value)
        return queryset.filter(end__gt=start)

    def of_space(self, queryset, name, value):
        return queryset.of_space(value)


ClosureFilterSet.base_filters = {
    "from": _day_filter(
        label="From",
        help_text="Closures meeting this day of the studio's calendar or a later one (YYYY-MM-DD).",
        method="from_day",
    ),
    **ClosureFilterSet.base_filters,
}


class WaitlistFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=WaitlistStatus.choices, help_text="waiting, booked, withdrawn or expired."
    )
    space = django_filters.ModelChoiceFilter(
        queryset=Space.objects.all(), to_field_name="slug", help_text="A space's slug, e.g. studio_a."
    )
    date = _day_filter(
        label="Day",
        help_text="Entries whose slot is on this day of the studio's calendar (YYYY-MM-DD).",
        method="on_day",
    )

    class Meta:
        model = WaitlistEntry
        form = InputRulesForm
        fields = []

    def on_day(self, queryset, name, value):
        start, end = day_bounds(value)
        return queryset.filter(start__lt=end, end__gt=start)
