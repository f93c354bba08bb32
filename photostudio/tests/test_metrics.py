"""/metrics: open without METRICS_TOKEN, for the bearer of the token only when it is set."""

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import resolve
from prometheus_client import REGISTRY

from photostudio.metrics import PrometheusAfterMiddleware

pytestmark = pytest.mark.django_db

TOKEN = "scrape-me-5f0c2b7e"


def test_metrics_are_open_when_no_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics")

    assert response.status_code == 200
    assert b"studio_events_published_total" in response.content


def test_metrics_without_credentials_are_refused_when_a_token_is_configured(client, settings):
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"studio_events" not in response.content


@pytest.mark.parametrize("authorization", ["Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_with_a_wrong_token_are_refused(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", headers={"Authorization": authorization})

    assert response.status_code in (401, 403)
    assert b"studio_events" not in response.content


def test_metrics_answer_the_bearer_of_the_token(client, settings):
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert b"studio_events_published_total" in response.content


def _sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0


def test_each_request_is_counted_under_its_view_method_status_and_transport(client):
    counted = {
        (
            "django_http_responses_total_by_status_view_method_total",
            ("status", "200"),
            ("view", "health-db"),
            ("method", "GET"),
        ): 2,
        ("django_http_requests_latency_seconds_by_view_method_count", ("view", "health-db"), ("method", "GET")): 2,
        (
            "django_http_requests_total_by_view_transport_method_total",
            ("view", "health-db"),
            ("transport", "http"),
            ("method", "GET"),
        ): 2,
        ("django_http_requests_total_by_method_total", ("method", "GET")): 2,
        ("django_http_requests_total_by_transport_total", ("transport", "http")): 2,
        ("django_http_responses_total_by_status_total", ("status", "200")): 2,
        ("django_http_responses_total_by_charset_total", ("charset", "utf-8")): 2,
        ("django_http_requests_body_total_bytes_count",): 2,
        ("django_http_responses_body_total_bytes_count",): 2,
        ("django_http_ajax_requests_total",): 1,
    }
    before = {key: _sample(key[0], **dict(key[1:])) for key in counted}

    client.get("/health/db")
    client.get("/health/db", headers={"X-Requested-With": "XMLHttpRequest"})

    after = {key: _sample(key[0], **dict(key[1:])) for key in counted}
    assert {key: after[key] - before[key] for key in counted} == counted


def _response_samples() -> dict:
    return {
        "by status": _sample("django_http_responses_total_by_status_total", status="202"),
        "by status, view and method": _sample(
            "django_http_responses_total_by_status_view_method_total", status="202", view="health-db", method="GET"
        ),
        "by charset": _sample("django_http_responses_total_by_charset_total", charset="latin-1"),
        "streaming": _sample("django_http_responses_streaming_total"),
        "body bytes": _sample("django_http_responses_body_total_bytes_sum"),
        "bodies": _sample("django_http_responses_body_total_bytes_count"),
        "latencies": _sample(
            "django_http_requests_latency_seconds_by_view_method_count", view="health-db", method="GET"
        ),
    }


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            HttpResponse(b"12345", content_type="text/plain; charset=latin-1", status=202),
            {"streaming": 0, "body bytes": 5, "bodies": 1},
        ),
        (
            StreamingHttpResponse([b"12345"], content_type="text/plain; charset=latin-1", status=202),
            {"streaming": 1, "body bytes": 0, "bodies": 0},
        ),
    ],
    ids=["whole", "streaming"],
)
def test_each_response_is_measured_as_django_prometheus_measures_it(rf, response, expected):
    request = rf.get("/health/db")
    request.resolver_match = resolve("/health/db")
    middleware = PrometheusAfterMiddleware(lambda request: response)
    before = _response_samples()

    middleware(request)

    after = _response_samples()
    common = {"by status": 1, "by status, view and method": 1, "by charset": 1, "latencies": 1}
    assert {name: after[name] - before[name] for name in after} == common | expected
