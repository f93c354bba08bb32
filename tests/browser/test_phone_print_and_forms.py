"""The studio's day on a phone, the printed day sheet and a refused form, walked in Chromium."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Space
from tests.browser.conftest import SCREENSHOTS
from tests.browser.studio import DESKTOP, PHONE, demo_studio, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

A4_AT_96_DPI = {"width": 794, "height": 1123}


@pytest.fixture(autouse=True)
def studio_clock():
    """Monday 14 January 2030, 09:40 in the studio, ticking: the live server and pyotp share it."""
    with time_machine.travel(datetime(2030, 1, 14, 9, 40, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def studio():
    return demo_studio()


def shoot(page, name, *, full_page=True):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement.id")


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_on_a_phone_the_navigation_opens_from_the_menu(open_page, live_server, studio, javascript):
    page = open_page(PHONE, javascript=javascript)
    sign_in(page, live_server, studio["rita"])
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav).to_be_hidden()
    assert page.locator(".topbar").bounding_box()["height"] <= 64

    page.get_by_role("link", name="Menu").click()

    expect(main_nav).to_be_visible()
    if javascript:
        expect(page.get_by_role("link", name="Menu")).to_have_attribute("aria-expanded", "true")
    shoot(page, f"phone-menu-{'script' if javascript else 'no-script'}", full_page=False)
    main_nav.get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name="Calendar")).to_be_visible()
    expect(main_nav).to_be_hidden()


def test_on_a_phone_the_calendar_shows_one_space_with_a_switcher(open_page, live_server, studio):
    page = open_page(PHONE)
    sign_in(page, live_server, studio["rita"], path="/calendar/")
    lanes = page.locator(".tg-lane")

    expect(lanes.filter(visible=True)).to_have_count(1)
    switcher = page.get_by_role("navigation", name="Space")
    expect(switcher.get_by_role("link")).to_have_count(5)
    switcher.get_by_role("link", name="Studio A").click()

    expect(page).to_have_url(re.compile(r"space=studio_a"))
    expect(page.locator(".tg-head").filter(visible=True)).to_contain_text("Studio A")
    expect(lanes.filter(visible=True).locator(".tg-booking")).to_have_count(2)
    expect(switcher.get_by_role("link", name="Studio A")).to_have_attribute("aria-current", "page")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    shoot(page, "phone-calendar", full_page=False)


def test_on_a_phone_the_space_name_and_the_hours_stay_in_view_while_the_calendar_scrolls(
    open_page, live_server, studio
):
    page = open_page(PHONE)
    sign_in(page, live_server, studio["rita"], path="/calendar/?view=week&date=2030-01-14&space=studio_a")
    grid = page.locator(".timegrid")
    grid.evaluate("grid => grid.scrollTo(400, 300)")

    grid_box = grid.bounding_box()
    head_box = page.locator(".tg-head").filter(has_text="Mon 14 Jan").bounding_box()
    hours_box = page.locator(".tg-hours").bounding_box()
    assert grid.evaluate("grid => [grid.scrollLeft > 0, grid.scrollTop > 0]") == [True, True]
    assert abs(hours_box["x"] - grid_box["x"]) <= 2
    day_heads = page.locator(".tg-head").filter(visible=True)
    assert all(abs(box["y"] - grid_box["y"]) <= 2 for box in [day_heads.nth(6).bounding_box()])
    assert head_box["y"] == day_heads.nth(6).bounding_box()["y"]
    shoot(page, "phone-calendar-week-scrolled", full_page=False)


def test_on_a_phone_todays_timeline_keeps_an_hour_a_finger_wide(open_page, live_server, studio):
    page = open_page(PHONE)
    sign_in(page, live_server, studio["rita"])

    block = page.locator(".tl-row .tg-booking").filter(has_text="10:00–12:00")
    expect(block).to_be_visible()
    assert block.bounding_box()["width"] >= 100  # a two-hour session
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    shoot(page, "phone-today")


@pytest.mark.parametrize(
    "path", ["/waitlist/?status=expired", "/bookings/?search=nobody+at+all", "/clients/?q=nobody+at+all"]
)
def test_on_a_phone_an_empty_list_says_so_in_full_view(open_page, live_server, studio, path):
    page = open_page(PHONE)
    sign_in(page, live_server, studio["maria"], secret=studio["maria_secret"], path=path)
    empty = page.locator(".table-wrap .empty")
    expect(empty).to_be_visible()

    text_right, box_right = empty.evaluate(
        """(cell) => {
            const text = document.createRange();
            text.selectNodeContents(cell);
            return [text.getBoundingClientRect().right, cell.closest(".table-wrap").getBoundingClientRect().right];
        }"""
    )

    assert text_right <= box_right


def refused_client_search(open_page, live_server, studio, viewport) -> dict:
    """The Clients page refusing a search with a tab in it: where its field, error and buttons are."""
    page = open_page(viewport)
    sign_in(page, live_server, studio["maria"], secret=studio["maria_secret"], path="/clients/?q=ann%09smith")
    error = page.locator(".search-bar .errorlist")
    expect(error).to_contain_text("Remove the control character")
    shoot(page, f"clients-refused-search-{'phone' if viewport == PHONE else 'desktop'}", full_page=False)
    search_bar = page.locator(".search-bar")
    return {
        "title": page.get_by_role("heading", name="Clients").bounding_box(),
        "field": page.get_by_label("Name, phone or e-mail").bounding_box(),
        "error": error.bounding_box(),
        "search": search_bar.get_by_role("button", name="Search").bounding_box(),
        "show all": search_bar.get_by_role("link", name="Show all").bounding_box(),
    }


def test_a_refused_client_search_keeps_its_buttons_beside_the_field_not_its_error(open_page, live_server, studio):
    boxes = refused_client_search(open_page, live_server, studio, DESKTOP)

    field = boxes["field"]
    assert boxes["title"]["y"] <= field["y"]  # the error hangs below; it does not push the title down
    assert [(boxes[name]["y"], boxes[name]["height"]) for name in ("search", "show all")] == [
        (field["y"], field["height"])
    ] * 2
    assert boxes["search"]["x"] > field["x"] + field["width"]


def test_on_a_phone_a_refused_client_search_has_its_buttons_in_a_row_under_the_error(open_page, live_server, studio):
    boxes = refused_client_search(open_page, live_server, studio, PHONE)

    field, error, search, show_all = boxes["field"], boxes["error"], boxes["search"], boxes["show all"]
    assert error["y"] >= field["y"] + field["height"]
    assert search["y"] >= error["y"] + error["height"]
    assert search["x"] == field["x"]
    assert (show_all["y"], show_all["height"]) == (search["y"], search["height"])
    assert show_all["x"] > search["x"] + search["width"]


def test_a_photographers_today_starts_with_their_sessions(open_page, live_server, studio):
    page = open_page(PHONE)
    sign_in(page, live_server, studio["pete"])

    first_section = page.locator("main section").first
    expect(first_section.get_by_role("heading")).to_contain_text("Your sessions today")
    expect(first_section).to_contain_text("16:00–18:00")
    expect(page.get_by_role("heading", name=re.compile("Pending: confirm"))).to_have_count(0)
    shoot(page, "phone-photographer-today")

    page.goto(f"{live_server.url}/bookings/new/")
    expect(page.locator("main")).to_contain_text("which your role (Photographer) does not have")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_refused_form_focuses_its_error_summary_whose_links_lead_to_the_fields(
    open_page, live_server, studio, viewport
):
    page = open_page(viewport)
    sign_in(page, live_server, studio["rita"], path="/bookings/new/")
    assert focused_id(page) == "id_client_phone"

    page.get_by_label("Client's name").fill("Nina Novak")
    page.get_by_role("button", name="Save booking").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary.get_by_role("heading")).to_have_text("The booking was not saved")
    shoot(page, f"error-summary-{'phone' if viewport == PHONE else 'desktop'}", full_page=False)
    summary.get_by_role("link", name=re.compile("Client's phone")).click()
    assert focused_id(page) == "id_client_phone"
    expect(page.get_by_label("Client's phone")).to_be_in_viewport()


def test_the_day_sheet_from_today_prints_one_a4_page_per_space(open_page, live_server, studio):
    page = open_page(DESKTOP)
    sign_in(page, live_server, studio["rita"])

    page.get_by_role("link", name="Print day sheet").click()

    expect(page.get_by_role("heading", name="Day sheet")).to_be_visible()
    loft = page.get_by_role("region", name=re.compile("Loft with a long name"))
    row = loft.get_by_role("row").filter(has_text="16:00–18:00")
    for text in ("Pete Photographer", "Family portrait, bring the step stool", "+1"):
        expect(row).to_contain_text(text)
    expect(row.get_by_role("cell").nth(3)).to_have_text(re.compile(r"^\d+$"))
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    page.set_viewport_size(A4_AT_96_DPI)
    shoot(page, "day-sheet-print")
    pdf = page.pdf(prefer_css_page_size=True)
    pages = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(pages) == 5  # one per space
    assert {(round(float(width)), round(float(height))) for width, height in pages} == {(595, 842)}  # A4 in points


def test_the_calendar_links_to_the_day_sheet_of_its_day(open_page, live_server, studio):
    page = open_page(DESKTOP)
    sign_in(page, live_server, studio["rita"], path="/calendar/?date=2030-01-15")

    page.get_by_role("link", name="Print day sheet").click()

    expect(page.locator(".page-head")).to_contain_text("Tuesday 15 January 2030")
    expect(page.locator(".sheet")).to_have_count(5)


def test_a_manager_edits_a_spaces_opening_hours_day_by_day_in_the_admin(open_page, live_server, studio):
    space = Space.objects.get(slug="studio_a")
    page = open_page(DESKTOP)
    sign_in(
        page,
        live_server,
        studio["maria"],
        secret=studio["maria_secret"],
        path=f"/admin/bookings/space/{space.pk}/change/",
    )

    page.get_by_label("Saturday closes at").fill("07:00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errorlist")).to_contain_text("Saturday: the space must close after it opens (08:00 – 07:00).")
    shoot(page, "admin-opening-hours-refused")
    page.get_by_label("Saturday closes at").fill("00:00")
    page.locator("#id_opening_hours_sun_open").uncheck()
    page.get_by_label("Monday opens at").fill("09:30")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    space.refresh_from_db()
    assert (space.opening_hours["mon"], space.opening_hours["sat"], space.opening_hours["sun"]) == (
        ["09:30", "22:00"],
        ["08:00", "24:00"],
        None,
    )
