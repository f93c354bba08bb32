import json
import re
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db.models import F
from urllib3 import connection as urllib3_connection

from employees.tests.factories import EmployeeFactory
from events import services, webhooks
from events.models import Delivery, EventType
from events.targets import check_target
from events.tests.factories import DeliveryFactory, EventFactory, WebhookEndpointFactory
from photostudio.errors import PermissionDenied

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def docs_verify_signature():
    """The stand-alone verification function exactly as docs/webhooks.md publishes it."""
    text = (django_settings.BASE_DIR / "docs" / "webhooks.md").read_text()
    section = text.split("## Verifying the signature", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace = {}
    exec(compile(snippet, "docs/webhooks.md", "exec"), namespace)
    return namespace["verify_signature"]


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _run_due_retries(clock, after_commit, *, rounds: int, wait: timedelta):
    for _ in range(rounds):
        clock.shift(wait)
        with after_commit():
            services.relay(older_than=timedelta(0))


@pytest.mark.django_db
def test_webhook_signature_verifies_with_the_snippet_from_the_docs(webhook_receiver, after_commit):
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/hook"), event_types=[EventType.CLIENT_UPDATED])
    employee = EmployeeFactory()

    with time_machine.travel(START, tick=False), after_commit():
        event = services.publish(EventType.CLIENT_UPDATED, employee, payload={"fields": ["email"]})

    [request] = webhook_receiver.to("/hook")
    verify_signature = docs_verify_signature()
    headers = request.headers
    stamp, signature = headers["X-Studio-Timestamp"], headers["X-Studio-Signature"]
    received_at = START.timestamp() + 2
    assert verify_signature(endpoint.secret, request.body, stamp, signature, now=received_at)
    assert not verify_signature("another secret", request.body, stamp, signature, now=received_at)
    tampered = request.body.replace(b"email", b"phone")
    assert not verify_signature(endpoint.secret, tampered, stamp, signature, now=received_at)
    replayed_an_hour_later = received_at + 3600
    assert not verify_signature(endpoint.secret, request.body, stamp, signature, now=replayed_an_hour_later)
    assert headers["X-Studio-Event-Id"] == str(event.pk)
    assert headers["X-Studio-Event"] == "client.updated"
    assert json.loads(request.body) == {
        "id": event.pk,
        "type": "client.updated",
        "occurred_at": "2030-03-04T09:00:00Z",
        "aggregate": {"type": "employees.employee", "id": str(employee.pk)},
        "actor_id": None,
        "payload": {"fields": ["email"]},
    }


@pytest.mark.django_db
def test_webhook_receiver_gets_every_event_exactly_once_per_endpoint_across_retries(
    webhook_receiver, after_commit, settings
):
    settings.EVENTS_RETRY_BASE_DELAY = 10
    steady = WebhookEndpointFactory(url=webhook_receiver.url("/steady"), event_types=[EventType.CLIENT_UPDATED])
    flaky = WebhookEndpointFactory(url=webhook_receiver.url("/flaky"), event_types=[EventType.CLIENT_UPDATED])
    webhook_receiver.answer("/flaky", 500, 503, 502)
    WebhookEndpointFactory(url=webhook_receiver.url("/other"), event_types=[EventType.BOOKING_CREATED])

    with time_machine.travel(START, tick=False) as clock:
        with after_commit():
            events = [services.publish(EventType.CLIENT_UPDATED, EmployeeFactory()) for _ in range(3)]
            services.dispatch(event_id=events[0].pk)  # a duplicate dispatch message
        _run_due_retries(clock, after_commit, rounds=4, wait=timedelta(minutes=5))
        with after_commit():
            services.dispatch(event_id=events[1].pk)  # a late duplicate, after everything succeeded

    event_ids = sorted(event.pk for event in events)
    accepted = {
        path: Counter(request.event_id for request in webhook_receiver.to(path) if request.answered == 200)
        for path in ("/steady", "/flaky")
    }
    assert accepted["/steady"] == dict.fromkeys(event_ids, 1)
    assert accepted["/flaky"] == dict.fromkeys(event_ids, 1)
    assert len(webhook_receiver.to("/steady")) == 3
    assert len(webhook_receiver.to("/flaky")) == 3 + 3
    assert webhook_receiver.to("/other") == []
    assert set(Delivery.objects.filter(endpoint__in=[steady, flaky]).values_list("status", flat=True)) == {
        Delivery.Status.SUCCEEDED
    }
    retried = Delivery.objects.filter(endpoint=flaky, attempts__gt=1)
    assert retried.exists()
    assert all(delivery.response_status == 200 and delivery.last_error == "" for delivery in retried)


@pytest.mark.django_db
def test_failed_webhook_attempt_logs_the_status_and_the_answer(webhook_receiver, after_commit):
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/down"), event_types=[EventType.CLIENT_UPDATED])
    webhook_receiver.answer("/down", 503)

    with after_commit():
        services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.response_status) == (Delivery.Status.PENDING, 503)
    assert delivery.last_error == "WebhookRejected: HTTP 503: try again later"


