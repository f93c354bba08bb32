from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from events.models import Delivery, Event, WebhookEndpoint
from photostudio.errors import NotFound, PermissionDenied


@dataclass(frozen=True)
class DispatchBacklog:
    count: int
    oldest_age_seconds: float


def dispatch_backlog() -> DispatchBacklog:
    """How many committed events wait for dispatch, and how long the oldest has waited."""
    summary = Event.objects.filter(dispatched_at__isnull=True).aggregate(count=Count("id"), oldest=Min("occurred_at"))
    oldest = summary["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return DispatchBacklog(count=summary["count"], oldest_age_seconds=round(max(age, 0.0), 1))


def delivery_backlog() -> dict[str, int]:
    """Unfinished and failed deliveries by status (every status present, zero when none)."""
    watched = (Delivery.Status.PENDING, Delivery.Status.RUNNING, Delivery.Status.FAILED)
    counts = dict.fromkeys(watched, 0)
    rows = Delivery.objects.filter(status__in=watched).values("status").annotate(count=Count("id")).order_by()
    counts.update({row["status"]: row["count"] for row in rows})
    return {str(status): count for status, count in counts.items()}


@dataclass(frozen=True)
class Notification:
    """One message the studio sends (or chose not to send) about something that happened."""

    kind: str  # booking_created, booking_confirmed, booking_cancelled, booking_rescheduled, ...
    channel: str  # how it goes out: "email"
    recipient: str  # "client" or "photographer"
    status: str  # a Delivery.Status: pending, running, succeeded, skipped, failed
    at: datetime  # when it was sent, skipped or given up; when the next attempt is due while pending
    not_sent_because: str  # why it was skipped or failed; empty otherwise
    event_type: str

    @property
    def sent(self) -> bool:
        return self.status == Delivery.Status.SUCCEEDED

    @property
    def kind_label(self) -> str:
        return _NOTIFICATION_LABELS.get(self.kind, self.kind)


_NOTIFICATION_LABELS = {
    "booking_created": "Booking received",
    "booking_confirmed": "Booking confirmed",
    "booking_cancelled": "Booking cancelled",
    "booking_rescheduled": "Booking moved",
    "booking_reminder": "Reminder",
    "photographer_assigned": "Session assigned",
}


def notifications_for(*, aggregate: models.Model) -> list[Notification]:
    """The notifications about ``aggregate`` (e.g. a booking), oldest first: one per delivery of a
    notification subscriber for one of its events. One query."""
    from events.subscribers import notification_about

    deliveries = (
        Delivery.objects.filter(
            event__aggregate_type=aggregate._meta.label_lower, event__aggregate_id=str(aggregate.pk)
        )
        .exclude(handler__startswith="webhook:")
        .select_related("event")
        .order_by("event__occurred_at", "event_id", "id")
    )
    found = []
    for delivery in deliveries:
        about = notification_about(delivery.handler, delivery.event)
        if about is None:
            continue
        finished = delivery.status in (Delivery.Status.SUCCEEDED, Delivery.Status.SKIPPED, Delivery.Status.FAILED)
        found.append(
            Notification(
                kind=about[0],
                channel="email",
                recipient=about[1],
                status=delivery.status,
                at=(delivery.finished_at or delivery.created_at) if finished else delivery.next_attempt_at,
                not_sent_because=_why_not_sent(delivery),
                event_type=delivery.event.type,
            )
        )
    return found


def _why_not_sent(delivery: Delivery) -> str:
    if delivery.status == Delivery.Status.SKIPPED:
        return delivery.outcome
    if delivery.status == Delivery.Status.FAILED:
        return delivery.last_error
    return ""


def _require(viewer, permission: str) -> None:
    if not viewer.has_perm(permission):
        raise PermissionDenied(f"You may not see this (needs {permission}).")


def events_for(*, viewer) -> QuerySet[Event]:
    """The event log, newest first. Raises PermissionDenied without ``events.view_event``."""
    _require(viewer, "events.view_event")
    return Event.objects.select_related("actor")


def event_detail(*, viewer, event_id: int) -> Event:
    """One event with its deliveries. Raises PermissionDenied, NotFound."""
    _require(viewer, "events.view_event")
    event = Event.objects.select_related("actor").prefetch_related("deliveries").filter(pk=event_id).first()
    if event is None:
        raise NotFound("No such event.")
    return event


def delivery_detail(*, viewer, delivery_id: int) -> Delivery:
    """One delivery (part of its event's record). Raises PermissionDenied, NotFound."""
    _require(viewer, "events.view_event")
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery


def webhook_endpoints(*, viewer) -> QuerySet[WebhookEndpoint]:
    _require(viewer, "events.view_webhookendpoint")
    return WebhookEndpoint.objects.all()


def webhook_endpoint(*, viewer, endpoint_id: int) -> WebhookEndpoint:
    """Raises PermissionDenied, NotFound."""
    endpoint = webhook_endpoints(viewer=viewer).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def endpoint_deliveries(*, viewer, endpoint_id: int) -> QuerySet[Delivery]:
    """The delivery log of one endpoint, newest first. Raises PermissionDenied, NotFound."""
    endpoint = webhook_endpoint(viewer=viewer, endpoint_id=endpoint_id)
    return endpoint.deliveries.select_related("event")


EVENT_EXPORT_COLUMNS = ("id", "type", "aggregate_type", "aggregate_id", "actor", "occurred_at", "payload")


def events_for_export(start: datetime | None, end: datetime | None) -> QuerySet:
    """Every event that occurred in ``[start, end)`` as rows of ``EVENT_EXPORT_COLUMNS``, oldest first."""
    events = Event.objects.all()
    if start is not None:
        events = events.filter(occurred_at__gte=start)
    if end is not None:
        events = events.filter(occurred_at__lt=end)
    return events.order_by("occurred_at", "id").values_list(
        "id", "type", "aggregate_type", "aggregate_id", "actor__username", "occurred_at", "payload"
    )
