"""The printable day sheet, a photographer's own Today, and a refused page that says why."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from bookings.models import BookingState, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, SpaceFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)
NOW = datetime(2030, 1, 14, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_day_sheet_lists_each_space_with_phone_people_photographer_and_notes(desk, photographer):
    studio = SpaceFactory(name="Studio A", slug="studio_a")
    loft = SpaceFactory(name="Loft", slug="loft")
    BookingFactory(
        space=studio,
        start=local_instant(MONDAY, "10:00"),
        end=local_instant(MONDAY, "12:00"),
        client=ClientFactory(full_name="Nina Novak", phone="+14155550142"),
        people_count=3,
        photographer=photographer,
        notes="Bring the white backdrop",
        state=BookingState.CONFIRMED,
    )

    response = desk.get(reverse("day-sheet"), {"date": "2030-01-14"})

    page = response.content.decode()
    assert response.status_code == 200
    for text in (
        "Studio A",
        "10:00–12:00",
        "Nina Novak",
        "+14155550142",
        ">3<",
        str(photographer),
        "Bring the white backdrop",
    ):
        assert text in page
    assert f'id="sheet-{loft.slug}"' in page
    assert "No sessions booked." in page


def test_day_sheet_of_one_space_leaves_out_cancelled_bookings_and_other_spaces(desk):
    studio = SpaceFactory(name="Studio A", slug="studio_a")
    SpaceFactory(name="Loft", slug="loft")
    BookingFactory(space=studio, start=local_instant(MONDAY, "10:00"), client=ClientFactory(full_name="Kept Client"))
    BookingFactory(
        space=studio,
        start=local_instant(MONDAY, "14:00"),
        client=ClientFactory(full_name="Gone Client"),
        state=BookingState.CANCELLED,
    )

    page = desk.get(reverse("day-sheet"), {"date": "2030-01-14", "space": "studio_a"}).content.decode()

    assert "Kept Client" in page
    assert "Gone Client" not in page
    assert 'id="sheet-loft"' not in page


def test_today_and_the_calendar_link_to_the_day_sheet(desk):
    SpaceFactory()

    for name in ("today", "calendar"):
        page = desk.get(reverse(name)).content.decode()
        assert f'href="{reverse("day-sheet")}?date=2030-01-14' in page


def test_photographers_today_starts_with_their_sessions_today_and_this_week(camera, photographer):
    studio = SpaceFactory()
    mine_today = BookingFactory(space=studio, start=local_instant(MONDAY, "15:00"), photographer=photographer)
    mine_friday = BookingFactory(
        space=studio, start=local_instant(date(2030, 1, 18), "10:00"), photographer=photographer
    )
    BookingFactory(space=studio, start=local_instant(date(2030, 1, 21), "10:00"), photographer=photographer)
    BookingFactory(space=studio, start=local_instant(MONDAY, "11:00"))

    response = camera.get(reverse("today"))

    assert [b.pk for b in response.context["sessions_today"]] == [mine_today.pk]
    assert [b.pk for b in response.context["sessions_this_week"]] == [mine_friday.pk]
    page = response.content.decode()
    assert page.index("Your sessions today") < page.index("Later this week") < page.index("Key figures of the day")


def test_photographers_today_does_not_offer_confirming(camera):
    page = camera.get(reverse("today")).content.decode()

    assert "Pending: confirm with the client" not in page
    assert "+ New booking" not in page


def test_front_desks_today_has_no_photographer_section(desk):
    page = desk.get(reverse("today")).content.decode()

    assert "Your sessions today" not in page
    assert "Pending, any day: confirm with the client" in page


def test_a_refused_page_names_the_permission_the_role_lacks(camera):
    response = camera.get(reverse("booking-new"))

    assert response.status_code == 403
    assert "It needs the permission “Can add booking”, which your role (Photographer) does not have." in (
        response.content.decode()
    )


def _no_action_line(response) -> str:
    page = response.content.decode()
    start = page.index('data-testid="no-action"')
    return page[start : page.index("</p>", start)]


def test_a_booking_page_with_nothing_to_do_says_why_the_role_cannot(camera):
    booking = BookingFactory(state=BookingState.PENDING)

    line = _no_action_line(camera.get(reverse("booking-detail", args=[booking.pk])))

    assert "may not mark bookings as cancelled" in line
    assert "may not mark bookings as confirmed" in line


def test_a_booking_at_the_end_of_its_life_says_it_has_no_next_step(desk):
    booking = BookingFactory(state=BookingState.NO_SHOW)

    line = _no_action_line(desk.get(reverse("booking-detail", args=[booking.pk])))

    assert "A no-show booking has no next step." in line
