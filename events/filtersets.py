"""Filters of the event log and the delivery log, shared by the API (and any page listing them)."""

import django_filters
from django.contrib.auth import get_user_model

from events.models import Delivery, Event, EventType
from photostudio.inputs import ChoicesInFilter, InputRulesForm


class EventFilterSet(django_filters.FilterSet):
    # Choices, so a misspelt type is refused rather than answered with an empty list.
    type = ChoicesInFilter(choices=EventType.choices, help_text="One or more event types, comma-separated.")
    aggregate_type = django_filters.CharFilter(help_text="e.g. bookings.booking")
    aggregate_id = django_filters.CharFilter()
    actor = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.all(), help_text="Employee id of whoever caused it."
    )
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Event
        form = InputRulesForm
        fields = ["type", "aggregate_type", "aggregate_id", "actor", "occurred_after", "occurred_before"]


class DeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Delivery.Status.choices)

    class Meta:
        model = Delivery
        form = InputRulesForm
        fields = ["status"]
