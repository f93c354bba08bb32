from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction

from employees.tests.factories import EmployeeFactory
from events import services, tasks
from events.models import Delivery, Event
from events.registry import handler_name, subscriber
from events.services import publish, relay
from events.tests.celery_support import broker_unreachable
from events.tests.factories import DeliveryFactory, EventFactory
from photostudio.cache import cache as two_tier_cache

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)

relayed: list[int] = []


@subscriber("test.relayed")
def record_relayed(event):
    relayed.append(event.pk)


@pytest.fixture(autouse=True)
def _fresh_log():
    relayed.clear()


class BusyWorkers:
    """A task whose messages the broker takes and no worker runs yet."""

    name = "test.busy_workers"

    def __init__(self):
        self.queued = []

    def apply_async(self, args, **options):
        self.queued.append(args[0])


@pytest.fixture
def busy_workers(settings, monkeypatch) -> tuple[BusyWorkers, BusyWorkers]:
    """The relay's dispatch and delivery tasks as BusyWorkers, under a 15-minute lease."""
    settings.EVENTS_DELIVERY_LEASE = 900
    dispatches, runs = BusyWorkers(), BusyWorkers()
    monkeypatch.setitem(services._tasks, "dispatch_event", dispatches)
    monkeypatch.setitem(services._tasks, "run_delivery", runs)
    return dispatches, runs


@pytest.mark.django_db(transaction=True)
def test_event_committed_while_the_broker_is_unreachable_is_delivered_after_the_relay_runs(client):
    employee = EmployeeFactory()
    with broker_unreachable():
        with transaction.atomic():
            event = publish("test.relayed", employee)

        event.refresh_from_db()
        assert event.dispatched_at is None
        assert relayed == []
        assert client.get("/health/events").json()["backlog"] == 1

    # The broker is back; here eager Celery runs what is sent, in process.
    call_command("relay_events", "--older-than", "0")

    event.refresh_from_db()
    assert relayed == [event.pk]
    assert event.dispatched_at is not None
    assert event.dispatch_attempts == 1
    assert Delivery.objects.get(event=event).status == Delivery.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_relay_command_fails_loudly_while_the_broker_is_still_down():
    with broker_unreachable():
        with transaction.atomic():
            event = publish("test.relayed", EmployeeFactory())

        with pytest.raises(CommandError, match="broker refused"):
            call_command("relay_events", "--older-than", "0")

    event.refresh_from_db()
    assert event.dispatched_at is None
    assert relayed == []


@pytest.mark.django_db
@pytest.mark.parametrize("seconds", ["-1", "315360001", "99999999999999999999"])
def test_relay_command_refuses_a_threshold_below_zero_or_beyond_ten_years(seconds):
    with pytest.raises(CommandError, match="between 0 and 315,360,000 seconds"):
        call_command("relay_events", "--older-than", seconds)


@pytest.mark.django_db
def test_relay_leaves_events_younger_than_its_threshold_to_the_normal_dispatch(django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False):
        EventFactory(type="test.relayed", occurred_at=START - timedelta(seconds=30))
        old = EventFactory(type="test.relayed", occurred_at=START - timedelta(seconds=90))

        with django_capture_on_commit_callbacks(execute=True):
            report = relay(older_than=timedelta(seconds=60))

    assert report.events == 1
    assert relayed == [old.pk]


@pytest.mark.django_db
def test_relay_releases_an_attempt_whose_worker_died_and_runs_it_again(settings, django_capture_on_commit_callbacks):
    settings.EVENTS_DELIVERY_LEASE = 900
    with time_machine.travel(START, tick=False):
        delivery = DeliveryFactory(
            event=EventFactory(type="test.relayed"),
            handler=handler_name(record_relayed),
            status=Delivery.Status.RUNNING,
            attempts=1,
            claimed_at=START - timedelta(minutes=16),
        )
        with django_capture_on_commit_callbacks(execute=True):
            report = relay(older_than=timedelta(seconds=60))

    delivery.refresh_from_db()
    assert (report.released, delivery.status, delivery.attempts) == (1, Delivery.Status.SUCCEEDED, 2)
    assert relayed == [delivery.event_id]


@pytest.mark.django_db
def test_relay_fails_an_abandoned_last_attempt_instead_of_running_it_again(settings):
    settings.EVENTS_DELIVERY_LEASE = 900
    with time_machine.travel(START, tick=False):
        delivery = DeliveryFactory(
            status=Delivery.Status.RUNNING, attempts=3, max_attempts=3, claimed_at=START - timedelta(minutes=20)
        )
        still_running = DeliveryFactory(
            status=Delivery.Status.RUNNING, attempts=1, claimed_at=START - timedelta(minutes=5)
        )

        report = relay(older_than=timedelta(seconds=60))

    delivery.refresh_from_db()
    still_running.refresh_from_db()
    assert (report.abandoned, delivery.status) == (1, Delivery.Status.FAILED)
    assert "worker stopped" in delivery.last_error
    assert still_running.status == Delivery.Status.RUNNING


