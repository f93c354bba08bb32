"""An employee's calendar feed token: what opens a feed, replacing it, and where it is shown."""

import re

import pytest
from django.urls import reverse

from employees import calendar_feed, selectors, services
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from employees.tests.test_api_employees import employee_with, signed_in
from events.models import Event
from photostudio import errors

pytestmark = pytest.mark.django_db

REGENERATE = "/api/v1/employees/profile/calendar-feed"


def _token_in(url: str) -> str:
    return re.search(r"/calendar/feeds/([^/]+)\.ics$", url).group(1)


def test_every_employee_has_a_feed_of_their_own():
    first, second = EmployeeFactory(), EmployeeFactory()

    assert selectors.calendar_feed_owner(calendar_feed.token_for(first.calendar_feed_key)) == first
    assert selectors.calendar_feed_owner(calendar_feed.token_for(second.calendar_feed_key)) == second


def test_the_stored_key_alone_opens_no_feed():
    employee = EmployeeFactory()

    assert selectors.calendar_feed_owner(employee.calendar_feed_key) is None


@pytest.mark.parametrize("token", ["", "short", "x" * 65, "not a token at all, not even the right alphabet"])
def test_a_malformed_or_forged_token_opens_no_feed(token, django_assert_num_queries):
    EmployeeFactory()

    with django_assert_num_queries(0):
        assert selectors.calendar_feed_owner(token) is None


def test_a_token_signed_with_another_secret_opens_no_feed(settings):
    employee = EmployeeFactory()
    token = calendar_feed.token_for(employee.calendar_feed_key)

    settings.SECRET_KEY = "another-secret-key-that-is-long-enough-for-the-test-suite-0123"

    assert selectors.calendar_feed_owner(token) is None


def test_regenerating_replaces_the_feed_and_the_old_token_stops_at_once():
    employee = EmployeeFactory()
    old_token = calendar_feed.token_for(employee.calendar_feed_key)

    services.regenerate_calendar_feed(employee=employee, actor=employee)

    assert selectors.calendar_feed_owner(old_token) is None
    assert selectors.calendar_feed_owner(calendar_feed.token_for(employee.calendar_feed_key)) == employee


def test_regenerating_is_recorded_with_its_actor_and_no_secret():
    employee = EmployeeFactory()

    services.regenerate_calendar_feed(employee=employee, actor=employee)

    event = Event.objects.get(type="employee.calendar_feed_regenerated")
    assert (event.aggregate_id, event.actor, event.payload) == (str(employee.pk), employee, {})


def test_a_manager_may_replace_a_photographers_feed():
    photographer = EmployeeFactory(role=Role.PHOTOGRAPHER)
    old_key = photographer.calendar_feed_key

    services.regenerate_calendar_feed(employee=photographer, actor=EmployeeFactory(role=Role.MANAGER))

    photographer.refresh_from_db()
    assert photographer.calendar_feed_key != old_key


def test_a_colleague_may_not_replace_someone_elses_feed():
    photographer = EmployeeFactory(role=Role.PHOTOGRAPHER)
    old_key = photographer.calendar_feed_key

    with pytest.raises(errors.PermissionDenied):
        services.regenerate_calendar_feed(employee=photographer, actor=EmployeeFactory(role=Role.RECEPTIONIST))

    photographer.refresh_from_db()
    assert photographer.calendar_feed_key == old_key
    assert not Event.objects.filter(type="employee.calendar_feed_regenerated").exists()


def test_a_deactivated_employees_feed_stops_working():
    photographer = EmployeeFactory(role=Role.PHOTOGRAPHER)
    token = calendar_feed.token_for(photographer.calendar_feed_key)

    services.update_employee(employee=photographer, actor=EmployeeFactory(role=Role.ADMIN), is_active=False)

    assert selectors.calendar_feed_owner(token) is None


