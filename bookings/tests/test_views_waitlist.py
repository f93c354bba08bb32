"""The waitlist on the staff pages: offered on the booking form's overlap, shown on Today once the
slot is free with a one-click Book, and its entries' own page with their history."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import services
from bookings.models import Booking, BookingState, WaitlistEntry, WaitlistStatus, local_instant
from bookings.tests.factories import BookingFactory, PhotographerFactory, WaitlistEntryFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 14, 9, 0, tzinfo=UTC)
TEN = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def taken(studio):
    return BookingFactory(space=studio, start=TEN)


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
        "notes": "Family portrait",
        **overrides,
    }


def waiting(receptionist, space, start=TEN, phone="+14155550199"):
    return services.add_to_waitlist(
        actor=receptionist,
        space=space,
        start=start,
        end=start + timedelta(hours=2),
        people_count=2,
        client_name="Nina Novak",
        client_phone=phone,
    )


def page(response) -> str:
    return response.content.decode()


def test_a_taken_slot_offers_the_waitlist_on_the_booking_form(desk, studio, taken):
    response = desk.post("/bookings/new/", booking_form(studio))

    assert response.status_code == 400
    assert "Put Nina Novak on the waitlist for this slot" in page(response)
    assert 'formaction="/waitlist/add/"' in page(response)
    # "Save booking" comes first, so it stays the button Enter presses.
    assert page(response).index("Save booking") < page(response).index("on the waitlist for this slot")


def test_the_form_offers_no_waitlist_for_other_refusals(desk, studio):
    response = desk.post("/bookings/new/", booking_form(studio, people_count="60"))

    assert response.status_code == 400
    assert "on the waitlist" not in page(response)


def test_the_offer_puts_the_client_on_the_waitlist_with_the_forms_data(desk, studio, taken, receptionist):
    response = desk.post("/waitlist/add/", booking_form(studio))

    entry = WaitlistEntry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/waitlist/{entry.pk}/"
    assert (entry.client.full_name, entry.space, entry.start, entry.end) == (
        "Nina Novak",
        studio,
        TEN,
        TEN + timedelta(hours=2),
    )
    assert (entry.people_count, entry.notes, entry.created_by) == (2, "Family portrait", receptionist)
    followed = desk.get(response["Location"])
    assert "Nina Novak is on the waitlist for Test Studio" in page(followed)
    assert "Put on the waitlist" in page(followed)


def test_a_refused_waitlist_entry_goes_back_to_the_form_saying_why(desk, studio):
    response = desk.post("/waitlist/add/", booking_form(studio))

    assert (response.status_code, response["Location"]) == (302, "/bookings/new/")
    form_again = desk.get(response["Location"])
    assert "free at that time: book it instead" in page(form_again)
    assert {name: form_again.context["form"][name].value() for name in ("space", "date", "start_time")} == {
        "space": "test_studio",
        "date": "2030-01-14",
        "start_time": "10:00",
    }
    assert not WaitlistEntry.objects.exists()


def test_a_refused_waitlist_entry_keeps_everything_typed_on_the_form(desk, studio):
    notes = "Famille Müller, portrait avec le chien. " * 48  # ~2,000 characters, 12 kB in a URL
    lens = PhotographerFactory()
    typed = booking_form(
        studio,
        client_email="nina@client.test",
        people_count="4",
        notes=notes,
        photographer=str(lens.pk),
        repeat_every_weeks="2",
        repeat_count="4",
    )

    response = desk.post("/waitlist/add/", typed, follow=True)

    assert response.redirect_chain == [("/bookings/new/", 302)]  # not in the URL: gunicorn takes 4 kB
    form, repeat = response.context["form"], response.context["repeat"]
    shown = {name: form[name].value() for name in form.fields} | {name: repeat[name].value() for name in repeat.fields}
    assert {name: value for name, value in shown.items() if value} == {
        name: value for name, value in typed.items() if value
    }
    assert not desk.get("/bookings/new/").context["form"]["notes"].value()  # taken back once


def test_a_space_no_longer_in_use_cannot_be_waitlisted(desk, studio, taken):
    studio.is_active = False
    studio.save()

    response = desk.post("/waitlist/add/", booking_form(studio))

    assert (response.status_code, response["Location"]) == (302, "/bookings/new/")
    assert "Test Studio takes no bookings at the moment." in page(desk.get(response["Location"]))
    assert not WaitlistEntry.objects.exists()


def test_photographers_are_not_offered_the_waitlist(camera, studio):
    assert camera.post("/waitlist/add/", booking_form(studio)).status_code == 403
    assert camera.get("/waitlist/").status_code == 403
    assert "Waitlist" not in page(camera.get("/"))


def test_today_shows_a_waiting_client_once_the_slot_is_free(desk, studio, taken, receptionist):
    entry = waiting(receptionist, studio)
    assert f"/waitlist/{entry.pk}/book/" not in page(desk.get("/"))

    services.transition_booking(booking=taken, target_state=BookingState.CANCELLED, actor=receptionist, reason="Ill")

    today = page(desk.get("/"))
    assert "Waitlist: the slot is free, book them" in today
    assert f'action="/waitlist/{entry.pk}/book/"' in today
    assert "Nina Novak" in today


def test_book_on_today_books_the_client_and_opens_the_booking(desk, studio, taken, receptionist):
    entry = waiting(receptionist, studio)
    services.transition_booking(booking=taken, target_state=BookingState.CANCELLED, actor=receptionist, reason="Ill")

    response = desk.post(f"/waitlist/{entry.pk}/book/")

    booking = Booking.objects.get(client=entry.client)
    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{booking.pk}/"
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.BOOKED
    assert f"Booking #{booking.pk} is saved as pending: Nina Novak came off the waitlist." in page(
        desk.get(response["Location"])
    )


def test_book_while_the_slot_is_still_taken_says_so_on_the_entry(desk, studio, taken, receptionist):
    entry = waiting(receptionist, studio)

    response = desk.post(f"/waitlist/{entry.pk}/book/")

    assert response["Location"] == f"/waitlist/{entry.pk}/"
    assert "is already booked on" in page(desk.get(response["Location"]))
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_book_into_a_slot_closed_since_says_so_on_the_entry(desk, studio, taken, receptionist, manager):
    entry = waiting(receptionist, studio)
    services.transition_booking(booking=taken, target_state=BookingState.CANCELLED, actor=receptionist, reason="Ill")
    services.create_closure(actor=manager, space=studio, start=TEN, end=TEN + timedelta(hours=1), reason="Leaking roof")

    response = desk.post(f"/waitlist/{entry.pk}/book/")

    assert response["Location"] == f"/waitlist/{entry.pk}/"
    entry_page = page(desk.get(response["Location"]))
    assert "Test Studio is closed on Mon 14 Jan 2030" in entry_page
    assert "Leaking roof" in entry_page
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING
    assert f'action="/waitlist/{entry.pk}/book/"' not in page(desk.get("/"))


def test_withdrawing_on_the_entry_page_records_the_reason(desk, studio, taken, receptionist):
    entry = waiting(receptionist, studio)

    response = desk.post(f"/waitlist/{entry.pk}/withdraw/", {"reason": "Found another studio"})

    followed = page(desk.get(response["Location"]))
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WITHDRAWN
    assert "Nina Novak is off the waitlist." in followed
    assert "Reason: Found another studio" in followed
    assert "nothing more happens to it" in followed


def test_the_waitlist_page_lists_waiting_clients_by_default(desk, studio, taken, receptionist):
    entry = waiting(receptionist, studio)
    gone = waiting(receptionist, studio, phone="+14155550177")
    services.withdraw_waitlist_entry(entry=gone, actor=receptionist)

    listed = page(desk.get("/waitlist/"))

    assert f"/waitlist/{entry.pk}/" in listed
    assert f"/waitlist/{gone.pk}/" not in listed
    assert f"/waitlist/{gone.pk}/" in page(desk.get("/waitlist/?status=withdrawn"))
    assert desk.get("/waitlist/?date=someday").status_code == 400


def count(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def entries(count_, space):
    for n in range(count_):
        start = local_instant(TEN.date() + timedelta(days=n + 1), "10:00")
        WaitlistEntryFactory(space=space, start=start)


@pytest.mark.parametrize("url", ["/", "/waitlist/"])
def test_waitlist_pages_cost_the_same_for_1_and_10_entries(desk, studio, url):
    entries(1, studio)
    one = count(desk, url)

    entries(9, studio)

    assert count(desk, url) == one
