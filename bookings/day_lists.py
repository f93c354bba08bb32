"""The cached day list (``GET /api/v1/bookings/?date=``), and what drops it.

A day list is filed in ``photostudio.cache`` under its query (date and filters, not the page)
and two namespaces: the day's, which every change to a booking on that day drops, and
``calendar``, which changes to what a list shows beside the bookings drop (a space, a client,
an employee's name or role). The cached value (a ``DayList``) is the day's rows, from which each
booking's answer as rendered for anyone allowed to see bookings (``BookingSerializer.part_from_row``)
is built for the page asked for. Only ``allowed_transitions`` depends on the caller and the hour:
it is worked out from a booking holding just the fields that needs (``services.TRANSITION_FIELDS``),
and each caller's answer for a booking is kept with the list, under the caller's id and
permissions (``services.transition_rights``), until the clock may change it
(``services.transitions_settled_until``); so is each caller's page as the API renders it, per
address, until the first of its answers may change. A miss reads the day with one
``values_list()`` query and builds no space, client or employee instance, and the cached value
pickles plain values, no model: on PostgreSQL its times and amounts as the database wrote them,
parsed only for the rows a page shows.

Invalidation follows the domain events: when one is recorded, for the transaction's own reads,
and in Redis when its transaction commits (``cache.invalidate_for_change``), before the request
that made the change answers, so a clerk always reads their own write and every other process
sees the new namespace versions at its next read.
"""

from collections.abc import Callable, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import get_language

from bookings.api.serializers import PART_COLUMNS, BookingSerializer, answer_json, rendered_part
from bookings.filtersets import BookingFilterSet
from bookings.models import Booking, Space, earliest_start_ending_after
from bookings.selectors import (
    CALENDAR_NAMESPACE,
    CLOSURES_NAMESPACE,
    calendar_bookings,
    day_bounds,
    day_namespace,
    days_touched,
    space_day_namespace,
)
from bookings.services import TRANSITION_FIELDS, transition_rights, transitions_settled_until
from events.models import Event
from events.signals import event_recorded
from photostudio.cache import cache, key_part
from photostudio.compiled_queries import CompiledLookup
from photostudio.inputs import control_character
from photostudio.replicas import read_alias

logger = structlog.get_logger(__name__)

# The filters a cached day list may have; page and page_size only cut the cached list.
DAY_LIST_FILTERS = frozenset({"date", "space", "state", "photographer", "client"})
_PAGING = frozenset({"page", "page_size"})
_CALENDAR_EVENTS = frozenset({"client.updated", "employee.updated", "employee.role_changed", "employee.deactivated"})


def day_list_day(params) -> date | None:
    """The day of a query that is a cacheable day list (a valid ``date``, only day-list filters
    and paging, each once, no control character), else None: the uncached way answers each error."""
    if "date" not in params or not set(params) <= DAY_LIST_FILTERS | _PAGING:
        return None
    if any(len(values) > 1 for _, values in params.lists()):
        return None
    if any(control_character(value, multiline=False) for value in params.values()):
        return None
    return _filter_day(params["date"], get_language())


@lru_cache(maxsize=1024)
def _filter_day(value: str, language: str | None) -> date | None:
    """``value`` as the ``date`` filter reads it in ``language`` (whose formats it accepts); the
    same few days are asked for over and over, and a form field parses them slowly."""
    try:
        return BookingFilterSet.base_filters["date"].field.clean(value)
    except ValidationError:  # an invalid date takes the uncached way, which answers the error
        return None


def announce(day: date) -> None:
    """The request is going to read ``day``'s list: its versions are read with the request's
    first (the caller's), one L2 read for both."""
    cache.announce(CALENDAR_NAMESPACE, day_namespace(day))


# In the model's field order, as ``Model.from_db`` takes them.
_TRANSITION_ATTNAMES = [field.attname for field in Booking._meta.concrete_fields if field.attname in TRANSITION_FIELDS]
# A cached row: the booking's part's columns, then what its transitions read beside them.
_ROW_COLUMNS = tuple(dict.fromkeys([*PART_COLUMNS, *_TRANSITION_ATTNAMES]))
_TRANSITION_POSITIONS = [_ROW_COLUMNS.index(name) for name in _TRANSITION_ATTNAMES]


def _column_field(column: str):
    model, *path, name = (Booking, *column.split("__"))
    for step in path:
        model = model._meta.get_field(step).related_model
    return model._meta.get_field(name)


