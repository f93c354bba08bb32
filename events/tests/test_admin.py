import socket

import pytest
from django.core.exceptions import ValidationError

from employees.tests.factories import verified_login
from events import services
from events.admin import WebhookEndpointAdmin
from events.models import Delivery, EventType, WebhookEndpoint
from events.registry import handler_name, subscriber
from events.tests.factories import DeliveryFactory, EventFactory, WebhookEndpointFactory
from photostudio.tests.concurrency import run_at_once

rerun: list[int] = []


@subscriber("test.admin_rerun")
def record_rerun(event):
    rerun.append(event.pk)
    return "done"


@pytest.fixture
def manager_client(client, manager):
    verified_login(client, manager)
    return client


@pytest.fixture
def admin_client(client, admin):
    verified_login(client, admin)
    return client


@pytest.mark.django_db
def test_manager_reads_the_event_log_with_its_deliveries(manager_client, django_assert_max_num_queries):
    event = EventFactory(type=EventType.BOOKING_CREATED, aggregate_type="bookings.booking", aggregate_id="42")
    DeliveryFactory(event=event, outcome="E-mailed ada@client.test: We have your booking")
    for _ in range(10):
        EventFactory()

    with django_assert_max_num_queries(12):
        listing = manager_client.get("/admin/events/event/")
    detail = manager_client.get(f"/admin/events/event/{event.pk}/change/")

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert b"E-mailed ada@client.test" in detail.content
    assert b'name="_save"' not in detail.content


@pytest.mark.django_db
def test_the_event_log_cannot_be_edited_or_deleted(admin_client):
    event = EventFactory()

    assert admin_client.get("/admin/events/event/add/").status_code == 403
    assert admin_client.post(f"/admin/events/event/{event.pk}/delete/", {"post": "yes"}).status_code == 403


@pytest.mark.django_db
def test_admin_reruns_failed_deliveries_from_the_delivery_log(admin_client, django_capture_on_commit_callbacks):
    rerun.clear()
    failed = DeliveryFactory(
        event=EventFactory(type="test.admin_rerun"),
        handler=handler_name(record_rerun),
        status=Delivery.Status.FAILED,
        attempts=5,
    )
    done = DeliveryFactory(status=Delivery.Status.SUCCEEDED)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/events/delivery/",
            {"action": "retry_selected", "_selected_action": [failed.pk, done.pk]},
            follow=True,
        )

    failed.refresh_from_db()
    assert response.status_code == 200
    assert b"Queued 1 delivery(ies) again. 1 were not failed and were left alone." in response.content
    assert rerun == [failed.event_id]
    assert (failed.status, failed.attempts) == (Delivery.Status.SUCCEEDED, 1)


@pytest.mark.django_db
def test_manager_is_offered_the_retry_action_for_failed_deliveries(manager_client):
    DeliveryFactory(status=Delivery.Status.FAILED)

    response = manager_client.get("/admin/events/delivery/")

    assert response.status_code == 200
    assert b"retry_selected" in response.content


