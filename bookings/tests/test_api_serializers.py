"""The booking answer is built directly (``BookingSerializer.to_representation``), not field by
field: it must say exactly what the declared fields, which the OpenAPI schema shows, would."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from rest_framework import serializers

from bookings import selectors
from bookings.api.serializers import BookingSerializer, BookingWarningSerializer, TransitionSerializer
from bookings.models import BookingState
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, ClientFactory, PhotographerFactory

pytestmark = pytest.mark.django_db


def declared_fields_answer(serializer: serializers.ModelSerializer, booking) -> dict:
    """What DRF renders from the declared fields, one by one."""
    return dict(serializers.ModelSerializer.to_representation(serializer, booking))


@pytest.mark.parametrize("state", [BookingState.PENDING, BookingState.CONFIRMED, BookingState.CANCELLED])
def test_a_booking_is_answered_as_its_declared_fields_say(state, manager, studio):
    booking = BookingFactory(space=studio, state=state, notes="Bring the grey backdrop", price=Decimal("75.5"))
    serializer = BookingSerializer(context={"viewer": manager})

    assert serializer.to_representation(booking) == declared_fields_answer(serializer, booking)


def test_a_booking_with_a_deactivated_photographer_and_odd_times_is_answered_as_declared(manager, studio):
    photographer = PhotographerFactory(is_active=False)
    booking = BookingFactory(
        space=studio,
        state=BookingState.CONFIRMED,
        photographer=photographer,
        start=MONDAY_10_UTC + timedelta(microseconds=250),
        price_overridden=True,
    )
    serializer = BookingSerializer(context={"viewer": manager})

    with time_machine.travel(booking.start, tick=False):
        answer = serializer.to_representation(booking)
        declared = declared_fields_answer(serializer, booking)

    assert answer == declared
    assert answer["photographer"] == {"id": photographer.pk, "full_name": photographer.full_name, "is_active": False}


def test_a_transition_is_answered_as_its_declared_fields_say(studio, manager):
    booking = BookingFactory(space=studio, state=BookingState.PENDING)
    transition = TransitionSerializer()

    for move in booking.transitions_from_here():
        assert transition.to_representation(move) == dict(serializers.Serializer.to_representation(transition, move))


def test_a_booking_warning_is_answered_as_its_declared_fields_say(studio):
    booking = BookingFactory(space=studio, client=ClientFactory(full_name="Ada Lovelace", email=""))
    warnings = selectors.booking_warnings(booking=booking, client_name="Grace Hopper")
    warning = BookingWarningSerializer()

    assert [w.code for w in warnings] == ["client_name_mismatch", "client_not_notified"]
    for each in warnings:
        assert warning.to_representation(each) == dict(serializers.Serializer.to_representation(warning, each))
