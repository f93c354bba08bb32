"""The message middleware: messages reach the next page, and a request that uses none saves none."""

import pytest
from django.contrib import messages
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path
from django.utils.functional import empty

from employees.tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def flash(request):
    messages.success(request, "Booking confirmed.")
    return HttpResponse()


def show(request):
    return HttpResponse(" | ".join(str(message) for message in messages.get_messages(request)))


served = []


def plain(request):
    served.append(request)
    return HttpResponse("ok")


urlpatterns = [path("flash", flash), path("show", show), path("plain", plain)]


@override_settings(ROOT_URLCONF=__name__)
def test_a_message_added_on_one_request_is_shown_on_the_next(client):
    client.post("/flash")

    assert client.get("/show").content == b"Booking confirmed."
    assert client.get("/show").content == b""


@override_settings(ROOT_URLCONF=__name__)
def test_a_request_that_adds_and_reads_no_message_sets_no_message_cookie(client):
    response = client.get("/plain")

    assert "messages" not in response.cookies
    assert served.pop()._messages._wrapped is empty  # the storage was never built


def test_the_signed_out_page_says_so(client):
    employee = EmployeeFactory()
    client.force_login(employee)

    response = client.post("/logout/", follow=True)

    assert "You are signed out." in response.content.decode()
