import pyotp
import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from employees.models import Role, SignIn
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa, give_backup_codes
from events.models import Event

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
PROFILE = "/api/v1/employees/profile"


def login(api_client, username, password=DEFAULT_PASSWORD, **extra):
    return api_client.post(LOGIN, {"username": username, "password": password, **extra}, format="json")


def bearer(api_client, access_token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")


def test_login_without_mfa_answers_the_guides_token_pair(api_client, settings):
    employee = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    response = login(api_client, "desk")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.JWT_EXPIRATION
    bearer(api_client, body["access_token"])
    profile = api_client.get(PROFILE)
    assert profile.status_code == 200
    assert profile.json()["username"] == "desk"
    assert profile.json()["id"] == employee.pk


def test_login_accepts_a_trailing_slash(api_client):
    EmployeeFactory(username="desk")
    response = api_client.post(f"{LOGIN}/", {"username": "desk", "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 200


def test_successful_login_is_recorded_with_address_and_browser(api_client):
    employee = EmployeeFactory(username="desk")
    api_client.post(
        LOGIN,
        {"username": "desk", "password": DEFAULT_PASSWORD},
        format="json",
        HTTP_USER_AGENT="StudioTablet/1.0",
        REMOTE_ADDR="203.0.113.7",
    )
    event = Event.objects.get(type="employee.login")
    assert event.aggregate_id == str(employee.pk)
    assert event.payload["ip_address"] == "203.0.113.7"
    assert event.payload["user_agent"] == "StudioTablet/1.0"
    assert event.payload["channel"] == "api"


@pytest.mark.parametrize(
    "refused",
    [
        lambda api_client: login(api_client, "desk", "not-the-password"),
        lambda api_client: api_client.post(REFRESH, {"refresh_token": "not-a-token"}, format="json"),
        lambda api_client: api_client.get(PROFILE),
        lambda api_client: api_client.get(PROFILE, HTTP_AUTHORIZATION="Bearer not-a-token"),
    ],
    ids=["wrong password", "bad refresh token", "no token", "bad access token"],
)
def test_every_401_names_how_to_authenticate(api_client, refused):
    EmployeeFactory(username="desk")

    response = refused(api_client)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_wrong_password_is_refused_and_recorded(api_client):
    EmployeeFactory(username="desk")
    response = login(api_client, "desk", "not-the-password")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    event = Event.objects.get(type="employee.login_failed")
    assert event.payload["reason"] == "invalid_credentials"
    assert event.payload["username"] == "desk"


def test_unknown_username_gets_the_same_answer_as_a_wrong_password(api_client):
    response = login(api_client, "nobody")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert Event.objects.filter(type="employee.login_failed", payload__username="nobody").exists()


def test_deactivated_employee_cannot_log_in(api_client):
    EmployeeFactory(username="gone", is_active=False)
    assert login(api_client, "gone").json()["error"]["code"] == "invalid_credentials"


def test_missing_fields_are_a_validation_error(api_client):
    response = api_client.post(LOGIN, {"username": "desk"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert "password" in response.json()["error"]["details"]


def test_mfa_account_without_code_gets_mfa_required(api_client, clock):
    employee = EmployeeFactory(username="boss", role=Role.MANAGER)
    enrol_mfa(employee)
    response = login(api_client, "boss")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "mfa_required"
    assert not SignIn.objects.exists()


def test_mfa_account_logs_in_with_a_code_from_the_enrolled_secret(api_client, clock):
    employee = EmployeeFactory(username="boss", role=Role.MANAGER)
    secret = enrol_mfa(employee)
    response = login(api_client, "boss", mfa_code=pyotp.TOTP(secret).now())
    assert response.status_code == 200
    assert SignIn.objects.get(employee=employee).mfa_verified


def test_wrong_mfa_code_is_refused_and_counts_as_a_failure(api_client, clock):
    employee = EmployeeFactory(username="boss", role=Role.MANAGER)
    secret = enrol_mfa(employee)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    response = login(api_client, "boss", mfa_code=wrong)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_mfa_code"
    assert AccessAttempt.objects.get(username="boss").failures_since_start == 1
    assert Event.objects.get(type="employee.login_failed").payload["reason"] == "invalid_mfa_code"


def test_the_right_code_typed_again_after_wrong_ones_signs_in(api_client, clock):
    employee = EmployeeFactory(username="boss", role=Role.MANAGER)
    totp = pyotp.TOTP(enrol_mfa(employee))
    wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    for _ in range(3):  # the lockout allows five
        assert login(api_client, "boss", mfa_code=wrong).status_code == 401
        clock.shift(3)

    assert login(api_client, "boss", mfa_code=totp.now()).status_code == 200


def test_a_used_totp_code_cannot_be_replayed(api_client, clock):
    employee = EmployeeFactory(username="boss", role=Role.MANAGER)
    code = pyotp.TOTP(enrol_mfa(employee)).now()
    assert login(api_client, "boss", mfa_code=code).status_code == 200
    clock.shift(5)
    replay = login(api_client, "boss", mfa_code=code)
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "invalid_mfa_code"


def test_next_time_step_code_works_after_a_login(api_client, clock):
    employee = EmployeeFactory(username="boss", role=Role.MANAGER)
    totp = pyotp.TOTP(enrol_mfa(employee))
    assert login(api_client, "boss", mfa_code=totp.now()).status_code == 200
    clock.shift(30)
    assert login(api_client, "boss", mfa_code=totp.now()).status_code == 200


def test_a_backup_code_works_once(api_client, clock):
    employee = EmployeeFactory(username="boss", role=Role.MANAGER)
    enrol_mfa(employee)
    give_backup_codes(employee, "k7q2m4xa", "p3r5t6vw")
    assert login(api_client, "boss", mfa_code="k7q2m4xa").status_code == 200
    clock.shift(2)
    second_use = login(api_client, "boss", mfa_code="k7q2m4xa")
    assert second_use.status_code == 401
    assert second_use.json()["error"]["code"] == "invalid_mfa_code"
    clock.shift(2)
    assert login(api_client, "boss", mfa_code="p3r5t6vw").status_code == 200


def test_role_requiring_mfa_without_enrolment_is_told_to_enrol(api_client):
    EmployeeFactory(username="boss", role=Role.MANAGER)
    response = login(api_client, "boss")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_enrollment_required"
    assert "Profile" in response.json()["error"]["message"]


def test_mfa_requirement_follows_the_setting(api_client, settings):
    settings.MFA_REQUIRED_ROLES = ["admin"]
    EmployeeFactory(username="boss", role=Role.MANAGER)
    assert login(api_client, "boss").status_code == 200


def test_refresh_rotates_and_blacklists_the_old_refresh_token(api_client):
    EmployeeFactory(username="desk")
    first = login(api_client, "desk").json()
    rotated = api_client.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    assert BlacklistedToken.objects.count() == 1
    bearer(api_client, rotated.json()["access_token"])
    assert api_client.get(PROFILE).status_code == 200


def test_a_refresh_token_issued_before_the_role_required_mfa_gets_no_new_pair(api_client):
    desk = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    pair = login(api_client, "desk").json()
    desk.role = Role.MANAGER
    desk.save()
    response = api_client.post(REFRESH, {"refresh_token": pair["refresh_token"]}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_enrollment_required"
    assert not BlacklistedToken.objects.exists()


def test_refresh_refuses_an_access_token(api_client):
    EmployeeFactory(username="desk")
    pair = login(api_client, "desk").json()
    response = api_client.post(REFRESH, {"refresh_token": pair["access_token"]}, format="json")
    assert response.status_code == 401


def test_tokens_of_no_sign_in_are_refused_so_ending_sign_ins_need_not_blacklist_them(api_client):
    desk = EmployeeFactory(username="desk")
    untracked = RefreshToken.for_user(desk)  # signed with the app's key, but of no sign-in

    refreshed = api_client.post(REFRESH, {"refresh_token": str(untracked)}, format="json")
    bearer(api_client, str(untracked.access_token))

    assert refreshed.status_code == 401
    assert api_client.get(PROFILE).status_code == 401


def test_logout_blacklists_the_refresh_token_and_stops_the_access_token(api_client, django_capture_on_commit_callbacks):
    EmployeeFactory(username="desk")
    pair = login(api_client, "desk").json()
    bearer(api_client, pair["access_token"])
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(LOGOUT, {}, format="json").status_code == 204
    assert api_client.get(PROFILE).status_code == 401
    api_client.credentials()
    assert api_client.post(REFRESH, {"refresh_token": pair["refresh_token"]}, format="json").status_code == 401


def test_logout_with_only_the_refresh_token(api_client):
    EmployeeFactory(username="desk")
    pair = login(api_client, "desk").json()
    assert api_client.post(LOGOUT, {"refresh_token": pair["refresh_token"]}, format="json").status_code == 204
    bearer(api_client, pair["access_token"])
    assert api_client.get(PROFILE).status_code == 401


def test_logout_with_the_refresh_token_ends_the_sign_in_though_the_access_token_sent_has_expired(
    api_client, clock, settings
):
    # Clients send their last access token with every call; by logout time it may have run out.
    EmployeeFactory(username="desk")
    pair = login(api_client, "desk").json()
    bearer(api_client, pair["access_token"])
    clock.shift(settings.JWT_EXPIRATION + 1)

    assert api_client.post(LOGOUT, {"refresh_token": pair["refresh_token"]}, format="json").status_code == 204
    api_client.credentials()
    assert api_client.post(REFRESH, {"refresh_token": pair["refresh_token"]}, format="json").status_code == 401


def test_logout_without_any_token_is_refused(api_client):
    response = api_client.post(LOGOUT, {}, format="json")
    assert response.status_code == 401


def test_access_token_expires_after_jwt_expiration(api_client, clock, settings):
    EmployeeFactory(username="desk")
    pair = login(api_client, "desk").json()
    bearer(api_client, pair["access_token"])
    clock.shift(settings.JWT_EXPIRATION + 1)
    assert api_client.get(PROFILE).status_code == 401


def test_a_token_accepted_before_is_refused_like_any_other_once_expired(api_client, clock, settings):
    EmployeeFactory(username="desk")
    used, unused = login(api_client, "desk").json(), login(api_client, "desk").json()
    bearer(api_client, used["access_token"])
    assert api_client.get(PROFILE).status_code == 200

    clock.shift(settings.JWT_EXPIRATION + 1)
    refused = api_client.get(PROFILE)
    bearer(api_client, unused["access_token"])
    never_seen = api_client.get(PROFILE)

    assert refused.status_code == never_seen.status_code == 401
    assert refused.json() == never_seen.json()


def test_deactivation_stops_tokens_at_once(api_client):
    employee = EmployeeFactory(username="desk")
    pair = login(api_client, "desk").json()
    employee.is_active = False
    employee.save()
    bearer(api_client, pair["access_token"])
    assert api_client.get(PROFILE).status_code == 401


def test_a_browser_signed_in_on_the_pages_signs_out_through_the_api(client):
    EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    client.post(reverse("login"), {"username": "desk", "password": DEFAULT_PASSWORD})
    sign_in = SignIn.objects.get(employee__username="desk")
    assert client.get(PROFILE).status_code == 200

    response = client.post(LOGOUT, {}, content_type="application/json")

    assert response.status_code == 204
    assert SignIn.objects.get(pk=sign_in.pk).revoked_at is not None
    assert client.get(PROFILE).status_code in (401, 403)
