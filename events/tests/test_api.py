import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from events import selectors, services
from events.models import Delivery, EventType, WebhookEndpoint
from events.tests.factories import DeliveryFactory, EventFactory, WebhookEndpointFactory

# In the past: the list shows no event from the future (events_listed_until).
JANUARY = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)


def _client_for(employee) -> APIClient:
    api = APIClient()
    api.force_authenticate(employee)
    return api


@pytest.fixture
def manager_api(manager):
    return _client_for(manager)


@pytest.fixture
def admin_api(admin):
    return _client_for(admin)


@pytest.fixture
def receptionist_api(receptionist):
    return _client_for(receptionist)


@pytest.mark.django_db
def test_manager_lists_events_newest_first(manager_api, django_assert_max_num_queries):
    older = EventFactory(occurred_at=JANUARY, type=EventType.BOOKING_CREATED, aggregate_type="bookings.booking")
    newer = EventFactory(occurred_at=JANUARY.replace(day=15), type=EventType.EMPLOYEE_LOGIN)
    for _ in range(5):
        EventFactory(occurred_at=JANUARY.replace(day=2))

    # On PostgreSQL one more: where the open transactions stand (events_listed_until).
    with django_assert_max_num_queries(5):
        response = manager_api.get("/api/v1/events/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [event["id"] for event in results[:2]] == [newer.pk, older.pk]
    assert results[1]["aggregate"] == {"type": "bookings.booking", "id": older.aggregate_id}
    assert results[1]["type"] == "booking.created"


@pytest.mark.django_db
def test_events_are_filtered_by_type_aggregate_and_time(manager_api):
    booking_event = EventFactory(
        type=EventType.BOOKING_STATE_CHANGED, aggregate_type="bookings.booking", aggregate_id="7", occurred_at=JANUARY
    )
    EventFactory(type=EventType.BOOKING_STATE_CHANGED, aggregate_type="bookings.booking", aggregate_id="8")
    EventFactory(type=EventType.EMPLOYEE_LOGIN, aggregate_type="employees.employee", aggregate_id="7")
    EventFactory(
        type=EventType.BOOKING_CREATED,
        aggregate_type="bookings.booking",
        aggregate_id="7",
        occurred_at=JANUARY.replace(year=2025),
    )

    response = manager_api.get(
        "/api/v1/events/",
        {
            "type": "booking.state_changed,booking.created",
            "aggregate_type": "bookings.booking",
            "aggregate_id": "7",
            "occurred_after": "2026-01-01T00:00:00Z",
            "occurred_before": "2026-02-01T00:00:00Z",
        },
    )

    assert [event["id"] for event in response.json()["results"]] == [booking_event.pk]


@pytest.mark.django_db
def test_a_bad_filter_value_answers_400_in_the_error_shape(manager_api):
    response = manager_api.get("/api/v1/events/", {"occurred_after": "last tuesday"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert "occurred_after" in response.json()["error"]["details"]


@pytest.mark.django_db
@pytest.mark.parametrize("types", ["booking.create", "booking.created,bookings.cancelled"])
def test_an_event_type_not_in_the_catalogue_answers_400_not_an_empty_list(manager_api, types):
    EventFactory(type=EventType.BOOKING_CREATED)

    response = manager_api.get("/api/v1/events/", {"type": types})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert "type" in response.json()["error"]["details"]


@pytest.mark.django_db
@pytest.mark.parametrize("types", [",", ",,", "booking.created,"])
def test_empty_items_of_the_type_filter_name_no_type(manager_api, types):
    EventFactory(type=EventType.BOOKING_CREATED)
    EventFactory(type=EventType.CLIENT_UPDATED)
    expected = 1 if "booking.created" in types else 2

    response = manager_api.get("/api/v1/events/", {"type": types})

    assert (response.status_code, response.json()["count"]) == (200, expected)


@pytest.mark.django_db
def test_event_list_comes_in_pages(manager_api):
    for day in range(1, 6):
        EventFactory(occurred_at=JANUARY.replace(day=day))

    first = manager_api.get("/api/v1/events/", {"page_size": 3}).json()
    second = manager_api.get(first["next"]).json()

    assert first["count"] == 5
    assert len(first["results"]) == 3
    assert len(second["results"]) == 2
    assert second["next"] is None


@pytest.mark.django_db
def test_event_detail_shows_its_deliveries(manager_api):
    event = EventFactory()
    DeliveryFactory(event=event, handler="bookings.subscribers.email_client_booking_created", outcome="E-mailed a@b.c")

    response = manager_api.get(f"/api/v1/events/{event.pk}/")

    assert response.status_code == 200
    [delivery] = response.json()["deliveries"]
    assert delivery["handler"] == "bookings.subscribers.email_client_booking_created"
    assert delivery["outcome"] == "E-mailed a@b.c"


@pytest.mark.django_db
def test_unknown_event_answers_404(manager_api):
    response = manager_api.get("/api/v1/events/999999/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/events/", "/api/v1/webhooks/"])
def test_receptionist_may_not_read_the_event_log_or_webhooks(receptionist_api, path):
    response = receptionist_api.get(path)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.django_db
def test_anonymous_callers_are_refused(client):
    response = client.get("/api/v1/events/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_admin_creates_a_webhook_endpoint_and_sees_its_secret_once(admin_api):
    response = admin_api.post(
        "/api/v1/webhooks/",
        {
            "name": "Accounting",
            "url": "https://accounting.example.com/hooks",
            "event_types": ["booking.created", "booking.state_changed"],
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret
    assert body["event_types"] == ["booking.created", "booking.state_changed"]
    assert "secret" not in admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    assert "secret" not in admin_api.get("/api/v1/webhooks/").json()["results"][0]


@pytest.mark.django_db
def test_webhook_endpoint_to_a_private_address_is_refused_with_400(admin_api, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    response = admin_api.post(
        "/api/v1/webhooks/",
        {"name": "Internal", "url": "http://192.168.1.20/hook", "event_types": ["booking.created"]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert "url" in response.json()["error"]["details"]


@pytest.mark.django_db
def test_webhook_endpoint_with_an_unknown_event_type_is_refused(admin_api):
    response = admin_api.post(
        "/api/v1/webhooks/",
        {"name": "Typo", "url": "https://example.com/hook", "event_types": ["booking.exploded"]},
        format="json",
    )

    assert response.status_code == 400
    assert "event_types" in response.json()["error"]["details"]


@pytest.mark.django_db
def test_admin_changes_and_deletes_a_webhook_endpoint(admin_api):
    endpoint = WebhookEndpointFactory()

    changed = admin_api.patch(
        f"/api/v1/webhooks/{endpoint.pk}/", {"is_active": False, "event_types": ["client.updated"]}, format="json"
    )
    deleted = admin_api.delete(f"/api/v1/webhooks/{endpoint.pk}/")

    assert changed.status_code == 200
    assert (changed.json()["is_active"], changed.json()["event_types"]) == (False, ["client.updated"])
    assert deleted.status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_an_endpoint_whose_host_now_resolves_to_a_private_address_can_still_be_switched_off(
    admin_api, settings, monkeypatch
):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    endpoint = WebhookEndpointFactory(url="https://hooks.accounting.example/studio")
    moved_inside = [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("10.0.0.5", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: moved_inside)

    switched_off = admin_api.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"is_active": False}, format="json")
    pointed_there = admin_api.patch(
        f"/api/v1/webhooks/{endpoint.pk}/", {"url": "https://hooks.accounting.example/v2"}, format="json"
    )

    assert switched_off.status_code == 200
    assert switched_off.json()["is_active"] is False
    assert pointed_there.status_code == 400
    assert "10.0.0.5" in pointed_there.json()["error"]["details"]["url"][0]
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.url) == (False, "https://hooks.accounting.example/studio")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("post", "rotate-secret/", None), ("patch", "", {"is_active": False})],
    ids=["rotate", "change"],
)
def test_an_endpoint_removed_meanwhile_answers_404(admin_api, manager, monkeypatch, method, path, body):
    endpoint = WebhookEndpointFactory()
    read = selectors.webhook_endpoint

    def read_then_a_colleague_removes_it(**kwargs):
        found = read(**kwargs)
        services.delete_webhook_endpoint(actor=manager, endpoint=WebhookEndpoint.objects.get(pk=found.pk))
        return found

    monkeypatch.setattr(selectors, "webhook_endpoint", read_then_a_colleague_removes_it)

    response = getattr(admin_api, method)(f"/api/v1/webhooks/{endpoint.pk}/{path}", body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_rotating_the_secret_returns_the_new_one(admin_api):
    endpoint = WebhookEndpointFactory()

    response = admin_api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/")

    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["secret"] == endpoint.secret


@pytest.mark.django_db
def test_manager_manages_the_studios_webhook_endpoints(manager_api):
    created = manager_api.post(
        "/api/v1/webhooks/",
        {"name": "Website", "url": "https://studio.example.com/hook", "event_types": ["booking.created"]},
        format="json",
    )
    endpoint_id = created.json()["id"]
    deleted = manager_api.delete(f"/api/v1/webhooks/{endpoint_id}/")

    assert created.status_code == 201
    assert deleted.status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_receptionist_cannot_add_a_webhook_endpoint(receptionist_api):
    response = receptionist_api.post(
        "/api/v1/webhooks/",
        {"name": "Mine", "url": "https://example.com/hook", "event_types": ["booking.created"]},
        format="json",
    )

    assert response.status_code == 403


@pytest.mark.django_db
def test_webhook_delivery_log_lists_the_endpoints_attempts(admin_api, django_assert_max_num_queries):
    endpoint = WebhookEndpointFactory()
    for status in (Delivery.Status.SUCCEEDED, Delivery.Status.FAILED, Delivery.Status.PENDING):
        DeliveryFactory(endpoint=endpoint, handler=f"webhook:{endpoint.pk}", status=status)
    DeliveryFactory(status=Delivery.Status.FAILED)

    with django_assert_max_num_queries(4):
        everything = admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/")
    failed = admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/", {"status": "failed"})

    assert len(everything.json()["results"]) == 3
    assert [delivery["status"] for delivery in failed.json()["results"]] == ["failed"]


@pytest.mark.django_db
def test_retrying_a_delivery_that_has_not_failed_answers_409(admin_api):
    delivery = DeliveryFactory(status=Delivery.Status.SUCCEEDED)

    response = admin_api.post(f"/api/v1/events/deliveries/{delivery.pk}/retry/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "delivery_not_failed"


@pytest.mark.django_db
def test_retrying_a_failed_delivery_queues_it_again(admin_api, django_capture_on_commit_callbacks):
    delivery = DeliveryFactory(
        event=EventFactory(type="test.unsubscribed"), status=Delivery.Status.FAILED, attempts=5, handler="gone.handler"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(f"/api/v1/events/deliveries/{delivery.pk}/retry/")

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert "no handler named gone.handler" in delivery.last_error


@pytest.mark.django_db
def test_the_secret_cannot_be_chosen_by_the_caller(admin_api):
    response = admin_api.post(
        "/api/v1/webhooks/",
        {"name": "Mine", "url": "https://example.com/hook", "event_types": ["booking.created"], "secret": "abc"},
        format="json",
    )

    assert response.status_code == 400
    assert "secret" in response.json()["error"]["details"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_event_list_leaves_out_events_younger_than_the_settling_margin(manager_api, settings):
    settings.EVENTS_LIST_SETTLE = 60
    settled = EventFactory(occurred_at=timezone.now() - timedelta(minutes=2))
    EventFactory(occurred_at=timezone.now())

    response = manager_api.get("/api/v1/events/")

    assert [event["id"] for event in response.json()["results"]] == [settled.pk]


@contextmanager
def a_transaction_left_open(work):
    """Yields while another connection's transaction has done ``work()`` and is still open;
    yields a callable that commits it and answers what ``work()`` answered."""
    done, finish = threading.Event(), threading.Event()

    def slow_transaction():
        try:
            with transaction.atomic():
                answer = work()
                done.set()
                finish.wait(timeout=30)
            return answer
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(slow_transaction)
        assert done.wait(timeout=30)

        def commit():
            finish.set()
            return slow.result(timeout=30)

        try:
            yield commit
        finally:
            finish.set()


def an_event_being_committed(actor):
    """``a_transaction_left_open`` holding an event it has inserted; its commit answers the event's id."""
    return a_transaction_left_open(lambda: services.publish(EventType.CLIENT_UPDATED, actor).pk)


def poll_events(api, since):
    response = api.get("/api/v1/events/", {"occurred_after": since.isoformat()})
    return [event["id"] for event in response.json()["results"]]


@pytest.mark.postgres  # SQLite lets one transaction write at a time: the newer event could not commit first
@pytest.mark.django_db(transaction=True)
def test_a_poller_is_shown_no_event_while_an_older_one_is_still_being_committed(manager, manager_api, settings):
    settings.EVENTS_LIST_SETTLE = 0
    since = timezone.now()

    with an_event_being_committed(manager) as commit:
        newer = services.publish(EventType.CLIENT_UPDATED, manager)
        while_the_older_is_open = poll_events(manager_api, since)
        older_id = commit()

    assert while_the_older_is_open == []
    assert poll_events(manager_api, since) == [newer.pk, older_id]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_transaction_left_open_holds_the_list_back_no_longer_than_the_longest_wait(manager, manager_api, settings):
    settings.EVENTS_LIST_SETTLE = 0
    settings.EVENTS_LIST_MAX_WAIT = 0
    since = timezone.now()

    with an_event_being_committed(manager) as commit:
        newer = services.publish(EventType.CLIENT_UPDATED, manager)
        while_the_older_is_open = poll_events(manager_api, since)
        commit()

    assert while_the_older_is_open == [newer.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_transaction_left_open_that_only_read_does_not_hold_the_list_back(manager, manager_api, settings):
    settings.EVENTS_LIST_SETTLE = 0
    since = timezone.now()

    with a_transaction_left_open(lambda: list(WebhookEndpoint.objects.all())):  # a shell left in a read
        newer = services.publish(EventType.CLIENT_UPDATED, manager)
        listed = poll_events(manager_api, since)

    assert listed == [newer.pk]
