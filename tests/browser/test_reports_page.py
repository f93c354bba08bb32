"""The managers' Reports page in Chromium: a preset period at a click, what "bookings" means, the currency."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import BookingState, local_instant
from bookings.tests.factories import BookingFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory, enrol_mfa
from tests.browser.studio import DESKTOP, PHONE, demo_studio, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def studio_clock():
    with time_machine.travel(datetime(2030, 1, 14, 8, 30, tzinfo=UTC), tick=True):
        yield


def test_manager_picks_last_month_and_reads_its_figures_in_the_studios_currency(page, live_server, screenshot):
    studio = SpaceFactory(slug="studio_z", name="Studio Z")
    for day, state in [(4, BookingState.COMPLETED), (5, BookingState.COMPLETED), (6, BookingState.CANCELLED)]:
        BookingFactory(space=studio, start=local_instant(date(2029, 12, day), "10:00"), state=state)
    manager = EmployeeFactory(username="maria", full_name="Maria Manager", role=Role.MANAGER)
    sign_in(page, live_server, manager, secret=enrol_mfa(manager), path="/reports/")

    page.get_by_role("link", name="Last month").click()

    expect(page.get_by_text("1 Dec 2029 – 31 Dec 2029")).to_be_visible()
    expect(page.get_by_role("link", name="Last month")).to_have_attribute("aria-current", "true")
    expect(page.locator("#bookings-definition")).to_contain_text("except cancelled ones")
    expect(page.locator(".figures")).to_contain_text("200.00 USD")
    row = page.get_by_role("row", name="Studio Z")
    expect(row.get_by_role("cell").nth(3)).to_have_text("2")  # bookings: the cancelled one is counted apart
    expect(row.get_by_role("cell").nth(6)).to_contain_text("1")
    screenshot("20-reports-last-month")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_text_of_a_chart_is_cut_off_at_its_edges(browser, live_server, viewport):
    studio = demo_studio()  # with a space named "Loft with a long name for the phone"
    page = browser.new_context(viewport=viewport, locale="en-GB").new_page()
    sign_in(page, live_server, studio["maria"], secret=studio["maria_secret"], path="/reports/")

    cut_off = page.evaluate(
        """() => Array.from(document.querySelectorAll("svg.chart")).flatMap((chart) => {
            const frame = chart.getBoundingClientRect();
            return Array.from(chart.querySelectorAll("text"))
                .filter((text) => {
                    const box = text.getBoundingClientRect();
                    return box.left < frame.left - 0.5 || box.right > frame.right + 0.5;
                })
                .map((text) => text.textContent);
        })"""
    )

    assert cut_off == []


def test_on_a_phone_the_revenue_per_day_stays_readable_and_opens_on_the_latest_days(browser, live_server):
    studio = demo_studio()
    page = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    sign_in(page, live_server, studio["maria"], secret=studio["maria_secret"], path="/reports/")
    chart = page.locator("svg.chart.wide")

    smallest_text = chart.evaluate(
        """(chart) => {
            const scale = chart.getBoundingClientRect().width / chart.viewBox.baseVal.width;
            return Math.min(...Array.from(chart.querySelectorAll("text"))
                .map((text) => parseFloat(getComputedStyle(text).fontSize) * scale));
        }"""
    )
    frame = chart.evaluate("(chart) => chart.parentElement.getBoundingClientRect()")
    last_day = chart.locator("text.tick-label:not(.amount)").last.bounding_box()
    amounts_in_view = [
        box
        for box in (label.bounding_box() for label in chart.locator("text.amount").all())
        if frame["left"] <= box["x"] and box["x"] + box["width"] <= frame["right"]
    ]

    assert smallest_text >= 10
    assert last_day["x"] + last_day["width"] <= frame["right"]
    assert amounts_in_view  # the scale, with the latest days


def test_on_a_phone_the_bar_charts_text_stays_readable(open_page, live_server):
    """Scaled to a phone's width with the chart, their labels and figures would shrink to 8px."""
    studio = demo_studio()
    page = open_page(PHONE)
    sign_in(page, live_server, studio["maria"], secret=studio["maria_secret"], path="/reports/")

    smallest_text = page.locator("svg.chart:not(.wide)").evaluate_all(
        """(charts) => charts.map((chart) => {
            const scale = chart.getBoundingClientRect().width / chart.viewBox.baseVal.width;
            const texts = Array.from(chart.querySelectorAll("text"));
            const sizes = texts.map((text) => parseFloat(getComputedStyle(text).fontSize));
            return Math.round(Math.min(...sizes) * scale * 10) / 10;
        })"""
    )

    assert len(smallest_text) == 2
    assert min(smallest_text) >= 10, smallest_text


def test_a_refused_period_keeps_its_fields_as_wide_as_before(page, live_server):
    manager = EmployeeFactory(username="maria", full_name="Maria Manager", role=Role.MANAGER)
    sign_in(page, live_server, manager, secret=enrol_mfa(manager), path="/reports/")
    fields = page.locator(".search-bar > div")
    widths = [box["width"] for box in (fields.nth(0).bounding_box(), fields.nth(1).bounding_box())]

    page.goto(f"{live_server.url}/reports/?start=2030-02-01&end=2030-01-01")

    expect(page.locator(".search-bar .errorlist")).to_be_visible()
    assert [fields.nth(0).bounding_box()["width"], fields.nth(1).bounding_box()["width"]] == widths
