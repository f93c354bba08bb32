"""Celery tasks of the bookings app, run by beat; each calls one function and is safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from bookings import analytics, day_lists, notifications, services
from photostudio.cache import cache


@shared_task(name="bookings.warm_day_lists")
def warm_day_lists() -> None:
    """Beat keeps today's and tomorrow's day lists cached, so the front desk's first look is fast."""
    with cache.lock("bookings.warm_day_lists", timeout=0) as acquired:
        if not acquired:
            return
        today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
        day_lists.warm_day_lists(days=[today, today + timedelta(days=1)])


@shared_task(name="bookings.refresh_analytics")
def refresh_analytics() -> None:
    analytics.refresh()


@shared_task(name="bookings.queue_booking_reminders")
def queue_booking_reminders() -> None:
    # One worker at a time: two would both find the same reminders due.
    with cache.lock("bookings.queue_booking_reminders") as acquired:
        if acquired:
            notifications.queue_booking_reminders(now=timezone.now())


@shared_task(name="bookings.expire_waitlist")
def expire_waitlist() -> None:
    """Waiting entries whose start has come are expired (the service locks the rows it changes)."""
    services.expire_waitlist(now=timezone.now())
