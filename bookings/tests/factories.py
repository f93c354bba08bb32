"""Factories for spaces, clients and bookings. They write rows directly, without the services'
rules or events: arrange data with them, act through ``bookings.services``."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory

from bookings.models import (
    Booking,
    BookingSeries,
    BookingState,
    Client,
    Closure,
    Space,
    WaitlistEntry,
    default_opening_hours,
)
from employees.models import Role
from employees.tests.factories import EmployeeFactory

# A Monday far from any real date, so no test depends on today.
MONDAY_10_UTC = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)


class SpaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Space
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"space_{n}")
    name = factory.LazyAttribute(lambda space: space.slug.replace("_", " ").title())
    capacity = 6
    hourly_rate = Decimal("50.00")
    buffer_minutes = 15
    opening_hours = factory.LazyFunction(default_opening_hours)
    is_active = True


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    full_name = factory.Faker("name")
    # From 555-1000 up: the tests write their own clients' numbers as 555-0xxx, which a factory
    # client made earlier in the same test must not already hold.
    phone = factory.Sequence(lambda n: f"+1415555{1000 + n % 9000:04d}")
    email = factory.Sequence(lambda n: f"client{n}@client.test")


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booking

    client = factory.SubFactory(ClientFactory)
    space = factory.SubFactory(SpaceFactory)
    start = MONDAY_10_UTC
    end = factory.LazyAttribute(lambda booking: booking.start + timedelta(hours=2))
    blocks_until = factory.LazyAttribute(lambda booking: booking.end + booking.space.buffer)
    people_count = 2
    price = factory.LazyAttribute(lambda booking: booking.space.price_for(booking.end - booking.start))
    state = BookingState.PENDING


class BookingSeriesFactory(factory.django.DjangoModelFactory):
    """A weekly series' rule, without its bookings (give them ``series=``)."""

    class Meta:
        model = BookingSeries

    space = factory.SubFactory(SpaceFactory)
    client = factory.SubFactory(ClientFactory)
    starts_on = MONDAY_10_UTC.date()
    interval_weeks = 1
    count = 4


class PhotographerFactory(EmployeeFactory):
    role = Role.PHOTOGRAPHER


class ClosureFactory(factory.django.DjangoModelFactory):
    """A closure of one space (``space=None``: the whole studio), 12:00-16:00 UTC on the test Monday."""

    class Meta:
        model = Closure

    space = factory.SubFactory(SpaceFactory)
    start = MONDAY_10_UTC + timedelta(hours=2)
    end = factory.LazyAttribute(lambda closure: closure.start + timedelta(hours=4))
    reason = "Maintenance"


class WaitlistEntryFactory(factory.django.DjangoModelFactory):
    """A client waiting for a slot, Monday 10:00-12:00 unless told; nothing checks that it is taken."""

    class Meta:
        model = WaitlistEntry

    client = factory.SubFactory(ClientFactory)
    space = factory.SubFactory(SpaceFactory)
    start = MONDAY_10_UTC
    end = factory.LazyAttribute(lambda entry: entry.start + timedelta(hours=2))
    blocks_until = factory.LazyAttribute(lambda entry: entry.end + entry.space.buffer)
    people_count = 2
