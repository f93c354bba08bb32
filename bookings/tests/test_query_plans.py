"""The calendar's hot queries stay index scans however long the history grows.

Years of bookings, their clients and events are written in one INSERT … SELECT generate_series
each, then each hot path runs for real and PostgreSQL's plan of every statement it sent is read: a
sequential scan of bookings, clients or events fails the test.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings import day_lists, selectors, services
from bookings.filtersets import BookingFilterSet
from bookings.models import Booking, Space
from bookings.tests.factories import ClientFactory, SpaceFactory
from events.filtersets import EventFilterSet
from events.selectors import dispatch_backlog, events_for

pytestmark = [pytest.mark.postgres, pytest.mark.performance, pytest.mark.django_db]

BOOKINGS = 200_000
CLIENTS = BOOKINGS // 20
# The last day of the history: a Monday on which the spaces below are open.
LAST_DAY = datetime(2030, 1, 14, tzinfo=UTC).date()
# events_event is read through its monthly partitions (and the default one); reading all of an
# empty one (cost 0.00..0.00) costs nothing.
_SEQUENTIAL = re.compile(r"Seq Scan on (bookings_booking|bookings_client|events_event\w*) .*\(cost=(?!0\.00\.\.0\.00 )")

_FILL_CLIENTS = """
INSERT INTO bookings_client (full_name, phone, email, notes, created_at, updated_at)
SELECT 'Client ' || n, '+1555' || lpad(n::text, 7, '0'), '', '', now(), now()
FROM generate_series(1, %(count)s) AS n
RETURNING id
"""
# Three bookings every three hours per space, back from LAST_DAY 08:00 for about 20 years, each of
# one of the clients; one in fifty still holds its space (confirmed), the rest are history.
_FILL_BOOKINGS = """
INSERT INTO bookings_booking (client_id, space_id, start, "end", blocks_until, people_count, price,
                              price_overridden, notes, state, created_at, updated_at)
SELECT (%(clients)s::bigint[])[1 + n %% %(client_count)s], (%(spaces)s::bigint[])[1 + n %% %(space_count)s],
       slot, slot + interval '2 hours',
       slot + interval '2 hours 15 minutes', 2, 100, false, '',
       CASE WHEN n %% 50 = 0 THEN 'confirmed' WHEN n %% 7 = 0 THEN 'cancelled' ELSE 'completed' END, now(), now()
FROM generate_series(0, %(count)s - 1) AS n,
     LATERAL (SELECT %(last)s::timestamptz - (n / %(space_count)s) * interval '3 hours' AS slot) AS slots
"""
_FILL_EVENTS = """
INSERT INTO events_event (type, aggregate_type, aggregate_id, payload, occurred_at, dispatched_at, dispatch_attempts)
SELECT 'booking.created', 'bookings.booking', id::text, '{}'::jsonb, created_at - (id % 5000) * interval '1 day',
       created_at, 0
FROM bookings_booking
"""


@pytest.fixture
def history(db):
    spaces = [SpaceFactory(slug=f"plan_space_{n}") for n in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(_FILL_CLIENTS, {"count": CLIENTS})
        clients = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            _FILL_BOOKINGS,
            {
                "clients": clients,
                "client_count": len(clients),
                "spaces": [space.pk for space in spaces],
                "space_count": len(spaces),
                "count": BOOKINGS,
                "last": datetime.combine(LAST_DAY, datetime.min.time(), UTC) + timedelta(hours=8),
            },
        )
        cursor.execute(_FILL_EVENTS)
        cursor.execute("ANALYZE bookings_booking")
        cursor.execute("ANALYZE bookings_client")
        cursor.execute("ANALYZE events_event")
    return spaces


def sequential_scans(run) -> list[str]:
    """The statements ``run()`` sent whose plan reads all of bookings, clients or events."""
    with CaptureQueriesContext(connection) as captured:
        run()
    found = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not re.match(r"\s*(SELECT|UPDATE|DELETE)", sql, re.IGNORECASE):
                continue
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            if _SEQUENTIAL.search(plan):
                found.append(f"{sql}\n{plan}")
    return found


def test_every_hot_query_uses_an_index(history, receptionist, manager):
    space = Space.objects.get(pk=history[0].pk)
    day_start, day_end = selectors.day_bounds(LAST_DAY)
    now = day_start + timedelta(hours=9)
    last_booking = Booking.objects.order_by("-start").first()

    def api_list(params):
        return list(BookingFilterSet(params, queryset=selectors.visible_bookings(viewer=receptionist)).qs)

    runs = {
        "day list (API)": lambda: api_list({"date": LAST_DAY.isoformat()}),
        "day list as the API caches it": lambda: day_lists.warm_day_lists(days=[LAST_DAY]),
        "day list of one space (API)": lambda: api_list({"date": LAST_DAY.isoformat(), "space": space.slug}),
        "range list (API)": lambda: api_list({"from": LAST_DAY.isoformat(), "to": LAST_DAY.isoformat()}),
        "day page": lambda: selectors.bookings_for_day(viewer=receptionist, day=LAST_DAY),
        "week page": lambda: selectors.bookings_for_week(viewer=receptionist, day=LAST_DAY, space=space),
        "free slots": lambda: selectors.free_slots(space=space, day=LAST_DAY),
        "what needs action": lambda: selectors.bookings_needing_action(
            viewer=receptionist, now=now, soon=timedelta(hours=2), limit=10
        ),
        "create with its conflict check": lambda: services.create_booking(
            actor=receptionist,
            space=space,
            client=ClientFactory(),
            start=now + timedelta(hours=5),
            end=now + timedelta(hours=7),
            people_count=2,
        ),
        "booking history": lambda: selectors.booking_history(booking=last_booking),
        "events backlog": dispatch_backlog,
        "event list polled since the last event seen (API)": lambda: list(
            EventFilterSet(
                {"occurred_after": (timezone.now() - timedelta(days=2)).isoformat()},
                queryset=events_for(viewer=manager),
            ).qs[:50]
        ),
    }
    # The history is long enough to matter: without a lower bound on start, a day reads it all.
    assert sequential_scans(lambda: list(Booking.objects.filter(start__lt=day_end, end__gt=day_start)))

    scanned = {name: scans for name, run in runs.items() if (scans := sequential_scans(run))}

    assert scanned == {}
