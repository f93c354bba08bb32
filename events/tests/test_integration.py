"""The production stack end to end: PostgreSQL, the Redis broker and a real Celery worker process.

A booking made here is committed to the test database; its event travels through Redis to a
worker started by the test, which e-mails the client over SMTP and POSTs the signed webhook.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bookings import services as bookings
from bookings.subscribers import email_client_booking_created
from bookings.tests.factories import SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events import services
from events.models import Delivery, Event, EventType
from events.registry import handler_name
from events.tests.celery_support import celery_worker
from events.tests.smtp_sink import SmtpSink
from events.tests.test_webhooks import docs_verify_signature
from photostudio.tests.stack import wait_until

SESSION_START = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_booking_reaches_the_client_by_email_and_the_integrator_by_webhook_through_a_real_worker(
    webhook_receiver,
):
    receptionist = EmployeeFactory(role=Role.RECEPTIONIST)
    admin = EmployeeFactory(role=Role.ADMIN)
    space = SpaceFactory(slug="daylight", name="Daylight Studio")
    endpoint = services.create_webhook_endpoint(
        actor=admin, name="Accounting", url=webhook_receiver.url("/hooks"), event_types=[EventType.BOOKING_CREATED]
    )

    with SmtpSink() as smtp, celery_worker(smtp_port=smtp.port) as worker:
        booking = bookings.create_booking(
            actor=receptionist,
            space=space,
            start=SESSION_START,
            end=SESSION_START + timedelta(hours=2),
            people_count=2,
            client_name="Ada Lovelace",
            client_phone="+14155550100",
            client_email="ada@client.test",
        )
        wait_until(
            lambda: smtp.messages and webhook_receiver.to("/hooks"), what="the e-mail and the webhook", log=worker.log
        )
        wait_until(
            lambda: Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == 2,
            what="both deliveries to be recorded as succeeded",
            log=worker.log,
        )

    event = Event.objects.get(type=EventType.BOOKING_CREATED)
    assert event.aggregate_id == str(booking.pk)
    assert event.dispatched_at is not None
    [message] = smtp.messages
    assert message["To"] == "ada@client.test"
    assert message["Subject"] == "We have your booking for Mon 14 Jan, 10:00"
    assert "Daylight Studio" in message.get_body(("plain",)).get_content()
    assert "Daylight Studio" in message.get_body(("html",)).get_content()
    [request] = webhook_receiver.to("/hooks")
    body = json.loads(request.body)
    assert (body["id"], body["type"], body["aggregate"]) == (
        event.pk,
        "booking.created",
        {"type": "bookings.booking", "id": str(booking.pk)},
    )
    stamp, signature = request.headers["X-Studio-Timestamp"], request.headers["X-Studio-Signature"]
    assert docs_verify_signature()(endpoint.secret, request.body, stamp, signature)
    email_delivery = Delivery.objects.get(event=event, handler=handler_name(email_client_booking_created))
    assert email_delivery.outcome.startswith("E-mailed ada@client.test")
    assert Delivery.objects.get(event=event, endpoint=endpoint).response_status == 200
