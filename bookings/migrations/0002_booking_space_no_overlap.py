"""PostgreSQL only: the database refuses two holding bookings of one space that overlap.

A booking holds ``[start, blocks_until)`` of its space while pending, confirmed or in progress.
SQLite has no exclusion constraints; there the booking service serialises check and insert.
The constraint is not in Booking.Meta because Django would then validate it on SQLite too.
Reversing drops the constraint but keeps the btree_gist extension, which other objects may use.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """
    ALTER TABLE bookings_booking ADD CONSTRAINT booking_space_no_overlap EXCLUDE USING gist (
        space_id WITH =,
        tstzrange("start", "blocks_until", '[)') WITH &&
    ) WHERE (state IN ('pending', 'confirmed', 'in_progress'))
    """,
]
DROP = ["ALTER TABLE bookings_booking DROP CONSTRAINT booking_space_no_overlap"]


def on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
