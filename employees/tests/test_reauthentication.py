"""Changing how an employee signs in needs their password, and every password or code asked for
is a sign-in check: a wrong one feeds the lockout and a locked account is refused there too."""

import pyotp
import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees.devices import has_mfa
from employees.models import Role
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa, verified_login
from events.models import Event

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
MFA = "/api/v1/employees/profile/mfa"
WRONG = "wrong-password-123"
NEW_PASSWORD = "amber-quartz-lantern-58"


@pytest.fixture
def desk():
    return EmployeeFactory(username="desk", role=Role.RECEPTIONIST)


def api_signed_in(api_client, employee, secret=None):
    data = {"username": employee.username, "password": DEFAULT_PASSWORD}
    if secret:
        data["mfa_code"] = pyotp.TOTP(secret).now()
    pair = api_client.post(LOGIN, data, format="json").json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")


def failed_sign_ins(employee) -> int:
    return Event.objects.filter(type="employee.login_failed", aggregate_id=str(employee.pk)).count()


def login_answer(api_client, employee) -> str:
    api_client.credentials()
    response = api_client.post(LOGIN, {"username": employee.username, "password": DEFAULT_PASSWORD}, format="json")
    return "signed in" if response.status_code == 200 else response.json()["error"]["code"]


# Finding 1: a session or a bearer token alone cannot bind an authenticator to the account.


def test_api_enrolment_without_the_password_is_refused(api_client, desk, clock):
    api_signed_in(api_client, desk)

    response = api_client.post(f"{MFA}/enrolment", {}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]
    assert not TOTPDevice.objects.filter(user=desk).exists()


def test_api_enrolment_with_a_wrong_password_is_a_failed_sign_in(api_client, desk, clock):
    api_signed_in(api_client, desk)

    response = api_client.post(f"{MFA}/enrolment", {"password": WRONG}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"password": ["Not correct."]}
    assert failed_sign_ins(desk) == 1
    assert not TOTPDevice.objects.filter(user=desk).exists()


def test_api_enrolment_confirm_with_a_wrong_password_binds_nothing(api_client, desk, clock):
    api_signed_in(api_client, desk)
    secret = api_client.post(f"{MFA}/enrolment", {"password": DEFAULT_PASSWORD}, format="json").json()["secret"]

    response = api_client.post(
        f"{MFA}/enrolment/confirm", {"password": WRONG, "code": pyotp.TOTP(secret).now()}, format="json"
    )

    assert response.status_code == 400
    assert failed_sign_ins(desk) == 1
    assert not has_mfa(desk)


def test_html_enrolment_start_with_a_wrong_password_shows_the_error_and_counts(client, desk, clock):
    client.force_login(desk)

    response = client.post(reverse("mfa-enroll"), {"action": "start", "start-password": WRONG})

    assert response.status_code == 200
    assert b"The password is not correct." in response.content
    assert not TOTPDevice.objects.filter(user=desk).exists()
    assert failed_sign_ins(desk) == 1


def test_html_enrolment_confirm_needs_the_password(client, desk, clock):
    client.force_login(desk)
    client.post(reverse("mfa-enroll"), {"action": "start", "start-password": DEFAULT_PASSWORD})
    secret = client.get(reverse("mfa-enroll")).context["secret"]

    response = client.post(reverse("mfa-enroll"), {"code": pyotp.TOTP(secret).now(), "password": WRONG})

    assert b"The password is not correct." in response.content
    assert not has_mfa(desk)


# Finding 2: every password check feeds the one lockout.


def test_wrong_current_passwords_on_the_password_page_lock_the_account(client, api_client, desk, clock, settings):
    client.force_login(desk)
    form = {"old_password": WRONG, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}

    answers = [client.post(reverse("password_change"), form) for _ in range(settings.RATE_LIMIT_MAX_ATTEMPTS)]

    assert b"The password is not correct." in answers[0].content
    assert b"this account is locked" in answers[-1].content
    assert failed_sign_ins(desk) == settings.RATE_LIMIT_MAX_ATTEMPTS
    assert login_answer(api_client, desk) == "locked_out"


def test_locked_account_cannot_change_its_password_even_with_the_right_one(client, api_client, desk, clock, settings):
    client.force_login(desk)
    for _ in range(settings.RATE_LIMIT_MAX_ATTEMPTS):
        api_client.post(LOGIN, {"username": "desk", "password": WRONG}, format="json")
    form = {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}

    response = client.post(reverse("password_change"), form)

    assert b"this account is locked" in response.content
    desk.refresh_from_db()
    assert desk.check_password(DEFAULT_PASSWORD)


def test_right_current_password_changes_it(client, desk, clock):
    client.force_login(desk)
    form = {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}

    response = client.post(reverse("password_change"), form)

    assert response["Location"] == reverse("profile")
    desk.refresh_from_db()
    assert desk.check_password(NEW_PASSWORD)
    assert failed_sign_ins(desk) == 0


def test_wrong_passwords_on_api_mfa_disable_lock_the_account(api_client, desk, clock, settings):
    secret = enrol_mfa(desk)
    api_signed_in(api_client, desk, secret)
    clock.shift(30)
    body = {"password": WRONG, "code": pyotp.TOTP(secret).now()}

    answers = [api_client.post(f"{MFA}/disable", body, format="json") for _ in range(settings.RATE_LIMIT_MAX_ATTEMPTS)]

    assert [answer.status_code for answer in answers] == [400] * (settings.RATE_LIMIT_MAX_ATTEMPTS - 1) + [429]
    assert answers[-1].json()["error"]["code"] == "locked_out"
    assert has_mfa(desk)
    right = api_client.post(f"{MFA}/disable", {**body, "password": DEFAULT_PASSWORD}, format="json")
    assert right.status_code == 429
    assert has_mfa(desk)


def test_a_token_whose_second_factor_was_turned_off_stops_working_when_the_role_comes_to_need_one(
    api_client, desk, clock
):
    secret = enrol_mfa(desk)
    api_signed_in(api_client, desk, secret)
    clock.shift(30)
    body = {"password": DEFAULT_PASSWORD, "code": pyotp.TOTP(secret).now()}
    assert api_client.post(f"{MFA}/disable", body, format="json").status_code == 204
    desk.role = Role.MANAGER
    desk.save()

    assert api_client.get("/api/v1/employees/profile").status_code == 401
    assert login_answer(api_client, desk) == "mfa_enrollment_required"


def test_wrong_codes_on_api_backup_code_regeneration_count(api_client, desk, clock, settings):
    secret = enrol_mfa(desk)
    api_signed_in(api_client, desk, secret)
    body = {"password": DEFAULT_PASSWORD, "code": "000000"}

    answers = [
        api_client.post(f"{MFA}/backup-codes", body, format="json") for _ in range(settings.RATE_LIMIT_MAX_ATTEMPTS)
    ]

    assert answers[0].json()["error"]["code"] == "invalid_mfa_code"
    assert answers[-1].json()["error"]["code"] == "locked_out"
    assert failed_sign_ins(desk) == settings.RATE_LIMIT_MAX_ATTEMPTS


def test_html_backup_codes_need_the_password(client, clock):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    totp = pyotp.TOTP(enrol_mfa(boss))
    verified_login(client, boss)

    response = client.post(reverse("mfa-backup-codes"), {"password": WRONG, "code": totp.now()})

    assert b"The password is not correct." in response.content
    assert failed_sign_ins(boss) == 1
