"""GET /api/v1/reports/: the studio's figures per space and per day, for managers."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from bookings import reports
from bookings.api.serializers import ReportSerializer, report_body
from bookings.models import BookingState, local_instant
from bookings.tests.api import api_as, booking_body
from bookings.tests.factories import BookingFactory, ClosureFactory
from employees.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)


@pytest.fixture
def monday_bookings(studio):
    for clock, state in [("08:00", "completed"), ("11:00", "no_show"), ("14:00", "cancelled"), ("17:00", "pending")]:
        BookingFactory(space=studio, start=local_instant(MONDAY, clock), state=state)


def test_manager_reads_figures_per_space_and_per_day(manager, studio, monday_bookings):
    response = api_as(manager).get("/api/v1/reports/", {"from": "2030-01-13", "to": "2030-01-14"})

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"], body["currency"]) == ("2030-01-13", "2030-01-14", "USD")
    (row,) = [row for row in body["spaces"] if row["space"]["slug"] == "test_studio"]
    assert row == {
        "space": {"slug": "test_studio", "name": "Test Studio"},
        "open_hours": "28.0",
        "booked_hours": "6.0",
        "utilisation": "21.4",
        "bookings": 3,
        "completed": 1,
        "no_shows": 1,
        "cancelled": 1,
        "revenue": "100.00",
    }
    assert [(day["date"], day["bookings"], day["cancelled"]) for day in body["days"]] == [
        ("2030-01-13", 0, 0),
        ("2030-01-14", 3, 1),
    ]
    assert body["total"]["bookings"] == 3
    assert "except cancelled ones" in body["bookings_definition"]


def test_the_answer_has_exactly_the_documented_fields(manager, studio, monday_bookings):
    body = api_as(manager).get("/api/v1/reports/", {"from": "2030-01-14", "to": "2030-01-14"}).json()

    documented = ReportSerializer().fields
    assert set(body) == set(documented)
    assert set(body["total"]) == set(documented["total"].fields)
    assert set(body["spaces"][0]) == set(documented["spaces"].child.fields)
    assert set(body["days"][0]) == set(documented["days"].child.fields)


def test_amounts_come_in_the_studios_currency(manager, studio, settings):
    settings.STUDIO_CURRENCY = "EUR"

    body = api_as(manager).get("/api/v1/reports/", {"from": "2030-01-14", "to": "2030-01-14"}).json()

    assert body["currency"] == "EUR"


@pytest.mark.parametrize("employee", ["receptionist", "photographer"])
def test_reports_need_the_reports_permission(request, employee):
    response = api_as(request.getfixturevalue(employee)).get(
        "/api/v1/reports/", {"from": "2030-01-14", "to": "2030-01-14"}
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "from"),
        ({"from": "2030-01-14"}, "to"),
        ({"from": "14.01.2030", "to": "2030-01-14"}, "from"),
        ({"from": "2030-01-14", "to": "2030-01-13"}, "to"),
        ({"from": "2020-01-01", "to": "2030-01-14"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(manager, query, field):
    response = api_as(manager).get("/api/v1/reports/", query)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["details"]


@pytest.mark.parametrize(
    ("query", "name"),
    [("from=2030-01-14&to=2030-01-13&to=2030-01-20", "to"), ("from=2030-01-14&to=2030-01-20&space=studio_a", "space")],
)
def test_a_period_bound_given_twice_or_a_parameter_reports_do_not_take_is_refused(manager, query, name):
    response = api_as(manager).get(f"/api/v1/reports/?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert list(response.json()["error"]["details"]) == [name]


def test_five_years_is_the_longest_period(manager):
    first = date(2028, 1, 1)
    last = date(2032, 12, 31)  # two leap days: the longest five years there are

    response = api_as(manager).get("/api/v1/reports/", {"from": first.isoformat(), "to": last.isoformat()})

    assert response.status_code == 200
    assert len(response.json()["days"]) == (last - first).days + 1
    too_long = {"from": first.isoformat(), "to": (last + timedelta(days=1)).isoformat()}
    assert api_as(manager).get("/api/v1/reports/", too_long).status_code == 400


@pytest.mark.performance
def test_a_month_costs_a_fixed_number_of_queries(manager, studio, django_assert_max_num_queries):
    for day in range(1, 29):
        BookingFactory(space=studio, start=local_instant(date(2030, 2, day), "10:00"), state=BookingState.COMPLETED)
    client = api_as(manager)

    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/reports/", {"from": "2030-02-01", "to": "2030-02-28"})

    assert response.json()["total"]["completed"] == 28


def test_a_repeated_report_comes_from_the_cache_unchanged(manager, studio, monday_bookings, django_assert_num_queries):
    client = api_as(manager)
    period = {"from": "2030-01-01", "to": "2030-01-31"}
    first = client.get("/api/v1/reports/", period)

    with django_assert_num_queries(0):
        again = client.get("/api/v1/reports/", period)

    assert again.status_code == 200
    assert again["Content-Type"] == "application/json"
    assert again.content == first.content
    live = reports.studio_report(viewer=manager, start=date(2030, 1, 1), end=date(2030, 1, 31))
    assert again.json() == json.loads(json.dumps(report_body(live)))


def test_a_repeated_report_asks_the_cache_for_the_callers_and_its_versions_at_once(manager, settings, version_reads):
    settings.MFA_REQUIRED_ROLES = []
    client = APIClient()
    pair = client.post("/api/v1/auth/login", {"username": manager.username, "password": DEFAULT_PASSWORD}).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    period = {"from": "2030-01-01", "to": "2030-02-28"}
    client.get("/api/v1/reports/", period)
    version_reads.clear()

    assert client.get("/api/v1/reports/", period).status_code == 200

    assert len(version_reads) == 1
    assert {f"ns:employee:{manager.pk}", "ns:figures:2030-01", "ns:figures:2030-02"} <= set(version_reads[0])


def test_a_booking_made_through_the_api_shows_in_the_next_report(
    manager, studio, monday_bookings, django_capture_on_commit_callbacks
):
    client = api_as(manager)
    period = {"from": "2030-01-14", "to": "2030-01-14"}
    before = client.get("/api/v1/reports/", period).json()["total"]["bookings"]

    with django_capture_on_commit_callbacks(execute=True):
        made = client.post("/api/v1/bookings/", booking_body(studio, local_instant(MONDAY, "20:00"), hours=1))

    assert made.status_code == 201
    assert client.get("/api/v1/reports/", period).json()["total"]["bookings"] == before + 1


def test_a_report_asked_for_in_another_format_is_refused(manager, studio):
    response = api_as(manager).get(
        "/api/v1/reports/", {"from": "2030-01-14", "to": "2030-01-14"}, HTTP_ACCEPT="text/csv"
    )

    assert response.status_code == 406


def test_a_utilisation_of_many_times_the_open_hours_is_within_what_the_schema_documents(manager, studio):
    # A closure keeps the bookings already holding its time: the day opens six minutes, booked ten hours.
    BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), end=local_instant(MONDAY, "20:00"))
    ClosureFactory(space=studio, start=local_instant(MONDAY, "08:06"), end=local_instant(MONDAY, "22:00"))

    body = api_as(manager).get("/api/v1/reports/", {"from": "2030-01-14", "to": "2030-01-14"}).json()

    (row,) = [row for row in body["spaces"] if row["space"]["slug"] == "test_studio"]
    assert (row["open_hours"], row["booked_hours"], row["utilisation"]) == ("0.1", "10.0", "10000.0")
    documented = ReportSerializer().fields["spaces"].child.fields["utilisation"]
    assert documented.run_validation(row["utilisation"]) == Decimal("10000.0")
