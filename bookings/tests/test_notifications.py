from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bookings import services as bookings
from bookings.models import BookingState
from bookings.notifications import queue_booking_reminders
from bookings.subscribers import (
    email_client_booking_confirmed_or_cancelled,
    email_client_booking_created,
    email_client_booking_reminder,
)
from bookings.tests.factories import BookingFactory, ClientFactory, PhotographerFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events.models import Delivery, Event, EventType
from events.registry import handler_name
from events.services import relay

# Monday 14 January 2030, 10:00 UTC = 11:00 in Berlin (CET).
MONDAY_10_UTC = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)
BEFORE_IT = datetime(2030, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _studio_in_berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.DEFAULT_FROM_EMAIL = "Lichthof Studio <studio@lichthof.test>"


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def front_desk():
    return EmployeeFactory(role=Role.RECEPTIONIST)


@pytest.fixture
def space():
    return SpaceFactory(slug="daylight", name="Daylight Studio")


def _book(front_desk, space, *, email="ada@client.test", start=MONDAY_10_UTC):
    return bookings.create_booking(
        actor=front_desk,
        space=space,
        start=start,
        end=start + timedelta(hours=2),
        people_count=3,
        client_name="Ada Lovelace",
        client_phone="+14155550100",
        client_email=email,
    )


def _html(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


@pytest.mark.django_db
def test_client_gets_an_email_when_a_booking_is_created_with_times_in_the_studio_time_zone(
    front_desk, space, after_commit, mailoutbox
):
    with time_machine.travel(BEFORE_IT, tick=False), after_commit():
        booking = _book(front_desk, space)

    [message] = mailoutbox
    assert message.to == ["ada@client.test"]
    assert message.subject == "We have your booking for Mon 14 Jan, 11:00"
    assert "Monday 14 January 2030" in message.body
    assert "11:00–13:00 (CET)" in message.body
    assert "Daylight Studio, 3 people" in message.body
    assert "Hello Ada Lovelace" in message.body
    assert "11:00–13:00 (CET)" in _html(message)
    assert "Lichthof Studio" in _html(message)
    delivery = Delivery.objects.get(handler=handler_name(email_client_booking_created))
    assert delivery.event.aggregate_id == str(booking.pk)
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert delivery.outcome == "E-mailed ada@client.test: We have your booking for Mon 14 Jan, 11:00"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "times"),
    [
        # 01:30 CEST to 02:30 CET: the clocks go back at 03:00 CEST between them.
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), "01:30 CEST–02:30 CET"),
        # The second 02:00 (CET) to 04:00: one zone, named once.
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "02:00–04:00 (CET)"),
    ],
)
def test_the_email_of_a_session_on_the_night_the_clocks_go_back_names_the_zone_of_each_time(
    front_desk, after_commit, mailoutbox, start, times
):
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"], "sat": ["00:00", "24:00"]})
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), tick=False), after_commit():
        _book(front_desk, night, start=start)

    [message] = mailoutbox
    assert f"  {times}\n" in message.body
    assert f">{times}</td>" in _html(message)


@pytest.mark.django_db
def test_client_gets_an_email_when_the_booking_is_confirmed(front_desk, space, after_commit, mailoutbox):
    booking = BookingFactory(space=space, start=MONDAY_10_UTC)

    with time_machine.travel(BEFORE_IT, tick=False), after_commit():
        bookings.transition_booking(booking=booking, target_state=BookingState.CONFIRMED, actor=front_desk)

    [message] = mailoutbox
    assert message.to == [booking.client.email]
    assert message.subject == "Your session on Mon 14 Jan, 11:00 is confirmed"


@pytest.mark.django_db
def test_client_gets_an_email_when_the_booking_is_cancelled(front_desk, space, after_commit, mailoutbox):
    booking = BookingFactory(space=space, start=MONDAY_10_UTC, state=BookingState.CONFIRMED)

    with time_machine.travel(BEFORE_IT, tick=False), after_commit():
        bookings.transition_booking(
            booking=booking, target_state=BookingState.CANCELLED, actor=front_desk, reason="Client is ill"
        )

    [message] = mailoutbox
    assert message.subject == "Your session on Mon 14 Jan, 11:00 is cancelled"
    assert "Client is ill" not in message.body


