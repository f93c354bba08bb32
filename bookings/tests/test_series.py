"""Recurring series (bookings.series): booked, cancelled and moved as a whole or from a date on,
each date an ordinary booking under the single booking's rules."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings import series
from bookings.models import Booking, BookingSeries, BookingState, local_instant
from bookings.tests.factories import BookingFactory, BookingSeriesFactory, ClosureFactory, SpaceFactory
from events.models import Event
from photostudio.errors import BookingClosed, PermissionDenied, RepeatedTime, SeriesConflict, ValidationFailed

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)
CLIENT = {"client_name": "Ada Lovelace", "client_phone": "+14155550199"}

# On Sunday 27 October 2030 Berlin's clocks go back from 03:00 to 02:00: 02:30 comes twice, at
# 00:30 UTC (CEST, the first) and 01:30 UTC (CET, the second).
FIRST_HALF_PAST_TWO = datetime(2030, 10, 27, 0, 30, tzinfo=UTC)
SECOND_HALF_PAST_TWO = datetime(2030, 10, 27, 1, 30, tzinfo=UTC)


def book_series(actor, space, *, day=MONDAY, clock="10:00", hours=2, **rule):
    start = local_instant(day, clock)
    rule.setdefault("interval_weeks", 1)
    if "until" not in rule:
        rule.setdefault("count", 4)
    return series.create_series(
        actor=actor, space=space, start=start, end=start + timedelta(hours=hours), people_count=2, **CLIENT, **rule
    )


def days_of(bookings):
    return [local_start(booking).date() for booking in bookings]


def local_start(booking):
    return timezone.localtime(booking.start, timezone.get_default_timezone())


def weeks(count, step=1, first=MONDAY):
    return [first + timedelta(weeks=step * index) for index in range(count)]


# --- booking a series ---------------------------------------------------------------------------


def test_series_books_the_slot_every_n_weeks_for_a_count(receptionist, studio):
    booked = book_series(receptionist, studio, interval_weeks=2, count=3)

    assert days_of(booked.bookings) == weeks(3, step=2)
    assert all(booking.series == booked.series and booking.state == BookingState.PENDING for booking in booked.bookings)
    assert booked.left == []
    assert Booking.objects.filter(series=booked.series).count() == 3


def test_series_books_every_date_up_to_until(receptionist, studio):
    booked = book_series(receptionist, studio, until=MONDAY + timedelta(weeks=3, days=2))

    assert days_of(booked.bookings) == weeks(4)


def test_each_date_is_an_ordinary_booking_with_its_own_event_and_the_series_has_one_more(receptionist, studio):
    booked = book_series(receptionist, studio, count=2)

    created = Event.objects.filter(type="booking.created").order_by("id")
    assert [event.aggregate_id for event in created] == [str(booking.pk) for booking in booked.bookings]
    assert all(event.payload["series"] == booked.series.pk for event in created)
    event = Event.objects.get(type="booking.series_created")
    assert (event.aggregate_type, event.aggregate_id, event.actor) == (
        "bookings.bookingseries",
        str(booked.series.pk),
        receptionist,
    )
    assert event.payload == {
        "space": "test_studio",
        "client": booked.series.client_id,
        "starts_on": "2030-01-14",
        "interval_weeks": 1,
        "count": 2,
        "until": None,
        "bookings": [booking.pk for booking in booked.bookings],
        "skipped": [],
    }


def test_dates_keep_their_wall_clock_time_across_a_dst_change(receptionist, studio, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go forward on Sunday 31 March 2030
    booked = book_series(receptionist, studio, day=date(2030, 3, 25), count=2)

    assert [local_start(booking).strftime("%Y-%m-%d %H:%M") for booking in booked.bookings] == [
        "2030-03-25 10:00",
        "2030-04-01 10:00",
    ]
    assert [booking.start for booking in booked.bookings] == [
        datetime(2030, 3, 25, 9, 0, tzinfo=UTC),
        datetime(2030, 4, 1, 8, 0, tzinfo=UTC),
    ]
    assert all(booking.duration == timedelta(hours=2) for booking in booked.bookings)


def test_a_later_date_whose_clock_shows_the_series_time_twice_refuses_the_series_asking_which(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})

    with pytest.raises(RepeatedTime) as asked:
        book_series(receptionist, night, day=date(2030, 10, 20), clock="02:30", hours=1, count=3)

    assert asked.value.details == {
        "start": [
            "02:30 happens twice on Sun 27 Oct 2030, as 02:30 CEST (first) and 02:30 CET (second): "
            "the clocks go back from 03:00 to 02:00 that night."
        ],
        "repeated_time": {
            "date": "2030-10-27",
            "start": [FIRST_HALF_PAST_TWO.isoformat(), SECOND_HALF_PAST_TWO.isoformat()],
            "end": [datetime(2030, 10, 27, 2, 30, tzinfo=UTC).isoformat()],
        },
    }
    assert not Booking.objects.exists()
    assert not BookingSeries.objects.exists()


@pytest.mark.parametrize("chosen", [FIRST_HALF_PAST_TWO, SECOND_HALF_PAST_TWO], ids=["first", "second"])
def test_a_later_date_whose_clock_shows_the_series_time_twice_is_booked_at_the_moment_chosen(
    receptionist, settings, chosen
):
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})

    booked = book_series(
        receptionist, night, day=date(2030, 10, 20), clock="02:30", hours=1, count=3, exact_times=[chosen]
    )

    assert [booking.start for booking in booked.bookings] == [
        local_instant(date(2030, 10, 20), "02:30"),
        chosen,
        local_instant(date(2030, 11, 3), "02:30"),
    ]
    assert booked.bookings[1].end == datetime(2030, 10, 27, 2, 30, tzinfo=UTC)


def test_a_series_starting_at_the_second_of_two_equal_wall_clock_times_books_that_moment_first(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})

    booked = series.create_series(
        actor=receptionist, space=night, start=SECOND_HALF_PAST_TWO, end=SECOND_HALF_PAST_TWO + timedelta(hours=1),
        people_count=2, interval_weeks=1, count=2, **CLIENT,
    )  # fmt: skip

    assert [(booking.start, booking.end) for booking in booked.bookings] == [
        (SECOND_HALF_PAST_TWO, SECOND_HALF_PAST_TWO + timedelta(hours=1)),
        (local_instant(date(2030, 11, 3), "02:30"), local_instant(date(2030, 11, 3), "03:30")),
    ]


def test_a_taken_date_refuses_the_whole_series_listing_every_conflict(receptionist, studio):
    taken = [
        BookingFactory(space=studio, start=local_instant(day, "11:00"))
        for day in (MONDAY + timedelta(weeks=1), MONDAY + timedelta(weeks=3))
    ]

    with pytest.raises(SeriesConflict) as raised:
        book_series(receptionist, studio, count=4)

    conflicts = raised.value.details["conflicts"]
    assert [(entry["date"], entry["code"]) for entry in conflicts] == [
        ("2030-01-21", "booking_overlap"),
        ("2030-02-04", "booking_overlap"),
    ]
    assert f"booking #{taken[0].pk}" in conflicts[0]["message"]
    assert raised.value.code == "series_conflict"
    assert Booking.objects.filter(space=studio).count() == 2
    assert not BookingSeries.objects.exists()
    assert not Event.objects.exists()


def test_skip_conflicts_books_the_free_dates_and_answers_the_skipped_ones(receptionist, studio):
    BookingFactory(space=studio, start=local_instant(MONDAY + timedelta(weeks=1), "09:00"))

    booked = book_series(receptionist, studio, count=3, skip_conflicts=True)

    assert days_of(booked.bookings) == [MONDAY, MONDAY + timedelta(weeks=2)]
    assert [(refusal.day, refusal.code) for refusal in booked.left] == [
        (MONDAY + timedelta(weeks=1), "booking_overlap")
    ]
    event = Event.objects.get(type="booking.series_created")
    assert [entry["date"] for entry in event.payload["skipped"]] == ["2030-01-21"]


def test_skip_conflicts_with_no_free_date_books_nothing(receptionist, studio):
    BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"))

    with pytest.raises(SeriesConflict):
        book_series(receptionist, studio, count=1, skip_conflicts=True)

    assert not BookingSeries.objects.exists()


def test_a_date_in_a_closure_refuses_the_whole_series_as_space_closed(receptionist, studio):
    closure = ClosureFactory(
        space=None,
        start=local_instant(MONDAY + timedelta(weeks=2), "09:00"),
        end=local_instant(MONDAY + timedelta(weeks=2), "18:00"),
    )

    with pytest.raises(SeriesConflict) as raised:
        book_series(receptionist, studio, count=4)

    [conflict] = raised.value.details["conflicts"]
    assert (conflict["date"], conflict["code"]) == ("2030-01-28", "space_closed")
    assert f"closure #{closure.pk}" in conflict["message"]
    assert not Booking.objects.exists()


def test_skip_conflicts_skips_a_date_in_a_closure_and_books_the_others(receptionist, studio):
    ClosureFactory(
        space=studio,
        start=local_instant(MONDAY + timedelta(weeks=1), "11:00"),
        end=local_instant(MONDAY + timedelta(weeks=1), "13:00"),
    )

    booked = book_series(receptionist, studio, count=3, skip_conflicts=True)

    assert days_of(booked.bookings) == [MONDAY, MONDAY + timedelta(weeks=2)]
    assert [(refusal.day, refusal.code) for refusal in booked.left] == [(MONDAY + timedelta(weeks=1), "space_closed")]


SAVEPOINT_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def queries_to_refuse(actor, space, dates):
    for day in weeks(dates):
        BookingFactory(space=space, start=local_instant(day, "10:00"))
    with CaptureQueriesContext(connection) as queries, pytest.raises(SeriesConflict):
        book_series(actor, space, count=dates)
    return sum(not query["sql"].startswith(SAVEPOINT_STATEMENTS) for query in queries.captured_queries)


def test_a_taken_date_of_a_series_costs_a_few_queries_and_no_search_for_alternatives(receptionist, studio):
    # The closure check (with its share lock on PostgreSQL) and the overlap check (on PostgreSQL
    # the insert the exclusion constraint refuses, then the query naming the booking in the way):
    # the alternatives a single booking offers are not looked for on every date.
    two_dates = queries_to_refuse(receptionist, SpaceFactory(), 2)  # first: it also reads the client and permissions
    per_date = (queries_to_refuse(receptionist, studio, 6) - two_dates) / 4

    assert per_date <= (4 if connection.vendor == "postgresql" else 3)


def test_a_refusal_that_holds_on_every_date_is_a_validation_error(receptionist, studio):
    with pytest.raises(ValidationFailed) as raised:
        book_series(receptionist, studio, clock="21:00")

    assert "start" in raised.value.details
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"count": 53}, "count"),
        ({"until": MONDAY + timedelta(weeks=52)}, "until"),
        ({"until": MONDAY - timedelta(days=1)}, "until"),
        ({"interval_weeks": 0}, "interval_weeks"),
        ({"interval_weeks": 53}, "interval_weeks"),
        ({"interval_weeks": 52, "count": 3}, "count"),
        ({"interval_weeks": 26, "until": MONDAY + timedelta(weeks=78)}, "until"),
        ({"count": 2, "until": MONDAY + timedelta(weeks=2)}, "count"),
    ],
)
def test_a_series_is_bounded_to_52_dates_within_a_year_and_one_rule(receptionist, studio, rule, field):
    with pytest.raises(ValidationFailed) as raised:
        book_series(receptionist, studio, **rule)

    assert field in raised.value.details
    assert not Booking.objects.exists()


def test_52_weekly_dates_are_allowed(receptionist, studio):
    booked = book_series(receptionist, studio, until=MONDAY + timedelta(weeks=51))

    assert len(booked.bookings) == 52


def test_photographer_cannot_book_a_series(photographer, studio):
    with pytest.raises(PermissionDenied):
        book_series(photographer, studio)


# --- cancelling ---------------------------------------------------------------------------------


def test_cancelling_a_whole_series_cancels_every_open_booking_and_reports_the_others(receptionist, manager, studio):
    booked = book_series(receptionist, studio, count=3)
    first = booked.bookings[0]
    Booking.objects.filter(pk=first.pk).update(state=BookingState.COMPLETED)

    change = series.cancel_series(series=booked.series, actor=receptionist, reason="Client moved away")

    assert [booking.pk for booking in change.bookings] == [booking.pk for booking in booked.bookings[1:]]
    assert [(refusal.booking.pk, refusal.code) for refusal in change.left] == [(first.pk, "booking_closed")]
    states = dict(Booking.objects.values_list("pk", "state"))
    assert [states[booking.pk] for booking in booked.bookings] == ["completed", "cancelled", "cancelled"]
    reasons = Event.objects.filter(type="booking.state_changed").values_list("payload__reason", flat=True)
    assert list(reasons) == ["Client moved away"] * 2
    event = Event.objects.get(type="booking.series_cancelled")
    assert event.payload["cancelled"] == [booking.pk for booking in booked.bookings[1:]]
    assert event.payload["untouched"][0]["booking"] == first.pk


def test_cancelling_from_a_date_on_leaves_the_earlier_dates(receptionist, studio):
    booked = book_series(receptionist, studio, count=4)

    change = series.cancel_series(
        series=booked.series, actor=receptionist, reason="Summer break", from_day=MONDAY + timedelta(weeks=2)
    )

    assert days_of(change.bookings) == weeks(4)[2:]
    states = list(Booking.objects.order_by("start").values_list("state", flat=True))
    assert states == ["pending", "pending", "cancelled", "cancelled"]


def test_cancelling_from_a_day_includes_its_booking_at_midnight(receptionist):
    round_the_clock = SpaceFactory(
        opening_hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ["00:00", "24:00"])
    )
    booked = book_series(receptionist, round_the_clock, clock="00:00", count=3)

    change = series.cancel_series(
        series=booked.series, actor=receptionist, reason="Night shoots end", from_day=MONDAY + timedelta(weeks=1)
    )

    assert days_of(change.bookings) == weeks(3)[1:]


@pytest.mark.parametrize(
    "after_start", [timedelta(0), timedelta(minutes=30), timedelta(hours=3)], ids=["starting", "running", "over"]
)
def test_cancelling_or_moving_a_series_leaves_the_dates_that_have_begun(receptionist, studio, after_start):
    booked = book_series(receptionist, studio, count=3)
    first = booked.bookings[0]

    with time_machine.travel(first.start + after_start, tick=False):
        moved = series.move_series(series=booked.series, actor=receptionist, start_time=time(14), end_time=time(16))
        cancelled = series.cancel_series(series=booked.series, actor=receptionist, reason="Client moved away")

    assert [booking.pk for booking in moved.bookings] == [booking.pk for booking in booked.bookings[1:]]
    assert [booking.pk for booking in cancelled.bookings] == [booking.pk for booking in booked.bookings[1:]]
    assert [(refusal.booking.pk, refusal.code) for refusal in cancelled.left] == [(first.pk, "booking_closed")]
    first.refresh_from_db()
    assert (first.state, local_start(first).hour) == (BookingState.PENDING, 10)


def test_cancelling_a_series_needs_a_reason(receptionist, studio):
    booked = book_series(receptionist, studio, count=2)

    with pytest.raises(ValidationFailed) as raised:
        series.cancel_series(series=booked.series, actor=receptionist, reason="  ")

    assert "reason" in raised.value.details


def test_cancelling_a_series_with_nothing_left_is_refused(receptionist, studio):
    booked = book_series(receptionist, studio, count=2)
    series.cancel_series(series=booked.series, actor=receptionist, reason="Ill")

    with pytest.raises(BookingClosed):
        series.cancel_series(series=booked.series, actor=receptionist, reason="Again")


def test_photographer_cannot_cancel_a_series(receptionist, photographer, studio):
    booked = book_series(receptionist, studio, count=2)

    with pytest.raises(PermissionDenied):
        series.cancel_series(series=booked.series, actor=photographer, reason="No")


# --- moving -------------------------------------------------------------------------------------


def test_moving_a_series_to_new_times_moves_every_open_booking(receptionist, studio):
    booked = book_series(receptionist, studio, count=3)

    change = series.move_series(series=booked.series, actor=receptionist, start_time=time(14), end_time=time(15, 30))

    assert [local_start(booking).strftime("%H:%M") for booking in change.bookings] == ["14:00"] * 3
    assert all(booking.duration == timedelta(minutes=90) for booking in Booking.objects.all())
    assert Event.objects.filter(type="booking.rescheduled").count() == 3
    event = Event.objects.get(type="booking.series_moved")
    assert (event.payload["start_time"], event.payload["moved"]) == ("14:00", [b.pk for b in booked.bookings])


def test_moving_from_a_date_on_to_another_weekday_and_space(receptionist, studio):
    booked = book_series(receptionist, studio, count=3)
    other = SpaceFactory(slug="other")

    change = series.move_series(
        series=booked.series, actor=receptionist, from_day=MONDAY + timedelta(weeks=1), shift_days=1, space=other
    )

    assert days_of(change.bookings) == [MONDAY + timedelta(weeks=1, days=1), MONDAY + timedelta(weeks=2, days=1)]
    assert [booking.space for booking in Booking.objects.order_by("start")] == [studio, other, other]
    assert all(local_start(booking).strftime("%H:%M") == "10:00" for booking in change.bookings)


def test_moving_to_another_space_only_keeps_a_date_in_the_hour_a_dst_change_repeats(receptionist, settings):
    # On Sunday 27 October 2030 Berlin's clocks go back from 03:00 to 02:00: 02:30 comes twice.
    settings.TIME_ZONE = "Europe/Berlin"
    all_day = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ["00:00", "24:00"])
    space, other = SpaceFactory(opening_hours=all_day), SpaceFactory(opening_hours=all_day)
    rule = BookingSeriesFactory(space=space, starts_on=date(2030, 10, 27), count=1)
    second_half_past_two = datetime(2030, 10, 27, 1, 30, tzinfo=UTC)
    booking = BookingFactory(
        space=space, series=rule, start=second_half_past_two, end=second_half_past_two + timedelta(hours=2)
    )

    with time_machine.travel(datetime(2030, 10, 1, tzinfo=UTC)):
        series.move_series(series=rule, actor=receptionist, space=other)

    booking.refresh_from_db()
    assert (booking.space, booking.start) == (other, second_half_past_two)


@pytest.fixture
def sundays_before_the_clocks_go_back(receptionist, settings):
    """A weekly series of two Sundays, the second the night Berlin's clocks go back."""
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    return book_series(receptionist, night, day=date(2030, 10, 20), count=2)


