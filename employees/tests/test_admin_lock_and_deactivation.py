"""The employee admin: a locked employee shows "Locked until …" with an Unlock button; deactivating
a photographer with upcoming sessions asks whether to keep them on them."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking, BookingState
from bookings.tests.factories import BookingFactory
from employees.models import Employee, Role
from employees.tests.factories import EmployeeFactory, verified_login
from events.models import Event

pytestmark = pytest.mark.django_db


def change_url(employee):
    return reverse("admin:employees_employee_change", args=[employee.pk])


def change_data(employee, **changes):
    data = {name: getattr(employee, name) for name in ("full_name", "email", "phone", "department", "role")}
    data["is_active"] = "on" if employee.is_active else ""
    data.update(changes)
    return {name: value for name, value in data.items() if value is not False}


@pytest.fixture
def manager(client):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    verified_login(client, boss)
    return boss


def lock(employee):
    return AccessAttempt.objects.create(
        username=employee.username,
        ip_address="203.0.113.9",
        user_agent="test",
        failures_since_start=settings.RATE_LIMIT_MAX_ATTEMPTS,
        get_data="",
        post_data="",
        http_accept="*/*",
        path_info="/login/",
    )


def test_a_locked_employee_shows_locked_until_in_red_with_an_unlock_button(client, manager):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    attempt = lock(desk)
    until = timezone.localtime(attempt.attempt_time + timedelta(seconds=settings.RATE_LIMIT_LOCK_DURATION))

    html = client.get(change_url(desk)).content.decode()

    assert f"Locked until {until:%a} {until.day} {until:%b}, {until:%H:%M}" in html
    assert 'form="unlock-form"' in html
    assert reverse("admin:employees_employee_unlock", args=[desk.pk]) in html


def test_the_list_says_locked_until_instead_of_a_tick(client, manager):
    lock(EmployeeFactory(role=Role.RECEPTIONIST))

    html = client.get(reverse("admin:employees_employee_changelist")).content.decode()

    assert '<strong class="locked">Locked until' in html


def test_an_unlocked_employee_has_no_unlock_button(client, manager):
    html = client.get(change_url(EmployeeFactory(role=Role.RECEPTIONIST))).content.decode()

    assert "Locked until" not in html


def test_unlock_lifts_the_lock_and_records_who_did_it(client, manager):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    lock(desk)

    response = client.post(reverse("admin:employees_employee_unlock", args=[desk.pk]), follow=True)

    assert "can sign in again" in response.content.decode()
    assert not AccessAttempt.objects.filter(username=desk.username).exists()
    event = Event.objects.get(type="employee.unlocked")
    assert (event.aggregate_id, event.actor) == (str(desk.pk), manager)


def test_deactivating_a_photographer_with_upcoming_sessions_lists_them_and_asks(client, manager):
    photographer = EmployeeFactory(role=Role.PHOTOGRAPHER)
    upcoming = BookingFactory(photographer=photographer, start=timezone.now() + timedelta(days=2))
    BookingFactory(photographer=photographer, start=timezone.now() - timedelta(days=2))

    response = client.post(change_url(photographer), change_data(photographer, is_active=False))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Deactivate {photographer}?" in html
    assert f"#{upcoming.pk}" in html
    assert html.count('<li><a href="/bookings/') == 1
    assert Employee.objects.get(pk=photographer.pk).is_active


def test_keeping_the_sessions_deactivates_and_leaves_them_assigned(client, manager):
    photographer = EmployeeFactory(role=Role.PHOTOGRAPHER)
    upcoming = BookingFactory(photographer=photographer, start=timezone.now() + timedelta(days=2))

    client.post(change_url(photographer), {**change_data(photographer, is_active=False), "_upcoming_sessions": "keep"})

    assert not Employee.objects.get(pk=photographer.pk).is_active
    assert Booking.objects.get(pk=upcoming.pk).photographer == photographer


def test_unassigning_the_sessions_takes_the_photographer_off_with_the_managers_name(client, manager):
    photographer = EmployeeFactory(role=Role.PHOTOGRAPHER)
    upcoming = BookingFactory(
        photographer=photographer, start=timezone.now() + timedelta(days=2), state=BookingState.CONFIRMED
    )

    client.post(
        change_url(photographer), {**change_data(photographer, is_active=False), "_upcoming_sessions": "unassign"}
    )

    assert not Employee.objects.get(pk=photographer.pk).is_active
    assert Booking.objects.get(pk=upcoming.pk).photographer is None
    event = Event.objects.get(type="booking.photographer_assigned")
    assert (event.aggregate_id, event.actor, event.payload["to"]) == (str(upcoming.pk), manager, None)


def test_unassigning_the_sessions_leaves_the_photographer_on_those_that_began(client, manager):
    photographer = EmployeeFactory(role=Role.PHOTOGRAPHER)
    BookingFactory(photographer=photographer, start=timezone.now() + timedelta(days=2))
    began = BookingFactory(
        photographer=photographer, start=timezone.now() - timedelta(hours=1), state=BookingState.CONFIRMED
    )

    client.post(
        change_url(photographer), {**change_data(photographer, is_active=False), "_upcoming_sessions": "unassign"}
    )

    assert Booking.objects.get(pk=began.pk).photographer == photographer
    assert not Event.objects.filter(type="booking.photographer_assigned", aggregate_id=str(began.pk)).exists()


def test_deactivating_someone_without_upcoming_sessions_asks_nothing(client, manager):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)

    response = client.post(change_url(desk), change_data(desk, is_active=False))

    assert response.status_code == 302
    assert not Employee.objects.get(pk=desk.pk).is_active


def test_editing_oneself_without_the_active_flag_on_the_form_asks_nothing(client, manager):
    # Promoted from photographer, the manager is still on an upcoming session; their own record's
    # active flag is read-only to them, so the form sends none.
    BookingFactory(photographer=manager, start=timezone.now() + timedelta(days=2))

    response = client.post(
        change_url(manager), {"full_name": manager.full_name, "phone": "+44 20 7946 0000", "department": ""}
    )

    assert response.status_code == 302
    saved = Employee.objects.get(pk=manager.pk)
    assert (saved.phone, saved.is_active) == ("+44 20 7946 0000", True)
