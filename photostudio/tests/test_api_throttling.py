"""Each signed-in API caller gets API_THROTTLE_RATE requests; the sign-in lockout is separate."""

import runpy
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from bookings.tests.api import api_as
from employees.models import Role, SignIn
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory

SETTINGS_FILE = Path(__file__).resolve().parents[1] / "settings.py"
BOOKINGS = "/api/v1/bookings/"


@pytest.fixture
def three_a_minute(settings):
    settings.API_THROTTLE_RATE = "3/minute"


@pytest.mark.django_db
def test_a_caller_over_the_rate_gets_429_with_when_to_retry(three_a_minute):
    api = api_as(EmployeeFactory(role=Role.RECEPTIONIST))

    statuses = [api.get(BOOKINGS).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    throttled = api.get(BOOKINGS)
    assert throttled.json()["error"]["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert throttled.json()["error"]["details"]["wait_seconds"] > 0


@pytest.mark.django_db
def test_a_throttled_caller_waits_for_the_next_minute(three_a_minute):
    api = api_as(EmployeeFactory(role=Role.RECEPTIONIST))

    with time_machine.travel(datetime(2030, 1, 14, 10, 0, 20, tzinfo=UTC), tick=False):
        statuses = [api.get(BOOKINGS).status_code for _ in range(4)]
        throttled = api.get(BOOKINGS)
    with time_machine.travel(datetime(2030, 1, 14, 10, 1, 0, tzinfo=UTC), tick=False):
        next_minute = api.get(BOOKINGS)

    assert statuses == [200, 200, 200, 429]
    assert throttled["Retry-After"] == "40"
    assert next_minute.status_code == 200


@pytest.mark.django_db
def test_the_rate_is_per_caller(three_a_minute):
    busy = api_as(EmployeeFactory(role=Role.RECEPTIONIST))
    for _ in range(4):
        busy.get(BOOKINGS)

    other = api_as(EmployeeFactory(role=Role.RECEPTIONIST))

    assert other.get(BOOKINGS).status_code == 200


@pytest.mark.django_db
def test_signing_in_and_health_are_not_counted(client, three_a_minute):
    EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    credentials = {"username": "desk", "password": DEFAULT_PASSWORD}

    logins = [client.post("/api/v1/auth/login", credentials, content_type="application/json") for _ in range(5)]
    health = [client.get("/api/v1/bookings/health").status_code for _ in range(5)]

    assert [response.status_code for response in logins] == [200] * 5
    assert health == [200] * 5


@pytest.mark.django_db
def test_a_throttled_caller_is_not_locked_out_of_signing_in(client, three_a_minute):
    desk = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    api = api_as(desk)
    for _ in range(4):
        api.get(BOOKINGS)

    response = client.post(
        "/api/v1/auth/login", {"username": "desk", "password": DEFAULT_PASSWORD}, content_type="application/json"
    )

    assert response.status_code == 200


@pytest.mark.parametrize("rate", ["fast", "0/minute", "10/fortnight", "10 per minute"])
def test_a_malformed_rate_stops_the_start(monkeypatch, rate):
    monkeypatch.setenv("SECRET_KEY", "k" * 50)
    monkeypatch.setenv("API_THROTTLE_RATE", rate)

    with pytest.raises(ImproperlyConfigured, match="API_THROTTLE_RATE"):
        runpy.run_path(str(SETTINGS_FILE))


def test_the_default_rate_is_600_a_minute(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 50)
    monkeypatch.delenv("API_THROTTLE_RATE", raising=False)

    assert runpy.run_path(str(SETTINGS_FILE))["API_THROTTLE_RATE"] == "600/minute"


@pytest.mark.django_db
def test_a_revoked_tokens_refused_requests_do_not_spend_its_employees_budget(
    three_a_minute, settings, django_capture_on_commit_callbacks
):
    settings.MFA_REQUIRED_ROLES = []
    EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    ended, live = APIClient(), APIClient()
    for api in (ended, live):
        pair = api.post("/api/v1/auth/login", {"username": "desk", "password": DEFAULT_PASSWORD}).json()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    with django_capture_on_commit_callbacks(execute=True):
        assert ended.post("/api/v1/auth/logout", {}, format="json").status_code == 204

    refused = [ended.get(BOOKINGS).status_code for _ in range(5)]

    assert refused == [401] * 5
    # Neither the refused requests nor the sign-out (never counted) spent any of the minute's three.
    assert [live.get(BOOKINGS).status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.mark.django_db
def test_a_caller_over_the_rate_may_still_end_sign_ins_and_sign_out(three_a_minute):
    # Whoever holds a stolen token must not spend the quota its owner needs to end it.
    EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    api, credentials = APIClient(), {"username": "desk", "password": DEFAULT_PASSWORD}
    mine, stolen, third = (api.post("/api/v1/auth/login", credentials, format="json").json() for _ in range(3))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {mine['access_token']}")
    statuses = [api.get(BOOKINGS).status_code for _ in range(4)]
    stolen_id, third_id = (
        SignIn.objects.get(refresh_jti=RefreshToken(pair["refresh_token"])["jti"]).pk for pair in (stolen, third)
    )

    ended_one = api.delete(f"/api/v1/employees/profile/sessions/{stolen_id}")
    ended_others = api.delete("/api/v1/employees/profile/sessions")
    listed = api.get("/api/v1/employees/profile/sessions")
    signed_out = api.post("/api/v1/auth/logout", {}, format="json")

    assert statuses == [200, 200, 200, 429]
    assert listed.status_code == 429  # reading them stays counted
    assert (ended_one.status_code, ended_others.status_code, signed_out.status_code) == (204, 200, 204)
    assert ended_others.json() == {"revoked": 1}
    assert not SignIn.objects.filter(pk__in=[stolen_id, third_id], revoked_at__isnull=True).exists()