# How a column PostgreSQL's rows hold as text (``_times_and_amounts_loaded_as_text``) is parsed.
_TEXT_PARSERS = {"DateTimeField": datetime.fromisoformat, "DecimalField": Decimal}
# (position in a row, how its text is parsed or None): every value, and those a booking's transitions read
_ROW_VALUES = [
    (position, _TEXT_PARSERS.get(_column_field(column).get_internal_type()))
    for position, column in enumerate(_ROW_COLUMNS)
]
_TRANSITION_VALUES = [_ROW_VALUES[position] for position in _TRANSITION_POSITIONS]
_SERIALIZER = BookingSerializer()
# Callers' answers a day list keeps, per booking it holds (~0.8 kB each): the oldest go first.
_KEPT_ANSWERS_PER_BOOKING = 3
# Callers' whole pages a day list keeps (each up to ~0.8 kB per booking on it), enough for a
# front desk's screens polling the same day: the oldest go first.
_KEPT_PAGES = 8


class _BuiltOnUse(Sequence):
    """A sequence whose items are built on first use (``_item``); slices build only theirs."""

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._item(position) for position in range(*index.indices(len(self)))]
        return self._item(index)


class DayList(_BuiltOnUse):
    """A day list as filed in the cache: the pairs (booking holding ``TRANSITION_FIELDS``, rendered
    part) in list order, ``answers_for(viewer)``, a caller's JSON answers, and ``page_for``, a
    caller's page of them as the API renders it.

    It holds the day's rows as the query gave them (``_ROW_COLUMNS``), and the pickle holds only
    them. A booking's JSON is built from its row when first asked for, so a miss and a read from L2
    build only the page's (a day at 1M has ~200 bookings, a page 50), and kept with the list in L1.
    Only then are a row's times and amounts parsed (``_row``; a booking parses only the two times
    its transitions read): pickling a day's ~1,200 ``datetime`` values took ~0.5 ms of a miss at
    1M, their text ~0.1. Rendering every row's part on a miss was a third of its CPU.

    Nothing is kept per booking but bytes: the garbage collector's full passes walk every dict and
    model instance in L1's thousand lists. Kept parts, and then kept bookings (~50 a list, three
    objects each), made a pass hold one request for ~150 ms. A booking and its part are built
    again (~5 µs each) when a caller's answer, or a page in another format than the API's JSON,
    needs them."""

    def __init__(self, *, db: str, rows: list[tuple]):
        self._db = db
        self._rows = rows
        # Shared through L1: two requests building the same item at once build equal ones.
        self._json: list[tuple[bytes, bytes] | None] = [None] * len(rows)
        # (transition rights, index) -> (answer, the moment it may change or None), oldest first
        self._answers: dict[tuple, tuple[bytes, datetime | None]] = {}
        # (transition rights, page's address) -> (page, the moment one of its answers may change)
        self._pages: dict[tuple, tuple[bytes, datetime | None]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def answers_for(self, viewer) -> "_Answers":
        """The list's bookings as ``viewer``'s JSON answers. Each is kept for the viewer's later
        requests until their permissions or the booking's transitions by the clock may change."""
        # Not an attribute: the cycle would leave each list dropped from L1 to the garbage collector.
        return _Answers(self, viewer=viewer, rights=transition_rights(viewer), now=timezone.now())

    def page_for(self, viewer, *, address: str, render: Callable[["_Answers"], bytes]) -> bytes:
        """``render(self.answers_for(viewer))``, the page at ``address`` as ``viewer``'s JSON, kept
        for later requests of that address by the same caller with the same rights until one of
        the answers on it may change (which ``render`` tells by reading the page's answers from
        what it is given). Nothing is kept where rights are per object (``transition_rights`` None)."""
        answers = self.answers_for(viewer)
        key = (answers.rights, address)
        kept = self._pages.get(key) if answers.rights is not None else None
        if kept is not None and (kept[1] is None or answers.now < kept[1]):
            return kept[0]
        page = render(answers)
        if answers.rights is not None:
            _put_dropping_oldest(self._pages, key, (page, answers.settled_until), bound=_KEPT_PAGES)
        return page

    def answer(self, index: int, *, viewer, rights: tuple | None, now: datetime) -> tuple[bytes, datetime | None]:
        """``viewer``'s answer for the booking at ``index`` and the moment it may change (None: not
        by the clock)."""
        kept = self._answers.get((rights, index)) if rights is not None else None
        if kept is not None and (kept[1] is None or now < kept[1]):
            return kept
        booking, rendered = self.json_item(index)
        answer = answer_json(booking, rendered, viewer=viewer), transitions_settled_until(booking=booking, now=now)
        if rights is not None:
            bound = _KEPT_ANSWERS_PER_BOOKING * len(self._rows)
            _put_dropping_oldest(self._answers, (rights, index), answer, bound=bound)
        return answer

    def _item(self, index: int) -> tuple[Booking, dict]:
        return self._booking(index), _part(self._row(index))

    def json_item(self, index: int) -> tuple[Booking, tuple[bytes, bytes]]:
        rendered = self._json[index]
        if rendered is None:
            rendered = self._json[index] = rendered_part(_part(self._row(index)))
        return self._booking(index), rendered

    def _booking(self, index: int) -> Booking:
        return Booking.from_db(self._db, _TRANSITION_ATTNAMES, _values(self._rows[index], _TRANSITION_VALUES))

    def _row(self, index: int) -> list:
        """The row at ``index`` with the values held as text parsed."""
        return _values(self._rows[index], _ROW_VALUES)

    def __getstate__(self) -> dict:
        return {"db": self._db, "rows": self._rows}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)


