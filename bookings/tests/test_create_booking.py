from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingState, Client, Space, local_instant
from bookings.tests.factories import BookingFactory, ClientFactory, PhotographerFactory, SpaceFactory
from employees.models import Employee
from events.models import Event
from photostudio.errors import BookingOverlap, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)
GUIDE_EXAMPLE = {
    "client_name": "John Doe",
    "client_phone": "+1234567890",
    "start": datetime(2024, 1, 15, 10, 0, tzinfo=UTC),
    "end": datetime(2024, 1, 15, 12, 0, tzinfo=UTC),
    "people_count": 2,
}


def book(actor, space, start, end=None, **arguments):
    arguments.setdefault("people_count", 2)
    if "client_phone" not in arguments:
        arguments.setdefault("client", ClientFactory())
    return services.create_booking(
        actor=actor, space=space, start=start, end=end or start + timedelta(hours=2), **arguments
    )


def at(clock, day=MONDAY):
    return local_instant(day, clock)


def refusal(raised):
    return raised.value.code, raised.value.details


def test_guide_example_books_studio_a_for_a_new_client(receptionist):
    booking = services.create_booking(actor=receptionist, space=Space.objects.get(slug="studio_a"), **GUIDE_EXAMPLE)

    booking = Booking.objects.select_related("client").get(pk=booking.pk)
    assert booking.state == BookingState.PENDING
    assert (booking.client.full_name, booking.client.phone) == ("John Doe", "+1234567890")
    assert booking.price == Decimal("160.00")  # 2 hours at studio_a's 80.00
    assert booking.blocks_until == datetime(2024, 1, 15, 12, 15, tzinfo=UTC)
    assert (booking.created_by, booking.client.created_by) == (receptionist, receptionist)


def test_booking_for_a_new_phone_needs_the_right_to_register_clients(photographer, studio):
    photographer.user_permissions.add(
        Permission.objects.get(content_type__app_label="bookings", codename="add_booking")
    )
    booker = Employee.objects.get(pk=photographer.pk)

    with pytest.raises(PermissionDenied) as raised:
        book(booker, studio, at("10:00"), client_name="Grace Hopper", client_phone="+14155550123")

    assert raised.value.details == {"permission": "bookings.add_client"}
    assert not Client.objects.filter(phone="+14155550123").exists()


def test_assigning_a_photographer_while_booking_needs_the_right_to_change_bookings(photographer, studio):
    add_booking = Permission.objects.get(content_type__app_label="bookings", codename="add_booking")
    photographer.user_permissions.add(add_booking)
    booker = Employee.objects.get(pk=photographer.pk)

    with pytest.raises(PermissionDenied) as raised:
        book(booker, studio, at("10:00"), photographer=PhotographerFactory())

    assert raised.value.details == {"permission": "bookings.change_booking"}
    assert not Booking.objects.exists()


def test_new_booking_is_recorded_with_its_actor(receptionist, studio):
    booking = book(receptionist, studio, at("10:00"))

    event = Event.objects.get(type="booking.created")
    assert (event.aggregate_id, event.actor) == (str(booking.pk), receptionist)
    assert event.payload == {
        "space": "test_studio",
        "start": "2030-01-14T10:00:00+00:00",
        "end": "2030-01-14T12:00:00+00:00",
        "client": booking.client_id,
        "people_count": 2,
        "price": "100.00",
        "state": "pending",
    }


def test_client_is_found_by_phone_however_it_is_written(receptionist, studio):
    client = ClientFactory(phone="+12025550123")

    booking = book(receptionist, studio, at("10:00"), client_name="Someone Else", client_phone="(202) 555-0123")

    assert booking.client == client
    assert Client.objects.count() == 1


def test_unreadable_phone_is_refused_naming_the_field(receptionist, studio):
    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, studio, at("10:00"), client_name="Ann", client_phone="call me")

    assert list(raised.value.details) == ["client_phone"]


