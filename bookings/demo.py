"""Demo data for ``manage.py seed_demo``: a rooftop space, a few clients and a week of bookings.

Clients and bookings are made through ``bookings.services``, so the demo calendar has the same
rules, prices and event history as real work.
"""

from datetime import date, timedelta
from decimal import Decimal

from bookings import services
from bookings.models import Booking, BookingState, Space, local_instant

DEMO_CLIENTS = [
    ("Alice Moreau", "+14155550101"),
    ("Ben Okafor", "+14155550102"),
    ("Chiara Rossi", "+14155550103"),
    ("Dmitri Ivanov", "+14155550104"),
    ("Emma Schulz", "+14155550105"),
]

# (days from today, space slug, local start, local end, people, state it ends up in)
DEMO_WEEK = [
    (-3, "studio_a", "10:00", "12:00", 4, BookingState.COMPLETED),
    (-3, "studio_b", "14:00", "15:30", 2, BookingState.NO_SHOW),
    (-2, "studio_a", "09:00", "11:00", 6, BookingState.COMPLETED),
    (-2, "makeup_room", "09:00", "10:00", 1, BookingState.CANCELLED),
    (-1, "rooftop", "17:00", "19:00", 3, BookingState.COMPLETED),
    (0, "studio_a", "10:00", "12:00", 2, BookingState.CONFIRMED),
    (0, "studio_a", "12:15", "14:00", 5, BookingState.PENDING),
    (0, "studio_b", "15:00", "17:00", 2, BookingState.CONFIRMED),
    (1, "studio_a", "11:00", "13:00", 8, BookingState.PENDING),
    (1, "makeup_room", "10:00", "11:00", 1, BookingState.CONFIRMED),
    (2, "rooftop", "18:00", "20:00", 4, BookingState.CONFIRMED),
    (3, "studio_b", "09:30", "12:30", 3, BookingState.PENDING),
]

# The transitions that lead from pending to each demo state.
_PATHS = {
    BookingState.PENDING: [],
    BookingState.CONFIRMED: [BookingState.CONFIRMED],
    BookingState.COMPLETED: [BookingState.CONFIRMED, BookingState.IN_PROGRESS, BookingState.COMPLETED],
    BookingState.NO_SHOW: [BookingState.CONFIRMED, BookingState.NO_SHOW],
    BookingState.CANCELLED: [BookingState.CANCELLED],
}
_REASONS = {
    BookingState.CONFIRMED: "Client confirmed by phone",
    BookingState.CANCELLED: "Client rescheduled to next month",
}


def create_demo_bookings(*, actor, photographer, today: date) -> list[Booking]:
    """Create the demo space, clients and bookings of the week around ``today`` as ``actor``.

    ``actor`` needs every bookings permission (an admin); ``photographer`` is assigned to the
    sessions that have started. Uses the active spaces the bookings migration installs.
    """
    Space.objects.get_or_create(
        slug="rooftop",
        defaults={
            "name": "Rooftop terrace",
            "capacity": 8,
            "hourly_rate": Decimal("45.00"),
            "buffer_minutes": 30,
            "opening_hours": {day: ["10:00", "21:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        },
    )
    spaces = {space.slug: space for space in Space.objects.filter(is_active=True)}
    bookings = []
    for index, (offset, slug, start, end, people, state) in enumerate(DEMO_WEEK):
        if slug not in spaces:
            continue
        day = today + timedelta(days=offset)
        booking = services.create_booking(
            actor=actor,
            space=spaces[slug],
            start=local_instant(day, start),
            end=local_instant(day, end),
            people_count=min(people, spaces[slug].capacity),
            client_name=DEMO_CLIENTS[index % len(DEMO_CLIENTS)][0],
            client_phone=DEMO_CLIENTS[index % len(DEMO_CLIENTS)][1],
        )
        for target in _PATHS[state]:
            if target == BookingState.IN_PROGRESS:
                services.assign_photographer(booking=booking, photographer=photographer, actor=actor)
            services.transition_booking(
                booking=booking, target_state=target, actor=actor, reason=_REASONS.get(target, "")
            )
        bookings.append(booking)
    return bookings
