"""Deliveries survive a worker killed in the middle of one, and receivers that hang or fail, with
real Celery worker processes on the test database and Redis."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bookings import services as bookings
from bookings.tests.factories import SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events import services
from events.models import Delivery, EventType
from events.tests.celery_support import celery_worker
from events.tests.smtp_sink import SmtpSink
from photostudio.tests.stack import wait_until

SESSION_START = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)
pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


def _book(*, hour: int, client_name: str = "Ada Lovelace"):
    start = SESSION_START + timedelta(hours=hour)
    return bookings.create_booking(
        actor=EmployeeFactory(role=Role.RECEPTIONIST),
        space=SpaceFactory(slug=f"studio-{hour}", name=f"Studio {hour}"),
        start=start,
        end=start + timedelta(hours=1),
        people_count=2,
        client_name=client_name,
        client_phone="+14155550100",
        client_email="ada@client.test",
    )


def test_a_delivery_whose_worker_was_killed_runs_again_after_its_lease_and_its_email_goes_once(settings):
    with SmtpSink(stall_sessions=1) as smtp:
        with celery_worker(smtp_port=smtp.port) as worker:
            _book(hour=0)
            wait_until(smtp.stalled.is_set, what="the worker to be sending the e-mail", log=worker.log)
            worker.process.kill()
            worker.process.wait(timeout=10)
        [delivery] = Delivery.objects.all()
        assert delivery.status == Delivery.Status.RUNNING

        settings.EVENTS_DELIVERY_LEASE = 600
        assert services.relay(older_than=timedelta(0)).released == 0
        settings.EVENTS_DELIVERY_LEASE = 0

        with celery_worker(smtp_port=smtp.port) as worker:
            assert services.relay(older_than=timedelta(0)).released == 1
            wait_until(
                lambda: Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SUCCEEDED,
                what="the released delivery to succeed",
                log=worker.log,
            )

    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert [message["To"] for message in smtp.messages] == ["ada@client.test"]


def test_hanging_and_failing_receivers_are_retried_then_failed_while_other_deliveries_go_on(settings, webhook_receiver):
    admin = EmployeeFactory(role=Role.ADMIN)
    for path in ("/hangs", "/fails", "/works"):
        services.create_webhook_endpoint(
            actor=admin, name=path, url=webhook_receiver.url(path), event_types=[EventType.BOOKING_CREATED]
        )
    webhook_receiver.delay("/hangs", 10)
    webhook_receiver.answer("/fails", *[500] * 10)
    retries = {"WEBHOOKS_TIMEOUT": "2", "WEBHOOKS_MAX_ATTEMPTS": "3", "EVENTS_RETRY_BASE_DELAY": "2"}

    def deliveries(path: str):
        return Delivery.objects.filter(endpoint__name=path)

    def quick_ones_done_while_slow_ones_still_retried() -> bool:
        quick = Delivery.objects.exclude(endpoint__name__in=["/hangs", "/fails"])
        if quick.count() < 6 or quick.exclude(status=Delivery.Status.SUCCEEDED).exists():
            return False
        assert not deliveries("/hangs").filter(status=Delivery.Status.FAILED).exists()
        return True

    with SmtpSink() as smtp, celery_worker(smtp_port=smtp.port, threads=4, **retries) as worker:
        for hour in range(3):
            _book(hour=hour)
        wait_until(
            quick_ones_done_while_slow_ones_still_retried,
            what="the e-mails and the working webhook to be delivered",
            log=worker.log,
        )
        wait_until(
            lambda: (
                deliveries("/hangs").filter(status=Delivery.Status.FAILED).count() == 3
                and deliveries("/fails").filter(status=Delivery.Status.FAILED).count() == 3
            ),
            what="the hanging and failing receivers' deliveries to fail",
            log=worker.log,
        )

    assert len(smtp.messages) == 3
    assert {delivery.attempts for delivery in deliveries("/hangs") | deliveries("/fails")} == {3}
    assert {delivery.response_status for delivery in deliveries("/fails")} == {500}
    assert all("timed out" in delivery.last_error.lower() for delivery in deliveries("/hangs"))
    by_event = sorted(webhook_receiver.to("/fails"), key=lambda request: request.event_id)
    for _, requests in itertools.groupby(by_event, key=lambda request: request.event_id):
        first, second, third = (request.at for request in requests)
        assert second - first >= 2, "the first retry waits EVENTS_RETRY_BASE_DELAY"
        assert third - second >= 4, "the next one waits twice as long"