def test_new_client_needs_a_name(receptionist, studio):
    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, studio, at("10:00"), client_name="  ", client_phone="+12025550123")

    assert list(raised.value.details) == ["client_name"]


def test_refused_booking_registers_no_client(receptionist, studio):
    book(receptionist, studio, at("10:00"))

    with pytest.raises(BookingOverlap):
        book(receptionist, studio, at("11:00"), client_name="Ann", client_phone="+12025550123")

    assert not Client.objects.filter(phone="+12025550123").exists()


def test_booking_must_end_after_it_starts(receptionist, studio):
    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, studio, at("12:00"), at("10:00"))

    assert refusal(raised) == ("validation_failed", {"end": ["The booking must end after it starts."]})


def test_booking_shorter_than_the_minimum_is_refused(receptionist, studio, settings):
    settings.BOOKING_MIN_DURATION_MINUTES = 60

    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, studio, at("10:00"), at("10:59"))

    assert raised.value.details == {"end": ["A booking lasts at least 60 minutes."]}


def test_booking_of_exactly_the_minimum_is_accepted(receptionist, studio, settings):
    settings.BOOKING_MIN_DURATION_MINUTES = 60

    assert book(receptionist, studio, at("10:00"), at("11:00")).pk


def test_booking_longer_than_the_maximum_is_refused(receptionist, studio, settings):
    settings.BOOKING_MAX_DURATION_MINUTES = 240

    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, studio, at("10:00"), at("14:01"))

    assert raised.value.details == {"end": ["A booking lasts at most 240 minutes."]}


def test_more_people_than_the_space_holds_are_refused(receptionist, studio):
    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, studio, at("10:00"), people_count=studio.capacity + 1)

    assert raised.value.details == {"people_count": ["Test Studio holds at most 6 people."]}


def test_space_can_be_booked_to_capacity(receptionist, studio):
    assert book(receptionist, studio, at("10:00"), people_count=studio.capacity).people_count == 6


def test_booking_needs_at_least_one_person(receptionist, studio):
    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, studio, at("10:00"), people_count=0)

    assert list(raised.value.details) == ["people_count"]


@pytest.mark.parametrize(("start", "end"), [("07:30", "09:00"), ("21:00", "22:30"), ("06:00", "07:00")])
def test_booking_outside_opening_hours_is_refused(receptionist, studio, start, end):
    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, studio, at(start), at(end))

    assert raised.value.details == {"start": ["Test Studio is open 08:00–22:00 on Monday 14 January 2030."]}


def test_booking_filling_the_opening_hours_exactly_is_accepted(receptionist, studio, settings):
    settings.BOOKING_MAX_DURATION_MINUTES = 14 * 60

    assert book(receptionist, studio, at("08:00"), at("22:00")).pk


def test_space_closed_on_the_day_is_refused(receptionist):
    space = SpaceFactory(opening_hours={"tue": ["08:00", "22:00"]})

    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, space, at("10:00"))

    assert raised.value.details == {"start": [f"{space.name} is closed on Monday 14 January 2030."]}


def test_opening_hours_are_the_studio_time_zone_s(receptionist, studio, settings):
    settings.TIME_ZONE = "Asia/Tokyo"  # UTC+9: 08:00 there is 23:00 UTC the day before

    with timezone.override("Asia/Tokyo"):
        booking = book(receptionist, studio, datetime(2030, 1, 13, 23, 0, tzinfo=UTC))

    assert booking.start == at("08:00", MONDAY)


def test_inactive_space_takes_no_bookings(receptionist):
    space = SpaceFactory(is_active=False)

    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, space, at("10:00"))

    assert list(raised.value.details) == ["space"]


def test_time_without_a_time_zone_is_refused(receptionist, studio):
    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, studio, datetime(2030, 1, 14, 10, 0), datetime(2030, 1, 14, 12, 0))

    assert list(raised.value.details) == ["start"]