@pytest.mark.django_db
def test_starting_a_session_sends_no_email_and_says_why(space, after_commit, mailoutbox):
    photographer = PhotographerFactory()
    booking = BookingFactory(space=space, start=MONDAY_10_UTC, state=BookingState.CONFIRMED, photographer=photographer)

    with time_machine.travel(MONDAY_10_UTC, tick=False), after_commit():
        bookings.transition_booking(booking=booking, target_state=BookingState.IN_PROGRESS, actor=photographer)

    assert mailoutbox == []
    delivery = Delivery.objects.get(handler=handler_name(email_client_booking_confirmed_or_cancelled))
    assert delivery.status == Delivery.Status.SKIPPED
    assert delivery.outcome == "Clients get no e-mail when a booking becomes in_progress."


@pytest.mark.django_db
def test_client_gets_the_new_and_the_old_time_when_the_booking_is_rescheduled(
    front_desk, space, after_commit, mailoutbox
):
    booking = BookingFactory(space=space, start=MONDAY_10_UTC)
    other_space = SpaceFactory(slug="loft", name="The Loft")

    with time_machine.travel(BEFORE_IT, tick=False), after_commit():
        bookings.reschedule_booking(
            booking=booking,
            actor=front_desk,
            start=MONDAY_10_UTC + timedelta(days=1, hours=4),
            end=MONDAY_10_UTC + timedelta(days=1, hours=6),
            space=other_space,
        )

    [message] = mailoutbox
    assert message.subject == "Your session has moved to Tue 15 Jan, 15:00"
    assert "15:00–17:00 (CET)" in message.body
    assert "The Loft" in message.body
    assert "It was booked for Monday 14 January 2030, 11:00 in Daylight Studio." in message.body
    assert "Monday 14 January 2030, 11:00 in Daylight Studio" in _html(message)


@pytest.mark.django_db
def test_photographer_gets_an_email_when_assigned(front_desk, space, after_commit, mailoutbox):
    manager = EmployeeFactory(role=Role.MANAGER)
    photographer = PhotographerFactory(full_name="Grace Hopper", email="grace@studio.test")
    booking = BookingFactory(space=space, start=MONDAY_10_UTC, client=ClientFactory(full_name="Ada Lovelace"))

    with time_machine.travel(BEFORE_IT, tick=False), after_commit():
        bookings.assign_photographer(booking=booking, photographer=photographer, actor=manager)

    [message] = mailoutbox
    assert message.to == ["grace@studio.test"]
    assert message.subject == "New session for you: Mon 14 Jan, 11:00"
    assert "Hello Grace" in message.body
    assert "Client: Ada Lovelace" in message.body


@pytest.mark.django_db
def test_notifications_switched_off_are_not_sent_and_the_log_says_so(
    front_desk, space, after_commit, mailoutbox, settings
):
    settings.NOTIFICATIONS_ENABLED = ["booking_confirmed"]

    with time_machine.travel(BEFORE_IT, tick=False), after_commit():
        _book(front_desk, space)

    assert mailoutbox == []
    delivery = Delivery.objects.get(handler=handler_name(email_client_booking_created))
    assert delivery.status == Delivery.Status.SKIPPED
    assert "switched off" in delivery.outcome


@pytest.mark.django_db
def test_client_without_email_address_is_skipped(front_desk, space, after_commit, mailoutbox):
    with time_machine.travel(BEFORE_IT, tick=False), after_commit():
        _book(front_desk, space, email="")

    assert mailoutbox == []
    delivery = Delivery.objects.get(handler=handler_name(email_client_booking_created))
    assert (delivery.status, delivery.outcome) == (Delivery.Status.SKIPPED, "The client has no e-mail address.")


@pytest.mark.django_db
def test_email_that_fails_while_the_mail_server_is_down_is_sent_once_it_is_back(
    front_desk, space, after_commit, mailoutbox, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, False, 2
    with time_machine.travel(BEFORE_IT, tick=False) as clock:
        with after_commit():
            _book(front_desk, space)
        delivery = Delivery.objects.get(handler=handler_name(email_client_booking_created))
        assert delivery.status == Delivery.Status.PENDING
        assert "ConnectionRefusedError" in delivery.last_error

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        clock.shift(timedelta(minutes=5))
        with after_commit():
            relay(older_than=timedelta(0))
            relay(older_than=timedelta(0))

    delivery.refresh_from_db()
    assert len(mailoutbox) == 1
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SUCCEEDED, 2)