@pytest.mark.django_db
def test_relay_command_reports_what_it_sent(capsys, django_capture_on_commit_callbacks):
    EventFactory(type="test.relayed", occurred_at=datetime(2020, 1, 1, tzinfo=UTC))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("relay_events")

    assert "Relayed 1 event(s)" in capsys.readouterr().out
    assert len(relayed) == 1
    assert Event.objects.get().dispatched_at is not None


@pytest.mark.django_db
def test_relay_command_sends_every_waiting_event_however_many_wait(capsys, django_capture_on_commit_callbacks):
    waiting = EventFactory.create_batch(620, type="test.relayed", occurred_at=datetime(2020, 1, 1, tzinfo=UTC))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("relay_events")

    assert sorted(relayed) == sorted(event.pk for event in waiting)
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    assert "Relayed 620 event(s)" in capsys.readouterr().out


@pytest.mark.django_db
def test_beats_relay_does_nothing_while_another_worker_holds_the_relay_lock(django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False):
        old = EventFactory(type="test.relayed", occurred_at=START - timedelta(hours=1))
        with two_tier_cache.lock("events.relay", timeout=0) as held, django_capture_on_commit_callbacks(execute=True):
            assert held
            tasks.relay()
        assert relayed == []

        with django_capture_on_commit_callbacks(execute=True):
            tasks.relay()

    assert relayed == [old.pk]


@pytest.mark.django_db
def test_relay_does_not_queue_work_again_until_the_lease_of_its_last_sending_runs_out(busy_workers):
    dispatches, runs = busy_workers
    with time_machine.travel(START, tick=False) as clock:
        event = EventFactory(type="test.relayed", occurred_at=START - timedelta(minutes=2))
        delivery = DeliveryFactory(event__dispatched_at=START, next_attempt_at=START - timedelta(minutes=2))

        first = relay(older_than=timedelta(seconds=60))
        for _ in range(14):  # beat's relay, every minute, while the workers are still busy
            clock.shift(timedelta(minutes=1))
            assert relay(older_than=timedelta(seconds=60)) == services.RelayReport(0, 0, 0, 0, False)
        clock.shift(timedelta(minutes=1))
        after_the_lease = relay(older_than=timedelta(seconds=60))

    event.refresh_from_db()
    assert (first.events, first.deliveries, after_the_lease.events, after_the_lease.deliveries) == (1, 1, 1, 1)
    assert dispatches.queued == [event.pk, event.pk]
    assert runs.queued == [delivery.pk, delivery.pk]
    assert event.dispatch_attempts == 2


@pytest.mark.django_db
def test_relay_events_resend_sends_again_what_was_sent_within_the_lease(busy_workers):
    dispatches, runs = busy_workers
    with time_machine.travel(START, tick=False) as clock:
        event = EventFactory(type="test.relayed", occurred_at=START - timedelta(minutes=2))
        delivery = DeliveryFactory(event__dispatched_at=START, next_attempt_at=START - timedelta(minutes=2))
        relay(older_than=timedelta(seconds=60))
        clock.shift(timedelta(minutes=1))  # the broker restarted meanwhile and lost its queue

        call_command("relay_events", "--resend", stdout=StringIO())

    assert dispatches.queued == [event.pk, event.pk]
    assert runs.queued == [delivery.pk, delivery.pk]


@pytest.mark.django_db
def test_relay_sends_a_retry_scheduled_after_its_last_sending_without_waiting_for_the_lease(busy_workers):
    _, runs = busy_workers
    with time_machine.travel(START, tick=False) as clock:
        delivery = DeliveryFactory(next_attempt_at=START - timedelta(minutes=2))
        relay(older_than=timedelta(seconds=60))
        # A worker ran the relayed attempt, which failed; its queued retry was lost with the broker.
        Delivery.objects.filter(pk=delivery.pk).update(attempts=1, next_attempt_at=START + timedelta(seconds=30))
        clock.shift(timedelta(minutes=2))

        relay(older_than=timedelta(seconds=60))

    assert runs.queued == [delivery.pk, delivery.pk]


@pytest.mark.django_db(transaction=True)
def test_an_event_the_broker_refused_is_relayed_on_the_next_run():
    with broker_unreachable():
        with transaction.atomic():
            event = publish("test.relayed", EmployeeFactory())
        assert relay(older_than=timedelta(0)).broker_refused

    relay(older_than=timedelta(0))

    assert relayed == [event.pk]
