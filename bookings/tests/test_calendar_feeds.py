"""Calendar feeds and the .ics files of client e-mails, read back with an independent parser
(vobject), as a calendar app would read them."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
import vobject
from django.core import mail
from icalendar import Calendar

from bookings import series
from bookings import services as bookings
from bookings.models import BookingState
from bookings.tests.factories import BookingFactory, ClientFactory, PhotographerFactory, SpaceFactory
from employees import calendar_feed
from employees import services as employee_services
from employees.models import Role
from employees.tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

# Thursday 10 January 2030, 09:00 UTC; sessions are on the Monday after, 10:00 UTC = 11:00 in Berlin.
NOW = datetime(2030, 1, 10, 9, 0, tzinfo=UTC)
MONDAY_10_UTC = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _studio_in_berlin_now(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.DEFAULT_FROM_EMAIL = "Lichthof Studio <studio@lichthof.test>"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def daylight():
    return SpaceFactory(slug="daylight", name="Daylight Studio")


@pytest.fixture
def loft():
    return SpaceFactory(slug="loft", name="The Loft")


def _url(employee, **query) -> str:
    token = calendar_feed.token_for(employee.calendar_feed_key)
    suffix = "".join(f"?{name}={value}" for name, value in query.items())
    return f"/calendar/feeds/{token}.ics{suffix}"


def _events(response) -> dict[str, vobject.base.Component]:
    """The feed's events by UID, as vobject reads them."""
    assert response.status_code == 200, response.content
    calendar = vobject.readOne(response.content.decode())
    return {event.uid.value: event for event in calendar.contents.get("vevent", [])}


def _tzid(moment) -> str:
    """The TZID a DTSTART or DTEND was written with (vobject swaps it for the VTIMEZONE it names)."""
    return vobject.icalendar.TimezoneComponent.pickTzid(moment.value.tzinfo)


def _uid(booking) -> str:
    return f"booking-{booking.pk}@lichthof.test"


def test_a_photographers_feed_lists_their_sessions_and_no_one_elses(client, daylight):
    photographer, colleague = PhotographerFactory(), PhotographerFactory()
    theirs = BookingFactory(space=daylight, photographer=photographer, start=MONDAY_10_UTC)
    BookingFactory(space=daylight, photographer=colleague, start=MONDAY_10_UTC + timedelta(hours=3))
    BookingFactory(space=daylight, start=MONDAY_10_UTC + timedelta(hours=6))

    events = _events(client.get(_url(photographer)))

    assert list(events) == [_uid(theirs)]


def test_an_event_carries_uid_sequence_status_location_and_the_studios_time_zone(client, daylight):
    photographer = PhotographerFactory()
    client_ = ClientFactory(full_name="Ada Lovelace")
    booking = BookingFactory(
        space=daylight, photographer=photographer, client=client_, start=MONDAY_10_UTC, state=BookingState.CONFIRMED
    )

    event = _events(client.get(_url(photographer)))[_uid(booking)]

    assert event.sequence.value == "0"
    assert event.status.value == "CONFIRMED"
    assert event.location.value == "Daylight Studio"
    assert event.summary.value == "Ada Lovelace · Daylight Studio"
    assert _tzid(event.dtstart) == "Europe/Berlin"
    assert event.dtstart.value.replace(tzinfo=None) == datetime(2030, 1, 14, 11, 0)
    assert event.dtstart.value == MONDAY_10_UTC
    assert event.dtend.value == MONDAY_10_UTC + timedelta(hours=2)
    assert event.url.value == f"http://testserver/bookings/{booking.pk}/"


def test_a_pending_booking_is_tentative(client, daylight):
    photographer = PhotographerFactory()
    booking = BookingFactory(space=daylight, photographer=photographer)

    assert _events(client.get(_url(photographer)))[_uid(booking)].status.value == "TENTATIVE"


