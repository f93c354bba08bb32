"""Nothing but signing in, health, metrics and the API docs answers a caller who is not signed in
(a calendar feed answers only the secret token in its own URL, which the sample arguments are not).

Walks every URL pattern of the project (so new pages are covered the day they appear), fills in
sample arguments, and asks anonymously with GET and POST.
"""

import re

import pytest
from django.urls import URLResolver, get_resolver

pytestmark = pytest.mark.django_db

OPEN_TO_ANONYMOUS = {
    # signing in, out and resetting a forgotten password
    "login",
    "login-verify",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "admin:login",
    "admin:logout",
    "api-login",
    "api-refresh",
    "api-logout",
    # operations
    "health",
    "health-db",
    "health-cache",
    "health-events",
    "api-bookings-health",  # the guide's GET /api/v1/bookings/health
    "prometheus-django-metrics",
    # API documentation
    "schema",
    "swagger-ui",
    "redoc",
}
LOGIN_PAGES = {"/login/", "/admin/login/"}
SAMPLE_ARGUMENTS = {"app_label": "employees", "url": "anything/", "uidb64": "MQ", "token": "set-password"}


def _patterns(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern, prefix + str(pattern.pattern), inner)
        else:
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}" if pattern.name else None


def _sample_path(pattern: str) -> str:
    path = pattern.replace("^", "").replace("$", "").replace("/?", "/")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE_ARGUMENTS.get(m.group(1), "1"), path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE_ARGUMENTS.get(m.group(1), "1"), path)
    return "/" + path


PROTECTED = sorted({_sample_path(p) for p, name in _patterns() if name not in OPEN_TO_ANONYMOUS})


def test_the_walk_finds_the_studios_pages():
    assert {"/profile/", "/api/v1/employees/profile/", "/admin/", "/api/v1/employees/1/"} <= set(PROTECTED)


def _refused(response) -> bool:
    if response.status_code in {401, 403, 404, 405}:
        return True
    return response.status_code == 200 and response.request["PATH_INFO"] in LOGIN_PAGES


@pytest.mark.parametrize("path", PROTECTED)
def test_anonymous_get_is_refused(client, path):
    response = client.get(path, follow=True)
    assert _refused(response), f"GET {path} answered {response.status_code} at {response.request['PATH_INFO']}"


@pytest.mark.parametrize("path", PROTECTED)
def test_anonymous_post_is_refused(client, path):
    response = client.post(path, {}, follow=True)
    assert _refused(response), f"POST {path} answered {response.status_code} at {response.request['PATH_INFO']}"
