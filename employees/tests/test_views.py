import re
from datetime import UTC, datetime

import pyotp
import pytest
import time_machine
from axes.models import AccessFailureLog
from django.core import mail
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from employees.models import Role, SignIn
from employees.services import revoke_sign_in
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa, verified_login
from events.models import Event

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "amber-quartz-lantern-58"


def sign_in(client, username, password=DEFAULT_PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password, **extra})


@pytest.fixture
def desk():
    return EmployeeFactory(username="desk", role=Role.RECEPTIONIST)


def test_login_page_is_plain_and_accessible(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'<label for="id_username">' in response.content
    assert b'lang="en"' in response.content


def test_login_without_mfa_signs_in_and_records_the_session(client, desk):
    response = sign_in(client, "desk", next="/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    sign_in_row = SignIn.objects.get(employee=desk)
    assert sign_in_row.channel == SignIn.Channel.BROWSER
    assert sign_in_row.session_key == client.session.session_key
    assert Event.objects.get(type="employee.login").payload["channel"] == "browser"


def test_login_refuses_an_offsite_next(client, desk):
    response = sign_in(client, "desk", next="https://evil.example/")
    assert response["Location"] == "/"


def test_wrong_password_shows_the_reason_on_the_form(client, desk):
    response = sign_in(client, "desk", "nope-nope-nope")
    assert response.status_code == 200
    assert b"The username or password is not correct." in response.content
    assert "_auth_user_id" not in client.session


def test_a_password_with_a_nul_is_judged_by_the_password_check(client, desk):
    response = sign_in(client, "desk", password="pass\x00word")

    assert "The username or password is not correct." in response.content.decode()
    assert AccessFailureLog.objects.filter(username="desk").count() == 1


def test_mfa_login_asks_for_the_code_before_signing_in(client, clock):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    totp = pyotp.TOTP(enrol_mfa(boss))
    response = sign_in(client, "boss")
    assert response["Location"] == reverse("login-verify")
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("login-verify"), {"code": totp.now()})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(boss.pk)
    assert DEVICE_ID_SESSION_KEY in client.session
    assert SignIn.objects.get(employee=boss).mfa_verified


def test_wrong_code_keeps_the_browser_on_the_code_step(client, clock):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    enrol_mfa(boss)
    sign_in(client, "boss")
    response = client.post(reverse("login-verify"), {"code": "123456"})
    assert response.status_code == 200
    assert b"not correct" in response.content
    assert "_auth_user_id" not in client.session


def test_replayed_code_is_refused_on_the_web_too(client, clock):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    code = pyotp.TOTP(enrol_mfa(boss)).now()
    sign_in(client, "boss")
    client.post(reverse("login-verify"), {"code": code})
    client.post(reverse("logout"))
    clock.shift(3)
    sign_in(client, "boss")
    response = client.post(reverse("login-verify"), {"code": code})
    assert b"already used" in response.content


def test_the_code_step_expires(client, clock):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    totp = pyotp.TOTP(enrol_mfa(boss))
    sign_in(client, "boss")
    clock.shift(6 * 60)
    response = client.post(reverse("login-verify"), {"code": totp.now()})
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_code_step_without_a_password_step_goes_back_to_login(client):
    assert client.get(reverse("login-verify"))["Location"] == reverse("login")


def test_role_requiring_mfa_is_sent_to_enrolment_before_anything_else(client):
    EmployeeFactory(username="boss", role=Role.MANAGER)
    sign_in(client, "boss")
    for path in (reverse("profile"), "/admin/", reverse("password_change")):
        assert client.get(path)["Location"] == reverse("mfa-enroll")
    response = client.get("/api/v1/employees/profile")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_enrollment_required"
    assert client.get(reverse("mfa-enroll")).status_code == 200


def test_a_bearer_header_on_a_page_does_not_skip_the_enrolment(client):
    # Pages read the browser session whatever Authorization says; only the API reads a token.
    EmployeeFactory(username="boss", role=Role.MANAGER)
    sign_in(client, "boss")
    for path in (reverse("today"), reverse("reports"), reverse("profile")):
        assert client.get(path, HTTP_AUTHORIZATION="Bearer anything")["Location"] == reverse("mfa-enroll")


def test_enrolment_confirmed_by_a_first_code_shows_ten_backup_codes_once(client, clock):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    sign_in(client, "boss")
    client.post(reverse("mfa-enroll"), {"action": "start", "start-password": DEFAULT_PASSWORD})
    page = client.get(reverse("mfa-enroll"))
    assert b"<svg" in page.content
    secret = page.context["secret"]
    response = client.post(reverse("mfa-enroll"), {"code": pyotp.TOTP(secret).now(), "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert Event.objects.filter(type="employee.mfa_enabled", aggregate_id=str(boss.pk)).exists()
    assert client.get(reverse("profile")).status_code == 200
    assert codes[0].encode() not in client.get(reverse("profile")).content


def test_enrolment_refuses_a_wrong_first_code(client):
    EmployeeFactory(username="boss", role=Role.MANAGER)
    sign_in(client, "boss")
    client.post(reverse("mfa-enroll"), {"action": "start", "start-password": DEFAULT_PASSWORD})
    response = client.post(reverse("mfa-enroll"), {"code": "000000", "password": DEFAULT_PASSWORD})
    assert b"not correct" in response.content
    assert client.get(reverse("profile"))["Location"] == reverse("mfa-enroll")


def test_enrolment_qr_code_names_the_configured_issuer(client, settings):
    settings.OTP_TOTP_ISSUER = "Lumen Studio"
    settings.MFA_ISSUER = "Lumen Studio"
    EmployeeFactory(username="desk")
    sign_in(client, "desk")
    client.post(reverse("mfa-enroll"), {"action": "start", "start-password": DEFAULT_PASSWORD})
    page = client.get(reverse("mfa-enroll"))
    assert b"Lumen Studio" in page.content


def test_regenerated_backup_codes_replace_the_old_ones(client, clock):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    totp = pyotp.TOTP(enrol_mfa(boss))
    verified_login(client, boss)
    response = client.post(reverse("mfa-backup-codes"), {"password": DEFAULT_PASSWORD, "code": totp.now()})
    codes = response.context["codes"]
    assert len(codes) == 10
    clock.shift(30)
    again = client.post(reverse("mfa-backup-codes"), {"password": DEFAULT_PASSWORD, "code": totp.now()})
    assert set(again.context["codes"]).isdisjoint(codes)


def test_turning_mfa_off_needs_password_and_code(client, clock):
    desk = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    totp = pyotp.TOTP(enrol_mfa(desk))
    verified_login(client, desk)
    wrong_password = client.post(reverse("mfa-disable"), {"password": "not-it-at-all", "code": totp.now()})
    assert b"password is not correct" in wrong_password.content
    response = client.post(reverse("mfa-disable"), {"password": DEFAULT_PASSWORD, "code": totp.now()})
    assert response["Location"] == reverse("profile")
    assert Event.objects.filter(type="employee.mfa_disabled").exists()


def test_mfa_cannot_be_turned_off_when_the_role_requires_it(client, clock):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    totp = pyotp.TOTP(enrol_mfa(boss))
    verified_login(client, boss)
    response = client.post(reverse("mfa-disable"), {"password": DEFAULT_PASSWORD, "code": totp.now()})
    assert b"requires two-factor" in response.content


def test_profile_lists_sign_ins_and_ends_one(client, api_client, desk):
    sign_in(client, "desk")
    api_client.post("/api/v1/auth/login", {"username": "desk", "password": DEFAULT_PASSWORD}, format="json")
    page = client.get(reverse("profile"))
    assert len(page.context["sign_ins"]) == 2
    token_sign_in = SignIn.objects.get(channel=SignIn.Channel.API)
    client.post(reverse("sign-in-end", args=[token_sign_in.pk]))
    token_sign_in.refresh_from_db()
    assert token_sign_in.revoked_at is not None
    assert client.get(reverse("profile")).status_code == 200


def test_ending_this_browsers_own_sign_in_goes_to_the_login_page(client, desk, clock):
    sign_in(client, "desk")
    clock.shift(120)  # this browser's activity was last noted more than a minute ago

    response = client.post(reverse("sign-in-end", args=[SignIn.objects.get(employee=desk).pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("profile"))["Location"].startswith(reverse("login"))


def test_profile_dates_a_sign_in_as_every_staff_page_dates_things(client, desk, clock):
    sign_in(client, "desk")

    content = client.get(reverse("profile")).content.decode()

    assert ">Mon 4 Mar 2030, 09:00</time>" in content  # as the clock stands, in the studio's zone


def test_sign_out_everywhere_else_keeps_this_browser(client, desk):
    other_browser = type(client)()
    sign_in(other_browser, "desk")
    sign_in(client, "desk")
    client.post(reverse("sign-ins-end-others"))
    assert client.get(reverse("profile")).status_code == 200
    assert other_browser.get(reverse("profile"))["Location"].startswith(reverse("login"))


def test_signing_in_again_in_a_signed_in_browser_replaces_its_sign_in(client, desk):
    sign_in(client, "desk")
    sign_in(client, "desk")  # from a login page left open in another tab

    assert SignIn.objects.filter(employee=desk, revoked_at__isnull=True).count() == 1
    client.post(reverse("sign-ins-end-others"))
    assert client.get(reverse("profile")).status_code == 200


def test_signing_in_as_someone_else_ends_the_browsers_previous_sign_in(client, desk):
    EmployeeFactory(username="photo", role=Role.PHOTOGRAPHER)
    sign_in(client, "desk")
    sign_in(client, "photo")

    assert not SignIn.objects.filter(employee=desk, revoked_at__isnull=True).exists()


def test_profile_edits_own_name_phone_and_department(client, desk):
    sign_in(client, "desk")
    client.post(reverse("profile"), {"full_name": "Dana Desk", "phone": "+49 30 1234", "department": "Front"})
    desk.refresh_from_db()
    assert (desk.full_name, desk.phone, desk.department) == ("Dana Desk", "+49 30 1234", "Front")


def test_logout_ends_the_sign_in(client, desk):
    sign_in(client, "desk")
    client.post(reverse("logout"))
    assert SignIn.objects.get(employee=desk).revoked_at is not None
    assert client.get(reverse("profile"))["Location"].startswith(reverse("login"))


def test_password_change_ends_every_other_sign_in(client, api_client, desk):
    other_browser = type(client)()
    sign_in(other_browser, "desk")
    pair = api_client.post(
        "/api/v1/auth/login", {"username": "desk", "password": DEFAULT_PASSWORD}, format="json"
    ).json()
    sign_in(client, "desk")
    response = client.post(
        reverse("password_change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("profile")
    assert client.get(reverse("profile")).status_code == 200
    assert other_browser.get(reverse("profile"))["Location"].startswith(reverse("login"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    assert api_client.get("/api/v1/employees/profile").status_code == 401
    assert api_client.post("/api/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}).status_code == 401


def test_password_change_applies_the_password_policy(client, desk):
    sign_in(client, "desk")
    response = client.post(
        reverse("password_change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": "password", "new_password2": "password"},
    )
    assert response.status_code == 200
    assert b"too common" in response.content


def test_password_reset_by_email_sets_a_new_password_and_ends_sign_ins(client, desk):
    other_browser = type(client)()
    sign_in(other_browser, "desk")
    client.post(reverse("password_reset"), {"email": desk.email})
    assert len(mail.outbox) == 1
    link = re.search(r"/password/reset/\S+/\S+/", mail.outbox[0].body).group(0)
    form_page = client.get(link, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("password_reset_complete")
    desk.refresh_from_db()
    assert desk.check_password(NEW_PASSWORD)
    assert other_browser.get(reverse("profile"))["Location"].startswith(reverse("login"))


def test_the_request_log_shows_no_password_reset_token(client, desk, caplog):
    client.post(reverse("password_reset"), {"email": desk.email})
    link = re.search(r"/password/reset/(\S+)/(\S+)/", mail.outbox[0].body)
    uidb64, token = link.groups()
    caplog.clear()

    client.get(link.group(0))

    (line,) = [record.msg for record in caplog.records if record.name == "photostudio.request"]
    assert token not in line["path"]
    assert line["path"] == reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": "token"})


def test_reset_page_sends_one_address_at_most_its_hourly_share_of_links(client, desk, settings):
    settings.PASSWORD_RESET_EMAILS_PER_HOUR = 2

    answers = [
        client.post(reverse("password_reset"), {"email": email})
        for email in [desk.email] * 2 + ["  " + desk.email.upper()]
    ]

    assert [answer["Location"] for answer in answers] == [reverse("password_reset_done")] * 3
    assert [message.to for message in mail.outbox] == [[desk.email]] * 2
    other = EmployeeFactory(email="other@example.com")
    client.post(reverse("password_reset"), {"email": other.email})
    assert mail.outbox[-1].to == [other.email]


def test_reset_page_sends_links_to_an_address_again_the_next_hour(client, desk, settings):
    settings.PASSWORD_RESET_EMAILS_PER_HOUR = 1
    with time_machine.travel(datetime(2030, 1, 14, 9, 0, tzinfo=UTC), tick=False) as clock:
        for _ in range(2):
            client.post(reverse("password_reset"), {"email": desk.email})
        clock.shift(3600)
        client.post(reverse("password_reset"), {"email": desk.email})

    assert len(mail.outbox) == 2


def test_admin_opens_for_a_manager_with_a_verified_session(client):
    manager = EmployeeFactory(role=Role.MANAGER)
    verified_login(client, manager)
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_page_sends_a_manager_who_may_open_the_admin_on_to_it(client):
    verified_login(client, EmployeeFactory(role=Role.MANAGER))

    response = client.get("/admin/login/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_admin_refuses_a_session_without_the_second_factor(client, settings):
    settings.MFA_REQUIRED_ROLES = []
    EmployeeFactory(username="boss", role=Role.MANAGER)
    sign_in(client, "boss")
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))
    assert b"signed in with two-factor authentication" in response.content


def test_admin_is_closed_to_the_front_desk_even_with_mfa(client):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    verified_login(client, desk)
    assert client.get("/admin/")["Location"].startswith(reverse("admin:login"))


def test_admin_login_with_mfa_goes_through_the_code_step(client, clock):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    totp = pyotp.TOTP(enrol_mfa(boss))
    response = client.post(
        reverse("admin:login"), {"username": "boss", "password": DEFAULT_PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == reverse("login-verify")
    response = client.post(reverse("login-verify"), {"code": totp.now()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_sign_in_follows_its_session_after_the_key_changes(client, api_client, desk):
    sign_in(client, "desk")
    client.post(
        reverse("password_change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    browser = SignIn.objects.get(employee=desk, revoked_at__isnull=True)
    assert browser.session_key == client.session.session_key
    api_client.post("/api/v1/auth/login", {"username": "desk", "password": NEW_PASSWORD}, format="json")
    revoke_sign_in(sign_in=browser, actor=desk)
    assert client.get(reverse("profile"))["Location"].startswith(reverse("login"))


def test_a_sign_in_follows_its_session_when_the_page_was_sent_a_bearer_header(client, desk):
    sign_in(client, "desk")
    client.post(
        reverse("password_change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        HTTP_AUTHORIZATION="Bearer anything",
    )
    browser = SignIn.objects.get(employee=desk, revoked_at__isnull=True)
    revoke_sign_in(sign_in=browser, actor=desk)
    assert client.get(reverse("profile"))["Location"].startswith(reverse("login"))


def test_last_seen_moves_on_at_most_once_a_minute(client, desk, clock):
    sign_in(client, "desk")
    first_seen = SignIn.objects.get(employee=desk).last_seen_at
    clock.shift(20)
    client.get(reverse("profile"))
    assert SignIn.objects.get(employee=desk).last_seen_at == first_seen
    clock.shift(60)
    client.get(reverse("profile"))
    assert SignIn.objects.get(employee=desk).last_seen_at > first_seen


@pytest.mark.parametrize("url_name", ["mfa-backup-codes", "mfa-disable"])
@pytest.mark.parametrize("wrong", ["password", "code"])
def test_a_wrong_password_or_code_is_marked_at_its_field_and_linked_from_the_summary(client, clock, url_name, wrong):
    desk = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    totp = pyotp.TOTP(enrol_mfa(desk))
    verified_login(client, desk)
    given = {"password": DEFAULT_PASSWORD, "code": totp.now()} | {wrong: "000000-not-it"}

    response = client.post(reverse(url_name), given)

    html = response.content.decode()
    assert re.search(rf'<input[^>]*name="{wrong}"[^>]*aria-invalid="true"', html)
    assert f'<a href="#id_{wrong}">' in html
    assert "nonfield" not in html


def test_profile_refuses_a_phone_that_is_no_phone_number_at_its_field(client, desk):
    sign_in(client, "desk")
    response = client.post(reverse("profile"), {"full_name": "Dana Desk", "phone": "xxxx", "department": "Front"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "phone": ["Enter a phone number in international form, such as +14155550123."]
    }
    desk.refresh_from_db()
    assert (desk.full_name, desk.phone) != ("Dana Desk", "xxxx")
