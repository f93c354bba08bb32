import structlog
from django.db import models, transaction
from django.utils import timezone

from events.models import Event
from events.signals import event_committed

logger = structlog.get_logger(__name__)


def publish(event_type: str, aggregate: models.Model, *, payload: dict | None = None, actor=None) -> Event:
    """Record that ``event_type`` happened to ``aggregate`` in the caller's transaction.

    After commit, in-process subscribers get the ``event_committed`` signal and the Celery task
    ``events.dispatch_event`` is queued; a rolled-back transaction leaves no trace.
    """
    event = Event.objects.create(
        type=event_type,
        aggregate_type=aggregate._meta.label_lower,
        aggregate_id=str(aggregate.pk),
        payload=payload or {},
        actor=actor if actor is not None and actor.is_authenticated else None,
    )
    transaction.on_commit(lambda: announce(event.pk, event_type))
    return event


def announce(event_id: int, event_type: str) -> None:
    from events.tasks import dispatch_event

    event_committed.send(sender=Event, event_id=event_id, event_type=event_type)
    try:
        dispatch_event.delay(event_id)
    except Exception as exc:  # the broker may be down: the relay picks the event up later
        logger.warning("event_enqueue_failed", event_id=event_id, error=f"{type(exc).__name__}: {exc}")


def mark_dispatched(event_id: int) -> bool:
    """Claim the event for dispatch; False when it was already dispatched elsewhere."""
    return bool(Event.objects.filter(pk=event_id, dispatched_at__isnull=True).update(dispatched_at=timezone.now()))
