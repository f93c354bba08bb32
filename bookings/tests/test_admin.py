import pytest
from django.urls import reverse

from bookings.models import Space
from bookings.tests.factories import BookingFactory, ClientFactory
from employees.tests.factories import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    verified_login(client, manager)
    return client


@pytest.mark.parametrize("model", ["space", "client", "booking"])
def test_manager_can_browse_and_search_each_list(manager_client, model):
    BookingFactory()

    response = manager_client.get(reverse(f"admin:bookings_{model}_changelist"), {"q": "a"})

    assert response.status_code == 200


def test_manager_can_look_at_a_booking_and_a_client(manager_client):
    booking = BookingFactory()

    assert manager_client.get(reverse("admin:bookings_booking_change", args=[booking.pk])).status_code == 200
    assert manager_client.get(reverse("admin:bookings_client_change", args=[booking.client.pk])).status_code == 200


@pytest.mark.parametrize("model", ["client", "booking"])
def test_clients_and_bookings_cannot_be_added_past_the_services(manager_client, model):
    assert manager_client.get(reverse(f"admin:bookings_{model}_add")).status_code == 403


def test_booking_cannot_be_changed_in_the_admin(manager_client):
    booking = BookingFactory(notes="before")

    manager_client.post(reverse("admin:bookings_booking_change", args=[booking.pk]), {"notes": "after"})

    booking.refresh_from_db()
    assert booking.notes == "before"


def test_client_cannot_be_deleted_in_the_admin(manager_client):
    client = ClientFactory()

    response = manager_client.post(reverse("admin:bookings_client_delete", args=[client.pk]), {"post": "yes"})

    assert response.status_code == 403


def opening_hours_fields(**days):
    """The per-day opening-hours inputs of the Space form: each given day open from-until, the rest closed."""
    fields = {}
    for day, (opens, closes) in days.items():
        fields |= {
            f"opening_hours_{day}_open": "on",
            f"opening_hours_{day}_from": opens,
            f"opening_hours_{day}_until": closes,
        }
    return fields


def space_form(**overrides):
    return {
        "slug": "loft",
        "name": "Loft",
        "capacity": "4",
        "hourly_rate": "40.00",
        "buffer_minutes": "20",
        **opening_hours_fields(mon=("09:00", "18:00")),
        "is_active": "on",
        **overrides,
    }


def test_manager_adds_a_space_with_its_opening_hours(manager_client):
    response = manager_client.post(reverse("admin:bookings_space_add"), space_form())

    assert response.status_code == 302
    assert Space.objects.get(slug="loft").opening_hours == {
        "mon": ["09:00", "18:00"],
        "tue": None,
        "wed": None,
        "thu": None,
        "fri": None,
        "sat": None,
        "sun": None,
    }


def test_space_with_malformed_opening_hours_is_refused_with_the_reason(manager_client):
    response = manager_client.post(
        reverse("admin:bookings_space_add"), space_form(**opening_hours_fields(mon=("18:00", "09:00")))
    )

    assert response.status_code == 200
    assert "Monday: the space must close after it opens (18:00 – 09:00)." in response.content.decode()
    assert not Space.objects.filter(slug="loft").exists()
