"""Read replicas, against a real streaming replica: lists read from it, the clerk who booked
reads from the primary, and a replica that is down is skipped."""

import pytest
import requests

from bookings.tests.api import api_as
from bookings.tests.factories import SpaceFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from photostudio.replicas import PIN_COOKIE
from photostudio.tests.stack import (
    PostgresServer,
    app_environment,
    install,
    postgres_directory,
    wait_until,
    web_server,
)

BOOKINGS = "/api/v1/bookings/"
BOOKING = {
    "client_name": "Ada Lovelace",
    "client_phone": "+14155550100",
    "start_time": "2030-01-14T10:00:00+00:00",
    "end_time": "2030-01-14T12:00:00+00:00",
    "space_type": "studio_a",
    "people_count": 2,
}


def _listed_ids(response: requests.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [booking["id"] for booking in response.json()["results"]]


@pytest.mark.integration
@pytest.mark.postgres
def test_lists_read_from_the_replica_the_clerk_reads_their_own_booking_and_a_dead_replica_is_skipped():
    with postgres_directory() as primary_directory, postgres_directory() as replica_directory:
        primary, replica = PostgresServer(primary_directory), PostgresServer(replica_directory)
        primary.initdb()
        primary.start()
        try:
            environment = app_environment(DATABASE_URL=primary.url())
            install(environment, receptionist="desk")
            replica.base_backup_of(primary)
            replica.start()
            with web_server({**environment, "DATABASE_REPLICA_URLS": replica.url()}) as web:
                clerk = web.api_session("desk")
                clerk.cookies.clear()
                # The same employee from a client that has not written: what any other caller sees.
                elsewhere = {"headers": {"Authorization": clerk.headers["Authorization"]}, "timeout": 30}
                assert replica.sql("SELECT pg_is_in_recovery()") == "t"
                replica.sql("SELECT pg_wal_replay_pause()")

                created = clerk.post(web.url(BOOKINGS), json=BOOKING)
                assert created.status_code == 201, created.text
                booking_id = created.json()["id"]
                assert PIN_COOKIE in clerk.cookies
                assert _listed_ids(clerk.get(web.url(BOOKINGS))) == [booking_id]
                assert _listed_ids(requests.get(web.url(BOOKINGS), **elsewhere)) == []

                replica.sql("SELECT pg_wal_replay_resume()")
                wait_until(
                    lambda: _listed_ids(requests.get(web.url(BOOKINGS), **elsewhere)) == [booking_id],
                    what="the replica to catch up",
                    log=web.log,
                )

                replica.sql("SELECT pg_wal_replay_pause()")
                clerk.post(web.url(BOOKINGS), json={**BOOKING, "space_type": "studio_b"})
                replica.stop()
                after_replica_stopped = requests.get(web.url(BOOKINGS), **elsewhere)

            assert len(_listed_ids(after_replica_stopped)) == 2
        finally:
            replica.stop()
            primary.stop()


@pytest.fixture
def replica_routing(settings):
    settings.DATABASE_ROUTERS = ["photostudio.replicas.PrimaryRouter"]
    settings.MIDDLEWARE = ["photostudio.replicas.ReadYourWritesMiddleware", *settings.MIDDLEWARE]


@pytest.mark.django_db
def test_a_caller_who_wrote_is_kept_on_the_primary_for_a_while(replica_routing, settings):
    api = api_as(EmployeeFactory(role=Role.RECEPTIONIST))

    created = api.post(BOOKINGS, {**BOOKING, "space_type": SpaceFactory().slug}, format="json")

    assert created.status_code == 201, created.content
    assert created.cookies[PIN_COOKIE]["max-age"] == settings.DATABASE_REPLICA_PIN_SECONDS


@pytest.mark.django_db
def test_a_caller_who_only_read_is_not_kept_on_the_primary(replica_routing):
    api = api_as(EmployeeFactory(role=Role.RECEPTIONIST))

    listed = api.get(BOOKINGS)

    assert listed.status_code == 200
    assert PIN_COOKIE not in listed.cookies
