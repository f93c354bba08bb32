"""The cached day list: free of queries once cached, and never behind a change, whichever app
process made it."""

import gc
import pickle
import sys
import threading
import weakref
from datetime import date, timedelta

import pytest
import time_machine
from django.db.models import Model
from rest_framework.test import APIClient

from bookings import day_lists, services, tasks
from bookings.filtersets import BookingFilterSet
from bookings.models import BookingState, local_instant
from bookings.selectors import calendar_bookings
from bookings.tests.api import api_as, booking_body
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, PhotographerFactory
from employees.models import Role
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory
from photostudio.pagination import PageNumberPagination

pytestmark = [pytest.mark.django_db, pytest.mark.performance]

DAY = MONDAY_10_UTC.date().isoformat()
NEXT_DAY = (MONDAY_10_UTC + timedelta(days=1)).date().isoformat()
BOOKINGS = "/api/v1/bookings/"


def signed_in_receptionist() -> APIClient:
    """An API client signed in with a token, keeping the cookies login sets as a browser would."""
    api_client = APIClient()
    EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    pair = api_client.post("/api/v1/auth/login", {"username": "desk", "password": DEFAULT_PASSWORD}).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    return api_client


@pytest.fixture
def desk():
    return signed_in_receptionist()


def day_list(api, day=DAY, **filters) -> list[dict]:
    response = api.get(BOOKINGS, {"date": day, **filters})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_cached_day_list_costs_no_query(desk, studio, django_assert_num_queries):
    for hour in range(3):
        BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=3 * hour))
    first = day_list(desk)

    with django_assert_num_queries(0):
        again = day_list(desk)

    assert again == first
    assert len(again) == 3


def test_a_day_list_not_yet_cached_costs_one_query(desk, studio, photographer, django_assert_num_queries):
    for hour in range(3):
        BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=3 * hour), photographer=photographer)
    desk.get("/api/v1/employees/profile")  # the caller's record cached, as after any request

    with django_assert_num_queries(1):
        first = day_list(desk)

    assert [booking["photographer"]["id"] for booking in first] == [photographer.pk] * 3


def test_a_cached_day_list_asks_the_cache_for_versions_once(desk, studio, version_reads):
    BookingFactory(space=studio, start=MONDAY_10_UTC)
    day_list(desk)
    version_reads.clear()

    assert len(day_list(desk)) == 1

    assert len(version_reads) == 1
    assert {"ns:calendar", f"ns:day:{DAY}", "ns:permissions"} <= set(version_reads[0])


@pytest.mark.redis
def test_a_cached_day_list_costs_no_redis_round_trip(desk, studio, redis_commands, clock_stopped_and_versions_kept):
    BookingFactory(space=studio, start=MONDAY_10_UTC)
    day_list(desk)  # starts the namespaces' versions
    day_list(desk)  # reads them on the connection Redis tracks them on
    redis_commands.clear()

    assert len(day_list(desk)) == 1

    assert redis_commands == []  # the versions as Redis tracks them, the throttle's count from its lease


def next_states(api, day=DAY) -> list[list[str]]:
    return [[move["target_state"] for move in booking["allowed_transitions"]] for booking in day_list(api, day)]


def test_each_caller_sees_their_own_next_steps_in_a_day_list_cached_for_another(studio, receptionist, photographer):
    BookingFactory(space=studio, start=MONDAY_10_UTC, state=BookingState.CONFIRMED, photographer=photographer)
    other_photographer = PhotographerFactory()

    with time_machine.travel(MONDAY_10_UTC, tick=False):
        desk_sees = next_states(api_as(receptionist))
        camera_sees = next_states(api_as(photographer))
        other_camera_sees = next_states(api_as(other_photographer))
        desk_sees_again = next_states(api_as(receptionist))

    assert desk_sees == desk_sees_again == [["cancelled", "no_show"]]
    assert camera_sees == [["in_progress"]]
    assert other_camera_sees == [[]]


def test_next_steps_in_a_cached_day_list_follow_the_clock(studio, photographer):
    BookingFactory(space=studio, start=MONDAY_10_UTC, state=BookingState.CONFIRMED, photographer=photographer)
    camera = api_as(photographer)

    with time_machine.travel(MONDAY_10_UTC - timedelta(hours=2), tick=False):
        too_early = next_states(camera)
    with time_machine.travel(MONDAY_10_UTC, tick=False):
        on_time = next_states(camera)

    assert (too_early, on_time) == ([[]], [["in_progress"]])


