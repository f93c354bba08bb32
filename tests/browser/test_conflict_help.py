"""Conflict help in Chromium: a booking refused for an overlap offers free times and spaces, and one
click books one, at a desktop's and a phone's size, with and without JavaScript."""

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Booking, WaitlistEntry
from tests.browser.studio import DESKTOP, MONDAY, PHONE, demo_studio, sign_in
from tests.browser.test_every_staff_page import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def studio_clock():
    """Monday 14 January 2030, 09:40 in the studio, ticking: Studio A is booked 10:00-12:00 and 12:15-14:00."""
    with time_machine.travel(datetime(2030, 1, 14, 9, 40, tzinfo=UTC), tick=True):
        yield


def ask_for_studio_a_at_eleven(page):
    page.get_by_label("Client's phone").fill("+14155550177")
    page.get_by_label("Client's name").fill("Nina Novak")
    page.get_by_label("Space").select_option("studio_a")
    page.get_by_label("Date", exact=True).fill(f"{MONDAY:%Y-%m-%d}")
    page.get_by_label("Starts").fill("11:00")
    page.get_by_label("Ends").fill("12:00")
    page.get_by_label("People").fill("2")
    page.get_by_label("Notes").fill("Headshots")
    page.get_by_role("button", name="Save booking").click()


@pytest.mark.parametrize(
    ("viewport", "javascript", "choice", "space", "start"),
    [
        (DESKTOP, True, "Book 14:15–15:15", "studio_a", "14:15"),
        (PHONE, True, "Book Rooftop terrace", "rooftop", "11:00"),
        (PHONE, False, "Book 14:30–15:30", "studio_a", "14:30"),
    ],
    ids=["desktop", "phone", "phone-no-script"],
)
def test_a_refused_booking_offers_free_times_and_spaces_and_one_click_books_one(
    open_page, live_server, viewport, javascript, choice, space, start
):
    studio = demo_studio()
    page = open_page(viewport, javascript=javascript)
    sign_in(page, live_server, studio["rita"], path="/bookings/new/")

    ask_for_studio_a_at_eleven(page)

    offered = page.get_by_role("group", name="Book it another way")
    expect(page.locator(".error-summary")).to_contain_text("Studio A is already booked")
    expect(offered.get_by_role("group", name="Free in Studio A")).to_contain_text("Book 14:15–15:15")
    expect(offered.get_by_role("group", name="Free at 11:00–12:00 for 2 people")).to_contain_text(
        "Book Rooftop terrace"
    )
    name = f"conflict-help-{'phone' if viewport == PHONE else 'desktop'}{'' if javascript else '-no-script'}"
    page.get_by_role("link", name="Book a free time or space instead").click()
    expect(offered).to_be_in_viewport()
    page.screenshot(path=f"test-artifacts/screenshots/{name}.png", full_page=True)
    scroll_width, inner_width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width
    if javascript:
        assert serious_violations(page) == []

    offered.get_by_role("button", name=choice).click()

    expect(page.get_by_role("heading", name="Booking #")).to_be_visible()
    booking = Booking.objects.latest("pk")
    assert (booking.space.slug, booking.client.full_name, booking.notes) == (space, "Nina Novak", "Headshots")
    assert f"{booking.start.astimezone(UTC):%H:%M}" == start


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_enter_on_a_refused_form_saves_what_was_typed_not_a_choice_or_the_waitlist(open_page, live_server, viewport):
    studio = demo_studio()
    page = open_page(viewport)
    sign_in(page, live_server, studio["rita"], path="/bookings/new/")
    ask_for_studio_a_at_eleven(page)

    # The refusal's ways out, in reading order: save what is typed, wait for the slot, take a free one.
    save = page.get_by_role("button", name="Save booking")
    wait = page.get_by_role("button", name="Put Nina Novak on the waitlist for this slot")
    first_choice = page.get_by_role("group", name="Book it another way").get_by_role("button").first
    expect(wait).to_be_visible()
    order = page.evaluate(
        "([a, b, c]) => [a.compareDocumentPosition(b), b.compareDocumentPosition(c)]",
        [save.element_handle(), wait.element_handle(), first_choice.element_handle()],
    )
    assert order == [4, 4]  # each follows the one before
    name = f"conflict-help-and-waitlist-{'phone' if viewport == PHONE else 'desktop'}"
    page.screenshot(path=f"test-artifacts/screenshots/{name}.png", full_page=True)
    assert serious_violations(page) == []

    page.get_by_label("People", exact=True).press("Enter")
    expect(page.locator(".error-summary")).to_contain_text("Studio A is already booked")
    assert not Booking.objects.filter(client__full_name="Nina Novak").exists()
    assert not WaitlistEntry.objects.exists()

    page.get_by_label("Starts", exact=True).fill("16:00")
    page.get_by_label("Ends", exact=True).fill("17:00")
    page.get_by_label("Ends", exact=True).press("Enter")

    expect(page.get_by_role("heading", name="Booking #")).to_be_visible()
    booking = Booking.objects.get(client__full_name="Nina Novak")
    assert (booking.space.slug, f"{booking.start.astimezone(UTC):%H:%M}") == ("studio_a", "16:00")
    assert not WaitlistEntry.objects.exists()
