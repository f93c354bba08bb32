"""Create a group per role and put every existing employee in the group of their role.

Permissions of apps migrated later are attached by the post_migrate receiver in employees.apps.
"""

from django.db import migrations

ROLES = ("admin", "manager", "receptionist", "photographer")


def create_role_groups(apps, schema_editor):
    from employees.roles import sync_role_groups

    using = schema_editor.connection.alias
    group_model = apps.get_model("auth", "Group")
    sync_role_groups(group_model, apps.get_model("auth", "Permission"), using=using)
    groups = {group.name: group for group in group_model.objects.using(using).filter(name__in=ROLES)}
    for employee in apps.get_model("employees", "Employee").objects.using(using).all():
        employee.groups.set([groups[employee.role]])
        employee.is_superuser = employee.role == "admin"
        employee.save(update_fields=["is_superuser"])


def remove_role_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    apps.get_model("auth", "Group").objects.using(using).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("employees", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
