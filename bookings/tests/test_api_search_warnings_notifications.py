"""The API's bookings list found by client and sorted; warnings on a new booking; the
notifications of a booking."""

from datetime import timedelta

import pytest
import time_machine

from bookings.models import BookingState
from bookings.tests.api import api_as, booking_body
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, ClientFactory, SpaceFactory

pytestmark = pytest.mark.django_db

BOOKINGS = "/api/v1/bookings/"


def ids(response):
    assert response.status_code == 200, response.content
    return [booking["id"] for booking in response.json()["results"]]


# --- search and sort ------------------------------------------------------------------------------


def test_search_finds_bookings_by_part_of_the_clients_name(receptionist):
    anna = BookingFactory(client=ClientFactory(full_name="Anna Kowalska"))
    BookingFactory(client=ClientFactory(full_name="Ben Berg"), start=MONDAY_10_UTC + timedelta(days=1))

    assert ids(api_as(receptionist).get(BOOKINGS, {"search": "kowal"})) == [anna.pk]


def test_search_finds_bookings_by_phone_digits_however_typed(receptionist):
    found = BookingFactory(client=ClientFactory(phone="+14155550177"))
    BookingFactory(client=ClientFactory(phone="+14155550188"), start=MONDAY_10_UTC + timedelta(days=1))

    assert ids(api_as(receptionist).get(BOOKINGS, {"search": "(415) 555-0177"})) == [found.pk]


def test_bookings_sort_by_client_name_either_way(receptionist):
    zoe = BookingFactory(client=ClientFactory(full_name="Zoe Zimmer"))
    adam = BookingFactory(client=ClientFactory(full_name="Adam Alt"), start=MONDAY_10_UTC + timedelta(days=1))
    api = api_as(receptionist)

    assert ids(api.get(BOOKINGS, {"ordering": "client"})) == [adam.pk, zoe.pk]
    assert ids(api.get(BOOKINGS, {"ordering": "-client"})) == [zoe.pk, adam.pk]


def test_bookings_sort_by_price_and_keep_start_order_among_equals(receptionist):
    space = SpaceFactory()
    later = BookingFactory(space=space, start=MONDAY_10_UTC + timedelta(days=1))
    earlier = BookingFactory(space=space, start=MONDAY_10_UTC)
    dearer = BookingFactory(
        space=space, start=MONDAY_10_UTC + timedelta(days=2), end=MONDAY_10_UTC + timedelta(days=2, hours=5)
    )

    assert ids(api_as(receptionist).get(BOOKINGS, {"ordering": "-price"})) == [dearer.pk, earlier.pk, later.pk]


def test_an_unknown_sort_key_is_a_400_naming_the_choices(receptionist):
    response = api_as(receptionist).get(BOOKINGS, {"ordering": "secret"})

    assert response.status_code == 400
    assert "ordering" in response.json()["error"]["details"]


# --- warnings on a new booking -------------------------------------------------------------------


def test_a_known_phone_with_another_name_books_the_known_client_and_warns(receptionist, studio):
    known = ClientFactory(full_name="Anna Known", phone="+14155550123", email="anna@client.test")

    response = api_as(receptionist).post(
        BOOKINGS, booking_body(studio, MONDAY_10_UTC, client_phone="+1 415 555 0123", client_name="Bob Typed")
    )

    assert response.status_code == 201
    body = response.json()
    assert body["client"]["id"] == known.pk
    assert body["warnings"] == [
        {
            "code": "client_name_mismatch",
            "message": "+14155550123 belongs to Anna Known, not Bob Typed: the booking is Anna Known's. "
            "Correct the phone number if it is someone else.",
            "details": {"client_id": known.pk, "client_name": "Anna Known", "typed_name": "Bob Typed"},
        }
    ]


