"""Two requests ending one sign-in at once, each on its own thread and database connection."""

import pytest
from django.db import connection

from employees import services
from employees.models import Role, SignIn
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory
from events.models import Event
from photostudio.tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sign_in_ended_twice_at_once_is_ended_and_recorded_once(api_client):
    desk = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    api_client.post("/api/v1/auth/login", {"username": "desk", "password": DEFAULT_PASSWORD})
    sign_in = SignIn.objects.get(employee=desk)
    connection.close()  # back to the pool: the two requests need a connection each at once

    def end():  # as a request does: read the sign-in, then end it
        services.revoke_sign_in(sign_in=SignIn.objects.get(pk=sign_in.pk), actor=desk)

    outcomes = run_at_once([end, end])

    assert outcomes == [None, None]
    assert SignIn.objects.get(pk=sign_in.pk).revoked_at is not None
    assert Event.objects.filter(type="employee.signed_out", aggregate_id=str(desk.pk)).count() == 1
