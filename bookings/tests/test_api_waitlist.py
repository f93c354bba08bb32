"""GET/POST /api/v1/waitlist/, one entry, booking and withdrawing it."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import services
from bookings.models import Booking, BookingState, WaitlistEntry, WaitlistStatus
from bookings.tests.api import api_as, booking_body
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, WaitlistEntryFactory
from employees.models import Employee

pytestmark = pytest.mark.django_db

NOW = MONDAY_10_UTC - timedelta(days=3)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def taken(studio):
    return BookingFactory(space=studio, start=MONDAY_10_UTC)


def put_on_waitlist(employee, space, start=MONDAY_10_UTC, **fields):
    return api_as(employee).post("/api/v1/waitlist/", booking_body(space, start, **fields), format="json")


def entry_of(response) -> WaitlistEntry:
    return WaitlistEntry.objects.get(pk=response.json()["id"])


def free(booking, actor):
    services.transition_booking(booking=booking, target_state=BookingState.CANCELLED, actor=actor, reason="Off")


def test_the_refused_booking_goes_on_the_waitlist(receptionist, studio, taken):
    refused = api_as(receptionist).post("/api/v1/bookings/", booking_body(studio, MONDAY_10_UTC), format="json")
    assert refused.json()["error"]["code"] == "booking_overlap"

    response = put_on_waitlist(receptionist, studio, notes="Any time that morning")

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/waitlist/{body['id']}"
    assert body["status"] == "waiting"
    assert body["space_type"] == studio.slug
    assert body["client"]["full_name"] == "John Doe"
    assert body["start_time"] == "2030-01-14T10:00:00Z"
    assert body["end_time"] == "2030-01-14T12:00:00Z"
    assert body["notes"] == "Any time that morning"
    assert body["booking"] is None
    assert body["created_by"]["id"] == receptionist.pk
    assert [event["type"] for event in body["history"]] == ["waitlist.added"]


def test_a_free_slot_answers_409_waitlist_slot_free(receptionist, studio):
    response = put_on_waitlist(receptionist, studio)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "waitlist_slot_free"


def test_a_second_wait_for_the_same_slot_answers_409_already_on_waitlist(receptionist, studio, taken):
    first = put_on_waitlist(receptionist, studio)

    response = put_on_waitlist(receptionist, studio)

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "already_on_waitlist",
        "message": f"John Doe is already on the waitlist for {studio.name} at that time (entry #{first.json()['id']}).",
        "details": {"waitlist_entry": first.json()["id"]},
    }


def test_bad_times_are_named_as_the_api_calls_them(receptionist, studio, taken):
    response = put_on_waitlist(receptionist, studio, MONDAY_10_UTC.replace(hour=23))

    assert response.status_code == 400
    assert "start_time" in response.json()["error"]["details"]


def test_a_slot_that_has_started_cannot_go_on_the_waitlist(receptionist, studio, taken, clock):
    clock.move_to(MONDAY_10_UTC + timedelta(minutes=30))  # the taken booking is under way

    response = put_on_waitlist(receptionist, studio)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert list(response.json()["error"]["details"]) == ["start_time"]
    assert not WaitlistEntry.objects.exists()


def test_a_retried_entry_with_the_same_idempotency_key_answers_the_first_entry_again(receptionist, studio, taken):
    api = api_as(receptionist)
    body = booking_body(studio, MONDAY_10_UTC)

    first = api.post("/api/v1/waitlist/", body, format="json", headers={"Idempotency-Key": "wait-1"})
    retry = api.post("/api/v1/waitlist/", body, format="json", headers={"Idempotency-Key": "wait-1"})

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert WaitlistEntry.objects.count() == 1


def test_a_price_is_not_taken(receptionist, studio, taken):
    response = put_on_waitlist(receptionist, studio, price="10.00")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"price": ["This field is not accepted here."]}


def test_photographers_may_neither_see_nor_keep_the_waitlist(photographer, receptionist, studio, taken):
    entry = entry_of(put_on_waitlist(receptionist, studio))
    api = api_as(photographer)

    assert put_on_waitlist(photographer, studio).status_code == 403
    assert api.get("/api/v1/waitlist/").json()["results"] == []
    assert api.get(f"/api/v1/waitlist/{entry.pk}").status_code == 404


def test_booking_the_entry_once_the_slot_is_free(receptionist, studio, taken):
    entry = entry_of(put_on_waitlist(receptionist, studio))
    free(taken, receptionist)

    response = api_as(receptionist).post(f"/api/v1/waitlist/{entry.pk}/book")

    assert response.status_code == 200, response.content
    body = response.json()
    booking = Booking.objects.get(pk=body["booking"])
    assert body["status"] == "booked"
    assert body["resolved_at"] == "2030-01-11T10:00:00Z"
    assert (booking.client_id, booking.start, booking.state) == (entry.client_id, MONDAY_10_UTC, BookingState.PENDING)
    assert [event["type"] for event in body["history"]] == ["waitlist.added", "waitlist.slot_opened", "waitlist.booked"]


def test_booking_while_the_slot_is_taken_answers_409_booking_overlap(receptionist, studio, taken):
    entry = entry_of(put_on_waitlist(receptionist, studio))

    response = api_as(receptionist).post(f"/api/v1/waitlist/{entry.pk}/book/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "booking_overlap"
    assert response.json()["error"]["details"]["conflicting_booking"]["id"] == taken.pk
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_booking_an_entry_whose_slot_was_closed_since_answers_409_space_closed(receptionist, manager, studio, taken):
    entry = entry_of(put_on_waitlist(receptionist, studio))
    free(taken, receptionist)
    closure = services.create_closure(
        actor=manager, space=None, start=MONDAY_10_UTC, end=MONDAY_10_UTC + timedelta(hours=8), reason="Holiday"
    ).closure

    response = api_as(receptionist).post(f"/api/v1/waitlist/{entry.pk}/book")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "space_closed"
    assert response.json()["error"]["details"]["closure"]["id"] == closure.pk
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING
    assert not Booking.objects.filter(client=entry.client).exists()


def test_a_slot_in_a_closure_cannot_go_on_the_waitlist(receptionist, manager, studio, taken):
    services.create_closure(
        actor=manager,
        space=studio,
        start=MONDAY_10_UTC + timedelta(hours=1),
        end=MONDAY_10_UTC + timedelta(hours=3),
        reason="Repairs",
    )

    response = put_on_waitlist(receptionist, studio)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "space_closed"
    assert not WaitlistEntry.objects.exists()


def test_booking_an_entry_no_longer_waiting_answers_409_waitlist_entry_closed(receptionist, studio, taken):
    entry = entry_of(put_on_waitlist(receptionist, studio))
    api_as(receptionist).post(f"/api/v1/waitlist/{entry.pk}/withdraw", {}, format="json")

    response = api_as(receptionist).post(f"/api/v1/waitlist/{entry.pk}/book")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "waitlist_entry_closed"
    assert response.json()["error"]["details"] == {"status": "withdrawn"}


def test_withdrawing_keeps_the_reason_in_the_history(receptionist, studio, taken):
    entry = entry_of(put_on_waitlist(receptionist, studio))

    response = api_as(receptionist).post(
        f"/api/v1/waitlist/{entry.pk}/withdraw", {"reason": "Took another day"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert response.json()["history"][-1]["payload"] == {"reason": "Took another day"}
    assert response.json()["history"][-1]["actor"]["id"] == receptionist.pk


def test_an_unknown_entry_is_404(receptionist):
    response = api_as(receptionist).post("/api/v1/waitlist/999/book")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_list_filters_by_status_space_and_day(receptionist, studio, taken):
    waiting = entry_of(put_on_waitlist(receptionist, studio))
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=1))
    other_day = entry_of(put_on_waitlist(receptionist, studio, MONDAY_10_UTC + timedelta(days=1)))
    services.withdraw_waitlist_entry(entry=other_day, actor=receptionist)
    api = api_as(receptionist)

    def ids(**params):
        return [entry["id"] for entry in api.get("/api/v1/waitlist/", params).json()["results"]]

    assert ids() == [waiting.pk, other_day.pk]
    assert ids(status="waiting") == [waiting.pk]
    assert ids(status="withdrawn", space=studio.slug) == [other_day.pk]
    assert ids(date="2030-01-15") == [other_day.pk]
    assert api.get("/api/v1/waitlist/", {"status": "lost"}).status_code == 400


def list_queries(employee) -> int:
    api = api_as(Employee.objects.get(pk=employee.pk))
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/v1/waitlist/", {"page_size": 200, "status": "waiting"})
    assert response.status_code == 200
    return len(captured)


def waiting_entries(count, space):
    for n in range(count):
        start = MONDAY_10_UTC + timedelta(hours=3 * n)
        WaitlistEntryFactory(space=space, start=start)


def test_the_list_costs_the_same_for_1_and_100_entries(receptionist, studio):
    waiting_entries(1, studio)
    for_one = list_queries(receptionist)

    waiting_entries(99, studio)
    for_hundred = list_queries(receptionist)

    assert for_one == for_hundred == 4  # permissions (2), count, page
