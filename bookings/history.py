"""How a booking's events read to people: one line and a detail each, for the booking page and
the admin. The events come from ``selectors.booking_history``; times show in the studio's zone."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from bookings.models import BookingState, Space
from employees.models import Employee
from events.models import Event, EventType
from photostudio.dates import day_text, moment_text, time_text
from photostudio.money import money_text

_FIELD_NAMES = {"notes": "notes", "people_count": "people", "price": "price", "price_overridden": "price set by hand"}


@dataclass(frozen=True)
class Entry:
    event: Event
    title: str
    detail: str


def describe(events: list[Event]) -> list[Entry]:
    """An Entry per event, in the given order. At most two queries: the names of the spaces and
    of the photographers the events mention."""
    photographer_ids = {
        event.payload.get("to")
        for event in events
        if event.type == EventType.BOOKING_PHOTOGRAPHER_ASSIGNED and isinstance(event.payload.get("to"), int)
    }
    slugs = {
        times.get("space")
        for event in events
        for times in (event.payload, event.payload.get("from"), event.payload.get("to"))
        if isinstance(times, dict) and isinstance(times.get("space"), str)
    }
    names = {
        "photographers": {employee.pk: str(employee) for employee in Employee.objects.filter(pk__in=photographer_ids)}
        if photographer_ids
        else {},
        "spaces": dict(Space.objects.filter(slug__in=slugs).values_list("slug", "name")) if slugs else {},
    }
    return [_entry(event, names) for event in events]


def _entry(event: Event, names: dict) -> Entry:
    payload = event.payload or {}
    spaces = names["spaces"]
    if event.type == EventType.BOOKING_CREATED:
        people, price = payload.get("people_count", "?"), _price(payload.get("price"))
        space = spaces.get(payload.get("space"), payload.get("space", "?"))
        return Entry(event, "Booked", f"{_span(payload)} in {space}, {people} people, price {price}")
    if event.type == EventType.BOOKING_STATE_CHANGED:
        title = f"{_state(payload.get('from'))} → {_state(payload.get('to'))}"
        if payload.get("undo"):
            title = f"Undone: {title}"
        reason = payload.get("reason") or ""
        return Entry(event, title, f"Reason: {reason}" if reason else "")
    if event.type == EventType.BOOKING_RESCHEDULED:
        before, after = payload.get("from", {}), payload.get("to", {})
        old_space = spaces.get(before.get("space"), before.get("space", "?"))
        new_space = spaces.get(after.get("space"), after.get("space", "?"))
        price = _price(payload.get("price"))
        detail = f"From {_span(before)} in {old_space} to {_span(after)} in {new_space}; price {price}"
        return Entry(event, "Rescheduled", detail)
    if event.type == EventType.BOOKING_PHOTOGRAPHER_ASSIGNED:
        photographer = payload.get("to")
        if photographer is None:
            return Entry(event, "Photographer removed", "")
        return Entry(event, "Photographer assigned", names["photographers"].get(photographer, f"#{photographer}"))
    if event.type == EventType.BOOKING_UPDATED:
        changes = payload.get("changes", {})
        detail = "; ".join(_change(field, change) for field, change in changes.items())
        return Entry(event, "Details changed", detail)
    if event.type == EventType.WAITLIST_ADDED:
        space = spaces.get(payload.get("space"), payload.get("space", "?"))
        people = payload.get("people_count", "?")
        return Entry(event, "Put on the waitlist", f"{_span(payload)} in {space}, {people} {_people(people)}")
    if event.type == EventType.WAITLIST_SLOT_OPENED:
        return Entry(event, "Slot freed", "A booking holding the slot was cancelled, ended or moved.")
    if event.type == EventType.WAITLIST_BOOKED:
        return Entry(event, "Booked from the waitlist", f"Booking #{payload.get('booking', '?')}")
    if event.type == EventType.WAITLIST_WITHDRAWN:
        reason = payload.get("reason") or ""
        return Entry(event, "Withdrawn", f"Reason: {reason}" if reason else "")
    if event.type == EventType.WAITLIST_EXPIRED:
        return Entry(event, "Expired", "Its start passed while the client was waiting.")
    label = dict(EventType.choices).get(event.type, event.type)
    return Entry(event, label, "")


def _change(field: str, change: dict) -> str:
    if field == "notes":
        return "notes changed"
    before, after = change.get("from"), change.get("to")
    if field == "price":
        before, after = _price(before), _price(after)
    return f"{_FIELD_NAMES.get(field, field)}: {before!s} → {after!s}"


def _price(amount) -> str:
    """An amount with the studio's currency, as the pages show prices; "?" when the event has none."""
    return money_text(amount) or "?"


def _people(count) -> str:
    return "person" if count == 1 else "people"


def _state(value) -> str:
    return BookingState(value).label if value in BookingState.values else str(value)


def _span(times: dict) -> str:
    """'Mon 14 Jan 2030, 10:00–12:00' from ISO ``start`` and ``end``, on the studio's clock."""
    try:
        start, end = (
            timezone.localtime(datetime.fromisoformat(times[key]), timezone.get_default_timezone())
            for key in ("start", "end")
        )
    except (KeyError, TypeError, ValueError):
        return "?"
    if start.date() == end.date():
        return f"{day_text(start)}, {time_text(start)}–{time_text(end)}"
    return f"{moment_text(start)} – {moment_text(end)}"
