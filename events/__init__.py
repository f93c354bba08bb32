"""Domain events: ``events.publish(...)`` records, ``@events.subscriber(...)`` reacts."""

from events.registry import subscriber


def publish(event_type, aggregate, *, payload=None, actor=None):
    """Record an event in the caller's transaction; see ``events.services.publish``."""
    from events.services import publish as publish_event  # services need the app registry ready

    return publish_event(event_type, aggregate, payload=payload, actor=actor)


__all__ = ["publish", "subscriber"]