@pytest.mark.django_db
def test_reminder_is_sent_once_within_the_lead_time_before_the_session(after_commit, mailoutbox, settings):
    settings.NOTIFICATIONS_REMINDER_LEAD_MINUTES = 24 * 60
    soon = BookingFactory(start=MONDAY_10_UTC, state=BookingState.CONFIRMED)
    BookingFactory(start=MONDAY_10_UTC + timedelta(days=2), state=BookingState.CONFIRMED)
    BookingFactory(start=MONDAY_10_UTC + timedelta(hours=1), state=BookingState.CANCELLED)

    with after_commit():
        queued = queue_booking_reminders(now=MONDAY_10_UTC - timedelta(hours=23))
        queued_again = queue_booking_reminders(now=MONDAY_10_UTC - timedelta(hours=22))

    assert (queued, queued_again) == (1, 0)
    [message] = mailoutbox
    assert message.to == [soon.client.email]
    assert message.subject == "See you Mon 14 Jan, 11:00"
    assert "11:00–13:00 (CET)" in message.body


@pytest.mark.django_db
def test_rescheduled_booking_gets_a_reminder_for_its_new_time(front_desk, after_commit, mailoutbox, settings):
    settings.NOTIFICATIONS_REMINDER_LEAD_MINUTES = 24 * 60
    settings.NOTIFICATIONS_ENABLED = ["booking_reminder"]
    booking = BookingFactory(start=MONDAY_10_UTC, state=BookingState.CONFIRMED)
    with after_commit():
        queue_booking_reminders(now=MONDAY_10_UTC - timedelta(hours=20))
    with time_machine.travel(MONDAY_10_UTC - timedelta(hours=19), tick=False), after_commit():
        bookings.reschedule_booking(
            booking=booking,
            actor=front_desk,
            start=MONDAY_10_UTC + timedelta(hours=3),
            end=MONDAY_10_UTC + timedelta(hours=5),
        )
        queued = queue_booking_reminders(now=MONDAY_10_UTC - timedelta(hours=19))

    assert queued == 1
    assert [message.subject for message in mailoutbox] == ["See you Mon 14 Jan, 11:00", "See you Mon 14 Jan, 14:00"]


@pytest.mark.django_db
def test_reminder_for_a_booking_cancelled_before_it_went_out_is_skipped(front_desk, settings, after_commit, mailoutbox):
    settings.NOTIFICATIONS_ENABLED = ["booking_reminder"]
    booking = BookingFactory(start=MONDAY_10_UTC, state=BookingState.CONFIRMED)
    with time_machine.travel(MONDAY_10_UTC - timedelta(hours=5), tick=False):
        queue_booking_reminders(now=MONDAY_10_UTC - timedelta(hours=5))  # its dispatch is delayed
        bookings.transition_booking(
            booking=booking, target_state=BookingState.CANCELLED, actor=front_desk, reason="Storm"
        )
        with after_commit():
            relay(older_than=timedelta(0))

    assert mailoutbox == []
    delivery = Delivery.objects.get(handler=handler_name(email_client_booking_reminder))
    assert (delivery.status, delivery.outcome) == (Delivery.Status.SKIPPED, "The booking is cancelled now.")


@pytest.mark.django_db
def test_no_reminders_are_queued_when_reminders_are_switched_off(settings):
    settings.NOTIFICATIONS_ENABLED = ["booking_created"]
    BookingFactory(start=MONDAY_10_UTC, state=BookingState.CONFIRMED)

    assert queue_booking_reminders(now=MONDAY_10_UTC - timedelta(hours=1)) == 0
    assert not Event.objects.filter(type=EventType.BOOKING_REMINDER_DUE).exists()


@pytest.mark.django_db
def test_the_booking_email_names_the_price_with_the_studios_currency(
    front_desk, space, after_commit, mailoutbox, settings
):
    settings.STUDIO_CURRENCY = "EUR"

    with time_machine.travel(BEFORE_IT, tick=False), after_commit():
        _book(front_desk, space)

    [message] = mailoutbox
    assert "Price: 100.00 EUR" in message.body
    assert "Price: 100.00 EUR" in _html(message)
