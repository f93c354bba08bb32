"""Faults the production stack survives, caused for real: PostgreSQL and Redis servers of the
test's own are stopped and started again while the app (gunicorn, or the test's own process)
and a real Celery worker keep running.
"""

import threading
from collections import Counter
from dataclasses import dataclass

import pytest
import requests

from photostudio.tests.stack import app_environment, install, postgres_server, wait_until, web_server

BOOKINGS = "/api/v1/bookings/"
BOOKING_LIST_PAGE = "/bookings/"


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
            response = session.get(url, allow_redirects=False, timeout=60)
            content_type = response.headers.get("Content-Type", "")
            code = response.json()["error"]["code"] if "json" in content_type and response.status_code >= 400 else None
            with self._lock:
                self.answers.append(Answer(kind, response.status_code, content_type, code))

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

    statuses = Counter(answer.status for answer in load.answers)
    assert set(statuses) == {200, 503}, statuses
    unavailable = [answer for answer in load.answers if answer.status == 503]
    assert {answer.error_code for answer in unavailable if answer.kind == "api"} == {"service_unavailable"}
    assert all(answer.content_type.startswith("text/html") for answer in unavailable if answer.kind == "page")
