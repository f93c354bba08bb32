"""Conflict help on the booking forms: a refused overlap offers free times and spaces, one click each."""

import html
import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from bookings.models import Booking, Space, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, SpaceFactory
from events.models import Event

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2030, 1, 14, 9, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def only_the_tests_spaces():
    """The spaces of a fresh install take no bookings here: only those a test makes."""
    Space.objects.update(is_active=False)


def at(clock):
    return local_instant(MONDAY, clock)


def booking_form(space, **overrides):
    return {
        "client_phone": "+14155550199",
        "client_name": "Nina Novak",
        "client_email": "",
        "space": space.slug,
        "date": "2030-01-14",
        "start_time": "11:00",
        "end_time": "13:00",
        "people_count": "2",
        "photographer": "",
        "notes": "Bring the blue backdrop",
        **overrides,
    }


def choices(response) -> dict[str, list[tuple[str, str]]]:
    offered = response.context["form"].offered
    return {
        "same_space": [(choice.label, choice.value) for choice in offered.same_space],
        "other_spaces": [(choice.label, choice.value) for choice in offered.other_spaces],
    }


@pytest.fixture
def attic():
    return SpaceFactory(slug="attic", name="Attic")


def test_a_refused_booking_offers_the_nearest_free_times_and_the_free_spaces(desk, studio, attic):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))

    response = desk.post("/bookings/new/", booking_form(studio))

    assert response.status_code == 400
    assert choices(response) == {
        "same_space": [
            ("12:15–14:15", "test_studio 2030-01-14T12:15:00+00:00 2030-01-14T14:15:00+00:00"),
            ("12:30–14:30", "test_studio 2030-01-14T12:30:00+00:00 2030-01-14T14:30:00+00:00"),
            ("12:45–14:45", "test_studio 2030-01-14T12:45:00+00:00 2030-01-14T14:45:00+00:00"),
        ],
        "other_spaces": [("Attic", "attic 2030-01-14T11:00:00+00:00 2030-01-14T13:00:00+00:00")],
    }
    page = response.content.decode()
    assert "Free in Test Studio on Monday 14 January 2030, as long as asked:" in page
    assert "Free at 11:00–13:00 for 2 people:" in page
    assert (
        '<button type="submit" class="secondary" name="alternative" '
        'value="attic 2030-01-14T11:00:00+00:00 2030-01-14T13:00:00+00:00">' in page
    )
    assert 'href="#alternatives"' in page


def test_the_choices_come_after_the_save_button_so_enter_still_saves_what_was_typed(desk, studio, attic):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))

    page = desk.post("/bookings/new/", booking_form(studio)).content.decode()

    assert page.index("Save booking</button>") < page.index('name="alternative"')


def test_choosing_a_free_time_books_it_with_everything_else_as_typed(desk, studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))

    response = desk.post(
        "/bookings/new/",
        booking_form(studio, alternative="test_studio 2030-01-14T12:15:00+00:00 2030-01-14T14:15:00+00:00"),
    )

    booking = Booking.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{booking.pk}/"
    assert (booking.space, booking.start, booking.end) == (studio, at("12:15"), at("14:15"))
    assert (booking.client.full_name, booking.people_count, booking.notes) == (
        "Nina Novak",
        2,
        "Bring the blue backdrop",
    )


def test_choosing_another_space_books_it_at_the_asked_time(desk, studio, attic):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))

    desk.post(
        "/bookings/new/", booking_form(studio, alternative="attic 2030-01-14T11:00:00+00:00 2030-01-14T13:00:00+00:00")
    )

    booking = Booking.objects.latest("pk")
    assert (booking.space, booking.start, booking.end) == (attic, at("11:00"), at("13:00"))