def test_a_move_to_a_time_the_clocks_repeat_on_a_date_asks_which_and_moves_nothing(
    receptionist, sundays_before_the_clocks_go_back
):
    booked = sundays_before_the_clocks_go_back

    with pytest.raises(ValidationFailed) as asked:
        series.move_series(series=booked.series, actor=receptionist, start_time=time(2, 30), end_time=time(3, 30))

    assert asked.value.details == {
        "start_time": [
            "02:30 happens twice on Sun 27 Oct 2030, as 02:30 CEST (first) and 02:30 CET (second): "
            "the clocks go back from 03:00 to 02:00 that night."
        ],
        "repeated_time": {
            "date": "2030-10-27",
            "start": [FIRST_HALF_PAST_TWO.isoformat(), SECOND_HALF_PAST_TWO.isoformat()],
            "end": [datetime(2030, 10, 27, 2, 30, tzinfo=UTC).isoformat()],
        },
    }
    assert [local_start(booking).strftime("%H:%M") for booking in Booking.objects.all()] == ["10:00", "10:00"]
    assert not Event.objects.filter(type="booking.series_moved").exists()


@pytest.mark.parametrize("chosen", [FIRST_HALF_PAST_TWO, SECOND_HALF_PAST_TWO], ids=["first", "second"])
def test_a_move_to_a_time_the_clocks_repeat_lands_on_the_moment_chosen_for_that_date(
    receptionist, sundays_before_the_clocks_go_back, chosen
):
    booked = sundays_before_the_clocks_go_back

    series.move_series(
        series=booked.series, actor=receptionist, start_time=time(2, 30), end_time=time(3, 30), exact_times=[chosen]
    )

    assert [booking.start for booking in Booking.objects.order_by("start")] == [
        local_instant(date(2030, 10, 20), "02:30"),
        chosen,
    ]


