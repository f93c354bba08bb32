"""The event log (read-only), the delivery log with its retry action, and webhook endpoints.

Nothing here writes rows by itself: endpoints are saved and deliveries retried through
events.services, the same functions the API calls.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from events import services
from events.models import Delivery, Event, EventType, WebhookEndpoint
from photostudio.admin import RefusalsAsMessagesMixin
from photostudio.errors import DomainError
from photostudio.inputs import InputRulesMixin


def _may_view_event_log(request) -> bool:
    # Deliveries are part of their event's record: whoever may read the log sees them.
    return request.user.has_perm("events.view_event")


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        return _may_view_event_log(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fk_name = "event"
    extra = 0
    can_delete = False
    fields = ("handler", "status", "attempts", "max_attempts", "next_attempt_at", "outcome", "last_error")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return _may_view_event_log(request)


# What each kind of event says, after who did it; {subject} is the linked booking, client, space
# or employee. Types not listed read as their EventType label.
_PHRASES = {
    "booking.created": "booked {subject}",
    "booking.rescheduled": "rescheduled {subject}",
    "booking.reminder_due": "queued the reminder for {subject}",
    "employee.login": "signed in",
    "employee.login_failed": "recorded a failed sign-in of {subject}",
    "employee.locked_out": "locked {subject} out after failed sign-ins",
    "employee.unlocked": "lifted the sign-in lock of {subject}",
    "employee.mfa_enabled": "turned on two-factor authentication",
    "employee.created": "added {subject}",
    "employee.deactivated": "deactivated {subject}",
    "employee.signed_out": "ended sign-ins of {subject}",
    "employee.password_changed": "changed the password of {subject}",
    "employee.mfa_reset": "reset two-factor authentication of {subject}",
    "space.created": "added {subject}",
    "closure.created": "recorded {subject}",
    "closure.deleted": "removed {subject}",
}
_SUBJECTS = {
    "bookings.booking": "booking",
    "bookings.client": "client",
    "bookings.space": "space",
    "bookings.closure": "closure",
    "employees.employee": "employee",
    "events.webhookendpoint": "webhook endpoint",
}


def _subject(event: Event) -> str:
    """The event's aggregate in words, linked to its admin page when there is one."""
    label = f"{_SUBJECTS.get(event.aggregate_type, event.aggregate_type)} #{event.aggregate_id}"
    app_label, _, model = event.aggregate_type.partition(".")
    try:
        url = reverse(f"admin:{app_label}_{model}_change", args=[event.aggregate_id])
    except NoReverseMatch:
        return format_html("{}", label)
    return format_html('<a href="{}">{}</a>', url, label)


def _what(event: Event) -> str:
    payload, subject = event.payload or {}, _subject(event)
    if event.type == EventType.BOOKING_STATE_CHANGED:
        states = f"{payload.get('from', '?')} → {payload.get('to', '?')}".replace("_", " ")
        did = "undid the last change of" if payload.get("undo") else "moved"
        reason = f" because “{payload['reason']}”" if payload.get("reason") else ""
        return format_html("{} {} ({}){}", did, subject, states, reason)
    if event.type == EventType.BOOKING_PHOTOGRAPHER_ASSIGNED:
        if payload.get("to") is None:
            return format_html("took the photographer off {}", subject)
        return format_html("assigned photographer #{} to {}", payload["to"], subject)
    if isinstance(payload.get("changes"), dict):
        fields = ", ".join(sorted(payload["changes"])).replace("_", " ")
        return format_html("changed {} of {}", fields, subject)
    if isinstance(payload.get("fields"), list):
        return format_html("changed {} of {}", ", ".join(payload["fields"]).replace("_", " "), subject)
    if event.type == EventType.EMPLOYEE_ROLE_CHANGED:
        return format_html("changed the role of {} from {} to {}", subject, payload.get("from"), payload.get("to"))
    phrase = _PHRASES.get(event.type)
    if phrase is None:
        label = dict(EventType.choices).get(event.type, event.type)
        return format_html("{}: {}", label, subject)
    return format_html(phrase, subject=subject)


