"""Every API write refuses control characters in its text and every date outside 2000-2099 with
400 ``validation_failed``, never a 500. The operations come from the live OpenAPI schema, so a new
endpoint is fed the same input without anyone adding it here."""

from datetime import timedelta

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from bookings.models import BookingState, Space
from bookings.tests.api import install_default_spaces
from bookings.tests.factories import (
    MONDAY_10_UTC,
    BookingFactory,
    BookingSeriesFactory,
    ClientFactory,
    ClosureFactory,
    WaitlistEntryFactory,
)
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events.tests.factories import DeliveryFactory, WebhookEndpointFactory
from photostudio.inputs import OUT_OF_CALENDAR_MESSAGE

pytestmark = pytest.mark.django_db

WRITES = ("post", "put", "patch")
EXTREME_DAYS = ("9999-12-31", "0001-01-01")


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _body_properties(schema, operation) -> dict:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if not body:
        return {}
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return {name: prop for name, prop in body.get("properties", {}).items() if not prop.get("readOnly")}


def _text_fields():
    schema = _schema()
    return [
        pytest.param(method, path, name, prop.get("type") == "array", id=f"{method} {path} {name}")
        for path, method, operation in _operations(schema)
        if method in WRITES
        for name, prop in _body_properties(schema, operation).items()
        if (prop.get("type") == "string" or prop.get("items", {}).get("type") == "string" or "anyOf" in prop)
        and prop.get("format") != "password"
    ]


def _date_fields():
    schema = _schema()
    body_dates = [
        pytest.param(method, path, "body", name, prop["format"], id=f"{method} {path} {name}")
        for path, method, operation in _operations(schema)
        if method in WRITES
        for name, prop in _body_properties(schema, operation).items()
        if prop.get("format") in ("date", "date-time")
    ]
    query_dates = [
        pytest.param(
            method,
            path,
            "query",
            parameter["name"],
            parameter["schema"]["format"],
            id=f"{method} {path} ?{parameter['name']}",
        )
        for path, method, operation in _operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter["schema"].get("format") in ("date", "date-time")
    ]
    return body_dates + query_dates


@pytest.fixture
def api():
    """Signed in as an admin, who may call every operation; something for every path to name."""
    install_default_spaces()
    admin = EmployeeFactory(role=Role.ADMIN)
    booking = BookingFactory(start=MONDAY_10_UTC + timedelta(days=7), state=BookingState.CONFIRMED)
    endpoint = WebhookEndpointFactory()
    ids = {
        "bookings": booking.pk,
        "series": BookingFactory(series=BookingSeriesFactory(), state=BookingState.CONFIRMED).series_id,
        "clients": ClientFactory().pk,
        "employees": EmployeeFactory(role=Role.RECEPTIONIST).pk,
        "webhooks": endpoint.pk,
        "deliveries": DeliveryFactory(handler=endpoint.handler_name, endpoint=endpoint).pk,
        "sessions": 1,
        "spaces": Space.objects.first().slug,
        "closures": ClosureFactory().pk,
        "waitlist": WaitlistEntryFactory(start=MONDAY_10_UTC + timedelta(days=7)).pk,
    }
    client = APIClient()
    client.force_authenticate(admin)
    return client, ids


def _url(path: str, ids: dict) -> str:
    parts = path.strip("/").split("/")
    filled = [str(ids[parts[index - 1]]) if part.startswith("{") else part for index, part in enumerate(parts)]
    return "/" + "/".join(filled) + "/"


def _call(client, method, url, body):
    return getattr(client, method)(url, body, format="json")


@pytest.mark.parametrize(("method", "path", "field", "listed"), _text_fields())
@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f"], ids=["NUL", "ESC", "DEL"])
def test_a_control_character_in_any_text_field_of_any_write_is_refused(api, method, path, field, listed, character):
    client, ids = api
    text = f"Nina{character}Novak"

    response = _call(client, method, _url(path, ids), {field: [text] if listed else text})

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert "control character" in " ".join(error["details"][field])


@pytest.mark.parametrize(("method", "path", "where", "field", "kind"), _date_fields())
@pytest.mark.parametrize("day", EXTREME_DAYS)
def test_every_date_the_api_takes_is_bounded_to_the_calendar(api, method, path, where, field, kind, day):
    client, ids = api
    value = day if kind == "date" else f"{day}T23:30:00-05:00"

    if where == "query":
        response = client.get(_url(path, ids), {field: value})
    else:
        response = _call(client, method, _url(path, ids), {field: value})

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"][field] == [OUT_OF_CALENDAR_MESSAGE]  # said once, the calendar's words


@pytest.mark.parametrize("multiline", ["Bring\tthe grey backdrop.\r\nTwo dogs.", "Line one\nLine two"])
def test_notes_keep_their_tabs_and_line_breaks(api, multiline):
    client, ids = api

    response = client.patch(f"/api/v1/bookings/{ids['bookings']}/", {"notes": multiline}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["notes"] == multiline


@pytest.mark.parametrize("password", ["pass\x01word", "pass\x00word"])
def test_a_password_is_taken_as_typed_and_judged_by_the_password_check_alone(api, password):
    client, _ = api
    client.force_authenticate(None)

    response = client.post("/api/v1/auth/login", {"username": "nobody", "password": password}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_a_line_break_in_a_single_line_field_is_refused(api):
    client, ids = api

    response = client.patch(f"/api/v1/clients/{ids['clients']}/", {"full_name": "Nina\nNovak"}, format="json")

    assert response.status_code == 400
    assert "control character U+000A" in response.json()["error"]["details"]["full_name"][0]


@pytest.mark.parametrize("parameter", ["page", "page_size"])
def test_a_control_character_in_a_day_lists_paging_is_refused_whether_or_not_the_day_is_cached(api, parameter):
    client, _ = api
    refused = {"date": "2030-01-07", parameter: "2\x01"}

    cold = client.get("/api/v1/bookings/", refused)
    client.get("/api/v1/bookings/", {"date": "2030-01-07"})  # the day is cached from now on
    responses = [cold, client.get("/api/v1/bookings/", refused)]

    assert [response.status_code for response in responses] == [400, 400]
    assert {tuple(response.json()["error"]["details"][parameter]) for response in responses} == {
        ("Remove the control character U+0001: this field takes a single line of plain text.",)
    }


def test_a_control_character_in_a_list_filter_is_refused(api):
    client, _ = api

    response = client.get("/api/v1/bookings/", {"space": "studio_a\x00"})

    assert response.status_code == 400
    assert response.json()["error"]["details"]["space"] == [
        "Remove the control character U+0000: this field takes a single line of plain text."
    ]
