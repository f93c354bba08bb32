import pytest
from django.core.management import CommandError, call_command

from employees.models import Employee, Role

STRONG_PASSWORD = "violet-lantern-92-harbour"


@pytest.mark.django_db
def test_create_admin_creates_an_admin_who_can_log_in(monkeypatch, client):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG_PASSWORD)
    call_command("create_admin", "--username", "owner", "--email", "owner@studio.test")
    admin = Employee.objects.get(username="owner")
    assert admin.role == Role.ADMIN
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password(STRONG_PASSWORD)


@pytest.mark.django_db
def test_create_admin_run_twice_leaves_the_first_admin_unchanged(monkeypatch, capsys):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG_PASSWORD)
    call_command("create_admin", "--username", "owner")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another-long-passphrase-77")
    call_command("create_admin", "--username", "owner")
    assert Employee.objects.filter(username="owner").count() == 1
    assert Employee.objects.get(username="owner").check_password(STRONG_PASSWORD)
    assert "already exists" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [("password", "too common"), ("12345678901", "entirely numeric"), ("short1!", "too short")],
)
def test_create_admin_refuses_a_weak_password(monkeypatch, password, message):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", password)
    with pytest.raises(CommandError, match=message):
        call_command("create_admin", "--username", "owner")
    assert not Employee.objects.filter(username="owner").exists()


@pytest.mark.django_db
def test_create_admin_refuses_a_missing_password(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="Set DJANGO_SUPERUSER_PASSWORD"):
        call_command("create_admin")
    assert not Employee.objects.exists()


@pytest.mark.django_db
def test_create_admin_if_no_admin_changes_nothing_once_the_studio_has_an_admin(monkeypatch, capsys):
    # Compose's migrate runs it at every start: the first admin, later made a manager, must not
    # fail the start-up of every later upgrade.
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG_PASSWORD)
    Employee.objects.create_user("admin", "first-admin-passphrase-1", role=Role.MANAGER)
    Employee.objects.create_user("boss", "boss-admin-passphrase-2", role=Role.ADMIN)

    call_command("create_admin", "--username", "admin", "--if-no-admin")

    assert Employee.objects.get(username="admin").role == Role.MANAGER
    assert "already has an admin" in capsys.readouterr().out


@pytest.mark.django_db
def test_create_admin_if_no_admin_creates_the_first_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG_PASSWORD)

    call_command("create_admin", "--username", "owner", "--if-no-admin")

    assert Employee.objects.get(username="owner").role == Role.ADMIN
