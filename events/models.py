from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from photostudio.models import AuditedModel


class EventType(models.TextChoices):
    """The catalogue of things the studio records; webhook endpoints subscribe to these."""

    BOOKING_CREATED = "booking.created", "Booking created"
    BOOKING_STATE_CHANGED = "booking.state_changed", "Booking state changed"
    BOOKING_RESCHEDULED = "booking.rescheduled", "Booking rescheduled"
    BOOKING_PHOTOGRAPHER_ASSIGNED = "booking.photographer_assigned", "Photographer assigned to a booking"
    BOOKING_UPDATED = "booking.updated", "Booking updated (notes, people, price)"
    BOOKING_REMINDER_DUE = "booking.reminder_due", "Booking reminder due"
    BOOKING_SERIES_CREATED = "booking.series_created", "Recurring series booked"
    BOOKING_SERIES_CANCELLED = "booking.series_cancelled", "Recurring series cancelled (whole or from a date on)"
    BOOKING_SERIES_MOVED = "booking.series_moved", "Recurring series moved (whole or from a date on)"
    WAITLIST_ADDED = "waitlist.added", "Client put on the waitlist"
    WAITLIST_SLOT_OPENED = "waitlist.slot_opened", "Waitlisted slot freed (booking cancelled or moved, closure removed)"
    WAITLIST_BOOKED = "waitlist.booked", "Waitlisted client booked"
    WAITLIST_WITHDRAWN = "waitlist.withdrawn", "Waitlist entry withdrawn"
    WAITLIST_EXPIRED = "waitlist.expired", "Waitlist entry expired (its start passed)"
    CLIENT_CREATED = "client.created", "Client registered (by an import)"
    CLIENT_UPDATED = "client.updated", "Client updated"
    EMPLOYEE_CREATED = "employee.created", "Employee created"
    EMPLOYEE_UPDATED = "employee.updated", "Employee updated"
    EMPLOYEE_ROLE_CHANGED = "employee.role_changed", "Employee role changed"
    EMPLOYEE_DEACTIVATED = "employee.deactivated", "Employee deactivated"
    EMPLOYEE_LOGIN = "employee.login", "Employee logged in"
    EMPLOYEE_LOGIN_FAILED = "employee.login_failed", "Employee login failed"
    EMPLOYEE_LOCKED_OUT = "employee.locked_out", "Employee locked out"
    EMPLOYEE_UNLOCKED = "employee.unlocked", "Employee unlocked"
    EMPLOYEE_SIGNED_OUT = "employee.signed_out", "Employee signed out (sign-ins ended)"
    EMPLOYEE_PASSWORD_CHANGED = "employee.password_changed", "Employee changed password"
    EMPLOYEE_MFA_ENABLED = "employee.mfa_enabled", "Employee enabled MFA"
    EMPLOYEE_MFA_DISABLED = "employee.mfa_disabled", "Employee disabled MFA"
    EMPLOYEE_MFA_RESET = "employee.mfa_reset", "Employee's MFA reset by a manager"
    EMPLOYEE_BACKUP_CODES_REGENERATED = "employee.backup_codes_regenerated", "Employee regenerated backup codes"
    EMPLOYEE_CALENDAR_FEED_REGENERATED = (
        "employee.calendar_feed_regenerated",
        "Employee's calendar feed URL replaced (the old one stopped working)",
    )
    EMPLOYEE_TOKEN_REUSE_DETECTED = "employee.token_reuse_detected", "Refresh token reused (sign-in ended)"
    SPACE_CREATED = "space.created", "Space created"
    SPACE_UPDATED = "space.updated", "Space updated (rates, hours, buffer, active)"
    CLOSURE_CREATED = "closure.created", "Closure recorded (a space or the whole studio closed)"
    CLOSURE_DELETED = "closure.deleted", "Closure removed"


class Event(models.Model):
    """One thing that happened in the studio: the audit trail and the transactional outbox at once.

    Written in the same transaction as the change it records; ``dispatched_at`` is set once the
    event has been handed to its subscribers.
    """

    type = models.CharField(max_length=100, db_index=True)
    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_attempts = models.PositiveIntegerField(
        default=0, help_text="How many times the relay re-sent the event because its dispatch had not happened."
    )
    relayed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the relay last re-sent it; not again before EVENTS_DELIVERY_LEASE."
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["aggregate_type", "aggregate_id", "occurred_at"], name="event_aggregate_idx"),
            models.Index(
                fields=["occurred_at"], condition=models.Q(dispatched_at__isnull=True), name="event_undispatched_idx"
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.aggregate_type}#{self.aggregate_id}"


class WebhookEndpoint(AuditedModel):
    """An integrator's URL that receives a signed JSON POST for every event of the chosen types."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500, help_text="http(s) URL that receives the POSTs.")
    secret = models.CharField(
        max_length=128, help_text="Shared secret of the X-Studio-Signature HMAC-SHA256; give it to the integrator."
    )
    event_types = models.JSONField(default=list, help_text="Event types this endpoint receives.")
    is_active = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        # The URL's target is checked by events.services.check_endpoint_url, and only when it is new:
        # an endpoint added while private targets were allowed must stay editable once they are not.
        if not isinstance(self.event_types, list) or not self.event_types:
            raise ValidationError({"event_types": "Choose at least one event type."})
        unknown = sorted({str(value) for value in self.event_types} - set(EventType.values))
        if unknown:
            raise ValidationError({"event_types": f"Unknown event types: {', '.join(unknown)}."})
        self.event_types = sorted(set(self.event_types))

    @property
    def handler_name(self) -> str:
        return f"webhook:{self.pk}"

    def receives(self, event_type: str) -> bool:
        return self.is_active and event_type in self.event_types


class Delivery(models.Model):
    """The work one handler (a subscriber or a webhook endpoint) owes one event.

    Created when the event is dispatched, claimed by exactly one worker per attempt, retried with
    backoff until it succeeds, is skipped, or runs out of attempts; a succeeded delivery never
    runs again, which makes every handler idempotent per event.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    # No database constraint: a partitioned events_event has no unique key on id alone (events/partitions.py).
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False)
    handler = models.CharField(max_length=200, help_text="Subscriber name, or webhook:<endpoint id>.")
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField()
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    relayed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the relay last re-sent its attempt; that attempt not again before EVENTS_DELIVERY_LEASE.",
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True, help_text="What the handler did, e.g. whom it e-mailed.")
    last_error = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Webhooks: HTTP status.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="delivery_once_per_handler")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="delivery_due_idx",
            ),
            models.Index(fields=["status", "claimed_at"], name="delivery_status_idx"),
        ]
        permissions = [("retry_delivery", "Can re-run failed deliveries")]

    def __str__(self):
        return f"{self.handler} for event #{self.event_id}"

    @property
    def is_webhook(self) -> bool:
        return self.handler.startswith("webhook:")