def test_another_instance_offers_the_undo_from_the_cached_day_list_without_a_query(
    studio, app_instances, django_assert_num_queries
):
    booking = BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=7), state=BookingState.PENDING)
    with time_machine.travel(MONDAY_10_UTC, tick=False):
        desk = signed_in_receptionist()
        with app_instances("a"):
            desk.post(f"{BOOKINGS}{booking.pk}/state", {"target_state": "confirmed"})
            day_list(desk, booking.start.date().isoformat())

        with app_instances("b"), django_assert_num_queries(0):
            next_steps = next_states(desk, booking.start.date().isoformat())

    assert next_steps == [["cancelled", "pending"]]


def test_a_cached_day_list_answers_as_the_uncached_detail_does(studio, receptionist, photographer):
    BookingFactory(space=studio, start=MONDAY_10_UTC, state=BookingState.CONFIRMED, photographer=photographer)
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=4))
    desk = api_as(receptionist)
    day_list(desk)

    cached = day_list(desk)

    details = [desk.get(f"{BOOKINGS}{booking['id']}").json() for booking in cached]
    assert cached == [{name: value for name, value in detail.items() if name != "notifications"} for detail in details]


def test_a_day_list_answers_byte_for_byte_as_the_uncached_list_whether_just_computed_or_cached(
    desk, studio, photographer
):
    BookingFactory(space=studio, start=MONDAY_10_UTC, state=BookingState.CONFIRMED, photographer=photographer)
    BookingFactory(space=studio, start=MONDAY_10_UTC - timedelta(hours=12), end=MONDAY_10_UTC - timedelta(hours=9))
    BookingFactory(
        space=studio, start=MONDAY_10_UTC + timedelta(hours=4, minutes=30), price="123.40", notes="Bring a ladder"
    )
    # ``ordering`` is no filter of a cached day list: this one takes the uncached way, in the same order.
    uncached = desk.get(BOOKINGS, {"date": DAY, "ordering": "start"})

    computed = desk.get(BOOKINGS, {"date": DAY})
    cached = desk.get(BOOKINGS, {"date": DAY})

    assert len(uncached.json()["results"]) == 3
    assert computed.content == cached.content == uncached.content


def test_a_day_list_reads_as_the_list_of_its_bookings_before_and_after_pickling(studio):
    ids = [BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=3 * hour)).pk for hour in range(3)]
    computed = day_lists.day_list(
        day=MONDAY_10_UTC.date(),
        params={"date": DAY},
        load=lambda: BookingFilterSet({"date": DAY}, queryset=calendar_bookings()).qs,
    )

    read_back = pickle.loads(pickle.dumps(computed))
    for listed in (computed, read_back):
        assert [booking.pk for booking, _ in listed] == [part["id"] for _, part in listed] == ids
        assert [booking.pk for booking, _ in listed[1:]] == ids[1:]
        assert (listed[-1][0].pk, len(listed)) == (ids[-1], 3)
    assert [part for _, part in read_back] == [part for _, part in computed]
    assert [booking.start for booking, _ in read_back] == [booking.start for booking, _ in computed]


# Where earlier releases file and read day lists: lists holding rendered parts, then lists whose
# rows hold parsed times and amounts.
EARLIER_RELEASES_KEY_PREFIXES = ("bookings.day_rows:", "bookings.day_rows2:")


def test_a_day_list_is_filed_where_no_earlier_release_reads_it():
    # An earlier release serving beside this one (a host not yet upgraded, a rollback) takes a
    # row's times and amounts as parsed: PostgreSQL's text in this release's rows would fail its request.
    assert not day_lists._key({"date": DAY}).startswith(EARLIER_RELEASES_KEY_PREFIXES)


def test_a_day_list_is_freed_as_soon_as_nothing_holds_it(studio):
    BookingFactory(space=studio, start=MONDAY_10_UTC)
    computed = day_lists.day_list(
        day=MONDAY_10_UTC.date(),
        params={"date": DAY},
        load=lambda: BookingFilterSet({"date": DAY}, queryset=calendar_bookings()).qs,
    )
    computed.answers_for(EmployeeFactory())[0]
    freed = weakref.ref(computed)

    gc.disable()  # without a reference cycle, dropping the last reference frees it
    try:
        del computed
        day_lists.cache.clear_local()
        assert freed() is None
    finally:
        gc.enable()


