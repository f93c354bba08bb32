import pytest

from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events.tests.receiver import WebhookReceiver


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
