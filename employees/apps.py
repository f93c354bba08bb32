from django.apps import AppConfig
from django.apps import apps as global_apps
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class EmployeesConfig(AppConfig):
    name = "employees"
    verbose_name = "Employees"

    def ready(self):
        from employees import callers, services
        from photostudio.retention import Prunable, register_prunable

        callers.connect()
        post_migrate.connect(sync_role_groups_after_migrate, dispatch_uid="employees.sync_role_groups")
        register_prunable(Prunable("ended sign-ins", services.prune_sign_ins))
        register_prunable(Prunable("sign-in logs", services.prune_access_logs))
        register_prunable(Prunable("expired API refresh tokens", services.prune_expired_tokens))


class StudioAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the studio's MFA-only admin site as ``admin.site``
    (listed in INSTALLED_APPS in place of ``django.contrib.admin``)."""

    default = False
    default_site = "employees.admin_site.StudioAdminSite"


def sync_role_groups_after_migrate(sender, using, apps=global_apps, **kwargs):
    """Attach to the role groups the permissions an app's migrations just created.

    Django creates permissions in ``post_migrate``, after all migrations ran, so the data
    migration that creates the groups cannot see permissions of apps migrated later (bookings'
    custom permissions, say). This receiver runs after each app named in the role table has had
    its permissions created, whichever order the apps migrate in, and after ``flush``.
    """
    from employees import roles

    if sender.label not in roles.APP_LABELS:
        return
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:
        return
    roles.sync_role_groups(group_model, permission_model, using=using)
