"""``/health/events``: the probe events registers with the kernel's health checks."""

import pytest
from django.utils import timezone

from events.models import Event


@pytest.mark.django_db
def test_health_events_reports_eager_mode_and_an_empty_backlog(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body = client.get("/health/events").json()
    assert body["mode"] == "eager"
    assert body["backlog"] == 0


@pytest.mark.django_db
def test_health_events_turns_unhealthy_when_events_wait_too_long(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EVENTS_BACKLOG_MAX_AGE = 60
    Event.objects.create(
        type="booking.created", aggregate_type="bookings.booking", aggregate_id="1",
        occurred_at=timezone.now() - timezone.timedelta(minutes=5),
    )  # fmt: skip
    response = client.get("/health/events")
    assert response.status_code == 503
    assert response.json()["backlog"] == 1
    assert response.json()["oldest_undispatched_seconds"] >= 300


@pytest.mark.django_db
def test_health_events_names_an_unreachable_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from photostudio.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/health/events")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["mode"] == "broker"
    assert response.json()["error"].startswith("broker unreachable: ")
    assert "127.0.0.1:1" not in response.content.decode()  # the driver's text is for the log
