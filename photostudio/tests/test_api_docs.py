"""The API documents itself: Swagger UI at /docs and ReDoc at /redoc, from local files only, over
an OpenAPI 3 schema at /api/schema/ that describes every operation, its errors and its auth."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    """The live schema, as an anonymous reader fetches it (once: generating it takes a moment)."""
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


@pytest.mark.parametrize("path", ["/docs", "/docs/", "/redoc", "/redoc/"])
def test_docs_pages_load_only_local_static_files(client, path):
    response = client.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assets = _ASSET.findall(page)
    assert assets, "the page should load its viewer"
    # Swagger UI's start-up script comes from the page's own address, not inline (its CSP).
    assets = [asset for asset in assets if asset != f"{path}?script="]
    for asset in assets:
        assert asset.startswith("/static/"), f"{path} loads {asset}"
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not among the static files"
    assert "http://" not in page
    assert "https://" not in page


def test_schema_is_valid_openapi_3_and_open_to_read(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_schema_has_every_endpoint_of_the_guide_and_the_integrator_api(schema):
    expected = {
        "/api/v1/auth/login/",
        "/api/v1/bookings/",
        "/api/v1/bookings/{id}/",
        "/api/v1/bookings/{id}/state/",
        "/api/v1/bookings/{id}/reschedule/",
        "/api/v1/bookings/{id}/history/",
        "/api/v1/bookings/health/",
        "/api/v1/spaces/",
        "/api/v1/spaces/{slug}/",
        "/api/v1/spaces/{slug}/free-slots/",
        "/api/v1/clients/",
        "/api/v1/clients/{id}/",
        "/api/v1/clients/{id}/history/",
        "/api/v1/employees/",
        "/api/v1/employees/profile/",
        "/api/v1/employees/{id}/",
        "/api/v1/events/",
        "/api/v1/reports/",
    }
    assert expected <= set(schema["paths"])


def test_bearer_jwt_is_the_documented_auth(schema):
    jwt = schema["components"]["securitySchemes"]["jwtAuth"]
    assert (jwt["type"], jwt["scheme"], jwt["bearerFormat"]) == ("http", "bearer", "JWT")
    assert "auth/login" in jwt["description"]
    assert {"jwtAuth": []} in schema["paths"]["/api/v1/bookings/"]["get"]["security"]


# The one error body, and the same body with the details of a clash over a booking's time described.
ERROR_BODIES = ("Error", "BookingConflict")


def test_every_error_answer_documents_the_error_body(schema):
    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and name != "GET /api/v1/bookings/health/":
                body = response["content"]["application/json"]["schema"]
                assert body in [{"$ref": f"#/components/schemas/{body}"} for body in ERROR_BODIES], f"{name} {status}"


def test_every_error_body_has_the_one_shape(schema):
    components = schema["components"]["schemas"]
    for body in ERROR_BODIES:
        detail = components[components[body]["properties"]["error"]["$ref"].rsplit("/", 1)[-1]]
        assert (components[body]["required"], detail["required"]) == (["error"], ["code", "details", "message"])


def test_a_booking_overlap_documents_its_alternatives_on_create_and_reschedule(schema):
    for path in ("/api/v1/bookings/", "/api/v1/bookings/{id}/reschedule/"):
        conflict = schema["paths"][path]["post"]["responses"]["409"]["content"]["application/json"]
        example = conflict["examples"]["BookingOverlap"]["value"]["error"]["details"]["alternatives"]
        assert conflict["schema"] == {"$ref": "#/components/schemas/BookingConflict"}, path
        assert set(example) == {"same_space", "other_spaces"}, path
    alternatives = schema["components"]["schemas"]["BookingAlternatives"]["properties"]
    assert alternatives["other_spaces"]["items"] == {"$ref": "#/components/schemas/AlternativeSpace"}


# Signing out and ending sign-ins are not counted by the throttle (employees.api.views).
NOT_THROTTLED = {
    "POST /api/v1/auth/logout/",
    "DELETE /api/v1/employees/profile/sessions/",
    "DELETE /api/v1/employees/profile/sessions/{id}/",
}


def test_signed_in_operations_document_401_403_and_429_unless_they_end_sign_ins(schema):
    for name, operation in operations(schema):
        if any("jwtAuth" in requirement for requirement in operation.get("security", [])):
            assert {"401", "403"} <= set(operation["responses"]), name
            assert ("429" in operation["responses"]) is (name not in NOT_THROTTLED), name


def test_writes_document_400_and_refuse_undeclared_fields(schema):
    for name, operation in operations(schema):
        if "requestBody" in operation:
            assert "400" in operation["responses"], name
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
            assert component["additionalProperties"] is False, name


def test_the_guides_examples_are_in_the_schema(schema):
    create = schema["paths"]["/api/v1/bookings/"]["post"]
    request_examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert any(example["value"].get("space_type") == "studio_a" for example in request_examples.values())
    state = schema["paths"]["/api/v1/bookings/{id}/state/"]["post"]
    state_examples = state["requestBody"]["content"]["application/json"]["examples"]
    assert any(example["value"].get("reason") == "Client confirmed via phone" for example in state_examples.values())


def test_new_bookings_link_to_what_can_be_done_with_them(schema):
    links = schema["paths"]["/api/v1/bookings/"]["post"]["responses"]["201"]["links"]
    assert links["bookings_state"] == {
        "operationId": "bookings_state",
        "parameters": {"id": "$response.body#/id"},
        "requestBody": {
            "target_state": "$response.body#/allowed_transitions/0/target_state",
            "reason": "Followed the link from the booking",
        },
    }
    assert links["clients_history"]["parameters"] == {"id": "$response.body#/client/id"}
    operation_ids = {operation["operationId"] for _, operation in operations(schema)}
    assert {link["operationId"] for link in links.values()} <= operation_ids


def test_idempotency_key_and_date_filter_are_documented(schema):
    create = schema["paths"]["/api/v1/bookings/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    listing = schema["paths"]["/api/v1/bookings/"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"date", "from", "to", "space", "state", "photographer", "client", "page", "page_size"} <= names


def test_booking_changes_document_if_match_etag_and_412(schema):
    for path, method in [
        ("/api/v1/bookings/{id}/", "patch"),
        ("/api/v1/bookings/{id}/state/", "post"),
        ("/api/v1/bookings/{id}/reschedule/", "post"),
    ]:
        operation = schema["paths"][path][method]
        if_match = next(p for p in operation["parameters"] if p["name"] == "If-Match" and p["in"] == "header")
        assert re.fullmatch(if_match["schema"]["pattern"], '"1-0", W/"1-1"'), path
        assert if_match["schema"]["maxLength"] == 1024, path
        assert "ETag" in operation["responses"]["200"]["headers"], path
        examples = operation["responses"]["412"]["content"]["application/json"]["examples"].values()
        assert [example["value"]["error"]["code"] for example in examples] == ["booking_changed"], path
    assert "ETag" in schema["paths"]["/api/v1/bookings/{id}/"]["get"]["responses"]["200"]["headers"]


def _referenced(schema, node, seen):
    """Names of the components ``node`` refers to, directly or through other components."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/") and (name := ref.rsplit("/", 1)[-1]) not in seen:
            seen.add(name)
            _referenced(schema, schema["components"]["schemas"][name], seen)
        for value in node.values():
            _referenced(schema, value, seen)
    elif isinstance(node, list):
        for value in node:
            _referenced(schema, value, seen)
    return seen