def test_a_day_list_keeps_no_model_instance_once_its_page_is_shown(desk, studio):
    # Up to a thousand lists sit in L1: ~50 bookings of each, kept, made the garbage collector's
    # full passes walk ~140k more objects (~150 ms held from one request).
    for hour in range(3):
        BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=3 * hour))
    day_list(desk)
    cached = day_lists.day_list(day=MONDAY_10_UTC.date(), params={"date": DAY}, load=lambda: pytest.fail("not cached"))

    reachable, pending = {id(cached)}, [cached]
    while pending:
        for referent in gc.get_referents(pending.pop()):
            if id(referent) not in reachable and not isinstance(referent, type):
                reachable.add(id(referent))
                pending.append(referent)
                assert not isinstance(referent, Model), referent


def test_a_cached_day_list_pages_like_an_uncached_one(desk, studio):
    for hour in range(3):
        BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=3 * hour))
    day_list(desk)

    second_page = desk.get(BOOKINGS, {"date": DAY, "page": 2, "page_size": 2}).json()

    assert (second_page["count"], len(second_page["results"]), second_page["next"]) == (3, 1, None)


def test_a_booking_made_through_one_instance_is_in_another_instances_day_list_at_once(
    desk, studio, app_instances, django_capture_on_commit_callbacks
):
    with app_instances("b"):
        assert day_list(desk) == []

    with app_instances("a"), django_capture_on_commit_callbacks(execute=True):
        created = desk.post(BOOKINGS, booking_body(studio, MONDAY_10_UTC)).json()

    with app_instances("b"):
        assert [booking["id"] for booking in day_list(desk)] == [created["id"]]


def test_a_clerk_reads_their_own_state_change(desk, studio, django_capture_on_commit_callbacks):
    booking = BookingFactory(space=studio, start=MONDAY_10_UTC, state=BookingState.PENDING)
    assert day_list(desk)[0]["state"] == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        desk.post(f"{BOOKINGS}{booking.pk}/state", {"target_state": "confirmed"})

    assert day_list(desk)[0]["state"] == "confirmed"


def test_a_moved_booking_leaves_its_old_day_and_joins_its_new_one(desk, studio, django_capture_on_commit_callbacks):
    booking = BookingFactory(space=studio, start=MONDAY_10_UTC, state=BookingState.PENDING)
    assert len(day_list(desk)) == len(day_list(desk, NEXT_DAY)) + 1 == 1

    moved = MONDAY_10_UTC + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        answer = desk.post(
            f"{BOOKINGS}{booking.pk}/reschedule",
            {"start_time": moved.isoformat(), "end_time": (moved + timedelta(hours=2)).isoformat()},
        )

    assert answer.status_code == 200, answer.content
    assert (len(day_list(desk)), len(day_list(desk, NEXT_DAY))) == (0, 1)


def test_a_renamed_space_shows_in_cached_day_lists(desk, studio):
    BookingFactory(space=studio, start=MONDAY_10_UTC)
    day_list(desk)

    studio.name = "Daylight Studio"
    studio.save()

    assert day_list(desk)[0]["space"]["name"] == "Daylight Studio"


def test_a_day_list_cached_before_the_studios_time_zone_changed_is_not_read_after(desk, studio, settings):
    BookingFactory(space=studio, start=MONDAY_10_UTC.replace(hour=12))
    assert len(day_list(desk)) == 1

    settings.TIME_ZONE = "Pacific/Auckland"  # 12:00 UTC on Monday is 01:00 on Tuesday there

    assert day_list(desk) == []
    assert len(day_list(desk, NEXT_DAY)) == 1


def test_beat_keeps_todays_and_tomorrows_day_lists_warm(studio, django_assert_num_queries):
    BookingFactory(space=studio, start=MONDAY_10_UTC)
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=1))

    with time_machine.travel(MONDAY_10_UTC, tick=False):
        desk = signed_in_receptionist()
        desk.get("/api/v1/employees/profile")  # the caller's record cached, as after any request
        tasks.warm_day_lists()
        with django_assert_num_queries(0):
            today, tomorrow, of_the_space = day_list(desk), day_list(desk, NEXT_DAY), day_list(desk, space=studio.slug)

    assert (len(today), len(tomorrow), len(of_the_space)) == (1, 1, 1)


def test_with_redis_unreachable_the_day_list_is_read_from_the_database(desk, studio, dead_redis, monkeypatch):
    # The API's own throttle counts in the cache too; its outage behaviour is settings' business.
    monkeypatch.setattr("photostudio.api.CallerRateThrottle.allow_request", lambda self, request, view: True)
    BookingFactory(space=studio, start=MONDAY_10_UTC)

    assert len(day_list(desk)) == len(day_list(desk)) == 1


