"""PostgreSQL only: the materialized view of daily figures per space behind the reports
(``bookings/analytics.py``), built from the bookings already stored and refreshed from then on
by beat and ``manage.py refresh_analytics``. Its unique index on (day, space_id) lets it be
refreshed CONCURRENTLY. Reversing drops it; SQLite has no such view and counts live.
"""

from django.db import migrations

from bookings import analytics


def create_view(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        analytics.refresh()


def drop_view(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP MATERIALIZED VIEW IF EXISTS {analytics.VIEW}")


class Migration(migrations.Migration):
    dependencies = [("bookings", "0005_booking_holding_start_idx")]

    operations = [migrations.RunPython(create_view, drop_view)]
