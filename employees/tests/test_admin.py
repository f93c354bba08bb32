import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from employees import calendar_feed, selectors, services
from employees.admin import EmployeeChangeForm
from employees.models import Employee, Role, SignIn
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa, give_backup_codes, verified_login
from events.models import Event

pytestmark = pytest.mark.django_db

STRONG = "willow-harbour-copper-77"


def change_url(employee):
    return reverse("admin:employees_employee_change", args=[employee.pk])


def change_data(employee, **changes):
    data = {name: getattr(employee, name) for name in ("full_name", "email", "phone", "department", "role")}
    data["is_active"] = "on" if employee.is_active else ""
    data.update(changes)
    return {name: value for name, value in data.items() if value is not False}


@pytest.fixture
def manager_client(client):
    verified_login(client, EmployeeFactory(username="boss", role=Role.MANAGER))
    return client


@pytest.fixture
def admin_client(client):
    verified_login(client, EmployeeFactory(username="owner", role=Role.ADMIN))
    return client


def test_employee_list_shows_mfa_and_lock_state(manager_client):
    enrol_mfa(EmployeeFactory(role=Role.PHOTOGRAPHER))
    response = manager_client.get(reverse("admin:employees_employee_changelist"))
    assert response.status_code == 200
    assert b"Unlock sign-in" in response.content


def test_manager_adds_a_photographer_through_the_service(manager_client):
    response = manager_client.post(
        reverse("admin:employees_employee_add"),
        {"username": "lens", "full_name": "Pat Lens", "role": "photographer", "password1": STRONG, "password2": STRONG},
    )
    assert response.status_code == 302
    lens = Employee.objects.get(username="lens")
    assert lens.check_password(STRONG)
    assert lens.has_perm("bookings.start_booking")
    assert Event.objects.filter(type="employee.created", aggregate_id=str(lens.pk)).exists()


def test_manager_cannot_add_a_manager(manager_client):
    response = manager_client.post(
        reverse("admin:employees_employee_add"),
        {"username": "boss2", "role": "manager", "password1": STRONG, "password2": STRONG},
    )
    assert response.status_code == 200
    assert not Employee.objects.filter(username="boss2").exists()


def test_manager_changes_a_receptionists_role_with_the_event(manager_client):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    response = manager_client.post(change_url(desk), change_data(desk, role="photographer"))
    assert response.status_code == 302
    assert Employee.objects.get(pk=desk.pk).role == Role.PHOTOGRAPHER
    assert Event.objects.filter(type="employee.role_changed", aggregate_id=str(desk.pk)).exists()


def test_manager_only_views_an_admin(manager_client):
    owner = EmployeeFactory(role=Role.ADMIN)
    response = manager_client.get(change_url(owner))
    assert response.status_code == 200
    assert b'name="role"' not in response.content


def test_last_admin_demotion_is_a_form_error(admin_client):
    owner = Employee.objects.get(username="owner")
    response = admin_client.post(change_url(owner), change_data(owner, role="manager"))
    assert response.status_code == 200
    assert b"at least one active admin" in response.content
    assert Employee.objects.get(pk=owner.pk).role == Role.ADMIN


def test_a_refusal_only_the_save_finds_is_shown_and_nothing_of_the_request_is_saved(admin_client, monkeypatch):
    owner = Employee.objects.get(username="owner")
    partner = EmployeeFactory(role=Role.ADMIN)
    validate = EmployeeChangeForm.clean

    def validated_then_partner_demotes_owner(form):
        cleaned = validate(form)
        services.update_employee(employee=owner, actor=partner, role=Role.MANAGER)
        return cleaned

    monkeypatch.setattr(EmployeeChangeForm, "clean", validated_then_partner_demotes_owner)

    response = admin_client.post(change_url(partner), change_data(partner, role="manager"), follow=True)

    assert response.status_code == 200
    assert b"at least one active admin" in response.content
    # The request's transaction is rolled back, the colleague's change (made in it here) included.
    assert Employee.objects.get(pk=partner.pk).role == Role.ADMIN
    assert Employee.objects.get(pk=owner.pk).role == Role.ADMIN


