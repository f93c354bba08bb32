"""The API's content negotiation chooses what DRF's own would, whatever the client asks for."""

import pytest
from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from photostudio.api import ContentNegotiation

ACCEPT_HEADERS = [
    None,
    "",
    "*/*",
    "application/json",
    "application/json; indent=4",
    "application/*",
    "text/html",
    "text/csv",
    "text/html, */*;q=0.8",
    "application/json, text/html",
    "APPLICATION/JSON",
    " application/json",
]


def choice(negotiator, renderers, *, accept, query="", format_suffix=None):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/api/v1/bookings/" + query, **headers))
    try:
        renderer, media_type = negotiator.select_renderer(request, renderers, format_suffix)
    except NotAcceptable:
        return "406"
    except Http404:
        return "404"
    return type(renderer), media_type


@pytest.mark.parametrize("accept", ACCEPT_HEADERS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api", "?format="])
@pytest.mark.parametrize("renderers", [[JSONRenderer()], [JSONRenderer(), BrowsableAPIRenderer()]])
def test_the_renderer_chosen_is_the_one_drf_would_choose(accept, query, renderers):
    ours = choice(ContentNegotiation(), renderers, accept=accept, query=query)
    drfs = choice(DefaultContentNegotiation(), renderers, accept=accept, query=query)

    assert ours == drfs


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_a_format_suffix_is_negotiated_as_drf_does(accept):
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]

    ours = choice(ContentNegotiation(), renderers, accept=accept, format_suffix="api")

    assert ours == choice(DefaultContentNegotiation(), renderers, accept=accept, format_suffix="api")
