"""What a booking's offered transitions depend on: the actor's ``transition_rights`` and the
clock up to ``transitions_settled_until``. The day list keeps answers on the strength of both."""

import itertools
from datetime import timedelta

import pytest
import time_machine

from bookings import services
from bookings.models import BookingState
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, PhotographerFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

UNDO = timedelta(minutes=15)
EARLY = timedelta(minutes=30)


def offered(booking, actor) -> list[str]:
    return [move.target for move in services.transitions_allowed(booking=booking, actor=actor)]


@pytest.fixture
def actors():
    photographer = PhotographerFactory()
    return [photographer, PhotographerFactory(), *(EmployeeFactory(role=role) for role in Role.values)]


@pytest.fixture
def bookings(actors):
    """A booking in every state, some changed by a photographer or a receptionist (who may undo it
    for a while), one assigned to the first photographer."""
    photographer, desk = actors[0], actors[3]
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
        self.asked.add(permission)
        return self._actor.has_perm(permission, obj)

    def __str__(self):
        return str(self._actor)


def test_the_transitions_offered_ask_only_the_permissions_transition_rights_reads(bookings, actors):
    asked = set()
    for moment in (MONDAY_10_UTC - timedelta(hours=1), MONDAY_10_UTC + timedelta(hours=30)):
        with time_machine.travel(moment, tick=False):
            for booking, actor in itertools.product(bookings, actors):
                recording = _Recording(actor)
                offered(booking, recording)
                asked |= recording.asked

    assert asked == set(services.TRANSITION_PERMISSIONS)


def test_actors_with_equal_rights_are_offered_the_same_transitions(bookings):
    desk, other_desk = EmployeeFactory(role=Role.RECEPTIONIST), EmployeeFactory(role=Role.RECEPTIONIST)
    booking = bookings[0]
    booking.state_changed_by = None

    assert services.transition_rights(desk) != services.transition_rights(other_desk)  # ids differ
    assert services.transition_rights(desk)[1] == services.transition_rights(other_desk)[1]
    assert offered(booking, desk) == offered(booking, other_desk)


def test_the_transitions_offered_stay_the_same_until_the_clock_settles_them(bookings, actors):
    """From each moment, every actor's answer holds until ``transitions_settled_until`` (at the
    moments in between and just before it)."""
    moments = [MONDAY_10_UTC + timedelta(minutes=minutes) for minutes in range(-90, 60 * len(bookings) + 60, 10)]

    def answers_at(booking, moment):
        with time_machine.travel(moment, tick=False):
            return [offered(booking, actor) for actor in actors]

    for booking in bookings:
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