def test_times_in_another_zone_are_stored_in_utc(receptionist, studio):
    berlin = timezone.get_fixed_timezone(60)

    booking = book(receptionist, studio, datetime(2030, 1, 14, 11, 0, tzinfo=berlin))

    booking.refresh_from_db()
    assert (booking.start, booking.start.utcoffset()) == (at("10:00"), timedelta(0))


def test_session_in_the_past_can_be_recorded(receptionist, studio):
    with time_machine.travel(datetime(2030, 3, 1, tzinfo=UTC), tick=False):
        booking = book(receptionist, studio, at("10:00"))

    assert booking.state == BookingState.PENDING


def test_overlapping_booking_of_the_same_space_is_refused_naming_the_other(receptionist, studio):
    first = book(receptionist, studio, at("10:00"), at("12:00"))

    with pytest.raises(BookingOverlap) as raised:
        book(receptionist, studio, at("11:00"), at("13:00"))

    assert str(raised.value) == (
        f"Test Studio is already booked on Mon 14 Jan 2030 from 10:00 to 12:00 and blocked for clean-up "
        f"until 12:15 (booking #{first.pk})."
    )
    assert raised.value.code == "booking_overlap"
    assert raised.value.details["conflicting_booking"] == {
        "id": first.pk,
        "start": "2030-01-14T10:00:00+00:00",
        "end": "2030-01-14T12:00:00+00:00",
        "blocks_until": "2030-01-14T12:15:00+00:00",
    }


def test_overlap_message_gives_the_studio_s_local_time(receptionist, studio, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    book(receptionist, studio, at("10:00"), at("12:00"))

    with pytest.raises(BookingOverlap) as raised:
        book(receptionist, studio, at("11:00"), at("13:00"))

    assert "from 10:00 to 12:00" in str(raised.value)
    assert raised.value.details["conflicting_booking"]["start"] == "2030-01-14T09:00:00+00:00"


def test_overlap_message_tells_the_two_half_past_twos_of_the_night_clocks_go_back_apart(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    night = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]}, buffer_minutes=0)
    # 00:00 CEST to the second 02:30 (CET) of Sunday 25 October 2026.
    first = book(
        receptionist,
        night,
        datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    )

    with pytest.raises(BookingOverlap) as raised:
        book(receptionist, night, datetime(2026, 10, 25, 0, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC))

    assert (
        str(raised.value)
        == f"{night.name} is already booked on Sun 25 Oct 2026 from 00:00 to 02:30 CET (booking #{first.pk})."
    )


def test_booking_inside_another_is_refused(receptionist, studio):
    book(receptionist, studio, at("10:00"), at("14:00"))

    with pytest.raises(BookingOverlap):
        book(receptionist, studio, at("11:00"), at("12:00"))


def test_booking_may_start_when_the_previous_buffer_ends(receptionist, studio):
    book(receptionist, studio, at("10:00"), at("12:00"))

    assert book(receptionist, studio, at("12:15"), at("14:00")).pk


def test_booking_starting_a_minute_inside_the_previous_buffer_is_refused(receptionist, studio):
    book(receptionist, studio, at("10:00"), at("12:00"))

    with pytest.raises(BookingOverlap):
        book(receptionist, studio, at("12:14"), at("14:00"))


def test_booking_may_end_so_its_buffer_ends_at_the_next_start(receptionist, studio):
    book(receptionist, studio, at("12:00"), at("14:00"))

    assert book(receptionist, studio, at("10:00"), at("11:45")).pk


def test_booking_whose_buffer_runs_a_minute_into_the_next_is_refused(receptionist, studio):
    book(receptionist, studio, at("12:00"), at("14:00"))

    with pytest.raises(BookingOverlap):
        book(receptionist, studio, at("10:00"), at("11:46"))


