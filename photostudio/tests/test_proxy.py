"""What the app trusts from the reverse proxy in front of it."""

import pytest
from django.test import RequestFactory

from photostudio.middleware import client_ip


@pytest.mark.django_db
def test_health_answers_a_probe_whose_host_is_not_allowed(client):
    response = client.get("/health", HTTP_HOST="172.18.0.5:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "component": "app"}


@pytest.mark.django_db
def test_other_pages_still_refuse_a_host_that_is_not_allowed(client):
    response = client.get("/health/db", HTTP_HOST="172.18.0.5:8000")
    assert response.status_code == 400


def test_client_ip_behind_one_proxy_is_the_address_the_proxy_appended(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7", REMOTE_ADDR="172.18.0.2"
    )  # the client wrote 10.9.9.9 itself; nginx appended the address it saw
    assert client_ip(request) == "203.0.113.7"


def test_client_ip_without_a_proxy_ignores_forwarded_for(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 0
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="10.9.9.9", REMOTE_ADDR="198.51.100.4")
    assert client_ip(request) == "198.51.100.4"


def test_client_ip_with_a_missing_forwarded_for_falls_back_to_the_peer(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4")
    assert client_ip(request) == "198.51.100.4"
