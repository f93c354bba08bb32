"""Bookings' subscribers: the e-mails to clients and photographers, one delivery each per event."""

from bookings import notifications
from events.models import Event, EventType
from events.registry import Skipped, handler_name, subscriber

_CLIENT_EMAIL_FOR_STATE = {"confirmed": "booking_confirmed", "cancelled": "booking_cancelled"}


@subscriber(EventType.BOOKING_CREATED)
def email_client_booking_created(event):
    return notifications.email_client("booking_created", notifications.booking_of(event))


@subscriber(EventType.BOOKING_STATE_CHANGED)
def email_client_booking_confirmed_or_cancelled(event):
    kind = _CLIENT_EMAIL_FOR_STATE.get(event.payload.get("to"))
    if kind is None:
        raise Skipped(f"Clients get no e-mail when a booking becomes {event.payload.get('to')}.")
    return notifications.email_client(kind, notifications.booking_of(event))


@subscriber(EventType.BOOKING_RESCHEDULED)
def email_client_booking_rescheduled(event):
    booking = notifications.booking_of(event)
    return notifications.email_client("booking_rescheduled", booking, **notifications.previous_times(event.payload))


@subscriber(EventType.BOOKING_REMINDER_DUE)
def email_client_booking_reminder(event):
    booking = notifications.booking_of(event)
    if booking.state not in notifications.REMINDED_STATES:
        raise Skipped(f"The booking is {booking.get_state_display().lower()} now.")
    if booking.start.isoformat() != event.payload.get("start"):
        raise Skipped("The booking was rescheduled since; its new time gets its own reminder.")
    return notifications.email_client("booking_reminder", booking)


@subscriber(EventType.BOOKING_PHOTOGRAPHER_ASSIGNED)
def email_photographer_assigned(event):
    booking = notifications.booking_of(event)
    assigned = event.payload.get("to")
    if assigned is None:
        raise Skipped("The photographer was unassigned.")
    if booking.photographer_id != assigned:
        raise Skipped("Another photographer has been assigned since.")
    return notifications.email_photographer(booking)


def notification_about(handler: str, event: Event) -> tuple[str, str] | None:
    """Which notification a delivery of ``handler`` for ``event`` is, as (kind, recipient), e.g.
    ("booking_confirmed", "client"); None for a delivery that is no notification (a webhook, a
    state change clients are not told about)."""
    if handler == handler_name(email_client_booking_confirmed_or_cancelled):
        kind = _CLIENT_EMAIL_FOR_STATE.get(event.payload.get("to"))
        return None if kind is None else (kind, "client")
    return _NOTIFICATIONS.get(handler)


_NOTIFICATIONS = {
    handler_name(email_client_booking_created): ("booking_created", "client"),
    handler_name(email_client_booking_rescheduled): ("booking_rescheduled", "client"),
    handler_name(email_client_booking_reminder): ("booking_reminder", "client"),
    handler_name(email_photographer_assigned): ("photographer_assigned", "photographer"),
}
