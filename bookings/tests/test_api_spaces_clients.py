"""Spaces with their free time, and clients with their history, through the API."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bookings import services
from bookings.models import WEEKDAYS, Booking, BookingState
from bookings.selectors import CALENDAR_NAMESPACE
from bookings.tests.api import api_as
from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, ClientFactory, SpaceFactory
from events.models import Event
from photostudio.cache import cache, key_part

pytestmark = pytest.mark.django_db


# --- spaces -------------------------------------------------------------------------------------


def test_spaces_list_the_fresh_installs_spaces_by_name(photographer):
    body = api_as(photographer).get("/api/v1/spaces/").json()

    assert body["count"] == 3
    assert [space["slug"] for space in body["results"]] == ["makeup_room", "studio_a", "studio_b"]


def test_space_detail_shows_rate_buffer_and_every_weekday(photographer):
    SpaceFactory(slug="loft", name="Loft", opening_hours={"mon": ["09:00", "17:00"]})

    response = api_as(photographer).get("/api/v1/spaces/loft")

    assert response.status_code == 200
    body = response.json()
    assert (body["hourly_rate"], body["buffer_minutes"], body["is_active"]) == ("50.00", 15, True)
    assert body["opening_hours"] == {
        "mon": ["09:00", "17:00"],
        "tue": None,
        "wed": None,
        "thu": None,
        "fri": None,
        "sat": None,
        "sun": None,
    }


def test_unknown_space_is_not_found(photographer):
    response = api_as(photographer).get("/api/v1/spaces/nowhere/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_free_slots_are_the_opening_hours_around_the_bookings_and_their_buffers(receptionist, studio):
    BookingFactory(space=studio, start=MONDAY_10_UTC)  # 10:00-12:00, blocked until 12:15
    BookingFactory(space=studio, start=MONDAY_10_UTC, state=BookingState.CANCELLED)

    response = api_as(receptionist).get("/api/v1/spaces/test_studio/free-slots", {"date": "2030-01-14"})

    assert response.status_code == 200
    body = response.json()
    assert (body["space_type"], body["date"]) == ("test_studio", "2030-01-14")
    assert body["slots"] == [
        {"start": "2030-01-14T08:00:00Z", "end": "2030-01-14T09:45:00Z", "duration_minutes": 105},
        {"start": "2030-01-14T12:15:00Z", "end": "2030-01-14T22:00:00Z", "duration_minutes": 585},
    ]


def test_free_slots_read_again_cost_no_query(receptionist, studio, django_assert_num_queries):
    BookingFactory(space=studio, start=MONDAY_10_UTC)
    api = api_as(receptionist)
    first = api.get("/api/v1/spaces/test_studio/free-slots", {"date": "2030-01-14"})

    with django_assert_num_queries(0):
        again = api.get("/api/v1/spaces/test_studio/free-slots", {"date": "2030-01-14"})

    assert again.json() == first.json()


def test_a_space_changed_in_the_admin_shows_at_once_in_its_free_slots_and_detail(receptionist, studio):
    api = api_as(receptionist)
    api.get("/api/v1/spaces/test_studio/free-slots", {"date": "2030-01-14"})
    api.get("/api/v1/spaces/test_studio")

    studio.opening_hours = {**studio.opening_hours, "mon": ["10:00", "12:00"]}
    studio.name = "Daylight Studio"
    studio.save()

    slots = api.get("/api/v1/spaces/test_studio/free-slots", {"date": "2030-01-14"}).json()["slots"]
    assert [(slot["start"], slot["end"]) for slot in slots] == [("2030-01-14T10:00:00Z", "2030-01-14T12:00:00Z")]
    assert api.get("/api/v1/spaces/test_studio").json()["name"] == "Daylight Studio"


def test_a_new_space_is_found_at_once_after_its_slug_was_asked_for(receptionist):
    api = api_as(receptionist)
    assert api.get("/api/v1/spaces/loft").status_code == 404

    SpaceFactory(slug="loft", name="Loft")

    assert api.get("/api/v1/spaces/loft").status_code == 200


def test_made_up_space_slugs_leave_nothing_in_the_cache(receptionist):
    api = api_as(receptionist)

    answers = [api.get(f"/api/v1/spaces/made-up-{n}/free-slots/", {"date": "2030-01-14"}) for n in range(3)]

    assert [answer.status_code for answer in answers] == [404] * 3
    for n in range(3):
        key = cache.versioned_key("bookings.space:" + key_part(f"made-up-{n}"), namespaces=[CALENDAR_NAMESPACE])
        assert cache.get_versioned(key, default="not filed") == "not filed"


@pytest.mark.parametrize(
    ("query", "name"), [("date=2030-01-14&date=2030-01-15", "date"), ("date=2030-01-14&space=studio_a", "space")]
)
def test_free_slots_refuse_a_date_given_twice_or_a_parameter_they_do_not_take(receptionist, studio, query, name):
    response = api_as(receptionist).get(f"/api/v1/spaces/test_studio/free-slots/?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert list(response.json()["error"]["details"]) == [name]


@pytest.mark.parametrize("query", [{}, {"date": "tomorrow"}, {"date": "0001-01-01"}])
def test_free_slots_need_a_sensible_date(receptionist, studio, query):
    response = api_as(receptionist).get("/api/v1/spaces/test_studio/free-slots/", query)

    assert response.status_code == 400
    assert "date" in response.json()["error"]["details"]


def test_free_slots_of_a_space_read_before_ask_the_cache_for_versions_once(receptionist, studio, version_reads):
    api = api_as(receptionist)
    api.get("/api/v1/spaces/test_studio/free-slots", {"date": "2030-01-14"})
    version_reads.clear()

    response = api.get("/api/v1/spaces/test_studio/free-slots", {"date": "2030-01-21"})  # a day not read yet

    assert response.status_code == 200
    assert len(version_reads) == 1


def test_free_slots_are_of_the_space_a_slug_names_now_though_it_named_another_before(receptionist, studio):
    api = api_as(receptionist)
    assert len(api.get("/api/v1/spaces/test_studio/free-slots", {"date": "2030-01-14"}).json()["slots"]) == 1
    studio.slug = "old_studio"
    studio.save()
    other = SpaceFactory(slug="test_studio", opening_hours=studio.opening_hours)
    BookingFactory(space=other, start=MONDAY_10_UTC)

    slots = api.get("/api/v1/spaces/test_studio/free-slots", {"date": "2030-01-14"}).json()["slots"]

    assert len(slots) == 2  # around the other space's booking


def _free_slots(api, day: str) -> list[tuple[str, str]]:
    response = api.get("/api/v1/spaces/all_day/free-slots", {"date": day})
    assert response.status_code == 200, response.content
    return [(slot["start"], slot["end"]) for slot in response.json()["slots"]]


def test_a_booking_cancelled_just_after_midnight_frees_the_end_of_the_day_before(
    manager, django_capture_on_commit_callbacks
):
    space = SpaceFactory(slug="all_day", opening_hours=dict.fromkeys(WEEKDAYS, ["00:00", "24:00"]), buffer_minutes=30)
    booking = BookingFactory(space=space, start=datetime(2030, 1, 15, 0, 10, tzinfo=UTC), state=BookingState.CONFIRMED)
    api = api_as(manager)
    assert _free_slots(api, "2030-01-14")[-1][1] == "2030-01-14T23:40:00Z"  # a buffer before it

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = api.post(f"/api/v1/bookings/{booking.pk}/state", {"target_state": "cancelled", "reason": "Ill"})

    assert cancelled.status_code == 200
    assert _free_slots(api, "2030-01-14") == [("2030-01-14T00:00:00Z", "2030-01-15T00:00:00Z")]


def test_a_booking_moved_away_frees_the_buffer_it_held_though_its_space_has_a_shorter_one_now(
    manager, django_capture_on_commit_callbacks
):
    space = SpaceFactory(slug="all_day", opening_hours=dict.fromkeys(WEEKDAYS, ["00:00", "24:00"]), buffer_minutes=60)
    start = datetime(2030, 1, 14, 23, 0, tzinfo=UTC)
    booking = BookingFactory(space=space, start=start, end=start + timedelta(minutes=45))  # held until 00:45
    with django_capture_on_commit_callbacks(execute=True):
        services.update_space(space=space, actor=manager, buffer_minutes=15)
    api = api_as(manager)
    assert _free_slots(api, "2030-01-15")[0][0] == "2030-01-15T00:45:00Z"

    with django_capture_on_commit_callbacks(execute=True):
        moved = api.post(
            f"/api/v1/bookings/{booking.pk}/reschedule",
            {"start_time": "2030-01-14T10:00:00Z", "end_time": "2030-01-14T11:00:00Z"},
        )

    assert moved.status_code == 200
    assert _free_slots(api, "2030-01-15") == [("2030-01-15T00:00:00Z", "2030-01-16T00:00:00Z")]


# --- clients ------------------------------------------------------------------------------------


def test_clients_are_listed_by_name(receptionist):
    ClientFactory(full_name="Zoe Zed")
    ClientFactory(full_name="Adam Ant")

    body = api_as(receptionist).get("/api/v1/clients").json()

    assert [client["full_name"] for client in body["results"]] == ["Adam Ant", "Zoe Zed"]
    assert body["count"] == 2


@pytest.mark.parametrize("search", ["ada", "ADAM@", "(415) 555-0123", "٥٥٥-٠١٢٣", "５５５０１２３"])
def test_client_search_matches_name_email_or_phone_digits(receptionist, search):
    adam = ClientFactory(full_name="Adam Ant", email="adam@ant.test", phone="+14155550123")
    ClientFactory(full_name="Zoe Zed", email="zoe@zed.test", phone="+14155550999")

    body = api_as(receptionist).get("/api/v1/clients/", {"search": search}).json()

    assert [client["id"] for client in body["results"]] == [adam.pk]


@pytest.mark.parametrize("search", ["07911 123456", "07911-123-456", "+44 7911 123456"])
def test_client_search_finds_a_whole_number_typed_as_dialled_in_the_studios_country(receptionist, settings, search):
    settings.PHONE_DEFAULT_REGION = "GB"
    client = ClientFactory(full_name="Ada Lovelace", phone="+447911123456")
    ClientFactory(full_name="Zoe Zed", phone="+447911123999")

    body = api_as(receptionist).get("/api/v1/clients/", {"search": search}).json()

    assert [found["id"] for found in body["results"]] == [client.pk]


@pytest.mark.parametrize(("query", "name"), [("search=ada&search=grace", "search"), ("q=ada", "q")])
def test_client_list_refuses_a_search_given_twice_or_a_parameter_it_does_not_take(receptionist, query, name):
    ClientFactory(full_name="Ada Lovelace")

    response = api_as(receptionist).get(f"/api/v1/clients/?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert list(response.json()["error"]["details"]) == [name]


def test_client_list_pages_a_search(receptionist):
    ClientFactory(full_name="Ada Lovelace")

    response = api_as(receptionist).get("/api/v1/clients/?search=ada&page=1&page_size=5")

    assert [client["full_name"] for client in response.json()["results"]] == ["Ada Lovelace"]


def test_overlong_search_is_a_validation_error(receptionist):
    response = api_as(receptionist).get("/api/v1/clients/", {"search": "x" * 101})

    assert response.status_code == 400
    assert "search" in response.json()["error"]["details"]


def test_client_detail_and_404(receptionist):
    client = ClientFactory()
    api = api_as(receptionist)

    assert api.get(f"/api/v1/clients/{client.pk}").json()["phone"] == client.phone
    assert api.get("/api/v1/clients/999999/").status_code == 404


def test_client_patch_normalises_the_phone_and_records_the_change(receptionist):
    client = ClientFactory(phone="+14155550100")

    response = api_as(receptionist).patch(f"/api/v1/clients/{client.pk}", {"phone": "(415) 555-0199"})

    assert response.status_code == 200
    assert response.json()["phone"] == "+14155550199"
    assert Event.objects.get(type="client.updated").payload["changes"]["phone"]["to"] == "+14155550199"


def test_client_patch_to_another_clients_phone_is_refused(receptionist):
    ClientFactory(phone="+14155550100")
    client = ClientFactory(phone="+14155550101")

    response = api_as(receptionist).patch(f"/api/v1/clients/{client.pk}/", {"phone": "+14155550100"})

    assert response.status_code == 400
    assert "phone" in response.json()["error"]["details"]


def test_client_patch_refuses_unknown_fields(receptionist):
    response = api_as(receptionist).patch(f"/api/v1/clients/{ClientFactory().pk}", {"vip": True})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"vip": ["This field is not accepted here."]}


def test_photographer_may_read_but_not_change_clients(photographer):
    client = ClientFactory()
    api = api_as(photographer)

    assert api.get(f"/api/v1/clients/{client.pk}").status_code == 200
    assert api.patch(f"/api/v1/clients/{client.pk}", {"notes": "mine"}).status_code == 403


def test_client_history_has_totals_and_bookings_newest_first(receptionist, studio):
    client = ClientFactory()
    done = BookingFactory(client=client, space=studio, state=BookingState.COMPLETED)
    no_show = BookingFactory(client=client, space=studio, start=done.start + timedelta(days=1), state="no_show")
    upcoming = BookingFactory(client=client, space=studio, start=done.start + timedelta(days=2))

    response = api_as(receptionist).get(f"/api/v1/clients/{client.pk}/history")

    assert response.status_code == 200
    body = response.json()
    assert body["client"]["id"] == client.pk
    totals = (body["total_bookings"], body["completed"], body["no_shows"], body["cancelled"], body["spend"])
    assert totals == (3, 1, 1, 0, "100.00")
    assert [booking["id"] for booking in body["bookings"]] == [upcoming.pk, no_show.pk, done.pk]
    assert body["bookings"][0]["allowed_transitions"][0]["target_state"] == "cancelled"


def test_client_history_answers_a_spend_beyond_ten_digits_exactly(receptionist, studio):
    client = ClientFactory()
    most = Decimal("99999999.99")  # the highest price a booking holds
    Booking.objects.bulk_create(
        BookingFactory.build(
            client=client, space=studio, start=MONDAY_10_UTC + timedelta(days=day), price=most, state="completed"
        )
        for day in range(101)
    )

    response = api_as(receptionist).get(f"/api/v1/clients/{client.pk}/history")

    assert response.status_code == 200
    assert response.json()["spend"] == f"{most * 101}"
