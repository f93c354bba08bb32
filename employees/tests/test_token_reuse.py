"""A refresh token presented again after it was exchanged means two parties hold the sign-in's
tokens: the whole sign-in ends, the event is recorded and its owner sees it."""

import pytest
from django.urls import reverse

from employees.models import Role, SignIn
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory
from events.models import Event

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
SESSIONS = "/api/v1/employees/profile/sessions"
PROFILE = "/api/v1/employees/profile"


@pytest.fixture
def desk():
    return EmployeeFactory(username="desk", role=Role.RECEPTIONIST)


def log_in(api_client) -> dict:
    return api_client.post(LOGIN, {"username": "desk", "password": DEFAULT_PASSWORD}, format="json").json()


def refresh(api_client, token: str):
    return api_client.post(REFRESH, {"refresh_token": token}, format="json")


def get_as(api_client, path: str, access_token: str):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    response = api_client.get(path)
    api_client.credentials()
    return response


def test_reused_refresh_token_ends_the_whole_sign_in(api_client, desk, clock):
    stolen = log_in(api_client)
    owners = refresh(api_client, stolen["refresh_token"]).json()

    response = refresh(api_client, stolen["refresh_token"])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_reused"
    assert get_as(api_client, PROFILE, owners["access_token"]).status_code == 401
    assert refresh(api_client, owners["refresh_token"]).json()["error"]["code"] == "invalid_token"
    sign_in = SignIn.objects.get(employee=desk)
    assert sign_in.revoked_at is not None
    assert sign_in.token_reuse_detected_at is not None


def test_reuse_is_recorded_as_an_event_with_the_presenters_address(api_client, desk, clock):
    stolen = log_in(api_client)
    refresh(api_client, stolen["refresh_token"])

    api_client.post(REFRESH, {"refresh_token": stolen["refresh_token"]}, format="json", REMOTE_ADDR="203.0.113.9")

    event = Event.objects.get(type="employee.token_reuse_detected")
    assert event.aggregate_id == str(desk.pk)
    assert event.payload["ip_address"] == "203.0.113.9"
    assert event.payload["sign_in_id"] == SignIn.objects.get(employee=desk).pk


def test_reuse_ends_only_that_sign_in(api_client, desk, clock):
    stolen = log_in(api_client)
    other = log_in(api_client)
    refresh(api_client, stolen["refresh_token"])

    refresh(api_client, stolen["refresh_token"])

    assert get_as(api_client, PROFILE, other["access_token"]).status_code == 200


def test_owner_sees_the_ended_sign_in_in_the_api_sessions_list(api_client, desk, clock):
    stolen = log_in(api_client)
    refresh(api_client, stolen["refresh_token"])
    refresh(api_client, stolen["refresh_token"])
    fresh = log_in(api_client)

    listed = get_as(api_client, SESSIONS, fresh["access_token"]).json()

    ended = [item for item in listed if item["token_reuse_detected_at"]]
    assert len(ended) == 1
    assert ended[0]["ended_at"] is not None
    assert [item["current"] for item in listed if not item["token_reuse_detected_at"]] == [True]


def test_owner_sees_the_ended_sign_in_on_the_profile_page(client, api_client, desk, clock):
    stolen = log_in(api_client)
    refresh(api_client, stolen["refresh_token"])
    refresh(api_client, stolen["refresh_token"])
    client.force_login(desk)

    page = client.get(reverse("profile"))

    assert b"Ended because a refresh token was used twice." in page.content
    assert len(page.context["ended_for_token_reuse"]) == 1


def test_logout_with_an_exchanged_refresh_token_is_reuse_too(api_client, desk, clock):
    stolen = log_in(api_client)
    owners = refresh(api_client, stolen["refresh_token"]).json()

    response = api_client.post(LOGOUT, {"refresh_token": stolen["refresh_token"]}, format="json")

    assert response.json()["error"]["code"] == "token_reused"
    assert get_as(api_client, PROFILE, owners["access_token"]).status_code == 401


def test_refresh_token_of_a_signed_out_sign_in_is_refused_without_alarm(api_client, desk, clock):
    pair = log_in(api_client)
    api_client.post(LOGOUT, {"refresh_token": pair["refresh_token"]}, format="json")

    response = refresh(api_client, pair["refresh_token"])

    assert response.json()["error"]["code"] == "invalid_token"
    assert not Event.objects.filter(type="employee.token_reuse_detected").exists()


def test_a_forged_refresh_token_is_refused_without_alarm(api_client, desk, clock):
    pair = log_in(api_client)
    head, body, signature = pair["refresh_token"].split(".")

    response = refresh(api_client, f"{head}.{body}.{signature[::-1]}")

    assert response.json()["error"]["code"] == "invalid_token"
    assert SignIn.objects.get(employee=desk).revoked_at is None


def test_an_access_token_is_not_a_refresh_token(api_client, desk, clock):
    pair = log_in(api_client)

    response = refresh(api_client, pair["access_token"])

    assert response.json()["error"]["code"] == "invalid_token"
    assert SignIn.objects.get(employee=desk).revoked_at is None


def test_the_current_refresh_token_still_rotates(api_client, desk, clock):
    first = log_in(api_client)
    second = refresh(api_client, first["refresh_token"]).json()

    third = refresh(api_client, second["refresh_token"])

    assert third.status_code == 200
    assert get_as(api_client, PROFILE, third.json()["access_token"]).status_code == 200
