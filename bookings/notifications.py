"""E-mails to clients and photographers about their bookings, the reminders queued by beat, and
the notices that tell an employee about a sensitive change to their account.

Each notification is sent by a subscriber (bookings/subscribers.py) through its own delivery, so
it is retried when the mail server fails and sent at most once when it works. Whether a booking
kind is sent at all is ``NOTIFICATIONS_ENABLED``; account notices are always sent, since they are
how an employee learns that someone else changed how they sign in. Times are always shown in the
studio's TIME_ZONE.
"""

from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime

from bookings.models import Booking, BookingState, Space
from employees.models import Employee
from events.models import Event, EventType
from events.registry import Skipped
from events.services import publish

# A reminder is for a session that will take place as booked.
REMINDED_STATES = (BookingState.PENDING, BookingState.CONFIRMED)

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
    return _send(kind, to=booking.client.email, booking=booking, recipient=booking.client.full_name, **context)


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


def _local(moment: datetime, format_string: str) -> str:
    return dateformat.format(timezone.localtime(moment, timezone.get_default_timezone()), format_string)


def _send(kind: str, *, to: str, booking: Booking, recipient: str, **context) -> str:
    studio = parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or "The studio"
    context = {"booking": booking, "recipient": recipient, "studio": studio, **context}
    subject = _SUBJECTS[kind].format(when=_local(booking.start, "D j M, H:i"))
    with timezone.override(settings.TIME_ZONE):
        text = render_to_string(f"bookings/email/{kind}.txt", context)
        html = render_to_string(f"bookings/email/{kind}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
    return f"E-mailed {to}: {subject}"


# Subject and message of the notice each sensitive account change sends its employee.
ACCOUNT_NOTICES = {
    EventType.EMPLOYEE_PASSWORD_CHANGED: (
        "Your password was changed",
        "The password of your account was changed, and your other sign-ins were ended.",
    ),
    EventType.EMPLOYEE_UPDATED: (
        "The e-mail address of your account was changed",
        "The e-mail address of your account was changed from {previous_email} to {new_email}.",
    ),
    EventType.EMPLOYEE_MFA_ENABLED: (
        "Two-factor authentication is on",
        "An authenticator app was set up for your account; signing in now needs a code from it.",
    ),
    EventType.EMPLOYEE_MFA_DISABLED: (
        "Two-factor authentication is off",
        "Two-factor authentication was turned off for your account; signing in needs only the password now.",
    ),
    EventType.EMPLOYEE_MFA_RESET: (
        "Your two-factor authentication was reset",
        "{actor} removed the authenticator app and backup codes of your account and ended all your sign-ins.",
    ),
    EventType.EMPLOYEE_BACKUP_CODES_REGENERATED: (
        "New backup codes were made",
        "Your account has ten new backup codes; the old ones no longer work.",
    ),
    EventType.EMPLOYEE_TOKEN_REUSE_DETECTED: (
        "An API sign-in of yours was ended",
        "A refresh token of one of your API sign-ins was used again after it had been exchanged, from "
        "{ip_address}: someone may have a copy of it. That sign-in was ended.",
    ),
}


def email_account_notice(event: Event) -> str:
    """Tell the employee of ``event`` what changed on their account (an e-mail change: both the
    previous and the new address). Raises Skipped when there is no one to tell."""
    employee = Employee.objects.filter(pk=event.aggregate_id).first()
    if employee is None:
        raise Skipped("The employee no longer exists.")
    subject, message = ACCOUNT_NOTICES[event.type]
    email_change = event.payload.get("email") or {}
    if event.type == EventType.EMPLOYEE_UPDATED and not email_change:
        raise Skipped("The e-mail address did not change.")
    recipients = [email_change.get("from"), email_change.get("to")] if email_change else [employee.email]
    recipients = list(dict.fromkeys(address for address in recipients if address))
    if not recipients:
        raise Skipped("The employee has no e-mail address.")
    message = message.format(
        previous_email=email_change.get("from") or "none",
        new_email=email_change.get("to") or "none",
        actor=event.actor.get_full_name() if event.actor else "A manager",
        ip_address=event.payload.get("ip_address") or "an unknown address",
    )
    context = {
        "recipient": employee.get_short_name(),
        "studio": parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or "The studio",
        "message": message,
        "when": _local(event.occurred_at, "D j M Y, H:i"),
    }
    with timezone.override(settings.TIME_ZONE):
        text = render_to_string("employees/email/account_notice.txt", context)
        html = render_to_string("employees/email/account_notice.html", context)
    notice = EmailMultiAlternatives(subject=subject, body=text, to=recipients)
    notice.attach_alternative(html, "text/html")
    notice.send()
    return f"E-mailed {', '.join(recipients)}: {subject}"


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
