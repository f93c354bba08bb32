from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings import selectors, services
from bookings.models import BookingState, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, ClosureFactory, PhotographerFactory, SpaceFactory
from employees.tests.factories import EmployeeFactory
from events.services import publish
from photostudio.errors import NotFound

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)
ROUND_THE_CLOCK = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ["00:00", "24:00"])


def at(clock, day=MONDAY):
    return local_instant(day, clock)


def ids(bookings):
    return [booking.pk for booking in bookings]


def slots(space, day=MONDAY):
    return [
        (timezone.localtime(slot.start).strftime("%H:%M"), timezone.localtime(slot.end).strftime("%H:%M"))
        for slot in selectors.free_slots(space=space, day=day)
    ]


# --- the calendar of a day and a week -----------------------------------------------------------


def test_day_holds_the_bookings_of_that_day_in_start_order(receptionist):
    late = BookingFactory(start=at("16:00"))
    early = BookingFactory(start=at("09:00"))
    BookingFactory(start=at("10:00", MONDAY + timedelta(days=1)))
    BookingFactory(start=at("10:00", MONDAY - timedelta(days=1)))

    assert ids(selectors.bookings_for_day(viewer=receptionist, day=MONDAY)) == [early.pk, late.pk]


def test_booking_running_over_midnight_belongs_to_both_days(receptionist):
    booking = BookingFactory(start=at("23:00", MONDAY - timedelta(days=1)), end=at("01:00"))

    assert ids(selectors.bookings_for_day(viewer=receptionist, day=MONDAY)) == [booking.pk]
    assert ids(selectors.bookings_for_day(viewer=receptionist, day=MONDAY - timedelta(days=1))) == [booking.pk]


def test_day_is_the_studio_s_local_day_not_utc_s(receptionist, settings):
    settings.TIME_ZONE = "America/New_York"
    evening = BookingFactory(start=datetime(2030, 1, 15, 1, 0, tzinfo=UTC), end=datetime(2030, 1, 15, 2, 0, tzinfo=UTC))

    with timezone.override("America/New_York"):
        assert ids(selectors.bookings_for_day(viewer=receptionist, day=MONDAY)) == [evening.pk]  # 20:00 local
        assert selectors.bookings_for_day(viewer=receptionist, day=date(2030, 1, 15)) == []


def test_fall_back_day_lasts_25_hours_and_holds_all_of_them(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    day = date(2026, 10, 25)
    just_after_midnight = BookingFactory(start=datetime(2026, 10, 24, 22, 30, tzinfo=UTC))  # 00:30 CEST
    just_before_midnight = BookingFactory(
        start=datetime(2026, 10, 25, 22, 30, tzinfo=UTC), end=datetime(2026, 10, 25, 22, 59, tzinfo=UTC)
    )  # 23:30 CET
    BookingFactory(start=datetime(2026, 10, 25, 23, 0, tzinfo=UTC))  # 00:00 CET on the 26th

    start, end = selectors.day_bounds(day)

    assert end - start == timedelta(hours=25)
    assert ids(selectors.bookings_for_day(viewer=receptionist, day=day)) == [
        just_after_midnight.pk,
        just_before_midnight.pk,
    ]


def test_spring_forward_day_lasts_23_hours_and_holds_only_them(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    day = date(2026, 3, 29)
    first = BookingFactory(start=datetime(2026, 3, 28, 23, 0, tzinfo=UTC))  # 00:00 CET
    BookingFactory(start=datetime(2026, 3, 29, 22, 0, tzinfo=UTC))  # 00:00 CEST on the 30th
    BookingFactory(start=datetime(2026, 3, 28, 21, 0, tzinfo=UTC), end=datetime(2026, 3, 28, 23, 0, tzinfo=UTC))

    start, end = selectors.day_bounds(day)

    assert end - start == timedelta(hours=23)
    assert ids(selectors.bookings_for_day(viewer=receptionist, day=day)) == [first.pk]


def test_day_can_be_narrowed_to_a_space_a_photographer_a_client_and_states(receptionist, photographer, studio):
    client = ClientFactory()
    wanted = BookingFactory(space=studio, photographer=photographer, client=client, state=BookingState.CONFIRMED)
    BookingFactory(photographer=photographer, client=client, state=BookingState.CONFIRMED)
    BookingFactory(space=studio, start=at("13:00"), client=client, state=BookingState.CONFIRMED)
    BookingFactory(space=studio, start=at("16:00"), photographer=photographer, state=BookingState.CONFIRMED)
    BookingFactory(space=studio, start=at("19:00"), photographer=photographer, client=client)

    found = selectors.bookings_for_day(
        viewer=receptionist,
        day=MONDAY,
        space=studio,
        photographer=photographer,
        client=client,
        states=[BookingState.CONFIRMED, BookingState.IN_PROGRESS],
    )

    assert ids(found) == [wanted.pk]


def test_week_runs_from_monday_to_sunday_around_the_day(receptionist):
    sunday_before = BookingFactory(start=at("10:00", MONDAY - timedelta(days=1)))
    monday_morning = BookingFactory(start=at("00:00"))
    sunday_night = BookingFactory(
        start=at("22:00", MONDAY + timedelta(days=6)), end=at("23:59", MONDAY + timedelta(days=6))
    )
    next_monday = BookingFactory(start=at("00:00", MONDAY + timedelta(days=7)))

    found = ids(selectors.bookings_for_week(viewer=receptionist, day=MONDAY + timedelta(days=3)))

    assert found == [monday_morning.pk, sunday_night.pk]
    assert sunday_before.pk not in found
    assert next_monday.pk not in found


def test_viewer_without_permission_sees_no_bookings():
    BookingFactory()
    outsider = EmployeeFactory(is_active=False)

    assert selectors.bookings_for_day(viewer=outsider, day=MONDAY) == []


def test_booking_is_fetched_for_a_viewer_who_may_see_it(photographer):
    booking = BookingFactory()

    assert selectors.get_booking(viewer=photographer, pk=booking.pk) == booking


@pytest.mark.parametrize("viewer_may_see", [True, False])
def test_missing_or_hidden_booking_is_not_found(viewer_may_see):
    booking = BookingFactory()
    viewer = EmployeeFactory(is_active=viewer_may_see)
    pk = booking.pk + 1 if viewer_may_see else booking.pk

    with pytest.raises(NotFound):
        selectors.get_booking(viewer=viewer, pk=pk)


# --- free slots ---------------------------------------------------------------------------------


def test_empty_day_is_one_slot_of_the_opening_hours(studio):
    assert slots(studio) == [("08:00", "22:00")]


def test_booking_and_its_buffer_are_cut_out_with_room_for_a_buffer_before_it(studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))

    assert slots(studio) == [("08:00", "09:45"), ("12:15", "22:00")]


def test_free_slot_edges_are_exactly_bookable(receptionist, studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))
    (first_start, first_end), (second_start, _) = [
        (slot.start, slot.end) for slot in selectors.free_slots(space=studio, day=MONDAY)
    ]

    for start, end in [(first_start, first_end), (second_start, second_start + timedelta(hours=1))]:
        services.create_booking(
            actor=receptionist, space=studio, client=ClientFactory(), start=start, end=end, people_count=1
        )

    assert slots(studio) == [("13:30", "22:00")]


