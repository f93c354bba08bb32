"""The booking pages' safety nets: undo, the earliest start, questions before a doubtful booking,
edits that keep what nobody changed, notifications and warnings in sight."""

import re
from datetime import UTC, date, datetime
from html import unescape

import pytest
import time_machine

from bookings import services
from bookings.models import Booking, BookingState, Client, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, PhotographerFactory
from employees.tests.factories import verified_login
from events.models import Event

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)
NOW = datetime(2030, 1, 14, 9, 0, tzinfo=UTC)


def at(clock, day=MONDAY):
    return local_instant(day, clock)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def page(response) -> str:
    return response.content.decode()


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


# --- undo ------------------------------------------------------------------------------------------


def test_booking_page_offers_to_undo_the_confirmation_just_made(desk, receptionist):
    booking = BookingFactory(state=BookingState.PENDING, start=at("10:00"))
    desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "confirmed"})

    html = page(desk.get(f"/bookings/{booking.pk}/"))

    assert "Undo the last change (Pending → Confirmed)" in html
    assert "Undo: back to pending" in html


def test_undo_without_a_reason_shows_the_error_on_the_open_form(desk):
    booking = BookingFactory(state=BookingState.PENDING, start=at("10:00"))
    desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "confirmed"})

    response = desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "pending", "reason": ""})

    assert response.status_code == 400
    assert "Give a reason for undoing the last change." in page(response)
    assert '<details class="undo" open>' in page(response)
    assert Booking.objects.get(pk=booking.pk).state == BookingState.CONFIRMED


def test_undo_with_a_reason_goes_back_and_says_so(desk):
    booking = BookingFactory(state=BookingState.PENDING, start=at("10:00"))
    desk.post(f"/bookings/{booking.pk}/state/", {"target_state": "confirmed"})

    response = desk.post(
        f"/bookings/{booking.pk}/state/", {"target_state": "pending", "reason": "Wrong booking"}, follow=True
    )

    assert Booking.objects.get(pk=booking.pk).state == BookingState.PENDING
    assert f"Undone: booking #{booking.pk} is pending again (it was confirmed)." in page(response)
    assert "Undone: Confirmed → Pending" in page(response)


# --- time guards -----------------------------------------------------------------------------------


def test_the_page_shows_when_a_session_may_start_instead_of_the_button(client, photographer):
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=photographer, start=at("10:00"))
    client.force_login(photographer)

    html = page(client.get(f"/bookings/{booking.pk}/"))

    assert "<strong>Start session</strong> from Mon 14 Jan, 09:30" in html
    assert '<button class="primary" type="submit">Start session</button>' not in html


def test_the_start_button_appears_from_the_early_start(client, photographer, frozen_clock):
    booking = BookingFactory(state=BookingState.CONFIRMED, photographer=photographer, start=at("10:00"))
    client.force_login(photographer)
    frozen_clock.move_to(at("09:30"))

    assert '<button class="primary" type="submit">Start session</button>' in page(
        client.get(f"/bookings/{booking.pk}/")
    )


def test_a_booking_in_the_past_asks_for_confirmation_first(desk, studio):
    response = desk.post("/bookings/new/", booking_form(studio, start_time="08:00", end_time="08:45"))

    assert response.status_code == 400
    assert "This session starts in the past (Mon 14 Jan 2030, 08:00)" in page(response)
    assert 'name="confirm_past"' in page(response)
    assert not Booking.objects.exists()


def test_a_confirmed_booking_in_the_past_is_saved(desk, studio):
    desk.post("/bookings/new/", booking_form(studio, start_time="08:00", end_time="08:45", confirm_past="on"))

    assert Booking.objects.get().start == at("08:00")


def test_a_future_booking_does_not_ask(desk, studio):
    response = desk.get("/bookings/new/")

    assert 'name="confirm_past"' not in page(response)


# --- a known phone with another name ---------------------------------------------------------------


def test_a_known_phone_with_another_name_asks_which_is_right(desk, studio):
    ClientFactory(full_name="Anna Known", phone="+14155550199")

    response = desk.post("/bookings/new/", booking_form(studio, client_name="Bob Typed"))

    assert response.status_code == 400
    assert "+14155550199 belongs to Anna Known, not Bob Typed" in page(response)
    assert "Book Anna Known (the name typed is not kept)" in page(response)
    assert not Booking.objects.exists()


def test_choosing_the_known_client_books_them(desk, studio):
    known = ClientFactory(full_name="Anna Known", phone="+14155550199")

    desk.post("/bookings/new/", booking_form(studio, client_name="Bob Typed", book_known_client="on"))

    assert Booking.objects.get().client == known
    assert Client.objects.get().full_name == "Anna Known"