@pytest.mark.parametrize(
    ("booked_on", "clock", "shift_days", "lands_at"),
    [
        (date(2030, 10, 26), "02:30", 1, (FIRST_HALF_PAST_TWO, datetime(2030, 10, 27, 2, 30, tzinfo=UTC))),
        (date(2030, 11, 2), "02:30", -6, (SECOND_HALF_PAST_TWO, datetime(2030, 10, 27, 2, 30, tzinfo=UTC))),
        (date(2030, 11, 2), "01:30", -6, (datetime(2030, 10, 26, 23, 30, tzinfo=UTC), SECOND_HALF_PAST_TWO)),
    ],
    ids=["summer-start-stays-the-first", "winter-start-stays-the-second", "winter-end-stays-the-second"],
)
def test_a_move_by_weekday_onto_the_night_the_clocks_go_back_keeps_each_times_utc_offset(
    receptionist, settings, booked_on, clock, shift_days, lands_at
):
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(opening_hours={"sat": ["00:00", "24:00"], "sun": ["00:00", "24:00"]})
    booked = book_series(receptionist, night, day=booked_on, clock=clock, hours=1, count=1)

    series.move_series(series=booked.series, actor=receptionist, shift_days=shift_days)

    moved = Booking.objects.get()
    assert (moved.start, moved.end) == lands_at


