"""The WSGI application gunicorn serves: every address answers as the URLconf says, request after request."""

import io
import json
import sys

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path

from photostudio.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def test_database_connections_stay_open():
    """What Django's test client does: the test's database connection, inside the test's
    transaction, must outlive each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def booking_page(request, pk):
    return HttpResponse(f"booking {pk}")


urlpatterns = [path("bookings/<int:pk>/", booking_page)]


def _get(path_info: str) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path_info,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "REMOTE_ADDR": "127.0.0.1",
    }
    statuses = []
    response = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        return statuses[0], b"".join(response)
    finally:
        response.close()


def test_an_address_answers_the_same_on_every_request():
    answers = [_get("/health/db") for _ in range(3)]

    assert [status for status, _ in answers] == ["200 OK"] * 3
    assert {json.loads(body)["component"] for _, body in answers} == {"database"}


@override_settings(ROOT_URLCONF=__name__)
def test_each_address_gets_its_own_arguments():
    assert _get("/bookings/7/") == ("200 OK", b"booking 7")
    assert _get("/bookings/8/") == ("200 OK", b"booking 8")
    assert _get("/bookings/7/") == ("200 OK", b"booking 7")


def test_a_changed_urlconf_is_followed():
    assert _get("/bookings/7/") != ("200 OK", b"booking 7")

    with override_settings(ROOT_URLCONF=__name__):
        assert _get("/bookings/7/") == ("200 OK", b"booking 7")

    assert _get("/bookings/7/") != ("200 OK", b"booking 7")
