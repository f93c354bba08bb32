"""The Redis cache, failing open: while Redis is unreachable every read is a miss and every write
is dropped, so pages, the API and its throttle keep answering from the database alone.

Each failed operation is logged (``cache_unavailable``) and counted in
``studio_cache_unavailable_total``, so an outage shows on dashboards rather than as slow pages.
"""

import os
import socket
import sys
import threading

import redis
import structlog
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
# Counts KEYS[1] (expiring ARGV[1] seconds after its first count) and reads the other KEYS.
_COUNT_AND_READ = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if #KEYS == 1 then return {count, {}} end
return {count, redis.call('MGET', unpack(KEYS, 2))}
"""


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._ignore_exceptions = True
        self._log_ignored_exceptions = True
        self.logger = _OutageReporter()
        self._counting = threading.local()

    @omit_exception(return_value=(None, None))
    def count_and_get_many(self, counter: str, ttl: int, keys: list[str]) -> tuple[int, dict]:
        """``incr(counter)`` (``add(counter, 1, ttl)`` for its first count) and ``get_many(keys)``
        in one round trip; (None, None) while Redis is unreachable."""
        redis_keys = [self.client.make_key(key) for key in keys]
        arguments = (_COUNT_AND_READ, 1 + len(keys), self.client.make_key(counter), *redis_keys, ttl)
        try:
            client = self._counting_client()
            was_connected = client.connection.is_connected
            try:
                count, values = client.eval(*arguments)
            except ConnectionError:
                # Redis closed the connection while it was idle (a restart, an idle timeout). The
                # pool would have found that out before handing it over; a new one is tried once.
                # Had Redis run the script before the connection dropped, the request is counted
                # twice: the throttle errs towards refusing.
                if not was_connected:
                    raise
                count, values = client.eval(*arguments)
        except _FAILURES as exc:
            raise ConnectionInterrupted(connection=self.client.get_client(write=True)) from exc
        found = {key: self.client.decode(value) for key, value in zip(keys, values, strict=True) if value is not None}
        return count, found

    def _counting_client(self) -> redis.Redis:
        """A client holding one connection of the pool for this thread of this process.

        Every API request makes this round trip. Through the pool each one also took a connection
        (polling its socket for stale data), recorded the pool's connection counts and gave it
        back: ~15 µs of an API read's CPU. A process forked with a client makes its own.
        """
        pid, client = getattr(self._counting, "client", (None, None))
        if pid != os.getpid():
            pool = self.client.get_client(write=True).connection_pool
            client = redis.Redis(connection_pool=pool, single_connection_client=True)
            self._counting.client = (os.getpid(), client)
        return client
