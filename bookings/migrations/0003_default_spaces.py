"""The spaces a fresh install offers, so the guide's examples (space_type "studio_a") work as written.

Studios rename, re-price or deactivate them in the admin. Reversing removes only those of them
that were never booked.
"""

from django.db import migrations

EVERY_DAY = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ["08:00", "22:00"])
DEFAULT_SPACES = [
    {"slug": "studio_a", "name": "Studio A", "capacity": 10, "hourly_rate": "80.00", "buffer_minutes": 15},
    {"slug": "studio_b", "name": "Studio B", "capacity": 6, "hourly_rate": "60.00", "buffer_minutes": 15},
    {"slug": "makeup_room", "name": "Make-up room", "capacity": 3, "hourly_rate": "25.00", "buffer_minutes": 10},
]


def create_spaces(apps, schema_editor):
    Space = apps.get_model("bookings", "Space")
    for space in DEFAULT_SPACES:
        Space.objects.get_or_create(slug=space["slug"], defaults={**space, "opening_hours": EVERY_DAY})


def remove_unbooked_spaces(apps, schema_editor):
    Space = apps.get_model("bookings", "Space")
    Space.objects.filter(slug__in=[space["slug"] for space in DEFAULT_SPACES], bookings__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_booking_space_no_overlap")]

    operations = [migrations.RunPython(create_spaces, remove_unbooked_spaces)]
