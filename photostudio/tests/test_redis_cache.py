"""With Redis unreachable the cache fails open: the API and its throttle answer, each failure counted.
The versions every API request checks are tracked on one connection per thread and process."""

import os
import signal
import threading
import time

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from prometheus_client import REGISTRY

from bookings.tests.api import api_as
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from photostudio.cache import TwoTierCache, cache

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


@pytest.mark.parametrize(
    "call",
    [
        lambda l2: l2.get("k"),
        lambda l2: l2.get_many_tracked(["k"]),
        lambda l2: l2.set("k", 1, 60),
        lambda l2: l2.set_many({"k": 1}, 60),
        lambda l2: l2.add("k", 1, 60),
        lambda l2: l2.incr("k", 1),
        lambda l2: l2.delete("k"),
    ],
    ids=["get", "get_many_tracked", "set", "set_many", "add", "incr", "delete"],
)
def test_with_redis_unreachable_every_call_the_app_makes_fails_open(redis_down, call):
    before = _failures()

    call(caches["default"])

    assert _failures() == before + 1


def _tracked(l2):
    return l2._tracked_reads()


@pytest.fixture
def kept_a_minute(settings):
    settings.CACHE_TRACKING_MAX_AGE_MS = 60_000


def _until(answered, expected):
    """``answered()`` once it gives ``expected``, within seconds (Redis's message is on its way)."""
    deadline = time.monotonic() + 5
    while (answer := answered()) != expected and time.monotonic() < deadline:
        time.sleep(0.001)
    return answer


@pytest.mark.redis
def test_tracked_versions_are_read_from_redis_once_until_they_change(kept_a_minute, redis_commands):
    l2, elsewhere = cache.l2, redis.Redis.from_url(settings.REDIS_URL)
    l2.set("ns:day:2030-01-14", "v1")
    redis_commands.clear()

    reads = [l2.get_many_tracked(["ns:day:2030-01-14", "ns:unknown"]) for _ in range(3)]
    asked = [command for command in redis_commands if command == "MGET"]
    elsewhere.set(l2.make_key("ns:day:2030-01-14"), l2.client.encode("v2"))  # another process's write
    changed = _until(lambda: l2.get_many_tracked(["ns:day:2030-01-14"]), {"ns:day:2030-01-14": "v2"})

    assert reads == [{"ns:day:2030-01-14": "v1"}] * 3
    assert asked == ["MGET"]
    assert changed == {"ns:day:2030-01-14": "v2"}


@pytest.fixture
def messages_held_back():
    """Redis tells this thread's tracking connection nothing more, as if its messages were still on
    their way; the connection is closed afterwards, so the next test's tracks again."""
    connection = _tracked(cache.l2).connection
    yield lambda: connection.send_command("CLIENT", "TRACKING", "OFF") or connection.read_response()
    connection.disconnect()


@pytest.mark.redis
@pytest.mark.parametrize(
    "write",
    [
        lambda l2: l2.set("ns:day:2030-01-14", "v2"),
        lambda l2: l2.set_many({"ns:day:2030-01-14": "v2"}),
        lambda l2: l2.delete("ns:day:2030-01-14") and l2.add("ns:day:2030-01-14", "v2"),
        lambda l2: l2.delete_many(["ns:day:2030-01-14"]) and l2.add("ns:day:2030-01-14", "v2"),
    ],
    ids=["set", "set_many", "delete-add", "delete_many-add"],
)
def test_a_threads_own_write_is_read_back_before_redis_says_so(kept_a_minute, messages_held_back, write):
    l2 = cache.l2
    l2.set("ns:day:2030-01-14", "v1")
    l2.get_many_tracked(["ns:day:2030-01-14"])
    messages_held_back()

    write(l2)

    assert l2.get_many_tracked(["ns:day:2030-01-14"]) == {"ns:day:2030-01-14": "v2"}


@pytest.mark.redis
def test_a_tracked_version_is_asked_for_again_after_its_maximum_age(settings, messages_held_back):
    settings.CACHE_TRACKING_MAX_AGE_MS = 0
    l2 = cache.l2
    l2.set("ns:day:2030-01-14", "v1")
    l2.get_many_tracked(["ns:day:2030-01-14"])
    messages_held_back()  # as if Redis's message had been lost
    redis.Redis.from_url(settings.REDIS_URL).set(l2.make_key("ns:day:2030-01-14"), l2.client.encode("v2"))

    assert l2.get_many_tracked(["ns:day:2030-01-14"]) == {"ns:day:2030-01-14": "v2"}


@pytest.mark.redis
def test_emptying_redis_forgets_every_tracked_version(kept_a_minute):
    l2 = cache.l2
    l2.set("ns:day:2030-01-14", "v1")
    l2.get_many_tracked(["ns:day:2030-01-14"])

    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # another process's

    assert _until(lambda: l2.get_many_tracked(["ns:day:2030-01-14"]), {}) == {}


@pytest.mark.redis
def test_a_threads_own_clear_forgets_every_tracked_version(kept_a_minute, messages_held_back):
    l2 = cache.l2
    l2.set("ns:day:2030-01-14", "v1")
    l2.get_many_tracked(["ns:day:2030-01-14"])
    messages_held_back()

    l2.clear()

    assert l2.get_many_tracked(["ns:day:2030-01-14"]) == {}


def test_with_redis_unreachable_tracked_versions_are_unknown(redis_down):
    assert cache.l2.get_many_tracked(["ns:day:2030-01-14"]) is None