def test_every_change_raises_the_sequence_and_the_uid_stays(client, daylight, loft):
    photographer, desk = PhotographerFactory(), EmployeeFactory(role=Role.RECEPTIONIST)
    booking = BookingFactory(space=daylight, photographer=photographer)
    sequences = []

    for change in (
        lambda: bookings.reschedule_booking(
            booking=booking,
            actor=desk,
            start=MONDAY_10_UTC + timedelta(hours=1),
            end=MONDAY_10_UTC + timedelta(hours=3),
        ),
        lambda: bookings.update_booking(booking=booking, actor=desk, notes="Bring the blue backdrop"),
        lambda: bookings.transition_booking(booking=booking, target_state=BookingState.CONFIRMED, actor=desk),
        lambda: bookings.reschedule_booking(
            booking=booking, actor=desk, start=booking.start, end=booking.end, space=loft
        ),
    ):
        change()
        event = _events(client.get(_url(photographer)))[_uid(booking)]
        sequences.append(int(event.sequence.value))

    assert sequences == [1, 2, 3, 4]
    assert event.location.value == "The Loft"
    assert event.dtstart.value == MONDAY_10_UTC + timedelta(hours=1)


def test_a_cancelled_booking_stays_in_the_feed_as_cancelled(client, daylight):
    photographer, desk = PhotographerFactory(), EmployeeFactory(role=Role.RECEPTIONIST)
    booking = BookingFactory(space=daylight, photographer=photographer)

    bookings.transition_booking(booking=booking, target_state=BookingState.CANCELLED, actor=desk, reason="Ill")

    event = _events(client.get(_url(photographer)))[_uid(booking)]
    assert event.status.value == "CANCELLED"
    assert event.sequence.value == "1"


def test_a_series_shows_each_date_and_its_cancelled_dates_as_cancelled(client, daylight):
    photographer, desk = PhotographerFactory(), EmployeeFactory(role=Role.RECEPTIONIST)
    booked = series.create_series(
        actor=desk,
        space=daylight,
        start=MONDAY_10_UTC,
        end=MONDAY_10_UTC + timedelta(hours=2),
        people_count=2,
        interval_weeks=1,
        count=3,
        client_name="Nina Novak",
        client_phone="+14155550199",
        photographer=photographer,
    )

    series.cancel_series(
        series=booked.series, actor=desk, reason="Moving away", from_day=(MONDAY_10_UTC + timedelta(weeks=1)).date()
    )

    events = _events(client.get(_url(photographer)))
    assert [events[_uid(booking)].status.value for booking in booked.bookings] == [
        "TENTATIVE",
        "CANCELLED",
        "CANCELLED",
    ]
    assert [events[_uid(booking)].dtstart.value for booking in booked.bookings] == [
        MONDAY_10_UTC + timedelta(weeks=week) for week in range(3)
    ]


def test_the_feed_covers_the_last_thirty_days_and_the_next_year(client, daylight):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    inside = [
        BookingFactory(space=daylight, start=NOW - timedelta(days=29)),
        BookingFactory(space=daylight, start=NOW + timedelta(days=364)),
    ]
    BookingFactory(space=daylight, start=NOW - timedelta(days=31))
    BookingFactory(space=daylight, start=NOW + timedelta(days=366))

    events = _events(client.get(_url(desk)))

    assert sorted(events) == sorted(_uid(booking) for booking in inside)


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.MANAGER, Role.ADMIN])
def test_front_desk_and_managers_get_the_whole_studio(client, daylight, loft, role):
    in_daylight = BookingFactory(space=daylight, photographer=PhotographerFactory())
    in_the_loft = BookingFactory(space=loft)

    events = _events(client.get(_url(EmployeeFactory(role=role))))

    assert sorted(events) == sorted([_uid(in_daylight), _uid(in_the_loft)])


def test_one_spaces_feed_lists_only_that_space(client, daylight, loft):
    in_daylight = BookingFactory(space=daylight)
    BookingFactory(space=loft)

    response = client.get(_url(EmployeeFactory(role=Role.RECEPTIONIST), space="daylight"))

    assert list(_events(response)) == [_uid(in_daylight)]
    assert vobject.readOne(response.content.decode()).x_wr_calname.value == "Lichthof Studio: Daylight Studio"