def test_moving_keeps_the_wall_clock_across_a_dst_change(receptionist, studio, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    booked = book_series(receptionist, studio, day=date(2030, 3, 25), count=2)

    series.move_series(series=booked.series, actor=receptionist, shift_days=2)

    assert [local_start(booking).strftime("%a %H:%M") for booking in Booking.objects.order_by("start")] == [
        "Wed 10:00",
        "Wed 10:00",
    ]


def test_a_move_into_a_taken_slot_moves_nothing_and_lists_every_conflict(receptionist, studio):
    booked = book_series(receptionist, studio, count=3)
    blocker = BookingFactory(space=studio, start=local_instant(MONDAY + timedelta(weeks=2), "15:00"))

    with pytest.raises(SeriesConflict) as raised:
        series.move_series(series=booked.series, actor=receptionist, start_time=time(14), end_time=time(16))

    assert [(entry["date"], entry["code"], entry["booking"]) for entry in raised.value.details["conflicts"]] == [
        ("2030-01-28", "booking_overlap", booked.bookings[2].pk)
    ]
    assert f"booking #{blocker.pk}" in raised.value.details["conflicts"][0]["message"]
    assert all(
        local_start(booking).strftime("%H:%M") == "10:00" for booking in Booking.objects.filter(series=booked.series)
    )
    assert not Event.objects.filter(type__in=["booking.rescheduled", "booking.series_moved"]).exists()


def test_a_move_leaves_bookings_that_can_no_longer_move(receptionist, studio):
    booked = book_series(receptionist, studio, count=2)
    series.cancel_series(series=booked.series, actor=receptionist, reason="Ill", from_day=MONDAY + timedelta(weeks=1))

    change = series.move_series(series=booked.series, actor=receptionist, shift_days=1)

    assert [booking.pk for booking in change.bookings] == [booked.bookings[0].pk]
    assert [(refusal.booking.pk, refusal.code) for refusal in change.left] == [
        (booked.bookings[1].pk, "booking_closed")
    ]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"start_time": time(11)}, "end_time"), ({}, "non_field_errors")],
)
def test_a_move_must_say_what_changes(receptionist, studio, arguments, field):
    booked = book_series(receptionist, studio, count=2)

    with pytest.raises(ValidationFailed) as raised:
        series.move_series(series=booked.series, actor=receptionist, **arguments)

    assert field in raised.value.details


