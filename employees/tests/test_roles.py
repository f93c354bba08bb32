import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from employees.apps import sync_role_groups_after_migrate
from employees.models import Employee, Role
from employees.roles import ROLE_PERMISSIONS
from employees.tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def _existing(codes):
    """The codes of ``codes`` whose Permission rows exist in this database."""
    present = {
        f"{ct}.{codename}" for ct, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    return {code for code in codes if code in present}


@pytest.mark.parametrize("role", [Role.MANAGER, Role.RECEPTIONIST, Role.PHOTOGRAPHER])
def test_new_employee_holds_exactly_the_permissions_of_their_role(role):
    employee = EmployeeFactory(role=role)
    assert list(employee.groups.values_list("name", flat=True)) == [role]
    assert employee.get_all_permissions() == _existing(ROLE_PERMISSIONS[role])


def test_admin_is_a_superuser_with_every_permission():
    admin = EmployeeFactory(role=Role.ADMIN)
    assert admin.is_superuser
    assert admin.has_perm("employees.delete_employee")


def test_role_change_moves_the_employee_to_the_new_group_at_once():
    employee = EmployeeFactory(role=Role.RECEPTIONIST)
    assert employee.has_perm("employees.view_employee")
    employee.role = Role.PHOTOGRAPHER
    employee.save()
    assert list(employee.groups.values_list("name", flat=True)) == [Role.PHOTOGRAPHER]
    assert not employee.has_perm("employees.view_employee")
    assert not Employee.objects.get(pk=employee.pk).has_perm("employees.view_employee")


def test_demoted_admin_loses_the_superuser_flag():
    admin = EmployeeFactory(role=Role.ADMIN)
    admin.role = Role.MANAGER
    admin.save(update_fields=["role"])
    admin.refresh_from_db()
    assert not admin.is_superuser
    assert not admin.has_perm("employees.delete_employee")
    assert admin.has_perm("employees.change_employee")


def test_saving_other_fields_does_not_touch_the_groups(django_assert_num_queries):
    employee = EmployeeFactory(role=Role.RECEPTIONIST)
    employee.full_name = "Renamed"
    with django_assert_num_queries(1):
        employee.save(update_fields=["full_name"])


def test_permissions_created_after_the_groups_are_attached_on_the_next_migrate():
    group = Group.objects.get(name=Role.MANAGER)
    view_event = Permission.objects.get(content_type__app_label="events", codename="view_event")
    group.permissions.remove(view_event)
    sync_role_groups_after_migrate(sender=apps.get_app_config("events"), using="default", apps=apps)
    assert group.permissions.filter(pk=view_event.pk).exists()


def test_a_flushed_group_is_recreated_with_its_permissions_when_an_employee_needs_it():
    Group.objects.all().delete()
    employee = EmployeeFactory(role=Role.MANAGER)
    assert employee.has_perm("events.view_event")


@pytest.mark.django_db(transaction=True)
def test_role_groups_migration_is_reversible_and_reassigns_existing_employees():
    employee = EmployeeFactory(role=Role.RECEPTIONIST)
    executor = MigrationExecutor(connection)
    executor.migrate([("employees", "0001_initial")])
    assert not Group.objects.filter(name__in=Role.values).exists()
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert set(Group.objects.filter(name__in=Role.values).values_list("name", flat=True)) == set(Role.values)
    assert list(employee.groups.values_list("name", flat=True)) == [Role.RECEPTIONIST]


@pytest.mark.parametrize(
    ("role", "capability", "allowed"),
    [
        (Role.RECEPTIONIST, "employees.view_employee", True),
        (Role.PHOTOGRAPHER, "employees.view_employee", False),
        (Role.MANAGER, "employee_management", True),
        (Role.RECEPTIONIST, "employee_management", False),
        (Role.MANAGER, "event_log", True),
        (Role.PHOTOGRAPHER, "event_log", False),
        (Role.ADMIN, "reports", True),
    ],
)
def test_has_permission_accepts_codenames_and_the_guides_capabilities(role, capability, allowed):
    assert EmployeeFactory(role=role).has_permission(capability) is allowed


def test_has_permission_refuses_an_unknown_capability():
    with pytest.raises(ValueError, match="Unknown capability"):
        EmployeeFactory().has_permission("bookings_management")
