"""PostgreSQL: the event log is partitioned by month, and every insert finds its partition."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from events.models import Delivery, Event
from events.partitions import create_partitions, existing_partitions, is_partitioned, partition_name
from events.services import prune_events
from events.tests.factories import EventFactory
from photostudio.tests.concurrency import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def partition_of(event: Event) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM events_event WHERE id = %s", [event.pk])
        return cursor.fetchone()[0]


def test_events_land_in_the_partition_of_their_month():
    this_month = datetime.now(UTC).replace(day=1, hour=12)

    event = EventFactory(occurred_at=this_month)

    assert partition_of(event) == partition_name(this_month.date())


def test_an_event_beyond_the_partitions_lands_in_the_default_one_and_moves_when_its_month_is_made():
    far = EventFactory(occurred_at=datetime(2041, 5, 17, tzinfo=UTC))
    assert partition_of(far) == "events_event_default"

    created = create_partitions(first=date(2041, 5, 1), last=date(2041, 5, 31))

    assert created == ["events_event_y2041m05"]
    assert partition_of(far) == "events_event_y2041m05"
    assert Event.objects.get(pk=far.pk).occurred_at == far.occurred_at


def test_create_partitions_makes_the_months_ahead_and_a_second_run_changes_nothing(capsys):
    call_command("create_partitions", months=14)
    first_run = existing_partitions()
    call_command("create_partitions", months=14)

    assert existing_partitions() == first_run
    assert "Created 0 partition(s)." in capsys.readouterr().out.splitlines()[-1]
    today = datetime.now(UTC).date()
    in_a_year = date(today.year + 1, today.month, 1)
    assert partition_name(in_a_year) in first_run


def test_create_partitions_refuses_a_silly_horizon():
    with pytest.raises(Exception, match="between 0 and 120"):
        call_command("create_partitions", months=-1)


def test_deliveries_still_belong_to_their_event_and_go_with_it():
    event = EventFactory()
    Delivery.objects.create(event=event, handler="audit", max_attempts=1)

    event.delete()

    assert not Delivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_migrating_a_database_that_holds_events_keeps_them_and_their_deliveries():
    call_command("migrate", "events", "0002", verbosity=0)
    assert not is_partitioned()
    # The models as they were then: today's have columns added by later migrations.
    then = MigrationExecutor(connection).loader.project_state(("events", "0002_deliveries_and_webhooks")).apps
    old_event, old_delivery = then.get_model("events", "Event"), then.get_model("events", "Delivery")
    old = old_event.objects.create(
        type="client.updated",
        aggregate_type="bookings.client",
        aggregate_id="1",
        occurred_at=datetime(2024, 2, 29, 23, 59, tzinfo=UTC),
    )
    recent = old_event.objects.create(type="client.updated", aggregate_type="bookings.client", aggregate_id="2")
    old_delivery.objects.create(event=recent, handler="audit", max_attempts=1)

    # Every app forwards, not only events: going back also unapplied the migrations of other apps
    # that depend on it, which later tests need.
    call_command("migrate", verbosity=0)

    assert is_partitioned()
    assert partition_of(old) == "events_event_y2024m02"
    assert set(Event.objects.values_list("pk", flat=True)) == {old.pk, recent.pk}
    assert Delivery.objects.get().event_id == recent.pk
    newer = EventFactory()
    assert newer.pk > recent.pk


# Committed rows, as in production: PostgreSQL refuses to drop a table whose rows have deferred
# constraint checks pending in the same transaction.
@pytest.mark.django_db(transaction=True)
def test_prune_events_drops_whole_old_months_and_keeps_a_month_with_work_waiting():
    create_partitions(first=date(2024, 1, 1), last=date(2024, 3, 31))
    january = EventFactory(
        occurred_at=datetime(2024, 1, 10, tzinfo=UTC), dispatched_at=datetime(2024, 1, 10, tzinfo=UTC)
    )
    Delivery.objects.create(event=january, handler="audit", max_attempts=1)
    waiting = EventFactory(occurred_at=datetime(2024, 2, 10, tzinfo=UTC), dispatched_at=None)
    march = EventFactory(occurred_at=datetime(2024, 3, 10, tzinfo=UTC), dispatched_at=datetime(2024, 3, 10, tzinfo=UTC))
    recent = EventFactory(
        occurred_at=datetime(2024, 3, 20, tzinfo=UTC), dispatched_at=datetime(2024, 3, 20, tzinfo=UTC)
    )

    deleted = prune_events(datetime(2024, 3, 15, tzinfo=UTC))

    assert "events_event_y2024m01" not in existing_partitions()
    assert "events_event_y2024m02" in existing_partitions()
    assert set(Event.objects.values_list("pk", flat=True)) >= {waiting.pk, recent.pk}
    assert not Event.objects.filter(pk__in=[january.pk, march.pk]).exists()
    assert not Delivery.objects.filter(event_id=january.pk).exists()
    assert deleted == 2


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_create_partitions_at_once_both_succeed_and_make_each_month_once():
    runs = run_at_once([lambda: create_partitions(first=date(2043, 1, 1), last=date(2043, 6, 30))] * 2)

    assert not [outcome for outcome in runs if isinstance(outcome, Exception)]
    assert sorted(runs[0] + runs[1]) == [partition_name(date(2043, month, 1)) for month in range(1, 7)]
    assert [name for name in existing_partitions() if name.startswith("events_event_y2043")] == [
        partition_name(date(2043, month, 1)) for month in range(1, 7)
    ]