@pytest.mark.django_db
def test_admin_adds_a_webhook_endpoint_through_the_service(admin_client, admin):
    response = admin_client.post(
        "/admin/events/webhookendpoint/add/",
        {
            "name": "Accounting",
            "url": "https://accounting.example.com/hooks",
            "event_types": ["booking.created", "client.updated"],
            "is_active": "on",
            "description": "",
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert endpoint.event_types == ["booking.created", "client.updated"]
    assert endpoint.created_by == admin
    assert len(endpoint.secret) >= 40


@pytest.mark.django_db
def test_admin_form_refuses_a_private_webhook_target(admin_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    response = admin_client.post(
        "/admin/events/webhookendpoint/add/",
        {"name": "Metadata", "url": "http://169.254.169.254/latest", "event_types": ["booking.created"]},
    )

    assert response.status_code == 200
    assert b"cannot be sent to loopback, private or link-local addresses" in response.content
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_admin_changes_a_webhook_endpoint_and_sees_its_secret(admin_client, admin):
    endpoint = WebhookEndpointFactory(event_types=["booking.created"])

    page = admin_client.get(f"/admin/events/webhookendpoint/{endpoint.pk}/change/")
    response = admin_client.post(
        f"/admin/events/webhookendpoint/{endpoint.pk}/change/",
        {"name": "Renamed", "url": endpoint.url, "event_types": ["booking.rescheduled"], "description": ""},
    )

    endpoint.refresh_from_db()
    assert endpoint.secret.encode() in page.content
    assert response.status_code == 302
    assert (endpoint.name, endpoint.event_types, endpoint.is_active) == ("Renamed", ["booking.rescheduled"], False)
    assert endpoint.updated_by == admin


def _change_url(admin_client, endpoint, url):
    return admin_client.post(
        f"/admin/events/webhookendpoint/{endpoint.pk}/change/",
        {"name": endpoint.name, "url": url, "event_types": ["booking.created"], "is_active": "on", "description": ""},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://169.254.169.254/latest", "cannot be sent to loopback, private or link-local addresses"),
        ("https://localhost/hook", "Webhooks cannot be sent to local host names."),
        ("https://user:secret@hooks.example.com/hook", "Credentials do not belong in the URL"),
    ],
    ids=["private address", "local name", "credentials"],
)
def test_admin_change_form_refuses_a_new_url_the_service_would_refuse(admin_client, settings, url, refusal):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    endpoint = WebhookEndpointFactory(url="https://hooks.example.com/studio", event_types=["booking.created"])

    response = _change_url(admin_client, endpoint, url)

    assert response.status_code == 200
    assert any(refusal in error for error in response.context["adminform"].form.errors["url"])
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).url == "https://hooks.example.com/studio"


@pytest.mark.django_db
def test_admin_change_form_refuses_a_new_host_name_that_resolves_to_a_private_address(
    admin_client, settings, monkeypatch
):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    endpoint = WebhookEndpointFactory(url="https://hooks.example.com/studio", event_types=["booking.created"])
    inside = [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("10.0.0.5", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: inside)

    response = _change_url(admin_client, endpoint, "https://intranet.example.com/hook")

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == [
        "Webhooks cannot be sent to loopback, private or link-local addresses (10.0.0.5)."
    ]
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).url == "https://hooks.example.com/studio"


@pytest.mark.django_db
def test_admin_switches_off_an_endpoint_whose_host_now_resolves_to_a_private_address(
    admin_client, settings, monkeypatch
):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    endpoint = WebhookEndpointFactory(url="https://hooks.accounting.example/studio", event_types=["booking.created"])
    moved_inside = [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("10.0.0.5", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: moved_inside)

    response = admin_client.post(
        f"/admin/events/webhookendpoint/{endpoint.pk}/change/",
        {"name": endpoint.name, "url": endpoint.url, "event_types": ["booking.created"], "description": ""},
    )

    endpoint.refresh_from_db()
    assert response.status_code == 302
    assert endpoint.is_active is False


@pytest.mark.django_db
def test_admin_switches_off_an_endpoint_added_on_a_private_address_while_those_were_allowed(admin_client, settings):
    endpoint = WebhookEndpointFactory(url="http://192.168.1.20/hook", event_types=["booking.created"])
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    response = admin_client.post(
        f"/admin/events/webhookendpoint/{endpoint.pk}/change/",
        {"name": endpoint.name, "url": endpoint.url, "event_types": ["booking.created"], "description": ""},
    )

    endpoint.refresh_from_db()
    assert response.status_code == 302
    assert endpoint.is_active is False


@pytest.mark.postgres  # SQLite's IMMEDIATE transactions take turns: the colleague would wait for this one
@pytest.mark.django_db(transaction=True)
def test_an_endpoint_a_colleague_removed_while_it_was_saved_is_reported_gone_not_a_server_error(
    admin_client, admin, monkeypatch
):
    endpoint = WebhookEndpointFactory(event_types=["booking.created"])
    read = WebhookEndpointAdmin.get_object

    def read_then_colleague_removes_it(self, *args, **kwargs):
        found = read(self, *args, **kwargs)
        # In the colleague's own request: on its own connection, committed before this one goes on.
        assert run_at_once([lambda: services.delete_webhook_endpoint(actor=admin, endpoint=endpoint)]) == [None]
        return found

    monkeypatch.setattr(WebhookEndpointAdmin, "get_object", read_then_colleague_removes_it)

    response = admin_client.post(
        f"/admin/events/webhookendpoint/{endpoint.pk}/change/",
        {"name": "Renamed", "url": f"{endpoint.url}/v2", "event_types": ["booking.created"], "description": ""},
        follow=True,
    )

    assert response.redirect_chain == [("/admin/events/webhookendpoint/", 302)]
    assert "This webhook endpoint was removed meanwhile." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_a_target_refused_only_at_save_is_shown_on_the_page_and_nothing_is_saved(admin_client, monkeypatch):
    endpoint = WebhookEndpointFactory(event_types=["booking.created"])

    checks = []

    def now_private(url, *, resolve):  # the name resolved to a public address for the form, now to a private one
        checks.append(url)
        if len(checks) > 1:
            raise ValidationError({"url": "Webhook targets must be public hosts."})

    monkeypatch.setattr(services, "check_target", now_private)

    response = admin_client.post(
        f"/admin/events/webhookendpoint/{endpoint.pk}/change/",
        {"name": "Renamed", "url": f"{endpoint.url}/v2", "event_types": ["booking.created"], "description": ""},
        follow=True,
    )

    assert response.redirect_chain == [(f"/admin/events/webhookendpoint/{endpoint.pk}/change/", 302)]
    assert "Webhook targets must be public hosts." in response.content.decode()
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).name != "Renamed"
