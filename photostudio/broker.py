"""The Redis transport Celery sends tasks through: kombu's, keeping one Redis client per channel.

kombu's channel builds a new Redis client object around its connection pool for every message it
sends: about 130 µs of CPU, a quarter of what queueing an event's dispatch after each booking
change costs. The client only wraps the pool (the connections stay the pool's), so one per channel
serves every message; a channel kombu replaces after a broker error gets a client of its own.
"""

from contextlib import contextmanager
from functools import cached_property

from kombu.transport import redis


class Channel(redis.Channel):
    @cached_property
    def _shared_client(self):
        return self._create_client()

    @contextmanager
    def conn_or_acquire(self, client=None):
        yield client or self._shared_client


class Transport(redis.Transport):
    Channel = Channel