@pytest.mark.django_db
def test_disabled_endpoint_is_skipped_when_its_retry_comes(webhook_receiver, after_commit):
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/hook"), event_types=[EventType.CLIENT_UPDATED])
    webhook_receiver.answer("/hook", 500)
    with time_machine.travel(START, tick=False) as clock:
        with after_commit():
            services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())
        endpoint.is_active = False
        endpoint.save()
        _run_due_retries(clock, after_commit, rounds=1, wait=timedelta(minutes=5))

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.outcome) == (Delivery.Status.SKIPPED, "The endpoint is disabled.")
    assert len(webhook_receiver.to("/hook")) == 1


@pytest.mark.django_db
def test_endpoint_no_longer_subscribed_to_the_type_is_skipped_when_its_retry_comes(webhook_receiver, after_commit):
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/hook"), event_types=[EventType.CLIENT_UPDATED])
    webhook_receiver.answer("/hook", 500)
    with time_machine.travel(START, tick=False) as clock:
        with after_commit():
            services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())
        endpoint.event_types = [EventType.BOOKING_CREATED]
        endpoint.save()
        _run_due_retries(clock, after_commit, rounds=1, wait=timedelta(minutes=5))

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.outcome) == (
        Delivery.Status.SKIPPED,
        "The endpoint no longer subscribes to this event type.",
    )
    assert len(webhook_receiver.to("/hook")) == 1


@pytest.mark.django_db
def test_deleted_endpoint_keeps_its_log_and_its_pending_retry_is_skipped(admin, webhook_receiver, after_commit):
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/hook"), event_types=[EventType.CLIENT_UPDATED])
    handler = endpoint.handler_name
    webhook_receiver.answer("/hook", 500)
    with time_machine.travel(START, tick=False) as clock:
        with after_commit():
            services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())
        services.delete_webhook_endpoint(actor=admin, endpoint=endpoint)
        _run_due_retries(clock, after_commit, rounds=1, wait=timedelta(minutes=5))

    delivery = Delivery.objects.get(handler=handler)
    assert (delivery.status, delivery.outcome, delivery.endpoint) == (
        Delivery.Status.SKIPPED,
        "The endpoint was deleted.",
        None,
    )
    assert len(webhook_receiver.to("/hook")) == 1


@pytest.mark.django_db
def test_delivery_to_a_name_resolving_to_loopback_is_refused_at_connect_time(webhook_receiver, after_commit, settings):
    port = webhook_receiver.url("/").rsplit(":", 1)[1].rstrip("/")
    # Saved while the name pointed elsewhere (or through a DNS change since): the connection checks it.
    endpoint = WebhookEndpointFactory(url=f"http://localhost:{port}/hook", event_types=[EventType.CLIENT_UPDATED])
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    with after_commit():
        services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.PENDING
    assert "TargetRefused: localhost resolves to 127.0.0.1" in delivery.last_error
    assert webhook_receiver.received == []


@pytest.mark.django_db
def test_a_receiver_slower_than_the_timeout_counts_as_a_failed_attempt(webhook_receiver, after_commit, settings):
    settings.WEBHOOKS_TIMEOUT = 1
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/slow"), event_types=[EventType.CLIENT_UPDATED])
    webhook_receiver.delay("/slow", 2)

    with after_commit():
        services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.PENDING
    assert "ReadTimeout" in delivery.last_error


