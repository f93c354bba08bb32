"""The Redis cache, failing open: while Redis is unreachable every read is a miss and every write
is dropped, so pages, the API and its throttle keep answering from the database alone.

Each failed operation is logged (``cache_unavailable``) and counted in
``studio_cache_unavailable_total``, so an outage shows on dashboards rather than as slow pages.

Values read on every request (the cache's namespace versions) are read with ``get_many_tracked``,
from what Redis keeps each thread told of them (``TrackedReads``), mostly without a round trip.
"""

import os
import socket
import sys
import threading
import time
from collections.abc import Callable

import redis
import structlog
from django.conf import settings
from django_redis.cache import RedisCache, omit_exception
from django_redis.exceptions import ConnectionInterrupted
from prometheus_client import Counter
from redis.exceptions import ConnectionError, ResponseError, TimeoutError

logger = structlog.get_logger(__name__)

unavailable = Counter(
    "studio_cache_unavailable", "Cache operations that failed because Redis was unreachable (answered as a miss)."
)


class _OutageReporter:
    """Stands in for django-redis's logger of ignored errors: one warning line and one count each."""

    def exception(self, message, *args, **kwargs):
        error = sys.exc_info()[1]
        unavailable.inc()
        cause = error.__cause__ or error
        logger.warning("cache_unavailable", error=f"{type(cause).__name__}: {cause}")


# What django-redis itself takes for an unreachable Redis.
_FAILURES = (ConnectionError, TimeoutError, ResponseError, socket.timeout)
# The keys of get_many_tracked each thread keeps as Redis knows them (one per namespace read).
_MAX_REDIS_KEYS = 10_000


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._ignore_exceptions = True
        self._log_ignored_exceptions = True
        self.logger = _OutageReporter()
        self._tracking = threading.local()

    @omit_exception(return_value=None)
    def get_many_tracked(self, keys: list[str]) -> dict | None:
        """``get_many(keys)`` answered from what this thread last read of them, as long as Redis
        has not told it they changed and for at most ``CACHE_TRACKING_MAX_AGE_MS``; None while Redis
        is unreachable. For small values read on every request and rarely written: the cache's
        namespace versions. The values are shared by the thread's reads: immutable ones only."""
        tracked = self._tracked_reads()
        redis_keys = [self._redis_key(key) for key in keys]
        try:
            was_connected = tracked.connection.is_connected
            try:
                values = tracked.get_many(redis_keys)
            except ConnectionError:
                # Redis closed the connection while it was idle (a restart, an idle timeout): what
                # it had told this thread is forgotten with it, and a new connection tried once.
                if not was_connected:
                    raise
                values = tracked.get_many(redis_keys)
        except _FAILURES as exc:
            raise ConnectionInterrupted(connection=self.client.get_client(write=True)) from exc
        return {key: value for key, value in zip(keys, values, strict=True) if value is not None}

    def _redis_key(self, key: str) -> bytes:
        """``key`` as Redis knows it, worked out once per thread (it is read on every request)."""
        try:
            return self._tracking.redis_keys[key]
        except AttributeError:
            self._tracking.redis_keys = {}
        except KeyError:
            if len(self._tracking.redis_keys) >= _MAX_REDIS_KEYS:
                self._tracking.redis_keys.clear()
        redis_key = self._tracking.redis_keys[key] = self.client.make_key(key).encode()
        return redis_key

    # A thread's own writes forget what it was told of their keys: Redis tells it of the change
    # on its tracking connection, but may write that message just after the write's reply.
    def set(self, key, *args, **kwargs):
        try:
            return super().set(key, *args, **kwargs)
        finally:
            self._forget_tracked([key], kwargs.get("version"))

    def add(self, key, *args, **kwargs):
        try:
            return super().add(key, *args, **kwargs)
        finally:
            self._forget_tracked([key], kwargs.get("version"))

    def set_many(self, data, *args, **kwargs) -> list:
        """The keys it could not write, as Django's ``set_many`` answers: all of them while Redis is
        unreachable (django-redis's answers None either way, so a lost write would pass unseen)."""
        try:
            written = self._set_many_written(data, *args, **kwargs)
        finally:
            self._forget_tracked(data, kwargs.get("version"))
        return [] if written else list(data)

    @omit_exception(return_value=False)
    def _set_many_written(self, data, *args, **kwargs) -> bool:
        self.client.set_many(data, *args, **kwargs)
        return True

    def delete(self, key, *args, **kwargs):
        try:
            return super().delete(key, *args, **kwargs)
        finally:
            self._forget_tracked([key], kwargs.get("version"))

    def delete_many(self, keys, *args, **kwargs):
        keys = list(keys)
        try:
            return super().delete_many(keys, *args, **kwargs)
        finally:
            self._forget_tracked(keys, kwargs.get("version"))

    def delete_pattern(self, *args, **kwargs):
        try:
            return super().delete_pattern(*args, **kwargs)
        finally:
            self._forget_all_tracked()

    def clear(self, *args, **kwargs):
        try:
            return super().clear(*args, **kwargs)
        finally:
            self._forget_all_tracked()

    def _forget_all_tracked(self) -> None:
        if tracked := self._this_process_reads():
            tracked.forget_all()

    def _forget_tracked(self, keys, version) -> None:
        if tracked := self._this_process_reads():
            tracked.forget([self.client.make_key(key, version=version).encode() for key in keys])

    def _tracked_reads(self) -> "TrackedReads":
        """This thread's ``TrackedReads``, made on first use."""
        tracked = self._this_process_reads()
        if tracked is None:
            pool = self.client.get_client(write=True).connection_pool
            connection = pool.connection_class(**{**pool.connection_kwargs, "protocol": 3})
            tracked = TrackedReads(connection, decode=self.client.decode)
            self._tracking.reads = (os.getpid(), tracked)
        return tracked

    def _this_process_reads(self) -> "TrackedReads | None":
        """This thread's ``TrackedReads`` if it has one; a process forked with one makes its own."""
        pid, tracked = getattr(self._tracking, "reads", (None, None))
        return tracked if pid == os.getpid() else None


