"""An employee hears by e-mail about every sensitive change to their account, whoever made it."""

from datetime import UTC, datetime

import pyotp
import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from employees import mfa, services
from employees.models import Role
from employees.subscribers import email_employee_account_changed
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa
from events.models import Delivery, EventType
from events.registry import handler_name
from events.services import run_delivery
from events.tests.factories import DeliveryFactory, EventFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "amber-quartz-lantern-58"


@pytest.fixture(autouse=True)
def _studio(settings):
    settings.DEFAULT_FROM_EMAIL = "Lichthof Studio <studio@lichthof.test>"


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2030, 3, 4, 9, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk():
    return EmployeeFactory(username="desk", full_name="Dana Desk", email="dana@studio.test", role=Role.RECEPTIONIST)


def test_password_change_on_the_page_is_mailed_to_the_employee(client, desk, after_commit, mailoutbox):
    client.force_login(desk)
    form = {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}

    with after_commit():
        client.post(reverse("password_change"), form)

    [message] = mailoutbox
    assert message.to == ["dana@studio.test"]
    assert message.subject == "Your password was changed"
    assert "Hello Dana" in message.body
    assert "If it was not, tell a manager or an admin at once" in message.body
    assert "Lichthof Studio" in message.alternatives[0][0]


def test_email_change_is_mailed_to_the_old_and_the_new_address(desk, after_commit, mailoutbox):
    admin = EmployeeFactory(role=Role.ADMIN)

    with after_commit():
        services.update_employee(employee=desk, actor=admin, email="dana@elsewhere.test")

    [message] = mailoutbox
    assert message.to == ["dana@studio.test", "dana@elsewhere.test"]
    assert "from dana@studio.test to dana@elsewhere.test" in message.body


def test_a_profile_change_without_a_new_address_sends_nothing(desk, after_commit, mailoutbox):
    with after_commit():
        services.update_employee(employee=desk, actor=desk, phone="+14155550100")

    assert mailoutbox == []
    delivery = Delivery.objects.get(handler=handler_name(email_employee_account_changed))
    assert delivery.status == Delivery.Status.SKIPPED


def test_turning_mfa_off_through_the_api_is_mailed(api_client, desk, clock, after_commit, mailoutbox):
    totp = pyotp.TOTP(enrol_mfa(desk))
    login = {"username": "desk", "password": DEFAULT_PASSWORD, "mfa_code": totp.now()}
    pair = api_client.post("/api/v1/auth/login", login, format="json").json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    clock.shift(30)
    mailoutbox.clear()

    with after_commit():
        api_client.post(
            "/api/v1/employees/profile/mfa/disable", {"password": DEFAULT_PASSWORD, "code": totp.now()}, format="json"
        )

    assert [message.subject for message in mailoutbox] == ["Two-factor authentication is off"]


def test_mfa_reset_by_a_manager_names_the_manager(desk, after_commit, mailoutbox):
    enrol_mfa(desk)
    manager = EmployeeFactory(role=Role.MANAGER, full_name="Maria Manager")

    with after_commit():
        mfa.reset_mfa(employee=desk, actor=manager)

    [message] = mailoutbox
    assert message.subject == "Your two-factor authentication was reset"
    assert "Maria Manager removed the authenticator app" in message.body


def test_refresh_token_reuse_is_mailed_with_the_address_it_came_from(api_client, desk, after_commit, mailoutbox):
    login = {"username": "desk", "password": DEFAULT_PASSWORD}
    stolen = api_client.post("/api/v1/auth/login", login, format="json").json()["refresh_token"]
    api_client.post("/api/v1/auth/refresh", {"refresh_token": stolen}, format="json")

    with after_commit():
        api_client.post("/api/v1/auth/refresh", {"refresh_token": stolen}, format="json", REMOTE_ADDR="203.0.113.9")

    [message] = mailoutbox
    assert message.subject == "An API sign-in of yours was ended"
    assert "from 203.0.113.9" in message.body


def test_an_employee_without_an_address_is_skipped_with_the_reason(after_commit, mailoutbox):
    nobody = EmployeeFactory(email="")

    with after_commit():
        services.change_password(employee=nobody, new_password=NEW_PASSWORD)

    assert mailoutbox == []
    delivery = Delivery.objects.get(handler=handler_name(email_employee_account_changed))
    assert delivery.outcome == "The employee has no e-mail address."


@pytest.mark.django_db(transaction=True)
def test_a_notice_pending_since_before_the_subscriber_moved_is_still_sent(mailoutbox):
    employee = EmployeeFactory(email="desk@lichthof.test")
    event = EventFactory(
        type=EventType.EMPLOYEE_PASSWORD_CHANGED, aggregate_type="employees.employee", aggregate_id=str(employee.pk)
    )
    call_command("migrate", "employees", "0004", verbosity=0)
    delivery = DeliveryFactory(event=event, handler="events.subscribers.email_employee_account_changed")

    # Every app forwards, not only employees: going back also unapplied the migrations of other apps
    # that depend on it, which later tests need.
    call_command("migrate", verbosity=0)
    run_delivery(delivery_id=delivery.pk)

    assert [message.subject for message in mailoutbox] == ["Your password was changed"]
