"""The nights the clocks change (Europe/Berlin), on the calendar's week and the Today timeline, at a
desktop's and at a phone's size, walked in Chromium: every block lines up with the hour it starts
at, the two 02:00 labels keep apart, and axe-core finds no serious or critical violation."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import local_instant
from bookings.tests.factories import BookingFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from tests.browser.studio import DESKTOP, PHONE, sign_in
from tests.browser.test_every_staff_page import serious_violations
from tests.browser.test_phone_print_and_forms import shoot

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FALL_BACK = date(2030, 10, 27)  # at 03:00 CEST the clocks go back to 02:00 CET: 25 hours
SPRING_FORWARD = date(2030, 3, 31)  # at 02:00 CET the clocks go forward to 03:00 CEST: 23 hours
ALL_DAY = dict.fromkeys(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ["00:00", "24:00"])
# How far a block's top may sit from its hour's line, in pixels (percentages rounded).
ALIGNED = 2


@pytest.fixture(autouse=True)
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


def night_studio(sunday: date) -> dict:
    """A space open round the clock, a session at noon the Saturday and the Sunday, and on the
    Sunday one before the change of clocks, one an hour after it, and one in the evening."""
    space = SpaceFactory(slug="night", name="Night studio", opening_hours=ALL_DAY, buffer_minutes=0)

    def book(start):
        BookingFactory(space=space, start=start, end=start + timedelta(hours=1), state="confirmed")

    book(local_instant(sunday - timedelta(days=1), "12:00"))
    book(local_instant(sunday, "00:00"))
    book(local_instant(sunday, "02:00") + timedelta(hours=1))  # 02:00 CET, or 04:00 CEST in spring
    book(local_instant(sunday, "12:00"))
    book(local_instant(sunday, "20:00"))
    return {"space": space, "rita": EmployeeFactory(username="rita", role=Role.RECEPTIONIST)}


def hour_line(page, label: str) -> float:
    """Where the hour ``label`` names starts: the middle of the label's first line (a zone may wrap under it)."""
    hour = page.locator(".tg-hours span").filter(has_text=re.compile(f"^{label}$"))
    line_height = hour.evaluate("(span) => parseFloat(getComputedStyle(span).lineHeight)")
    return hour.bounding_box()["y"] + line_height / 2


def misplaced_blocks(page) -> dict[str, float | str]:
    """Each block whose top is off the hour its time starts at, by how many pixels: the hour
    labels are at the top of their hour (the first label included, which sits below its line)."""
    misplaced = {}
    for block in page.locator(".tg-booking").all():
        day = block.evaluate("(block) => block.closest('.tg-lane').dataset.day")
        start = block.locator(".time").inner_text().split("–")[0]
        lane_top = page.locator(f".tg-lane[data-day='{day}']").bounding_box()["y"]
        hour = page.locator(".tg-hours span").filter(has_text=re.compile(f"^{start}$"))
        if not hour.count():
            misplaced[f"{day} {start}"] = "no such hour down the side"
            continue
        line = (
            lane_top
            if hour.evaluate("(span) => span === span.parentElement.firstElementChild")
            else hour_line(page, start)
        )
        if abs(block.bounding_box()["y"] - line) > ALIGNED:
            misplaced[f"{day} {start}"] = round(block.bounding_box()["y"] - line, 1)
    return misplaced


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("sunday", [FALL_BACK, SPRING_FORWARD], ids=["fall-back", "spring-forward"])
def test_the_week_the_clocks_change_lines_every_block_up_with_its_hour(open_page, live_server, viewport, sunday):
    studio = night_studio(sunday)
    page = open_page(viewport)
    with time_machine.travel(datetime(2030, 1, 14, 9, 40, tzinfo=UTC), tick=True):
        sign_in(page, live_server, studio["rita"], path=f"/calendar/?view=week&date={sunday}&space=night")
        expect(page.locator(".tg-booking")).to_have_count(5)
        size = "phone" if viewport == PHONE else "desktop"
        for moment in ("night", "noon"):
            page.locator(f".tg-lane[data-day='{sunday}'] .tg-booking").filter(
                has_text="00:00–" if moment == "night" else "12:00–"
            ).scroll_into_view_if_needed()
            shoot(page, f"calendar-week-{sunday}-{size}-{moment}", full_page=False)

        assert misplaced_blocks(page) == {}
        skipped = page.locator(".tg-missing-hour").filter(has_text="Clocks go forward")
        expect(skipped).to_have_count(1 if sunday == SPRING_FORWARD else 0)
        assert serious_violations(page) == []


