from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from bookings.models import WEEKDAYS, Booking, Space
from bookings.selectors import notifications_for
from bookings.tests.factories import BookingFactory, SpaceFactory
from employees.tests.factories import EmployeeFactory
from events.models import Event
from events.tests.factories import DeliveryFactory, EventFactory


def overlap_constraint_exists():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = 'booking_space_no_overlap' AND contype = 'x'")
        return cursor.fetchone() is not None


@pytest.mark.django_db
def test_fresh_install_has_the_spaces_the_guide_uses():
    studio_a = Space.objects.get(slug="studio_a")

    assert (studio_a.capacity, studio_a.hourly_rate, studio_a.buffer_minutes) == (10, Decimal("80.00"), 15)
    assert studio_a.opening_hours == dict.fromkeys(WEEKDAYS, ["08:00", "22:00"])
    assert set(Space.objects.values_list("slug", flat=True)) >= {"studio_a", "studio_b", "makeup_room"}
    studio_a.full_clean()


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_has_the_overlap_exclusion_constraint():
    assert overlap_constraint_exists()


@pytest.mark.django_db(transaction=True)
def test_bookings_migrations_reverse_and_reapply_keeping_booked_spaces():
    BookingFactory(space=SpaceFactory(slug="studio_b"))

    call_command("migrate", "bookings", "0001", verbosity=0)
    kept = set(Space.objects.values_list("slug", flat=True))
    call_command("migrate", "bookings", verbosity=0)

    assert kept == {"studio_b"}
    assert set(Space.objects.values_list("slug", flat=True)) >= {"studio_a", "studio_b", "makeup_room"}
    assert connection.vendor != "postgresql" or overlap_constraint_exists()


@pytest.mark.django_db(transaction=True)
def test_existing_bookings_learn_their_last_state_change_from_the_event_store():
    booking = BookingFactory(state="confirmed")
    untouched = BookingFactory(start=booking.start + timedelta(days=1))
    actor = EmployeeFactory()
    for source, target in (("pending", "confirmed"), ("confirmed", "cancelled"), ("cancelled", "confirmed")):
        Event.objects.create(
            type="booking.state_changed",
            aggregate_type="bookings.booking",
            aggregate_id=str(booking.pk),
            payload={"from": source, "to": target},
            actor=actor,
        )

    call_command("migrate", "bookings", "0003", verbosity=0)
    call_command("migrate", "bookings", verbosity=0)

    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.previous_state, booking.state_changed_by) == ("cancelled", actor)
    assert booking.state_changed_at is not None
    untouched = Booking.objects.get(pk=untouched.pk)
    assert (untouched.previous_state, untouched.state_changed_at, untouched.state_changed_by) == ("", None, None)


@pytest.mark.django_db(transaction=True)
def test_deliveries_recorded_before_the_subscribers_moved_keep_showing_on_the_booking():
    booking = BookingFactory()
    event = EventFactory(type="booking.created", aggregate_type="bookings.booking", aggregate_id=str(booking.pk))
    call_command("migrate", "bookings", "0006", verbosity=0)
    DeliveryFactory(event=event, handler="events.subscribers.email_client_booking_created")

    call_command("migrate", "bookings", verbosity=0)

    [notification] = notifications_for(booking=booking)
    assert (notification.kind, notification.recipient) == ("booking_created", "client")
