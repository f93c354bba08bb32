import json

import pyotp
import pytest
from django.contrib.auth.models import Permission

from employees.models import Employee, Role, SignIn
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa
from events.models import Event

pytestmark = pytest.mark.django_db

PROFILE = "/api/v1/employees/profile"


def signed_in(api_client, employee):
    """Log in through the API as ``employee`` (with a code when they have MFA); returns the pair."""
    data = {"username": employee.username, "password": DEFAULT_PASSWORD}
    secret = getattr(employee, "mfa_secret", None)
    if secret:
        data["mfa_code"] = pyotp.TOTP(secret).now()
    pair = api_client.post("/api/v1/auth/login", data, format="json").json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    return pair


def employee_with(role, **fields):
    employee = EmployeeFactory(role=role, **fields)
    if employee.mfa_required:
        employee.mfa_secret = enrol_mfa(employee)
    return employee


def test_profile_shows_the_employee_with_mfa_status_and_permissions(api_client, clock):
    desk = employee_with(Role.RECEPTIONIST, full_name="Dana Desk")
    signed_in(api_client, desk)
    body = api_client.get(PROFILE).json()
    assert body["full_name"] == "Dana Desk"
    assert body["role"] == "receptionist"
    assert body["mfa"] == {"enabled": False, "required": False, "backup_codes_left": 0}
    assert "employees.view_employee" in body["permissions"]


def test_profile_is_written_as_drfs_json_renderer_writes_it(api_client, clock):
    """The plain JSON profile is rendered by the view; DRF still renders any other media type, and
    both carry the same headers and the same answer."""
    signed_in(api_client, employee_with(Role.RECEPTIONIST, full_name="Zoë Ñúñez"))

    plain = api_client.get(PROFILE)
    indented = api_client.get(PROFILE, HTTP_ACCEPT="application/json; indent=4")

    assert plain["Content-Type"] == "application/json"
    answer = json.loads(indented.content)
    assert plain.content == json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
    assert b'\n    "id"' in indented.content
    ignored = {"Content-Type", "Content-Length", "X-Request-ID"}
    plain_headers = {name: value for name, value in plain.headers.items() if name not in ignored}
    indented_headers = {name: value for name, value in indented.headers.items() if name not in ignored}
    assert plain_headers == indented_headers


def test_a_profile_read_again_is_the_same_bytes_drfs_json_renderer_writes(api_client, clock):
    signed_in(api_client, employee_with(Role.RECEPTIONIST, full_name="Zoë Ñúñez"))

    first, again = api_client.get(PROFILE), api_client.get(PROFILE)
    indented = api_client.get(PROFILE, HTTP_ACCEPT="application/json; indent=4")

    assert again.content == first.content
    answer = json.loads(indented.content)
    assert again.content == json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()


def test_the_profiles_calendar_feed_url_is_on_the_host_asked(api_client, clock):
    signed_in(api_client, employee_with(Role.RECEPTIONIST))

    on_localhost = api_client.get(PROFILE, HTTP_HOST="localhost").json()["calendar_feed_url"]
    on_loopback = api_client.get(PROFILE, HTTP_HOST="127.0.0.1").json()["calendar_feed_url"]

    assert on_localhost.startswith("http://localhost/calendar/feeds/")
    assert on_loopback == on_localhost.replace("http://localhost/", "http://127.0.0.1/")


def test_a_permission_given_to_the_role_shows_in_the_profile_at_once(api_client, clock):
    desk = employee_with(Role.RECEPTIONIST)
    signed_in(api_client, desk)
    assert "employees.delete_employee" not in api_client.get(PROFILE).json()["permissions"]

    desk.groups.get().permissions.add(Permission.objects.get(codename="delete_employee"))

    assert "employees.delete_employee" in api_client.get(PROFILE).json()["permissions"]


@pytest.mark.parametrize("deleted", ["the role's group", "a permission of the role"])
def test_a_deleted_group_or_permission_leaves_the_profile_at_once(api_client, clock, deleted):
    desk = employee_with(Role.RECEPTIONIST)
    signed_in(api_client, desk)
    assert "bookings.view_booking" in api_client.get(PROFILE).json()["permissions"]

    if deleted == "the role's group":
        desk.groups.get().delete()  # its memberships go with it, without m2m_changed
    else:
        Permission.objects.get(codename="view_booking").delete()

    assert "bookings.view_booking" not in api_client.get(PROFILE).json()["permissions"]


