"""``Idempotency-Key`` on POST /api/v1/bookings/: a retry answers the first response again."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from bookings.models import Booking
from bookings.tests.api import api_as, booking_body
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from photostudio.models import IdempotencyKey

BOOKINGS = "/api/v1/bookings/"


def post(api, body, key):
    return api.post(BOOKINGS, body, headers={"Idempotency-Key": key})


@pytest.mark.django_db
def test_a_retry_with_the_same_key_answers_the_first_booking_again(receptionist, studio):
    api = api_as(receptionist)
    body = booking_body(studio, MONDAY_10_UTC)

    first = post(api, body, "3f1c9a52-booking-1")
    retry = post(api, body, "3f1c9a52-booking-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_a_retry_answers_the_first_body_byte_for_byte(receptionist, studio):
    # PostgreSQL's jsonb keeps no key order: a body stored as such came back reordered.
    api = api_as(receptionist)
    body = booking_body(studio, MONDAY_10_UTC)

    first = post(api, body, "3f1c9a52-booking-bytes")
    retry = post(api, body, "3f1c9a52-booking-bytes")

    assert retry.content == first.content


@pytest.mark.django_db
def test_a_replayed_booking_carries_the_first_answers_location(receptionist, studio):
    api = api_as(receptionist)
    body = booking_body(studio, MONDAY_10_UTC)

    first = post(api, body, "3f1c9a52-booking-2")
    retry = post(api, body, "3f1c9a52-booking-2")

    assert retry["Location"] == first["Location"] == f"/api/v1/bookings/{first.json()['id']}"


@pytest.mark.django_db
def test_a_key_written_by_the_previous_release_is_stored_without_a_location(receptionist, studio):
    """During a deploy a process of the release before ``location`` still writes keys without it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {IdempotencyKey._meta.db_table} (caller_id, key, fingerprint, status_code, response_body,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s)",
            [receptionist.pk, "written-before", "f" * 64, 201, '{"id": 1}', timezone.now()],
        )

    assert IdempotencyKey.objects.get(key="written-before").location == ""


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(receptionist, studio):
    api = api_as(receptionist)
    post(api, booking_body(studio, MONDAY_10_UTC), "key-1")

    response = post(api, booking_body(studio, MONDAY_10_UTC, people_count=3), "key-1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_and_body_sent_to_another_endpoint_is_refused(receptionist, studio):
    api = api_as(receptionist)
    body = booking_body(studio, MONDAY_10_UTC + timedelta(weeks=1), interval_weeks=1, count=2)
    api.post(f"{BOOKINGS}series", body, headers={"Idempotency-Key": "key-1"})

    response = post(api, body, "key-1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.django_db
def test_keys_belong_to_their_caller(receptionist, studio):
    other_desk = EmployeeFactory(role=Role.RECEPTIONIST)
    body = booking_body(studio, MONDAY_10_UTC)
    post(api_as(receptionist), body, "shared-key")

    response = post(api_as(other_desk), body, "shared-key")

    assert response.status_code == 409  # a real second attempt, refused by the overlap rule
    assert response.json()["error"]["code"] == "booking_overlap"


@pytest.mark.django_db
def test_a_refused_request_leaves_the_key_free_for_a_corrected_retry(receptionist, studio):
    BookingFactory(space=studio, start=MONDAY_10_UTC)
    api = api_as(receptionist)
    later = MONDAY_10_UTC + timedelta(hours=4)

    refused = post(api, booking_body(studio, MONDAY_10_UTC), "retry-me")
    corrected = post(api, booking_body(studio, later), "retry-me")

    assert (refused.status_code, corrected.status_code) == (409, 201)


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "ünïcode"])
def test_malformed_keys_are_validation_errors(receptionist, studio, key):
    response = post(api_as(receptionist), booking_body(studio, MONDAY_10_UTC), key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["details"]
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_an_expired_key_can_be_used_again(receptionist, settings):
    settings.IDEMPOTENCY_KEY_TTL = 3600
    api = api_as(receptionist)
    with time_machine.travel(MONDAY_10_UTC - timedelta(days=30), tick=False):
        post(api, booking_body(SpaceFactory(), MONDAY_10_UTC), "monthly")
    with time_machine.travel(MONDAY_10_UTC - timedelta(days=29), tick=False):
        again = post(api, booking_body(SpaceFactory(), MONDAY_10_UTC), "monthly")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_without_a_key_every_post_is_a_new_attempt(receptionist, studio):
    api = api_as(receptionist)
    body = booking_body(studio, MONDAY_10_UTC)

    responses = [api.post(BOOKINGS, body).status_code for _ in range(2)]

    assert responses == [201, 409]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_create_one_booking():
    """Two copies of one request on two connections at the same instant, as after a client timeout."""
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    body = booking_body(SpaceFactory(capacity=10), MONDAY_10_UTC)
    barrier = threading.Barrier(2)
    responses = [None, None]

    def send(index):
        try:
            barrier.wait(timeout=10)
            responses[index] = post(api_as(desk), body, "one-booking-please")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [response.status_code for response in responses] == [201, 201]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert sorted(response.get("Idempotent-Replayed", "") for response in responses) == ["", "true"]
    assert Booking.objects.count() == 1
