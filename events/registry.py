"""The handler registry: which asynchronous subscribers run for which event type.

Subscribing is one line::

    @subscriber("booking.created")
    def email_client(event): ...

A subscriber receives the committed ``Event`` and runs in a Celery worker (in process when Celery
is eager), once per event: its ``Delivery`` row records attempts and stops it from running again
after it succeeded. It returns a short description of what it did (shown to staff), raises
``Skipped`` when there is nothing to do, and raises anything else to be retried with backoff.
Subscribers live in each app's ``subscribers`` module, imported when the app registry is ready.
"""

from collections.abc import Callable

Handler = Callable[..., str | None]

_handlers: dict[str, dict[str, Handler]] = {}


class Skipped(Exception):
    """Raised by a handler that has nothing to do for this event; the reason is shown to staff."""


def handler_name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def subscriber(*event_types: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the asynchronous handler of ``event_types``."""
    if not event_types:
        raise TypeError("subscriber() needs at least one event type")

    def register(handler: Handler) -> Handler:
        name = handler_name(handler)
        for event_type in event_types:
            _handlers.setdefault(event_type, {})[name] = handler
        return handler

    return register


def handlers_for(event_type: str) -> dict[str, Handler]:
    """The subscribers of ``event_type`` by name."""
    return dict(_handlers.get(event_type, {}))


def handler_named(event_type: str, name: str) -> Handler | None:
    return _handlers.get(event_type, {}).get(name)
