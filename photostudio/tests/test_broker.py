"""Celery's messages go out through photostudio.broker's Redis transport, one client per channel."""

import pytest
import redis
from django.conf import settings
from kombu import Connection

QUEUE = "test-broker"


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(QUEUE)
    with Connection(settings.REDIS_URL, transport="photostudio.broker:Transport") as connection:
        yield connection, client
    client.delete(QUEUE)


@pytest.mark.redis
def test_every_message_sent_on_a_channel_reaches_its_queue(broker):
    connection, client = broker
    queue = connection.SimpleQueue(QUEUE)

    for number in range(3):
        queue.put({"number": number})

    assert client.llen(QUEUE) == 3
    assert [queue.get(timeout=1).payload["number"] for _ in range(3)] == [0, 1, 2]


@pytest.mark.redis
def test_a_message_sent_after_redis_dropped_the_channels_connections_still_arrives(broker):
    connection, client = broker
    queue = connection.SimpleQueue(QUEUE)
    queue.put({"number": 1})

    client.client_kill_filter(_type="normal", skipme=True)
    queue.put({"number": 2})

    assert client.llen(QUEUE) == 2


@pytest.mark.redis
def test_after_a_fork_the_channel_sends_through_its_new_pool(broker):
    connection, client = broker
    queue = connection.SimpleQueue(QUEUE)
    queue.put({"number": 1})
    channel = queue.channel

    channel._after_fork()  # what kombu runs in a forked child: the channel's pool is replaced
    queue.put({"number": 2})

    with channel.conn_or_acquire() as shared:
        assert shared.connection_pool is channel.pool
    assert client.llen(QUEUE) == 2
