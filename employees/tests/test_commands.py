"""The employee commands ops run from the shell: unlock_employee, reset_mfa, create_admin."""

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees.models import Employee, Role
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa, give_backup_codes
from events.models import Event

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
STRONG_PASSWORD = "violet-lantern-92-harbour"


@pytest.fixture
def desk():
    return EmployeeFactory(username="desk", role=Role.RECEPTIONIST)


@pytest.fixture
def boss():
    return EmployeeFactory(username="boss", role=Role.MANAGER)


def lock_out(api_client, settings, username="desk"):
    for _ in range(settings.RATE_LIMIT_MAX_ATTEMPTS):
        api_client.post(LOGIN, {"username": username, "password": "wrong-password-123"}, format="json")
    response = api_client.post(LOGIN, {"username": username, "password": DEFAULT_PASSWORD}, format="json")
    assert response.json()["error"]["code"] == "locked_out"


def test_unlock_employee_lets_a_locked_out_employee_sign_in_again(api_client, settings, desk, boss, capsys):
    lock_out(api_client, settings)
    call_command("unlock_employee", "desk", "--operator", "boss")
    assert "Unlocked 'desk'" in capsys.readouterr().out
    response = api_client.post(LOGIN, {"username": "desk", "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 200


def test_unlock_employee_records_the_operator_as_actor(api_client, settings, desk, boss):
    lock_out(api_client, settings)
    call_command("unlock_employee", "desk", "--operator", "boss")
    event = Event.objects.get(type="employee.unlocked")
    assert event.actor == boss
    assert event.aggregate_id == str(desk.pk)


def test_unlock_employee_refuses_an_operator_who_cannot_manage_them(desk):
    EmployeeFactory(username="colleague", role=Role.RECEPTIONIST)
    with pytest.raises(CommandError, match="cannot manage 'desk'"):
        call_command("unlock_employee", "desk", "--operator", "colleague")
    assert not Event.objects.filter(type="employee.unlocked").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nobody", "--operator", "boss"], "No employee is called 'nobody'"),
        (["desk", "--operator", "ghost"], "No employee is called 'ghost'"),
        (["desk"], "--operator"),
    ],
)
def test_unlock_employee_names_what_is_wrong_with_its_arguments(desk, boss, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("unlock_employee", *arguments)


def test_a_deactivated_operator_is_refused(desk):
    EmployeeFactory(username="gone", role=Role.MANAGER, is_active=False)
    with pytest.raises(CommandError, match="deactivated"):
        call_command("unlock_employee", "desk", "--operator", "gone")


def test_reset_mfa_removes_authenticator_and_backup_codes_and_records_it(desk, boss, capsys):
    enrol_mfa(desk)
    give_backup_codes(desk, "backup-one", "backup-two")
    call_command("reset_mfa", "desk", "--operator", "boss")
    assert not TOTPDevice.objects.filter(user=desk).exists()
    assert not StaticDevice.objects.filter(user=desk).exists()
    event = Event.objects.get(type="employee.mfa_reset")
    assert event.actor == boss
    assert "enrol again" in capsys.readouterr().out


def test_reset_mfa_of_an_employee_without_mfa_changes_nothing(desk, boss, capsys):
    call_command("reset_mfa", "desk", "--operator", "boss")
    assert "nothing to reset" in capsys.readouterr().out
    assert not Event.objects.filter(type="employee.mfa_reset").exists()


def test_reset_mfa_refuses_an_operator_who_cannot_manage_them(boss):
    enrol_mfa(boss)
    other_manager = EmployeeFactory(username="peer", role=Role.MANAGER)
    with pytest.raises(CommandError, match="cannot manage 'boss'"):
        call_command("reset_mfa", "boss", "--operator", other_manager.username)
    assert TOTPDevice.objects.filter(user=boss).exists()


def test_reset_mfa_refuses_an_operator_who_cannot_manage_them_even_with_nothing_to_reset(desk):
    photographer = EmployeeFactory(username="pete", role=Role.PHOTOGRAPHER)
    with pytest.raises(CommandError, match="cannot manage 'desk'"):
        call_command("reset_mfa", "desk", "--operator", photographer.username)


def test_create_admin_refuses_the_username_of_an_employee_who_is_not_an_admin(monkeypatch, desk):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG_PASSWORD)
    with pytest.raises(CommandError, match="'desk' is taken by a receptionist"):
        call_command("create_admin", "--username", "desk")
    desk.refresh_from_db()
    assert desk.role == Role.RECEPTIONIST
    assert not desk.check_password(STRONG_PASSWORD)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--username", "bad name!"], "username: Enter a valid username"),
        (["--username", "owner", "--email", "notanemail"], "email: Enter a valid email address"),
    ],
)
def test_create_admin_refuses_a_malformed_username_or_email(monkeypatch, arguments, message):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG_PASSWORD)
    with pytest.raises(CommandError, match=message):
        call_command("create_admin", *arguments)
    assert not Employee.objects.exists()


def test_create_admin_says_what_it_created(monkeypatch, capsys):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG_PASSWORD)
    call_command("create_admin", "--username", "owner", "--email", "owner@studio.test")
    assert "Admin 'owner' created with e-mail owner@studio.test." in capsys.readouterr().out