def _values(row: tuple, wanted: list[tuple[int, Callable | None]]) -> list:
    """``row``'s values at ``wanted``'s positions, each held as text parsed as it says."""
    return [row[at] if parse is None or type(row[at]) is not str else parse(row[at]) for at, parse in wanted]


def _part(row: list) -> dict:
    return _SERIALIZER.part_from_row(dict(zip(_ROW_COLUMNS, row, strict=True)))


def _put_dropping_oldest(kept: dict, key, value, *, bound: int) -> None:
    """``kept[key] = value``, dropping the oldest entry first when ``kept`` holds ``bound``."""
    kept.pop(key, None)
    if len(kept) >= bound:
        # A list in L1 is shared by threads: another may have dropped that entry, or be adding one.
        with suppress(KeyError, RuntimeError):
            del kept[next(iter(kept))]
    kept[key] = value


class _Answers(_BuiltOnUse):
    """A caller's answers, as of ``now``; ``settled_until`` is the first moment one of those built
    so far may change (None: none by the clock)."""

    def __init__(self, day_list: DayList, *, viewer, rights: tuple | None, now: datetime):
        self._day_list = day_list
        self._viewer = viewer
        self.rights = rights
        self.now = now
        self.settled_until: datetime | None = None

    def __len__(self) -> int:
        return len(self._day_list)

    def _item(self, index: int) -> bytes:
        answer, settled_until = self._day_list.answer(index, viewer=self._viewer, rights=self.rights, now=self.now)
        if settled_until is not None and (self.settled_until is None or settled_until < self.settled_until):
            self.settled_until = settled_until
        return answer


def day_list(*, day: date, params, load) -> DayList:
    """The day list of the queryset ``load()`` for the day-list query ``params`` on ``day``, cached
    until a change to the day or the calendar. ``load`` must not depend on who asks. The list is
    shared with other requests: copy before changing any of it."""
    return cache.get_or_set(
        _key(params),
        lambda: _read_day(day, params, load),
        namespaces=[CALENDAR_NAMESPACE, day_namespace(day)],
    )


def _read_day(day: date, params, load) -> DayList:
    """``load()``'s list. A whole day's (no filter but the date: the front desk's list) is every
    booking on the day, read with SQL compiled once per process: building the queryset through
    the FilterSet and compiling it took ~1.6 ms of the ~7 ms of CPU a miss took at 1M. A list
    narrowed by other filters is built each time: the FilterSet checks their values against the
    data (a space renamed or a photographer deactivated since is refused)."""
    if set(params) - _PAGING != {"date"}:
        return _rendered(load())
    alias = read_alias()
    start, end = day_bounds(day)
    with _times_and_amounts_loaded_as_text(connections[alias]):
        rows = _WHOLE_DAY.fetch(using=alias, earliest_start=earliest_start_ending_after(start), start=start, end=end)
    return DayList(db=alias, rows=rows)


# As the FilterSet's ``date`` reads a day: every booking overlapping its bounds (``on_day``).
_WHOLE_DAY = CompiledLookup(
    lambda earliest_start, start, end: (
        calendar_bookings().overlapping_from(earliest_start, start, end).values_list(*_ROW_COLUMNS)
    ),
    earliest_start=datetime,
    start=datetime,
    end=datetime,
)


def _rendered(bookings) -> DayList:
    rows = bookings.values_list(*_ROW_COLUMNS)
    with _times_and_amounts_loaded_as_text(connections[rows.db]):
        return DayList(db=rows.db, rows=list(rows))


