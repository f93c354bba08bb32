"""The booking e-mails' subscribers moved from events/subscribers.py to bookings/subscribers.py.

A delivery names its subscriber by module path, so the deliveries recorded under the old module
are renamed: pending ones keep running, and a booking's page keeps listing its past notifications.
"""

from django.db import migrations

SUBSCRIBERS = (
    "email_client_booking_created",
    "email_client_booking_confirmed_or_cancelled",
    "email_client_booking_rescheduled",
    "email_client_booking_reminder",
    "email_photographer_assigned",
)


def _rename(apps, *, old_module: str, new_module: str) -> None:
    Delivery = apps.get_model("events", "Delivery")
    for subscriber in SUBSCRIBERS:
        Delivery.objects.filter(handler=f"{old_module}.{subscriber}").update(handler=f"{new_module}.{subscriber}")


def to_bookings(apps, schema_editor):
    _rename(apps, old_module="events.subscribers", new_module="bookings.subscribers")


def back_to_events(apps, schema_editor):
    _rename(apps, old_module="bookings.subscribers", new_module="events.subscribers")


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0006_daily_figures_view"),
        ("events", "0003_event_partitioned_by_month"),
    ]

    operations = [migrations.RunPython(to_bookings, back_to_events)]
