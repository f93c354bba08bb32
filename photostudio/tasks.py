from celery import shared_task
from django.conf import settings
from django.core.management import call_command


@shared_task(name="photostudio.nightly_housekeeping")
def nightly_housekeeping() -> None:
    """Beat's nightly clean-up: expired records (never the event trail), browser sessions, tokens."""
    call_command("prune", older_than=settings.PRUNE_RETENTION_DAYS)
    call_command("clearsessions")
    call_command("flushexpiredtokens")
