"""Recurring series through the API: book, read, cancel and move, with their error codes."""

from datetime import date, timedelta

import pytest

from bookings import series
from bookings.models import Booking, BookingSeries, BookingState, local_instant
from bookings.tests.api import api_as, booking_body
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, SpaceFactory
from employees.tests.factories import EmployeeFactory
from events.models import Event

pytestmark = pytest.mark.django_db

SERIES = "/api/v1/bookings/series"


def series_body(space, **rule):
    return {**booking_body(space, MONDAY_10_UTC), "interval_weeks": 1, "count": 3, **rule}


def error(response):
    return response.json()["error"]


def booked(actor, space, count=3, start=MONDAY_10_UTC):
    return series.create_series(
        actor=actor,
        space=space,
        start=start,
        end=start + timedelta(hours=2),
        people_count=2,
        interval_weeks=1,
        count=count,
        client_name="Ada",
        client_phone="+14155550199",
    ).series


def test_new_series_answers_201_with_its_address_and_every_booking(receptionist, studio):
    response = api_as(receptionist).post(SERIES, series_body(studio, interval_weeks=2))

    assert response.status_code == 201
    created = BookingSeries.objects.get()
    assert response["Location"] == f"/api/v1/bookings/series/{created.pk}"
    body = response.json()
    assert body["skipped"] == []
    assert (body["series"]["id"], body["series"]["interval_weeks"], body["series"]["count"]) == (created.pk, 2, 3)
    assert [booking["start_time"] for booking in body["series"]["bookings"]] == [
        "2030-01-14T10:00:00Z",
        "2030-01-28T10:00:00Z",
        "2030-02-11T10:00:00Z",
    ]
    assert all(
        booking["series"] == created.pk and booking["state"] == "pending" for booking in body["series"]["bookings"]
    )


def test_skip_conflicts_answers_a_date_whose_clock_skips_the_time_as_skipped(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go forward from 02:00 to 03:00 on Sunday 31 March 2030
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    start = local_instant(date(2030, 3, 24), "02:30")
    body = {**booking_body(night, start), "end_time": (start + timedelta(hours=1)).isoformat()}

    response = api_as(receptionist).post(SERIES, {**body, "interval_weeks": 1, "count": 3, "skip_conflicts": True})

    assert response.status_code == 201
    answer = response.json()
    assert [booking["start_time"][:10] for booking in answer["series"]["bookings"]] == ["2030-03-24", "2030-04-07"]
    [skipped] = answer["skipped"]
    assert (skipped["date"], skipped["code"]) == ("2030-03-31", "skipped_time")
    assert skipped["message"].startswith("02:30 does not exist on Sun 31 Mar 2030")


def test_a_later_date_whose_clock_shows_the_time_twice_answers_400_with_its_moments_and_books_the_one_sent(
    receptionist, settings
):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go back from 03:00 to 02:00 on Sunday 27 October 2030
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    start = local_instant(date(2030, 10, 20), "02:30")
    body = {**booking_body(night, start), "end_time": (start + timedelta(hours=1)).isoformat()}
    body = {**body, "interval_weeks": 1, "count": 2}
    api = api_as(receptionist)

    asked = api.post(SERIES, body)
    moments = error(asked)["details"]["repeated_time"]
    booked = api.post(SERIES, {**body, "exact_times": [moments["start"][1]]})

    assert (asked.status_code, error(asked)["code"]) == (400, "validation_failed")
    assert error(asked)["details"]["start_time"][0].startswith("02:30 happens twice on Sun 27 Oct 2030")
    assert moments == {
        "date": "2030-10-27",
        "start": ["2030-10-27T00:30:00+00:00", "2030-10-27T01:30:00+00:00"],
        "end": ["2030-10-27T02:30:00+00:00"],
    }
    assert booked.status_code == 201
    assert [booking["start_time"] for booking in booked.json()["series"]["bookings"]] == [
        "2030-10-20T00:30:00Z",
        "2030-10-27T01:30:00Z",
    ]


def test_a_taken_date_answers_409_series_conflict_listing_each_date(receptionist, studio):
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(weeks=1))

    response = api_as(receptionist).post(SERIES, series_body(studio))

    assert response.status_code == 409
    assert error(response)["code"] == "series_conflict"
    assert [(entry["date"], entry["code"]) for entry in error(response)["details"]["conflicts"]] == [
        ("2030-01-21", "booking_overlap")
    ]
    assert Booking.objects.count() == 1