def test_photographer_cannot_move_a_series(receptionist, photographer, studio):
    booked = book_series(receptionist, studio, count=2)

    with pytest.raises(PermissionDenied):
        series.move_series(series=booked.series, actor=photographer, shift_days=1)


def test_a_date_whose_clock_skips_the_series_time_refuses_the_series(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go forward from 02:00 to 03:00 on Sunday 31 March 2030
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})

    with pytest.raises(ValidationFailed) as refused:
        book_series(receptionist, night, day=date(2030, 3, 24), clock="02:30", hours=1, count=2)

    assert refused.value.details == {
        "start": [
            "02:30 does not exist on Sun 31 Mar 2030: the clocks go forward from 02:00 to 03:00 that night. "
            "Choose a time before 02:00 or from 03:00 on."
        ]
    }
    assert not Booking.objects.exists()


@pytest.mark.parametrize(("clock", "skipped"), [("02:30", "02:30"), ("01:30", "02:30")], ids=["start", "end"])
def test_skip_conflicts_leaves_a_date_whose_clock_skips_the_series_time(receptionist, settings, clock, skipped):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go forward from 02:00 to 03:00 on Sunday 31 March 2030
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})

    booked = book_series(receptionist, night, day=date(2030, 3, 24), clock=clock, hours=1, count=3, skip_conflicts=True)

    assert days_of(booked.bookings) == [date(2030, 3, 24), date(2030, 4, 7)]
    [left] = booked.left
    assert (left.day, left.code, left.booking) == (date(2030, 3, 31), "skipped_time", None)
    assert left.message.startswith(f"{skipped} does not exist on Sun 31 Mar 2030: the clocks go forward")
    event = Event.objects.get(type="booking.series_created")
    assert [(entry["date"], entry["code"]) for entry in event.payload["skipped"]] == [("2030-03-31", "skipped_time")]


def test_a_series_until_midnight_books_the_night_the_clocks_go_forward_at_midnight(receptionist, settings):
    settings.TIME_ZONE = "Atlantic/Azores"  # clocks go forward from 00:00 to 01:00 on Sunday 31 March 2030
    late = SpaceFactory(opening_hours={"sat": ["00:00", "24:00"]})

    booked = book_series(receptionist, late, day=date(2030, 3, 23), clock="22:00", hours=2, count=2)

    assert [(booking.start, booking.end) for booking in booked.bookings] == [
        (local_instant(day, "22:00"), local_instant(day, "24:00")) for day in (date(2030, 3, 23), date(2030, 3, 30))
    ]
