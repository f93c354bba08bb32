import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.test import Client, RequestFactory
from django.utils.http import parse_http_date
from django.views.decorators.cache import never_cache

from photostudio.health import unapplied_migrations


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/health/", "/health/db", "/health/cache", "/health/events"])
def test_health_endpoints_answer_ok_for_anonymous_callers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/health/db", "/health/cache", "/health/events"])
def test_health_endpoints_answer_a_head_request_as_uptime_monitors_send_it(client, path):
    response = client.head(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/health/db"])
def test_health_answers_are_never_cached_as_never_cache_says(client, path):
    @never_cache
    def reference(request):
        return HttpResponse()

    response = client.get(path)

    expected = reference(RequestFactory().get(path))
    assert response["Cache-Control"] == expected["Cache-Control"]
    assert parse_http_date(response["Expires"]) <= parse_http_date(expected["Expires"])


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/health/db", "/health/cache"])
def test_health_answers_are_the_json_json_response_writes(client, path):
    response = client.get(path)

    expected = JsonResponse(response.json())
    assert (response.content, response["Content-Type"]) == (expected.content, expected["Content-Type"])


DRIVER_TEXT = 'connection to server at "10.0.4.7", port 5432 failed: password authentication failed for user "studio"'


@pytest.mark.django_db
def test_health_db_names_the_database_when_it_fails_but_not_the_drivers_text(client, monkeypatch, caplog):
    def broken_cursor(*args, **kwargs):
        raise DatabaseError(DRIVER_TEXT)

    monkeypatch.setattr("photostudio.health.connection.cursor", broken_cursor)
    response = client.get("/health/db")
    assert response.status_code == 503
    assert response.json()["component"] == "database"
    assert response.json()["error"] == "SELECT 1 failed: DatabaseError"
    assert "10.0.4.7" not in response.content.decode()
    assert any(DRIVER_TEXT in str(record.msg) for record in caplog.records)


@pytest.mark.django_db
def test_check_health_shows_ops_the_drivers_text(monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise DatabaseError(DRIVER_TEXT)

    monkeypatch.setattr("photostudio.health.connection.cursor", broken_cursor)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check_health", stdout=out)
    assert DRIVER_TEXT in out.getvalue()


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


def test_metrics_are_exposed_for_prometheus(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/health/db", "/health/cache", "/health/events", "/metrics"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "TRACE"])
def test_probes_and_metrics_answer_other_methods_405_naming_get_and_head(path, method):
    # A browser's CSRF check is no answer to a monitor that POSTs: it would read as a 403 refusal.
    client = Client(enforce_csrf_checks=True)

    response = client.generic(method, path)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db(transaction=True)
def test_the_migrations_a_database_lacks_are_named():
    assert unapplied_migrations() == []
    call_command("migrate", "events", "0003", verbosity=0)
    try:
        assert unapplied_migrations() == ["events.0004_relay_lease"]
    finally:
        call_command("migrate", verbosity=0)
