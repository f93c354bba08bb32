"""One booking through the API: create, read, change, move through its states, reschedule, history."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings import services
from bookings.models import Booking, BookingState, Space
from bookings.tests.api import api_as, booking_body
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, ClientFactory, PhotographerFactory
from events.models import Event

pytestmark = pytest.mark.django_db

BOOKINGS = "/api/v1/bookings/"


def detail(booking, suffix=""):
    return f"/api/v1/bookings/{booking.pk}{suffix}"


def error(response):
    return response.json()["error"]


# --- create -------------------------------------------------------------------------------------


def test_new_booking_answers_201_with_its_address_state_and_summaries(receptionist, studio):
    response = api_as(receptionist).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC))

    assert response.status_code == 201
    body = response.json()
    booking = Booking.objects.get()
    assert response["Location"] == f"/api/v1/bookings/{booking.pk}"
    assert body["id"] == booking.pk
    assert body["state"] == "pending"
    assert body["start_time"] == "2030-01-14T10:00:00Z"
    assert body["end_time"] == "2030-01-14T12:00:00Z"
    assert body["blocks_until"] == "2030-01-14T12:15:00Z"
    assert body["duration_minutes"] == 120
    assert body["space"] == {"slug": "test_studio", "name": "Test Studio"}
    assert body["client"] == {"id": booking.client_id, "full_name": "John Doe", "phone": "+1234567890", "email": ""}
    assert body["price"] == "100.00"
    assert body["photographer"] is None


def test_times_with_an_offset_are_stored_and_answered_in_utc(receptionist, studio):
    start = datetime(2030, 1, 14, 11, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))

    body = api_as(receptionist).post(BOOKINGS, booking_body(studio, start)).json()

    assert body["start_time"] == "2030-01-14T11:00:00Z"


def test_a_known_phone_number_books_for_the_existing_client(receptionist, studio):
    client = ClientFactory(full_name="Jane Known", phone="+14155550100")

    body = (
        api_as(receptionist)
        .post(BOOKINGS, booking_body(studio, MONDAY_10_UTC, client_name="Someone Else", client_phone="(415) 555-0100"))
        .json()
    )

    assert body["client"]["id"] == client.pk
    assert body["client"]["full_name"] == "Jane Known"


def test_receptionist_sees_confirm_and_cancel_as_next_steps(receptionist, studio):
    body = api_as(receptionist).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC)).json()

    assert body["allowed_transitions"] == [
        {"target_state": "cancelled", "transition": "cancel", "reason_required": True, "undo": False},
        {"target_state": "confirmed", "transition": "confirm", "reason_required": False, "undo": False},
    ]


def test_manager_may_set_the_price_by_hand(manager, studio):
    body = api_as(manager).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC, price="75.50")).json()

    assert (body["price"], body["price_overridden"]) == ("75.50", True)


def test_receptionist_may_not_set_the_price_by_hand(receptionist, studio):
    response = api_as(receptionist).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC, price="75.50"))

    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert not Booking.objects.exists()


def test_photographer_may_not_book(photographer, studio):
    response = api_as(photographer).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC))

    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"


def test_overlapping_booking_is_a_conflict_naming_the_other_booking(receptionist, studio):
    other = BookingFactory(space=studio, start=MONDAY_10_UTC)

    response = api_as(receptionist).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC + timedelta(hours=1)))

    assert response.status_code == 409
    assert error(response)["code"] == "booking_overlap"
    assert error(response)["details"]["conflicting_booking"]["id"] == other.pk


def test_rule_failures_name_the_api_fields(receptionist, studio):
    too_early = MONDAY_10_UTC.replace(hour=6)

    response = api_as(receptionist).post(BOOKINGS, booking_body(studio, too_early, people_count=7))

    assert response.status_code == 400
    details = error(response)["details"]
    assert set(details) == {"start_time", "people_count"}
    assert "open 08:00–22:00" in details["start_time"][0]


def test_unknown_space_is_a_validation_error(receptionist, studio):
    response = api_as(receptionist).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC, space_type="studio_z"))

    assert response.status_code == 400
    assert "studio_z" in error(response)["details"]["space_type"][0]


def test_booking_after_its_space_changed_takes_the_new_rate_and_slug(receptionist, manager, studio):
    api_as(receptionist).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC))  # the space is cached now
    services.update_space(space=studio, actor=manager, hourly_rate=Decimal("80.00"), slug="test_studio_2")

    refused = api_as(receptionist).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC + timedelta(days=1)))
    studio.slug = "test_studio_2"
    taken = api_as(receptionist).post(BOOKINGS, booking_body(studio, MONDAY_10_UTC + timedelta(days=1)))

    assert refused.status_code == 400
    assert "test_studio" in error(refused)["details"]["space_type"][0]
    assert (taken.status_code, taken.json()["price"]) == (201, "160.00")


def test_time_without_an_offset_is_refused(receptionist, studio):
    body = booking_body(studio, MONDAY_10_UTC, start_time="2030-01-14T10:00:00")

    response = api_as(receptionist).post(BOOKINGS, body)

    assert response.status_code == 400
    assert "UTC offset" in error(response)["details"]["start_time"][0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_time", "0001-01-01T00:00:00Z"),
        ("end_time", "9999-12-31T23:59:59-05:00"),
        ("start_time", "2030-02-30T10:00:00Z"),
        ("people_count", 10_000),
        ("people_count", 0),
        ("people_count", "two"),
        ("people_count", 2.5),
        ("people_count", None),
        ("client_name", "x" * (5 * 1024 * 1024)),
        ("client_name", ""),
        ("client_phone", ["+1234567890"]),
        ("space_type", {"slug": "test_studio"}),
        ("price", "NaN"),
        ("price", "-1.00"),
        ("notes", "nul\x00byte"),
    ],
)
def test_absurd_and_mistyped_values_are_validation_errors(receptionist, studio, field, value):
    response = api_as(receptionist).post(BOOKINGS, {**booking_body(studio, MONDAY_10_UTC), field: value})

    assert response.status_code == 400
    assert error(response)["code"] in {"validation_failed", "request_too_large"}
    assert not Booking.objects.exists()


def test_unknown_fields_are_refused_by_name(receptionist, studio):
    response = api_as(receptionist).post(BOOKINGS, {**booking_body(studio, MONDAY_10_UTC), "state": "confirmed"})

    assert response.status_code == 400
    assert error(response)["details"] == {"state": ["This field is not accepted here."]}


def test_missing_fields_are_listed(receptionist):
    response = api_as(receptionist).post(BOOKINGS, {})

    assert response.status_code == 400
    assert set(error(response)["details"]) == {
        "client_name",
        "client_phone",
        "start_time",
        "end_time",
        "space_type",
        "people_count",
    }


def test_a_moment_written_on_the_calendars_last_day_but_after_it_on_the_studio_clock_is_refused(receptionist, studio):
    # 23:00 at UTC-11 on the calendar's last day is 10:00 on 1 January 2100 in the studio (UTC),
    # a day no list, page or free-slot query can show.
    body = booking_body(studio, datetime(2099, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-11))))

    response = api_as(receptionist).post(BOOKINGS, body)

    assert response.status_code == 400
    assert set(error(response)["details"]) == {"start_time", "end_time"}
    assert not Booking.objects.exists()


def test_a_booking_may_end_at_the_midnight_that_ends_the_calendar(receptionist, studio, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    studio.opening_hours = dict.fromkeys(studio.opening_hours, ["08:00", "24:00"])
    studio.save()
    start = datetime(2099, 12, 31, 22, 0, tzinfo=ZoneInfo("Europe/Berlin"))

    response = api_as(receptionist).post(BOOKINGS, booking_body(studio, start))

    assert response.json()["end_time"] == "2099-12-31T23:00:00Z"


# --- read ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"])
def test_booking_detail_answers_with_and_without_trailing_slash(receptionist, suffix):
    booking = BookingFactory()

    response = api_as(receptionist).get(detail(booking) + suffix)

    assert response.status_code == 200
    assert response.json()["id"] == booking.pk


def test_missing_booking_is_404_with_the_error_body(receptionist):
    response = api_as(receptionist).get("/api/v1/bookings/999999")

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_assigned_photographer_sees_that_they_may_start_the_session(photographer):
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=photographer)

    with time_machine.travel(booking.earliest_begin, tick=False):
        body = api_as(photographer).get(detail(booking)).json()

    assert [t["target_state"] for t in body["allowed_transitions"]] == ["in_progress"]
    assert body["photographer"] == {"id": photographer.pk, "full_name": photographer.full_name, "is_active": True}


def test_other_photographer_sees_nothing_to_do(photographer):
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=PhotographerFactory())

    assert api_as(photographer).get(detail(booking)).json()["allowed_transitions"] == []


def test_no_show_is_offered_only_once_the_session_has_started(receptionist):
    booking = BookingFactory(state=BookingState.CONFIRMED)
    api = api_as(receptionist)

    with time_machine.travel(booking.start - timedelta(minutes=1), tick=False):
        before = [t["target_state"] for t in api.get(detail(booking)).json()["allowed_transitions"]]
    with time_machine.travel(booking.start, tick=False):
        after = [t["target_state"] for t in api.get(detail(booking)).json()["allowed_transitions"]]

    assert (before, after) == (["cancelled"], ["cancelled", "no_show"])


# --- partial update -----------------------------------------------------------------------------


def test_patch_changes_only_what_is_sent_and_records_it(receptionist, studio):
    booking = BookingFactory(space=studio, notes="old")

    response = api_as(receptionist).patch(detail(booking), {"people_count": 4})

    assert response.status_code == 200
    assert (response.json()["people_count"], response.json()["notes"]) == (4, "old")
    event = Event.objects.get(type="booking.updated")
    assert event.payload == {"changes": {"people_count": {"from": 2, "to": 4}}}
    assert event.actor == receptionist


def test_patch_assigns_and_unassigns_a_photographer(receptionist, photographer):
    booking = BookingFactory()
    api = api_as(receptionist)

    assigned = api.patch(detail(booking), {"photographer": photographer.pk}).json()
    unassigned = api.patch(detail(booking), {"photographer": None}).json()

    assert assigned["photographer"]["id"] == photographer.pk
    assert unassigned["photographer"] is None
    assert Event.objects.filter(type="booking.photographer_assigned").count() == 2


def test_patch_of_photographer_and_notes_is_one_new_revision(receptionist, photographer):
    booking = BookingFactory(notes="")

    response = api_as(receptionist).patch(detail(booking), {"photographer": photographer.pk, "notes": "Tripod"})

    assert response.status_code == 200
    assert response["ETag"] == f'"{booking.pk}-1"'
    assert list(Event.objects.order_by("id").values_list("type", flat=True)) == [
        "booking.photographer_assigned",
        "booking.updated",
    ]


def test_patch_refuses_someone_who_is_not_a_photographer(receptionist):
    booking = BookingFactory()

    response = api_as(receptionist).patch(detail(booking), {"photographer": receptionist.pk})

    assert response.status_code == 400
    assert "photographer" in error(response)["details"]


@pytest.mark.parametrize("value", [0, -1, 2**63, "1", True, 1.5])
def test_patch_refuses_photographer_values_that_are_no_id(receptionist, value):
    response = api_as(receptionist).patch(detail(BookingFactory()), {"photographer": value})

    assert response.status_code == 400
    assert "photographer" in error(response)["details"]


def test_manager_sets_and_clears_a_hand_made_price(manager, studio):
    booking = BookingFactory(space=studio)
    api = api_as(manager)

    set_by_hand = api.patch(detail(booking), {"price": "42.00"}).json()
    cleared = api.patch(detail(booking), {"price": None}).json()

    assert (set_by_hand["price"], set_by_hand["price_overridden"]) == ("42.00", True)
    assert (cleared["price"], cleared["price_overridden"]) == ("100.00", False)


def test_receptionist_cannot_patch_the_price(receptionist):
    booking = BookingFactory()

    response = api_as(receptionist).patch(detail(booking), {"price": "1.00"})

    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.price == Decimal("100.00")


def test_patch_with_more_people_than_the_space_holds_is_refused(receptionist, studio):
    response = api_as(receptionist).patch(detail(BookingFactory(space=studio)), {"people_count": 7})

    assert response.status_code == 400
    assert "people_count" in error(response)["details"]


def test_patch_refuses_times_and_state_and_points_elsewhere(receptionist):
    response = api_as(receptionist).patch(
        detail(BookingFactory()), {"start_time": "2030-01-14T11:00:00Z", "state": "confirmed"}
    )

    assert response.status_code == 400
    assert set(error(response)["details"]) == {"start_time", "state"}


def test_a_completed_booking_takes_notes_but_no_other_change(receptionist):
    booking = BookingFactory(state=BookingState.COMPLETED)
    api = api_as(receptionist)

    notes = api.patch(detail(booking), {"notes": "Paid in cash."})
    people = api.patch(detail(booking), {"people_count": 3})

    assert notes.status_code == 200
    assert people.status_code == 409
    assert error(people)["code"] == "booking_closed"


@pytest.mark.parametrize(
    "space_since",
    [{"is_active": False}, {"capacity": 1}, {"opening_hours": {"mon": ["14:00", "18:00"]}}],
    ids=["deactivated", "smaller", "other_hours"],
)
def test_notes_are_taken_whatever_became_of_the_space_since(receptionist, studio, space_since):
    booking = BookingFactory(space=studio, people_count=2, state=BookingState.COMPLETED)
    Space.objects.filter(pk=studio.pk).update(**space_since)

    response = api_as(receptionist).patch(detail(booking), {"notes": "Paid in cash."})

    assert response.status_code == 200
    assert Booking.objects.get(pk=booking.pk).notes == "Paid in cash."


def test_photographer_cannot_patch(photographer):
    response = api_as(photographer).patch(detail(BookingFactory()), {"notes": "mine"})

    assert response.status_code == 403


# --- ETag and If-Match: a change only to the version the caller read ------------------------------


def tag(booking, revision):
    return f'"{booking.pk}-{revision}"'


def test_a_booking_is_answered_with_an_etag_of_its_revision(receptionist):
    booking = BookingFactory()
    api = api_as(receptionist)

    read = api.get(detail(booking))
    changed = api.patch(detail(booking), {"notes": "Tripod"})

    assert read["ETag"] == tag(booking, 0)
    assert changed["ETag"] == tag(booking, 1)
    assert api.get(detail(booking))["ETag"] == tag(booking, 1)


def test_a_booking_whose_photographer_is_deleted_answers_a_new_etag_and_refuses_the_old_one(receptionist):
    booking = BookingFactory(photographer=PhotographerFactory())
    api = api_as(receptionist)
    before = api.get(detail(booking))

    booking.photographer.delete()
    read = api.get(detail(booking))
    refused = api.patch(detail(booking), {"notes": "Tripod"}, headers={"If-Match": before["ETag"]})

    assert read.json()["photographer"] is None
    assert read["ETag"] == tag(booking, 1)
    assert read.json()["updated_at"] > before.json()["updated_at"]
    assert refused.status_code == 412


def test_a_new_booking_is_answered_with_the_etag_to_change_it_with(receptionist, studio):
    api = api_as(receptionist)
    created = api.post(BOOKINGS, booking_body(studio, MONDAY_10_UTC))
    booking = Booking.objects.get()

    changed = api.patch(detail(booking), {"notes": "Tripod"}, headers={"If-Match": created.get("ETag")})

    assert created.get("ETag") == tag(booking, 0)
    assert changed.status_code == 200


def test_a_change_with_the_etag_read_is_made(receptionist):
    booking = BookingFactory(notes="")
    api = api_as(receptionist)
    etag = api.get(detail(booking))["ETag"]

    response = api.patch(detail(booking), {"notes": "Tripod"}, headers={"If-Match": etag})

    assert response.status_code == 200
    assert response.json()["notes"] == "Tripod"


def test_a_change_with_an_etag_someone_else_outdated_is_refused_with_412_and_changes_nothing(receptionist):
    booking = BookingFactory(notes="")
    one, other = api_as(receptionist), api_as(receptionist)
    etag = one.get(detail(booking))["ETag"]
    other.patch(detail(booking), {"notes": "Someone else's"})

    response = one.patch(detail(booking), {"notes": "Mine"}, headers={"If-Match": etag})

    assert response.status_code == 412
    assert error(response)["code"] == "booking_changed"
    assert error(response)["details"] == {"expected_revision": 0, "revision": 1}
    assert Booking.objects.get(pk=booking.pk).notes == "Someone else's"
    assert Event.objects.filter(type="booking.updated").count() == 1


def test_a_state_change_with_an_outdated_etag_is_refused_with_412(receptionist):
    booking = BookingFactory()
    services.update_booking(booking=booking, actor=receptionist, notes="Someone else's")

    response = api_as(receptionist).post(
        detail(booking, "/state"), {"target_state": "confirmed"}, headers={"If-Match": tag(booking, 0)}
    )

    assert (response.status_code, error(response)["code"]) == (412, "booking_changed")
    assert Booking.objects.get(pk=booking.pk).state == BookingState.PENDING


def test_a_reschedule_with_an_outdated_etag_is_refused_with_412(receptionist, studio):
    booking = BookingFactory(space=studio)
    services.update_booking(booking=booking, actor=receptionist, notes="Someone else's")
    later = MONDAY_10_UTC + timedelta(hours=3)

    response = api_as(receptionist).post(
        detail(booking, "/reschedule"),
        {"start_time": later.isoformat(), "end_time": (later + timedelta(hours=2)).isoformat()},
        headers={"If-Match": tag(booking, 0)},
    )

    assert (response.status_code, error(response)["code"]) == (412, "booking_changed")
    assert Booking.objects.get(pk=booking.pk).start == MONDAY_10_UTC


def test_if_match_any_version_changes_whatever_is_stored(receptionist):
    booking = BookingFactory()
    services.update_booking(booking=booking, actor=receptionist, notes="Someone else's")

    response = api_as(receptionist).patch(detail(booking), {"notes": "Mine"}, headers={"If-Match": "*"})

    assert (response.status_code, response.json()["notes"]) == (200, "Mine")


def test_if_match_listing_the_current_etag_among_others_makes_the_change(receptionist):
    booking = BookingFactory(notes="")
    services.update_booking(booking=booking, actor=receptionist, notes="Someone else's")
    listed = f'W/"{booking.pk}-1", "{booking.pk + 1}-1", {tag(booking, 0)}, {tag(booking, 1)}'

    response = api_as(receptionist).patch(detail(booking), {"notes": "Mine"}, headers={"If-Match": listed})

    assert (response.status_code, response.json()["notes"]) == (200, "Mine")


def test_a_state_change_with_if_match_listing_the_current_etag_is_made(receptionist):
    booking = BookingFactory()

    response = api_as(receptionist).post(
        detail(booking, "/state"), {"target_state": "confirmed"}, headers={"If-Match": f'"x",{tag(booking, 0)}'}
    )

    assert (response.status_code, response.json()["state"]) == (200, "confirmed")


def test_if_match_listing_only_outdated_etags_is_refused_with_412_naming_them(receptionist):
    booking = BookingFactory(notes="")
    services.update_booking(booking=booking, actor=receptionist, notes="Someone else's")
    services.update_booking(booking=booking, actor=receptionist, notes="And again")

    response = api_as(receptionist).patch(
        detail(booking), {"notes": "Mine"}, headers={"If-Match": f"{tag(booking, 1)}, {tag(booking, 0)}"}
    )

    assert (response.status_code, error(response)["code"]) == (412, "booking_changed")
    assert error(response)["details"] == {"expected_revisions": [0, 1], "revision": 2}
    assert Booking.objects.get(pk=booking.pk).notes == "And again"


@pytest.mark.parametrize(
    "if_match",
    [
        lambda booking: f'W/"{booking.pk}-0"',
        lambda booking: f'"{booking.pk + 1}-0"',
        lambda booking: f'"0{booking.pk}-0"',
        lambda booking: f'"{booking.pk}-00"',
        lambda booking: '"0"',
        lambda booking: '""',
        lambda booking: f'W/"{booking.pk}-0", "{booking.pk + 1}-0"',
    ],
    ids=[
        "weak",
        "another booking's",
        "the id spelt otherwise",
        "the revision spelt otherwise",
        "not the booking's shape",
        "empty tag",
        "a list of these",
    ],
)
def test_an_if_match_naming_no_current_strong_etag_of_the_booking_is_refused_with_412(receptionist, if_match):
    booking = BookingFactory(notes="")

    response = api_as(receptionist).patch(detail(booking), {"notes": "Mine"}, headers={"If-Match": if_match(booking)})

    assert (response.status_code, error(response)["code"]) == (412, "booking_changed")
    assert error(response)["details"]["revision"] == 0
    assert Booking.objects.get(pk=booking.pk).notes == ""


@pytest.mark.parametrize(
    "if_match",
    [
        lambda booking: f"{booking.pk}-0",
        lambda booking: f'"{booking.pk}-0',
        lambda booking: f'"{booking.pk}-0" "{booking.pk}-1"',
        lambda booking: f'*, "{booking.pk}-0"',
        lambda booking: f'w/"{booking.pk}-0"',
        lambda booking: f'"{booking.pk} 0"',
        lambda booking: "",
        lambda booking: " , ",
        lambda booking: f'"{booking.pk}-{"9" * 5000}"',
        lambda booking: ", ".join([f'"{booking.pk}-0"'] * 300),
    ],
    ids=[
        "unquoted",
        "unterminated",
        "without a comma",
        "star in a list",
        "lower-case weak mark",
        "a space inside",
        "empty",
        "only commas",
        "absurdly long",
        "too long a list",
    ],
)
def test_an_if_match_that_is_no_list_of_etags_is_refused_with_400(receptionist, if_match):
    booking = BookingFactory(notes="")

    response = api_as(receptionist).patch(detail(booking), {"notes": "Mine"}, headers={"If-Match": if_match(booking)})

    assert response.status_code == 400
    assert error(response)["code"] == "validation_failed"
    assert list(error(response)["details"]) == ["If-Match"]
    assert Booking.objects.get(pk=booking.pk).notes == ""


# --- state --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["/state", "/state/"])
def test_state_change_answers_the_booking_in_its_new_state(receptionist, suffix):
    booking = BookingFactory()

    response = api_as(receptionist).post(detail(booking, suffix), {"target_state": "confirmed"})

    assert response.status_code == 200
    assert response.json()["state"] == "confirmed"
    assert [t["target_state"] for t in response.json()["allowed_transitions"]] == ["cancelled", "pending"]


def test_cancelling_without_a_reason_is_a_validation_error(receptionist):
    response = api_as(receptionist).post(detail(BookingFactory(), "/state"), {"target_state": "cancelled"})

    assert response.status_code == 400
    assert "reason" in error(response)["details"]


def test_illegal_transition_is_a_conflict(receptionist):
    booking = BookingFactory(state=BookingState.COMPLETED)

    response = api_as(receptionist).post(detail(booking, "/state"), {"target_state": "confirmed"})

    assert response.status_code == 409
    assert error(response)["code"] == "invalid_transition"


def test_unknown_target_state_is_a_validation_error(receptionist):
    response = api_as(receptionist).post(detail(BookingFactory(), "/state"), {"target_state": "approved"})

    assert response.status_code == 400
    assert "target_state" in error(response)["details"]


def test_photographer_cannot_start_a_session_of_someone_else(photographer):
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=PhotographerFactory())

    response = api_as(photographer).post(detail(booking, "/state"), {"target_state": "in_progress"})

    assert response.status_code == 403


# --- reschedule ---------------------------------------------------------------------------------


def test_reschedule_moves_the_booking_and_its_price(receptionist, studio):
    booking = BookingFactory(space=studio)
    later = MONDAY_10_UTC + timedelta(hours=3)

    response = api_as(receptionist).post(
        detail(booking, "/reschedule"),
        {"start_time": later.isoformat(), "end_time": (later + timedelta(hours=3)).isoformat()},
    )

    assert response.status_code == 200
    assert (response.json()["start_time"], response.json()["price"]) == ("2030-01-14T13:00:00Z", "150.00")
    assert Event.objects.filter(type="booking.rescheduled", aggregate_id=str(booking.pk)).exists()


def test_reschedule_to_where_the_booking_already_is_changes_and_records_nothing(receptionist, studio):
    booking = BookingFactory(space=studio, start=MONDAY_10_UTC)
    api = api_as(receptionist)
    etag = api.get(detail(booking)).headers["ETag"]
    same_time = {"start_time": "2030-01-14T11:00:00+01:00", "end_time": "2030-01-14T13:00:00+01:00"}

    response = api.post(detail(booking, "/reschedule"), {**same_time, "space_type": studio.slug})

    assert response.status_code == 200
    assert response.headers["ETag"] == etag
    assert not Event.objects.filter(type="booking.rescheduled").exists()


def test_reschedule_onto_another_booking_is_a_conflict(receptionist, studio):
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=4))
    booking = BookingFactory(space=studio)
    onto = MONDAY_10_UTC + timedelta(hours=4)

    response = api_as(receptionist).post(
        detail(booking, "/reschedule"),
        {"start_time": onto.isoformat(), "end_time": (onto + timedelta(hours=1)).isoformat()},
    )

    assert response.status_code == 409
    assert error(response)["code"] == "booking_overlap"


def test_reschedule_of_a_cancelled_booking_is_a_conflict(receptionist):
    booking = BookingFactory(state=BookingState.CANCELLED)

    response = api_as(receptionist).post(
        detail(booking, "/reschedule"), {"start_time": "2030-01-15T10:00:00Z", "end_time": "2030-01-15T11:00:00Z"}
    )

    assert response.status_code == 409
    assert error(response)["code"] == "booking_closed"


def test_reschedule_end_before_start_names_end_time(receptionist):
    response = api_as(receptionist).post(
        detail(BookingFactory(), "/reschedule"),
        {"start_time": "2030-01-15T10:00:00Z", "end_time": "2030-01-15T09:00:00Z"},
    )

    assert response.status_code == 400
    assert "end_time" in error(response)["details"]


# --- history ------------------------------------------------------------------------------------


def test_history_lists_what_happened_oldest_first_with_who_did_it(receptionist, studio):
    api = api_as(receptionist)
    booking_id = api.post(BOOKINGS, booking_body(studio, MONDAY_10_UTC)).json()["id"]
    api.post(f"/api/v1/bookings/{booking_id}/state", {"target_state": "confirmed", "reason": "Phoned"})

    history = api.get(f"/api/v1/bookings/{booking_id}/history").json()

    assert [event["type"] for event in history] == ["booking.created", "booking.state_changed"]
    assert history[1]["payload"]["reason"] == "Phoned"
    assert history[1]["actor"]["id"] == receptionist.pk
