"""The account notices' subscriber moved from events/subscribers.py to employees/subscribers.py.

A delivery names its subscriber by module path, so the deliveries recorded under the old module
are renamed and pending ones keep running.
"""

from django.db import migrations

OLD_NAME = "events.subscribers.email_employee_account_changed"
NEW_NAME = "employees.subscribers.email_employee_account_changed"


def to_employees(apps, schema_editor):
    apps.get_model("events", "Delivery").objects.filter(handler=OLD_NAME).update(handler=NEW_NAME)


def back_to_events(apps, schema_editor):
    apps.get_model("events", "Delivery").objects.filter(handler=NEW_NAME).update(handler=OLD_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("employees", "0004_sign_in_token_reuse"),
        ("events", "0002_deliveries_and_webhooks"),
    ]

    operations = [migrations.RunPython(to_employees, back_to_events)]
