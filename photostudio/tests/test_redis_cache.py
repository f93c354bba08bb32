"""With Redis unreachable the cache fails open: the API and its throttle answer, each failure counted."""

import pytest
from prometheus_client import REGISTRY

from bookings.tests.api import api_as
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from photostudio.cache import cache

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "photostudio.redis_cache.FailOpenRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


def _failures() -> float:
    return REGISTRY.get_sample_value("studio_cache_unavailable_total") or 0


@pytest.fixture
def redis_down(settings):
    settings.CACHES = UNREACHABLE_REDIS
    settings.API_THROTTLE_RATE = "2/minute"


@pytest.mark.django_db
def test_the_throttled_api_answers_while_redis_is_down(redis_down):
    api = api_as(EmployeeFactory(role=Role.RECEPTIONIST))

    statuses = [api.get("/api/v1/bookings/").status_code for _ in range(3)]

    assert statuses == [200, 200, 200]


@pytest.mark.django_db
def test_each_failed_cache_operation_is_counted(redis_down):
    api = api_as(EmployeeFactory(role=Role.RECEPTIONIST))
    before = _failures()

    api.get("/api/v1/bookings/")

    assert _failures() > before


def test_health_cache_answers_503_while_redis_is_down(client, redis_down):
    response = client.get("/health/cache")

    assert response.status_code == 503
    assert response.json()["backend"] == "FailOpenRedisCache"


@pytest.mark.redis
def test_a_count_read_with_versions_expires_after_its_time_to_live():
    l2 = cache.l2
    l2.set("ns:day:2030-01-14", "v1")

    first = l2.count_and_get_many("requests", 60, ["ns:day:2030-01-14", "ns:unknown"])
    second = l2.count_and_get_many("requests", 60, [])

    assert first == (1, {"ns:day:2030-01-14": "v1"})
    assert second == (2, {})
    assert 0 < l2.ttl("requests") <= 60


def test_with_redis_unreachable_a_count_read_with_versions_is_unknown(redis_down):
    assert cache.l2.count_and_get_many("requests", 60, ["ns:day:2030-01-14"]) == (None, None)