def test_released_bookings_leave_the_slot_free(studio):
    BookingFactory(space=studio, start=at("10:00"), state=BookingState.CANCELLED)
    BookingFactory(space=studio, start=at("14:00"), state=BookingState.NO_SHOW)

    assert slots(studio) == [("08:00", "22:00")]


def test_gap_shorter_than_the_minimum_booking_is_no_slot(studio, settings):
    settings.BOOKING_MIN_DURATION_MINUTES = 60
    BookingFactory(space=studio, start=at("08:00"), end=at("10:00"))  # blocks until 10:15
    BookingFactory(space=studio, start=at("11:29"), end=at("21:00"))  # a new one must end by 11:14

    assert slots(studio) == []


def test_gap_exactly_as_long_as_the_minimum_booking_is_a_slot(studio, settings):
    settings.BOOKING_MIN_DURATION_MINUTES = 60
    BookingFactory(space=studio, start=at("08:00"), end=at("10:00"))  # blocks until 10:15
    BookingFactory(space=studio, start=at("11:30"), end=at("20:45"))  # a new one must end by 11:15; blocks until 21:00

    assert slots(studio) == [("10:15", "11:15"), ("21:00", "22:00")]


def test_booking_kept_inside_a_later_closure_frees_nothing_before_the_closure_ends(studio):
    BookingFactory(space=studio, start=at("13:00"), end=at("14:00"))
    ClosureFactory(space=studio, start=at("12:00"), end=at("16:00"))

    assert slots(studio) == [("08:00", "11:45"), ("16:00", "22:00")]


def test_booking_of_the_next_morning_takes_room_from_a_round_the_clock_evening():
    space = SpaceFactory(opening_hours=ROUND_THE_CLOCK, buffer_minutes=30)
    BookingFactory(space=space, start=at("00:00", MONDAY + timedelta(days=1)))

    assert slots(space)[-1] == ("00:00", "23:30")


def test_closed_or_inactive_space_has_no_slots():
    closed = SpaceFactory(opening_hours={"tue": ["08:00", "22:00"]})
    inactive = SpaceFactory(is_active=False)

    assert (slots(closed), slots(inactive)) == ([], [])


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_free_time_of_a_dst_day_is_as_long_as_the_day(settings, day, hours):
    settings.TIME_ZONE = "Europe/Berlin"
    space = SpaceFactory(opening_hours=ROUND_THE_CLOCK)

    (slot,) = selectors.free_slots(space=space, day=day)

    assert slot.duration == timedelta(hours=hours)


# --- client history -----------------------------------------------------------------------------


