"""Where the calendar and the Today timeline place bookings, buffers and free time."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from bookings import timegrid
from bookings.models import BookingState, local_instant
from bookings.tests.factories import BookingFactory, SpaceFactory
from photostudio.dates import time_text

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)
EARLY = datetime(2030, 1, 1, tzinfo=UTC)  # "now" long before the days shown: every free cell is offered
BEFORE_2026 = datetime(2026, 1, 1, tzinfo=UTC)  # the same for the changes of clocks of 2026


def at(clock, day=MONDAY):
    return local_instant(day, clock)


def clock(instant):
    return timezone.localtime(instant).strftime("%H:%M")


def test_grid_runs_from_the_earliest_opening_to_the_latest_closing():
    early = SpaceFactory(opening_hours={"mon": ["07:30", "12:00"]})
    late = SpaceFactory(opening_hours={"mon": ["10:00", "20:15"]})

    grid = timegrid.day_grid(day=MONDAY, spaces=[early, late], bookings=[], now=EARLY)

    assert (grid.first_hour, grid.last_hour) == (7, 21)
    assert grid.hours[0] == ("07:00", 0.0)
    lane = grid.lanes[0]
    assert (lane.open_from, lane.open_until) == (round(100 * 30 / 840, 3), round(100 * 300 / 840, 3))


def test_booking_block_is_sized_by_its_time_and_followed_by_its_buffer(studio):
    booking = BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))

    (block,) = timegrid.day_grid(day=MONDAY, spaces=[studio], bookings=[booking], now=EARLY).lanes[0].blocks

    # 08:00-22:00 is 14 hours: 10:00 is 2/14 down, two hours are 2/14 long, 15 minutes 0.25/14.
    assert (block.offset, block.size, block.buffer) == (14.286, 14.286, 1.786)
    assert (block.track, block.tracks) == (0, 1)


def test_a_finished_booking_shows_no_buffer(studio):
    booking = BookingFactory(space=studio, start=at("10:00"), end=at("12:00"), state=BookingState.COMPLETED)

    (block,) = timegrid.day_grid(day=MONDAY, spaces=[studio], bookings=[booking], now=EARLY).lanes[0].blocks

    assert block.buffer == 0


def test_overlapping_bookings_share_the_lane_side_by_side(studio):
    no_show = BookingFactory(space=studio, start=at("10:00"), end=at("12:00"), state=BookingState.NO_SHOW)
    rebooked = BookingFactory(space=studio, start=at("11:00"), end=at("12:00"))
    later = BookingFactory(space=studio, start=at("15:00"), end=at("16:00"))

    blocks = timegrid.day_grid(day=MONDAY, spaces=[studio], bookings=[no_show, rebooked, later], now=EARLY)
    placed = {block.booking.pk: (block.track, block.tracks) for block in blocks.lanes[0].blocks}

    assert placed == {no_show.pk: (0, 2), rebooked.pk: (1, 2), later.pk: (0, 1)}


def test_cancelled_bookings_leave_the_lane(studio):
    cancelled = BookingFactory(space=studio, start=at("10:00"), state=BookingState.CANCELLED)

    lane = timegrid.day_grid(day=MONDAY, spaces=[studio], bookings=[cancelled], now=EARLY).lanes[0]

    assert lane.blocks == []
    assert clock(lane.cells[4].start) == "10:00"


def test_free_time_is_offered_in_half_hour_cells_after_the_buffer(studio):
    booking = BookingFactory(space=studio, start=at("09:00"), end=at("10:00"))

    cells = timegrid.day_grid(day=MONDAY, spaces=[studio], bookings=[booking], now=EARLY).lanes[0].cells

    assert [(clock(cell.start), clock(cell.end), cell.first) for cell in cells[:4]] == [
        ("08:00", "08:45", True),  # must end a buffer before the 09:00 booking
        ("10:15", "11:15", True),
        ("10:30", "11:30", False),
        ("11:00", "12:00", False),
    ]
    assert clock(cells[-1].start) == "21:30"  # the last start leaving the 30 minutes' minimum


def test_time_already_past_is_not_offered(studio):
    now = at("11:07")

    cells = timegrid.day_grid(day=MONDAY, spaces=[studio], bookings=[], now=now).lanes[0].cells

    assert clock(cells[0].start) == "11:15"


def test_closed_day_has_no_free_time():
    closed = SpaceFactory(opening_hours={"tue": ["08:00", "18:00"]})

    lane = timegrid.day_grid(day=MONDAY, spaces=[closed], bookings=[], now=EARLY).lanes[0]

    assert (lane.hours, lane.open_from, lane.cells) == (None, None, [])


def test_now_line_shows_only_on_today_within_the_hours(studio):
    assert timegrid.day_grid(day=MONDAY, spaces=[studio], bookings=[], now=at("15:00")).now == 50.0
    assert timegrid.day_grid(day=MONDAY, spaces=[studio], bookings=[], now=at("07:00")).now is None
    assert timegrid.day_grid(day=MONDAY, spaces=[studio], bookings=[], now=EARLY).now is None


def test_week_puts_each_booking_on_its_day(studio):
    wednesday = BookingFactory(space=studio, start=at("10:00", MONDAY + timedelta(days=2)))
    overnight = BookingFactory(
        space=studio, start=at("23:00", MONDAY + timedelta(days=4)), end=at("01:00", MONDAY + timedelta(days=5))
    )
    elsewhere = BookingFactory(start=at("10:00"))

    grid = timegrid.week_grid(monday=MONDAY, space=studio, bookings=[wednesday, overnight, elsewhere], now=EARLY)

    on_day = [[block.booking.pk for block in lane.blocks] for lane in grid.lanes]
    assert on_day == [[], [], [wednesday.pk], [], [overnight.pk], [overnight.pk], []]


def test_the_night_the_clocks_go_back_the_grid_runs_25_hours_and_shows_the_repeated_hour_twice(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    sunday = date(2026, 10, 25)  # at 03:00 CEST the clocks go back to 02:00 CET
    space, free = (SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]}) for _ in range(2))
    second_half_past_two = local_instant(sunday, "02:00") + timedelta(hours=1, minutes=30)
    repeated = BookingFactory(space=space, start=second_half_past_two, end=second_half_past_two + timedelta(hours=1))
    noon = BookingFactory(space=space, start=local_instant(sunday, "12:00"), end=local_instant(sunday, "13:00"))

    grid = timegrid.day_grid(day=sunday, spaces=[space, free], bookings=[repeated, noon], now=BEFORE_2026)

    assert grid.length_hours == 25
    assert [label for label, _ in grid.hours[1:5]] == ["01:00", "02:00 CEST", "02:00 CET", "03:00"]
    assert grid.hours[3][1] == 12.0  # three real hours of 25 after midnight
    blocks = {block.booking.pk: (block.offset, block.size) for block in grid.lanes[0].blocks}
    # 02:30 CET is three and a half hours after midnight, noon thirteen hours.
    assert blocks == {repeated.pk: (14.0, 4.0), noon.pk: (52.0, 4.0)}
    cells = [(time_text(cell.start), cell.offset) for cell in grid.lanes[1].cells[4:8]]
    assert cells == [("02:00 CEST", 8.0), ("02:30 CEST", 10.0), ("02:00 CET", 12.0), ("02:30 CET", 14.0)]


def test_the_night_the_clocks_go_forward_the_grid_runs_23_hours_without_the_missing_hour(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    sunday = date(2026, 3, 29)  # at 02:00 CET the clocks go forward to 03:00 CEST
    space = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    booking = BookingFactory(space=space, start=local_instant(sunday, "12:00"), end=local_instant(sunday, "18:00"))

    grid = timegrid.day_grid(day=sunday, spaces=[space], bookings=[booking], now=BEFORE_2026)

    assert grid.length_hours == 23
    assert [label for label, _ in grid.hours[1:4]] == ["01:00", "03:00", "04:00"]
    (block,) = grid.lanes[0].blocks
    # Noon is 11 real hours of 23 after midnight (47.826%), the six-hour session 6 of 23 long.
    assert (block.offset, block.size) == (47.826, 26.087)
    cells = [(clock(cell.start), cell.offset) for cell in grid.lanes[0].cells[2:4]]
    assert cells == [("01:00", round(100 / 23, 3)), ("01:30", round(100 * 1.5 / 23, 3))]
    assert clock(grid.lanes[0].cells[4].start) == "03:00"


def test_the_week_the_clocks_go_back_every_day_lines_up_with_the_hour_labels(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    monday, sunday = date(2026, 10, 19), date(2026, 10, 25)  # Sunday has 25 hours, 02:00 twice
    space = SpaceFactory(
        opening_hours=dict.fromkeys(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ["00:00", "24:00"])
    )
    saturday_noon, sunday_noon = (
        BookingFactory(space=space, start=local_instant(day, "12:00"), end=local_instant(day, "13:00"))
        for day in (sunday - timedelta(days=1), sunday)
    )
    second_two = local_instant(sunday, "02:00") + timedelta(hours=1)  # 02:00 CET
    repeated = BookingFactory(space=space, start=second_two, end=second_two + timedelta(hours=1))

    grid = timegrid.week_grid(
        monday=monday, space=space, bookings=[saturday_noon, sunday_noon, repeated], now=BEFORE_2026
    )

    labels = dict(grid.hours)
    assert grid.length_hours == 25
    assert [label for label, _ in grid.hours[1:5]] == ["01:00", "02:00 CEST", "02:00 CET", "03:00"]
    placed = {block.booking.pk: block.offset for lane in grid.lanes for block in lane.blocks}
    assert placed == {
        saturday_noon.pk: labels["12:00"],
        sunday_noon.pk: labels["12:00"],
        repeated.pk: labels["02:00 CET"],
    }
    # The six days without a second 02:00 leave its row empty, and say nothing about it: Sunday's
    # column has it.
    missing = {lane.day: [(gap.offset, gap.size, gap.skipped) for gap in lane.missing_hours] for lane in grid.lanes}
    assert missing == {
        **{monday + timedelta(days=offset): [(labels["02:00 CET"], 4.0, False)] for offset in range(6)},
        sunday: [],
    }


def test_the_week_the_clocks_go_forward_sunday_lines_up_with_the_hour_labels_and_marks_the_skipped_hour(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    monday, sunday = date(2026, 3, 23), date(2026, 3, 29)  # Sunday has 23 hours, no 02:00
    space = SpaceFactory(
        opening_hours=dict.fromkeys(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ["00:00", "24:00"])
    )
    saturday_noon, sunday_noon = (
        BookingFactory(space=space, start=local_instant(day, "12:00"), end=local_instant(day, "13:00"))
        for day in (sunday - timedelta(days=1), sunday)
    )

    grid = timegrid.week_grid(monday=monday, space=space, bookings=[saturday_noon, sunday_noon], now=BEFORE_2026)

    labels = dict(grid.hours)
    assert grid.length_hours == 24
    assert [label for label, _ in grid.hours[1:4]] == ["01:00", "02:00", "03:00"]
    placed = {block.booking.pk: block.offset for lane in grid.lanes for block in lane.blocks}
    assert placed == {saturday_noon.pk: labels["12:00"], sunday_noon.pk: labels["12:00"]}
    missing = {lane.day: [(gap.offset, gap.size, gap.skipped) for gap in lane.missing_hours] for lane in grid.lanes}
    assert missing == {
        **{monday + timedelta(days=offset): [] for offset in range(6)},
        sunday: [(labels["02:00"], round(100 / 24, 3), True)],
    }


def test_the_week_the_clocks_change_outside_the_opening_hours_is_an_ordinary_week(settings, studio):
    settings.TIME_ZONE = "Europe/Berlin"
    sunday = date(2026, 10, 25)
    noon = BookingFactory(space=studio, start=local_instant(sunday, "12:00"), end=local_instant(sunday, "13:00"))

    grid = timegrid.week_grid(monday=date(2026, 10, 19), space=studio, bookings=[noon], now=BEFORE_2026)

    assert (grid.length_hours, dict(grid.hours)["12:00"], grid.lanes[6].blocks[0].offset) == (14, 28.571, 28.571)
    assert all(lane.missing_hours == [] for lane in grid.lanes)