@contextmanager
def _times_and_amounts_loaded_as_text(connection):
    """Loads ``timestamptz`` and ``numeric`` columns as their text in ``connection``'s queries, for
    ``DayList._row`` to parse: ISO 8601 times (the only ``DateStyle`` psycopg reads) in the
    session's time zone, which Django sets to the connection's, and decimal amounts. Django's
    loader (a Python subclass, which sets the time zone on each value) costs ~5 µs a time, 6 ms for
    a day of ~200 bookings with six times each; psycopg's own C loader 0.3 ms, text less still.
    """
    if connection.vendor != "postgresql":
        yield
        return

    from psycopg.types.string import TextLoader

    def load_as_text(execute, sql, params, many, context):
        adapters = context["cursor"].cursor.adapters
        adapters.register_loader("timestamptz", TextLoader)
        adapters.register_loader("numeric", TextLoader)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(load_as_text):
        yield


def warm_day_lists(*, days: list[date]) -> int:
    """Compute and file the day lists of ``days``: all spaces, and each active space alone.
    Returns how many lists were filed."""
    warmed = 0
    slugs = [None, *Space.objects.filter(is_active=True).order_by("slug").values_list("slug", flat=True)]
    for day in days:
        for slug in slugs:
            params = {"date": day.isoformat()} | ({"space": slug} if slug else {})
            cache.refresh(
                _key(params),
                lambda day=day, params=params: _read_day(
                    day, params, lambda: BookingFilterSet(params, queryset=calendar_bookings()).qs
                ),
                namespaces=[CALENDAR_NAMESPACE, day_namespace(day)],
            )
            warmed += 1
    return warmed


# "3": earlier releases filed lists holding rendered parts under "bookings.day_rows:", and lists
# whose rows hold parsed times and amounts under "bookings.day_rows2:"; one still serving beside
# this release (a host not yet upgraded, a rollback) would fail on the text in this one's rows.
_KEY_PREFIX = "bookings.day_rows3:"


def _key(params) -> str:
    # The time zone decides which bookings a date holds: lists filed before a change of it must not be read.
    filters = sorted((name, params[name]) for name in DAY_LIST_FILTERS if name in params)
    return _KEY_PREFIX + key_part((settings.TIME_ZONE, filters))


def _booking_namespaces(space_id: int, start: datetime, until: datetime) -> list[str]:
    days = days_touched(start, until)
    return [day_namespace(day) for day in days] + [space_day_namespace(space_id, day) for day in days]


def drop_after_event(sender, *, event: Event, aggregate=None, **kwargs) -> None:
    """``event_recorded`` receiver: drop exactly the days and space of a changed booking (before
    and after a move), the whole calendar for a changed client or employee, every free-slot list
    for a closure recorded or removed."""
    if event.type in _CALENDAR_EVENTS:
        cache.invalidate_for_change(CALENDAR_NAMESPACE)
        return
    if event.type.startswith("closure."):
        cache.invalidate_for_change(CLOSURES_NAMESPACE)
        return
    if not isinstance(aggregate, Booking):
        return
    namespaces = _booking_namespaces(aggregate.space_id, aggregate.start, aggregate.blocks_until)
    before = event.payload.get("from") if event.type == "booking.rescheduled" else None
    if isinstance(before, dict):
        namespaces += _moved_from(before)
    cache.invalidate_for_change(*namespaces)


def _moved_from(before: dict) -> list[str]:
    space_id = Space.objects.filter(slug=before.get("space")).values_list("pk", flat=True).first()
    try:
        start, until = datetime.fromisoformat(before["start"]), datetime.fromisoformat(before["blocks_until"])
    except (KeyError, TypeError, ValueError):
        logger.warning("day_list_invalidation_without_times", payload=before)
        return [CALENDAR_NAMESPACE]
    if space_id is None:
        return [day_namespace(day) for day in days_touched(start, until)]
    return _booking_namespaces(space_id, start, until)


def drop_after_space_change(sender, instance: Space, **kwargs) -> None:
    """Spaces change in the admin without a domain event; any change shows in every list."""
    if not kwargs.get("raw"):
        cache.invalidate_for_change(CALENDAR_NAMESPACE)


def connect() -> None:
    event_recorded.connect(drop_after_event, dispatch_uid="bookings.day_lists.drop_after_event")
    post_save.connect(drop_after_space_change, sender=Space, dispatch_uid="bookings.day_lists.space_saved")
    post_delete.connect(drop_after_space_change, sender=Space, dispatch_uid="bookings.day_lists.space_deleted")
