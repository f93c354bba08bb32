"""Every staff page and the booking admin answer with a fixed number of queries, however many
spaces, clients, bookings and events there are: each page is counted on a small studio, then
again after the studio grew tenfold, and pinned."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings import services
from bookings.models import BookingState, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, ClosureFactory, PhotographerFactory, SpaceFactory
from employees.tests.factories import verified_login

pytestmark = [pytest.mark.django_db, pytest.mark.performance]

MONDAY = date(2030, 1, 14)
NOW = datetime(2030, 1, 14, 9, 0, tzinfo=UTC)
STATES = [BookingState.PENDING, BookingState.CONFIRMED, BookingState.COMPLETED, BookingState.CANCELLED]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


class Studio:
    """A studio that grows: each ``grow(n)`` adds n spaces and, in each, bookings in every state
    on every day of the week for one regular client, whose booking #1 gathers history, and a
    closure of the space in the evening and of the whole studio at night."""

    def __init__(self, manager):
        self.manager = manager
        self.client = ClientFactory(full_name="Regular Client")
        self.photographer = PhotographerFactory()
        self.booking = None

    def grow(self, n: int) -> None:
        for _ in range(n):
            space = SpaceFactory()
            for offset in range(7):
                day = MONDAY + timedelta(days=offset)
                for hour, state in zip((8, 11, 14, 17), STATES, strict=True):
                    BookingFactory(
                        space=space,
                        client=self.client if offset == 0 else ClientFactory(),
                        start=local_instant(day, f"{hour:02d}:00"),
                        end=local_instant(day, f"{hour + 2:02d}:00"),
                        state=state,
                        photographer=self.photographer,
                    )
            ClosureFactory(space=space, start=local_instant(MONDAY, "19:00"), end=local_instant(MONDAY, "22:00"))
            ClosureFactory(space=None, start=local_instant(MONDAY, "22:00"), end=local_instant(MONDAY, "23:00"))
        if self.booking is None:
            self.booking = BookingFactory(
                space=SpaceFactory(), client=self.client, start=local_instant(MONDAY, "20:00")
            )
        for _ in range(n):
            services.assign_photographer(booking=self.booking, photographer=self.photographer, actor=self.manager)
            services.assign_photographer(booking=self.booking, photographer=None, actor=self.manager)


@pytest.fixture
def studio(manager):
    return Studio(manager)


@pytest.fixture
def boss(client, manager):
    verified_login(client, manager)
    return client


def count(client, url) -> int:
    client.get(url)  # sessions and permission caches settle on a first visit
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


PAGES = {
    "today": (lambda studio: "/", 12),  # the closures of the day, the waitlist's openings
    "calendar day": (lambda studio: "/calendar/?date=2030-01-14", 8),
    "calendar week": (lambda studio: f"/calendar/?view=week&date=2030-01-14&space={studio.booking.space.slug}", 9),
    "booking list": (lambda studio: "/bookings/?from=2030-01-14&to=2030-01-20", 9),
    "booking list of a client": (lambda studio: f"/bookings/?client={studio.client.pk}", 10),
    "booking form": (lambda studio: "/bookings/new/?date=2030-01-14&start_time=10:00", 8),
    "booking list searched and sorted": (lambda studio: "/bookings/?search=client&ordering=-client", 9),
    "booking detail": (lambda studio: f"/bookings/{studio.booking.pk}/", 9),
    "booking edit": (lambda studio: f"/bookings/{studio.booking.pk}/edit/", 9),
    "client list": (lambda studio: "/clients/", 7),
    "client search": (lambda studio: "/clients/?q=client", 7),
    "client detail": (lambda studio: f"/clients/{studio.client.pk}/", 8),
    "client edit": (lambda studio: f"/clients/{studio.client.pk}/edit/", 6),
    # On PostgreSQL: the daily figures' view, its refresh time and the bookings changed since;
    # and the closures, whose hours are not open hours.
    "reports": (lambda studio: "/reports/?start=2030-01-01&end=2030-01-31", 10),
    "reports csv": (lambda studio: "/reports/csv/?start=2030-01-01&end=2030-01-31", 10),
    "admin bookings": (lambda studio: reverse("admin:bookings_booking_changelist"), 12),
    "admin booking": (lambda studio: reverse("admin:bookings_booking_change", args=[studio.booking.pk]), 11),
    "admin closures": (lambda studio: reverse("admin:bookings_closure_changelist"), 12),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_query_count_does_not_grow_with_the_studio(boss, studio, name):
    url, pinned = PAGES[name]
    studio.grow(1)
    small = count(boss, url(studio))

    studio.grow(9)
    large = count(boss, url(studio))

    assert large == small, f"{name}: {small} queries with a small studio, {large} with a large one"
    assert large <= pinned, f"{name}: {large} queries, pinned at {pinned}"
