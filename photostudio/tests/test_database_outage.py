"""A database that cannot be reached answers 503 and says to retry: the JSON error body on the
API, a plain page elsewhere; never a 500. (The real outage is in test_faults.py.)"""

import pytest
from django.db import InterfaceError, OperationalError

from bookings.tests.api import api_as
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from photostudio.headers import SERVER_ERROR_POLICY

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_unreachable(monkeypatch):
    def unreachable(**kwargs):
        raise OperationalError("connection failed: Connection refused")

    monkeypatch.setattr("bookings.selectors.visible_bookings", unreachable)


def test_the_api_answers_503_with_its_error_body(database_unreachable):
    api = api_as(EmployeeFactory(role=Role.RECEPTIONIST))
    api.raise_request_exception = False

    response = api.get("/api/v1/bookings/")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0
    assert "Connection refused" not in response.content.decode()


def test_a_page_answers_a_plain_503_page(client, database_unreachable):
    client.force_login(EmployeeFactory(role=Role.RECEPTIONIST))
    client.raise_request_exception = False

    response = client.get("/bookings/")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert "briefly unavailable" in response.content.decode()
    # The page stands alone with its own inline styles, as the 500 page does.
    assert response["Content-Security-Policy"] == SERVER_ERROR_POLICY


def test_a_closed_connection_is_also_a_503(monkeypatch):
    def closed(**kwargs):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr("bookings.selectors.visible_bookings", closed)
    api = api_as(EmployeeFactory(role=Role.RECEPTIONIST))
    api.raise_request_exception = False

    assert api.get("/api/v1/bookings/").status_code == 503
