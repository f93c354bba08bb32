"""Listing bookings: the studio's local days, the filters and the pages."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bookings.filtersets import BookingFilterSet
from bookings.models import BookingState
from bookings.tests.api import api_as
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, ClientFactory, PhotographerFactory, SpaceFactory

pytestmark = pytest.mark.django_db

BOOKINGS = "/api/v1/bookings/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [booking["id"] for booking in response.json()["results"]]


@pytest.mark.parametrize("path", ["/api/v1/bookings/", "/api/v1/bookings"])
def test_list_answers_with_and_without_trailing_slash(receptionist, path):
    booking = BookingFactory()

    assert ids(api_as(receptionist).get(path)) == [booking.pk]


def test_date_is_the_studios_local_day(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    # 23:30 UTC on the 14th is 00:30 on the 15th in Berlin; 22:30 UTC is still the 14th there.
    on_the_15th = BookingFactory(start=datetime(2030, 1, 14, 23, 30, tzinfo=UTC), space=SpaceFactory())
    on_the_14th = BookingFactory(start=datetime(2030, 1, 14, 21, 0, tzinfo=UTC), space=SpaceFactory())
    api = api_as(receptionist)

    assert ids(api.get(BOOKINGS, {"date": "2030-01-15"})) == [on_the_15th.pk]
    assert ids(api.get(BOOKINGS, {"date": "2030-01-14"})) == [on_the_14th.pk]


def test_a_booking_past_midnight_is_on_both_days(receptionist):
    late = BookingFactory(start=datetime(2030, 1, 14, 23, 0, tzinfo=UTC))
    api = api_as(receptionist)

    assert ids(api.get(BOOKINGS, {"date": "2030-01-14"})) == [late.pk]
    assert ids(api.get(BOOKINGS, {"date": "2030-01-15"})) == [late.pk]


def test_from_and_to_include_both_days(receptionist, studio):
    days = [BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=n)) for n in range(4)]

    response = api_as(receptionist).get(BOOKINGS, {"from": "2030-01-15", "to": "2030-01-16"})

    assert ids(response) == [days[1].pk, days[2].pk]


def test_from_after_to_is_a_validation_error(receptionist):
    response = api_as(receptionist).get(BOOKINGS, {"from": "2030-01-16", "to": "2030-01-15"})

    assert response.status_code == 400
    assert "to" in response.json()["error"]["details"]


def test_filters_by_space_state_photographer_and_client(receptionist, studio):
    photographer = PhotographerFactory()
    client = ClientFactory()
    wanted = BookingFactory(space=studio, state=BookingState.CONFIRMED, photographer=photographer, client=client)
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=1), client=client)
    BookingFactory(state=BookingState.CONFIRMED, photographer=photographer, client=client)
    api = api_as(receptionist)

    filters = {"space": "test_studio", "state": "confirmed", "photographer": photographer.pk, "client": client.pk}
    assert ids(api.get(BOOKINGS, filters)) == [wanted.pk]


def test_state_takes_several_states_comma_separated(receptionist, studio):
    pending = BookingFactory(space=studio)
    confirmed = BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=1), state=BookingState.CONFIRMED)
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=2), state=BookingState.CANCELLED)

    assert ids(api_as(receptionist).get(BOOKINGS, {"state": "pending,confirmed"})) == [pending.pk, confirmed.pk]


def test_empty_items_of_the_state_filter_name_no_state(receptionist, studio):
    pending = BookingFactory(space=studio)
    confirmed = BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=1), state=BookingState.CONFIRMED)

    assert ids(api_as(receptionist).get(BOOKINGS, {"state": ","})) == [pending.pk, confirmed.pk]
    assert ids(api_as(receptionist).get(BOOKINGS, {"state": "pending,"})) == [pending.pk]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("date", "15/01/2024"),
        ("date", "0001-01-01"),
        ("date", "9999-12-31"),
        ("from", "2024-02-30"),
        ("space", "studio_z"),
        ("state", "approved"),
        ("photographer", "abc"),
        ("photographer", "99999999999999999999999"),
        ("client", "-1"),
        ("page", "0"),
        ("page", "two"),
        ("page_size", "201"),
        ("page_size", "0"),
    ],
)
def test_bad_filter_values_are_validation_errors_naming_the_parameter(receptionist, name, value):
    response = api_as(receptionist).get(BOOKINGS, {name: value})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert name in response.json()["error"]["details"]


@pytest.mark.parametrize(
    "query",
    [
        "state=pending&state=confirmed",
        "date=2030-01-14&date=2030-01-15",  # a day list, answered from its cache when it can be
        "space=test_studio&date=2030-01-14&space=test_studio",
        "page=1&page=2",
        "page_size=10&page_size=20",
    ],
)
def test_a_parameter_given_twice_is_refused_naming_it(receptionist, studio, query):
    BookingFactory(space=studio, start=MONDAY_10_UTC)
    name = query.rsplit("&", 1)[1].split("=")[0]

    response = api_as(receptionist).get(f"{BOOKINGS}?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert list(response.json()["error"]["details"]) == [name]


@pytest.mark.parametrize("name", ["space_type", "status", "start_time", "page_number"])
def test_a_parameter_the_list_does_not_take_is_refused_naming_it(receptionist, studio, name):
    BookingFactory(space=studio, start=MONDAY_10_UTC)

    response = api_as(receptionist).get(BOOKINGS, {"date": "2030-01-14", name: "x"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert list(response.json()["error"]["details"]) == [name]


def test_photographer_filter_only_takes_photographers(receptionist):
    response = api_as(receptionist).get(BOOKINGS, {"photographer": receptionist.pk})

    assert response.status_code == 400


def test_pages_have_a_count_and_a_stable_order(receptionist, studio):
    # Five bookings at the very same time (other spaces), so only the id can order them.
    same_time = [BookingFactory(start=MONDAY_10_UTC, space=SpaceFactory()) for _ in range(5)]
    earlier = BookingFactory(space=studio, start=MONDAY_10_UTC - timedelta(hours=2))
    api = api_as(receptionist)

    first = api.get(BOOKINGS, {"page_size": 4}).json()
    second = api.get(first["next"]).json()

    assert first["count"] == second["count"] == 6
    assert [b["id"] for b in first["results"] + second["results"]] == [earlier.pk, *[b.pk for b in same_time]]
    assert second["next"] is None
    assert second["previous"] is not None


def test_page_past_the_last_is_not_found(receptionist):
    BookingFactory()

    response = api_as(receptionist).get(BOOKINGS, {"page": 2})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_list_shows_each_callers_next_steps(photographer):
    mine = BookingFactory(state=BookingState.CONFIRMED, photographer=photographer)

    with time_machine.travel(mine.start, tick=False):
        body = api_as(photographer).get(BOOKINGS).json()

    assert body["results"][0]["id"] == mine.pk
    assert [t["target_state"] for t in body["results"][0]["allowed_transitions"]] == ["in_progress"]


def test_a_filtered_list_is_checked_and_filtered_by_one_filterset(receptionist, studio, monkeypatch):
    built = []
    monkeypatch.setattr(BookingFilterSet, "__init__", _counted(BookingFilterSet.__init__, built))

    response = api_as(receptionist).get("/api/v1/bookings/", {"from": "2030-01-14", "space": studio.slug})

    assert response.status_code == 200, response.content
    assert len(built) == 1


def _counted(init, calls: list):
    def counting(self, *args, **kwargs):
        calls.append(args)
        init(self, *args, **kwargs)

    return counting
