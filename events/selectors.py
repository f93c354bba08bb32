from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
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


def _require(viewer, permission: str) -> None:
    if not viewer.has_perm(permission):
        raise PermissionDenied(f"You may not see this (needs {permission}).")


# The oldest start of a client's transaction that has written and is still open: its events,
# committed later, occurred after it (autovacuum and other server processes record none). Read in
# a statement of its own, before the events are: a transaction that commits between the two is
# then both gone from here and visible there. Without pg_read_all_stats a session sees the
# xact_start of its own role's sessions only: the app, its workers and beat connect as one role.
_OPEN_WRITES_STARTED = """
SELECT min(xact_start) FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' AND backend_xid IS NOT NULL
  AND pid <> pg_backend_pid()
"""


def events_listed_until() -> datetime:
    """The time up to which the event list is final: every event that occurred by then has been
    committed, so a poller that moves its ``occurred_after`` to the newest event it was shown
    misses none that commits later.

    ``EVENTS_LIST_SETTLE`` seconds before now, and on PostgreSQL also before the start of the
    oldest open transaction that has written (its events may still commit), though never more
    than ``EVENTS_LIST_MAX_WAIT`` seconds before now: a session left open in a transaction (a
    forgotten shell, a long refresh of the reports) must not freeze the list, so only an event
    committed later than that after it occurred can be missed. The margin covers the moment
    between an event taking its time and being inserted, and the clocks of the app's hosts.
    SQLite's transactions write one at a time, in the order they began.
    """
    now = timezone.now()
    settle = timedelta(seconds=settings.EVENTS_LIST_SETTLE)
    until = now - settle
    if connection.vendor != "postgresql":
        return until
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_WRITES_STARTED)
        (oldest_open,) = cursor.fetchone()
    if oldest_open is None:
        return until
    return max(min(until, oldest_open - settle), now - timedelta(seconds=settings.EVENTS_LIST_MAX_WAIT))


def events_for(*, viewer) -> QuerySet[Event]:
    """The event log, newest first, up to ``events_listed_until()``. Raises PermissionDenied
    without ``events.view_event``."""
    _require(viewer, "events.view_event")
    return Event.objects.select_related("actor").filter(occurred_at__lte=events_listed_until())


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
