"""The production stack end to end: PostgreSQL, the Redis broker and a real Celery worker process.

A booking made here is committed to the test database; its event travels through Redis to a
worker started by the test, which e-mails the client over SMTP and POSTs the signed webhook.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from bookings import services as bookings
from bookings.tests.factories import SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events import services
from events.models import Delivery, Event, EventType
from events.registry import handler_name
from events.subscribers import email_client_booking_created
from events.tests.celery_support import celery_options
from events.tests.smtp_sink import SmtpSink
from events.tests.test_webhooks import docs_verify_signature
from photostudio.celery import app as celery_app

SESSION_START = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)
WAIT_SECONDS = 90


def _test_database_url() -> str:
    database = settings.DATABASES["default"]
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database.get("PASSWORD") else "")
    return f"postgresql://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def _wait_until(condition, *, what: str, log: Path):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-6000:]}")


@contextmanager
def celery_worker(*, smtp_port: int):
    """A `celery -A photostudio worker` process on the test database and the test Redis.

    It consumes a queue of its own, where this test process routes the events' tasks, so another
    run sharing the Redis database (and its worker) neither takes nor loses this one's messages.
    """
    queue = f"events-integration-{uuid.uuid4().hex}"
    name = f"{queue}@localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "photostudio.settings",
        "SECRET_KEY": "integration-test-secret-key-long-enough-for-signing-0123456789",
        "DATABASE_URL": _test_database_url(),
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": "2",
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "false",
        "DEFAULT_FROM_EMAIL": settings.DEFAULT_FROM_EMAIL,
        "TIME_ZONE": settings.TIME_ZONE,
        "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
        "CELERY_QUEUE": queue,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "photostudio", "worker", "--pool=solo", "-n", name, "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    with (
        celery_options(task_always_eager=False, task_routes={"events.*": {"queue": queue}}),
        tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as log_file,
    ):
        log = Path(log_file.name)
        worker = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            _wait_until(
                lambda: worker.poll() is not None or celery_app.control.ping(destination=[name], timeout=0.5),
                what="the worker to answer a ping",
                log=log,
            )
            assert worker.poll() is None, f"the worker exited; its log:\n{log.read_text()[-6000:]}"
            yield log
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
            log.unlink(missing_ok=True)
            with celery_app.connection_for_write() as connection:
                connection.default_channel.queue_delete(queue)


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

    with SmtpSink() as smtp, celery_worker(smtp_port=smtp.port) as log:
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
        _wait_until(lambda: smtp.messages and webhook_receiver.to("/hooks"), what="the e-mail and the webhook", log=log)
        _wait_until(
            lambda: Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == 2,
            what="both deliveries to be recorded as succeeded",
            log=log,
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
