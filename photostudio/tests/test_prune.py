from datetime import timedelta

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from employees.models import SignIn
from employees.tests.factories import EmployeeFactory
from events.models import Delivery, Event
from events.tests.factories import DeliveryFactory, EventFactory
from photostudio import retention
from photostudio.models import IdempotencyKey
from photostudio.retention import Prunable, prunables
from photostudio.tasks import nightly_housekeeping

pytestmark = pytest.mark.django_db

OLD = timedelta(days=100)
RECENT = timedelta(days=10)


@pytest.fixture
def employee():
    return EmployeeFactory()


def _sign_in(employee, *, ended_ago, revoked):
    ended = timezone.now() - ended_ago
    return SignIn.objects.create(
        employee=employee,
        channel=SignIn.Channel.API,
        expires_at=ended if not revoked else timezone.now() + timedelta(days=1),
        revoked_at=ended if revoked else None,
    )


def test_prune_deletes_old_succeeded_deliveries_only(capsys):
    now = timezone.now()
    old_done = DeliveryFactory(status=Delivery.Status.SUCCEEDED, finished_at=now - OLD)
    recent_done = DeliveryFactory(status=Delivery.Status.SUCCEEDED, finished_at=now - RECENT)
    old_failed = DeliveryFactory(status=Delivery.Status.FAILED, finished_at=now - OLD)
    call_command("prune", "--older-than", "90")
    assert set(Delivery.objects.values_list("pk", flat=True)) == {recent_done.pk, old_failed.pk}
    assert not Delivery.objects.filter(pk=old_done.pk).exists()
    assert "succeeded and skipped deliveries: 1 deleted" in capsys.readouterr().out


def test_prune_deletes_sign_ins_that_ended_long_ago(employee):
    gone = [_sign_in(employee, ended_ago=OLD, revoked=True), _sign_in(employee, ended_ago=OLD, revoked=False)]
    kept = [_sign_in(employee, ended_ago=RECENT, revoked=True), _sign_in(employee, ended_ago=-RECENT, revoked=False)]
    call_command("prune", "--older-than", "90")
    assert set(SignIn.objects.values_list("pk", flat=True)) == {sign_in.pk for sign_in in kept}
    assert not SignIn.objects.filter(pk__in=[sign_in.pk for sign_in in gone]).exists()


def test_prune_deletes_old_sign_in_logs_keys_and_expired_tokens(employee):
    now = timezone.now()
    old_log = AccessLog.objects.create(username="x", user_agent="", ip_address="127.0.0.1")
    old_failure = AccessFailureLog.objects.create(username="x", user_agent="", ip_address="127.0.0.1")
    recent_log = AccessLog.objects.create(username="x", user_agent="", ip_address="::1")
    # attempt_time is set on creation: move the old ones back.
    AccessLog.objects.filter(pk=old_log.pk).update(attempt_time=now - OLD)
    AccessFailureLog.objects.filter(pk=old_failure.pk).update(attempt_time=now - OLD)
    IdempotencyKey.objects.create(caller=employee, key="old", fingerprint="f", created_at=now - OLD)
    fresh_key = IdempotencyKey.objects.create(caller=employee, key="new", fingerprint="f", created_at=now)
    expired = OutstandingToken.objects.create(user=employee, jti="old", token="t", expires_at=now - OLD)
    BlacklistedToken.objects.create(token=expired)
    valid = OutstandingToken.objects.create(user=employee, jti="new", token="t", expires_at=now + RECENT)

    call_command("prune", "--older-than", "90")

    assert list(AccessLog.objects.all()) == [recent_log]
    assert not AccessFailureLog.objects.exists()
    assert list(IdempotencyKey.objects.all()) == [fresh_key]
    assert list(OutstandingToken.objects.all()) == [valid]
    assert not BlacklistedToken.objects.exists()


def test_prune_deletes_old_skipped_deliveries_too(capsys):
    now = timezone.now()
    old_skipped = DeliveryFactory(status=Delivery.Status.SKIPPED, finished_at=now - OLD, outcome="Switched off.")
    recent_skipped = DeliveryFactory(status=Delivery.Status.SKIPPED, finished_at=now - RECENT)
    old_pending = DeliveryFactory(status=Delivery.Status.PENDING)
    Delivery.objects.filter(pk=old_pending.pk).update(created_at=now - OLD)

    call_command("prune", "--older-than", "90")

    assert set(Delivery.objects.values_list("pk", flat=True)) == {recent_skipped.pk, old_pending.pk}
    assert not Delivery.objects.filter(pk=old_skipped.pk).exists()


def test_prune_keeps_the_event_trail_unless_asked(capsys):
    old = EventFactory(occurred_at=timezone.now() - OLD, dispatched_at=timezone.now() - OLD)
    call_command("prune", "--older-than", "90")
    assert Event.objects.filter(pk=old.pk).exists()
    assert "The event trail was kept" in capsys.readouterr().out


def test_prune_with_events_deletes_old_dispatched_events_and_their_deliveries():
    now = timezone.now()
    old = EventFactory(occurred_at=now - OLD, dispatched_at=now - OLD)
    DeliveryFactory(event=old, status=Delivery.Status.FAILED)
    undispatched = EventFactory(occurred_at=now - OLD, dispatched_at=None)
    recent = EventFactory(occurred_at=now - RECENT, dispatched_at=now - RECENT)
    call_command("prune", "--older-than", "90", "--events")
    assert set(Event.objects.values_list("pk", flat=True)) == {undispatched.pk, recent.pk}
    assert not Delivery.objects.filter(event_id=old.pk).exists()


@pytest.mark.parametrize("days", ["0", "-5", "36501", "1000000000"])
def test_prune_refuses_a_retention_below_one_day_or_beyond_a_century(days):
    with pytest.raises(CommandError, match="at least 1 day and at most 36,500"):
        call_command("prune", "--older-than", days)


def test_prune_refuses_a_retention_that_is_not_a_number():
    with pytest.raises(CommandError, match="invalid int value"):
        call_command("prune", "--older-than", "ninety")


def test_the_nightly_job_prunes_with_the_configured_retention(settings):
    settings.PRUNE_RETENTION_DAYS = 5
    now = timezone.now()
    week_old = DeliveryFactory(status=Delivery.Status.SUCCEEDED, finished_at=now - timedelta(days=7))
    old_event = EventFactory(occurred_at=now - OLD, dispatched_at=now - OLD)
    nightly_housekeeping()
    assert not Delivery.objects.filter(pk=week_old.pk).exists()
    assert Event.objects.filter(pk=old_event.pk).exists()


def test_a_kind_the_database_refuses_to_prune_ends_the_command_with_a_message_keeping_what_was_pruned(
    monkeypatch, capsys
):
    old_done = DeliveryFactory(status=Delivery.Status.SUCCEEDED, finished_at=timezone.now() - OLD)
    deliveries = next(kind for kind in prunables(audit_trail=False) if "deliveries" in kind.name)

    def refused(cutoff):
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr(retention, "_prunables", [deliveries, Prunable("sign-in logs", refused)])

    with pytest.raises(CommandError, match="Could not prune sign-in logs: canceling statement due to lock timeout"):
        call_command("prune")

    assert capsys.readouterr().out == f"{deliveries.name}: 1 deleted\n"
    assert not Delivery.objects.filter(pk=old_done.pk).exists()
