from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command

from bookings.models import BookingState
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_send_reminders_e_mails_sessions_within_the_lead_time_once(settings, mailoutbox, capsys, after_commit):
    settings.NOTIFICATIONS_REMINDER_LEAD_MINUTES = 24 * 60
    soon = BookingFactory(start=MONDAY_10_UTC, state=BookingState.CONFIRMED)
    BookingFactory(start=MONDAY_10_UTC + timedelta(days=3), state=BookingState.CONFIRMED)
    with time_machine.travel(MONDAY_10_UTC - timedelta(hours=2), tick=False), after_commit():
        call_command("send_reminders")
        call_command("send_reminders")
    output = capsys.readouterr().out.splitlines()
    assert output[0].startswith("Queued 1 reminder(s)")
    assert output[1].startswith("Queued 0 reminder(s)")
    assert [message.to for message in mailoutbox] == [[soon.client.email]]


def test_send_reminders_says_when_reminders_are_switched_off(settings, capsys):
    settings.NOTIFICATIONS_ENABLED = ["booking_created"]
    call_command("send_reminders")
    assert "switched off" in capsys.readouterr().out