def test_skip_conflicts_answers_201_with_the_skipped_dates(receptionist, studio):
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(weeks=1))

    response = api_as(receptionist).post(SERIES, series_body(studio, skip_conflicts=True))

    assert response.status_code == 201
    body = response.json()
    assert len(body["series"]["bookings"]) == 2
    assert [(entry["date"], entry["code"]) for entry in body["skipped"]] == [("2030-01-21", "booking_overlap")]


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"count": 53}, "count"),
        ({"count": None}, "count"),
        ({"until": "2031-06-01", "count": None}, "until"),
        ({"until": "2030-03-01"}, "count"),
        ({"interval_weeks": 0}, "interval_weeks"),
        ({"people_count": 50}, "people_count"),
    ],
)
def test_a_bad_rule_answers_400_naming_the_field(receptionist, studio, rule, field):
    body = {key: value for key, value in series_body(studio, **rule).items() if value is not None}

    response = api_as(receptionist).post(SERIES, body)

    assert response.status_code == 400
    assert error(response)["code"] == "validation_failed"
    assert field in error(response)["details"]
    assert not Booking.objects.exists()


def test_a_series_running_past_the_calendar_answers_400_and_books_nothing(receptionist, studio):
    last_monday = MONDAY_10_UTC.replace(year=2099, month=12, day=14)  # dates on to Mon 4 Jan 2100
    body = {**booking_body(studio, last_monday), "interval_weeks": 1, "count": 4}

    response = api_as(receptionist).post(SERIES, body)

    assert response.status_code == 400
    assert "count" in error(response)["details"]
    assert not Booking.objects.exists()


def test_photographer_cannot_book_a_series(photographer, studio):
    response = api_as(photographer).post(SERIES, series_body(studio))

    assert (response.status_code, error(response)["code"]) == (403, "permission_denied")


def test_series_detail_lists_its_bookings_in_a_fixed_number_of_queries(
    receptionist, studio, django_assert_max_num_queries
):
    created = booked(receptionist, studio, count=6)

    with django_assert_max_num_queries(8):
        response = api_as(receptionist).get(f"{SERIES}/{created.pk}")

    assert response.status_code == 200
    assert len(response.json()["bookings"]) == 6


def test_unknown_series_answers_404(receptionist):
    response = api_as(receptionist).get(f"{SERIES}/999")

    assert (response.status_code, error(response)["code"]) == (404, "not_found")


def test_a_booking_names_its_series(receptionist, studio):
    created = booked(receptionist, studio, count=1)

    body = api_as(receptionist).get(f"/api/v1/bookings/{created.bookings.get().pk}").json()

    assert body["series"] == created.pk


def test_cancelling_a_series_from_a_date_answers_what_was_cancelled(receptionist, studio):
    created = booked(receptionist, studio)
    later = list(created.bookings.order_by("start"))[1:]

    response = api_as(receptionist).post(
        f"{SERIES}/{created.pk}/cancel", {"from": "2030-01-21", "reason": "Summer break"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["cancelled"] == [booking.pk for booking in later]
    assert [booking["state"] for booking in body["series"]["bookings"]] == ["pending", "cancelled", "cancelled"]


def test_cancelling_a_series_without_a_reason_answers_400(receptionist, studio):
    created = booked(receptionist, studio)

    response = api_as(receptionist).post(f"{SERIES}/{created.pk}/cancel", {})

    assert response.status_code == 400
    assert "reason" in error(response)["details"]


def test_cancelling_a_series_with_nothing_left_answers_409_booking_closed(receptionist, studio):
    created = booked(receptionist, studio, count=1)
    Booking.objects.update(state=BookingState.COMPLETED)

    response = api_as(receptionist).post(f"{SERIES}/{created.pk}/cancel", {"reason": "Ill"})

    assert (response.status_code, error(response)["code"]) == (409, "booking_closed")


def test_photographer_cannot_cancel_a_series(receptionist, photographer, studio):
    created = booked(receptionist, studio)

    response = api_as(photographer).post(f"{SERIES}/{created.pk}/cancel", {"reason": "No"})

    assert response.status_code == 403


def test_moving_a_series_answers_the_moved_bookings(receptionist, studio):
    created = booked(receptionist, studio)

    response = api_as(receptionist).post(f"{SERIES}/{created.pk}/move", {"start_time": "14:00", "end_time": "15:00"})

    assert response.status_code == 200
    body = response.json()
    assert len(body["moved"]) == 3
    assert [booking["start_time"][11:16] for booking in body["series"]["bookings"]] == ["14:00"] * 3


def test_moving_a_series_to_where_it_already_is_moves_and_records_nothing(receptionist, studio):
    created = booked(receptionist, studio)

    response = api_as(receptionist).post(
        f"{SERIES}/{created.pk}/move", {"space_type": studio.slug, "start_time": "10:00", "end_time": "12:00"}
    )

    assert response.status_code == 200
    assert response.json()["moved"] == []
    assert not Event.objects.filter(type__in=["booking.series_moved", "booking.rescheduled"]).exists()


def test_a_move_into_a_taken_slot_answers_409_series_conflict(receptionist, studio):
    created = booked(receptionist, studio)
    BookingFactory(space=studio, start=local_instant(MONDAY_10_UTC.date() + timedelta(weeks=2, days=1), "10:00"))

    response = api_as(receptionist).post(f"{SERIES}/{created.pk}/move", {"shift_days": 1})

    assert response.status_code == 409
    assert [entry["date"] for entry in error(response)["details"]["conflicts"]] == ["2030-01-28"]


def test_a_move_past_the_calendar_answers_400_and_moves_nothing(receptionist, studio):
    first = MONDAY_10_UTC.replace(year=2099, month=12, day=14)  # dates to Mon 28 Dec 2099
    created = booked(receptionist, studio, start=first)

    response = api_as(receptionist).post(f"{SERIES}/{created.pk}/move", {"shift_days": 4})

    assert (response.status_code, error(response)["code"]) == (400, "validation_failed")
    assert error(response)["details"]["shift_days"] == [
        "2099-12-28 would move to 2100-01-01, outside the calendar (2000-01-01 to 2099-12-31)."
    ]
    starts = Booking.objects.order_by("start").values_list("start", flat=True)
    assert list(starts) == [first + timedelta(weeks=week) for week in range(3)]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"start_time": "14:00"}, "end_time"), ({"shift_days": 7}, "shift_days"), ({"colour": "red"}, "colour")],
)
def test_a_bad_move_answers_400_naming_the_field(receptionist, studio, body, field):
    created = booked(receptionist, studio)

    response = api_as(receptionist).post(f"{SERIES}/{created.pk}/move", body)

    assert response.status_code == 400
    assert field in error(response)["details"]


