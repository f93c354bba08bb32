"""Parallel wrong guesses, each request on its own thread and database connection, as an attacker
with many workers: the lockout lets at most RATE_LIMIT_MAX_ATTEMPTS of them have a password checked."""

import time

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from rest_framework.test import APIClient

from employees.models import Role
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa
from events.models import Event
from photostudio.tests.concurrency import run_at_once

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

GUESSES = 12
checked_passwords: list[str] = []


class CountingHasher(MD5PasswordHasher):
    """The test suite's hasher, counting the passwords it checks and taking a real hasher's moment
    to do so, which is when parallel guesses overtake each other."""

    def verify(self, password, encoded):
        checked_passwords.append(password)
        time.sleep(0.05)
        return super().verify(password, encoded)


@pytest.fixture(autouse=True)
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    checked_passwords.clear()


def test_parallel_wrong_passwords_check_at_most_the_limit(settings):
    desk = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    guess = {"username": "desk", "password": "wrong-password-123"}

    responses = run_at_once([lambda: APIClient().post("/api/v1/auth/login", guess, format="json")] * GUESSES)

    assert len(checked_passwords) == settings.RATE_LIMIT_MAX_ATTEMPTS
    codes = sorted(response.json()["error"]["code"] for response in responses)
    limit = settings.RATE_LIMIT_MAX_ATTEMPTS
    assert codes == ["invalid_credentials"] * (limit - 1) + ["locked_out"] * (GUESSES - limit + 1)
    reasons = Event.objects.filter(type="employee.login_failed", aggregate_id=str(desk.pk)).values_list(
        "payload__reason", flat=True
    )
    assert sorted(reasons).count("invalid_credentials") == limit


def test_parallel_wrong_current_passwords_on_the_password_page_check_at_most_the_limit(settings):
    desk = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    new = "amber-quartz-lantern-58"
    form = {"old_password": "wrong-password-123", "new_password1": new, "new_password2": new}
    browser = Client()
    browser.force_login(desk)
    checked_passwords.clear()
    session_cookie = browser.cookies

    def send():
        client = Client()
        client.cookies = session_cookie
        return client.post("/password/change/", form)

    responses = run_at_once([send] * GUESSES)

    assert len(checked_passwords) == settings.RATE_LIMIT_MAX_ATTEMPTS
    locked = sum(b"this account is locked" in response.content for response in responses)
    assert locked == GUESSES - settings.RATE_LIMIT_MAX_ATTEMPTS + 1


def test_parallel_wrong_codes_are_counted_exactly(settings):
    desk = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    enrol_mfa(desk)
    guess = {"username": "desk", "password": DEFAULT_PASSWORD, "mfa_code": "000000"}

    responses = run_at_once([lambda: APIClient().post("/api/v1/auth/login", guess, format="json")] * GUESSES)

    codes = [response.json()["error"]["code"] for response in responses]
    limit = settings.RATE_LIMIT_MAX_ATTEMPTS
    assert codes.count("invalid_mfa_code") == limit - 1
    assert codes.count("locked_out") == GUESSES - limit + 1
