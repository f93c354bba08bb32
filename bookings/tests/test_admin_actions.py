"""The managers' booking admin: bulk transitions through the service, history, filters and search."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from bookings import services
from bookings.models import BookingState
from bookings.tests.factories import BookingFactory, ClientFactory
from employees.tests.factories import verified_login
from events.models import Event

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:bookings_booking_changelist")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2030, 1, 10, 9, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def manager_client(client, manager):
    verified_login(client, manager)
    return client


def run_action(client, action, bookings, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [booking.pk for booking in bookings], **extra}
    return client.post(CHANGELIST, data, follow=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_bulk_confirm_confirms_what_it_can_and_says_why_not_the_rest(manager_client, manager):
    first, second = BookingFactory(), BookingFactory()
    cancelled = BookingFactory(state=BookingState.CANCELLED, client=ClientFactory(full_name="Carla Cancel"))

    response = run_action(manager_client, "confirm_selected", [first, second, cancelled])

    for booking in (first, second, cancelled):
        booking.refresh_from_db()
    assert (first.state, second.state, cancelled.state) == ("confirmed", "confirmed", "cancelled")
    assert "Confirmed 2 bookings." in messages_of(response)
    assert any(
        f"#{cancelled.pk} (Carla Cancel): A cancelled booking cannot become confirmed." in message
        for message in messages_of(response)
    )
    assert set(Event.objects.filter(type="booking.state_changed").values_list("actor", flat=True)) == {manager.pk}


def test_bulk_cancel_first_asks_for_the_reason(manager_client):
    booking = BookingFactory()

    response = run_action(manager_client, "cancel_selected", [booking])

    assert response.status_code == 200
    assert "Cancel these bookings" in response.content.decode()
    booking.refresh_from_db()
    assert booking.state == BookingState.PENDING


def test_bulk_cancel_with_a_reason_cancels_each_booking_with_it(manager_client):
    pending, confirmed = BookingFactory(), BookingFactory(state=BookingState.CONFIRMED)
    completed = BookingFactory(state=BookingState.COMPLETED)

    response = run_action(
        manager_client, "cancel_selected", [pending, confirmed, completed], reason="Studio flooded", reason_given="yes"
    )

    for booking in (pending, confirmed, completed):
        booking.refresh_from_db()
    assert (pending.state, confirmed.state, completed.state) == ("cancelled", "cancelled", "completed")
    assert "Cancelled 2 bookings." in messages_of(response)
    assert any("A completed booking cannot become cancelled." in message for message in messages_of(response))
    reasons = Event.objects.filter(type="booking.state_changed").values_list("payload__reason", flat=True)
    assert list(reasons) == ["Studio flooded", "Studio flooded"]


def test_bulk_cancel_without_a_reason_cancels_nothing(manager_client):
    booking = BookingFactory()

    response = run_action(manager_client, "cancel_selected", [booking], reason=" ", reason_given="yes")

    assert "Give a reason for cancelling." in response.content.decode()
    booking.refresh_from_db()
    assert booking.state == BookingState.PENDING


def test_booking_page_shows_its_history_from_the_event_log(manager_client, manager):
    booking = BookingFactory()
    services.transition_booking(booking=booking, target_state="confirmed", actor=manager, reason="Phoned")

    response = manager_client.get(reverse("admin:bookings_booking_change", args=[booking.pk]))

    content = response.content.decode()
    assert "History (from the event log)" in content
    assert "Pending → Confirmed" in content
    assert "Reason: Phoned" in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state__exact": "confirmed"}, "confirmed"),
        ({"q": "+1415555"}, "both"),
        ({"start__gte": "2030-01-20 00:00:00+00:00", "start__lt": "2030-01-21 00:00:00+00:00"}, "late"),
        ({"start__year": "2030", "start__month": "1", "start__day": "14"}, "early"),
    ],
)
def test_bookings_filter_by_state_date_and_search_by_client(manager_client, query, expected):
    early = BookingFactory(start=datetime(2030, 1, 14, 10, tzinfo=UTC), client=ClientFactory(phone="+14155550001"))
    late = BookingFactory(
        start=datetime(2030, 1, 20, 10, tzinfo=UTC),
        state=BookingState.CONFIRMED,
        client=ClientFactory(phone="+14155550002"),
    )

    shown = {booking.pk for booking in manager_client.get(CHANGELIST, query).context["cl"].result_list}

    assert (
        shown == {"confirmed": {late.pk}, "both": {early.pk, late.pk}, "late": {late.pk}, "early": {early.pk}}[expected]
    )


def test_bookings_filter_by_space(manager_client):
    booking = BookingFactory()
    BookingFactory()

    response = manager_client.get(CHANGELIST, {"space__id__exact": booking.space_id})

    assert [shown.pk for shown in response.context["cl"].result_list] == [booking.pk]


def test_receptionist_cannot_open_the_admin(client, receptionist):
    verified_login(client, receptionist)

    response = client.get(CHANGELIST, follow=True)

    assert response.request["PATH_INFO"] == "/admin/login/"
