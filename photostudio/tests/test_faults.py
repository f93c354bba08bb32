"""Faults the production stack survives, caused for real: PostgreSQL and Redis servers of the
test's own are stopped and started again while the app (gunicorn, or the test's own process)
and a real Celery worker keep running.
"""

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from bookings.tests.api import booking_body
from bookings.tests.factories import SpaceFactory
from employees.models import Role
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, verified_login
from events import services as events
from events.models import Delivery, Event, EventType
from events.tests import celery_support
from events.tests.receiver import WebhookReceiver
from photostudio.tests.stack import app_environment, install, postgres_server, redis_server, wait_until, web_server

BOOKINGS = "/api/v1/bookings/"
BOOKING_LIST_PAGE = "/bookings/"
SESSION_START = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)
PAGES = ["/", "/calendar/", "/bookings/", "/clients/", "/reports/"]
API_READS = ["/api/v1/bookings/", "/api/v1/spaces/", "/api/v1/clients/", "/api/v1/employees/profile"]


@pytest.fixture
def webhook_receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    with WebhookReceiver() as receiver:
        yield receiver


def _cache_failures() -> float:
    return REGISTRY.get_sample_value("studio_cache_unavailable_total") or 0


def _redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "photostudio.redis_cache.FailOpenRedisCache",
            "LOCATION": url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_pages_and_api_answer_and_bookings_events_go_out_once_it_is_back(
    settings, client, webhook_receiver
):
    EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    space = SpaceFactory(slug="daylight", name="Daylight Studio")
    events.create_webhook_endpoint(
        actor=EmployeeFactory(role=Role.ADMIN),
        name="Accounting",
        url=webhook_receiver.url("/hooks"),
        event_types=[EventType.BOOKING_CREATED],
    )
    verified_login(client, EmployeeFactory(role=Role.MANAGER))
    api = APIClient()
    token = api.post("/api/v1/auth/login", {"username": "desk", "password": DEFAULT_PASSWORD}).json()["access_token"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    with redis_server() as redis:
        settings.CACHES = _redis_cache(redis.url(0))
        settings.CELERY_TASK_ALWAYS_EAGER = False
        with celery_support.celery_worker(
            redis_url=redis.url(1), beat=True, EVENTS_RELAY_INTERVAL="5", EVENTS_RELAY_AFTER="0"
        ) as worker:
            assert client.get("/health/cache").status_code == 200
            redis.stop()
            failures_before = _cache_failures()

            page_statuses = {path: client.get(path).status_code for path in PAGES}
            api_statuses = {path: api.get(path).status_code for path in API_READS}
            created = api.post(BOOKINGS, booking_body(space, SESSION_START, client_name="Ada Lovelace"))
            listed = api.get(BOOKINGS).json()["results"]
            health = {path: client.get(path).status_code for path in ("/health/cache", "/health/events")}

            assert page_statuses == dict.fromkeys(PAGES, 200)
            assert api_statuses == dict.fromkeys(API_READS, 200)
            assert created.status_code == 201, created.content
            assert [booking["id"] for booking in listed] == [created.json()["id"]]
            assert health == {"/health/cache": 503, "/health/events": 503}
            assert _cache_failures() > failures_before
            [event] = Event.objects.filter(type=EventType.BOOKING_CREATED)
            assert event.dispatched_at is None

            redis.start()
            wait_until(
                lambda: webhook_receiver.to("/hooks"), what="the webhook of the booking made meanwhile", log=worker.log
            )
            wait_until(
                lambda: client.get("/health/cache").status_code == 200, what="the cache to be back", log=worker.log
            )

    [request] = webhook_receiver.to("/hooks")
    assert request.event_id == event.pk
    assert Delivery.objects.get(event=event, endpoint__isnull=False).status == Delivery.Status.SUCCEEDED


@dataclass(frozen=True)
class Answer:
    kind: str
    status: int
    content_type: str
    error_code: str | None


class Load:
    """Threads calling the API and a staff page in a loop, recording every answer."""

    def __init__(self, web, *, callers_per_kind: int = 2):
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sessions = [web.api_session("desk"), web.page_session("desk")]
        targets = [
            ("api", self._sessions[0], web.url(BOOKINGS)),
            ("page", self._sessions[1], web.url(BOOKING_LIST_PAGE)),
        ]
        self._threads = [
            threading.Thread(target=self._call, args=target, daemon=True)
            for target in targets
            for _ in range(callers_per_kind)
        ]

    def _call(self, kind: str, session: requests.Session, url: str) -> None:
        while not self._stop.is_set():
            try:
                response = session.get(url, allow_redirects=False, timeout=60)
            except requests.RequestException as exc:  # no answer at all: recorded as status 0
                answer = Answer(kind, 0, "", type(exc).__name__)
            else:
                content_type = response.headers.get("Content-Type", "")
                failed = "json" in content_type and response.status_code >= 400
                answer = Answer(
                    kind, response.status_code, content_type, response.json()["error"]["code"] if failed else None
                )
            with self._lock:
                self.answers.append(answer)

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)
        for session in self._sessions:
            session.close()

    def mark(self) -> int:
        with self._lock:
            return len(self.answers)

    def since(self, mark: int) -> list[Answer]:
        with self._lock:
            return self.answers[mark:]

    def answered_since(self, mark: int, *, kind: str, status: int) -> bool:
        return any(answer.kind == kind and answer.status == status for answer in self.since(mark))


@pytest.mark.integration
@pytest.mark.postgres
def test_postgresql_restarted_under_load_answers_503_then_recovers_without_restarting_the_app():
    with postgres_server() as postgres:
        environment = app_environment(DATABASE_URL=postgres.url())
        install(environment, receptionist="desk")

        with web_server(environment) as web, Load(web) as load:
            wait_until(
                lambda: (
                    load.answered_since(0, kind="api", status=200) and load.answered_since(0, kind="page", status=200)
                ),
                what="answers before the outage",
                log=web.log,
            )
            postgres.stop()
            outage = load.mark()
            wait_until(
                lambda: (
                    load.answered_since(outage, kind="api", status=503)
                    and load.answered_since(outage, kind="page", status=503)
                ),
                what="503 answers during the outage",
                log=web.log,
            )
            postgres.start()
            recovery = load.mark()
            wait_until(
                lambda: (
                    load.answered_since(recovery, kind="api", status=200)
                    and load.answered_since(recovery, kind="page", status=200)
                ),
                what="the app to answer again without a restart",
                log=web.log,
            )
            assert web.log.read_text().count("Booting worker") == 1, "gunicorn restarted its worker"

    statuses = Counter(answer.status for answer in load.answers)
    assert set(statuses) == {200, 503}, statuses
    unavailable = [answer for answer in load.answers if answer.status == 503]
    assert {answer.error_code for answer in unavailable if answer.kind == "api"} == {"service_unavailable"}
    assert all(answer.content_type.startswith("text/html") for answer in unavailable if answer.kind == "page")