def test_a_choice_taken_meanwhile_is_refused_with_fresh_choices(desk, studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    BookingFactory(space=studio, start=at("12:15"), end=at("13:00"))

    response = desk.post(
        "/bookings/new/",
        booking_form(studio, alternative="test_studio 2030-01-14T12:15:00+00:00 2030-01-14T14:15:00+00:00"),
    )

    assert response.status_code == 400
    assert [label for label, _ in choices(response)["same_space"]] == ["13:15–15:15", "13:30–15:30", "13:45–15:45"]
    assert Booking.objects.count() == 2


def test_an_unreadable_choice_leaves_the_form_as_typed(desk, studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))

    response = desk.post("/bookings/new/", booking_form(studio, alternative="12:15"))

    assert response.status_code == 400
    assert "already booked" in response.context["form"].errors["start_time"][0]


def test_a_full_day_says_that_nothing_else_is_free(desk, studio):
    BookingFactory(space=studio, start=at("08:00"), end=at("20:00"))

    response = desk.post("/bookings/new/", booking_form(studio))

    assert "Nothing else of this length is free in Test Studio that day" in response.content.decode()


def test_other_refusals_offer_no_choices(desk, studio):
    response = desk.post("/bookings/new/", booking_form(studio, people_count="7"))

    assert response.status_code == 400
    assert 'name="alternative"' not in response.content.decode()
    assert 'id="alternatives"' not in response.content.decode()


def test_a_refused_move_of_a_booking_offers_choices_and_one_click_moves_it(desk, studio, attic):
    moving = BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    BookingFactory(space=studio, start=at("14:00"), end=at("16:00"))
    url = f"/bookings/{moving.pk}/edit/"
    form = {
        "space": studio.slug,
        "date": "2030-01-14",
        "start_time": "14:00",
        "end_time": "16:00",
        "people_count": "2",
        "photographer": "",
        "notes": "",
        "initial-space": studio.slug,
        "initial-date": "2030-01-14",
        "initial-start_time": "10:00",
        "initial-end_time": "12:00",
        "initial-people_count": "2",
        "initial-photographer": "",
        "initial-notes": "",
    }

    refused = desk.post(url, form)
    moved = desk.post(url, {**form, "alternative": choices(refused)["same_space"][0][1]})

    assert refused.status_code == 400
    assert choices(refused) == {
        "same_space": [
            ("11:45–13:45", "test_studio 2030-01-14T11:45:00+00:00 2030-01-14T13:45:00+00:00"),
            ("16:15–18:15", "test_studio 2030-01-14T16:15:00+00:00 2030-01-14T18:15:00+00:00"),
            ("11:30–13:30", "test_studio 2030-01-14T11:30:00+00:00 2030-01-14T13:30:00+00:00"),
        ],
        "other_spaces": [("Attic", "attic 2030-01-14T14:00:00+00:00 2030-01-14T16:00:00+00:00")],
    }
    assert moved.status_code == 302
    moving.refresh_from_db()
    assert (moving.start, moving.end) == (at("11:45"), at("13:45"))
    assert Event.objects.filter(type="booking.rescheduled").count() == 1


# The night clocks go back in Berlin (Sunday 25 October 2026) the studio's wall clock shows 02:00-03:00
# twice: first in summer time (CEST, 00:00-01:00 UTC), then in winter time (CET, 01:00-02:00 UTC).
FALL_BACK_DAY = date(2026, 10, 25)


@pytest.fixture
def berlin_night_studio(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    space = SpaceFactory(slug="night", name="Night Studio", opening_hours={"sun": ["00:00", "24:00"]}, buffer_minutes=0)
    # Free only from 02:30 CET (01:30 UTC) to 03:30 CET, and again from 11:00 CET.
    BookingFactory(
        space=space, start=datetime(2026, 10, 24, 22, 0, tzinfo=UTC), end=datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    )
    BookingFactory(
        space=space, start=datetime(2026, 10, 25, 2, 30, tzinfo=UTC), end=datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
    )
    return space


def test_a_free_time_in_the_repeated_hour_is_booked_at_the_instant_offered(desk, berlin_night_studio):
    asked = {"date": "2026-10-25", "start_time": "00:30", "end_time": "01:30"}
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), tick=False):
        refused = desk.post("/bookings/new/", booking_form(berlin_night_studio, **asked))
        label, value = choices(refused)["same_space"][0]
        booked = desk.post("/bookings/new/", booking_form(berlin_night_studio, **asked, alternative=value))

    assert booked.status_code == 302
    booking = Booking.objects.latest("pk")
    assert (booking.start, booking.end) == (
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
    )
    assert label == "02:30 CET–03:30"  # not the 02:30 CEST an hour earlier