class TrackedReads:
    """Values read over one connection on which Redis tracks them (``CLIENT TRACKING``, RESP3): it
    pushes a message on the same connection when one of them changes, after any reply that read
    it, so a value kept here is current once the messages waiting on the socket are handled.

    Before each use the waiting messages are read without blocking (one poll of the socket); a
    value older than ``CACHE_TRACKING_MAX_AGE_MS`` is read again all the same, in case a message
    was lost with a connection that broke silently. A connection lost or reset forgets every
    value, and at most ``MAX_VALUES`` are kept. Not thread-safe: one per thread.
    """

    MAX_VALUES = 10_000

    def __init__(self, connection: redis.Connection, *, decode: Callable[[bytes], object]):
        self.connection = connection
        self._decode = decode
        self._values: dict[bytes, tuple[float, object]] = {}
        connection.register_connect_callback(self._track)

    def get_many(self, keys: list[bytes]) -> list:
        """The values of ``keys``, decoded; None for a key that does not exist."""
        connection = self.connection
        try:
            while connection.can_read(timeout=0):  # connects first if need be
                connection.read_response(push_request=True)
            now = time.monotonic()
            max_age = settings.CACHE_TRACKING_MAX_AGE_MS / 1000
            values, stale = [], []
            for key in keys:
                entry = self._values.get(key)
                if entry is None or now - entry[0] >= max_age:
                    stale.append(key)
                values.append(entry)
            if not stale:
                return [entry[1] for entry in values]
            connection.send_command("MGET", *stale)
            replies = connection.read_response()
        except BaseException:
            self.forget_all()
            connection.disconnect()
            raise
        read = {key: None if value is None else self._decode(value) for key, value in zip(stale, replies, strict=True)}
        if len(self._values) + len(stale) > self.MAX_VALUES:
            self._values.clear()
        for key, value in read.items():
            self._values[key] = (now, value)
        return [read[key] if key in read else entry[1] for key, entry in zip(keys, values, strict=True)]

    def forget(self, keys: list[bytes]) -> None:
        for key in keys:
            self._values.pop(key, None)

    def _track(self, connection: redis.Connection) -> None:
        self.forget_all()
        connection.send_command("CLIENT", "TRACKING", "ON")
        if connection.read_response() != b"OK":
            raise ResponseError("CLIENT TRACKING was refused")
        connection._parser.set_invalidation_push_handler(self._invalidated)

    def _invalidated(self, message: list) -> None:
        keys = message[1]
        if keys is None:  # FLUSHDB / FLUSHALL, or Redis dropped its tracking table
            self.forget_all()
        else:
            self.forget(keys)

    def forget_all(self) -> None:
        self._values.clear()
