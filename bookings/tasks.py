"""Celery tasks of the bookings app; each calls one function and is safe to run twice."""

from celery import shared_task

from bookings import analytics


@shared_task(name="bookings.refresh_analytics")
def refresh_analytics() -> None:
    analytics.refresh()