def edit_form(shown: dict, **typed) -> dict:
    """The edit page's form as it was shown (``shown``, with no photographer or notes), as sent
    with ``typed`` changed."""
    shown = {**shown, "photographer": "", "notes": ""}
    return {**shown, **{f"initial-{name}": value for name, value in shown.items()}, **typed}


def test_a_move_to_a_free_time_in_the_repeated_hour_lands_on_the_instant_offered(desk, berlin_night_studio):
    moving = BookingFactory(
        space=berlin_night_studio,
        start=datetime(2026, 10, 25, 11, 0, tzinfo=UTC),  # 12:00-13:00 CET
        end=datetime(2026, 10, 25, 12, 0, tzinfo=UTC),
    )
    shown = {"space": "night", "date": "2026-10-25", "start_time": "12:00", "end_time": "13:00", "people_count": "2"}
    form = edit_form(shown, start_time="00:30", end_time="01:30")
    url = f"/bookings/{moving.pk}/edit/"
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), tick=False):
        refused = desk.post(url, form)
        desk.post(url, {**form, "alternative": choices(refused)["same_space"][0][1]})

    moving.refresh_from_db()
    assert (moving.start, moving.end) == (
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
    )


@pytest.fixture
def booked_in_the_first_repeated_hour(settings):
    """02:15-02:45 CEST in the Night Studio, and its edit form as shown."""
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(slug="night", opening_hours={"sun": ["00:00", "24:00"]}, buffer_minutes=0)
    booking = BookingFactory(
        space=night, start=datetime(2026, 10, 25, 0, 15, tzinfo=UTC), end=datetime(2026, 10, 25, 0, 45, tzinfo=UTC)
    )
    shown = {"space": "night", "date": "2026-10-25", "start_time": "02:15", "end_time": "02:45", "people_count": "2"}
    form = edit_form(shown)
    return booking, form


def test_a_move_to_the_other_occurrence_of_the_times_shown_in_the_repeated_hour_lands_on_it(
    desk, booked_in_the_first_repeated_hour
):
    moving, form = booked_in_the_first_repeated_hour
    # 02:15-02:45 CET: the same times on the clock, an hour later.
    offered = "night 2026-10-25T01:15:00+00:00 2026-10-25T01:45:00+00:00"
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), tick=False):
        moved = desk.post(f"/bookings/{moving.pk}/edit/", {**form, "alternative": offered})

    assert moved.status_code == 302
    moving.refresh_from_db()
    assert (moving.start, moving.end) == (
        datetime(2026, 10, 25, 1, 15, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 45, tzinfo=UTC),
    )
    assert Event.objects.filter(type="booking.rescheduled").count() == 1


def test_choosing_the_times_the_booking_already_has_moves_nothing(desk, booked_in_the_first_repeated_hour):
    booking, form = booked_in_the_first_repeated_hour
    its_own = "night 2026-10-25T00:15:00+00:00 2026-10-25T00:45:00+00:00"
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), tick=False):
        response = desk.post(f"/bookings/{booking.pk}/edit/", {**form, "alternative": its_own})

    assert response.status_code == 302
    assert not Event.objects.filter(type="booking.rescheduled").exists()


# The two moments the wall clock shows 02:30 on FALL_BACK_DAY.
HALF_PAST_TWO_CEST = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
HALF_PAST_TWO_CET = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def repeated_choices(response) -> list[tuple[str, str]]:
    return [(choice.label, choice.value) for choice in response.context["form"].repeated_choices]