def test_a_retried_series_with_the_same_idempotency_key_is_booked_once(receptionist, studio):
    api = api_as(receptionist)

    first = api.post(SERIES, series_body(studio), HTTP_IDEMPOTENCY_KEY="series-1")
    again = api.post(SERIES, series_body(studio), HTTP_IDEMPOTENCY_KEY="series-1")

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert BookingSeries.objects.count() == 1


@pytest.mark.parametrize("role", ["admin", "manager", "receptionist"])
def test_the_front_desk_and_managers_may_book_cancel_and_move_a_series(role, studio):
    api = api_as(EmployeeFactory(role=role))
    created = api.post(SERIES, series_body(studio)).json()["series"]

    moved = api.post(f"{SERIES}/{created['id']}/move", {"shift_days": 1})
    cancelled = api.post(f"{SERIES}/{created['id']}/cancel", {"reason": "Closing down"})

    assert (moved.status_code, cancelled.status_code) == (200, 200)


def test_a_move_to_a_time_the_clocks_skip_on_a_date_answers_400_and_moves_nothing(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go forward from 02:00 to 03:00 on Sunday 31 March 2030
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    created = booked(receptionist, night, count=2, start=local_instant(date(2030, 3, 24), "10:00"))

    response = api_as(receptionist).post(f"{SERIES}/{created.pk}/move", {"start_time": "02:30", "end_time": "03:30"})

    assert (response.status_code, error(response)["code"]) == (400, "validation_failed")
    assert error(response)["details"] == {
        "start_time": [
            "02:30 does not exist on Sun 31 Mar 2030: the clocks go forward from 02:00 to 03:00 that night. "
            "Choose a time before 02:00 or from 03:00 on."
        ]
    }
    assert set(Booking.objects.values_list("start", flat=True)) == {
        local_instant(date(2030, 3, 24), "10:00"),
        local_instant(date(2030, 3, 31), "10:00"),
    }


def test_a_move_to_a_time_the_clocks_repeat_on_a_date_answers_400_with_its_moments_and_takes_the_one_sent(
    receptionist, settings
):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go back from 03:00 to 02:00 on Sunday 27 October 2030
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    created = booked(receptionist, night, count=2, start=local_instant(date(2030, 10, 20), "10:00"))
    api, url = api_as(receptionist), f"{SERIES}/{created.pk}/move"

    asked = api.post(url, {"start_time": "02:30", "end_time": "03:30"})
    moments = error(asked)["details"]["repeated_time"]
    moved = api.post(url, {"start_time": "02:30", "end_time": "03:30", "exact_times": [moments["start"][1]]})

    assert (asked.status_code, error(asked)["code"]) == (400, "validation_failed")
    assert error(asked)["details"]["start_time"][0].startswith("02:30 happens twice on Sun 27 Oct 2030")
    assert moments == {
        "date": "2030-10-27",
        "start": ["2030-10-27T00:30:00+00:00", "2030-10-27T01:30:00+00:00"],
        "end": ["2030-10-27T02:30:00+00:00"],
    }
    assert moved.status_code == 200
    assert [booking["start_time"] for booking in moved.json()["series"]["bookings"]] == [
        "2030-10-20T00:30:00Z",
        "2030-10-27T01:30:00Z",
    ]
