"""Chromium enforces the pages' Content-Security-Policy: the staff pages, the login, the admin and
the API docs all work under it and report no violation (every ``securitypolicyviolation`` event
and every console error is collected)."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory, enrol_mfa
from tests.browser.studio import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MONDAY = date(2030, 1, 14)
# Runs before any page script, outside the page's CSP: records what the policy blocked.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${where}`);
});
"""


@pytest.fixture(autouse=True)
def studio_clock():
    with time_machine.travel(datetime(2030, 1, 14, 8, 30, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def watched(page):
    """The page, recording policy violations and console errors."""
    errors = []
    page.add_init_script(RECORD_VIOLATIONS)
    # Failed loads are reported with their address by the response listener below.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )

    def violations(path):
        found = page.evaluate("window.__violations || []")
        # ReDoc shows its maker's logo from cdn.redoc.ly: the policy keeps the docs offline by
        # refusing it, and ReDoc leaves the image out when it fails to load.
        return [f"{path}: {entry}" for entry in [*found, *errors] if "https://cdn.redoc.ly/" not in entry]

    return page, violations, errors


@pytest.fixture
def manager():
    studio = SpaceFactory(slug="studio_z", name="Studio Z")
    BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), client=ClientFactory(full_name="Ann Adams"))
    manager = EmployeeFactory(username="maria", full_name="Maria Manager", role=Role.MANAGER)
    return manager, enrol_mfa(manager)


def test_login_staff_pages_and_admin_run_under_the_policy_without_violations(watched, live_server, manager):
    page, violations, errors = watched
    employee, secret = manager
    found = []

    sign_in(page, live_server, employee, secret=secret)
    found += violations("/login/")
    for path in [
        "/",
        "/calendar/",
        "/calendar/?view=week",
        "/bookings/",
        "/clients/",
        "/reports/",
        "/profile/",
        "/admin/",
        "/admin/bookings/space/add/",
        "/admin/bookings/booking/",
        "/admin/employees/employee/",
    ]:
        errors.clear()
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        found += violations(path)

    assert found == []


def test_htmx_client_search_works_under_the_policy(watched, live_server, manager):
    page, violations, _ = watched
    employee, secret = manager
    sign_in(page, live_server, employee, secret=secret, path="/bookings/new/")

    page.get_by_label("Client's name").fill("Ann")

    expect(page.locator("#client-matches")).to_contain_text("Ann Adams")
    assert violations("/bookings/new/") == []


def test_the_admin_s_own_scripts_run_under_the_policy(watched, live_server, manager):
    page, violations, _ = watched
    employee, secret = manager
    sign_in(page, live_server, employee, secret=secret, path="/admin/bookings/space/add/")

    # prepopulated_fields: the admin's script fills the slug from the name as it is typed.
    page.locator("#id_name").fill("Studio North")
    page.locator("#id_name").dispatch_event("change")

    expect(page.locator("#id_slug")).to_have_value("studio-north")
    assert violations("/admin/bookings/space/add/") == []


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .info"), ("/redoc", ".api-content")])
def test_the_api_docs_render_under_their_policy(watched, live_server, path, rendered):
    page, violations, _ = watched

    page.goto(f"{live_server.url}{path}")

    expect(page.locator(rendered).first).to_be_visible(timeout=15000)
    assert violations(path) == []
