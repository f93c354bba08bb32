"""GET/POST /api/v1/closures/, GET/DELETE /api/v1/closures/{id}/, and bookings refused over one."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import BookingState, Closure, local_instant
from bookings.tests.api import api_as, booking_body
from bookings.tests.factories import BookingFactory, ClosureFactory, SpaceFactory, WaitlistEntryFactory
from employees.models import Employee
from events.models import Event

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)


def at(clock, day=MONDAY):
    return local_instant(day, clock)


def closure_body(space, /, start="12:00", end="16:00", **fields) -> dict:
    return {
        "space": space.slug if space is not None else None,
        "start_time": at(start).isoformat(),
        "end_time": at(end).isoformat(),
        "reason": "Floor repainting",
        **fields,
    }


# --- POST ---------------------------------------------------------------------------------------


def test_manager_closes_a_space_and_hears_of_the_bookings_already_there(manager, studio):
    inside = BookingFactory(space=studio, start=at("13:00"), end=at("14:00"), state=BookingState.CONFIRMED)

    response = api_as(manager).post("/api/v1/closures/", closure_body(studio), format="json")

    assert response.status_code == 201, response.content
    closure = Closure.objects.get()
    body = response.json()
    assert response["Location"] == f"/api/v1/closures/{closure.pk}"
    assert body["space"] == {"slug": "test_studio", "name": "Test Studio"}
    assert body["reason"] == "Floor repainting"
    assert body["created_by"]["id"] == manager.pk
    assert [booking["id"] for booking in body["affected_bookings"]] == [inside.pk]
    assert body["affected_bookings"][0]["state"] == "confirmed"
    assert body["affected_bookings"][0]["client"]["id"] == inside.client_id
    assert body["waiting_entries"] == []
    assert Event.objects.filter(type="closure.created", aggregate_id=str(closure.pk)).exists()


def test_closing_over_a_waiting_clients_slot_answers_their_entry(manager, studio):
    entry = WaitlistEntryFactory(space=studio, start=at("13:00"), end=at("14:00"))

    body = api_as(manager).post("/api/v1/closures/", closure_body(studio), format="json").json()

    assert [waiting["id"] for waiting in body["waiting_entries"]] == [entry.pk]
    assert (body["waiting_entries"][0]["status"], body["waiting_entries"][0]["client"]["id"]) == (
        "waiting",
        entry.client_id,
    )


def test_a_retried_closure_with_the_same_idempotency_key_is_recorded_once(manager, studio):
    api = api_as(manager)

    first = api.post("/api/v1/closures/", closure_body(studio), format="json", headers={"Idempotency-Key": "c-1"})
    retry = api.post("/api/v1/closures/", closure_body(studio), format="json", headers={"Idempotency-Key": "c-1"})

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Closure.objects.count() == 1
    assert Event.objects.filter(type="closure.created").count() == 1


def test_closure_without_space_closes_the_whole_studio(manager):
    response = api_as(manager).post("/api/v1/closures/", closure_body(None, "00:00", "24:00"), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["space"] is None
    assert response.json()["affected_bookings"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"end_time": "2030-01-14T11:00:00Z"}, "end_time"),
        ({"reason": "   "}, "reason"),
        ({"reason": ""}, "reason"),
        ({"space": "nowhere"}, "space"),
        ({"start_time": "2030-01-14T12:00:00"}, "start_time"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_closure_is_refused_naming_the_field(manager, studio, body, field):
    response = api_as(manager).post("/api/v1/closures/", closure_body(studio, **body), format="json")

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_failed"
    assert field in response.json()["error"]["details"]
    assert not Closure.objects.exists()


@pytest.mark.parametrize("persona", ["receptionist", "photographer"])
def test_only_managers_record_closures(request, studio, persona):
    response = api_as(request.getfixturevalue(persona)).post("/api/v1/closures/", closure_body(studio), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Closure.objects.exists()


# --- GET ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["receptionist", "photographer", "manager"])
def test_every_role_lists_closures(request, studio, persona):
    closure = ClosureFactory(space=studio)

    response = api_as(request.getfixturevalue(persona)).get("/api/v1/closures/")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [closure.pk]


def test_closures_list_by_days_and_space(receptionist, studio):
    own = ClosureFactory(space=studio, start=at("12:00"), end=at("16:00"))
    studio_wide = ClosureFactory(space=None, start=at("20:00"), end=at("08:00", MONDAY + timedelta(days=1)))
    ClosureFactory(space=SpaceFactory(), start=at("12:00"), end=at("16:00"))
    ClosureFactory(space=studio, start=at("12:00", MONDAY + timedelta(days=3)), end=at("13:00", MONDAY + timedelta(3)))

    response = api_as(receptionist).get(
        "/api/v1/closures/", {"from": "2030-01-14", "to": "2030-01-15", "space": "test_studio"}
    )

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [own.pk, studio_wide.pk]


def test_closures_list_refuses_from_after_to(receptionist):
    response = api_as(receptionist).get("/api/v1/closures/", {"from": "2030-01-15", "to": "2030-01-14"})

    assert response.status_code == 400
    assert "to" in response.json()["error"]["details"]


def list_queries(employee, params=None) -> int:
    """Queries of one list request by ``employee``, loaded afresh as each real request does."""
    api = api_as(Employee.objects.get(pk=employee.pk))
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/closures/", params).status_code == 200
    return len(captured)


@pytest.mark.performance
def test_closures_list_costs_the_same_for_1_and_50_closures(receptionist):
    ClosureFactory(space=SpaceFactory())
    for_one = list_queries(receptionist)
    for hours in range(49):
        ClosureFactory(space=SpaceFactory(), start=at("00:00") + timedelta(hours=hours), created_by=receptionist)

    for_fifty = list_queries(receptionist, {"page_size": 200, "from": "2030-01-01"})

    # the caller's permissions (2), the count, the page with spaces and makers
    assert (for_one, for_fifty) == (4, 4)


def test_one_closure(photographer, studio):
    closure = ClosureFactory(space=studio)

    response = api_as(photographer).get(f"/api/v1/closures/{closure.pk}")

    assert response.status_code == 200
    assert response.json()["reason"] == "Maintenance"


def test_unknown_closure_is_not_found(receptionist):
    response = api_as(receptionist).get("/api/v1/closures/999/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- DELETE -------------------------------------------------------------------------------------


def test_manager_removes_a_closure(manager, studio):
    closure = ClosureFactory(space=studio)

    response = api_as(manager).delete(f"/api/v1/closures/{closure.pk}/")

    assert response.status_code == 204
    assert not Closure.objects.exists()
    assert Event.objects.filter(type="closure.deleted", aggregate_id=str(closure.pk)).exists()


def test_receptionist_cannot_remove_a_closure(receptionist, studio):
    closure = ClosureFactory(space=studio)

    response = api_as(receptionist).delete(f"/api/v1/closures/{closure.pk}/")

    assert response.status_code == 403
    assert Closure.objects.filter(pk=closure.pk).exists()


# --- bookings over a closure --------------------------------------------------------------------


def test_booking_over_a_closure_answers_409_space_closed_naming_it(receptionist, studio):
    closure = ClosureFactory(space=studio, start=at("12:00"), end=at("16:00"), reason="Floor repainting")

    response = api_as(receptionist).post("/api/v1/bookings/", booking_body(studio, at("13:00")), format="json")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "space_closed"
    assert error["details"]["closure"] == {
        "id": closure.pk,
        "space": "test_studio",
        "start": at("12:00").isoformat(),
        "end": at("16:00").isoformat(),
        "reason": "Floor repainting",
    }


def test_rescheduling_into_a_closure_answers_409_space_closed(receptionist, studio):
    booking = BookingFactory(space=studio, start=at("09:00"), end=at("10:00"))
    ClosureFactory(space=None, start=at("12:00"), end=at("16:00"))

    response = api_as(receptionist).post(
        f"/api/v1/bookings/{booking.pk}/reschedule",
        {"start_time": at("14:00").isoformat(), "end_time": at("15:00").isoformat()},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "space_closed"


def test_free_slots_leave_out_a_closure(receptionist, studio):
    ClosureFactory(space=studio, start=at("12:00"), end=at("16:00"))

    response = api_as(receptionist).get("/api/v1/spaces/test_studio/free-slots", {"date": "2030-01-14"})

    assert [(slot["start"], slot["end"]) for slot in response.json()["slots"]] == [
        ("2030-01-14T08:00:00Z", "2030-01-14T11:45:00Z"),
        ("2030-01-14T16:00:00Z", "2030-01-14T22:00:00Z"),
    ]
