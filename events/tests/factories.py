"""Factories for events, deliveries and webhook endpoints. They write rows directly: arrange with
them, act through ``events.services``."""

import factory
from django.conf import settings

from events.models import Delivery, Event, EventType, WebhookEndpoint
from events.webhooks import new_secret


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    type = EventType.CLIENT_UPDATED
    aggregate_type = "bookings.client"
    aggregate_id = factory.Sequence(str)
    payload = factory.LazyFunction(dict)


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"Integration {n}")
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/studio")
    secret = factory.LazyFunction(new_secret)
    event_types = factory.LazyFunction(lambda: [EventType.BOOKING_CREATED])
    is_active = True


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    event = factory.SubFactory(EventFactory)
    handler = factory.Sequence(lambda n: f"tests.handler_{n}")
    max_attempts = factory.LazyFunction(lambda: settings.EVENTS_HANDLER_MAX_ATTEMPTS)