def test_a_start_typed_in_the_repeated_hour_asks_which_and_books_the_one_chosen(desk, berlin_night_studio):
    asked = {"date": "2026-10-25", "start_time": "02:30", "end_time": "03:30"}
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), tick=False):
        asking = desk.post("/bookings/new/", booking_form(berlin_night_studio, **asked))
        choices_offered = repeated_choices(asking)
        booked = desk.post(
            "/bookings/new/", booking_form(berlin_night_studio, **asked, alternative=choices_offered[1][1])
        )

    assert asking.status_code == 400
    assert asking.context["form"].errors["start_time"] == [
        "02:30 happens twice on Sun 25 Oct 2026, as 02:30 CEST (first) and 02:30 CET (second): "
        "the clocks go back from 03:00 to 02:00 that night."
    ]
    assert [label for label, _ in choices_offered] == ["02:30 CEST (first)", "02:30 CET (second)"]
    assert booked.status_code == 302
    booking = Booking.objects.latest("pk")
    assert (booking.start, booking.end) == (HALF_PAST_TWO_CET, datetime(2026, 10, 25, 2, 30, tzinfo=UTC))


def test_a_move_typed_into_the_repeated_hour_asks_which(desk, berlin_night_studio):
    moving = BookingFactory(
        space=berlin_night_studio,
        start=datetime(2026, 10, 25, 11, 0, tzinfo=UTC),  # 12:00-13:00 CET
        end=datetime(2026, 10, 25, 12, 0, tzinfo=UTC),
    )
    shown = {"space": "night", "date": "2026-10-25", "start_time": "12:00", "end_time": "13:00", "people_count": "2"}
    form = edit_form(shown, start_time="02:30", end_time="03:30")
    url = f"/bookings/{moving.pk}/edit/"
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), tick=False):
        asking = desk.post(url, form)
        desk.post(url, {**form, "alternative": repeated_choices(asking)[1][1]})

    assert "02:30 happens twice" in asking.context["form"].errors["start_time"][0]
    moving.refresh_from_db()
    assert (moving.start, moving.end) == (HALF_PAST_TWO_CET, datetime(2026, 10, 25, 2, 30, tzinfo=UTC))


def test_a_moment_chosen_in_the_repeated_hour_is_kept_when_the_form_comes_back_for_another_reason(
    desk, berlin_night_studio
):
    ClientFactory(full_name="Anna Known", phone="+14155550199")
    asked = {"date": "2026-10-25", "start_time": "02:30", "end_time": "03:30"}
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), tick=False):
        asking = desk.post("/bookings/new/", booking_form(berlin_night_studio, **asked))
        known_client = desk.post(
            "/bookings/new/", booking_form(berlin_night_studio, **asked, alternative=repeated_choices(asking)[1][1])
        )
        carried = known_client.context["form"].exact_times_value
        desk.post(
            "/bookings/new/",
            booking_form(berlin_night_studio, **asked, book_known_client="on", exact_times=carried),
        )

    assert known_client.status_code == 400
    assert f'name="exact_times" value="{carried}"' in known_client.content.decode()
    booking = Booking.objects.latest("pk")
    assert booking.start == HALF_PAST_TWO_CET


def test_a_free_cell_of_the_calendar_in_the_repeated_hour_books_its_own_moment(desk, berlin_night_studio):
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), tick=False):
        calendar = desk.get("/calendar/", {"date": "2026-10-25", "space": "night", "view": "day"})
        # The night studio is free at 02:30 CET only: its one cell at 02:30.
        [link] = re.findall(r'href="(/bookings/new/\?[^"]*start_time=02:30[^"]*)"', calendar.content.decode())
        opened = desk.get(html.unescape(link))
        form = opened.context["form"]
        desk.post(
            "/bookings/new/",
            booking_form(
                berlin_night_studio,
                date="2026-10-25",
                start_time=f"{form.initial['start_time']:%H:%M}",
                end_time=f"{form.initial['end_time']:%H:%M}",
                exact_times=form.exact_times_value,
            ),
        )

    booking = Booking.objects.latest("pk")
    assert (booking.start, booking.end) == (HALF_PAST_TWO_CET, datetime(2026, 10, 25, 2, 30, tzinfo=UTC))
