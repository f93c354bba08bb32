from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django.utils import timezone

from photostudio.retention import prunables


class Command(BaseCommand):
    help = (
        "Delete what the studio keeps only for a while, older than --older-than days (default "
        "PRUNE_RETENTION_DAYS): succeeded and skipped deliveries, ended sign-ins, sign-in logs, idempotency keys, "
        "expired API refresh tokens. The event trail (the audit history) is kept unless --events is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.PRUNE_RETENTION_DAYS,
            metavar="DAYS",
            help="Keep the last DAYS days (default PRUNE_RETENTION_DAYS=%(default)s).",
        )
        parser.add_argument(
            "--events", action="store_true", help="Also delete events (the audit trail) older than that."
        )

    def handle(self, *args, older_than, events, **options):
        if not 1 <= older_than <= settings.PRUNE_RETENTION_MAX_DAYS:
            raise CommandError(
                f"--older-than must be at least 1 day and at most {settings.PRUNE_RETENTION_MAX_DAYS:,} (a century)."
            )
        cutoff = timezone.now() - timedelta(days=older_than)
        for prunable in prunables(audit_trail=events):
            try:
                with transaction.atomic():
                    deleted = prunable.prune(cutoff)
            except DatabaseError as exc:
                raise CommandError(
                    f"Could not prune {prunable.name}: {exc}. What is listed above was pruned; run it again."
                ) from exc
            self.stdout.write(f"{prunable.name}: {deleted} deleted")
        kept = "" if events else " The event trail was kept (--events prunes it too)."
        self.stdout.write(self.style.SUCCESS(f"Pruned what ended before {cutoff:%Y-%m-%d %H:%M} UTC.{kept}"))