def test_buffer_is_the_one_of_the_space_at_booking_time(receptionist, studio):
    first = book(receptionist, studio, at("10:00"), at("12:00"))
    Space.objects.filter(pk=studio.pk).update(buffer_minutes=60)

    assert book(receptionist, Space.objects.get(pk=studio.pk), at("12:15"), at("13:00")).pk
    assert first.blocks_until == at("12:15")


@pytest.mark.parametrize("state", [BookingState.CANCELLED, BookingState.COMPLETED, BookingState.NO_SHOW])
def test_booking_that_no_longer_holds_the_space_does_not_block_it(receptionist, studio, state):
    BookingFactory(space=studio, start=at("10:00"), state=state)

    assert book(receptionist, studio, at("10:00")).pk


@pytest.mark.parametrize("state", [BookingState.PENDING, BookingState.CONFIRMED, BookingState.IN_PROGRESS])
def test_booking_that_holds_the_space_blocks_it(receptionist, studio, state):
    BookingFactory(space=studio, start=at("10:00"), state=state)

    with pytest.raises(BookingOverlap):
        book(receptionist, studio, at("11:00"))


def test_other_space_at_the_same_time_is_free(receptionist, studio):
    book(receptionist, studio, at("10:00"))

    assert book(receptionist, SpaceFactory(), at("10:00")).pk


def test_price_can_be_set_by_a_manager(manager, studio):
    booking = book(manager, studio, at("10:00"), price=Decimal("70.00"))

    assert (booking.price, booking.price_overridden) == (Decimal("70.00"), True)


def test_receptionist_cannot_set_the_price(receptionist, studio):
    with pytest.raises(PermissionDenied):
        book(receptionist, studio, at("10:00"), price=Decimal("70.00"))

    assert not Booking.objects.exists()


def test_negative_price_is_refused(manager, studio):
    with pytest.raises(ValidationFailed) as raised:
        book(manager, studio, at("10:00"), price=Decimal("-1.00"))

    assert list(raised.value.details) == ["price"]


@pytest.mark.parametrize(
    ("role", "allowed"), [("admin", True), ("manager", True), ("receptionist", True), ("photographer", False)]
)
def test_who_may_book(request, studio, role, allowed):
    actor = request.getfixturevalue(role)

    if allowed:
        assert book(actor, studio, at("10:00")).created_by == actor
    else:
        with pytest.raises(PermissionDenied):
            book(actor, studio, at("10:00"))


# A DST day in the studio's zone: the price and the duration limits follow the real elapsed time.


def test_booking_across_the_spring_forward_hour_lasts_and_costs_one_hour_less(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.BOOKING_MAX_DURATION_MINUTES = 150
    space = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    day = date(2026, 3, 29)

    with timezone.override("Europe/Berlin"):
        booking = book(receptionist, space, at("01:00", day), at("04:00", day))

    assert booking.end - booking.start == timedelta(hours=2)
    assert booking.price == Decimal("100.00")


def test_booking_across_the_fall_back_hour_lasts_and_costs_one_hour_more(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    space = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    day = date(2026, 10, 25)

    with timezone.override("Europe/Berlin"):
        booking = book(receptionist, space, at("01:00", day), at("04:00", day))

    assert booking.end - booking.start == timedelta(hours=4)
    assert booking.price == Decimal("200.00")


def test_fall_back_hour_counts_against_the_maximum_duration(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.BOOKING_MAX_DURATION_MINUTES = 210
    space = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]})
    day = date(2026, 10, 25)

    with pytest.raises(ValidationFailed) as raised:
        book(receptionist, space, at("01:00", day), at("04:00", day))

    assert raised.value.details == {"end": ["A booking lasts at most 210 minutes."]}


