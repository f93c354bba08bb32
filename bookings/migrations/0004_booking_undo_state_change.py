"""Bookings remember their last state change so it can be undone; existing bookings take it from
their latest ``booking.state_changed`` event."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

# PostgreSQL: one pass over the state changes (the latest per booking), however many bookings and
# monthly event partitions there are.
LATEST_STATE_CHANGES = """
UPDATE bookings_booking AS booking
SET previous_state = COALESCE(latest.payload ->> 'from', ''),
    state_changed_at = latest.occurred_at,
    state_changed_by_id = latest.actor_id
FROM (
    SELECT DISTINCT ON (aggregate_id) aggregate_id, payload, occurred_at, actor_id
    FROM events_event
    WHERE type = 'booking.state_changed' AND aggregate_type = 'bookings.booking'
    ORDER BY aggregate_id, occurred_at DESC, id DESC
) AS latest
WHERE booking.id::text = latest.aggregate_id
"""


def remember_last_state_change(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LATEST_STATE_CHANGES)
        return
    Booking = apps.get_model("bookings", "Booking")
    Event = apps.get_model("events", "Event")
    latest = Event.objects.filter(
        type="booking.state_changed",
        aggregate_type="bookings.booking",
        aggregate_id=Cast(OuterRef("pk"), output_field=models.CharField()),
    ).order_by("-occurred_at", "-id")
    Booking.objects.filter(Exists(latest)).update(
        previous_state=Coalesce(Subquery(latest.annotate(source=KT("payload__from")).values("source")[:1]), Value("")),
        state_changed_at=Subquery(latest.values("occurred_at")[:1]),
        state_changed_by_id=Subquery(latest.values("actor_id")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0003_default_spaces"),
        ("events", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="booking",
            options={
                "ordering": ["start", "id"],
                "permissions": [
                    ("confirm_booking", "Can confirm bookings"),
                    ("cancel_booking", "Can cancel bookings"),
                    ("start_booking", "Can start booked sessions"),
                    ("complete_booking", "Can complete booked sessions"),
                    ("mark_no_show_booking", "Can mark bookings as no-show"),
                    ("override_booking_price", "Can set a booking's price by hand"),
                    ("undo_booking_state_change", "Can undo any booking's last state change, at any time"),
                    ("view_reports", "Can view reports"),
                ],
            },
        ),
        migrations.AddField(
            model_name="booking",
            name="previous_state",
            field=models.CharField(
                blank=True,
                default="",
                db_default="",
                choices=[
                    ("pending", "Pending"),
                    ("confirmed", "Confirmed"),
                    ("in_progress", "In progress"),
                    ("completed", "Completed"),
                    ("cancelled", "Cancelled"),
                    ("no_show", "No-show"),
                ],
                editable=False,
                help_text="The state before the last state change, which an undo returns to; empty before any change.",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="booking",
            name="state_changed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="booking",
            name="state_changed_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                help_text="Who made the last state change: they may undo it for BOOKING_UNDO_MINUTES.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(remember_last_state_change, migrations.RunPython.noop),
    ]