def test_a_changed_name_shows_in_the_profile_at_once(api_client, clock, django_capture_on_commit_callbacks):
    desk = employee_with(Role.RECEPTIONIST, full_name="Dana Desk")
    signed_in(api_client, desk)
    assert api_client.get(PROFILE).json()["full_name"] == "Dana Desk"

    with django_capture_on_commit_callbacks(execute=True):
        api_client.patch(f"/api/v1/employees/{desk.pk}", {"full_name": "Dana Front"}, format="json")

    assert api_client.get(PROFILE).json()["full_name"] == "Dana Front"


def test_guide_example_updates_just_the_two_fields_sent(api_client, clock):
    admin = employee_with(Role.ADMIN, phone="+1 555 0100")
    signed_in(api_client, admin)
    response = api_client.put(
        f"/api/v1/employees/{admin.pk}", {"full_name": "John Admin", "department": "Management"}, format="json"
    )
    assert response.status_code == 200
    admin.refresh_from_db()
    assert (admin.full_name, admin.department, admin.phone, admin.role) == (
        "John Admin",
        "Management",
        "+1 555 0100",
        Role.ADMIN,
    )


def test_patch_and_trailing_slash_work_too(api_client, clock):
    desk = employee_with(Role.RECEPTIONIST)
    signed_in(api_client, desk)
    response = api_client.patch(f"/api/v1/employees/{desk.pk}/", {"phone": "+49 30 5555"}, format="json")
    assert response.status_code == 200
    assert response.json()["phone"] == "+49 30 5555"


