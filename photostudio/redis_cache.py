"""The Redis cache, failing open: while Redis is unreachable every read is a miss and every write
is dropped, so pages, the API and its throttle keep answering from the database alone.

Each failed operation is logged (``cache_unavailable``) and counted in
``studio_cache_unavailable_total``, so an outage shows on dashboards rather than as slow pages.
"""

import sys

import structlog
from django_redis.cache import RedisCache
from prometheus_client import Counter

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


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._ignore_exceptions = True
        self._log_ignored_exceptions = True
        self.logger = _OutageReporter()
