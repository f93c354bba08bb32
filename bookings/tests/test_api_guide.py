"""The guide's "API Usage" section, replayed verbatim: the same paths (with and without a trailing
slash, as written), the same headers and the very same bodies, on a fresh install.

A fresh install has the spaces the guide books (migration 0003) and an admin created first, so
the admin is employee 1 and the guide's booking is booking 1. The guide signs the admin in with a
password alone, so this studio does not demand MFA for admins (MFA_REQUIRED_ROLES is empty); with
the default it asks for the second factor (see employees' tests).
"""

import pytest

from bookings.tests.api import install_default_spaces
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events.models import Event

# transaction=True so that reset_sequences can make ids start at 1 on PostgreSQL too.
pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)

LOGIN_BODY = """{
    "username": "admin",
    "password": "password"
  }"""
CREATE_BODY = """{
    "client_name": "John Doe",
    "client_phone": "+1234567890",
    "start_time": "2024-01-15T10:00:00Z",
    "end_time": "2024-01-15T12:00:00Z",
    "space_type": "studio_a",
    "people_count": 2
  }"""
STATE_BODY = """{
    "target_state": "confirmed",
    "reason": "Client confirmed via phone"
  }"""
EMPLOYEE_BODY = """{
    "full_name": "John Admin",
    "department": "Management"
  }"""
JSON = "application/json"


@pytest.fixture
def fresh_install(settings):
    settings.MFA_REQUIRED_ROLES = []
    install_default_spaces()
    admin = EmployeeFactory(username="admin", role=Role.ADMIN, password="password")
    assert admin.pk == 1
    return admin


def curl(client, method, path, *, token=None, body=None):
    """What ``curl -X METHOD path [-H Authorization] [-H Content-Type] [-d body]`` sends."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is None:
        return client.generic(method, path, headers=headers)
    return client.generic(method, path, body, content_type=JSON, headers=headers)


def login(client) -> str:
    response = curl(client, "POST", "http://localhost:8000/api/v1/auth/login", body=LOGIN_BODY)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_login_answers_an_access_and_a_refresh_token(client, fresh_install):
    response = curl(client, "POST", "http://localhost:8000/api/v1/auth/login", body=LOGIN_BODY)

    assert response.status_code == 200
    assert {"access_token", "refresh_token"} <= set(response.json())


def test_create_booking_books_studio_a_for_john_doe(client, fresh_install):
    token = login(client)

    response = curl(client, "POST", "http://localhost:8000/api/v1/bookings/", token=token, body=CREATE_BODY)

    assert response.status_code == 201, response.content
    booking = response.json()
    assert booking["id"] == 1
    assert booking["state"] == "pending"
    assert booking["start_time"] == "2024-01-15T10:00:00Z"
    assert booking["end_time"] == "2024-01-15T12:00:00Z"
    assert booking["space_type"] == "studio_a"
    assert booking["space"] == {"slug": "studio_a", "name": "Studio A"}
    assert booking["client"]["full_name"] == "John Doe"
    assert booking["client"]["phone"] == "+1234567890"
    assert booking["people_count"] == 2
    assert booking["price"] == "160.00"  # Studio A's 80.00 an hour, for two hours
    assert [t["target_state"] for t in booking["allowed_transitions"]] == ["cancelled", "confirmed"]


def test_get_bookings_of_the_day_lists_the_booking(client, fresh_install):
    token = login(client)
    curl(client, "POST", "http://localhost:8000/api/v1/bookings/", token=token, body=CREATE_BODY)

    response = curl(client, "GET", "http://localhost:8000/api/v1/bookings/?date=2024-01-15", token=token)

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [booking["id"] for booking in response.json()["results"]] == [1]


def test_update_booking_state_confirms_with_the_reason_recorded(client, fresh_install):
    token = login(client)
    curl(client, "POST", "http://localhost:8000/api/v1/bookings/", token=token, body=CREATE_BODY)

    response = curl(client, "POST", "http://localhost:8000/api/v1/bookings/1/state", token=token, body=STATE_BODY)

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "confirmed"
    event = Event.objects.get(type="booking.state_changed", aggregate_id="1")
    assert event.payload["reason"] == "Client confirmed via phone"
    assert event.actor == fresh_install


def test_get_employee_profile_shows_the_signed_in_admin(client, fresh_install):
    token = login(client)

    response = curl(client, "GET", "http://localhost:8000/api/v1/employees/profile", token=token)

    assert response.status_code == 200
    assert response.json()["username"] == "admin"
    assert response.json()["id"] == 1


def test_update_employee_changes_name_and_department(client, fresh_install):
    token = login(client)

    response = curl(client, "PUT", "http://localhost:8000/api/v1/employees/1", token=token, body=EMPLOYEE_BODY)

    assert response.status_code == 200, response.content
    assert (response.json()["full_name"], response.json()["department"]) == ("John Admin", "Management")
    fresh_install.refresh_from_db()
    assert fresh_install.department == "Management"


def test_bookings_health_answers_without_signing_in(client, fresh_install):
    response = curl(client, "GET", "http://localhost:8000/api/v1/bookings/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_get_bookings_with_authentication_lists_them(client, fresh_install):
    token = login(client)
    curl(client, "POST", "http://localhost:8000/api/v1/bookings/", token=token, body=CREATE_BODY)

    response = curl(client, "GET", "http://localhost:8000/api/v1/bookings/", token=token)

    assert response.status_code == 200
    assert [booking["client"]["full_name"] for booking in response.json()["results"]] == ["John Doe"]


def test_bookings_without_a_token_are_refused_with_the_error_body(client, fresh_install):
    response = curl(client, "GET", "http://localhost:8000/api/v1/bookings/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