def test_every_field_of_the_bookings_spaces_clients_and_reports_api_is_described(schema):
    integrator_paths = [
        item
        for path, item in schema["paths"].items()
        if path.split("/")[3] in {"bookings", "spaces", "clients", "reports"}
    ]
    for name in sorted(_referenced(schema, integrator_paths, set())):
        for field, definition in schema["components"]["schemas"][name].get("properties", {}).items():
            assert "description" in definition or "$ref" in definition, f"{name}.{field} is not described"


def test_an_empty_email_is_documented_as_allowed_where_the_api_gives_or_takes_one(schema):
    """ "" is no valid ``format: email``, yet clients and employees may have no address."""
    components = schema["components"]["schemas"]
    for name, field in [
        ("Client", "email"),
        ("ClientSummary", "email"),
        ("Employee", "email"),
        ("BookingCreate", "client_email"),
    ]:
        assert {"type": "string", "maxLength": 0} in components[name]["properties"][field]["anyOf"], name


def test_a_booking_links_from_its_detail_to_its_state_change_reschedule_and_history(schema):
    def links_of(path, method):
        return schema["paths"][path][method]["responses"]["200"]["links"]

    detail = links_of("/api/v1/bookings/{id}/", "get")
    state = links_of("/api/v1/bookings/{id}/state/", "post")
    reschedule = links_of("/api/v1/bookings/{id}/reschedule/", "post")

    assert detail["bookings_state"]["parameters"] == {"id": "$response.body#/id"}
    assert state["bookings_reschedule"]["requestBody"] == {
        "start_time": "$response.body#/start_time",
        "end_time": "$response.body#/end_time",
    }
    assert reschedule["bookings_history"] == {
        "operationId": "bookings_history",
        "parameters": {"id": "$response.body#/id"},
    }


def test_a_webhook_endpoint_links_to_its_delivery_log(schema):
    for path, method, status in [("/api/v1/webhooks/", "post", "201"), ("/api/v1/webhooks/{id}/", "get", "200")]:
        links = schema["paths"][path][method]["responses"][status]["links"]

        assert links["webhooks_deliveries_list"]["parameters"] == {"id": "$response.body#/id"}
