import re

import pytest
from django.core.management import CommandError, call_command

from employees.models import Employee, Role


@pytest.mark.django_db
def test_seed_demo_creates_staff_of_every_role_and_prints_their_password_once(tmp_path, capsys):
    credentials = tmp_path / "credentials"
    call_command("seed_demo", credentials_file=credentials)
    printed = capsys.readouterr().out
    password = re.search(r"password: (\S+)", printed).group(1)

    assert set(Employee.objects.values_list("role", flat=True)) == set(Role.values)
    assert Employee.objects.get(username="admin").check_password(password)
    assert f"rita  {password}" in credentials.read_text()
    assert credentials.stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db
def test_seed_demo_run_again_changes_nothing(tmp_path, capsys):
    credentials = tmp_path / "credentials"
    call_command("seed_demo", credentials_file=credentials)
    employees_before = Employee.objects.count()
    capsys.readouterr()

    call_command("seed_demo", credentials_file=credentials)

    assert Employee.objects.count() == employees_before
    assert "password:" not in capsys.readouterr().out


@pytest.mark.django_db
def test_a_credentials_file_that_cannot_be_written_is_refused_and_creates_no_login(tmp_path):
    unwritable = tmp_path / "no such folder" / "credentials"

    with pytest.raises(CommandError, match="no such folder"):
        call_command("seed_demo", credentials_file=unwritable)

    assert not Employee.objects.exists()
