"""Commands of the event pipeline: publish, dispatch, run one delivery, relay, retry, and the
management of webhook endpoints.

The flow: ``publish`` writes the Event in the caller's transaction; after commit ``announce``
sends the in-process signal and queues ``dispatch``; ``dispatch`` claims the event once and
creates one Delivery per subscriber and per subscribed webhook endpoint; ``run_delivery`` claims
one attempt of one delivery with a conditional UPDATE (so two workers never run the same one),
runs it, and either finishes it or schedules the next attempt with exponential backoff. The
``relay`` sends again whatever a dead broker or a dead worker left behind.
"""

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from events import metrics, partitions, webhooks
from events.models import Delivery, Event, EventType, WebhookEndpoint
from events.registry import Skipped, handler_named, handlers_for
from events.signals import event_committed, event_recorded
from events.targets import check_target
from photostudio.errors import DeliveryNotFailed, NotFound, PermissionDenied

logger = structlog.get_logger(__name__)

_ERROR_LIMIT = 2000
_WEBHOOK_FIELDS = frozenset({"name", "url", "event_types", "is_active", "description"})
# What publish() accepts: a type missing from EventType could never reach a webhook endpoint.
PUBLISHABLE_TYPES = frozenset(EventType.values)


class UnknownEventType(ValueError):
    """publish() was given a type that is not in ``EventType``: a programming error, never user input."""


# The Celery tasks that run a dispatch and a delivery. events/tasks.py hands them over when it is
# imported (events' AppConfig.ready imports it): tasks call services, services never import tasks.
_tasks = {}


def use_tasks(*, dispatch_event, run_delivery) -> None:
    """Queue dispatches through ``dispatch_event(event_id)`` and deliveries through ``run_delivery(delivery_id)``."""
    _tasks.update(dispatch_event=dispatch_event, run_delivery=run_delivery)


def publish(event_type: str, aggregate: models.Model, *, payload: dict | None = None, actor=None) -> Event:
    """Record that ``event_type`` happened to ``aggregate`` in the caller's transaction.

    After commit, in-process subscribers get the ``event_committed`` signal and the Celery task
    ``events.dispatch_event`` is queued; a rolled-back transaction leaves no trace.

    Raises UnknownEventType when ``event_type`` is not in ``EventType``.
    """
    event = _new_event(event_type, aggregate, payload=payload, actor=actor)
    event.save(force_insert=True)
    _recorded(event, aggregate)
    return event


def publish_each(event_type: str, aggregates: Sequence[models.Model], *, payload: dict | None = None, actor=None):
    """``publish`` for each of ``aggregates`` in one INSERT however many they are: the same events
    in the same order (ids ascending as ``aggregates`` go), each announced after commit.

    Raises UnknownEventType when ``event_type`` is not in ``EventType``.
    """
    events = [_new_event(event_type, aggregate, payload=payload, actor=actor) for aggregate in aggregates]
    Event.objects.bulk_create(events)
    for event, aggregate in zip(events, aggregates, strict=True):
        _recorded(event, aggregate)
    return events


def _new_event(event_type: str, aggregate: models.Model, *, payload: dict | None, actor) -> Event:
    if event_type not in PUBLISHABLE_TYPES:
        raise UnknownEventType(f"{event_type!r} is not in events.models.EventType; add it there first.")
    return Event(
        type=event_type,
        aggregate_type=aggregate._meta.label_lower,
        aggregate_id=str(aggregate.pk),
        payload=payload or {},
        actor=actor if actor is not None and actor.is_authenticated else None,
    )


def _recorded(event: Event, aggregate: models.Model) -> None:
    event_recorded.send(sender=Event, event=event, aggregate=aggregate)
    transaction.on_commit(lambda: announce(event.pk, event.type))


def announce(event_id: int, event_type: str) -> None:
    metrics.record(lambda: metrics.published.labels(event_type).inc())
    # A failing in-process receiver must neither stop the dispatch nor fail the committed request.
    for receiver, outcome in event_committed.send_robust(sender=Event, event_id=event_id, event_type=event_type):
        if isinstance(outcome, Exception):
            logger.error(
                "event_receiver_failed",
                receiver=getattr(receiver, "__qualname__", repr(receiver)),
                event_id=event_id,
                error=f"{type(outcome).__name__}: {outcome}",
            )
    _enqueue(_tasks["dispatch_event"], event_id)


