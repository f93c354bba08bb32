"""Walks docs/permissions.md: every cell of both tables is checked against the running code."""

import re
from pathlib import Path

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from employees.models import Role
from employees.roles import ROLE_RANK
from employees.services import unlock_employee
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa, verified_login
from photostudio import errors

pytestmark = pytest.mark.django_db

ROLES = [Role.ADMIN, Role.MANAGER, Role.RECEPTIONIST, Role.PHOTOGRAPHER]
_CELL = {"✓": True, "—": False}


def _table(heading: str) -> list[tuple[str, dict[str, bool]]]:
    """(check, {role: allowed}) for each row of the table under ``## heading``."""
    text = (Path(settings.BASE_DIR) / "docs" / "permissions.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] in {"Action", "---"} or not cells[1].startswith("`"):
            continue
        rows.append((cells[1].strip("`"), {role: _CELL[cell] for role, cell in zip(ROLES, cells[2:], strict=True)}))
    return rows


PERMISSION_ROWS = _table("Permissions")
RULE_ROWS = _table("Rules and endpoints")


def _cases(rows):
    return [pytest.param(check, role, allowed[role], id=f"{role}:{check}") for check, allowed in rows for role in ROLES]


def test_every_permission_of_the_studio_apps_is_in_the_matrix():
    existing = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.filter(
            content_type__app_label__in=["bookings", "employees", "events"]
        ).values_list("content_type__app_label", "codename")
    }
    documented = [code for code, _ in PERMISSION_ROWS]
    assert len(documented) == len(set(documented))
    assert existing == set(documented)


@pytest.mark.parametrize(("code", "role", "allowed"), _cases(PERMISSION_ROWS))
def test_permission_matrix(code, role, allowed):
    assert EmployeeFactory(role=role).has_perm(code) is allowed


def _persona(role):
    employee = EmployeeFactory(role=role)
    if employee.mfa_required:
        employee.mfa_secret = enrol_mfa(employee)
    return employee


def _api_as(employee) -> APIClient:
    api = APIClient()
    data = {"username": employee.username, "password": DEFAULT_PASSWORD}
    if getattr(employee, "mfa_secret", None):
        data["mfa_code"] = pyotp.TOTP(employee.mfa_secret).now()
    pair = api.post("/api/v1/auth/login", data, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    return api


def _rule(check, actor) -> bool:
    kind, _, subject = check.partition(" ")
    if kind == "manage":
        return actor.can_manage_employee(EmployeeFactory(role=subject))
    if kind == "assign":
        return actor.can_assign_role(EmployeeFactory(role=Role.PHOTOGRAPHER), subject)
    if check == "raise own role":
        higher = [role for role in ROLES if ROLE_RANK[role] > ROLE_RANK[actor.role]]
        return any(actor.can_assign_role(actor, role) for role in higher)
    if kind == "unlock":
        try:
            unlock_employee(employee=EmployeeFactory(role=subject), actor=actor)
        except errors.PermissionDenied:
            return False
        return True
    if check == "mfa required":
        return actor.mfa_required
    raise AssertionError(f"docs/permissions.md names a check the test does not know: {check!r}")


def _endpoint(check, actor, client) -> bool:
    method, _, rest = check.partition(" ")
    path, _, option = rest.partition(" ")
    if path == "/admin/":
        verified_login(client, actor)
        return client.get(path).status_code == 200
    match = re.search(r"\{(\w+)\}", path)
    target = None
    if match:
        target = actor if match.group(1) == "self" else EmployeeFactory(role=match.group(1))
        path = path.replace(match.group(0), str(target.pk))
    api = _api_as(actor)
    if method == "GET":
        response = api.get(path)
    elif method == "POST":
        response = api.post(path)
    else:
        body = {"is_active": False} if option == "is_active" else {"full_name": "Renamed", "phone": "+1 555 0199"}
        if target is actor:
            body = {"full_name": "Renamed", "department": "Front of house"}
        response = api.put(path, body, format="json")
    assert response.status_code in {200, 403, 404}, response.content
    return response.status_code == 200


@pytest.mark.parametrize(("check", "role", "allowed"), _cases(RULE_ROWS))
def test_rules_and_endpoints_matrix(check, role, allowed, client, clock):
    actor = _persona(role)
    outcome = (
        _endpoint(check, actor, client) if check.split(" ", 1)[0] in {"GET", "POST", "PUT"} else _rule(check, actor)
    )
    assert outcome is allowed
