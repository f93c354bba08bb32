from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bookings import analytics


class Command(BaseCommand):
    help = (
        "PostgreSQL: refresh the reports' daily figures now (beat does it every "
        "ANALYTICS_REFRESH_INTERVAL seconds). Reports keep reading the old figures meanwhile."
    )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("Reports are counted live on this database; there is nothing to refresh.")
            return
        state = analytics.refresh()
        if state is None:
            raise CommandError("Another refresh is running right now; try again when it has finished.")
        self.stdout.write(
            f"Daily figures refreshed at {state.refreshed_at:%Y-%m-%d %H:%M:%S} UTC ({state.time_zone} days)."
        )
