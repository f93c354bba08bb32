"""Rescheduling, photographers, client edits, and the database as the last word on overlaps.
Creating bookings and transitions have their own modules."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from bookings import services
from bookings.models import Booking, BookingState, Client, local_instant
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, ClientFactory, PhotographerFactory, SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events.models import Event
from photostudio.errors import BookingChanged, BookingClosed, BookingOverlap, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)


def at(clock, day=MONDAY):
    return local_instant(day, clock)


def booked(space, start, end, **fields):
    return BookingFactory(space=space, start=at(start), end=at(end), **fields)


def reschedule(booking, actor, start, end, space=None):
    return services.reschedule_booking(booking=booking, actor=actor, start=at(start), end=at(end), space=space)


# --- reschedule_booking -------------------------------------------------------------------------


def test_rescheduled_booking_gets_new_times_price_and_buffer(receptionist, studio):
    booking = booked(studio, "10:00", "12:00")

    reschedule(booking, receptionist, "14:00", "17:00")

    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.start, booking.end, booking.blocks_until) == (at("14:00"), at("17:00"), at("17:15"))
    assert booking.price == Decimal("150.00")
    assert booking.updated_by == receptionist


def test_rescheduling_is_recorded_with_old_and_new_times(receptionist, studio):
    booking = booked(studio, "10:00", "12:00")

    reschedule(booking, receptionist, "14:00", "16:00")

    event = Event.objects.get(type="booking.rescheduled")
    assert (event.aggregate_id, event.actor) == (str(booking.pk), receptionist)
    assert event.payload == {
        "from": {
            "space": "test_studio",
            "start": "2030-01-14T10:00:00+00:00",
            "end": "2030-01-14T12:00:00+00:00",
            "blocks_until": "2030-01-14T12:15:00+00:00",
        },
        "to": {
            "space": "test_studio",
            "start": "2030-01-14T14:00:00+00:00",
            "end": "2030-01-14T16:00:00+00:00",
            "blocks_until": "2030-01-14T16:15:00+00:00",
        },
        "price": "100.00",
    }


def test_booking_can_move_to_another_space_at_its_rate_and_buffer(receptionist, studio):
    booking = booked(studio, "10:00", "12:00")
    other = SpaceFactory(hourly_rate=Decimal("30.00"), buffer_minutes=45)

    reschedule(booking, receptionist, "10:00", "12:00", space=other)

    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.space, booking.price, booking.blocks_until) == (other, Decimal("60.00"), at("12:45"))


def test_booking_may_move_over_its_own_old_time(receptionist, studio):
    booking = booked(studio, "10:00", "12:00")

    reschedule(booking, receptionist, "10:30", "12:30")

    assert Booking.objects.get(pk=booking.pk).start == at("10:30")


def test_rescheduling_onto_another_booking_is_refused(receptionist, studio):
    other = booked(studio, "14:00", "16:00")
    booking = booked(studio, "10:00", "12:00")

    with pytest.raises(BookingOverlap) as raised:
        reschedule(booking, receptionist, "13:00", "15:00")

    assert raised.value.details["conflicting_booking"]["id"] == other.pk
    assert Booking.objects.get(pk=booking.pk).start == at("10:00")


def test_rescheduling_follows_the_same_rules_as_booking(receptionist, studio):
    booking = booked(studio, "10:00", "12:00")

    with pytest.raises(ValidationFailed) as raised:
        reschedule(booking, receptionist, "21:00", "23:00")

    assert list(raised.value.details) == ["start"]
    assert not Event.objects.filter(type="booking.rescheduled").exists()


def test_price_set_by_hand_survives_rescheduling(manager, receptionist, studio):
    booking = services.create_booking(
        actor=manager,
        space=studio,
        client=ClientFactory(),
        start=at("10:00"),
        end=at("12:00"),
        people_count=2,
        price=Decimal("10.00"),
    )

    reschedule(booking, receptionist, "14:00", "18:00")

    assert Booking.objects.get(pk=booking.pk).price == Decimal("10.00")


def test_a_price_returned_to_the_rate_by_a_manager_who_read_the_booking_before_a_move_follows_the_move(
    manager, receptionist, studio
):
    booking = booked(studio, "10:00", "12:00", price=Decimal("10.00"), price_overridden=True)
    as_read_by_manager = Booking.objects.get(pk=booking.pk)
    reschedule(booking, receptionist, "14:00", "18:00")

    services.update_booking(booking=as_read_by_manager, actor=manager, price=None)

    stored = Booking.objects.get(pk=booking.pk)
    assert (stored.start, stored.end, stored.price) == (at("14:00"), at("18:00"), Decimal("200.00"))


def test_a_move_by_a_clerk_who_read_the_booking_before_a_manager_set_its_price_keeps_that_price(
    manager, receptionist, studio
):
    booking = booked(studio, "10:00", "12:00")
    as_read_by_clerk = Booking.objects.get(pk=booking.pk)
    services.update_booking(booking=booking, actor=manager, price=Decimal("10.00"))

    reschedule(as_read_by_clerk, receptionist, "14:00", "18:00")

    stored = Booking.objects.get(pk=booking.pk)
    assert (stored.price, stored.price_overridden) == (Decimal("10.00"), True)


@pytest.mark.parametrize(
    "state", [BookingState.IN_PROGRESS, BookingState.COMPLETED, BookingState.CANCELLED, BookingState.NO_SHOW]
)
def test_booking_that_is_running_or_over_cannot_be_rescheduled(manager, studio, state):
    booking = booked(studio, "10:00", "12:00", state=state)

    with pytest.raises(BookingClosed) as raised:
        reschedule(booking, manager, "14:00", "16:00")

    assert raised.value.code == "booking_closed"


def test_photographer_cannot_reschedule(photographer, studio):
    booking = booked(studio, "10:00", "12:00", photographer=photographer)

    with pytest.raises(PermissionDenied):
        reschedule(booking, photographer, "14:00", "16:00")


# --- assign_photographer ------------------------------------------------------------------------


def test_photographer_is_assigned_and_it_is_recorded(receptionist, photographer):
    booking = BookingFactory()

    services.assign_photographer(booking=booking, photographer=photographer, actor=receptionist)

    assert Booking.objects.get(pk=booking.pk).photographer == photographer
    event = Event.objects.get(type="booking.photographer_assigned")
    assert (event.actor, event.payload) == (receptionist, {"from": None, "to": photographer.pk})


def test_photographer_can_be_replaced_and_removed(manager, photographer):
    first = PhotographerFactory()
    booking = BookingFactory(photographer=first)

    services.assign_photographer(booking=booking, photographer=photographer, actor=manager)
    services.assign_photographer(booking=booking, photographer=None, actor=manager)

    assert Booking.objects.get(pk=booking.pk).photographer is None
    payloads = [event.payload for event in Event.objects.filter(type="booking.photographer_assigned").order_by("id")]
    assert payloads == [{"from": first.pk, "to": photographer.pk}, {"from": photographer.pk, "to": None}]


@pytest.mark.parametrize(
    "assignee",
    [
        lambda: EmployeeFactory(role=Role.RECEPTIONIST),
        lambda: PhotographerFactory(is_active=False),
    ],
    ids=["not a photographer", "inactive photographer"],
)
def test_only_an_active_photographer_can_be_assigned(manager, assignee):
    booking = BookingFactory()

    with pytest.raises(ValidationFailed) as raised:
        services.assign_photographer(booking=booking, photographer=assignee(), actor=manager)

    assert list(raised.value.details) == ["photographer"]


def test_photographer_cannot_assign_themselves(photographer):
    booking = BookingFactory()

    with pytest.raises(PermissionDenied):
        services.assign_photographer(booking=booking, photographer=photographer, actor=photographer)


def test_finished_booking_keeps_its_photographer(manager, photographer):
    booking = BookingFactory(state=BookingState.COMPLETED)

    with pytest.raises(BookingClosed):
        services.assign_photographer(booking=booking, photographer=photographer, actor=manager)


def test_booking_created_with_a_photographer_is_saved_once_and_records_both_events(receptionist, photographer, studio):
    booking = services.create_booking(
        actor=receptionist, space=studio, start=at("10:00"), end=at("12:00"), people_count=2,
        client_name="Ada Lovelace", client_phone="+442071234567", photographer=photographer,
    )  # fmt: skip

    stored = Booking.objects.get(pk=booking.pk)
    assert (stored.photographer, stored.revision, booking.revision) == (photographer, 0, 0)
    assert [(event.type, event.payload.get("to")) for event in Event.objects.order_by("id")] == [
        ("booking.created", None),
        ("booking.photographer_assigned", photographer.pk),
    ]


def test_booking_with_a_non_photographer_is_not_created_at_all(receptionist, studio):
    with pytest.raises(ValidationFailed):
        services.create_booking(
            actor=receptionist, space=studio, start=at("10:00"), end=at("12:00"), people_count=2,
            client_name="Ada Lovelace", client_phone="+442071234567", photographer=receptionist,
        )  # fmt: skip

    assert not Booking.objects.exists()
    assert not Event.objects.exists()


def test_changing_the_photographer_with_other_details_reads_the_booking_once(
    manager, photographer, django_assert_num_queries
):
    booking = Booking.objects.select_related("space").get(pk=BookingFactory().pk)
    manager.has_perm("bookings.change_booking")  # the permissions, read once per request anyway

    # The service's savepoint within the test's transaction, the booking under its lock, the
    # booking saved once, the photographer and the notes recorded, the savepoint released.
    with django_assert_num_queries(6):
        services.update_booking(booking=booking, actor=manager, photographer=photographer, notes="Bring a tripod")

    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.photographer, booking.notes) == (photographer, "Bring a tripod")


def test_changing_the_photographer_with_other_details_is_one_change_recording_each_part(manager, photographer):
    booking = BookingFactory(notes="", people_count=2)

    services.update_booking(
        booking=booking, actor=manager, photographer=photographer, notes="Bring a tripod", people_count=3
    )

    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.photographer, booking.notes, booking.people_count, booking.revision) == (
        photographer, "Bring a tripod", 3, 1,
    )  # fmt: skip
    events = Event.objects.filter(aggregate_id=str(booking.pk)).order_by("id")
    details = {"notes": {"from": "", "to": "Bring a tripod"}, "people_count": {"from": 2, "to": 3}}
    assert [(event.type, event.payload) for event in events] == [
        ("booking.photographer_assigned", {"from": None, "to": photographer.pk}),
        ("booking.updated", {"changes": details}),
    ]


def test_a_refused_detail_change_assigns_no_photographer(manager, photographer, studio):
    booking = booked(studio, "10:00", "12:00", people_count=2)

    with pytest.raises(ValidationFailed):
        services.update_booking(booking=booking, actor=manager, photographer=photographer, people_count=500)

    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.photographer, booking.revision) == (None, 0)
    assert not Event.objects.exists()


# --- amend_booking -------------------------------------------------------------------------------


def test_amending_moves_the_booking_and_changes_its_details_together(receptionist, studio):
    booking = booked(studio, "10:00", "12:00", people_count=2)

    services.amend_booking(
        booking=booking, actor=receptionist, move={"start": at("14:00"), "end": at("16:00"), "space": studio},
        changes={"people_count": 4},
    )  # fmt: skip

    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.start, booking.people_count) == (at("14:00"), 4)


def test_amending_times_photographer_and_details_is_one_change_recording_each_part(manager, photographer, studio):
    booking = booked(studio, "10:00", "12:00", notes="")

    services.amend_booking(
        booking=booking, actor=manager, move={"start": at("14:00"), "end": at("16:00"), "space": studio},
        changes={"photographer": photographer, "notes": "Bring a tripod"},
    )  # fmt: skip

    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.start, booking.photographer, booking.notes, booking.revision) == (
        at("14:00"), photographer, "Bring a tripod", 1,
    )  # fmt: skip
    assert list(Event.objects.order_by("id").values_list("type", flat=True)) == [
        "booking.rescheduled",
        "booking.photographer_assigned",
        "booking.updated",
    ]


def test_a_refused_detail_change_leaves_the_booking_where_it_was(receptionist, studio):
    booking = booked(studio, "10:00", "12:00", people_count=2)

    with pytest.raises(ValidationFailed):
        services.amend_booking(
            booking=booking, actor=receptionist, move={"start": at("14:00"), "end": at("16:00"), "space": studio},
            changes={"people_count": 500},
        )  # fmt: skip

    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.start, booking.people_count) == (at("10:00"), 2)
    assert not Event.objects.filter(type="booking.rescheduled").exists()


def test_a_booking_is_read_under_its_lock_while_another_thread_ends_its_own_read(receptionist):
    booking = BookingFactory(notes="")
    state_field = Booking._meta.get_field("state")

    def another_threads_read_ends(execute, sql, params, many, context):
        # What django-fsm's refresh_from_db does to the shared field as it ends, in whichever thread.
        state_field.protected = True
        return execute(sql, params, many, context)

    with connection.execute_wrapper(another_threads_read_ends):
        services.update_booking(booking=booking, actor=receptionist, notes="Tripod")

    assert Booking.objects.get(pk=booking.pk).notes == "Tripod"


def test_a_change_answers_the_photographer_assigned_since_the_booking_was_read(receptionist, photographer, studio):
    booking = booked(studio, "10:00", "12:00")
    as_read = Booking.objects.select_related("space", "photographer").get(pk=booking.pk)
    services.assign_photographer(booking=booking, photographer=photographer, actor=receptionist)

    moved = reschedule(as_read, receptionist, "14:00", "16:00")

    assert moved.photographer == photographer


# --- expected_revisions: a change decided on what the booking said then --------------------------


def test_a_change_decided_on_the_current_revision_is_made(receptionist, studio):
    booking = booked(studio, "10:00", "12:00", notes="")

    services.update_booking(booking=booking, actor=receptionist, expected_revisions={0}, notes="Tripod")

    assert Booking.objects.get(pk=booking.pk).notes == "Tripod"


def test_a_change_decided_on_an_older_revision_changes_nothing(receptionist, studio):
    booking = booked(studio, "10:00", "12:00", notes="")
    services.update_booking(booking=booking, actor=receptionist, notes="Someone else's")

    with pytest.raises(BookingChanged) as refused:
        services.update_booking(booking=booking, actor=receptionist, expected_revisions={0}, notes="Mine")

    assert refused.value.code == "booking_changed"
    assert refused.value.details == {"expected_revision": 0, "revision": 1}
    assert Booking.objects.get(pk=booking.pk).notes == "Someone else's"
    assert Event.objects.filter(type="booking.updated").count() == 1


def test_a_change_decided_on_several_revisions_is_made_when_one_is_current(receptionist, studio):
    booking = booked(studio, "10:00", "12:00", notes="")
    services.update_booking(booking=booking, actor=receptionist, notes="Someone else's")

    services.update_booking(booking=booking, actor=receptionist, expected_revisions={0, 1}, notes="Mine")

    assert Booking.objects.get(pk=booking.pk).notes == "Mine"


def test_a_change_decided_on_revisions_none_of_them_current_changes_nothing_and_names_them(receptionist, studio):
    booking = booked(studio, "10:00", "12:00", notes="")
    services.update_booking(booking=booking, actor=receptionist, notes="Someone else's")

    with pytest.raises(BookingChanged) as refused:
        services.update_booking(booking=booking, actor=receptionist, expected_revisions={2, 0}, notes="Mine")

    assert refused.value.details == {"expected_revisions": [0, 2], "revision": 1}
    assert Booking.objects.get(pk=booking.pk).notes == "Someone else's"


def test_a_change_decided_on_no_revision_at_all_changes_nothing(receptionist, studio):
    booking = booked(studio, "10:00", "12:00", notes="")

    with pytest.raises(BookingChanged) as refused:
        services.update_booking(booking=booking, actor=receptionist, expected_revisions=set(), notes="Mine")

    assert refused.value.details == {"expected_revisions": [], "revision": 0}
    assert Booking.objects.get(pk=booking.pk).notes == ""


def test_a_move_decided_on_an_older_revision_leaves_the_booking_where_it_is(receptionist, studio):
    booking = booked(studio, "10:00", "12:00")
    services.update_booking(booking=booking, actor=receptionist, notes="Someone else's")

    with pytest.raises(BookingChanged):
        services.reschedule_booking(
            booking=booking, actor=receptionist, start=at("14:00"), end=at("16:00"), expected_revisions={0}
        )

    assert Booking.objects.get(pk=booking.pk).start == at("10:00")


def test_a_state_change_decided_on_an_older_revision_is_refused(receptionist, studio):
    booking = booked(studio, "10:00", "12:00")
    services.update_booking(booking=booking, actor=receptionist, people_count=3)

    with pytest.raises(BookingChanged):
        services.transition_booking(
            booking=booking, target_state=BookingState.CONFIRMED, actor=receptionist, expected_revisions={0}
        )

    assert Booking.objects.get(pk=booking.pk).state == BookingState.PENDING


def test_an_amendment_checks_the_revision_once_for_its_move_and_its_details(receptionist, studio):
    booking = booked(studio, "10:00", "12:00", people_count=2)

    services.amend_booking(
        booking=booking, actor=receptionist, move={"start": at("14:00"), "end": at("16:00"), "space": studio},
        changes={"people_count": 4}, expected_revisions={0},
    )  # fmt: skip

    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.start, booking.people_count, booking.revision) == (at("14:00"), 4, 1)


def test_an_amendment_decided_on_an_older_revision_changes_nothing(receptionist, studio):
    booking = booked(studio, "10:00", "12:00", people_count=2)
    services.update_booking(booking=booking, actor=receptionist, notes="Someone else's")

    with pytest.raises(BookingChanged):
        services.amend_booking(
            booking=booking, actor=receptionist, changes={"people_count": 4}, expected_revisions={0}
        )  # fmt: skip

    assert Booking.objects.get(pk=booking.pk).people_count == 2


# --- update_client ------------------------------------------------------------------------------


def test_client_edit_normalises_the_phone_and_records_old_and_new_values(receptionist):
    client = ClientFactory(full_name="Ann Lee", phone="+14155550001", notes="")

    services.update_client(client=client, actor=receptionist, phone="(202) 555-0123", notes="Prefers mornings")

    client = Client.objects.get(pk=client.pk)
    assert (client.phone, client.notes, client.updated_by) == ("+12025550123", "Prefers mornings", receptionist)
    event = Event.objects.get(type="client.updated")
    assert (event.aggregate_type, event.aggregate_id, event.actor) == ("bookings.client", str(client.pk), receptionist)
    assert event.payload == {
        "changes": {
            "phone": {"from": "+14155550001", "to": "+12025550123"},
            "notes": {"from": "", "to": "Prefers mornings"},
        }
    }


def test_client_edit_on_a_copy_read_before_another_edit_records_the_stored_values_as_old(receptionist):
    client = ClientFactory(full_name="Ann Lee", email="ann@old.test", notes="")
    read_by_other = Client.objects.get(pk=client.pk)
    services.update_client(client=client, actor=receptionist, notes="Prefers mornings", email="ann@new.test")

    services.update_client(client=read_by_other, actor=receptionist, notes="Bring the dog")

    stored = Client.objects.get(pk=client.pk)
    assert (stored.notes, stored.email) == ("Bring the dog", "ann@new.test")
    latest = Event.objects.filter(type="client.updated").latest("pk")
    assert latest.payload == {"changes": {"notes": {"from": "Prefers mornings", "to": "Bring the dog"}}}


def test_client_edit_that_changes_nothing_records_nothing(receptionist):
    client = ClientFactory(phone="+14155550001")

    services.update_client(client=client, actor=receptionist, phone="+1 415 555 0001", full_name=client.full_name)

    assert not Event.objects.filter(type="client.updated").exists()


def test_front_desk_may_neither_add_nor_change_spaces(receptionist, studio):
    with pytest.raises(PermissionDenied):
        services.create_space(
            actor=receptionist, slug="studio_c", name="Studio C", capacity=4, hourly_rate=Decimal("40")
        )
    with pytest.raises(PermissionDenied):
        services.update_space(space=studio, actor=receptionist, buffer_minutes=0)

    studio.refresh_from_db()
    assert studio.buffer_minutes == 15
    assert not Event.objects.filter(type__in=["space.created", "space.updated"]).exists()


def test_space_edit_that_changes_nothing_records_nothing(manager, studio):
    services.update_space(
        space=studio, actor=manager, hourly_rate=Decimal(studio.hourly_rate), buffer_minutes=studio.buffer_minutes
    )

    assert not Event.objects.filter(type="space.updated").exists()


def test_space_edit_records_only_the_values_that_changed(manager, studio):
    services.update_space(space=studio, actor=manager, hourly_rate=studio.hourly_rate, buffer_minutes=30)

    event = Event.objects.get(type="space.updated")
    assert event.payload == {"changes": {"buffer_minutes": {"from": studio.buffer_minutes, "to": 30}}}


def test_phone_of_another_client_is_refused(receptionist):
    ClientFactory(phone="+14155550001")
    client = ClientFactory(phone="+14155550002")

    with pytest.raises(ValidationFailed) as raised:
        services.update_client(client=client, actor=receptionist, phone="+14155550001")

    assert raised.value.details == {"phone": ["Another client already has this phone number."]}
    assert Client.objects.get(pk=client.pk).phone == "+14155550002"


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"phone": "nope"}, "phone"), ({"email": "not-an-email"}, "email"), ({"full_name": ""}, "full_name")],
)
def test_invalid_client_values_are_refused_naming_the_field(receptionist, changes, field):
    client = ClientFactory()

    with pytest.raises(ValidationFailed) as raised:
        services.update_client(client=client, actor=receptionist, **changes)

    assert list(raised.value.details) == [field]


def test_photographer_cannot_edit_clients(photographer):
    with pytest.raises(PermissionDenied):
        services.update_client(client=ClientFactory(), actor=photographer, notes="VIP")


# --- the database as the last word (PostgreSQL) -------------------------------------------------


@pytest.mark.postgres
def test_database_refuses_overlapping_bookings_written_past_the_service(studio):
    booked(studio, "10:00", "12:00")

    with pytest.raises(IntegrityError, match="booking_space_no_overlap"), transaction.atomic():
        booked(studio, "12:14", "13:00")


@pytest.mark.postgres
def test_database_allows_a_booking_at_the_end_of_the_buffer_and_beside_released_ones(studio):
    booked(studio, "10:00", "12:00")
    booked(studio, "11:00", "13:00", state=BookingState.CANCELLED)

    assert booked(studio, "12:15", "13:00").pk


@pytest.mark.postgres
def test_overlap_refused_by_the_database_names_the_booking_and_leaves_the_transaction_usable(receptionist, studio):
    first = booked(studio, "10:00", "12:00")

    with pytest.raises(BookingOverlap) as raised:
        services.create_booking(
            actor=receptionist, space=studio, client=ClientFactory(), start=at("11:00"), end=at("13:00"), people_count=1
        )

    assert raised.value.details["conflicting_booking"]["id"] == first.pk
    assert Booking.objects.count() == 1  # the test's own transaction still answers


# What a booking's offered transitions depend on: the actor's ``transition_rights`` and the clock up
# to ``transitions_settled_until``. The day list keeps answers on the strength of both.

UNDO = timedelta(minutes=15)
EARLY = timedelta(minutes=30)


def _offered(booking, actor) -> list[str]:
    return [move.target for move in services.transitions_allowed(booking=booking, actor=actor)]


@pytest.fixture
def transition_actors():
    photographer = PhotographerFactory()
    return [photographer, PhotographerFactory(), *(EmployeeFactory(role=role) for role in Role.values)]


@pytest.fixture
def transition_bookings(transition_actors):
    """A booking in every state, some changed by a photographer or a receptionist (who may undo it
    for a while), one assigned to the first photographer."""
    photographer, desk = transition_actors[0], transition_actors[3]
    made = []
    for state, previous, changed_by in itertools.product(
        BookingState.values, ["", BookingState.PENDING, BookingState.CONFIRMED], [None, photographer, desk]
    ):
        made.append(
            BookingFactory(
                start=MONDAY_10_UTC + timedelta(hours=len(made)),
                state=state,
                previous_state=previous,
                photographer=photographer,
                state_changed_by=changed_by,
                state_changed_at=MONDAY_10_UTC - timedelta(minutes=5) if changed_by else None,
            )
        )
    return made


class _Recording:
    """An actor that answers as ``actor`` and notes every permission it is asked about."""

    def __init__(self, actor):
        self._actor = actor
        self.asked = set()
        self.pk = actor.pk

    def has_perm(self, permission, obj=None):
        self.asked.add((permission, obj is None))
        return self._actor.has_perm(permission, obj)

    def __str__(self):
        return str(self._actor)


def test_the_transitions_offered_ask_only_the_permissions_transition_rights_reads(
    transition_bookings, transition_actors
):
    asked = set()
    for moment in (MONDAY_10_UTC - timedelta(hours=1), MONDAY_10_UTC + timedelta(hours=30)):
        with time_machine.travel(moment, tick=False):
            for booking, actor in itertools.product(transition_bookings, transition_actors):
                recording = _Recording(actor)
                _offered(booking, recording)
                asked |= recording.asked

    # Asked about one booking too (django-fsm asks so first), which transition_rights stands for
    # only while no backend grants anything per object (test_day_list_cache).
    assert {permission for permission, _ in asked} == set(services.TRANSITION_PERMISSIONS)


def test_the_transitions_offered_stay_the_same_until_the_clock_settles_them(transition_bookings, transition_actors):
    """From each moment, every actor's answer holds until ``transitions_settled_until`` (at the
    moments in between and just before it)."""
    moments = [
        MONDAY_10_UTC + timedelta(minutes=minutes) for minutes in range(-90, 60 * len(transition_bookings) + 60, 10)
    ]

    def answers_at(booking, moment):
        with time_machine.travel(moment, tick=False):
            return [_offered(booking, actor) for actor in transition_actors]

    for booking in transition_bookings:
        answers = {moment: answers_at(booking, moment) for moment in moments}
        for now in moments:
            settled_until = services.transitions_settled_until(booking=booking, now=now)
            assert settled_until is None or settled_until > now
            held = [moment for moment in moments if now < moment and (settled_until is None or moment < settled_until)]
            assert all(answers[moment] == answers[now] for moment in held), (booking.state, now)
            if settled_until is not None:
                assert answers_at(booking, settled_until - timedelta(microseconds=1)) == answers[now]


def test_the_clock_settles_a_booking_at_its_early_begin_its_start_and_just_after_its_undo_window():
    desk = EmployeeFactory(role=Role.RECEPTIONIST)
    booking = BookingFactory(
        start=MONDAY_10_UTC,
        state=BookingState.CONFIRMED,
        previous_state=BookingState.PENDING,
        state_changed_by=desk,
        state_changed_at=MONDAY_10_UTC - timedelta(hours=1),
    )

    def settled_from(now):
        return services.transitions_settled_until(booking=booking, now=now)

    undo_refused_from = MONDAY_10_UTC - timedelta(hours=1) + UNDO + timedelta(microseconds=1)
    assert settled_from(MONDAY_10_UTC - timedelta(hours=2)) == undo_refused_from
    assert settled_from(MONDAY_10_UTC - timedelta(minutes=40)) == MONDAY_10_UTC - EARLY
    assert settled_from(MONDAY_10_UTC - EARLY) == MONDAY_10_UTC
    assert settled_from(MONDAY_10_UTC) is None
