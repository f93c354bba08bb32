"""E-mails to clients and photographers about their bookings, and the reminders queued by beat.

Each notification is sent by a subscriber (bookings/subscribers.py) through its own delivery, so
it is retried when the mail server fails and sent at most once when it works. Whether a kind is
sent at all is ``NOTIFICATIONS_ENABLED``. Times are always shown in the studio's TIME_ZONE.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from bookings import calendar_feeds
from bookings.models import Booking, BookingState, Space
from events.models import Event, EventType
from events.registry import Skipped
from events.services import publish
from photostudio.dates import moment_text
from photostudio.emails import Attachment, send_email

# A reminder is for a session that will take place as booked.
REMINDED_STATES = (BookingState.PENDING, BookingState.CONFIRMED)

# The client e-mails that carry their session as an .ics file, so their calendar can hold it (and,
# the UID being the same, move or drop it when the next one comes).
_WITH_CALENDAR_FILE = ("booking_confirmed", "booking_rescheduled", "booking_cancelled")

_SUBJECTS = {
    "booking_created": "We have your booking for {when}",
    "booking_confirmed": "Your session on {when} is confirmed",
    "booking_rescheduled": "Your session has moved to {when}",
    "booking_cancelled": "Your session on {when} is cancelled",
    "booking_reminder": "See you {when}",
    "photographer_assigned": "New session for you: {when}",
}


def booking_of(event: Event) -> Booking:
    """The booking the event is about, with what the e-mails show. Raises Skipped when it is gone."""
    booking = Booking.objects.select_related("client", "space", "photographer").filter(pk=event.aggregate_id).first()
    if booking is None:
        raise Skipped("The booking no longer exists.")
    return booking


def email_client(kind: str, booking: Booking, **context) -> str:
    """Send notification ``kind`` about ``booking`` to its client; what was done, for the delivery log."""
    _require_enabled(kind)
    if not booking.client.email:
        raise Skipped("The client has no e-mail address.")
    attachments = []
    if kind in _WITH_CALENDAR_FILE:
        invitation = calendar_feeds.client_invitation(booking).decode()
        attachments.append(Attachment("session.ics", invitation, "text/calendar"))
    return _send(
        kind,
        to=booking.client.email,
        booking=booking,
        recipient=booking.client.full_name,
        attachments=attachments,
        **context,
    )


def email_photographer(booking: Booking) -> str:
    """Tell the booking's photographer about the session they were assigned to."""
    _require_enabled("photographer_assigned")
    photographer = booking.photographer
    if photographer is None:
        raise Skipped("The booking has no photographer any more.")
    if not photographer.email:
        raise Skipped("The photographer has no e-mail address.")
    return _send(
        "photographer_assigned", to=photographer.email, booking=booking, recipient=photographer.get_short_name()
    )


def previous_times(payload: dict) -> dict:
    """The ``from`` part of a booking.rescheduled payload as aware datetimes and a Space."""
    before = payload.get("from") or {}
    start, end = parse_datetime(before.get("start", "")), parse_datetime(before.get("end", ""))
    return {
        "previous_start": start,
        "previous_end": end,
        "previous_space": Space.objects.filter(slug=before.get("space")).first(),
    }


def _require_enabled(kind: str) -> None:
    if kind not in settings.NOTIFICATIONS_ENABLED:
        raise Skipped(f"The {kind} notification is switched off (NOTIFICATIONS_ENABLED).")


def _send(kind: str, *, to: str, booking: Booking, recipient: str, attachments=(), **context) -> str:
    subject = _SUBJECTS[kind].format(when=moment_text(booking.start, with_year=False))
    context = {"booking": booking, "recipient": recipient, **context}
    send_email(template=f"bookings/email/{kind}", subject=subject, to=[to], context=context, attachments=attachments)
    return f"E-mailed {to}: {subject}"


def queue_booking_reminders(*, now: datetime) -> int:
    """Record a ``booking.reminder_due`` event for each pending or confirmed booking that starts
    within ``NOTIFICATIONS_REMINDER_LEAD_MINUTES`` of ``now`` and has had no reminder for its
    current start time (a rescheduled booking gets a new one). Returns how many were queued.

    The reminder e-mail itself is sent by the event's subscriber.
    """
    if "booking_reminder" not in settings.NOTIFICATIONS_ENABLED:
        return 0
    horizon = now + timedelta(minutes=settings.NOTIFICATIONS_REMINDER_LEAD_MINUTES)
    with transaction.atomic():
        upcoming = list(
            Booking.objects.select_for_update()
            .filter(state__in=REMINDED_STATES, start__gt=now, start__lte=horizon)
            .order_by("start", "id")
        )
        reminded = {
            (aggregate_id, start)
            for aggregate_id, start in Event.objects.filter(
                type=EventType.BOOKING_REMINDER_DUE,
                aggregate_type=Booking._meta.label_lower,
                aggregate_id__in=[str(booking.pk) for booking in upcoming],
            ).values_list("aggregate_id", "payload__start")
        }
        due = [booking for booking in upcoming if (str(booking.pk), booking.start.isoformat()) not in reminded]
        for booking in due:
            publish(
                EventType.BOOKING_REMINDER_DUE,
                booking,
                payload={
                    "start": booking.start.isoformat(),
                    "lead_minutes": settings.NOTIFICATIONS_REMINDER_LEAD_MINUTES,
                },
            )
    return len(due)
