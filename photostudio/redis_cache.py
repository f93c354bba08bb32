"""The Redis cache, failing open: while Redis is unreachable every read is a miss and every write
is dropped, so pages, the API and its throttle keep answering from the database alone.

Each failed operation is logged (``cache_unavailable``) and counted in
``studio_cache_unavailable_total``, so an outage shows on dashboards rather than as slow pages.
"""

import socket
import sys

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

    @omit_exception(return_value=(None, None))
    def count_and_get_many(self, counter: str, ttl: int, keys: list[str]) -> tuple[int, dict]:
        """``incr(counter)`` (``add(counter, 1, ttl)`` for its first count) and ``get_many(keys)``
        in one round trip; (None, None) while Redis is unreachable."""
        client = self.client.get_client(write=True)
        redis_keys = [self.client.make_key(key) for key in keys]
        try:
            count, values = client.eval(_COUNT_AND_READ, 1 + len(keys), self.client.make_key(counter), *redis_keys, ttl)
        except _FAILURES as exc:
            raise ConnectionInterrupted(connection=client) from exc
        found = {key: self.client.decode(value) for key, value in zip(keys, values, strict=True) if value is not None}
        return count, found
