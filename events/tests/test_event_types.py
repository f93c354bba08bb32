"""Every type the code publishes is in ``EventType``, so a webhook endpoint can subscribe to it."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from employees.tests.factories import EmployeeFactory
from events.models import Event, EventType
from events.services import UnknownEventType, publish, publish_each


def _published_types() -> dict[str, str]:
    """The literal event type of every ``publish(...)`` and ``publish_each(...)`` call outside the
    tests, with where it is."""
    found = {}
    base = Path(settings.BASE_DIR)
    project_apps = {Path(config.path) for config in apps.get_app_configs() if Path(config.path).is_relative_to(base)}
    for app in project_apps | {base / "photostudio"}:
        for path in app.rglob("*.py"):
            if "tests" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                first = node.args[0]
                if (
                    name in ("publish", "publish_each")
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                ):
                    found[first.value] = f"{path.relative_to(settings.BASE_DIR)}:{node.lineno}"
    return found


def test_every_type_the_code_publishes_is_in_the_catalogue():
    published = _published_types()

    missing = {event_type: where for event_type, where in published.items() if event_type not in EventType.values}

    assert {"booking.created", "employee.login_failed", "waitlist.slot_opened"} <= published.keys()
    assert missing == {}


@pytest.mark.django_db
def test_publishing_a_type_missing_from_the_catalogue_is_refused():
    with pytest.raises(UnknownEventType, match="employee.teleported"):
        publish("employee.teleported", EmployeeFactory())
    with pytest.raises(UnknownEventType, match="employee.teleported"):
        publish_each("employee.teleported", [EmployeeFactory()])

    assert not Event.objects.filter(type="employee.teleported").exists()


@pytest.mark.django_db
def test_a_catalogued_employee_type_is_recorded():
    employee = EmployeeFactory()

    event = publish(EventType.EMPLOYEE_MFA_RESET, employee)

    assert event.type == "employee.mfa_reset"
