"""Celery tasks of the event pipeline. Each takes an id and calls one service; all are idempotent."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from events import partitions, services
from photostudio.cache import cache


@shared_task(name="events.dispatch_event")
def dispatch_event(event_id: int) -> None:
    services.dispatch(event_id=event_id)


@shared_task(name="events.run_delivery")
def run_delivery(delivery_id: int) -> None:
    services.run_delivery(delivery_id=delivery_id)


@shared_task(name="events.relay")
def relay() -> None:
    # One relay at a time across workers: two would only race for the same rows.
    with cache.lock("events.relay", timeout=0) as acquired:
        if acquired:
            services.relay(older_than=timedelta(seconds=settings.EVENTS_RELAY_AFTER))


@shared_task(name="events.create_partitions")
def create_partitions() -> None:
    partitions.create_partitions_ahead(months=settings.EVENTS_PARTITIONS_AHEAD, today=timezone.now().date())


services.use_tasks(dispatch_event=dispatch_event, run_delivery=run_delivery)
