"""Lists cost the same number of queries for one row as for a hundred."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import BookingState
from bookings.tests.api import api_as
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, ClientFactory, PhotographerFactory, SpaceFactory
from employees.models import Employee
from events.services import publish

pytestmark = [pytest.mark.django_db, pytest.mark.performance]


def queries(employee, path, params=None) -> int:
    """Queries of one request by ``employee``, loaded afresh as each real request does (no warm caches)."""
    api = api_as(Employee.objects.get(pk=employee.pk))
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, params)
    assert response.status_code == 200, response.content
    return len(captured)


def bookings(count, *, space, client=None, photographer=None):
    client = client or ClientFactory()
    return [
        BookingFactory(
            space=space,
            client=client,
            photographer=photographer,
            start=MONDAY_10_UTC + timedelta(hours=3 * n),
            state=BookingState.CONFIRMED,
        )
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # the caller's permissions (2), the space filter, the count, the page
        ({"page_size": 200}, 5),
        # a day list not cached yet: permissions (2), the space filter, the day's bookings (counted in Python)
        ({"date": "2030-01-14"}, 4),
        ({"from": "2030-01-01", "to": "2030-02-28", "state": "confirmed"}, 5),
        ({"search": "415", "ordering": "-client"}, 5),
        ({"ordering": "photographer"}, 5),
    ],
)
def test_booking_list_costs_the_same_for_1_and_100_bookings(receptionist, params, expected):
    photographer = PhotographerFactory()
    one_space, busy_space = SpaceFactory(), SpaceFactory()
    bookings(1, space=one_space, photographer=photographer)
    for_one = queries(receptionist, "/api/v1/bookings/", {**params, "space": one_space.slug})

    bookings(100, space=busy_space, photographer=photographer)
    for_hundred = queries(receptionist, "/api/v1/bookings/", {**params, "space": busy_space.slug})

    assert for_one == for_hundred == expected


def test_client_list_costs_the_same_for_1_and_100_clients(receptionist):
    ClientFactory()
    for_one = queries(receptionist, "/api/v1/clients/", {"page_size": 200})

    ClientFactory.create_batch(99)
    for_hundred = queries(receptionist, "/api/v1/clients/", {"page_size": 200})

    assert for_one == for_hundred == 4  # permissions (2), count, page


def test_space_list_costs_the_same_however_many_spaces(photographer):
    for_three = queries(photographer, "/api/v1/spaces/")

    SpaceFactory.create_batch(20)
    for_many = queries(photographer, "/api/v1/spaces/")

    assert for_three == for_many == 4  # permissions (2), count, page


def test_client_history_costs_the_same_for_1_and_100_bookings(receptionist):
    lone, regular = ClientFactory(), ClientFactory()
    bookings(1, space=SpaceFactory(), client=lone)
    bookings(100, space=SpaceFactory(), client=regular)

    for_one = queries(receptionist, f"/api/v1/clients/{lone.pk}/history")
    for_hundred = queries(receptionist, f"/api/v1/clients/{regular.pk}/history")

    assert for_one == for_hundred == 5  # permissions (2), the client, the totals, the bookings


def test_free_slots_cost_the_same_for_1_and_100_bookings(receptionist):
    quiet, busy = SpaceFactory(), SpaceFactory()
    bookings(1, space=quiet)
    bookings(100, space=busy)

    for_one = queries(receptionist, f"/api/v1/spaces/{quiet.slug}/free-slots", {"date": "2030-01-14"})
    for_hundred = queries(receptionist, f"/api/v1/spaces/{busy.slug}/free-slots", {"date": "2030-01-14"})

    assert for_one == for_hundred == 4  # permissions (2), the space, its bookings


def test_booking_history_costs_the_same_for_1_and_100_events(receptionist):
    quiet, busy = BookingFactory(), BookingFactory(start=MONDAY_10_UTC + timedelta(days=1))
    publish("booking.updated", quiet, actor=receptionist)
    for _ in range(100):
        publish("booking.updated", busy, actor=receptionist)

    for_one = queries(receptionist, f"/api/v1/bookings/{quiet.pk}/history")
    for_hundred = queries(receptionist, f"/api/v1/bookings/{busy.pk}/history")

    assert for_one == for_hundred == 4  # permissions (2), the booking, its events
