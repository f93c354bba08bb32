import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from employees.tests.factories import EmployeeFactory
from events.models import Delivery
from events.registry import subscriber
from events.services import publish, relay
from events.tests.factories import DeliveryFactory, EventFactory


@subscriber("test.metered")
def metered(event):
    return "counted"


@subscriber("test.metered_failing")
def metered_failing(event):
    raise RuntimeError("always")


def _sample(metrics: str, name: str, **labels) -> float:
    label_text = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}{re.escape('{' + label_text + '}') if labels else ''} (\S+)$"
    match = re.search(pattern, metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.mark.django_db
def test_metrics_count_published_dispatched_and_failed_events_per_type(
    client, django_capture_on_commit_callbacks, settings
):
    settings.EVENTS_HANDLER_MAX_ATTEMPTS = 1
    before = client.get("/metrics").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        publish("test.metered", EmployeeFactory())
        publish("test.metered_failing", EmployeeFactory())
    after = client.get("/metrics").content.decode()

    def grew(name, **labels):
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    assert grew("studio_events_published_total", type="test.metered") == 1
    assert grew("studio_events_dispatched_total", type="test.metered") == 1
    failing = "events.tests.test_metrics.metered_failing"
    assert grew("studio_events_handler_errors_total", type="test.metered_failing", handler=failing) == 1
    assert grew("studio_events_failed_total", type="test.metered_failing", handler=failing) == 1
    assert grew("studio_events_handler_seconds_count", handler="events.tests.test_metrics.metered") == 1


@pytest.mark.django_db
def test_metrics_show_the_backlog_read_at_scrape_time(client):
    EventFactory(occurred_at=timezone.now() - timedelta(minutes=2))
    EventFactory(occurred_at=timezone.now() - timedelta(seconds=5))
    dispatched = EventFactory(dispatched_at=timezone.now())
    DeliveryFactory(event=dispatched, status=Delivery.Status.FAILED)
    DeliveryFactory(event=dispatched, status=Delivery.Status.PENDING)

    metrics = client.get("/metrics").content.decode()

    assert _sample(metrics, "studio_events_backlog") == 2
    assert _sample(metrics, "studio_events_backlog_oldest_seconds") >= 120
    assert _sample(metrics, "studio_events_deliveries", status="failed") == 1
    assert _sample(metrics, "studio_events_deliveries", status="pending") == 1


@pytest.mark.django_db
def test_metrics_under_gunicorn_show_the_backlog_beside_the_workers_samples(client, monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    EventFactory(occurred_at=timezone.now() - timedelta(minutes=2))

    metrics = client.get("/metrics").content.decode()

    assert _sample(metrics, "studio_events_backlog") == 1


def test_a_process_that_cannot_write_multiprocess_metrics_keeps_working(tmp_path):
    # prometheus_client picks its multi-process mode at import, hence a process of its own.
    script = (
        "import django; django.setup()\n"
        "from events import metrics\n"
        "metrics.record(lambda: metrics.dispatched.labels('booking.created').inc())\n"
        "print('delivered anyway')\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "photostudio.settings_test",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing"),
    }

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "delivered anyway" in result.stdout
    assert "events_metrics_unavailable" in result.stdout + result.stderr


@pytest.mark.django_db
def test_a_last_attempt_abandoned_by_its_worker_counts_as_a_failed_delivery(client, settings):
    settings.EVENTS_DELIVERY_LEASE = 900
    event = EventFactory(type="test.metered_failing")
    handler = "events.tests.test_metrics.metered_failing"
    DeliveryFactory(
        event=event,
        handler=handler,
        status=Delivery.Status.RUNNING,
        attempts=3,
        max_attempts=3,
        claimed_at=timezone.now() - timedelta(minutes=20),
    )
    before = client.get("/metrics").content.decode()

    report = relay(older_than=timedelta(seconds=60))

    after = client.get("/metrics").content.decode()
    assert report.abandoned == 1
    failed = "studio_events_failed_total"
    labels = {"type": "test.metered_failing", "handler": handler}
    assert _sample(after, failed, **labels) - _sample(before, failed, **labels) == 1