def event_line(event: Event) -> str:
    """One readable line: who did what to which booking, client, space or employee (linked)."""
    who = event.actor.full_name or event.actor.username if event.actor else "The system"
    return format_html("{} {}", who, _what(event))


@admin.register(Event)
class EventAdmin(_ReadOnlyAdmin):
    list_display = ("occurred_at", "line", "type", "dispatched_at")
    list_filter = ("type", "aggregate_type", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("aggregate_id", "actor__username", "type")
    date_hierarchy = "occurred_at"
    list_select_related = ("actor",)
    fields = (
        "type",
        "aggregate_type",
        "aggregate_id",
        "actor",
        "occurred_at",
        "dispatched_at",
        "dispatch_attempts",
        "relayed_at",
        "payload",
    )
    readonly_fields = fields
    inlines = [DeliveryInline]

    @admin.display(description="what happened")
    def line(self, event):
        return event_line(event)


@admin.action(description="Re-run the selected failed deliveries", permissions=["retry"])
def retry_selected(modeladmin, request, queryset):
    try:
        count = services.retry_deliveries(actor=request.user, delivery_ids=list(queryset.values_list("pk", flat=True)))
    except DomainError as exc:
        modeladmin.message_user(request, exc.message, messages.ERROR)
        return
    skipped = queryset.count() - count
    note = f" {skipped} were not failed and were left alone." if skipped else ""
    modeladmin.message_user(request, f"Queued {count} delivery(ies) again.{note}", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnlyAdmin):
    list_display = (
        "created_at",
        "event_link",
        "handler",
        "status",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "outcome",
        "response_status",
    )
    list_filter = ("status", "event__type", "endpoint")
    search_fields = ("handler", "event__aggregate_id", "outcome", "last_error")
    list_select_related = ("event", "endpoint")
    date_hierarchy = "created_at"
    actions = [retry_selected]
    fields = (
        "event",
        "handler",
        "endpoint",
        "status",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "claimed_at",
        "relayed_at",
        "finished_at",
        "outcome",
        "response_status",
        "last_error",
        "created_at",
    )
    readonly_fields = fields

    def has_retry_permission(self, request):
        return request.user.has_perm("events.retry_delivery")

    @admin.display(description="event", ordering="event__occurred_at")
    def event_link(self, delivery):
        url = reverse("admin:events_event_change", args=[delivery.event_id])
        return format_html('<a href="{}">{}</a>', url, delivery.event)


class WebhookEndpointForm(InputRulesMixin, forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="http(s) URL that receives the POSTs.")
    event_types = forms.MultipleChoiceField(choices=EventType.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "event_types", "is_active", "description")

    def clean_url(self):
        # The service checks it again when saving; checking here shows a refusal as a form error.
        url = self.cleaned_data["url"]
        try:
            services.check_endpoint_url(url, current_url=self.instance.url if self.instance.pk else None)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(RefusalsAsMessagesMixin, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "is_active", "subscribed", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    readonly_fields = ("secret", "created_at", "created_by", "updated_at", "updated_by")

    def get_fields(self, request, obj=None):
        fields = ["name", "url", "event_types", "is_active", "description"]
        return fields + list(self.readonly_fields) if obj else fields

    @admin.display(description="event types")
    def subscribed(self, endpoint):
        return ", ".join(endpoint.event_types)

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in WebhookEndpointForm.Meta.fields}
        if change:
            changed = {field: value for field, value in data.items() if field in form.changed_data}
            services.update_webhook_endpoint(actor=request.user, endpoint=obj, **changed)
        else:
            # The admin goes on with ``obj`` (log entry, redirect): make it the saved endpoint.
            vars(obj).update(vars(services.create_webhook_endpoint(actor=request.user, **data)))

    def delete_model(self, request, obj):
        services.delete_webhook_endpoint(actor=request.user, endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            services.delete_webhook_endpoint(actor=request.user, endpoint=endpoint)