def test_a_photographer_asking_for_a_space_gets_only_their_sessions_there(client, daylight, loft):
    photographer = PhotographerFactory()
    theirs = BookingFactory(space=daylight, photographer=photographer)
    BookingFactory(space=daylight, start=MONDAY_10_UTC + timedelta(hours=4))
    BookingFactory(space=loft, photographer=photographer, start=MONDAY_10_UTC + timedelta(hours=4))

    assert list(_events(client.get(_url(photographer, space="daylight")))) == [_uid(theirs)]


def test_the_front_desks_week_of_a_space_links_to_its_feed(client, daylight):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    client.force_login(desk)

    page = client.get("/calendar/", {"view": "week", "date": "2030-01-14", "space": "daylight"}).content.decode()

    assert f'href="http://testserver{_url(desk, space="daylight")}"' in page


def test_a_photographers_week_of_a_space_offers_no_space_feed(client, daylight):
    client.force_login(PhotographerFactory())

    page = client.get("/calendar/", {"view": "week", "date": "2030-01-14", "space": "daylight"}).content.decode()

    assert "/calendar/feeds/" not in page


def test_an_unknown_space_is_not_found(client):
    response = client.get(_url(EmployeeFactory(role=Role.RECEPTIONIST), space="nowhere"))

    assert response.status_code == 404


def test_a_space_named_with_a_nul_is_not_found(client, daylight):
    response = client.get(_url(EmployeeFactory(role=Role.RECEPTIONIST)), {"space": "daylight\x00"})

    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/calendar/feeds/nothing.ics", "/calendar/feeds/" + "A" * 65 + ".ics", "/calendar/feeds/%00.ics"]
)
def test_an_unknown_token_is_not_found(client, path):
    assert client.get(path).status_code == 404


def test_an_old_token_is_not_found_once_replaced(client, daylight):
    photographer = PhotographerFactory()
    BookingFactory(space=daylight, photographer=photographer)
    old_url = _url(photographer)

    employee_services.regenerate_calendar_feed(employee=photographer, actor=photographer)

    assert client.get(old_url).status_code == 404
    assert client.get(_url(photographer)).status_code == 200


def test_a_deactivated_employees_feed_is_not_found(client, daylight):
    photographer = PhotographerFactory()
    url = _url(photographer)

    employee_services.update_employee(employee=photographer, actor=EmployeeFactory(role=Role.ADMIN), is_active=False)

    assert client.get(url).status_code == 404


def test_the_feed_is_a_private_uncached_calendar_without_a_session(client, daylight):
    photographer = PhotographerFactory()

    response = client.get(_url(photographer))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    assert not response.cookies


@pytest.mark.parametrize("known", [True, False])
def test_the_request_log_shows_no_token(client, caplog, known):
    photographer = PhotographerFactory()
    url = _url(photographer) if known else "/calendar/feeds/" + "B" * 65 + ".ics"

    client.get(url)

    (line,) = [record.msg for record in caplog.records if record.name == "photostudio.request"]
    assert line["path"] == "/calendar/feeds/token.ics"


def test_not_found_lines_show_no_token_either(client, caplog):
    photographer = PhotographerFactory()

    client.get(_url(photographer, space="nowhere"))

    (line,) = [record for record in caplog.records if record.name == "django.request"]
    formatter = logging.getLogger().handlers[0].formatter
    assert json.loads(formatter.format(line))["event"] == "Not Found: /calendar/feeds/token.ics"


def test_a_calendar_app_may_ask_for_the_headers_only(client):
    assert client.head(_url(PhotographerFactory())).status_code == 200


def test_an_empty_feed_is_still_a_valid_calendar(client):
    response = client.get(_url(PhotographerFactory()))

    assert _events(response) == {}
    Calendar.from_ical(response.content).validate()


