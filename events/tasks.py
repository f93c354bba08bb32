from celery import shared_task

from events.services import mark_dispatched


@shared_task(name="events.dispatch_event")
def dispatch_event(event_id: int) -> None:
    mark_dispatched(event_id)
