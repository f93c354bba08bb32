"""Bookings as iCalendar (RFC 5545) events: the employees' calendar feeds and the invitation
attached to a client's e-mails, built with the ``icalendar`` library.

A booking is the same event wherever a calendar meets it: its UID never changes, its SEQUENCE is
the booking's ``revision`` (up by one with every change), a cancelled booking stays in as
``STATUS:CANCELLED`` so calendars drop it, and its times carry the studio's TZID with the
VTIMEZONE that defines it. Staff see the client, the photographer and the notes; a client's copy
shows only their own session.
"""

from datetime import timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, Timezone, vDuration

from bookings.models import Booking, BookingState, Space
from photostudio.emails import studio_name

CONTENT_TYPE = "text/calendar; charset=utf-8"
_PRODUCT = "-//Studio CRM//Calendar feeds//EN"
# How often calendar apps should fetch a feed again.
REFRESH_INTERVAL = timedelta(hours=1)
_STATUS = {BookingState.PENDING: "TENTATIVE", BookingState.CANCELLED: "CANCELLED"}


def booking_uid(booking: Booking) -> str:
    """The booking's UID in every calendar: its id at the domain the studio's e-mails come from."""
    return f"booking-{booking.pk}@{_domain()}"


def feed(*, subscriber, space: Space | None, whole_studio: bool, bookings: list[Booking], request) -> bytes:
    """``subscriber``'s feed of ``bookings`` (space, client and photographer loaded) as staff see
    them, each linking to its page on the host of ``request``; named after ``space``, the studio
    (``whole_studio``) or the subscriber's own sessions."""
    if space is not None:
        name, scope = f"{studio_name()}: {space.name}", f"space-{space.slug}"
    elif whole_studio:
        name, scope = studio_name(), "studio"
    else:
        name, scope = f"{studio_name()}: {subscriber.get_full_name()}'s sessions", "own"
    calendar = _calendar(name=name, uid=f"feed-{subscriber.pk}-{scope}@{_domain()}")
    for booking in bookings:
        link = request.build_absolute_uri(reverse("booking-detail", kwargs={"pk": booking.pk}))
        calendar.add_component(
            _event(booking, summary=_staff_summary(booking), description=_staff_notes(booking), url=link)
        )
    return _finished(calendar, bookings)


def client_invitation(booking: Booking) -> bytes:
    """The client's own session as a ``METHOD:PUBLISH`` calendar to attach to their e-mails: time,
    space and people, nothing the staff noted."""
    calendar = _calendar(name=studio_name(), uid=f"invitation-{booking_uid(booking)}", method="PUBLISH")
    people = f"{booking.people_count} {'person' if booking.people_count == 1 else 'people'}"
    calendar.add_component(
        _event(booking, summary=f"Photo session at {studio_name()}", description=f"{booking.space.name}, {people}.")
    )
    return _finished(calendar, [booking])


def _domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "studio-crm"


def _calendar(*, name: str, uid: str, method: str | None = None) -> Calendar:
    calendar = Calendar.new(prodid=_PRODUCT, name=name, uid=uid, method=method, refresh_interval=REFRESH_INTERVAL)
    # RFC 7986 requires the value type, which the library leaves out.
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"
    # The same hints in the names older calendar apps read.
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    return calendar


def _event(booking: Booking, *, summary: str, description: str, url: str | None = None) -> Event:
    zone = ZoneInfo(settings.TIME_ZONE)
    return Event.new(
        uid=booking_uid(booking),
        sequence=booking.revision,
        status=_STATUS.get(booking.state, "CONFIRMED"),
        transparency="TRANSPARENT" if booking.state == BookingState.CANCELLED else "OPAQUE",
        start=booking.start.astimezone(zone),
        end=booking.end.astimezone(zone),
        summary=summary,
        location=booking.space.name,
        description=description,
        url=url,
        created=booking.created_at,
        last_modified=booking.updated_at,
        stamp=booking.updated_at,
    )


def _staff_summary(booking: Booking) -> str:
    summary = f"{booking.client.full_name} · {booking.space.name}"
    if booking.state in (BookingState.CANCELLED, BookingState.NO_SHOW):
        return f"{booking.get_state_display()}: {summary}"
    return summary


def _staff_notes(booking: Booking) -> str:
    photographer = booking.photographer.get_full_name() if booking.photographer else "none yet"
    lines = [
        f"Booking #{booking.pk}, {booking.get_state_display().lower()}",
        f"Client: {booking.client.full_name}, {booking.client.phone}",
        f"People: {booking.people_count}",
        f"Photographer: {photographer}",
    ]
    if booking.notes:
        lines.append(f"Notes: {booking.notes}")
    return "\n".join(lines)


def _finished(calendar: Calendar, bookings: list[Booking]) -> bytes:
    """The calendar as bytes, checked by the library first, with the studio's VTIMEZONE over the
    span of ``bookings`` (a calendar needs a component, and an empty feed has no event)."""
    moments = [timezone.now(), *(booking.start for booking in bookings), *(booking.end for booking in bookings)]
    studio_zone = Timezone.from_tzid(
        settings.TIME_ZONE,
        first_date=min(moments).date() - timedelta(days=1),
        last_date=max(moments).date() + timedelta(days=1),
    )
    calendar.subcomponents.insert(0, studio_zone)
    calendar.validate()
    return calendar.to_ical()
