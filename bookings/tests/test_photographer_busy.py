"""A photographer cannot be in two places at once: a booking whose photographer holds another
session at an overlapping time says so, on its page and in the API's answer to the change."""

from datetime import timedelta

import pytest
from django.utils.html import strip_tags

from bookings import selectors
from bookings.models import BookingState
from bookings.tests.api import api_as
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, PhotographerFactory, SpaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pete():
    return PhotographerFactory(full_name="Pete Photographer")


@pytest.fixture
def studio_a_session(pete):
    """Pete's session in Studio A, Monday 10:00-12:00 UTC."""
    return BookingFactory(space=SpaceFactory(slug="studio_a", name="Studio A"), photographer=pete)


def detail(booking, suffix=""):
    return f"/api/v1/bookings/{booking.pk}{suffix}"


@pytest.mark.parametrize("offset_hours", [-1, 0, 1])
def test_another_session_of_the_photographer_at_an_overlapping_time_is_found(pete, studio_a_session, offset_hours):
    other = BookingFactory(start=MONDAY_10_UTC + timedelta(hours=offset_hours), photographer=pete)

    assert selectors.photographer_clash(other) == studio_a_session


@pytest.mark.parametrize(
    ("start", "photographer", "state"),
    [
        (MONDAY_10_UTC + timedelta(hours=2), "pete", BookingState.PENDING),  # right after
        (MONDAY_10_UTC - timedelta(hours=2), "pete", BookingState.PENDING),  # right before
        (MONDAY_10_UTC, "pete", BookingState.CANCELLED),
        (MONDAY_10_UTC, "pete", BookingState.COMPLETED),
        (MONDAY_10_UTC, "another", BookingState.CONFIRMED),
        (MONDAY_10_UTC, None, BookingState.CONFIRMED),
    ],
)
def test_no_clash_when_the_photographer_is_free_then(pete, start, photographer, state):
    BookingFactory(photographer=pete, state=state if photographer == "pete" else BookingState.CONFIRMED)
    other = BookingFactory(start=start, photographer={"pete": pete, "another": PhotographerFactory()}.get(photographer))

    assert selectors.photographer_clash(other) is None


def test_a_cancelled_booking_does_not_claim_its_photographer(pete, studio_a_session):
    cancelled = BookingFactory(photographer=pete, state=BookingState.CANCELLED)

    assert selectors.photographer_clash(cancelled) is None


def test_the_booking_page_says_the_photographer_is_busy_elsewhere(client, receptionist, pete, studio_a_session):
    other = BookingFactory(start=MONDAY_10_UTC + timedelta(hours=1), photographer=pete)
    client.force_login(receptionist)

    page = client.get(f"/bookings/{other.pk}/").content.decode()

    assert f"Pete Photographer is also on booking #{studio_a_session.pk} (Studio A, " in strip_tags(page)
    assert f'href="/bookings/{studio_a_session.pk}/"' in page


def test_the_booking_page_says_nothing_when_the_photographer_is_free(client, receptionist, pete, studio_a_session):
    client.force_login(receptionist)

    page = client.get(f"/bookings/{studio_a_session.pk}/").content.decode()

    assert "is also on booking" not in page


def test_assigning_a_busy_photographer_over_the_api_answers_with_a_warning(receptionist, pete, studio_a_session):
    other = BookingFactory(start=MONDAY_10_UTC + timedelta(hours=1))

    response = api_as(receptionist).patch(detail(other), {"photographer": pete.pk})

    assert response.status_code == 200
    assert response.json()["photographer"]["id"] == pete.pk
    [warning] = response.json()["warnings"]
    assert warning["code"] == "photographer_busy"
    assert warning["details"] == {"photographer_id": pete.pk, "booking_id": studio_a_session.pk}
    assert f"booking #{studio_a_session.pk}" in warning["message"]


def test_a_change_that_leaves_the_photographer_free_answers_no_warning(receptionist, pete, studio_a_session):
    response = api_as(receptionist).patch(detail(studio_a_session), {"notes": "Bring the tripod"})

    assert (response.status_code, response.json()["warnings"]) == (200, [])


def test_moving_a_session_onto_its_photographers_other_session_answers_with_a_warning(
    receptionist, pete, studio_a_session
):
    later = BookingFactory(start=MONDAY_10_UTC + timedelta(hours=4), photographer=pete)
    start = MONDAY_10_UTC + timedelta(hours=1)

    response = api_as(receptionist).post(
        detail(later, "/reschedule"),
        {"start_time": start.isoformat(), "end_time": (start + timedelta(hours=2)).isoformat()},
    )

    assert response.status_code == 200
    assert [warning["code"] for warning in response.json()["warnings"]] == ["photographer_busy"]
