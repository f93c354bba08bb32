"""/metrics: open without METRICS_TOKEN, for the bearer of the token only when it is set."""

import pytest

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
