from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from events.partitions import create_partitions_ahead, is_partitioned


class Command(BaseCommand):
    help = (
        "PostgreSQL: create the monthly partitions of the event log from this month to N months "
        "ahead, so no insert ever waits on a missing partition. Running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months",
            type=int,
            default=settings.EVENTS_PARTITIONS_AHEAD,
            metavar="N",
            help="Months beyond the current one (default EVENTS_PARTITIONS_AHEAD=%(default)s).",
        )

    def handle(self, *args, months, **options):
        if not 0 <= months <= 120:
            raise CommandError("--months must be between 0 and 120")
        if not is_partitioned():
            self.stdout.write("The event log is a plain table on this database; nothing to partition.")
            return
        created = create_partitions_ahead(months=months, today=timezone.now().date())
        self.stdout.write(f"Created {len(created)} partition(s){': ' + ', '.join(created) if created else ''}.")