@pytest.mark.redis
def test_a_state_change_redis_missed_is_not_served_from_the_cached_day_list_once_redis_is_back(
    desk, studio, django_capture_on_commit_callbacks, pipelines_reset
):
    booking = BookingFactory(space=studio, start=MONDAY_10_UTC, state=BookingState.PENDING)
    assert day_list(desk)[0]["state"] == "pending"

    with pipelines_reset(), django_capture_on_commit_callbacks(execute=True):  # Redis blinks at the commit
        desk.post(f"{BOOKINGS}{booking.pk}/state", {"target_state": "confirmed"})

    assert day_list(desk)[0]["state"] == "confirmed"


def signed_in(employee) -> APIClient:
    api_client = APIClient()
    pair = api_client.post("/api/v1/auth/login", {"username": employee.username, "password": DEFAULT_PASSWORD}).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    return api_client


@pytest.mark.parametrize("paging", [{}, {"page_size": 1, "page": 2}], ids=["one page", "second of three"])
@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.PHOTOGRAPHER])
def test_a_cached_day_list_answers_the_bytes_of_one_rendered_afresh(studio, role, paging, monkeypatch):
    caller = PhotographerFactory() if role == Role.PHOTOGRAPHER else EmployeeFactory(role=role)
    BookingFactory(space=studio, start=MONDAY_10_UTC, state=BookingState.CONFIRMED, photographer=caller)
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=3), notes='Props \u2028 for Zoë \u2029 "x"')
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(hours=6), state=BookingState.CANCELLED)
    query = {"date": DAY, **paging}

    with time_machine.travel(MONDAY_10_UTC + timedelta(minutes=5), tick=False):
        api = signed_in(caller)
        api.get(BOOKINGS, query)  # cached by the first read
        cached = api.get(BOOKINGS, query)
        monkeypatch.setattr("bookings.day_lists.day_list_day", lambda params: None)  # the uncached way
        afresh = api.get(BOOKINGS, query)

    assert cached.status_code == afresh.status_code == 200
    assert cached["Content-Type"] == afresh["Content-Type"]
    assert cached.content == afresh.content
    assert cached.json()["results"][0]["allowed_transitions"] or role == Role.PHOTOGRAPHER


def test_a_cached_day_list_asked_for_indented_json_answers_it(desk, studio, monkeypatch):
    BookingFactory(space=studio, start=MONDAY_10_UTC)
    indented = {"HTTP_ACCEPT": "application/json; indent=2"}
    desk.get(BOOKINGS, {"date": DAY})

    cached = desk.get(BOOKINGS, {"date": DAY}, **indented)
    monkeypatch.setattr("bookings.day_lists.day_list_day", lambda params: None)
    afresh = desk.get(BOOKINGS, {"date": DAY}, **indented)

    assert cached.content == afresh.content
    assert cached.content.startswith(b'{\n  "count": 1')


def test_a_cached_day_list_works_out_each_bookings_next_steps_once_per_caller(studio, receptionist, monkeypatch):
    for hour in range(3):
        BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=7, hours=3 * hour))
    day = (MONDAY_10_UTC + timedelta(days=7)).date().isoformat()
    worked_out = []
    transitions_allowed = services.transitions_allowed
    monkeypatch.setattr(
        services, "transitions_allowed", lambda **kwargs: worked_out.append(kwargs) or transitions_allowed(**kwargs)
    )
    desk = api_as(receptionist)

    with time_machine.travel(MONDAY_10_UTC, tick=False):
        first, again = next_states(desk, day), next_states(desk, day)
        other_desk = next_states(api_as(EmployeeFactory(role=Role.RECEPTIONIST)), day)

    assert first == again == [["cancelled", "confirmed"]] * 3
    assert other_desk == first
    assert len(worked_out) == 6  # three for each receptionist: a photographer's differ by who asks


def test_a_callers_page_of_a_cached_day_list_is_rendered_once_per_address(studio, receptionist, monkeypatch):
    for hour in range(3):
        BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=7, hours=3 * hour))
    day = (MONDAY_10_UTC + timedelta(days=7)).date().isoformat()
    rendered, render = [], PageNumberPagination.paginated_json

    def counted(self, items):
        rendered.append(1)
        return render(self, items)

    monkeypatch.setattr(PageNumberPagination, "paginated_json", counted)
    desk = api_as(receptionist)

    with time_machine.travel(MONDAY_10_UTC, tick=False):
        first, again = desk.get(BOOKINGS, {"date": day}), desk.get(BOOKINGS, {"date": day})
        paged = desk.get(BOOKINGS, {"date": day, "page_size": 2}).json()
        other_desk = api_as(EmployeeFactory(role=Role.RECEPTIONIST)).get(BOOKINGS, {"date": day})

    assert again.content == first.content
    assert (len(paged["results"]), paged["next"]) == (2, f"http://testserver{BOOKINGS}?date={day}&page=2&page_size=2")
    assert other_desk.json()["results"] == first.json()["results"]
    assert len(rendered) == 3  # the first desk's two addresses, and the other desk's page


