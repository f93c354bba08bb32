"""Recurring series on the staff pages: the booking form's Repeat, the booking page's series card
and cancelling a series' dates from it."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from bookings import series
from bookings.models import Booking, BookingSeries, BookingState, local_instant
from bookings.tests.factories import BookingFactory, SpaceFactory
from events.models import Event

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)
NOW = datetime(2030, 1, 14, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def booking_form(space, **overrides):
    return {
        "client_phone": "+14155550199",
        "client_name": "Nina Novak",
        "client_email": "",
        "space": space.slug,
        "date": "2030-01-14",
        "start_time": "10:00",
        "end_time": "12:00",
        "people_count": "2",
        "photographer": "",
        "notes": "",
        "repeat_every_weeks": "1",
        "repeat_count": "3",
        "repeat_until": "",
        **overrides,
    }


def page(response) -> str:
    return response.content.decode()


def weekly(actor, space, count=3):
    start = local_instant(MONDAY, "10:00")
    return series.create_series(
        actor=actor,
        space=space,
        start=start,
        end=start + timedelta(hours=2),
        people_count=2,
        interval_weeks=1,
        count=count,
        client_name="Nina Novak",
        client_phone="+14155550199",
    )


def test_the_booking_form_offers_to_repeat(desk):
    content = page(desk.get("/bookings/new/"))

    assert "<legend>Repeat</legend>" in content
    assert 'name="repeat_every_weeks"' in content


def test_a_repeated_booking_books_the_series_and_opens_its_first_date(desk, studio):
    response = desk.post("/bookings/new/", booking_form(studio), follow=True)

    created = BookingSeries.objects.get()
    first = created.bookings.order_by("start").first()
    assert response.redirect_chain[-1][0] == f"/bookings/{first.pk}/"
    assert created.bookings.count() == 3
    assert f"Series #{created.pk}: 3 bookings are saved as pending." in page(response)


def test_a_form_without_repeat_books_one_booking(desk, studio):
    desk.post("/bookings/new/", booking_form(studio, repeat_every_weeks="", repeat_count=""))

    assert Booking.objects.count() == 1
    assert not BookingSeries.objects.exists()


def test_a_repeat_needs_a_count_or_a_last_day(desk, studio):
    response = desk.post("/bookings/new/", booking_form(studio, repeat_count=""))

    assert response.status_code == 400
    assert "Give the number of dates or the last day" in page(response)
    assert not Booking.objects.exists()


def test_a_repeat_past_52_dates_is_refused_on_its_field(desk, studio):
    response = desk.post("/bookings/new/", booking_form(studio, repeat_count="", repeat_until="2031-06-01"))

    assert response.status_code == 400
    assert "at most 52 dates" in page(response)


def test_taken_dates_are_listed_and_the_free_ones_can_be_booked(desk, studio):
    BookingFactory(space=studio, start=local_instant(MONDAY + timedelta(weeks=1), "11:00"))

    refused = desk.post("/bookings/new/", booking_form(studio))

    assert refused.status_code == 400
    assert 'data-testid="series-conflicts"' in page(refused)
    assert "Mon 21 Jan 2030" in page(refused)
    assert "Book the free dates only" in page(refused)
    assert not BookingSeries.objects.exists()

    desk.post("/bookings/new/", booking_form(studio, repeat_free_dates_only="on"))

    assert BookingSeries.objects.get().bookings.count() == 2


def test_a_date_whose_clock_skips_the_time_is_listed_and_the_others_can_be_booked(desk, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go forward from 02:00 to 03:00 on Sunday 31 March 2030
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    typed = booking_form(night, date="2030-03-24", start_time="02:30", end_time="03:30")

    refused = desk.post("/bookings/new/", typed)

    assert refused.status_code == 400
    assert 'data-testid="series-conflicts"' in page(refused)
    assert "<strong>Sun 31 Mar 2030</strong>: 02:30 does not exist on Sun 31 Mar 2030" in page(refused)
    assert "Book the free dates only" in page(refused)
    assert not BookingSeries.objects.exists()

    booked = desk.post("/bookings/new/", {**typed, "repeat_free_dates_only": "on"}, follow=True)

    assert BookingSeries.objects.get().bookings.count() == 2
    assert "Not booked, as the clocks skip that time that night: Sun 31 Mar 2030." in page(booked)


def test_a_later_date_whose_clock_shows_the_time_twice_asks_which_and_books_the_one_chosen(desk, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go back from 03:00 to 02:00 on Sunday 27 October 2030
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    typed = booking_form(night, date="2030-10-20", start_time="02:30", end_time="03:30", repeat_count="2")

    asking = desk.post("/bookings/new/", typed)

    assert asking.status_code == 400
    assert "02:30 happens twice on Sun 27 Oct 2030" in page(asking)
    choices = asking.context["form"].repeated_choices
    assert [choice.label for choice in choices] == ["02:30 CEST (first)", "02:30 CET (second)"]
    assert all(f'value="{choice.value}">{choice.label}</button>' in page(asking) for choice in choices)
    assert not BookingSeries.objects.exists()

    desk.post("/bookings/new/", {**typed, "alternative": choices[1].value})

    assert [booking.start for booking in BookingSeries.objects.get().bookings.order_by("start")] == [
        datetime(2030, 10, 20, 0, 30, tzinfo=UTC),
        datetime(2030, 10, 27, 1, 30, tzinfo=UTC),
    ]


def test_a_moment_chosen_for_a_later_date_is_kept_while_the_form_asks_about_another_thing(desk, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go back from 03:00 to 02:00 on Sunday 27 October 2030
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    BookingFactory(space=night, start=local_instant(date(2030, 11, 3), "02:00"))
    typed = booking_form(night, date="2030-10-20", start_time="02:30", end_time="03:30", repeat_count="3")
    second = datetime(2030, 10, 27, 1, 30, tzinfo=UTC)

    refused = desk.post(
        "/bookings/new/", {**typed, "alternative": f"{second.isoformat()} {(second + timedelta(hours=1)).isoformat()}"}
    )

    assert "Book the free dates only" in page(refused)
    assert f'name="exact_times" value="{second.isoformat()}' in page(refused)
    desk.post("/bookings/new/", {**typed, "exact_times": second.isoformat(), "repeat_free_dates_only": "on"})

    assert [booking.start for booking in BookingSeries.objects.get().bookings.order_by("start")] == [
        datetime(2030, 10, 20, 0, 30, tzinfo=UTC),
        second,
    ]


def test_a_booking_of_a_series_shows_its_dates_with_links(desk, receptionist, studio):
    booked = weekly(receptionist, studio)
    first, second, third = booked.bookings

    content = page(desk.get(f"/bookings/{second.pk}/"))

    assert "Part of a series" in content
    assert f'href="/bookings/{first.pk}/"' in content
    assert f'href="/bookings/{third.pk}/"' in content
    assert "(this booking)" in content


def test_a_single_booking_shows_no_series(desk, studio):
    booking = BookingFactory(space=studio)

    assert "Part of a series" not in page(desk.get(f"/bookings/{booking.pk}/"))


def test_cancelling_from_a_booking_cancels_it_and_the_later_dates(desk, receptionist, studio):
    booked = weekly(receptionist, studio)
    second = booked.bookings[1]

    response = desk.post(
        f"/bookings/series/{booked.series.pk}/cancel/",
        {"booking": second.pk, "from_day": "2030-01-21", "scope": "from", "reason": "Moving away"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"/bookings/{second.pk}/"
    assert list(Booking.objects.order_by("start").values_list("state", flat=True)) == [
        BookingState.PENDING,
        BookingState.CANCELLED,
        BookingState.CANCELLED,
    ]
    assert "2 bookings are cancelled" in page(response)
    assert Event.objects.filter(type="booking.series_cancelled").count() == 1


def test_cancelling_the_whole_series_from_the_page(desk, receptionist, studio):
    booked = weekly(receptionist, studio)

    desk.post(
        f"/bookings/series/{booked.series.pk}/cancel/",
        {"booking": booked.bookings[2].pk, "from_day": "2030-01-28", "scope": "all", "reason": "Moving away"},
    )

    assert set(Booking.objects.values_list("state", flat=True)) == {BookingState.CANCELLED}


def test_cancelling_a_series_without_a_reason_says_so_and_changes_nothing(desk, receptionist, studio):
    booked = weekly(receptionist, studio)

    response = desk.post(
        f"/bookings/series/{booked.series.pk}/cancel/",
        {"booking": booked.bookings[0].pk, "from_day": "2030-01-14", "scope": "all", "reason": ""},
        follow=True,
    )

    assert "Give a reason for cancelling." in page(response)
    assert set(Booking.objects.values_list("state", flat=True)) == {BookingState.PENDING}


def test_a_series_whose_bookings_were_all_deleted_is_not_found(desk, receptionist, studio):
    booked = weekly(receptionist, studio)
    Booking.objects.all().delete()

    response = desk.post(
        f"/bookings/series/{booked.series.pk}/cancel/",
        {"booking": booked.bookings[0].pk, "from_day": "2030-01-14", "scope": "all", "reason": "Gone"},
    )

    assert response.status_code == 404


def test_photographer_cannot_cancel_a_series(camera, receptionist, studio):
    booked = weekly(receptionist, studio)

    response = camera.post(
        f"/bookings/series/{booked.series.pk}/cancel/",
        {"booking": booked.bookings[0].pk, "from_day": "2030-01-14", "scope": "all", "reason": "No"},
    )

    assert response.status_code == 403
    assert set(Booking.objects.values_list("state", flat=True)) == {BookingState.PENDING}


def test_moving_from_a_booking_moves_it_and_the_later_dates_to_another_day_and_time(desk, receptionist, studio):
    booked = weekly(receptionist, studio)
    second = booked.bookings[1]

    response = desk.post(
        f"/bookings/series/{booked.series.pk}/move/",
        {
            "booking": second.pk,
            "from_day": "2030-01-21",
            "scope": "from",
            "start_time": "14:00",
            "end_time": "15:00",
            "weekday": "2",
            "space": "",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"/bookings/{second.pk}/"
    assert "2 bookings are moved" in page(response)
    assert [booking.start for booking in Booking.objects.order_by("start")] == [
        local_instant(MONDAY, "10:00"),
        local_instant(MONDAY + timedelta(weeks=1, days=2), "14:00"),
        local_instant(MONDAY + timedelta(weeks=2, days=2), "14:00"),
    ]


def test_a_move_into_a_taken_slot_lists_the_dates_and_moves_nothing(desk, receptionist, studio):
    booked = weekly(receptionist, studio)
    BookingFactory(space=studio, start=local_instant(MONDAY + timedelta(weeks=2), "14:00"))

    response = desk.post(
        f"/bookings/series/{booked.series.pk}/move/",
        {
            "booking": booked.bookings[0].pk,
            "from_day": "2030-01-14",
            "scope": "all",
            "start_time": "14:00",
            "end_time": "15:00",
            "weekday": "",
            "space": "",
        },
    )

    assert response.status_code == 400
    assert 'data-testid="series-conflicts"' in page(response)
    assert "Mon 28 Jan 2030" in page(response)
    assert not Event.objects.filter(type="booking.series_moved").exists()


def test_a_move_with_only_a_start_time_asks_for_the_end(desk, receptionist, studio):
    booked = weekly(receptionist, studio)

    response = desk.post(
        f"/bookings/series/{booked.series.pk}/move/",
        {
            "booking": booked.bookings[0].pk,
            "from_day": "2030-01-14",
            "scope": "all",
            "start_time": "14:00",
            "end_time": "",
            "weekday": "",
            "space": "",
        },
    )

    assert response.status_code == 400
    assert "Give both the new start and end time" in page(response)


def test_a_move_to_a_time_the_clocks_repeat_on_a_date_asks_which_and_moves_to_the_one_chosen(
    desk, receptionist, settings
):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go back from 03:00 to 02:00 on Sunday 27 October 2030
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    start = local_instant(date(2030, 10, 20), "10:00")
    booked = series.create_series(
        actor=receptionist, space=night, start=start, end=start + timedelta(hours=1), people_count=2,
        interval_weeks=1, count=2, client_name="Nina Novak", client_phone="+14155550199",
    )  # fmt: skip
    typed = {
        "booking": booked.bookings[0].pk,
        "from_day": "2030-10-20",
        "scope": "all",
        "start_time": "02:30",
        "end_time": "03:30",
        "weekday": "",
        "space": "",
    }
    url = f"/bookings/series/{booked.series.pk}/move/"

    asking = desk.post(url, typed)

    assert asking.status_code == 400
    assert "02:30 happens twice on Sun 27 Oct 2030" in page(asking)
    choices = asking.context["series_move_form"].repeated_choices
    assert [choice.label for choice in choices] == ["02:30 CEST (first)", "02:30 CET (second)"]
    assert all(f'value="{choice.value}">{choice.label}</button>' in page(asking) for choice in choices)
    assert not Event.objects.filter(type="booking.series_moved").exists()

    moved = desk.post(url, {**typed, "alternative": choices[1].value})

    assert moved.status_code == 302
    assert [booking.start for booking in Booking.objects.order_by("start")] == [
        datetime(2030, 10, 20, 0, 30, tzinfo=UTC),
        datetime(2030, 10, 27, 1, 30, tzinfo=UTC),
    ]


def test_photographer_is_not_offered_the_series_actions(camera, receptionist, studio):
    booked = weekly(receptionist, studio)

    content = page(camera.get(f"/bookings/{booked.bookings[0].pk}/"))

    assert "Part of a series" in content
    assert "Move dates of this series" not in content
    assert "Cancel dates of this series" not in content


def test_series_dates_are_marked_in_the_calendar_and_the_booking_list(desk, receptionist, studio):
    weekly(receptionist, studio, count=2)
    single = BookingFactory(space=studio, start=local_instant(MONDAY, "15:00"))

    calendar = page(desk.get("/calendar/?date=2030-01-14"))
    listing = page(desk.get("/bookings/?date=2030-01-14"))

    for content in (calendar, listing):
        assert content.count('data-testid="series-mark"') == 1
        assert "One date of series #" in content
        assert f"/bookings/{single.pk}/" in content
