"""Every failure of the API is the one error body with a 4xx status, whatever the client sends."""

import pytest
from django.test import Client

from bookings.tests.api import api_as
from employees.models import Role
from employees.tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

BOOKINGS = "/api/v1/bookings/"


@pytest.fixture
def desk():
    return api_as(EmployeeFactory(role=Role.RECEPTIONIST))


def error(response) -> dict:
    assert set(response.json()) == {"error"}
    assert set(response.json()["error"]) == {"code", "message", "details"}
    return response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"client_name": "John Doe",',
        b"{'client_name': 'single quotes'}",
        b'{"people_count": NaN}',
        b"\xff\xfe not utf-8",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["truncated", "single-quotes", "nan", "not-utf8", "nested-too-deep"],
)
def test_malformed_json_is_a_400(desk, body):
    response = desk.generic("POST", BOOKINGS, body, content_type="application/json")

    assert response.status_code == 400
    assert error(response)["code"] == "malformed_request"


# A lone half of a UTF-16 surrogate pair is valid JSON syntax but no text: echoed back in an error
# (an unknown space, state or field name), it could not be written out as UTF-8.
@pytest.mark.parametrize(
    "body",
    [b'{"space_type": "\\ud800"}', b'{"\\udfff": 1}'],
    ids=["value", "key"],
)
def test_a_lone_surrogate_in_json_is_a_400(desk, body):
    response = desk.generic("POST", BOOKINGS, body, content_type="application/json")

    assert response.status_code == 400
    assert error(response)["code"] == "malformed_request"


def test_a_surrogate_pair_in_json_is_read_as_its_character(desk):
    response = desk.generic("POST", BOOKINGS, b'{"client_name": "\\ud83d\\udcf7"}', content_type="application/json")

    assert response.status_code == 400
    assert error(response)["code"] == "validation_failed"
    assert "client_name" not in error(response)["details"]


@pytest.mark.parametrize("body", [b"[]", b'"a string"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_a_validation_error(desk, body):
    response = desk.generic("POST", BOOKINGS, body, content_type="application/json")

    assert response.status_code == 400
    assert error(response)["code"] == "validation_failed"


def test_an_unknown_charset_is_read_as_utf8(desk):
    response = desk.generic("POST", BOOKINGS, b"{}", content_type="application/json; charset=klingon")

    assert response.status_code == 400
    assert error(response)["code"] == "validation_failed"


def test_a_body_over_the_upload_limit_is_a_400(desk, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = b'{"notes": "' + b"x" * 2000 + b'"}'

    response = desk.generic("POST", BOOKINGS, body, content_type="application/json")

    assert response.status_code == 400
    assert error(response)["code"] == "request_too_large"


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"]
)
def test_bodies_other_than_json_are_unsupported(desk, content_type):
    response = desk.generic("POST", BOOKINGS, b"client_name=John", content_type=content_type)

    assert response.status_code == 415
    assert error(response)["code"] == "unsupported_media_type"


def test_an_unknown_api_address_is_a_json_404(desk):
    response = desk.get("/api/v1/bookingz/")

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_an_unknown_api_address_is_a_json_404_with_debug_on_too(desk, settings):
    # The guide's set-up and `make run` turn DEBUG on; Django would answer its HTML debug page.
    settings.DEBUG = True

    response = desk.get("/api/v1/bookingz/")

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_a_post_to_an_unknown_api_address_is_a_json_404_not_a_csrf_page():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/api/v1/bookingz/", {}, content_type="application/json")

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_an_unknown_page_outside_the_api_stays_html(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_calling_the_api_by_a_host_name_the_studio_does_not_serve_is_a_json_400(desk):
    # An integrator using the server's address or a new domain before ALLOWED_HOSTS lists it.
    desk.raise_request_exception = False

    response = desk.get(BOOKINGS, headers={"host": "crm.example.org"})

    assert response.status_code == 400
    assert error(response)["code"] == "host_not_allowed"
    assert "ALLOWED_HOSTS" in error(response)["message"]


def test_a_query_string_with_more_fields_than_django_takes_is_a_json_400(desk):
    desk.raise_request_exception = False

    response = desk.get(BOOKINGS + "?" + "&".join(f"f{number}=1" for number in range(1001)))

    assert response.status_code == 400
    assert error(response)["code"] == "malformed_request"


def test_a_page_asked_for_by_a_host_name_the_studio_does_not_serve_stays_html(client):
    client.raise_request_exception = False

    response = client.get("/login/", headers={"host": "crm.example.org"})

    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


def test_a_method_the_address_does_not_take_is_a_405_naming_those_it_does(desk):
    response = desk.delete(BOOKINGS)

    assert response.status_code == 405
    assert error(response)["code"] == "method_not_allowed"
    assert {"GET", "POST"} <= {method.strip() for method in response["Allow"].split(",")}


def test_asking_for_anything_but_json_is_a_406(desk):
    response = desk.get(BOOKINGS, headers={"Accept": "text/html"})

    assert response.status_code == 406
    assert error(response)["code"] == "not_acceptable"


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Bearer ", "Basic YWRtaW46cGFzc3dvcmQ="])
def test_a_bad_token_is_a_401(client, header):
    response = client.get(BOOKINGS, headers={"Authorization": header})

    assert response.status_code == 401
    assert error(response)["code"] in {"authentication_failed", "not_authenticated"}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("people_count", "4", "Expected a whole number."),
        ("people_count", 4.0, "Expected a whole number."),
        ("people_count", True, "Expected a whole number."),
        ("client_name", 42, "Expected a string."),
        ("client_phone", None, "This field may not be null."),
        ("price", 75.5, "Expected a string."),
        ("space_type", ["studio_a"], "Expected a string."),
    ],
)
def test_values_of_the_wrong_json_type_are_refused_not_converted(desk, field, value, expected):
    response = desk.post(BOOKINGS, {field: value})

    assert response.status_code == 400
    assert error(response)["details"][field] == [expected]


def test_a_filter_given_without_a_value_is_refused(desk):
    response = desk.get(BOOKINGS, {"to": "", "space": " "})

    assert response.status_code == 400
    assert set(error(response)["details"]) == {"to", "space"}


def test_an_event_actor_that_is_no_employee_id_is_refused():
    manager = api_as(EmployeeFactory(role=Role.MANAGER))

    response = manager.get("/api/v1/events/", {"actor": "-2.0332702499188928e+42"})

    assert response.status_code == 400
    assert "actor" in error(response)["details"]


def test_should_a_bug_get_through_the_api_still_answers_its_error_body(desk, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("bookings.selectors.visible_bookings", broken)
    desk.raise_request_exception = False

    response = desk.get(BOOKINGS)

    assert response.status_code == 500
    assert error(response)["code"] == "server_error"
    assert "a bug" not in response.content.decode()