def test_a_reactivated_employees_old_feed_stays_dead():
    photographer, admin = EmployeeFactory(role=Role.PHOTOGRAPHER), EmployeeFactory(role=Role.ADMIN)
    token = calendar_feed.token_for(photographer.calendar_feed_key)

    services.update_employee(employee=photographer, actor=admin, is_active=False)
    services.update_employee(employee=photographer, actor=admin, is_active=True)

    assert selectors.calendar_feed_owner(token) is None
    photographer.refresh_from_db()
    assert selectors.calendar_feed_owner(calendar_feed.token_for(photographer.calendar_feed_key)) == photographer


# --- The API ------------------------------------------------------------------------------------


def test_profile_carries_the_feed_url(api_client, clock):
    desk = employee_with(Role.RECEPTIONIST)
    signed_in(api_client, desk)

    url = api_client.get("/api/v1/employees/profile").json()["calendar_feed_url"]

    assert url.startswith("http://testserver/calendar/feeds/")
    assert selectors.calendar_feed_owner(_token_in(url)) == desk


def test_posting_gives_a_new_feed_url_and_the_old_one_stops(api_client, clock, django_capture_on_commit_callbacks):
    photographer = employee_with(Role.PHOTOGRAPHER)
    signed_in(api_client, photographer)
    old_url = api_client.get("/api/v1/employees/profile").json()["calendar_feed_url"]

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(REGENERATE)

    assert response.status_code == 200
    new_url = response.json()["calendar_feed_url"]
    assert new_url != old_url
    assert api_client.get("/api/v1/employees/profile").json()["calendar_feed_url"] == new_url
    assert selectors.calendar_feed_owner(_token_in(old_url)) is None
    assert selectors.calendar_feed_owner(_token_in(new_url)) == photographer


def test_regenerating_needs_a_signed_in_caller(api_client):
    response = api_client.post(REGENERATE)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_feed_token_is_no_api_credential(api_client):
    employee = EmployeeFactory()
    token = calendar_feed.token_for(employee.calendar_feed_key)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert api_client.get("/api/v1/employees/profile").status_code == 401


# --- The profile page ---------------------------------------------------------------------------


def test_profile_page_shows_the_feed_url(client):
    photographer = EmployeeFactory(role=Role.PHOTOGRAPHER)
    client.force_login(photographer)

    page = client.get(reverse("profile")).content.decode()

    token = calendar_feed.token_for(photographer.calendar_feed_key)
    assert f'value="http://testserver/calendar/feeds/{token}.ics"' in page
    assert "the sessions you are the photographer of" in page


def test_profile_page_offers_the_front_desk_the_whole_studio(client):
    client.force_login(EmployeeFactory(role=Role.RECEPTIONIST))

    page = client.get(reverse("profile")).content.decode()

    assert "every session of the studio" in page
    assert "?space=" in page


def test_the_profile_button_replaces_the_feed(client):
    photographer = EmployeeFactory(role=Role.PHOTOGRAPHER)
    old_token = calendar_feed.token_for(photographer.calendar_feed_key)
    client.force_login(photographer)

    response = client.post(reverse("calendar-feed-regenerate"), follow=True)

    assert response.redirect_chain == [(reverse("profile") + "#calendar-feed", 302)]
    assert "the old one no longer works" in response.content.decode()
    photographer.refresh_from_db()
    new_token = calendar_feed.token_for(photographer.calendar_feed_key)
    assert new_token != old_token
    assert f"/calendar/feeds/{new_token}.ics" in response.content.decode()
    assert selectors.calendar_feed_owner(old_token) is None


def test_the_profile_button_only_answers_a_post(client):
    client.force_login(EmployeeFactory())

    assert client.get(reverse("calendar-feed-regenerate")).status_code == 405


def test_the_feed_token_opens_no_page(client):
    employee = EmployeeFactory()
    token = calendar_feed.token_for(employee.calendar_feed_key)

    response = client.get(reverse("profile"), {"token": token})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