def test_photographer_edits_own_name_but_not_own_role(api_client, clock):
    photographer = employee_with(Role.PHOTOGRAPHER)
    signed_in(api_client, photographer)
    url = f"/api/v1/employees/{photographer.pk}"
    assert api_client.put(url, {"full_name": "Pat Lens"}, format="json").status_code == 200
    response = api_client.put(url, {"role": "manager"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("change", [{"email": "pat@elsewhere.example"}, {"is_active": False}], ids=["email", "active"])
def test_an_employee_cannot_change_their_own_email_or_active_flag(api_client, clock, change):
    photographer = employee_with(Role.PHOTOGRAPHER, email="pat@studio.example")
    signed_in(api_client, photographer)

    response = api_client.put(f"/api/v1/employees/{photographer.pk}", change, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    stored = Employee.objects.get(pk=photographer.pk)
    assert (stored.email, stored.is_active) == ("pat@studio.example", True)


def test_manager_manages_front_desk_and_photographers(api_client, clock):
    manager = employee_with(Role.MANAGER)
    desk = employee_with(Role.RECEPTIONIST)
    signed_in(api_client, manager)
    response = api_client.put(f"/api/v1/employees/{desk.pk}", {"role": "photographer"}, format="json")
    assert response.status_code == 200
    desk = Employee.objects.get(pk=desk.pk)
    assert desk.role == Role.PHOTOGRAPHER
    assert desk.has_perm("bookings.start_booking")
    event = Event.objects.get(type="employee.role_changed")
    assert event.payload == {"from": "receptionist", "to": "photographer"}
    assert event.actor == manager


def test_manager_cannot_promote_anyone_to_manager(api_client, clock):
    manager = employee_with(Role.MANAGER)
    desk = employee_with(Role.RECEPTIONIST)
    signed_in(api_client, manager)
    response = api_client.put(f"/api/v1/employees/{desk.pk}", {"role": "manager"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("target_role", [Role.MANAGER, Role.ADMIN])
def test_manager_cannot_change_managers_or_admins(api_client, clock, target_role):
    manager = employee_with(Role.MANAGER)
    other = employee_with(target_role)
    signed_in(api_client, manager)
    assert api_client.put(f"/api/v1/employees/{other.pk}", {"phone": "1"}, format="json").status_code == 403


def test_manager_cannot_raise_or_change_own_role(api_client, clock):
    manager = employee_with(Role.MANAGER)
    signed_in(api_client, manager)
    assert api_client.put(f"/api/v1/employees/{manager.pk}", {"role": "admin"}, format="json").status_code == 403


def test_admin_promotes_and_the_new_role_applies_at_once(api_client, clock):
    admin = employee_with(Role.ADMIN)
    desk = employee_with(Role.RECEPTIONIST)
    signed_in(api_client, admin)
    api_client.put(f"/api/v1/employees/{desk.pk}", {"role": "manager"}, format="json")
    assert Employee.objects.get(pk=desk.pk).has_perm("employees.change_employee")


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(api_client, clock):
    admin = employee_with(Role.ADMIN)
    signed_in(api_client, admin)
    url = f"/api/v1/employees/{admin.pk}"
    for change in ({"role": "manager"}, {"is_active": False}):
        response = api_client.put(url, change, format="json")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "last_admin"


def test_an_admin_may_step_down_while_another_admin_remains(api_client, clock):
    admin = employee_with(Role.ADMIN)
    employee_with(Role.ADMIN)
    signed_in(api_client, admin)
    response = api_client.put(f"/api/v1/employees/{admin.pk}", {"role": "manager"}, format="json")
    assert response.status_code == 200


def test_an_inactive_admin_does_not_count_as_the_remaining_admin(api_client, clock):
    admin = employee_with(Role.ADMIN)
    employee_with(Role.ADMIN, is_active=False)
    signed_in(api_client, admin)
    assert api_client.put(f"/api/v1/employees/{admin.pk}", {"role": "manager"}, format="json").status_code == 409


def test_deactivation_ends_all_sign_ins_of_that_employee(api_client, client, clock):
    admin = employee_with(Role.ADMIN)
    desk = employee_with(Role.RECEPTIONIST)
    desk_api = type(api_client)()
    desk_pair = signed_in(desk_api, desk)
    client.post("/login/", {"username": desk.username, "password": DEFAULT_PASSWORD})
    signed_in(api_client, admin)
    assert api_client.put(f"/api/v1/employees/{desk.pk}", {"is_active": False}, format="json").status_code == 200
    assert not SignIn.objects.filter(employee=desk, revoked_at__isnull=True).exists()
    assert desk_api.get(PROFILE).status_code == 401
    assert client.get("/profile/")["Location"].startswith("/login/")
    refresh = desk_api.post("/api/v1/auth/refresh", {"refresh_token": desk_pair["refresh_token"]}, format="json")
    assert refresh.status_code == 401


def test_unknown_fields_and_bad_values_are_validation_errors(api_client, clock):
    admin = employee_with(Role.ADMIN)
    signed_in(api_client, admin)
    response = api_client.put(f"/api/v1/employees/{admin.pk}", {"role": "boss"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()["error"]["details"]


def test_missing_employee_is_404(api_client, clock):
    signed_in(api_client, employee_with(Role.ADMIN))
    assert api_client.get("/api/v1/employees/999999").status_code == 404


def test_list_of_employees_for_managers_with_bounded_queries(api_client, clock, django_assert_max_num_queries):
    manager = employee_with(Role.MANAGER)
    for _ in range(5):
        EmployeeFactory(role=Role.PHOTOGRAPHER)
    signed_in(api_client, manager)
    with django_assert_max_num_queries(8):
        response = api_client.get("/api/v1/employees/")
    assert response.status_code == 200
    assert response.json()["count"] == 6


def test_photographer_cannot_list_employees(api_client, clock):
    signed_in(api_client, employee_with(Role.PHOTOGRAPHER))
    assert api_client.get("/api/v1/employees").status_code == 403


def test_sign_ins_list_marks_the_current_one_and_revokes_one(api_client, clock):
    desk = employee_with(Role.RECEPTIONIST)
    other = type(api_client)()
    signed_in(other, desk)
    signed_in(api_client, desk)
    sessions = api_client.get("/api/v1/employees/profile/sessions").json()
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1
    other_id = next(s["id"] for s in sessions if not s["current"])
    assert api_client.delete(f"/api/v1/employees/profile/sessions/{other_id}").status_code == 204
    assert other.get(PROFILE).status_code == 401
    assert api_client.get(PROFILE).status_code == 200


def test_revoke_all_ends_every_other_sign_in(api_client, client, clock):
    desk = employee_with(Role.RECEPTIONIST)
    others = [type(api_client)() for _ in range(2)]
    for other in others:
        signed_in(other, desk)
    client.post("/login/", {"username": desk.username, "password": DEFAULT_PASSWORD})
    signed_in(api_client, desk)
    response = api_client.delete("/api/v1/employees/profile/sessions")
    assert response.json() == {"revoked": 3}
    assert all(other.get(PROFILE).status_code == 401 for other in others)
    assert client.get("/profile/")["Location"].startswith("/login/")
    assert api_client.get(PROFILE).status_code == 200


def test_cannot_revoke_someone_elses_sign_in(api_client, clock):
    desk = employee_with(Role.RECEPTIONIST)
    signed_in(type(api_client)(), desk)
    signed_in(api_client, employee_with(Role.PHOTOGRAPHER))
    theirs = SignIn.objects.get(employee=desk)
    assert api_client.delete(f"/api/v1/employees/profile/sessions/{theirs.pk}").status_code == 404


def test_api_mfa_enrolment_with_pyotp_then_login_needs_the_code(api_client, clock):
    desk = employee_with(Role.RECEPTIONIST)
    signed_in(api_client, desk)
    enrolment = api_client.post(
        "/api/v1/employees/profile/mfa/enrolment", {"password": DEFAULT_PASSWORD}, format="json"
    ).json()
    assert enrolment["otpauth_url"].startswith("otpauth://totp/PhotoStudio")
    assert "<svg" in enrolment["qr_svg"]
    totp = pyotp.TOTP(enrolment["secret"])
    confirmed = api_client.post(
        "/api/v1/employees/profile/mfa/enrolment/confirm",
        {"password": DEFAULT_PASSWORD, "code": totp.now()},
        format="json",
    )
    assert confirmed.status_code == 200
    assert len(confirmed.json()["backup_codes"]) == 10
    assert api_client.get("/api/v1/employees/profile/mfa").json()["enabled"] is True
    assert api_client.get(PROFILE).status_code == 200
    api_client.credentials()
    again = api_client.post("/api/v1/auth/login", {"username": desk.username, "password": DEFAULT_PASSWORD})
    assert again.json()["error"]["code"] == "mfa_required"
    clock.shift(30)
    with_code = {"username": desk.username, "password": DEFAULT_PASSWORD, "mfa_code": totp.now()}
    assert api_client.post("/api/v1/auth/login", with_code).status_code == 200


def test_api_enrolment_twice_is_a_conflict(api_client, clock):
    manager = employee_with(Role.MANAGER)
    signed_in(api_client, manager)
    response = api_client.post("/api/v1/employees/profile/mfa/enrolment", {"password": DEFAULT_PASSWORD})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "mfa_already_enabled"


def test_api_backup_codes_regenerate_and_disable(api_client, clock):
    desk = employee_with(Role.RECEPTIONIST)
    desk.mfa_secret = enrol_mfa(desk)
    signed_in(api_client, desk)
    totp = pyotp.TOTP(desk.mfa_secret)
    clock.shift(30)
    codes = api_client.post(
        "/api/v1/employees/profile/mfa/backup-codes", {"password": DEFAULT_PASSWORD, "code": totp.now()}
    ).json()["backup_codes"]
    disable = api_client.post(
        "/api/v1/employees/profile/mfa/disable", {"password": DEFAULT_PASSWORD, "code": codes[0]}, format="json"
    )
    assert disable.status_code == 204
    assert api_client.get("/api/v1/employees/profile/mfa").json()["enabled"] is False


def test_role_change_to_an_mfa_role_stops_tokens_made_without_mfa(api_client, clock):
    desk = employee_with(Role.RECEPTIONIST)
    signed_in(api_client, desk)
    desk.role = Role.MANAGER
    desk.save()
    response = api_client.get(PROFILE)
    assert response.status_code == 401


def test_a_phone_that_is_no_phone_number_is_refused_and_the_old_one_kept(api_client, clock):
    desk = employee_with(Role.RECEPTIONIST, phone="+49 30 5555")
    signed_in(api_client, desk)
    response = api_client.patch(f"/api/v1/employees/{desk.pk}", {"phone": "ring the front desk"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert response.json()["error"]["details"]["phone"] == [
        "Enter a phone number in international form, such as +14155550123."
    ]
    desk.refresh_from_db()
    assert desk.phone == "+49 30 5555"
