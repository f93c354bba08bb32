from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from bookings.notifications import queue_booking_reminders


class Command(BaseCommand):
    help = (
        "Queue the reminder e-mail of every pending or confirmed session starting within "
        "NOTIFICATIONS_REMINDER_LEAD_MINUTES that has not had one yet: what beat does every "
        "NOTIFICATIONS_REMINDER_INTERVAL seconds, now. Running it twice sends nothing twice."
    )

    def handle(self, *args, **options):
        if "booking_reminder" not in settings.NOTIFICATIONS_ENABLED:
            self.stdout.write("Reminders are switched off (NOTIFICATIONS_ENABLED has no booking_reminder).")
            return
        queued = queue_booking_reminders(now=timezone.now())
        self.stdout.write(
            self.style.SUCCESS(
                f"Queued {queued} reminder(s) for sessions in the next "
                f"{settings.NOTIFICATIONS_REMINDER_LEAD_MINUTES} minutes."
            )
        )
