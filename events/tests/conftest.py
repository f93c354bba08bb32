import subprocess

import pytest

from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events import services, webhooks
from events.tests.receiver import WebhookReceiver

# The pipeline tests publish types of their own, each subscribed by a test handler.
TEST_EVENT_TYPES = frozenset(
    {
        "test.recorded",
        "test.followed_up",
        "test.multi_a",
        "test.multi_b",
        "test.flaky",
        "test.always_failing",
        "test.nothing_to_do",
        "test.slow",
        "test.relayed",
        "test.metered",
        "test.metered_failing",
    }
)


@pytest.fixture(autouse=True)
def _test_event_types(monkeypatch):
    monkeypatch.setattr(services, "PUBLISHABLE_TYPES", services.PUBLISHABLE_TYPES | TEST_EVENT_TYPES)


@pytest.fixture
def manager():
    return EmployeeFactory(role=Role.MANAGER)


@pytest.fixture
def admin():
    return EmployeeFactory(role=Role.ADMIN)


@pytest.fixture
def receptionist():
    return EmployeeFactory(role=Role.RECEPTIONIST)


@pytest.fixture
def webhook_receiver(settings):
    """A real HTTP server on 127.0.0.1; private targets are allowed for the test."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def https_webhook_receiver(settings, tmp_path, monkeypatch):
    """``webhook_receiver`` over HTTPS, with a certificate made for the test that webhooks trust."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    certificate, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key,
            "-out",
            certificate,
        ],
        check=True,
        capture_output=True,
    )
    plain_session = webhooks._session

    def trusting_the_certificate():
        session = plain_session()
        session.verify = certificate
        return session

    monkeypatch.setattr(webhooks, "_session", trusting_the_certificate)
    with WebhookReceiver(certificate=(certificate, key)) as receiver:
        yield receiver