def test_client_history_lists_bookings_newest_first_with_totals(receptionist):
    client = ClientFactory()
    space = SpaceFactory(hourly_rate=Decimal("50.00"))
    states = [BookingState.COMPLETED, BookingState.COMPLETED, BookingState.NO_SHOW, BookingState.CANCELLED]
    booked = [
        BookingFactory(client=client, space=space, state=state, start=at("10:00", MONDAY + timedelta(days=n)))
        for n, state in enumerate([*states, BookingState.PENDING])
    ]
    BookingFactory(state=BookingState.COMPLETED)

    history = selectors.client_history(viewer=receptionist, client=client)

    assert ids(history.bookings) == [booking.pk for booking in reversed(booked)]
    assert (history.total_bookings, history.completed, history.no_shows, history.cancelled) == (5, 2, 1, 1)
    assert history.spend == Decimal("200.00")


def test_new_client_has_an_empty_history(receptionist):
    history = selectors.client_history(viewer=receptionist, client=ClientFactory())

    assert (history.bookings, history.total_bookings, history.spend) == ([], 0, Decimal("0.00"))


# --- booking history ----------------------------------------------------------------------------


def test_booking_history_is_what_the_services_recorded_oldest_first(receptionist, manager, studio):
    booking = services.create_booking(
        actor=receptionist, space=studio, client=ClientFactory(), start=at("10:00"), end=at("12:00"), people_count=2
    )
    services.transition_booking(booking=booking, target_state="confirmed", actor=receptionist, reason="Phoned")
    services.reschedule_booking(booking=booking, actor=manager, start=at("14:00"), end=at("16:00"))
    services.transition_booking(booking=booking, target_state="cancelled", actor=manager, reason="Ill")
    services.create_booking(
        actor=receptionist, space=studio, client=ClientFactory(), start=at("10:00"), end=at("12:00"), people_count=2
    )

    history = selectors.booking_history(booking=booking)

    assert [(event.type, event.actor) for event in history] == [
        ("booking.created", receptionist),
        ("booking.state_changed", receptionist),
        ("booking.rescheduled", manager),
        ("booking.state_changed", manager),
    ]
    assert history[-1].payload["reason"] == "Ill"


# --- query counts: the same whether one row or fifty --------------------------------------------


@pytest.fixture(params=[1, 50], ids=["1 row", "50 rows"])
def rows(request):
    return request.param


def test_day_and_week_calendars_run_a_fixed_number_of_queries(receptionist, rows, django_assert_max_num_queries):
    for _ in range(rows):
        BookingFactory(start=at("10:00"), photographer=PhotographerFactory())

    with django_assert_max_num_queries(3):  # the viewer's permissions (2), the bookings (1)
        day = selectors.bookings_for_day(viewer=receptionist, day=MONDAY)
        labels = [f"{b.space.name} {b.client.full_name} {b.photographer.full_name}" for b in day]
    with django_assert_max_num_queries(1):
        week = selectors.bookings_for_week(viewer=receptionist, day=MONDAY)
        labels += [f"{b.space.name} {b.client.full_name} {b.photographer.full_name}" for b in week]

    assert len(labels) == 2 * rows


def test_bookings_between_runs_one_query_once_permissions_are_known(admin, rows, django_assert_max_num_queries):
    for _ in range(rows):
        BookingFactory(start=at("10:00"))

    with django_assert_max_num_queries(1):
        found = selectors.bookings_between(viewer=admin, start=at("00:00"), end=at("24:00"))

    assert len(found) == rows


def test_free_slots_run_one_query(rows, django_assert_max_num_queries):
    space = SpaceFactory(opening_hours=ROUND_THE_CLOCK, buffer_minutes=0)
    for n in range(rows):
        BookingFactory(
            space=space, start=at("00:00") + timedelta(minutes=20 * n), end=at("00:15") + timedelta(minutes=20 * n)
        )

    with django_assert_max_num_queries(1):
        found = selectors.free_slots(space=space, day=MONDAY)

    assert found[-1].end == at("24:00")


def test_client_history_runs_a_fixed_number_of_queries(receptionist, rows, django_assert_max_num_queries):
    client = ClientFactory()
    for n in range(rows):
        BookingFactory(client=client, start=at("10:00", MONDAY + timedelta(days=n)), state=BookingState.COMPLETED)

    with django_assert_max_num_queries(4):  # permissions (2), totals (1), bookings (1)
        history = selectors.client_history(viewer=receptionist, client=client)
        labels = [f"{b.space.name} {b.client.full_name}" for b in history.bookings]

    assert (history.total_bookings, len(labels)) == (rows, rows)


def test_booking_history_runs_one_query(receptionist, rows, django_assert_max_num_queries):
    booking = BookingFactory()
    for n in range(rows):
        publish("booking.state_changed", booking, actor=receptionist, payload={"n": n})

    with django_assert_max_num_queries(1):
        actors = [event.actor.username for event in selectors.booking_history(booking=booking)]

    assert len(actors) == rows


def test_get_booking_runs_a_fixed_number_of_queries(receptionist, photographer, django_assert_max_num_queries):
    booking = BookingFactory(photographer=photographer)

    with django_assert_max_num_queries(3):
        found = selectors.get_booking(viewer=receptionist, pk=booking.pk)
        assert (found.space.name, found.client.full_name, found.photographer) == (
            booking.space.name,
            booking.client.full_name,
            photographer,
        )