def _enqueue(task, object_id: int, *, countdown: float | None = None) -> bool:
    """Queue ``task(object_id)``; False when the broker refused (the relay sends it later)."""
    try:
        # The arguments' log forms are given, as Celery's saferepr would write them: working them
        # out was a quarter of the CPU of a publish.
        task.apply_async((object_id,), countdown=countdown, argsrepr=f"({object_id},)", kwargsrepr="{}")
    except Exception as exc:  # the broker may be down: nothing is lost, the row is still there
        logger.warning("task_enqueue_failed", task=task.name, id=object_id, error=f"{type(exc).__name__}: {exc}")
        return False
    return True


def _start_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        if not _enqueue(_tasks["run_delivery"], delivery_id):
            return


def dispatch(*, event_id: int) -> int:
    """Hand the event to its handlers, once: create and queue its deliveries.

    Returns how many deliveries were created; 0 when the event was dispatched before (a second
    message for it, or the relay racing the original) or does not exist.
    """
    now = timezone.now()
    with transaction.atomic():
        if not Event.objects.filter(pk=event_id, dispatched_at__isnull=True).update(dispatched_at=now):
            return 0
        event = Event.objects.get(pk=event_id)
        deliveries = [
            Delivery(event=event, handler=name, max_attempts=settings.EVENTS_HANDLER_MAX_ATTEMPTS, next_attempt_at=now)
            for name in handlers_for(event.type)
        ]
        deliveries += [
            Delivery(
                event=event,
                handler=endpoint.handler_name,
                endpoint=endpoint,
                max_attempts=settings.WEBHOOKS_MAX_ATTEMPTS,
                next_attempt_at=now,
            )
            for endpoint in WebhookEndpoint.objects.filter(is_active=True)
            if endpoint.receives(event.type)
        ]
        delivery_ids = [delivery.pk for delivery in Delivery.objects.bulk_create(deliveries)]

        def start():
            metrics.record(lambda: metrics.dispatched.labels(event.type).inc())
            _start_deliveries(delivery_ids)

        transaction.on_commit(start)
    return len(delivery_ids)


class _LostClaim(Exception):
    """The attempt outlived its lease and the relay gave the delivery to another worker."""


def _backoff(attempts: int) -> timedelta:
    seconds = settings.EVENTS_RETRY_BASE_DELAY * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, settings.EVENTS_RETRY_MAX_DELAY))


def _settle(delivery: Delivery, **changes) -> bool:
    """Write the result of the attempt this worker claimed; False when the claim was lost."""
    return bool(
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.RUNNING, attempts=delivery.attempts).update(
            **changes
        )
    )


