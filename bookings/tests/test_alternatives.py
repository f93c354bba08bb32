"""Conflict help: what a booking refused for an overlap is offered instead (``booking_alternatives``),
and the services' ``booking_overlap`` carrying it."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from bookings import selectors, services
from bookings.models import BookingState, Space, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, ClosureFactory, SpaceFactory
from photostudio.errors import BookingOverlap

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)
HALF_AN_HOUR = timedelta(minutes=30)


@pytest.fixture(autouse=True)
def frozen_clock():
    """The Friday before: every time of Monday is still to come."""
    with time_machine.travel(datetime(2030, 1, 11, 9, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def only_the_tests_spaces():
    """The spaces of a fresh install take no bookings here: only those a test makes."""
    Space.objects.update(is_active=False)


def at(clock, day=MONDAY):
    return local_instant(day, clock)


def clock(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def starts(space, start, end, *, people=2, limit=3, **kwargs) -> list[str]:
    found = selectors.booking_alternatives(
        space=space, start=at(start), end=at(end), people=people, limit=limit, **kwargs
    )
    duration = at(end) - at(start)
    assert all(choice.space == space and choice.end - choice.start == duration for choice in found.same_space)
    return [clock(choice.start) for choice in found.same_space]


def other_spaces(space, start, end, *, people=2, **kwargs) -> list[str]:
    found = selectors.booking_alternatives(space=space, start=at(start), end=at(end), people=people, **kwargs)
    assert all((choice.start, choice.end) == (at(start), at(end)) for choice in found.other_spaces)
    return [choice.space.name for choice in found.other_spaces]


# --- the same space, other times ----------------------------------------------------------------


def test_the_nearest_free_starts_follow_the_booking_in_the_way_and_its_buffer(studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))  # blocks until 12:15

    assert starts(studio, "11:00", "13:00") == ["12:15", "12:30", "12:45"]


def test_free_starts_on_both_sides_come_nearest_first_the_earlier_of_two_as_near(studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("11:00"))  # free before until 09:45, after from 11:15

    assert starts(studio, "10:00", "11:00", limit=4) == ["08:45", "11:15", "08:30", "11:30"]


def test_a_slot_edge_off_the_quarter_hour_is_offered_as_it_is():
    space = SpaceFactory(buffer_minutes=10)
    BookingFactory(space=space, start=at("10:00"), end=at("12:00"))  # blocks until 12:10

    assert starts(space, "11:00", "13:00") == ["12:10", "12:15", "12:30"]


def test_the_booking_must_end_by_closing_time_and_leave_the_next_booking_its_buffer(studio):
    BookingFactory(space=studio, start=at("18:00"), end=at("20:00"))  # after it, 20:15-22:00 is too short
    BookingFactory(space=studio, start=at("15:00"), end=at("15:30"))  # 15:45-17:45 between them, just enough

    assert starts(studio, "19:00", "21:00") == ["15:45", "12:45", "12:30"]


def test_nothing_is_offered_before_opening_time():
    space = SpaceFactory(opening_hours=dict.fromkeys(("mon",), ["09:00", "12:00"]))
    BookingFactory(space=space, start=at("09:30"), end=at("10:30"))  # free 10:45-12:00 only

    assert starts(space, "09:00", "10:00", limit=10) == ["10:45", "11:00"]


def test_no_start_in_the_past_is_offered(studio, frozen_clock):
    frozen_clock.move_to(at("09:05"))
    BookingFactory(space=studio, start=at("11:00"), end=at("12:00"))

    offered = starts(studio, "11:00", "12:00", limit=20)

    assert min(offered) == "09:15"
    assert offered[:4] == ["09:45", "12:15", "09:30", "12:30"]


def test_a_full_day_offers_no_other_time(studio):
    BookingFactory(space=studio, start=at("08:00"), end=at("20:00"))

    assert starts(studio, "10:00", "12:00") == []


def test_the_booking_being_moved_leaves_its_own_time_free(studio):
    moving = BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    BookingFactory(space=studio, start=at("14:00"), end=at("16:00"))

    assert starts(studio, "14:00", "16:00", exclude_booking=moving) == ["11:45", "16:15", "11:30"]
    assert starts(studio, "14:00", "16:00") == ["16:15", "16:30", "16:45"]


def test_released_bookings_hold_nothing(studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    BookingFactory(space=studio, start=at("12:00"), end=at("14:00"), state=BookingState.CANCELLED)

    assert starts(studio, "11:00", "13:00") == ["12:15", "12:30", "12:45"]


def test_no_start_is_offered_inside_a_closure_of_the_space(studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    ClosureFactory(space=studio, start=at("12:00"), end=at("18:00"))

    assert starts(studio, "11:00", "13:00") == ["18:00", "18:15", "18:30"]


# --- other spaces at the asked time -------------------------------------------------------------


def test_other_active_spaces_free_at_the_asked_time_and_large_enough_are_offered_by_name(studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    SpaceFactory(name="Loft", capacity=2)
    SpaceFactory(name="Attic", capacity=10)
    SpaceFactory(name="Booth", capacity=1)
    SpaceFactory(name="Cellar", is_active=False)
    SpaceFactory(name="Garden", opening_hours=dict.fromkeys(("mon",), ["12:00", "22:00"]))
    BookingFactory(space=SpaceFactory(name="Hall"), start=at("13:10"), end=at("14:00"))  # too close after

    assert other_spaces(studio, "11:00", "13:00", people=2) == ["Attic", "Loft"]


def test_another_space_s_own_buffer_keeps_it_from_being_offered_right_after_its_booking(studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    BookingFactory(space=SpaceFactory(name="Loft", buffer_minutes=30), start=at("09:00"), end=at("10:45"))
    BookingFactory(space=SpaceFactory(name="Attic", buffer_minutes=0), start=at("09:00"), end=at("11:00"))

    assert other_spaces(studio, "11:00", "13:00") == ["Attic"]


def test_a_space_closed_at_the_asked_time_is_not_offered_nor_any_when_the_whole_studio_is(studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    ClosureFactory(space=SpaceFactory(name="Loft"), start=at("12:30"), end=at("14:00"))
    SpaceFactory(name="Attic")

    assert other_spaces(studio, "11:00", "13:00") == ["Attic"]

    ClosureFactory(space=None, start=at("09:00"), end=at("11:30"))

    assert other_spaces(studio, "11:00", "13:00") == []
    assert starts(studio, "11:00", "13:00") == ["12:15", "12:30", "12:45"]


def test_at_most_limit_other_spaces_are_offered(studio):
    for name in ("Attic", "Booth", "Cellar", "Den"):
        SpaceFactory(name=name)

    found = selectors.booking_alternatives(space=studio, start=at("10:00"), end=at("12:00"), people=1, limit=2)

    assert [choice.space.name for choice in found.other_spaces] == ["Attic", "Booth"]


@pytest.fixture(params=[1, 20], ids=["1 space", "20 spaces"])
def spaces(request):
    return request.param


def test_alternatives_run_two_queries_however_many_spaces_and_bookings(spaces, django_assert_num_queries):
    asked = SpaceFactory(buffer_minutes=0)
    for n in range(spaces):
        closed = SpaceFactory()
        BookingFactory(space=closed, start=at("12:00"), end=at("13:00"))
        ClosureFactory(space=closed, start=at("14:00"), end=at("15:00"))
        BookingFactory(space=asked, start=at("08:00") + n * HALF_AN_HOUR, end=at("08:30") + n * HALF_AN_HOUR)

    with django_assert_num_queries(2):  # the other spaces, every space's bookings and closures of the day
        found = selectors.booking_alternatives(space=asked, start=at("08:00"), end=at("10:00"), people=2)

    assert len(found.other_spaces) == min(spaces, 3)
    assert found.same_space[0].start == at("08:00") + spaces * HALF_AN_HOUR


def test_the_details_give_times_in_utc_and_spaces_by_slug_and_name(studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    SpaceFactory(slug="attic", name="Attic")

    found = selectors.booking_alternatives(space=studio, start=at("11:00"), end=at("13:00"), people=2, limit=1)

    assert found.as_details() == {
        "same_space": [{"start": "2030-01-14T12:15:00+00:00", "end": "2030-01-14T14:15:00+00:00"}],
        "other_spaces": [
            {
                "space": "attic",
                "space_name": "Attic",
                "start": "2030-01-14T11:00:00+00:00",
                "end": "2030-01-14T13:00:00+00:00",
            }
        ],
    }


# --- the services' refusal ----------------------------------------------------------------------


def test_an_overlapping_new_booking_is_refused_with_the_alternatives(receptionist, studio):
    existing = BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    SpaceFactory(slug="attic", name="Attic")

    with pytest.raises(BookingOverlap) as refused:
        services.create_booking(
            actor=receptionist, space=studio, client=ClientFactory(), start=at("11:00"), end=at("13:00"), people_count=2
        )

    details = refused.value.details
    assert details["conflicting_booking"]["id"] == existing.pk
    assert [choice["start"] for choice in details["alternatives"]["same_space"]] == [
        "2030-01-14T12:15:00+00:00",
        "2030-01-14T12:30:00+00:00",
        "2030-01-14T12:45:00+00:00",
    ]
    assert [choice["space"] for choice in details["alternatives"]["other_spaces"]] == ["attic"]


def test_an_overlapping_reschedule_is_refused_with_alternatives_around_the_booking_s_own_time(receptionist, studio):
    moving = BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    BookingFactory(space=studio, start=at("14:00"), end=at("16:00"))

    with pytest.raises(BookingOverlap) as refused:
        services.reschedule_booking(booking=moving, actor=receptionist, start=at("14:00"), end=at("16:00"))

    assert [choice["start"] for choice in refused.value.details["alternatives"]["same_space"]] == [
        "2030-01-14T11:45:00+00:00",
        "2030-01-14T16:15:00+00:00",
        "2030-01-14T11:30:00+00:00",
    ]


def test_an_undo_into_a_taken_slot_offers_no_alternatives(manager, studio):
    cancelled = BookingFactory(
        space=studio, start=at("10:00"), state=BookingState.CANCELLED, previous_state=BookingState.PENDING
    )
    BookingFactory(space=studio, start=at("11:00"))

    with pytest.raises(BookingOverlap) as refused:
        services.transition_booking(
            booking=cancelled, target_state=BookingState.PENDING, actor=manager, reason="Cancelled by mistake"
        )

    assert "alternatives" not in refused.value.details


@pytest.mark.postgres
def test_when_the_exclusion_constraint_refuses_the_alternatives_leave_out_the_winner(receptionist, studio, monkeypatch):
    # As when a simultaneous booking committed after the overlap query ran: only the database sees it.
    monkeypatch.setattr(services, "_first_conflict", lambda booking: None)
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))

    with pytest.raises(BookingOverlap) as refused:
        services.create_booking(
            actor=receptionist, space=studio, client=ClientFactory(), start=at("11:00"), end=at("13:00"), people_count=2
        )

    assert refused.value.code == "booking_overlap"
    assert refused.value.details["alternatives"]["same_space"][0] == {
        "start": "2030-01-14T12:15:00+00:00",
        "end": "2030-01-14T14:15:00+00:00",
    }