def test_correcting_the_phone_books_a_new_client(desk, studio):
    ClientFactory(full_name="Anna Known", phone="+14155550199")

    desk.post("/bookings/new/", booking_form(studio, client_name="Bob Typed", client_phone="+14155550111"))

    assert Booking.objects.get().client.full_name == "Bob Typed"


def test_booking_a_client_without_email_says_they_will_not_be_notified(desk, studio):
    response = desk.post("/bookings/new/", booking_form(studio), follow=True)

    assert "Nina Novak has no e-mail address: they will not be notified of this booking." in page(response)


def test_a_known_client_booked_with_another_email_keeps_theirs_and_the_page_says_so(desk, studio):
    known = ClientFactory(full_name="Anna Known", phone="+14155550199", email="anna@client.test")

    response = desk.post(
        "/bookings/new/", booking_form(studio, client_name="Anna Known", client_email="bob@typed.test"), follow=True
    )

    assert Booking.objects.get().client == known
    known.refresh_from_db()
    assert known.email == "anna@client.test"
    assert "Anna Known has the e-mail address anna@client.test, not bob@typed.test: the client is unchanged." in page(
        response
    )


# --- edits keep what nobody changed ----------------------------------------------------------------


def edit_form(booking, **changes):
    """The edit form as shown for ``booking``, with ``changes`` typed in."""
    shown = {
        "space": booking.space.slug,
        "date": "2030-01-14",
        "start_time": "14:00",
        "end_time": "16:00",
        "people_count": str(booking.people_count),
        "photographer": str(booking.photographer_id or ""),
        "notes": booking.notes,
    }
    return {**shown, **{f"initial-{name}": value for name, value in shown.items()}, **changes}


def test_editing_notes_keeps_a_deactivated_photographer(desk, studio, receptionist):
    photographer = PhotographerFactory()
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"), photographer=photographer)
    photographer.is_active = False
    photographer.save()

    desk.post(f"/bookings/{booking.pk}/edit/", edit_form(booking, notes="Bring a tripod"))

    booking.refresh_from_db()
    assert (booking.notes, booking.photographer) == ("Bring a tripod", photographer)
    assert list(Event.objects.values_list("type", flat=True)) == ["booking.updated"]


def test_the_edit_form_shows_a_deactivated_photographer_as_chosen_and_inactive(desk, studio):
    photographer = PhotographerFactory(full_name="Paul Gone", is_active=False)
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"), photographer=photographer)

    html = page(desk.get(f"/bookings/{booking.pk}/edit/"))

    assert f'<option value="{photographer.pk}" selected>Paul Gone (inactive)</option>' in html


def test_an_edit_leaves_what_someone_else_changed_meanwhile(desk, studio, manager):
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"), people_count=2)
    shown = edit_form(booking, notes="Bring a tripod")
    services.update_booking(booking=booking, actor=manager, people_count=5)

    desk.post(f"/bookings/{booking.pk}/edit/", shown)

    booking.refresh_from_db()
    assert (booking.people_count, booking.notes) == (5, "Bring a tripod")


def test_the_booking_page_marks_a_deactivated_photographer(desk):
    booking = BookingFactory(photographer=PhotographerFactory(full_name="Paul Gone", is_active=False))

    assert "inactive" in page(desk.get(f"/bookings/{booking.pk}/"))


# --- notifications and currency ----------------------------------------------------------------------