@pytest.mark.parametrize(
    ("start_utc", "accepted"),
    [
        (datetime(2026, 3, 29, 6, 0, tzinfo=UTC), True),  # 08:00 CEST, the first minute open
        (datetime(2026, 3, 29, 5, 30, tzinfo=UTC), False),  # 07:30 CEST; would be 06:30 CET the day before
        (datetime(2026, 3, 28, 7, 0, tzinfo=UTC), True),  # 08:00 CET on the Saturday
        (datetime(2026, 3, 28, 6, 30, tzinfo=UTC), False),  # 07:30 CET
    ],
)
def test_opening_hours_follow_the_wall_clock_across_spring_forward(receptionist, studio, settings, start_utc, accepted):
    settings.TIME_ZONE = "Europe/Berlin"

    if accepted:
        assert book(receptionist, studio, start_utc).pk
    else:
        with pytest.raises(ValidationFailed):
            book(receptionist, studio, start_utc)


def test_buffer_edge_holds_across_the_fall_back_hour(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    space = SpaceFactory(opening_hours={"sun": ["00:00", "24:00"]}, buffer_minutes=60)
    day = date(2026, 10, 25)
    first = book(receptionist, space, at("00:30", day), datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # 02:30 CEST

    assert first.blocks_until == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, an hour later
    with pytest.raises(BookingOverlap):
        book(receptionist, space, datetime(2026, 10, 25, 1, 29, tzinfo=UTC), at("04:00", day))
    assert book(receptionist, space, datetime(2026, 10, 25, 1, 30, tzinfo=UTC), at("04:00", day)).pk


def test_refused_booking_leaves_no_row_and_no_event(receptionist, studio):
    first = book(receptionist, studio, at("10:00"))

    with pytest.raises(BookingOverlap):
        book(receptionist, studio, at("11:00"))

    assert list(Booking.objects.values_list("pk", flat=True)) == [first.pk]
    assert Event.objects.filter(type="booking.created").count() == 1


def test_booking_for_a_known_client_costs_a_fixed_handful_of_queries(receptionist, studio, django_assert_num_queries):
    client = ClientFactory(phone="+15550001111")
    receptionist.has_perm("bookings.add_booking")  # the caller's permissions come cached with the request

    # The transaction's savepoint and its release, the client by phone, the closure check (on
    # PostgreSQL after a share lock on the space's row), the conflict check (on SQLite; on
    # PostgreSQL the exclusion constraint), the insert and the event: the related rows and the
    # check constraints are not asked for again.
    with django_assert_num_queries(7):
        book(receptionist, studio, at("10:00"), client_phone=client.phone, client_name=client.full_name)


# A booking lies within one day's opening hours, at most 25 hours (the night the clocks go back), so
# its price stays within the digits Booking.price holds at the highest rate Space.hourly_rate holds.
def _highest(field) -> Decimal:
    return Decimal(10 ** (field.max_digits - field.decimal_places)) - Decimal(1).scaleb(-field.decimal_places)


def test_the_longest_day_at_the_highest_rate_is_priced_and_stored_to_the_cent(receptionist, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.BOOKING_MAX_DURATION_MINUTES = 25 * 60
    space = SpaceFactory(
        hourly_rate=_highest(Space._meta.get_field("hourly_rate")), opening_hours={"sun": ["00:00", "24:00"]}
    )
    day = date(2026, 10, 25)

    booking = book(receptionist, space, at("00:00", day), at("24:00", day))

    assert booking.duration == timedelta(hours=25)
    assert Booking.objects.get(pk=booking.pk).price == Decimal("24999999.75")
    assert Decimal("24999999.75") <= _highest(Booking._meta.get_field("price"))


def test_a_booking_too_long_at_a_high_rate_is_refused_for_its_length_not_for_its_price(receptionist):
    space = SpaceFactory(hourly_rate=Decimal("999999.99"))

    with pytest.raises(ValidationFailed) as refused:
        book(receptionist, space, at("10:00"), at("10:00") + timedelta(days=5))

    assert refused.value.message == "A booking lasts at most 720 minutes."
    assert refused.value.details == {"end": ["A booking lasts at most 720 minutes."]}