@pytest.mark.redis
def test_tracked_reads_keep_one_connection_per_thread_outside_the_pool(monkeypatch):
    l2 = cache.l2
    l2.get_many_tracked(["ns:day:2030-01-14"])
    pool = l2.client.get_client(write=True).connection_pool
    taken, take = [], pool.get_connection
    monkeypatch.setattr(pool, "get_connection", lambda *args, **kwargs: taken.append(1) or take(*args, **kwargs))
    ours = _tracked(l2).connection
    theirs = []
    other = threading.Thread(target=lambda: theirs.append(caches["default"]._tracked_reads().connection))
    other.start()
    other.join()

    for version in range(3):
        l2.get_many_tracked([f"ns:other:{version}"])

    assert taken == []
    assert theirs[0] is not ours


@pytest.mark.redis
def test_a_tracked_read_after_redis_closed_its_connection_is_answered_and_forgets_what_it_was_told(kept_a_minute):
    l2 = cache.l2
    l2.set("ns:day:2030-01-14", "v1")
    l2.get_many_tracked(["ns:day:2030-01-14"])
    elsewhere = redis.Redis.from_url(settings.REDIS_URL)
    elsewhere.client_kill_filter(_id=_client_id(_tracked(l2).connection))
    elsewhere.set(l2.make_key("ns:day:2030-01-14"), l2.client.encode("v2"))  # no one to tell now

    assert l2.get_many_tracked(["ns:day:2030-01-14"]) == {"ns:day:2030-01-14": "v2"}


def _client_id(connection) -> int:
    connection.send_command("CLIENT", "ID")
    return connection.read_response()


@pytest.mark.redis
def test_a_forked_process_tracks_on_a_connection_of_its_own():
    l2 = cache.l2
    l2.get_many_tracked(["ns:day:2030-01-14"])
    parent_connection = _client_id(_tracked(l2).connection)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        signal.alarm(10)  # a lock another thread held at the fork fails the test instead of hanging it
        try:
            l2.get_many_tracked(["ns:day:2030-01-14"])
            os.write(write_end, str(_client_id(_tracked(l2).connection)).encode())
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    child_connection = int(os.read(read_end, 32))

    assert child_connection != parent_connection
    assert _client_id(_tracked(l2).connection) == parent_connection


@pytest.mark.redis
@pytest.mark.django_db
def test_namespaces_redis_dropped_at_a_commit_are_written_at_the_next(
    django_capture_on_commit_callbacks, pipelines_reset
):
    reader = TwoTierCache(l1_max_size=100, l1_ttl=60)  # another app process
    reader.get_or_set("caller", lambda: "as before the change", namespaces=["employee:7"])

    cache.begin_request()
    try:
        with pipelines_reset(), django_capture_on_commit_callbacks(execute=True):
            cache.invalidate_for_change("employee:7")  # its versions are one set_many, a pipeline
        with django_capture_on_commit_callbacks(execute=True):
            cache.invalidate_for_change("day:2030-01-14")
    finally:
        cache.end_request()

    assert reader.get_or_set("caller", lambda: "as after the change", namespaces=["employee:7"]) == (
        "as after the change"
    )


@pytest.mark.redis
@pytest.mark.django_db
def test_a_request_reads_its_own_committed_change_though_redis_dropped_its_write(
    django_capture_on_commit_callbacks, pipelines_reset
):
    cache.get_or_set("day list", lambda: "as before the change", namespaces=["day:2030-01-14"])

    cache.begin_request()
    try:
        with pipelines_reset(), django_capture_on_commit_callbacks(execute=True):
            cache.invalidate_for_change("day:2030-01-14")

        read = cache.get_or_set("day list", lambda: "as after the change", namespaces=["day:2030-01-14"])
    finally:
        cache.end_request()

    assert read == "as after the change"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_namespaces_redis_dropped_outside_a_transaction_are_written_at_the_next_commit(pipelines_reset):
    reader = TwoTierCache(l1_max_size=100, l1_ttl=60)  # another app process
    reader.get_or_set("caller", lambda: "as before the change", namespaces=["employee:7"])

    with pipelines_reset():
        cache.invalidate_for_change("employee:7")  # autocommit: the change is already committed
    with transaction.atomic():
        cache.invalidate_for_change("day:2030-01-14")

    assert reader.get_or_set("caller", lambda: "as after the change", namespaces=["employee:7"]) == (
        "as after the change"
    )


@pytest.mark.redis
@pytest.mark.django_db
def test_a_namespace_whose_invalidation_redis_dropped_is_not_read_from_the_cache_once_redis_is_back(
    django_capture_on_commit_callbacks, pipelines_reset
):
    cache.get_or_set("day list", lambda: "as before the change", namespaces=["day:2030-01-14"])

    with pipelines_reset(), django_capture_on_commit_callbacks(execute=True):
        cache.invalidate_for_change("day:2030-01-14")  # outside a request: a task, a command

    assert cache.get_or_set("day list", lambda: "as after the change", namespaces=["day:2030-01-14"]) == (
        "as after the change"
    )


@pytest.mark.redis
@pytest.mark.django_db
def test_an_invalidation_redis_dropped_is_written_at_its_processs_next_cache_read(
    django_capture_on_commit_callbacks, pipelines_reset
):
    reader = TwoTierCache(l1_max_size=100, l1_ttl=60)  # another app process
    reader.get_or_set("day list", lambda: "as before the change", namespaces=["day:2030-01-14"])
    with pipelines_reset(), django_capture_on_commit_callbacks(execute=True):
        cache.invalidate_for_change("day:2030-01-14")

    cache.get("profile", namespaces=["employee:7"])  # the writer's process reads anything, Redis back

    assert reader.get_or_set("day list", lambda: "as after the change", namespaces=["day:2030-01-14"]) == (
        "as after the change"
    )