@pytest.mark.django_db
def test_redirects_are_not_followed(webhook_receiver, after_commit):
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/moved"), event_types=[EventType.CLIENT_UPDATED])
    webhook_receiver.answer("/moved", 307)

    with after_commit():
        services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.response_status) == (Delivery.Status.PENDING, 307)
    assert len(webhook_receiver.received) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10:8080/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "http://[::127.0.0.1]/hook",
        "http://[::a9fe:a9fe]/hook",
        "http://[2002:7f00:1::]/hook",
        "http://[64:ff9b:1::a00:5]/hook",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
        "http://localhost/hook",
        "https://LOCALHOST./hook",
        "https://printer.local/hook",
        "http://2130706433/hook",
        "http://127.1/hook",
    ],
)
def test_loopback_private_and_link_local_targets_are_refused(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    with pytest.raises(ValidationError, match="cannot be sent"):
        check_target(url, resolve=True)


@pytest.mark.parametrize(
    "url", ["ftp://files.example.com/hook", "file:///etc/passwd", "gopher://example.com/", "https://", "javascript:x"]
)
def test_only_http_and_https_urls_are_accepted(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True

    with pytest.raises(ValidationError):
        check_target(url, resolve=False)


def test_public_targets_are_accepted(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    check_target("https://93.184.215.14/hook", resolve=True)
    check_target("https://hooks.example.com/studio", resolve=False)


def test_a_name_the_dns_is_slow_to_resolve_is_left_to_the_deliveries_check(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOKS_TIMEOUT = 1
    answered = threading.Event()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answered.wait(10))

    started = time.monotonic()
    check_target("https://hooks.example.com/studio", resolve=True)
    took = time.monotonic() - started
    answered.set()

    assert took < 3


@pytest.mark.parametrize("url", ["http://[64:ff9b::808:808]/hook", "http://[2002:808:808::1]/hook"])
def test_ipv6_forms_of_a_public_ipv4_address_are_accepted(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    check_target(url, resolve=False)


@pytest.mark.django_db
def test_delivery_to_a_name_resolving_to_nat64_of_the_metadata_address_is_refused_at_connect_time(
    after_commit, settings, monkeypatch
):
    endpoint = WebhookEndpointFactory(url="http://hooks.example.com/hook", event_types=[EventType.CLIENT_UPDATED])
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    connection = _ConnectedTo("64:ff9b::a9fe:a9fe")
    monkeypatch.setattr(urllib3_connection.connection, "create_connection", lambda *args, **kwargs: connection)

    with after_commit():
        services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.PENDING
    assert "TargetRefused: hooks.example.com resolves to 64:ff9b::a9fe:a9fe" in delivery.last_error
    assert connection.sent == b""


class _ConnectedTo:
    """A socket whose peer is ``address``, as if DNS had answered with it; records what is sent."""

    def __init__(self, address: str):
        self.address = address
        self.sent = b""

    def getpeername(self):
        return (self.address, 80, 0, 0)

    def sendall(self, data):
        self.sent += data

    def close(self):
        pass


def test_private_targets_are_accepted_when_the_setting_allows_them(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True

    check_target("http://127.0.0.1:8080/hook", resolve=True)


@pytest.mark.django_db
def test_creating_an_endpoint_refuses_a_private_target(admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    with pytest.raises(ValidationError) as refused:
        services.create_webhook_endpoint(
            actor=admin, name="Internal", url="http://10.0.0.5/hook", event_types=[EventType.BOOKING_CREATED]
        )

    assert "url" in refused.value.message_dict


@pytest.mark.django_db
def test_creating_an_endpoint_generates_a_secret_and_records_who_did_it(admin):
    endpoint = services.create_webhook_endpoint(
        actor=admin,
        name="Accounting",
        url="https://accounting.example.com/hook",
        event_types=[EventType.BOOKING_STATE_CHANGED, EventType.BOOKING_CREATED, EventType.BOOKING_CREATED],
    )

    assert len(endpoint.secret) >= 40
    assert endpoint.event_types == ["booking.created", "booking.state_changed"]
    assert endpoint.created_by == admin


@pytest.mark.django_db
def test_endpoint_event_types_must_come_from_the_catalogue(admin):
    with pytest.raises(ValidationError) as refused:
        services.create_webhook_endpoint(
            actor=admin, name="Typo", url="https://example.com/hook", event_types=["booking.creatd"]
        )

    assert refused.value.message_dict["event_types"] == ["Unknown event types: booking.creatd."]


@pytest.mark.django_db
def test_rotating_the_secret_signs_later_deliveries_with_the_new_one(admin, webhook_receiver, after_commit):
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/hook"), event_types=[EventType.CLIENT_UPDATED])
    old_secret = endpoint.secret

    endpoint = services.rotate_webhook_secret(actor=admin, endpoint=endpoint)
    with after_commit():
        services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())

    [request] = webhook_receiver.to("/hook")
    verify_signature = docs_verify_signature()
    stamp, signature = request.headers["X-Studio-Timestamp"], request.headers["X-Studio-Signature"]
    assert endpoint.secret != old_secret
    assert verify_signature(endpoint.secret, request.body, stamp, signature, now=int(stamp))
    assert not verify_signature(old_secret, request.body, stamp, signature, now=int(stamp))


@pytest.mark.django_db
def test_receptionist_cannot_manage_webhook_endpoints(receptionist):
    with pytest.raises(PermissionDenied):
        services.create_webhook_endpoint(
            actor=receptionist, name="Mine", url="https://example.com/hook", event_types=[EventType.BOOKING_CREATED]
        )


@pytest.mark.django_db
def test_a_receiver_that_answers_200_and_then_keeps_streaming_does_not_hold_the_worker(
    webhook_receiver, after_commit, settings
):
    settings.WEBHOOKS_TIMEOUT = 1
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/chatty"), event_types=[EventType.CLIENT_UPDATED])
    webhook_receiver.reply("/chatty", b"." * 30, trickle=0.2)

    started = time.monotonic()
    with after_commit():
        services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())
    took = time.monotonic() - started

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.response_status) == (Delivery.Status.SUCCEEDED, 200)
    assert took < 3


@pytest.mark.django_db
def test_a_refusal_trickled_past_the_timeout_is_logged_without_waiting_for_all_of_it(
    webhook_receiver, after_commit, settings
):
    settings.WEBHOOKS_TIMEOUT = 1
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/slow-no"), event_types=[EventType.CLIENT_UPDATED])
    webhook_receiver.answer("/slow-no", 503)
    webhook_receiver.reply("/slow-no", b"busy " * 8, trickle=0.15)

    started = time.monotonic()
    with after_commit():
        services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())
    took = time.monotonic() - started

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.response_status) == (Delivery.Status.PENDING, 503)
    assert delivery.last_error.startswith("WebhookRejected: HTTP 503: busy")
    assert took < 3


@pytest.mark.django_db
def test_a_refusal_whose_answer_holds_nul_characters_is_recorded_and_retried(webhook_receiver, after_commit):
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/binary"), event_types=[EventType.CLIENT_UPDATED])
    webhook_receiver.answer("/binary", 500)
    webhook_receiver.reply("/binary", b"down\x00for maintenance")

    with after_commit():
        services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.response_status) == (Delivery.Status.PENDING, 500)
    assert delivery.last_error == "WebhookRejected: HTTP 500: down\ufffdfor maintenance"


