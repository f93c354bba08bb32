"""An employee and the profile are answered directly (``to_representation``), not field by field:
they must say exactly what the declared fields, which the OpenAPI schema shows, would."""

from datetime import UTC, datetime

import pytest
from rest_framework import serializers

from employees.api.serializers import EmployeeSerializer, MfaStatusSerializer, ProfileSerializer
from employees.models import Role
from employees.selectors import MfaStatus
from employees.tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def declared_fields_answer(serializer: serializers.Serializer, instance) -> dict:
    """What DRF renders from the declared fields, one by one."""
    return dict(serializers.Serializer.to_representation(serializer, instance))


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
@pytest.mark.parametrize("last_login", [None, datetime(2030, 1, 14, 10, 0, 0, 250, tzinfo=UTC)])
def test_an_employee_is_answered_as_the_declared_fields_say(settings, zone, last_login):
    settings.TIME_ZONE = zone
    employee = EmployeeFactory(role=Role.PHOTOGRAPHER, phone="+14155550123", department="Portraits")
    employee.last_login = last_login
    serializer = EmployeeSerializer()

    assert serializer.to_representation(employee) == declared_fields_answer(serializer, employee)


def test_a_profile_is_answered_as_the_declared_fields_say(rf):
    employee = EmployeeFactory(role=Role.MANAGER, is_active=False)
    mfa = MfaStatus(enabled=True, required=True, backup_codes_left=7)
    serializer = ProfileSerializer(context={"mfa": mfa, "request": rf.get("/api/v1/employees/profile")})

    answer = serializer.to_representation(employee)

    assert answer == declared_fields_answer(serializer, employee)
    assert answer["mfa"] == declared_fields_answer(MfaStatusSerializer(), mfa)
    assert answer["calendar_feed_url"].startswith("http://testserver/calendar/feeds/")
