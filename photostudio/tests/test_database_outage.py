"""A database that cannot be reached answers 503 and says to retry: the JSON error body on the
API, a plain page elsewhere; never a 500. (The real outage is in test_faults.py.)"""

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection

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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pooled_connection_the_database_dropped_while_idle_is_replaced_before_a_request(client):
    # The guide's pool_pre_ping: after PostgreSQL restarts, or a firewall or pooler drops idle
    # connections, the next requests are answered, not refused with 503 once per dead connection.
    assert client.get("/health/db").status_code == 200
    connection.close()  # back to the pool, idle, as between two requests
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    response = client.get("/health/db")

    assert response.status_code == 200, response.content
