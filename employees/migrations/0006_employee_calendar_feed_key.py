from django.db import migrations, models

import employees.calendar_feed


def give_every_employee_a_key(apps, schema_editor):
    Employee = apps.get_model("employees", "Employee")
    for employee in Employee.objects.filter(calendar_feed_key__isnull=True).only("pk"):
        employee.calendar_feed_key = employees.calendar_feed.new_key()
        employee.save(update_fields=["calendar_feed_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("employees", "0005_account_notice_deliveries_named_after_employees"),
    ]

    # Added empty, filled one key per employee, then made unique: a default would give every
    # existing employee the same key.
    operations = [
        migrations.AddField(
            model_name="employee",
            name="calendar_feed_key",
            field=models.CharField(editable=False, max_length=22, null=True),
        ),
        migrations.RunPython(give_every_employee_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="employee",
            name="calendar_feed_key",
            field=models.CharField(
                default=employees.calendar_feed.new_key,
                editable=False,
                help_text="Makes the secret of the employee's calendar feed URL; a new one ends the old URL.",
                max_length=22,
                unique=True,
            ),
        ),
    ]
