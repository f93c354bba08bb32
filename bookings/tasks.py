"""Celery tasks of bookings, run by beat."""

from celery import shared_task
from django.utils import timezone

from bookings import notifications


@shared_task(name="bookings.queue_booking_reminders")
def queue_booking_reminders() -> None:
    notifications.queue_booking_reminders(now=timezone.now())