def run_delivery(*, delivery_id: int) -> str | None:
    """Run one attempt of a delivery that is due, unless another worker has claimed it.

    Returns the status the delivery ended in, or None when there was nothing to run. Subscriber
    handlers run in a transaction with the success mark, so the database effects of a failed
    attempt are rolled back and those of the succeeding one happen exactly once.
    """
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now).update(
        status=Delivery.Status.RUNNING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    kind = _metrics_handler_label(delivery)
    started = time.perf_counter()
    try:
        if delivery.is_webhook:
            result = _send_webhook(delivery)
            if not _settle(
                delivery,
                status=Delivery.Status.SUCCEEDED,
                finished_at=timezone.now(),
                outcome=result.outcome,
                response_status=result.response_status,
                last_error="",
            ):
                raise _LostClaim
        else:
            with transaction.atomic():
                outcome = _run_handler(delivery)
                if not _settle(
                    delivery,
                    status=Delivery.Status.SUCCEEDED,
                    finished_at=timezone.now(),
                    outcome=(outcome or "")[:500],
                    last_error="",
                ):
                    raise _LostClaim
        return Delivery.Status.SUCCEEDED
    except _LostClaim:
        logger.warning("delivery_claim_lost", delivery_id=delivery.pk, handler=delivery.handler)
        return None
    except Skipped as reason:
        _settle(delivery, status=Delivery.Status.SKIPPED, finished_at=timezone.now(), outcome=str(reason)[:500])
        return Delivery.Status.SKIPPED
    except Exception as exc:  # any handler failure is recorded and retried, never lost
        return _record_failure(delivery, kind, exc)
    finally:
        elapsed = time.perf_counter() - started
        metrics.record(lambda: metrics.handler_latency.labels(kind).observe(elapsed))


def _run_handler(delivery: Delivery) -> str | None:
    handler = handler_named(delivery.event.type, delivery.handler)
    if handler is None:
        # Another release of the code may know it (workers are being upgraded): retry later.
        raise LookupError(f"no handler named {delivery.handler} subscribes to {delivery.event.type}")
    return handler(delivery.event)


def _send_webhook(delivery: Delivery) -> webhooks.WebhookResult:
    endpoint = delivery.endpoint
    if endpoint is None:
        raise Skipped("The endpoint was deleted.")
    if not endpoint.is_active:
        raise Skipped("The endpoint is disabled.")
    if delivery.event.type not in endpoint.event_types:
        raise Skipped("The endpoint no longer subscribes to this event type.")
    return webhooks.send(endpoint, delivery.event)


def _record_failure(delivery: Delivery, kind: str, exc: Exception) -> str | None:
    # PostgreSQL refuses NUL in text: a receiver's binary answer must not keep its error unwritable.
    error = f"{type(exc).__name__}: {exc}"[:_ERROR_LIMIT].replace("\x00", "\ufffd")
    response_status = getattr(exc, "response_status", None)
    event_type = delivery.event.type
    metrics.record(lambda: metrics.handler_errors.labels(event_type, kind).inc())
    if delivery.attempts >= delivery.max_attempts:
        if not _settle(
            delivery,
            status=Delivery.Status.FAILED,
            finished_at=timezone.now(),
            last_error=error,
            response_status=response_status,
        ):
            return None
        _count_failed(delivery, error)
        return Delivery.Status.FAILED
    delay = _backoff(delivery.attempts)
    if not _settle(
        delivery,
        status=Delivery.Status.PENDING,
        next_attempt_at=timezone.now() + delay,
        last_error=error,
        response_status=response_status,
    ):
        return None
    logger.warning(
        "delivery_attempt_failed", delivery_id=delivery.pk, handler=delivery.handler, attempt=delivery.attempts
    )
    # Under eager Celery the countdown is ignored and this early run finds the delivery not yet
    # due; the relay runs it once it is.
    _enqueue(_tasks["run_delivery"], delivery.pk, countdown=delay.total_seconds())
    return Delivery.Status.PENDING


def _count_failed(delivery: Delivery, error: str) -> None:
    """What operators alert on: ``studio_events_failed_total`` and the ``delivery_failed`` log line."""
    event_type, kind = delivery.event.type, _metrics_handler_label(delivery)
    metrics.record(lambda: metrics.failed.labels(event_type, kind).inc())
    logger.error("delivery_failed", delivery_id=delivery.pk, handler=delivery.handler, error=error)


def _metrics_handler_label(delivery: Delivery) -> str:
    """The metrics' ``handler`` label: one for all webhook endpoints, else the subscriber's name."""
    return "webhook" if delivery.is_webhook else delivery.handler


@dataclass(frozen=True)
class RelayReport:
    events: int
    deliveries: int
    released: int
    abandoned: int
    broker_refused: bool


def relay(*, older_than: timedelta, limit: int | None = 500, resend: bool = False) -> RelayReport:
    """Send again what should be running but is not: nothing is lost while a row exists.

    - events committed at least ``older_than`` ago and never dispatched (the broker was down
      when they were committed, or the dispatching worker died);
    - deliveries due for at least ``older_than`` (their queued retry was lost);
    - attempts that have been running longer than ``EVENTS_DELIVERY_LEASE`` (the worker died):
      released for another attempt, or failed when they had none left.

    What the relay sent is not sent again for ``EVENTS_DELIVERY_LEASE``: while the workers are
    slow its message still waits in the queue, and one more a run would only pile up behind it.
    A delivery whose next attempt was scheduled since is due again at once. With ``resend``, what
    it sent within the lease is sent again all the same (the broker lost its queue).

    At most ``limit`` events and ``limit`` deliveries a run (None: all of them). Stops queueing at
    the first refusal of the broker and says so in the report.
    """
    now = timezone.now()
    cutoff = now - older_than
    lease_start = now - timedelta(seconds=settings.EVENTS_DELIVERY_LEASE)
    relayed_before = now if resend else lease_start
    stale = Delivery.objects.filter(status=Delivery.Status.RUNNING, claimed_at__lt=lease_start)
    abandoned = _fail_abandoned(stale.filter(attempts__gte=F("max_attempts")).select_related("event"), now=now)
    released = stale.update(
        status=Delivery.Status.PENDING,
        next_attempt_at=F("claimed_at"),
        last_error="The worker stopped during the attempt; released for another one.",
    )

    event_ids = list(
        Event.objects.filter(dispatched_at__isnull=True, occurred_at__lte=cutoff)
        .filter(Q(relayed_at__isnull=True) | Q(relayed_at__lte=relayed_before))
        .order_by("occurred_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent_events = _enqueue_all(_tasks["dispatch_event"], event_ids)
    _mark_relayed(Event.objects, event_ids[:sent_events], now=now, dispatch_attempts=F("dispatch_attempts") + 1)

    delivery_ids = []
    if sent_events == len(event_ids):
        delivery_ids = list(
            Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=cutoff)
            .filter(
                Q(relayed_at__isnull=True) | Q(relayed_at__lt=F("next_attempt_at")) | Q(relayed_at__lte=relayed_before)
            )
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
    sent_deliveries = _enqueue_all(_tasks["run_delivery"], delivery_ids)
    _mark_relayed(Delivery.objects, delivery_ids[:sent_deliveries], now=now)
    report = RelayReport(
        events=sent_events,
        deliveries=sent_deliveries,
        released=released,
        abandoned=abandoned,
        broker_refused=sent_events < len(event_ids) or sent_deliveries < len(delivery_ids),
    )
    if any(asdict(report).values()):
        logger.info("events_relayed", **asdict(report))
    return report


def _mark_relayed(rows: models.Manager, ids: list[int], *, now: datetime, **changes) -> None:
    # In batches: SQLite, and PostgreSQL with server-side binding, cap a query's parameters.
    for start in range(0, len(ids), 500):
        rows.filter(pk__in=ids[start : start + 500]).update(relayed_at=now, **changes)


def _fail_abandoned(deliveries, *, now: datetime) -> int:
    """Fail the last attempts whose worker stopped, counted and logged like any delivery out of attempts."""
    failed = 0
    for delivery in deliveries:
        error = "The worker stopped during the last attempt."
        if _settle(delivery, status=Delivery.Status.FAILED, finished_at=now, last_error=error):
            failed += 1
            _count_failed(delivery, error)
    return failed


def _enqueue_all(task, object_ids: list[int]) -> int:
    sent = 0
    for object_id in object_ids:
        if not _enqueue(task, object_id):
            break
        sent += 1
    return sent


def _require(actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(f"You may not do this (needs {permission}).")


def retry_deliveries(*, actor, delivery_ids: list[int]) -> int:
    """Give failed deliveries a fresh set of attempts and queue them now; returns how many."""
    _require(actor, "events.retry_delivery")
    now = timezone.now()
    with transaction.atomic():
        retried = list(
            Delivery.objects.select_for_update()
            .filter(pk__in=delivery_ids, status=Delivery.Status.FAILED)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=retried).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=now, finished_at=None
        )
        transaction.on_commit(lambda: _start_deliveries(retried))
    logger.info("deliveries_retried", actor_id=actor.pk, delivery_ids=retried)
    return len(retried)


def retry_delivery(*, actor, delivery: Delivery) -> Delivery:
    """Re-run one failed delivery. Raises PermissionDenied, DeliveryNotFailed."""
    if not retry_deliveries(actor=actor, delivery_ids=[delivery.pk]):
        raise DeliveryNotFailed(f"This delivery is {delivery.status}, not failed.")
    delivery.refresh_from_db()
    return delivery


def check_endpoint_url(url: str, *, current_url: str | None) -> None:
    """Refuse (ValidationError on ``url``) a new URL that is not http(s) to a public host, its name
    resolved. An unchanged URL is left to each delivery's check, so an endpoint whose name now
    resolves somewhere refused, or that was added while private targets were allowed, can still be
    switched off or renamed."""
    if url != current_url:
        check_target(url, resolve=True)


def _validate_endpoint(endpoint: WebhookEndpoint, *, current_url: str | None) -> None:
    endpoint.full_clean()
    check_endpoint_url(endpoint.url, current_url=current_url)


@transaction.atomic
def create_webhook_endpoint(
    *,
    actor,
    name: str,
    url: str,
    event_types: list[str],
    is_active: bool = True,
    description: str = "",
) -> WebhookEndpoint:
    """Add an endpoint with a newly generated secret. Raises ValidationError, PermissionDenied."""
    _require(actor, "events.add_webhookendpoint")
    endpoint = WebhookEndpoint(
        name=name,
        url=url,
        event_types=event_types,
        is_active=is_active,
        description=description,
        secret=webhooks.new_secret(),
        created_by=actor,
        updated_by=actor,
    )
    _validate_endpoint(endpoint, current_url=None)
    endpoint.save()
    logger.info("webhook_endpoint_created", endpoint_id=endpoint.pk, actor_id=actor.pk, url=endpoint.url)
    return endpoint


@transaction.atomic
def update_webhook_endpoint(*, actor, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change name, url, event_types, is_active or description. Raises ValidationError, PermissionDenied,
    NotFound when it was removed meanwhile."""
    _require(actor, "events.change_webhookendpoint")
    unknown = set(changes) - _WEBHOOK_FIELDS
    if unknown:
        raise TypeError(f"update_webhook_endpoint() cannot change {', '.join(sorted(unknown))}")
    endpoint = _locked_endpoint(endpoint)
    current_url = endpoint.url
    for field, value in changes.items():
        setattr(endpoint, field, value)
    endpoint.updated_by = actor
    _validate_endpoint(endpoint, current_url=current_url)
    endpoint.save(update_fields=[*changes, "updated_by", "updated_at"])
    logger.info("webhook_endpoint_changed", endpoint_id=endpoint.pk, actor_id=actor.pk, fields=sorted(changes))
    return endpoint


@transaction.atomic
def rotate_webhook_secret(*, actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Replace the endpoint's secret with a new random one; later deliveries are signed with it.
    Raises PermissionDenied, NotFound when it was removed meanwhile."""
    _require(actor, "events.change_webhookendpoint")
    endpoint = _locked_endpoint(endpoint)
    endpoint.secret = webhooks.new_secret()
    endpoint.updated_by = actor
    endpoint.save(update_fields=["secret", "updated_by", "updated_at"])
    logger.info("webhook_secret_rotated", endpoint_id=endpoint.pk, actor_id=actor.pk)
    return endpoint


def _locked_endpoint(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """``endpoint`` read again under a row lock, or NotFound when another caller removed it since."""
    locked = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if locked is None:
        raise NotFound("This webhook endpoint was removed meanwhile.")
    return locked


@transaction.atomic
def delete_webhook_endpoint(*, actor, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint; its delivery log stays, and its pending deliveries are skipped."""
    _require(actor, "events.delete_webhookendpoint")
    logger.info("webhook_endpoint_deleted", endpoint_id=endpoint.pk, actor_id=actor.pk, url=endpoint.url)
    endpoint.delete()


def prune_deliveries(cutoff: datetime) -> int:
    """Delete deliveries that succeeded or were skipped before ``cutoff``; failed and unfinished
    ones stay for staff."""
    done = (Delivery.Status.SUCCEEDED, Delivery.Status.SKIPPED)
    deleted, _ = Delivery.objects.filter(status__in=done, finished_at__lt=cutoff).delete()
    return deleted


def prune_events(cutoff: datetime) -> int:
    """Delete the event trail from before ``cutoff`` with its deliveries; events still waiting for
    dispatch stay, so the outbox never loses work. Where the table is partitioned, whole months
    before the cutoff are dropped with their partition, and only the rest is deleted row by row."""
    dropped = partitions.drop_months_before(cutoff)
    old = Event.objects.filter(occurred_at__lt=cutoff, dispatched_at__isnull=False)
    Delivery.objects.filter(event__in=old).delete()
    _, deleted = old.delete()
    return dropped + deleted.get(Event._meta.label, 0)
