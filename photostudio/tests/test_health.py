import pytest
from django.db import DatabaseError
from django.utils import timezone

from events.models import Event


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/health/", "/health/db", "/health/cache", "/health/events"])
def test_health_endpoints_answer_ok_for_anonymous_callers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_health_db_names_the_database_when_it_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("photostudio.health.connection.cursor", broken_cursor)
    response = client.get("/health/db")
    assert response.status_code == 503
    assert response.json()["component"] == "database"
    assert "connection refused" in response.json()["error"]


def test_health_cache_names_the_cache_when_it_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    response = client.get("/health/cache")
    assert response.status_code == 503
    assert response.json()["component"] == "cache"
    assert response.json()["backend"] == "RedisCache"


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
    assert "broker unreachable" in response.json()["error"]


def test_metrics_are_exposed_for_prometheus(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content
