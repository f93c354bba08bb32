"""How the API describes itself (drf-spectacular): every operation lists the errors it can
answer, each with the one error body; request bodies refuse undeclared fields, as the API does;
the schema's introduction explains the conventions every endpoint shares."""

import re

from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from photostudio.api import VALIDATION_MESSAGE, InputSerializer


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable and machine-readable, e.g. `validation_failed`, `not_found`, `booking_overlap`, "
        "`invalid_transition`, `throttled`. Branch on this, not on the message."
    )
    message = serializers.CharField(help_text="For people: what went wrong and what to do about it.")
    details = serializers.DictField(
        help_text="For `validation_failed`, the messages per field (`{field: [message, ...]}`); otherwise facts "
        "about the failure, such as the conflicting booking or the seconds to wait. May be empty."
    )


class ErrorSerializer(serializers.Serializer):
    """Every failure of the API has this body."""

    error = ErrorDetailSerializer()


def _example(name: str, code: str, message: str, details: dict | None = None) -> OpenApiExample:
    return OpenApiExample(name, value={"error": {"code": code, "message": message, "details": details or {}}})


# The failures any operation may meet, by status, with what each means.
_COMMON_ERRORS = {
    "400": (
        "The request is not valid: malformed JSON, a wrong type, an unknown field, a value out of range, "
        "or a host name the studio does not list in `ALLOWED_HOSTS`.",
        [
            _example("validation_failed", "validation_failed", VALIDATION_MESSAGE, {"people_count": ["..."]}),
            _example("malformed_request", "malformed_request", "JSON parse error - Expecting value"),
            _example("host_not_allowed", "host_not_allowed", "This server does not answer to that host name; ..."),
        ],
    ),
    "401": (
        "No valid credentials: log in at `/api/v1/auth/login` and send `Authorization: Bearer <access_token>`.",
        [_example("not_authenticated", "not_authenticated", "Authentication credentials were not provided.")],
    ),
    "403": (
        "Signed in, but the role may not do this.",
        [_example("permission_denied", "permission_denied", "You do not have permission to do this.")],
    ),
    "404": (
        "No such object (or one you may not see), or a page past the last one.",
        [_example("not_found", "not_found", "There is no booking #42.")],
    ),
    "415": (
        "The body is not JSON: send `Content-Type: application/json`.",
        [_example("unsupported_media_type", "unsupported_media_type", 'Unsupported media type "text/plain".')],
    ),
    "429": (
        "Too many requests from this caller (`API_THROTTLE_RATE`): wait `Retry-After` seconds.",
        [_example("throttled", "throttled", "Request was throttled.", {"wait_seconds": 12})],
    ),
}


def error_response(description: str, *examples: OpenApiExample, body=ErrorSerializer) -> OpenApiResponse:
    """An error an operation declares itself (a 409, a 422), with the one error body; ``body``, a
    serializer of that shape, may describe its ``details``."""
    return OpenApiResponse(body, description=description, examples=list(examples))


def conflict(*codes: str, body=ErrorSerializer, details: dict[str, dict] | None = None) -> OpenApiResponse:
    """409 answered with one of ``codes`` (a photostudio.errors code each), in ``body``'s shape;
    ``details`` gives the example of a code its details."""
    listed = ", ".join(f"`{code}`" for code in codes)
    return error_response(
        f"The request clashes with the current state: {listed}.",
        *(_example(code, code, "See the message for what clashed.", (details or {}).get(code)) for code in codes),
        body=body,
    )


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            # Errors declared without a body (as ``OpenApiResponse(description=...)``) get the body too.
            if "content" not in responses.get(status, {}):
                description, examples = _COMMON_ERRORS[status]
                documented = responses.get(status, {}).get("description") or description
                responses[status] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=documented, examples=examples), status
                )
        if "429" in responses:
            responses["429"]["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until requests are taken again."}
            }
        return dict(sorted(responses.items()))

    def _error_statuses(self) -> set[str]:
        statuses = set()
        if self.view.get_authenticators():
            statuses |= {"401", "403"}
            if self.view.get_throttles():
                statuses.add("429")
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            statuses |= {"400", "415"}
        if any(parameter["in"] == "query" for parameter in self._get_parameters()):
            statuses.add("400")
        if "{" in self.path or self._get_paginator() is not None:
            statuses.add("404")
        return statuses

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if isinstance(force_instance(serializer), InputSerializer):
            schema["additionalProperties"] = False
        return schema


