"""A studio whose clock skipped a whole calendar day (Samoa, Pacific/Apia, went from the end of
Thursday 29 December 2011 straight to Saturday 31 December): every page and API that is asked for
that date says plainly that it does not exist, and none offers or books a time on it."""

import html
from datetime import UTC, date, datetime

import pytest
import time_machine

from bookings.models import Booking, local_instant
from bookings.tests.api import api_as, booking_body

pytestmark = pytest.mark.django_db

SKIPPED = "2011-12-30"
DOES_NOT_EXIST = (
    "Fri 30 Dec 2011 does not exist on the studio's clock (Pacific/Apia): it goes from Thu 29 Dec 2011, 23:59 "
    "straight to Sat 31 Dec 2011, 00:00. Choose another date."
)


@pytest.fixture(autouse=True)
def in_samoa_before_the_skip(settings):
    settings.TIME_ZONE = "Pacific/Apia"
    with time_machine.travel(datetime(2011, 12, 1, tzinfo=UTC), tick=False):
        yield


def test_the_booking_form_says_the_date_does_not_exist(desk, studio):
    response = desk.post(
        "/bookings/new/",
        {
            "client_phone": "+14155550199",
            "client_name": "Ada",
            "space": studio.slug,
            "date": SKIPPED,
            "start_time": "10:00",
            "end_time": "12:00",
            "people_count": 1,
        },
    )

    assert response.context["form"].errors == {"date": [DOES_NOT_EXIST]}
    assert not Booking.objects.exists()


def series_over_the_skipped_day(space, **rule) -> dict:
    return {**booking_body(space, local_instant(date(2011, 12, 23), "10:00")), "interval_weeks": 1, "count": 3, **rule}


def test_a_series_over_the_skipped_day_is_refused_saying_so(receptionist, studio):
    response = api_as(receptionist).post("/api/v1/bookings/series", series_over_the_skipped_day(studio))

    assert response.status_code == 400
    assert response.json()["error"]["message"] == DOES_NOT_EXIST
    assert not Booking.objects.exists()


def test_a_series_skipping_conflicts_leaves_the_skipped_day_out_saying_so(receptionist, studio):
    response = api_as(receptionist).post(
        "/api/v1/bookings/series", series_over_the_skipped_day(studio, skip_conflicts=True)
    )

    assert response.status_code == 201
    assert response.json()["skipped"] == [{"date": SKIPPED, "code": "skipped_time", "message": DOES_NOT_EXIST}]
    assert Booking.objects.count() == 2


def test_free_slots_of_the_skipped_day_are_refused_saying_so(receptionist, studio):
    response = api_as(receptionist).get(f"/api/v1/spaces/{studio.slug}/free-slots", {"date": SKIPPED})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"date": [DOES_NOT_EXIST]}


def test_the_day_list_of_the_skipped_day_is_empty(receptionist, studio):
    response = api_as(receptionist).get("/api/v1/bookings/", {"date": SKIPPED})

    assert (response.status_code, response.json()["results"]) == (200, [])


@pytest.mark.parametrize("query", [{}, {"view": "week", "space": "test_studio"}], ids=["day", "week"])
def test_the_calendar_says_the_date_does_not_exist_and_offers_nothing_on_it(desk, studio, query):
    response = desk.get("/calendar/", {"date": SKIPPED, **query})

    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    assert DOES_NOT_EXIST in content
    # The day after is offered once, from its own lane (the week's), never from the missing day's.
    assert content.count("date=2011-12-31&start_time=08:00&") == (1 if query else 0)


def test_the_day_sheet_says_the_date_does_not_exist(desk, studio):
    response = desk.get("/calendar/day-sheet/", {"date": SKIPPED})

    assert response.status_code == 200
    assert DOES_NOT_EXIST in html.unescape(response.content.decode())