def test_threads_keeping_answers_in_one_shared_list_never_fail():
    kept, failures = {}, []

    def keep(thread: int) -> None:
        try:
            for entry in range(20_000):
                day_lists._put_dropping_oldest(kept, (thread, entry), b"answer", bound=2)
        except Exception as exc:  # a request of the list would answer 500
            failures.append(exc)
            return

    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch between any two steps
    try:
        threads = [threading.Thread(target=keep, args=(thread,)) for thread in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)

    assert failures == []


class _GrantsOnEveryBooking:
    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None):
        return obj is not None and perm == "bookings.confirm_booking"


def test_with_a_backend_granting_on_one_booking_a_cached_day_list_asks_it_on_every_read(studio, settings, monkeypatch):
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, f"{__name__}._GrantsOnEveryBooking"]
    BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=7))
    day = (MONDAY_10_UTC + timedelta(days=7)).date().isoformat()
    camera = api_as(PhotographerFactory())
    asked = []
    has_perm = _GrantsOnEveryBooking.has_perm
    monkeypatch.setattr(_GrantsOnEveryBooking, "has_perm", lambda *args: asked.append(args) or has_perm(*args))

    first, again = next_states(camera, day), next_states(camera, day)

    assert first == again == [["confirmed"]]  # the photographer's role may not confirm: the backend lets them
    assert [args[2] for args in asked if args[-1] is not None].count("bookings.confirm_booking") == 2  # once a read


def test_a_cached_day_list_stops_offering_an_undo_when_its_window_closes(studio, receptionist):
    booking = BookingFactory(space=studio, start=MONDAY_10_UTC + timedelta(days=7))
    day = booking.start.date().isoformat()
    desk = api_as(receptionist)
    with time_machine.travel(MONDAY_10_UTC, tick=False):
        desk.post(f"{BOOKINGS}{booking.pk}/state", {"target_state": "confirmed"})
        within = next_states(desk, day)
    with time_machine.travel(MONDAY_10_UTC + timedelta(minutes=15), tick=False):
        at_the_end = next_states(desk, day)
    with time_machine.travel(MONDAY_10_UTC + timedelta(minutes=15, microseconds=1), tick=False):
        after = next_states(desk, day)

    assert within == at_the_end == [["cancelled", "pending"]]
    assert after == [["cancelled"]]


def _load(params):
    return lambda: BookingFilterSet(params, queryset=calendar_bookings()).qs


def _not_to_be_built():
    raise AssertionError("a whole day's list was built through the FilterSet")


def test_a_whole_day_list_is_the_filtersets_list_read_without_it(studio):
    monday = MONDAY_10_UTC.date()
    days = [monday + timedelta(days=offset) for offset in range(-1, 3)]
    BookingFactory(space=studio, start=local_instant(monday, "10:00"))
    BookingFactory(space=studio, start=local_instant(monday - timedelta(days=1), "23:00"))  # into Monday
    BookingFactory(space=studio, start=local_instant(monday + timedelta(days=1), "23:30"))  # into Wednesday

    read = {day: day_lists._read_day(day, {"date": day.isoformat()}, _not_to_be_built) for day in days}

    for day in days:
        assert read[day]._rows == day_lists._rendered(_load({"date": day.isoformat()})())._rows
    assert [len(read[day]) for day in days] == [1, 2, 1, 1]


def test_a_day_list_narrowed_by_other_filters_is_built_through_the_filterset(studio):
    BookingFactory(space=studio)
    built = []
    params = {"date": DAY, "space": studio.slug}

    for _ in range(2):
        day_lists._read_day(MONDAY_10_UTC.date(), params, lambda: built.append(1) or _load(params)())

    assert len(built) == 2


def test_whole_day_lists_across_a_clock_change_are_the_filtersets_lists(studio, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # clocks go forward on 2030-03-31
    days = [date(2030, 3, 30) + timedelta(days=offset) for offset in range(3)]
    for day in days:
        BookingFactory(space=studio, start=local_instant(day, "23:30"))  # into the next day

    for day in days:
        read = day_lists._read_day(day, {"date": day.isoformat()}, _not_to_be_built)
        assert read._rows == day_lists._rendered(_load({"date": day.isoformat()})())._rows
        assert len(read) == (1 if day == days[0] else 2)