INTRODUCTION = """
The REST API of the studio's CRM, for integrators: a website taking bookings, an accounting tool,
an automation. Everything here is also what the staff pages do, under the same rules.

**Authentication.** `POST /api/v1/auth/login` with `username` and `password` (and `mfa_code` for
accounts with two-factor authentication) answers an `access_token` and a `refresh_token`. Send
`Authorization: Bearer <access_token>` with every other request; renew at `/api/v1/auth/refresh`.

**Paths.** Every path works with and without a trailing slash (`/api/v1/bookings/1/state` and
`/api/v1/bookings/1/state/`).

**JSON.** Bodies are JSON objects (`Content-Type: application/json`). Fields an operation does not
declare are refused, not ignored, so a typo never passes silently.

**Times.** Date-times are ISO 8601 with a UTC offset (`2024-01-15T10:00:00Z`); a time without one
is refused. Answers give them in UTC. A bare date (`?date=2024-01-15`) is a day of the studio's
local calendar (its `TIME_ZONE`), which may last 23 or 25 hours.

**Errors.** Every failure answers `{"error": {"code", "message", "details"}}`: 400 for invalid
input (`details` names each field), 401 without valid credentials, 403 when the role may not,
404 for what does not exist or is not yours to see, 409 when the request clashes with the data
(`space_closed`, `booking_overlap`, `invalid_transition`, `booking_closed`, `concurrent_change`), 412 when a
booking changed since the `If-Match` sent (`booking_changed`), 422 for a reused `Idempotency-Key`, 429 when locked
out (`locked_out`) or throttled (`throttled`).

**Lists** are pages: `?page=` and `?page_size=` (at most 200), answering `count`, `next`,
`previous` and `results` in a stable order.

**Retries.** Send an `Idempotency-Key` header (a UUID, say) with `POST /api/v1/bookings/`: a retry
with the same key and body answers the first response again (with `Idempotent-Replayed: true`)
instead of booking twice.

**Lost updates.** Answers about one booking carry an `ETag`; send it back as `If-Match` with a change
of that booking (`PATCH`, `/state`, `/reschedule`) to make it only if nobody changed the booking since:
otherwise 412 `booking_changed`, and nothing changes. A list of ETags makes it if any is the current one, compared
strongly (a weak `W/"…"` tag never matches). Without `If-Match` the change applies to what is stored.

**Rate limit.** Each signed-in caller may make `API_THROTTLE_RATE` requests (600 a minute unless
the studio changed it); beyond that 429 with `Retry-After`.
""".strip()

_TAGS = [
    {"name": "auth", "description": "Sign in, renew and end token sign-ins."},
    {"name": "bookings", "description": "Bookings of the studio's spaces, their state machine and history."},
    {"name": "spaces", "description": "The bookable spaces and their free time."},
    {"name": "closures", "description": "Times a space or the whole studio takes no bookings."},
    {"name": "clients", "description": "The studio's clients and their booking history."},
    {"name": "waitlist", "description": "Clients waiting for a taken slot, booked once it frees up."},
    {"name": "employees", "description": "Staff records, the caller's profile, sign-ins and MFA."},
    {"name": "events", "description": "The event history: everything that happened, filterable."},
    {"name": "webhooks", "description": "Outbound webhook endpoints and their deliveries."},
]


def describe_api(result, generator, request, public):
    """drf-spectacular postprocessing hook: the introduction, the tags and the auth schemes explained."""
    result["info"]["description"] = INTRODUCTION
    used = {
        tag for path in result.get("paths", {}).values() for operation in path.values() for tag in operation["tags"]
    }
    result["tags"] = [tag for tag in _TAGS if tag["name"] in used]
    schemes = result.get("components", {}).get("securitySchemes", {})
    if "jwtAuth" in schemes:
        schemes["jwtAuth"]["description"] = "The `access_token` from `POST /api/v1/auth/login`, as a bearer token."
    if "cookieAuth" in schemes:
        schemes["cookieAuth"]["description"] = (
            "The staff pages' browser session; writes also need the CSRF token (`X-CSRFToken`)."
        )
    return result


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: OpenAPI links a client (or Schemathesis' stateful
    tests) can follow, from what was just created to the operations on it, from a list (or a
    page of one) to the operations on its first item, and from an answer about an item to the
    other operations on that item: a booking's detail to its state change, its state change to
    its reschedule, its reschedule to its history; a webhook endpoint to its deliveries."""
    paths = result.get("paths", {})
    schemas = result.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        item_path = re.fullmatch(r"(.*/)\{(\w+)\}/.*", path)
        for method, operation in item.items():
            responses = operation["responses"]
            if method == "post" and "201" in responses:
                _link(responses["201"], paths, under=path, source=lambda name: f"$response.body#/{name}")
            body = responses.get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if method == "get" and "/Paginated" in body.get("$ref", ""):
                _link(responses["200"], paths, under=path, source=lambda name: f"$response.body#/results/0/{name}")
            elif method == "get" and body.get("type") == "array":
                _link(responses["200"], paths, under=path, source=lambda name: f"$response.body#/0/{name}")
            elif item_path and item_path.group(2) in _properties(body, schemas):
                _link(responses["200"], paths, under=item_path.group(1), source=lambda name: f"$response.body#/{name}")
    return result


def _properties(schema: dict, schemas: dict) -> dict:
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[1], {})
    return schema.get("properties", {})


def _link(response: dict, paths: dict, *, under: str, source) -> None:
    """Links from ``response`` to every operation on a path ``under`` plus one path parameter."""
    prefix = re.escape(under)
    for path, item in paths.items():
        match = re.fullmatch(prefix + r"\{(\w+)\}/.*", path)
        if match is None:
            continue
        name = match.group(1)
        for operation in item.values():
            links = response.setdefault("links", {})
            links[operation["operationId"]] = {
                "operationId": operation["operationId"],
                "parameters": {name: source(name)},
            }
