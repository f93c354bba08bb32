from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from events.services import relay


class Command(BaseCommand):
    help = (
        "Send again events whose dispatch never happened (the broker was down when they were "
        "committed), deliveries whose retry was lost, and attempts abandoned by a dead worker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.EVENTS_RELAY_AFTER,
            metavar="SECONDS",
            help="Only what has waited at least this long (default EVENTS_RELAY_AFTER=%(default)s).",
        )
        parser.add_argument(
            "--resend",
            action="store_true",
            help="Also send again what the relay sent within EVENTS_DELIVERY_LEASE, which a broker "
            "restarted without its queue (Redis without persistence) has lost.",
        )

    def handle(self, *args, older_than, resend, **options):
        if not 0 <= older_than <= settings.DURATION_MAX_SECONDS:
            raise CommandError(
                f"--older-than must be between 0 and {settings.DURATION_MAX_SECONDS:,} seconds (ten years)."
            )
        # Everything waiting, not beat's batch: an operator runs this to catch up after an outage.
        report = relay(older_than=timedelta(seconds=older_than), limit=None, resend=resend)
        self.stdout.write(
            f"Relayed {report.events} event(s) and {report.deliveries} delivery(ies); "
            f"released {report.released} abandoned attempt(s), failed {report.abandoned}."
        )
        if report.broker_refused:
            raise CommandError("The broker refused some of them; they stay queued in the database for the next run.")
