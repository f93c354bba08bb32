"""docs/api.md runs as written: every example against a live server, every answer it shows checked."""

import doctest
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from bookings.tests.api import install_default_spaces
from employees.models import Role
from employees.tests.factories import EmployeeFactory, enrol_mfa
from events.tests.receiver import WebhookReceiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

WALKTHROUGH = Path(django_settings.BASE_DIR) / "docs" / "api.md"
PASSWORD = "integration-passphrase-42"


def _first_post(receiver: WebhookReceiver, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while not receiver.received:
        if time.monotonic() > deadline:
            raise AssertionError("no webhook delivery arrived")
        time.sleep(0.05)
    return receiver.received[0]


def test_the_api_walkthrough_runs_as_written(live_server, settings):
    settings.TIME_ZONE = "UTC"
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    install_default_spaces()
    integration = EmployeeFactory(username="integration", role=Role.MANAGER, password=PASSWORD)
    with WebhookReceiver() as receiver:
        names = {
            "BASE_URL": live_server.url,
            "USERNAME": integration.username,
            "PASSWORD": PASSWORD,
            "TOTP_SECRET": enrol_mfa(integration),
            "RECEIVER_URL": receiver.url("/hooks/studio"),
            "wait_for_delivery": lambda: _first_post(receiver),
        }
        failed, tried = doctest.testfile(
            str(WALKTHROUGH), module_relative=False, globs=names, optionflags=doctest.ELLIPSIS
        )
    assert tried >= 30
    assert failed == 0, "docs/api.md shows answers the server does not give (see the output above)"
