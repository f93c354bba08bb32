import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.app import amqp as celery_amqp
from celery.signals import before_task_publish
from celery.utils.saferepr import saferepr
from django.db import connection, transaction
from django.utils import timezone

import events
from employees.tests.factories import EmployeeFactory
from events.models import Delivery, Event, EventType
from events.registry import Skipped, handler_name, subscriber
from events.services import dispatch, publish, publish_each, relay, retry_delivery, run_delivery
from events.signals import event_committed
from events.tests.celery_support import celery_options
from events.tests.factories import DeliveryFactory, EventFactory, WebhookEndpointFactory
from photostudio.celery import app as celery_app
from photostudio.errors import DeliveryNotFailed, PermissionDenied

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)

recorded: list[int] = []
flaky_calls: list[int] = []
slow_calls: list[int] = []


@subscriber("test.recorded")
def record_event(event):
    recorded.append(event.pk)
    return f"recorded #{event.pk}"


@subscriber("test.multi_a", "test.multi_b")
def record_either(event):
    recorded.append(event.pk)


@subscriber("test.flaky")
def follow_up_flakily(event):
    """Writes its effect, then fails on the first two attempts, as a downstream outage would."""
    flaky_calls.append(event.pk)
    publish("test.followed_up", event, payload={"source": event.pk})
    if len(flaky_calls) < 3:
        raise ConnectionError("downstream unavailable")
    return "followed up"


@subscriber("test.always_failing")
def fail_always(event):
    raise ValueError("this handler is broken")


@subscriber("test.nothing_to_do")
def skip_it(event):
    raise Skipped("the client has no e-mail address")


@subscriber("test.slow")
def run_slowly(event):
    slow_calls.append(event.pk)
    time.sleep(0.3)
    return "slow work done"