def test_deactivating_in_the_admin_ends_every_sign_in(admin_client, api_client):
    desk = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    api_client.post("/api/v1/auth/login", {"username": "desk", "password": DEFAULT_PASSWORD}, format="json")
    admin_client.post(change_url(desk), change_data(desk, is_active=False))
    assert not Employee.objects.get(pk=desk.pk).is_active
    assert not SignIn.objects.filter(employee=desk, revoked_at__isnull=True).exists()


def test_employees_cannot_be_deleted_only_deactivated(admin_client):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    assert admin_client.get(reverse("admin:employees_employee_delete", args=[desk.pk])).status_code == 403


def test_reset_mfa_action_removes_the_app_and_ends_sign_ins(manager_client):
    lens = EmployeeFactory(role=Role.PHOTOGRAPHER)
    enrol_mfa(lens)
    manager_client.post(
        reverse("admin:employees_employee_changelist"), {"action": "reset_mfa", "_selected_action": [lens.pk]}
    )
    assert not lens.totpdevice_set.exists()
    assert Event.objects.filter(type="employee.mfa_reset", aggregate_id=str(lens.pk)).exists()


def test_reset_mfa_action_leaves_someone_without_mfa_signed_in_and_uninformed(manager_client):
    lens = EmployeeFactory(role=Role.PHOTOGRAPHER)
    pair = APIClient().post(
        "/api/v1/auth/login", {"username": lens.username, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert pair.status_code == 200

    response = manager_client.post(
        reverse("admin:employees_employee_changelist"),
        {"action": "reset_mfa", "_selected_action": [lens.pk]},
        follow=True,
    )

    assert "Two-factor authentication is not set up." in response.content.decode()
    assert SignIn.objects.get(employee=lens).revoked_at is None
    assert not Event.objects.filter(type="employee.mfa_reset").exists()


def test_a_manager_replaces_a_leaked_calendar_feed_of_a_photographer(manager_client):
    lens = EmployeeFactory(role=Role.PHOTOGRAPHER)
    leaked = calendar_feed.token_for(lens.calendar_feed_key)

    manager_client.post(
        reverse("admin:employees_employee_changelist"),
        {"action": "replace_calendar_feeds", "_selected_action": [lens.pk]},
    )

    assert selectors.calendar_feed_owner(leaked) is None
    lens.refresh_from_db()
    assert selectors.calendar_feed_owner(calendar_feed.token_for(lens.calendar_feed_key)) == lens
    assert Event.objects.filter(type="employee.calendar_feed_regenerated", aggregate_id=str(lens.pk)).exists()


def test_no_admin_page_shows_an_employees_authenticator_secret_or_backup_codes(admin_client):
    # Both are shown once, to their owner; the admin resets MFA with the action above, which
    # ends the sign-ins and tells the employee.
    partner = EmployeeFactory(role=Role.ADMIN)
    enrol_mfa(partner)
    give_backup_codes(partner, "tulip4831")
    app, codes = TOTPDevice.objects.get(user=partner), StaticDevice.objects.get(user=partner)
    for path in (
        "/admin/otp_totp/totpdevice/",
        f"/admin/otp_totp/totpdevice/{app.pk}/change/",
        f"/admin/otp_totp/totpdevice/{app.pk}/config/",
        "/admin/otp_static/staticdevice/",
        f"/admin/otp_static/staticdevice/{codes.pk}/change/",
    ):
        response = admin_client.get(path)
        assert response.status_code == 404, path
        assert b"tulip4831" not in response.content


def test_no_admin_page_shows_a_colleagues_tokens(admin_client):
    EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    answer = APIClient().post("/api/v1/auth/login", {"username": "desk", "password": DEFAULT_PASSWORD}, format="json")
    assert answer.status_code == 200
    stored = OutstandingToken.objects.get(user__username="desk")
    for path in (
        "/admin/token_blacklist/outstandingtoken/",
        f"/admin/token_blacklist/outstandingtoken/{stored.pk}/change/",
        "/admin/token_blacklist/blacklistedtoken/",
    ):
        response = admin_client.get(path)
        assert response.status_code == 404, path
        assert stored.token.encode() not in response.content
        assert answer.json()["refresh_token"].encode() not in response.content


def test_actions_refused_for_an_employee_are_reported_not_raised(manager_client):
    owner = EmployeeFactory(role=Role.ADMIN)
    response = manager_client.post(
        reverse("admin:employees_employee_changelist"),
        {"action": "end_sign_ins", "_selected_action": [owner.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert b"may not end" in response.content


def test_admin_password_change_leads_to_the_studios_page(manager_client):
    assert manager_client.get(reverse("admin:password_change"))["Location"] == reverse("password_change")


@pytest.mark.parametrize("query", ["department=%00", "role__exact=%00", "q=%00"])
def test_a_nul_in_an_admin_list_filter_or_search_is_a_bad_request(manager_client, query):
    EmployeeFactory(role=Role.RECEPTIONIST)

    response = manager_client.get(f"{reverse('admin:employees_employee_changelist')}?{query}")

    assert response.status_code == 400


@pytest.mark.parametrize("selected", ["not-an-id", "99999999999999999999"])
def test_an_action_on_a_selection_that_names_no_employee_is_refused_without_a_server_error(manager_client, selected):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)

    response = manager_client.post(
        reverse("admin:employees_employee_changelist"), {"action": "unlock", "_selected_action": [desk.pk, selected]}
    )

    assert response.status_code == 400


SIGN_INS = reverse("admin:employees_signin_changelist")


def test_an_admin_sees_where_employees_are_signed_in_without_their_session_keys(admin_client, api_client):
    EmployeeFactory(username="lens", role=Role.PHOTOGRAPHER)
    api_client.post(
        "/api/v1/auth/login",
        {"username": "lens", "password": DEFAULT_PASSWORD},
        format="json",
        REMOTE_ADDR="203.0.113.9",
    )
    token = SignIn.objects.get(employee__username="lens")
    browser = SignIn.objects.create(
        employee=token.employee,
        channel=SignIn.Channel.BROWSER,
        session_key="s3ss10nk3y" * 4,
        expires_at=token.expires_at,
    )

    listed = admin_client.get(SIGN_INS)
    shown = admin_client.get(reverse("admin:employees_signin_change", args=[token.pk]))

    assert listed.status_code == 200
    assert "203.0.113.9" in listed.content.decode()
    assert shown.status_code == 200
    page = listed.content.decode() + shown.content.decode()
    assert browser.session_key not in page
    assert token.refresh_jti not in page
    assert admin_client.get(reverse("admin:employees_signin_delete", args=[token.pk])).status_code == 403


def test_ending_sign_ins_in_the_admin_ends_only_those_of_employees_one_manages(manager_client, api_client, settings):
    # Managers hold no sign-in permissions by default; an admin may grant them in the admin.
    settings.MFA_REQUIRED_ROLES = []
    Employee.objects.get(username="boss").user_permissions.add(
        *Permission.objects.filter(content_type__app_label="employees", codename__in=["view_signin", "change_signin"])
    )
    for username, role in (("lens", Role.PHOTOGRAPHER), ("owner", Role.ADMIN)):
        EmployeeFactory(username=username, role=role)
        api_client.post("/api/v1/auth/login", {"username": username, "password": DEFAULT_PASSWORD}, format="json")
    lens, owner = (SignIn.objects.get(employee__username=username) for username in ("lens", "owner"))

    response = manager_client.post(SIGN_INS, {"action": "end", "_selected_action": [lens.pk, owner.pk]}, follow=True)

    assert response.status_code == 200
    assert SignIn.objects.get(pk=lens.pk).revoked_at is not None
    assert SignIn.objects.get(pk=owner.pk).revoked_at is None
    notes = [str(message) for message in response.context["messages"]]
    assert "Ended 1 sign-in." in notes
    assert any("You may not end this sign-in." in note for note in notes)
    assert Event.objects.filter(type="employee.signed_out", aggregate_id=str(lens.employee_id)).exists()


def test_sign_ins_are_not_open_to_managers_by_default(manager_client):
    assert manager_client.get(SIGN_INS).status_code == 403


def test_admin_refuses_a_phone_that_is_no_phone_number(manager_client):
    desk = EmployeeFactory(role=Role.RECEPTIONIST, phone="")
    response = manager_client.post(change_url(desk), change_data(desk, phone="ask Rita"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone"] == [
        "Enter a phone number in international form, such as +14155550123."
    ]
    desk.refresh_from_db()
    assert desk.phone == ""
