"""A booking's events as the staff read them."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bookings import history, selectors, services
from bookings.models import local_instant
from bookings.tests.factories import BookingFactory, PhotographerFactory, SpaceFactory
from events.services import publish

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)


def test_each_change_reads_as_a_line(manager, studio, django_assert_max_num_queries):
    booking = services.create_booking(
        actor=manager,
        space=studio,
        start=local_instant(MONDAY, "10:00"),
        end=local_instant(MONDAY, "12:00"),
        people_count=2,
        client_name="Alice Moreau",
        client_phone="+14155550101",
    )
    photographer = PhotographerFactory(full_name="Pete Photographer")
    services.assign_photographer(booking=booking, photographer=photographer, actor=manager)
    services.reschedule_booking(
        booking=booking,
        actor=manager,
        space=SpaceFactory(name="Loft"),
        start=local_instant(MONDAY, "14:00"),
        end=local_instant(MONDAY, "15:00"),
    )
    services.update_booking(booking=booking, actor=manager, people_count=3, notes="Tripod")
    services.transition_booking(booking=booking, target_state="cancelled", actor=manager, reason="Ill")
    events = selectors.booking_history(booking=booking)

    with django_assert_max_num_queries(2):
        entries = history.describe(events)

    assert [(entry.title, entry.detail) for entry in entries] == [
        ("Booked", "Mon 14 Jan 2030, 10:00–12:00 in Test Studio, 2 people, price 100.00 USD"),
        ("Photographer assigned", "Pete Photographer"),
        (
            "Rescheduled",
            "From Mon 14 Jan 2030, 10:00–12:00 in Test Studio to Mon 14 Jan 2030, 14:00–15:00 in Loft; price 50.00 USD",
        ),
        ("Details changed", "notes changed; people: 2 → 3"),
        ("Pending → Cancelled", "Reason: Ill"),
    ]


def test_a_price_changed_by_hand_reads_in_the_studios_currency(manager, studio, settings):
    settings.STUDIO_CURRENCY = "EUR"
    booking = BookingFactory(space=studio)
    services.update_booking(booking=booking, actor=manager, price=Decimal("80.00"))

    (entry,) = history.describe(selectors.booking_history(booking=booking))

    assert entry.detail == "price: 100.00 EUR → 80.00 EUR; price set by hand: False → True"


def test_a_day_before_the_tenth_reads_as_the_booking_page_writes_it(manager, studio):
    booking = BookingFactory(space=studio, start=local_instant(date(2030, 2, 4), "10:00"))
    times = {"start": booking.start.isoformat(), "end": booking.end.isoformat(), "space": studio.slug}
    publish("booking.created", booking, actor=manager, payload=times)

    (entry,) = history.describe(selectors.booking_history(booking=booking))

    assert entry.detail.startswith("Mon 4 Feb 2030, 10:00–12:00 in Test Studio")


def test_a_time_in_the_hour_the_clocks_repeat_reads_with_its_zone(manager, studio, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    # The second 02:30 (CET) to 03:30 of Sunday 25 October 2026, the night the clocks go back.
    booking = BookingFactory(
        space=studio, start=datetime(2026, 10, 25, 1, 30, tzinfo=UTC), end=datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
    )
    times = {"start": booking.start.isoformat(), "end": booking.end.isoformat(), "space": studio.slug}
    publish("booking.created", booking, actor=manager, payload=times)

    (entry,) = history.describe(selectors.booking_history(booking=booking))

    assert entry.detail.startswith("Sun 25 Oct 2026, 02:30 CET–03:30 in Test Studio")


def test_an_unknown_event_reads_as_its_type(studio):
    booking = BookingFactory(space=studio)
    publish("booking.reminder_due", booking, actor=None, payload={})

    (entry,) = history.describe(selectors.booking_history(booking=booking))

    assert entry.title == "Booking reminder due"