# Where each label of the Today timeline's scale is drawn: the box of its text, line by line.
SCALE_LABELS = """(scale) => Array.from(scale.children).map((label) => {
    const text = document.createRange();
    text.selectNodeContents(label);
    const box = text.getBoundingClientRect();
    return {text: label.textContent, left: box.left, right: box.right, top: box.top, bottom: box.bottom};
})"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_on_the_night_the_clocks_go_back_todays_hour_labels_keep_apart(open_page, live_server, viewport):
    studio = night_studio(FALL_BACK)
    page = open_page(viewport)
    with time_machine.travel(local_instant(FALL_BACK, "09:40"), tick=True):
        sign_in(page, live_server, studio["rita"])
        scale = page.locator(".tl-scale")
        expect(scale).to_contain_text("02:00 CET")
        timeline = page.locator(".timeline")
        timeline.evaluate("(timeline) => timeline.scrollTo(0, 0)")  # from now back to the night's hours
        timeline.scroll_into_view_if_needed()
        shoot(page, f"today-{FALL_BACK}-{'phone' if viewport == PHONE else 'desktop'}", full_page=False)

        labels = scale.evaluate(SCALE_LABELS)
        overlapping = [
            f"{before['text']} / {after['text']}"
            for before, after in zip(labels, labels[1:], strict=False)
            if before["right"] > after["left"]
        ]
        assert overlapping == []
        scale_box, first_row = scale.bounding_box(), page.locator("section.tl-row").first.bounding_box()
        assert max(label["bottom"] for label in labels) <= min(scale_box["y"] + scale_box["height"], first_row["y"])
        assert [label["text"] for label in labels[1:5]] == ["01:00", "02:00 CEST", "02:00 CET", "03:00"]
        assert serious_violations(page) == []


# Where a Today block's time is drawn against the block's own box: whether the text fits inside it.
TIME_IN_FULL_VIEW = """(block) => {
    const edge = block.getBoundingClientRect();
    const text = document.createRange();
    text.selectNodeContents(block.querySelector(".time"));
    const time = text.getBoundingClientRect();
    return time.left >= edge.left && time.right <= edge.right && time.bottom <= edge.bottom;
}"""
ALL_TEXT_INSIDE = "(block) => block.scrollWidth <= block.clientWidth && block.scrollHeight <= block.clientHeight"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_on_the_night_the_clocks_go_back_todays_hour_long_bookings_stay_readable(open_page, live_server, viewport):
    """A day of 25 hours squeezes each hour: an hour-long block still shows its whole time, and
    pointed at or focused it grows to show all it says, not a clipped part of it."""
    studio = night_studio(FALL_BACK)
    page = open_page(viewport)
    with time_machine.travel(local_instant(FALL_BACK, "09:40"), tick=True):
        sign_in(page, live_server, studio["rita"])
        blocks = page.locator(".tl-track .tg-booking")
        expect(blocks).to_have_count(4)

        cut_at_rest, clipped_when_pointed_at, clipped_when_focused = [], [], []
        for block in blocks.all():
            time = block.locator(".time").inner_text()
            if not block.evaluate(TIME_IN_FULL_VIEW):
                cut_at_rest.append(time)
            block.scroll_into_view_if_needed()
            block.hover()
            if not block.evaluate(ALL_TEXT_INSIDE):
                clipped_when_pointed_at.append(time)
            block.focus()
            page.mouse.move(0, 0)
            if not block.evaluate(ALL_TEXT_INSIDE):
                clipped_when_focused.append(time)
            block.blur()
        blocks.first.hover()
        shoot(page, f"today-{FALL_BACK}-{'phone' if viewport == PHONE else 'desktop'}-short-booking", full_page=False)

        assert (cut_at_rest, clipped_when_pointed_at, clipped_when_focused) == ([], [], [])
