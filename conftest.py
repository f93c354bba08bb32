import socket
import time
from contextlib import contextmanager

import pytest
import redis
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.management.sql import emit_post_migrate_signal
from django.db import DEFAULT_DB_ALIAS

from photostudio.cache import cache as two_tier_cache


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    on_redis = bool(settings.REDIS_URL)
    skip_postgres = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgresql://…")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://…")
    for item in items:
        _refuse_playwright_outside_browser_tests(item)
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_postgres)
        if "redis" in item.keywords and not on_redis:
            item.add_marker(skip_redis)


def _refuse_playwright_outside_browser_tests(item) -> None:
    """Playwright's fixtures (``page``, ``browser``, ``context``…) belong to tests/browser, whose
    conftest lets Django run beside Playwright's event loop. A test elsewhere that names one,
    even as a parameter, is grouped with the browser tests and moves database tests after them,
    where Django refuses every query (SynchronousOnlyOperation)."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "browser_name" in callspec.params and "tests/browser/" not in item.nodeid:
        raise pytest.UsageError(
            f"{item.nodeid} uses a Playwright fixture name (page, browser, context…) outside tests/browser: rename it"
        )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test in a file instead of Django's shared in-memory database: concurrent
    connections then wait for each other's write lock as in production, instead of failing at
    once with "database table is locked"."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _migrated_rows_in_transactional_tests(request):
    """Give a transactional test the rows ``migrate`` leaves (content types, permissions, role
    groups). A serialized_rollback test ends with a flush that skips post_migrate, so the next
    transactional test would otherwise start without them and every permission check would fail."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction") or marker.kwargs.get("serialized_rollback"):
        return
    request.getfixturevalue("transactional_db")
    emit_post_migrate_signal(verbosity=0, interactive=False, db=DEFAULT_DB_ALIAS)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    two_tier_cache.clear_local()
    yield
    cache.clear()
    two_tier_cache.clear_local()


@pytest.fixture(params=[False, True], ids=["raising", "ignoring_errors"])
def dead_redis(request, settings):
    """The default cache, photostudio.cache's L2, pointed at a Redis port nothing listens on;
    django-redis raising its errors, or told to ignore them (IGNORE_EXCEPTIONS)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": request.param},
        }
    }
    two_tier_cache.clear_local()
    yield
    two_tier_cache.clear_local()


@pytest.fixture
def app_instances():
    """``with app_instances("a"):`` runs the block as app process "a": its own in-process L1,
    the one shared L2, as two app containers behind a load balancer."""
    own_l1 = {}
    shared_l1 = two_tier_cache.l1

    @contextmanager
    def instance(name: str):
        two_tier_cache.l1 = own_l1.setdefault(name, type(shared_l1)(max_size=shared_l1.max_size, ttl=shared_l1.ttl))
        try:
            yield
        finally:
            two_tier_cache.l1 = shared_l1

    return instance


@pytest.fixture
def pipelines_reset():
    """``with pipelines_reset():`` every Redis pipeline (a ``set_many``, such as an invalidation)
    fails within the block as on a connection the server reset, and Redis is back after it."""

    @contextmanager
    def reset():
        def connection_reset(self, *args, **kwargs):
            raise redis.ConnectionError("Connection reset by peer")

        with pytest.MonkeyPatch.context() as patched:
            patched.setattr(redis.client.Pipeline, "execute", connection_reset)
            yield

    return reset


@pytest.fixture
def version_reads(monkeypatch):
    """The namespace versions photostudio.cache asks L2 for, one sorted list of keys per read:
    ``get_many``, or on Redis ``get_many_tracked``."""
    l2, reads = two_tier_cache.l2, []
    read_name = "get_many_tracked" if hasattr(l2, "get_many_tracked") else "get_many"
    read = getattr(l2, read_name)

    def counted(keys, *args, **kwargs):
        reads.append(sorted(keys))
        return read(keys, *args, **kwargs)

    monkeypatch.setattr(l2, read_name, counted)
    return reads


@pytest.fixture
def clock_stopped_and_versions_kept(settings):
    """The clock stopped, so requests share the throttle's window, and the versions Redis tracks
    for this thread are not asked for again because of their age."""
    settings.CACHE_TRACKING_MAX_AGE_MS = 60_000
    with time_machine.travel(time.time(), tick=False):
        yield


@pytest.fixture
def redis_commands(monkeypatch):
    """The commands sent to Redis on any connection, each one round trip."""
    sent, send = [], redis.connection.AbstractConnection.send_command

    def counted(self, *args, **options):
        sent.append(args[0])
        return send(self, *args, **options)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_command", counted)
    return sent