def test_a_known_phone_with_another_email_books_the_client_unchanged_and_warns(receptionist, studio):
    known = ClientFactory(full_name="Anna Known", phone="+14155550123", email="anna@client.test")

    response = api_as(receptionist).post(
        BOOKINGS,
        booking_body(
            studio, MONDAY_10_UTC, client_phone="+14155550123", client_name="Anna Known", client_email="new@x.test"
        ),
    )

    assert response.status_code == 201
    assert response.json()["warnings"] == [
        {
            "code": "client_email_mismatch",
            "message": "Anna Known has the e-mail address anna@client.test, not new@x.test: the client is unchanged. "
            "Change it on the client's page if the typed address is right.",
            "details": {"client_id": known.pk, "client_email": "anna@client.test", "typed_email": "new@x.test"},
        }
    ]
    known.refresh_from_db()
    assert known.email == "anna@client.test"


def test_the_same_email_typed_in_other_case_is_no_mismatch(receptionist, studio):
    ClientFactory(full_name="Anna Known", phone="+14155550123", email="anna@client.test")

    body = (
        api_as(receptionist)
        .post(
            BOOKINGS,
            booking_body(
                studio,
                MONDAY_10_UTC,
                client_phone="+14155550123",
                client_name="Anna Known",
                client_email="Anna@Client.TEST",
            ),
        )
        .json()
    )

    assert body["warnings"] == []


def test_the_same_name_typed_differently_is_no_mismatch(receptionist, studio):
    ClientFactory(full_name="Anna Known", phone="+14155550123", email="anna@client.test")

    body = (
        api_as(receptionist)
        .post(BOOKINGS, booking_body(studio, MONDAY_10_UTC, client_phone="+14155550123", client_name="  anna   KNOWN "))
        .json()
    )

    assert body["warnings"] == []


def test_a_client_without_email_is_said_not_to_be_notified(receptionist, studio):
    body = api_as(receptionist).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC)).json()

    assert [warning["code"] for warning in body["warnings"]] == ["client_not_notified"]
    assert "will not be notified" in body["warnings"][0]["message"]


def test_amounts_name_the_studios_currency(receptionist, studio, settings):
    settings.STUDIO_CURRENCY = "EUR"

    body = api_as(receptionist).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC)).json()

    assert (body["price"], body["currency"]) == ("100.00", "EUR")
    assert api_as(receptionist).get(f"/api/v1/spaces/{studio.slug}").json()["currency"] == "EUR"


# --- notifications ---------------------------------------------------------------------------------


def test_a_booking_shows_its_notifications_sent_or_not_and_why(
    receptionist, studio, django_capture_on_commit_callbacks, mailoutbox
):
    api = api_as(receptionist)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(BOOKINGS, booking_body(studio, MONDAY_10_UTC, client_email="john@client.test")).json()
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{BOOKINGS}{created['id']}/state", {"target_state": "confirmed"})

    notifications = api.get(f"{BOOKINGS}{created['id']}").json()["notifications"]

    assert [(n["kind"], n["channel"], n["recipient"], n["status"]) for n in notifications] == [
        ("booking_created", "email", "client", "succeeded"),
        ("booking_confirmed", "email", "client", "succeeded"),
    ]
    assert all(n["at"] and n["not_sent_because"] == "" for n in notifications)
    assert len(mailoutbox) == 2


def test_a_notification_not_sent_says_why(receptionist, studio, django_capture_on_commit_callbacks):
    api = api_as(receptionist)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(BOOKINGS, booking_body(studio, MONDAY_10_UTC)).json()

    [notification] = api.get(f"{BOOKINGS}{created['id']}").json()["notifications"]

    assert (notification["kind"], notification["status"]) == ("booking_created", "skipped")
    assert notification["not_sent_because"] == "The client has no e-mail address."


def test_state_changes_clients_are_not_told_about_are_no_notifications(manager, django_capture_on_commit_callbacks):
    booking = BookingFactory(state=BookingState.IN_PROGRESS, start=MONDAY_10_UTC)
    api = api_as(manager)
    with time_machine.travel(MONDAY_10_UTC, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"{BOOKINGS}{booking.pk}/state", {"target_state": "completed"}).status_code == 200

    assert api.get(f"{BOOKINGS}{booking.pk}").json()["notifications"] == []
