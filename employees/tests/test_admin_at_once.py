"""Two admins changing the staff at the same moment, each on its own thread and connection."""

import pytest
from django.db import connection
from django.test import Client

from employees import services
from employees.models import Employee, Role
from employees.tests.factories import EmployeeFactory, verified_login
from employees.tests.test_admin import change_data, change_url
from photostudio.errors import ValidationFailed
from photostudio.tests.concurrency import run_at_once

# SQLite's IMMEDIATE transactions take turns anyway: only PostgreSQL races.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_admins_demoting_each_other_leave_one_and_the_refused_form_keeps_what_was_typed():
    owner = EmployeeFactory(username="owner", role=Role.ADMIN)
    partner = EmployeeFactory(username="partner", role=Role.ADMIN)
    browsers = {}
    for admin in (owner, partner):
        browsers[admin] = Client()
        verified_login(browsers[admin], admin)
    connection.close()  # back to the pool: the two requests need a connection each at once

    def demote(by, whom, department):
        return lambda: browsers[by].post(change_url(whom), change_data(whom, role="manager", department=department))

    responses = run_at_once([demote(owner, partner, "Front desk"), demote(partner, owner, "Studio B")])

    assert sorted(response.status_code for response in responses) == [200, 302], responses
    refused = next(response for response in responses if response.status_code == 200)
    assert b"at least one active admin" in refused.content
    assert b'value="Front desk"' in refused.content or b'value="Studio B"' in refused.content
    assert Employee.objects.filter(role=Role.ADMIN, is_active=True).count() == 1


def test_two_admins_adding_one_username_at_once_make_one_employee_and_a_clear_refusal():
    owner = EmployeeFactory(username="owner", role=Role.ADMIN)
    connection.close()  # back to the pool: the two requests need a connection each at once

    def add(full_name):
        return lambda: services.create_employee(
            actor=owner,
            username="nina",
            password="willow-harbour-copper-77",
            role=Role.RECEPTIONIST,
            full_name=full_name,
        )

    outcomes = run_at_once([add("Nina Novak"), add("Nina Nowak")])

    refused = [outcome for outcome in outcomes if isinstance(outcome, ValidationFailed)]
    assert len(refused) == 1, outcomes
    assert list(refused[0].details) == ["username"]
    assert Employee.objects.filter(username="nina").count() == 1
