"""The admin's event log in words, and the webhook form's honest errors."""

import pytest

from bookings import services
from bookings.tests.factories import BookingFactory, SpaceFactory
from employees.tests.factories import verified_login
from events.models import Event, EventType, WebhookEndpoint
from events.tests.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    verified_login(client, manager)
    return client


@pytest.fixture
def admin_client(client, admin):
    verified_login(client, admin)
    return client


def test_the_event_log_reads_who_did_what_to_which_booking_linked(manager_client, manager):
    booking = BookingFactory()
    services.transition_booking(booking=booking, target_state="confirmed", actor=manager, reason="Client called")

    html = manager_client.get("/admin/events/event/").content.decode()

    assert (
        f'{manager.full_name} moved <a href="/admin/bookings/booking/{booking.pk}/change/">booking #{booking.pk}</a> '
        "(pending → confirmed) because “Client called”"
    ) in html


def test_an_undo_reads_as_one(manager_client, manager):
    EventFactory(
        type=EventType.BOOKING_STATE_CHANGED,
        aggregate_type="bookings.booking",
        aggregate_id="13",
        actor=manager,
        payload={"from": "cancelled", "to": "confirmed", "reason": "Wrong one", "undo": True},
    )

    html = manager_client.get("/admin/events/event/").content.decode()

    assert "undid the last change of" in html
    assert "booking #13</a> (cancelled → confirmed)" in html


def test_the_event_log_costs_the_same_for_many_events(manager_client, manager, django_assert_max_num_queries):
    for number in range(30):
        EventFactory(type=EventType.CLIENT_UPDATED, aggregate_type="bookings.client", aggregate_id=str(number))

    with django_assert_max_num_queries(12):
        response = manager_client.get("/admin/events/event/")

    assert response.status_code == 200


def test_a_space_change_is_audited_and_in_the_log(manager_client, manager):
    space = SpaceFactory(name="Studio Q", hourly_rate="50.00", buffer_minutes=15)
    data = {
        "name": "Studio Q",
        "slug": space.slug,
        "capacity": space.capacity,
        "hourly_rate": "65.00",
        "buffer_minutes": "20",
        "opening_hours": '{"mon": ["08:00", "22:00"]}',
        "is_active": "on",
    }

    manager_client.post(f"/admin/bookings/space/{space.pk}/change/", data)

    event = Event.objects.get(type="space.updated")
    assert event.actor == manager
    assert event.payload["changes"]["hourly_rate"] == {"from": "50.00", "to": "65.00"}
    assert event.payload["changes"]["buffer_minutes"] == {"from": 15, "to": 20}
    assert set(event.payload["changes"]) == {"hourly_rate", "buffer_minutes", "opening_hours"}
    html = manager_client.get("/admin/events/event/").content.decode()
    assert "changed buffer minutes, hourly rate, opening hours of" in html


def test_an_unchanged_space_records_nothing(manager):
    space = SpaceFactory()

    services.update_space(space=space, actor=manager, hourly_rate=space.hourly_rate)

    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "Enter a valid URL."),
        ("http://169.254.169.254/latest", "cannot be sent to loopback, private or link-local addresses"),
    ],
)
def test_a_refused_webhook_url_gets_only_its_own_message(admin_client, settings, url, message):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    response = admin_client.post(
        "/admin/events/webhookendpoint/add/", {"name": "Hook", "url": url, "event_types": ["booking.created"]}
    )

    html = response.content.decode()
    assert message in html
    assert "must start with http:// or https://" not in html
    assert not WebhookEndpoint.objects.exists()