@pytest.mark.django_db
@pytest.mark.parametrize("receiver", ["webhook_receiver", "https_webhook_receiver"])
def test_a_receiver_trickling_its_headers_fails_the_attempt_once_the_time_is_up(
    receiver, request, after_commit, settings
):
    webhook_receiver = request.getfixturevalue(receiver)
    settings.WEBHOOKS_TIMEOUT = 1
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/drip"), event_types=[EventType.CLIENT_UPDATED])
    webhook_receiver.trickle_headers("/drip", pause=0.2)

    started = time.monotonic()
    with after_commit():
        services.publish(EventType.CLIENT_UPDATED, EmployeeFactory())
    took = time.monotonic() - started

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.PENDING
    assert "no complete answer within 2 seconds" in delivery.last_error
    assert took < 4


@pytest.mark.django_db
def test_a_webhook_answered_after_its_attempt_went_to_another_worker_is_not_counted_as_this_ones(
    webhook_receiver, monkeypatch
):
    endpoint = WebhookEndpointFactory(url=webhook_receiver.url("/late"), event_types=[EventType.CLIENT_UPDATED])
    delivery = DeliveryFactory(
        event=EventFactory(type=EventType.CLIENT_UPDATED), endpoint=endpoint, handler=endpoint.handler_name
    )
    send = webhooks.send

    def send_while_the_relay_hands_the_attempt_on(*args):
        result = send(*args)
        Delivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)  # another worker's claim
        return result

    monkeypatch.setattr(webhooks, "send", send_while_the_relay_hands_the_attempt_on)

    assert services.run_delivery(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.outcome) == (Delivery.Status.RUNNING, "")


@pytest.mark.django_db
def test_an_endpoint_on_a_private_address_can_be_switched_off_after_private_targets_are_disallowed(admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    endpoint = services.create_webhook_endpoint(
        actor=admin, name="Internal", url="http://10.0.0.5/hook", event_types=[EventType.BOOKING_CREATED]
    )
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    services.update_webhook_endpoint(actor=admin, endpoint=endpoint, is_active=False, name="Internal (old)")

    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.name) == (False, "Internal (old)")


@pytest.mark.django_db
def test_moving_an_endpoint_to_a_private_address_is_refused_once_private_targets_are_disallowed(admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    endpoint = services.create_webhook_endpoint(
        actor=admin, name="Internal", url="http://10.0.0.5/hook", event_types=[EventType.BOOKING_CREATED]
    )
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    with pytest.raises(ValidationError) as refused:
        services.update_webhook_endpoint(actor=admin, endpoint=endpoint, url="http://10.0.0.6/hook")

    assert "url" in refused.value.message_dict
