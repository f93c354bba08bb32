"""Series and waitlist entries in the admin: listed and read, each series with its bookings, and
changed only through the services (the staff pages and the API)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, BookingSeriesFactory, WaitlistEntryFactory
from employees.tests.factories import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    verified_login(client, manager)
    return client


def test_manager_lists_series_and_reads_one_with_its_bookings(manager_client):
    series = BookingSeriesFactory()
    bookings = [
        BookingFactory(
            series=series, space=series.space, client=series.client, start=MONDAY_10_UTC + timedelta(weeks=week)
        )
        for week in range(2)
    ]

    listing = manager_client.get(reverse("admin:bookings_bookingseries_changelist"), {"q": series.client.full_name})
    detail = manager_client.get(reverse("admin:bookings_bookingseries_change", args=[series.pk]))

    assert listing.status_code == 200
    assert series.client.full_name in listing.content.decode()
    assert detail.status_code == 200
    for booking in bookings:
        assert reverse("admin:bookings_booking_change", args=[booking.pk]) in detail.content.decode()


def test_manager_lists_waitlist_entries_and_reads_one(manager_client):
    entry = WaitlistEntryFactory()

    listing = manager_client.get(reverse("admin:bookings_waitlistentry_changelist"), {"status": "waiting"})
    detail = manager_client.get(reverse("admin:bookings_waitlistentry_change", args=[entry.pk]))

    assert listing.status_code == 200
    assert entry.client.full_name in listing.content.decode()
    assert detail.status_code == 200


def test_a_booking_shows_its_series_in_the_admin(manager_client):
    series = BookingSeriesFactory()
    booking = BookingFactory(series=series, space=series.space, client=series.client)

    response = manager_client.get(reverse("admin:bookings_booking_change", args=[booking.pk]))

    assert reverse("admin:bookings_bookingseries_change", args=[series.pk]) in response.content.decode()


@pytest.mark.parametrize("model", ["bookingseries", "waitlistentry"])
def test_series_and_waitlist_entries_are_not_added_changed_or_deleted_past_the_services(manager_client, model):
    made = BookingSeriesFactory() if model == "bookingseries" else WaitlistEntryFactory()

    assert manager_client.get(reverse(f"admin:bookings_{model}_add")).status_code == 403
    assert manager_client.get(reverse(f"admin:bookings_{model}_delete", args=[made.pk])).status_code == 403
    form = manager_client.get(reverse(f"admin:bookings_{model}_change", args=[made.pk])).content.decode()
    assert 'type="submit" value="Save"' not in form
