"""With Redis unreachable the cache fails open: the API and its throttle answer, each failure counted.
The count read every API request makes keeps one connection per thread and process."""

import os
import signal

import pytest
import redis
from django.conf import settings
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


@pytest.mark.redis
def test_a_threads_count_reads_share_one_connection_without_asking_the_pool(monkeypatch):
    l2 = cache.l2
    l2.count_and_get_many("requests", 60, [])
    pool = l2.client.get_client(write=True).connection_pool
    taken, take = [], pool.get_connection
    monkeypatch.setattr(pool, "get_connection", lambda *args, **kwargs: taken.append(1) or take(*args, **kwargs))

    counts = [l2.count_and_get_many("requests", 60, [])[0] for _ in range(3)]

    assert counts == [2, 3, 4]
    assert taken == []


@pytest.mark.redis
def test_a_count_read_after_redis_closed_its_idle_connection_is_answered():
    l2 = cache.l2
    l2.count_and_get_many("requests", 60, ["ns:day:2030-01-14"])
    redis.Redis.from_url(settings.REDIS_URL).client_kill_filter(_id=l2._counting_client().client_id())

    assert l2.count_and_get_many("requests", 60, []) == (2, {})


@pytest.mark.redis
def test_a_forked_process_counts_on_a_connection_of_its_own():
    l2 = cache.l2
    parent_connection = l2._counting_client().client_id()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        signal.alarm(10)  # a lock another thread held at the fork fails the test instead of hanging it
        try:
            os.write(write_end, str(l2._counting_client().client_id()).encode())
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    child_connection = int(os.read(read_end, 32))

    assert child_connection != parent_connection
    assert l2._counting_client().client_id() == parent_connection