@pytest.fixture(autouse=True)
def _fresh_handler_logs():
    for log in (recorded, flaky_calls, slow_calls):
        log.clear()


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """Run the block, then its after-commit work (dispatch and deliveries, eagerly) as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.mark.django_db(transaction=True)
def test_event_rolled_back_with_its_transaction_is_never_delivered():
    employee = EmployeeFactory()

    def save_booking_that_fails():
        with transaction.atomic():
            publish("test.recorded", employee)
            raise RuntimeError("the booking could not be saved")

    with pytest.raises(RuntimeError):
        save_booking_that_fails()

    relay(older_than=timedelta(0))

    assert Event.objects.count() == 0
    assert recorded == []


@pytest.mark.django_db(transaction=True)
def test_committed_event_is_delivered_to_its_subscriber_once():
    employee = EmployeeFactory()
    with transaction.atomic():
        event = publish("test.recorded", employee, payload={"why": "test"})

    relay(older_than=timedelta(0))

    assert recorded == [event.pk]
    delivery = Delivery.objects.get(event=event)
    assert (delivery.handler, delivery.status, delivery.attempts) == (
        handler_name(record_event),
        Delivery.Status.SUCCEEDED,
        1,
    )
    assert delivery.outcome == f"recorded #{event.pk}"
    event.refresh_from_db()
    assert event.dispatched_at is not None


@pytest.mark.django_db
def test_an_event_for_each_of_many_is_one_insert_and_each_is_delivered(after_commit, django_assert_num_queries):
    employees = EmployeeFactory.create_batch(3)

    with after_commit(), django_assert_num_queries(1):
        published = publish_each("test.recorded", employees, payload={"why": "test"})

    stored = Event.objects.order_by("id").values_list("pk", "type", "aggregate_id", "payload")
    assert list(stored) == [
        (event.pk, "test.recorded", str(employee.pk), {"why": "test"})
        for event, employee in zip(published, employees, strict=True)
    ]
    assert recorded == [event.pk for event in published]


@pytest.mark.django_db
def test_handler_failing_twice_then_succeeding_runs_three_times_and_its_effect_happens_once(after_commit, settings):
    settings.EVENTS_RETRY_BASE_DELAY = 30
    employee = EmployeeFactory()
    with time_machine.travel(START, tick=False) as clock:
        with after_commit():
            event = publish("test.flaky", employee)
        delivery = Delivery.objects.get(event=event)
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
            Delivery.Status.PENDING,
            1,
            START + timedelta(seconds=30),
        )
        assert "downstream unavailable" in delivery.last_error

        clock.shift(timedelta(seconds=30))
        with after_commit():
            relay(older_than=timedelta(0))
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.next_attempt_at) == (2, START + timedelta(seconds=30 + 60))

        clock.shift(timedelta(seconds=60))
        with after_commit():
            relay(older_than=timedelta(0))
            relay(older_than=timedelta(0))

    delivery.refresh_from_db()
    assert flaky_calls == [event.pk] * 3
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Delivery.Status.SUCCEEDED, 3, "")
    assert Event.objects.filter(type="test.followed_up").count() == 1


@pytest.mark.django_db
def test_retry_is_not_run_before_its_backoff_has_passed(after_commit, settings):
    settings.EVENTS_RETRY_BASE_DELAY = 30
    with time_machine.travel(START, tick=False) as clock:
        with after_commit():
            event = publish("test.flaky", EmployeeFactory())
        clock.shift(timedelta(seconds=29))
        delivery = Delivery.objects.get(event=event)

        assert run_delivery(delivery_id=delivery.pk) is None
        with after_commit():
            relay(older_than=timedelta(0))

    assert flaky_calls == [event.pk]


@pytest.mark.django_db
def test_backoff_doubles_up_to_its_ceiling_and_the_delivery_fails_after_the_last_attempt(after_commit, settings):
    settings.EVENTS_RETRY_BASE_DELAY = 10
    settings.EVENTS_RETRY_MAX_DELAY = 30
    settings.EVENTS_HANDLER_MAX_ATTEMPTS = 4
    waits = []
    with time_machine.travel(START, tick=False) as clock:
        with after_commit():
            event = publish("test.always_failing", EmployeeFactory())
        delivery = Delivery.objects.get(event=event)
        while delivery.status == Delivery.Status.PENDING:
            wait = delivery.next_attempt_at - timezone.now()
            waits.append(wait.total_seconds())
            clock.shift(wait)
            with after_commit():
                relay(older_than=timedelta(0))
            delivery.refresh_from_db()

    assert waits == [10, 20, 30]
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 4)
    assert "ValueError: this handler is broken" in delivery.last_error
    assert delivery.finished_at is not None


@pytest.mark.django_db
def test_handler_with_nothing_to_do_is_skipped_with_its_reason(after_commit):
    with after_commit():
        event = publish("test.nothing_to_do", EmployeeFactory())

    delivery = Delivery.objects.get(event=event)
    assert (delivery.status, delivery.outcome) == (Delivery.Status.SKIPPED, "the client has no e-mail address")


@pytest.mark.django_db
def test_a_failing_in_process_receiver_neither_fails_the_commit_nor_stops_delivery(after_commit):
    def broken_cache_invalidation(sender, **kwargs):
        raise KeyError("cache key")

    event_committed.connect(broken_cache_invalidation)
    try:
        with after_commit():
            event = events.publish("test.recorded", EmployeeFactory())
    finally:
        event_committed.disconnect(broken_cache_invalidation)

    assert recorded == [event.pk]


@pytest.mark.django_db
def test_dispatching_an_event_twice_creates_its_deliveries_once(after_commit):
    with after_commit():
        event = publish("test.recorded", EmployeeFactory())

    with after_commit():
        assert dispatch(event_id=event.pk) == 0

    assert Delivery.objects.filter(event=event).count() == 1
    assert recorded == [event.pk]


@pytest.mark.django_db
def test_dispatch_owes_a_delivery_only_to_the_active_endpoints_subscribed_to_the_event_type():
    subscribed = WebhookEndpointFactory(event_types=[EventType.CLIENT_UPDATED])
    WebhookEndpointFactory(event_types=[EventType.CLIENT_UPDATED], is_active=False)
    WebhookEndpointFactory(event_types=[EventType.BOOKING_CREATED])
    event = EventFactory(type=EventType.CLIENT_UPDATED)

    dispatch(event_id=event.pk)

    owed = Delivery.objects.filter(event=event, endpoint__isnull=False).values_list("endpoint", flat=True)
    assert list(owed) == [subscribed.pk]


@pytest.mark.django_db
def test_a_finished_delivery_is_never_run_again():
    delivery = DeliveryFactory(
        event=EventFactory(type="test.recorded"), handler=handler_name(record_event), status=Delivery.Status.SUCCEEDED
    )

    assert run_delivery(delivery_id=delivery.pk) is None
    assert recorded == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_the_same_delivery_run_it_once():
    delivery = DeliveryFactory(event=EventFactory(type="test.slow"), handler=handler_name(run_slowly))
    start_together = threading.Barrier(2)
    results = []

    def worker():
        try:
            start_together.wait()
            results.append(run_delivery(delivery_id=delivery.pk))
        finally:
            connection.close()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    assert sorted(results, key=str) == [None, Delivery.Status.SUCCEEDED]
    assert slow_calls == [delivery.event_id]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SUCCEEDED, 1)


@pytest.mark.django_db
def test_subscriber_registered_for_several_types_gets_each(after_commit):
    with after_commit():
        first = publish("test.multi_a", EmployeeFactory())
        second = publish("test.multi_b", EmployeeFactory())

    assert recorded == [first.pk, second.pk]


@pytest.mark.django_db
def test_a_queued_dispatch_shows_its_arguments_as_celery_would_write_them_without_working_them_out(
    after_commit, monkeypatch
):
    published, worked_out = [], []

    def keep_headers(headers, **kwargs):
        published.append(headers)

    monkeypatch.setattr(celery_amqp, "saferepr", lambda *args: worked_out.append(args) or saferepr(*args))
    before_task_publish.connect(keep_headers, weak=False)
    try:
        with celery_options(task_always_eager=False, broker_url="memory://"), after_commit():
            event = publish("test.recorded", EmployeeFactory())
    finally:
        before_task_publish.disconnect(keep_headers)

    assert worked_out == []  # saferepr was a quarter of a publish's CPU
    [headers] = published
    assert (headers["task"], headers["argsrepr"], headers["kwargsrepr"]) == (
        "events.dispatch_event",
        saferepr((event.pk,)),
        saferepr({}),
    )


def test_every_beat_task_is_a_registered_celery_task(settings):
    celery_app.loader.import_default_modules()  # what a worker does at start: every app's tasks.py
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(celery_app.tasks)


@pytest.mark.django_db
def test_receptionist_cannot_retry_a_delivery(receptionist):
    delivery = DeliveryFactory(status=Delivery.Status.FAILED)

    with pytest.raises(PermissionDenied):
        retry_delivery(actor=receptionist, delivery=delivery)


@pytest.mark.django_db
def test_retrying_a_failed_delivery_runs_it_again_with_fresh_attempts(admin, after_commit):
    delivery = DeliveryFactory(
        event=EventFactory(type="test.recorded"),
        handler=handler_name(record_event),
        status=Delivery.Status.FAILED,
        attempts=5,
        last_error="SMTPServerDisconnected",
    )

    with after_commit():
        delivery = retry_delivery(actor=admin, delivery=delivery)

    delivery.refresh_from_db()
    assert recorded == [delivery.event_id]
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SUCCEEDED, 1)


@pytest.mark.django_db
def test_only_failed_deliveries_can_be_retried(admin):
    delivery = DeliveryFactory(status=Delivery.Status.SUCCEEDED)

    with pytest.raises(DeliveryNotFailed):
        retry_delivery(actor=admin, delivery=delivery)
