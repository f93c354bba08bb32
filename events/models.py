from django.conf import settings
from django.db import models
from django.utils import timezone


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
    dispatch_attempts = models.PositiveIntegerField(default=0)

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