def test_the_booking_page_lists_its_notifications(desk, studio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        desk.post("/bookings/new/", booking_form(studio))
    booking = Booking.objects.get()

    html = page(desk.get(f"/bookings/{booking.pk}/"))

    assert "Booking received" in html
    assert "not sent" in html
    assert "The client has no e-mail address." in html


def test_the_booking_page_shows_the_price_with_the_currency(desk, settings):
    settings.STUDIO_CURRENCY = "EUR"
    booking = BookingFactory(price="120.00")

    assert "120.00 EUR" in page(desk.get(f"/bookings/{booking.pk}/"))


# --- the bookings list -----------------------------------------------------------------------------


def test_the_bookings_list_finds_a_client_by_name_and_sorts_by_column(desk):
    BookingFactory(client=ClientFactory(full_name="Anna Kowalska"), start=at("10:00"))
    BookingFactory(client=ClientFactory(full_name="Ben Berg"), start=at("13:00"))

    found = desk.get("/bookings/", {"search": "kowal"})
    sorted_page = desk.get("/bookings/", {"ordering": "-client"})

    assert [b.client.full_name for b in found.context["page"]] == ["Anna Kowalska"]
    assert [b.client.full_name for b in sorted_page.context["page"]] == ["Ben Berg", "Anna Kowalska"]
    assert 'aria-sort="descending"' in page(sorted_page)


# --- Today ------------------------------------------------------------------------------------------


def test_todays_pending_figure_counts_the_bookings_its_list_shows(desk):
    BookingFactory(state=BookingState.PENDING, start=at("10:00"))
    BookingFactory(state=BookingState.PENDING, start=at("10:00", day=date(2030, 1, 15)))
    BookingFactory(state=BookingState.PENDING, start=at("10:00", day=date(2030, 1, 16)))

    response = desk.get("/")

    assert len(response.context["needs"].to_confirm) == 3
    assert '<div class="figure" id="figure-to-confirm"><span class="value">3</span>' in page(response)


def form_as_shown(html: str) -> dict:
    """What the browser would send back for the edit form untouched: each input, select and textarea."""
    data = dict(re.findall(r'<input type="(?:hidden|text|number|date|time)" name="([^"]+)" value="([^"]*)"', html))
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        data[name] = chosen.group(1) if chosen else ""
    data.update(re.findall(r'<textarea name="([^"]+)"[^>]*>\n?(.*?)</textarea>', html, re.S))
    data.pop("csrfmiddlewaretoken", None)
    return {name: unescape(value) for name, value in data.items()}


def test_saving_the_edit_form_untouched_changes_nothing(client, manager, studio):
    photographer = PhotographerFactory(is_active=False)
    booking = BookingFactory(
        space=studio, start=at("14:00"), end=at("16:00"), photographer=photographer, notes='Bring "props" & a dog'
    )
    verified_login(client, manager)

    shown = form_as_shown(page(client.get(f"/bookings/{booking.pk}/edit/")))
    response = client.post(f"/bookings/{booking.pk}/edit/", shown)

    assert response.status_code == 302
    assert "initial-photographer" in shown
    assert not Event.objects.exists()
    assert Booking.objects.get(pk=booking.pk).photographer == photographer


def test_an_edit_of_a_booking_someone_else_changed_since_is_shown_again_instead_of_saved(client, manager, studio):
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"), people_count=2, notes="")
    verified_login(client, manager)
    opened = form_as_shown(page(client.get(f"/bookings/{booking.pk}/edit/")))
    services.update_booking(booking=booking, actor=manager, people_count=5)

    response = client.post(f"/bookings/{booking.pk}/edit/", {**opened, "notes": "Bring a tripod"})

    assert response.status_code == 400
    html = unescape(page(response))
    assert f"Someone else changed booking #{booking.pk} since you opened it: People. Here is what it says now" in html
    shown = form_as_shown(html)
    assert (shown["notes"], shown["people_count"], shown["revision"]) == ("Bring a tripod", "5", "1")
    booking.refresh_from_db()
    assert (booking.notes, booking.people_count) == ("", 5)
    assert Event.objects.filter(type="booking.updated").count() == 1  # the other change only


def test_the_edit_shown_again_after_someone_elses_change_saves_on_top_of_it(client, manager, studio):
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"), people_count=2, notes="")
    verified_login(client, manager)
    opened = form_as_shown(page(client.get(f"/bookings/{booking.pk}/edit/")))
    services.update_booking(booking=booking, actor=manager, people_count=5)
    shown_again = form_as_shown(page(client.post(f"/bookings/{booking.pk}/edit/", {**opened, "notes": "Tripod"})))

    response = client.post(f"/bookings/{booking.pk}/edit/", shown_again)

    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.notes, booking.people_count) == ("Tripod", 5)


def test_an_edit_shown_again_names_the_value_now_of_a_field_both_clerks_changed(client, manager, studio):
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"), notes="")
    verified_login(client, manager)
    opened = form_as_shown(page(client.get(f"/bookings/{booking.pk}/edit/")))
    services.update_booking(booking=booking, actor=manager, notes="Client asked for a refund")

    response = client.post(f"/bookings/{booking.pk}/edit/", {**opened, "notes": "Bring a tripod"})

    html = unescape(page(response))
    assert "since you opened it: Notes (now “Client asked for a refund”; yours is kept below)." in html
    assert form_as_shown(html)["notes"] == "Bring a tripod"


def test_an_edit_shown_again_writes_the_day_now_as_the_booking_page_does_and_an_emptied_field_as_empty(
    client, manager, studio
):
    booking = BookingFactory(space=studio, start=at("14:00"), end=at("16:00"), notes="Tripod")
    verified_login(client, manager)
    opened = form_as_shown(page(client.get(f"/bookings/{booking.pk}/edit/")))
    services.reschedule_booking(
        booking=booking, actor=manager, start=at("14:00", date(2030, 1, 15)), end=at("16:00", date(2030, 1, 15))
    )
    services.update_booking(booking=Booking.objects.get(pk=booking.pk), actor=manager, notes="")

    response = client.post(
        f"/bookings/{booking.pk}/edit/", {**opened, "date": "2030-01-16", "start_time": "15:00", "notes": "Two tripods"}
    )

    assert (
        "since you opened it: Date (now “Tue 15 Jan 2030”; yours is kept below); "
        "Notes (now empty; yours is kept below). Here is what it says now"
    ) in unescape(page(response))
