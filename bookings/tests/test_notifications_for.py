"""``bookings.selectors.notifications_for``: the notifications about one booking, from its deliveries."""

import pytest

from bookings.selectors import notifications_for
from bookings.subscribers import email_client_booking_confirmed_or_cancelled, email_client_booking_created
from bookings.tests.factories import BookingFactory
from events.models import Delivery, EventType
from events.registry import handler_name
from events.tests.factories import DeliveryFactory, EventFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def event_of(booking, event_type, **payload):
    return EventFactory(
        type=event_type, aggregate_type="bookings.booking", aggregate_id=str(booking.pk), payload=payload
    )


def test_a_failed_notification_says_why_and_webhooks_are_left_out():
    booking = BookingFactory()
    created = event_of(booking, EventType.BOOKING_CREATED)
    DeliveryFactory(
        event=created,
        handler=handler_name(email_client_booking_created),
        status=Delivery.Status.FAILED,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    endpoint = WebhookEndpointFactory()
    DeliveryFactory(event=created, handler=endpoint.handler_name, endpoint=endpoint, status=Delivery.Status.FAILED)

    [notification] = notifications_for(booking=booking)

    assert (notification.kind, notification.recipient, notification.status) == ("booking_created", "client", "failed")
    assert notification.not_sent_because == "SMTPServerDisconnected: Connection unexpectedly closed"


def test_a_pending_notification_is_due_at_its_next_attempt():
    booking = BookingFactory()
    delivery = DeliveryFactory(
        event=event_of(booking, EventType.BOOKING_STATE_CHANGED, to="cancelled"),
        handler=handler_name(email_client_booking_confirmed_or_cancelled),
    )

    [notification] = notifications_for(booking=booking)

    assert (notification.kind, notification.status) == ("booking_cancelled", "pending")
    assert notification.at == delivery.next_attempt_at
    assert notification.not_sent_because == ""


def test_another_bookings_notifications_are_not_shown():
    booking, other = BookingFactory(), BookingFactory()
    DeliveryFactory(
        event=event_of(other, EventType.BOOKING_CREATED), handler=handler_name(email_client_booking_created)
    )

    assert notifications_for(booking=booking) == []