def test_the_feed_validates_with_the_library_that_builds_it(client, daylight):
    BookingFactory(space=daylight, notes="Line one\nLine two; with, punctuation")

    response = client.get(_url(EmployeeFactory(role=Role.RECEPTIONIST)))

    calendar = Calendar.from_ical(response.content)
    calendar.validate()
    assert [str(zone.tz_name) for zone in calendar.timezones] == ["Europe/Berlin"]


def test_the_feed_asks_to_be_fetched_again_hourly_as_rfc_7986_writes_it(client):
    lines = client.get(_url(PhotographerFactory())).content.decode().splitlines()

    # RFC 7986 5.7: the VALUE=DURATION parameter is required.
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert "X-PUBLISHED-TTL:PT1H" in lines


def test_the_feed_reads_the_same_few_rows_however_many_sessions(client, daylight, django_assert_num_queries):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    for hour in range(8):
        BookingFactory(space=daylight, start=MONDAY_10_UTC + timedelta(days=hour), photographer=PhotographerFactory())
    url = _url(desk, space="daylight")

    # The owner, their permissions (their own and their role's), the space, the bookings.
    with django_assert_num_queries(5):
        assert len(_events(client.get(url))) == 8


# --- The .ics file of client e-mails ------------------------------------------------------------


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _calendar_file(message):
    (filename, content, mimetype), *_ = message.attachments
    assert (filename, mimetype) == ("session.ics", "text/calendar")
    return vobject.readOne(content)


def _booked(desk, space):
    return bookings.create_booking(
        actor=desk,
        space=space,
        start=MONDAY_10_UTC,
        end=MONDAY_10_UTC + timedelta(hours=2),
        people_count=3,
        client_name="Ada Lovelace",
        client_phone="+14155550100",
        client_email="ada@client.test",
        notes="Pays in cash",
    )


def test_the_confirmation_email_carries_the_session_as_a_calendar_file(daylight, after_commit):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    booking = _booked(desk, daylight)
    mail.outbox.clear()

    with after_commit():
        bookings.transition_booking(booking=booking, target_state=BookingState.CONFIRMED, actor=desk)

    (message,) = mail.outbox
    assert "The attached session.ics puts it in your calendar." in message.body
    calendar = _calendar_file(message)
    event = calendar.vevent
    assert calendar.method.value == "PUBLISH"
    assert event.uid.value == _uid(booking)
    assert (event.status.value, event.sequence.value) == ("CONFIRMED", "1")
    assert event.location.value == "Daylight Studio"
    assert _tzid(event.dtstart) == "Europe/Berlin"
    assert event.dtstart.value == MONDAY_10_UTC
    assert "Pays in cash" not in message.attachments[0][1]
    assert "+14155550100" not in message.attachments[0][1]


def test_the_cancellation_email_cancels_the_same_event(daylight, after_commit):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    booking = _booked(desk, daylight)
    mail.outbox.clear()

    with after_commit():
        bookings.transition_booking(booking=booking, target_state=BookingState.CANCELLED, actor=desk, reason="Ill")

    event = _calendar_file(mail.outbox[0]).vevent
    assert (event.uid.value, event.status.value) == (_uid(booking), "CANCELLED")


def test_the_rescheduling_email_moves_the_same_event(daylight, after_commit):
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    booking = _booked(desk, daylight)
    mail.outbox.clear()

    with after_commit():
        bookings.reschedule_booking(
            booking=booking,
            actor=desk,
            start=MONDAY_10_UTC + timedelta(days=1),
            end=MONDAY_10_UTC + timedelta(days=1, hours=2),
        )

    event = _calendar_file(mail.outbox[0]).vevent
    assert event.uid.value == _uid(booking)
    assert event.dtstart.value == MONDAY_10_UTC + timedelta(days=1)
    assert event.sequence.value == "1"


def test_the_booking_received_email_has_no_calendar_file(daylight, after_commit):
    with after_commit():
        _booked(EmployeeFactory(role=Role.RECEPTIONIST), daylight)

    (message,) = mail.outbox
    assert message.attachments == []
