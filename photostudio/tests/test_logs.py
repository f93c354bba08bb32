import json
import logging
import logging.config
import os
import re
import subprocess
import sys

import pytest
import structlog
from django.conf import settings
from django.http import HttpResponse

from employees.tests.factories import EmployeeFactory
from photostudio.logs import logging_config
from photostudio.middleware import RequestIdMiddleware


@pytest.fixture
def log_to_file(tmp_path):
    """Apply a LOGGING with LOG_FILE set, then put the suite's own back."""

    def apply(**options):
        log_file = tmp_path / "studio.log"
        logging.config.dictConfig(logging_config("INFO", log_file=str(log_file), **options))
        return log_file

    yield apply
    logging.config.dictConfig(settings.LOGGING)


def test_log_file_receives_the_same_json_lines_as_stdout(log_to_file, capsys):
    log_file = log_to_file(max_bytes=1024 * 1024, backups=2)
    structlog.get_logger("photostudio.test").info("booking_confirmed", booking_id=7)

    line = json.loads(log_file.read_text().strip())
    assert (line["event"], line["booking_id"], line["level"]) == ("booking_confirmed", 7, "info")
    assert json.loads(capsys.readouterr().out.strip()) == line


def test_log_file_is_rotated_at_its_size_keeping_the_configured_backups(log_to_file):
    log_file = log_to_file(max_bytes=2048, backups=2)
    logger = structlog.get_logger("photostudio.test")
    for number in range(200):
        logger.info("filler", number=number, padding="x" * 40)

    kept = sorted(path.name for path in log_file.parent.iterdir())
    assert kept == ["studio.log", "studio.log.1", "studio.log.2"]
    assert all(path.stat().st_size <= 2048 for path in log_file.parent.iterdir())
    last = json.loads(log_file.read_text().strip().splitlines()[-1])
    assert last["number"] == 199


def test_each_request_writes_one_access_line_with_exactly_these_fields(log_to_file, client):
    log_file = log_to_file()
    response = client.get("/health", HTTP_X_REQUEST_ID="lb-7f3a9c21")

    (line,) = [json.loads(text) for text in log_file.read_text().splitlines()]
    assert list(line) == [
        "method",
        "path",
        "status",
        "duration_ms",
        "user_id",
        "event",
        "request_id",
        "level",
        "logger",
        "timestamp",
    ]
    assert line["request_id"] == response["X-Request-ID"] == "lb-7f3a9c21"
    assert (line["event"], line["level"], line["logger"]) == ("request", "info", "photostudio.request")
    assert (line["method"], line["path"], line["status"], line["user_id"]) == ("GET", "/health", 200, None)
    assert isinstance(line["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", line["timestamp"])


@pytest.mark.django_db
def test_the_access_line_names_the_signed_in_employee(log_to_file, client):
    employee = EmployeeFactory()
    client.force_login(employee)
    log_file = log_to_file()

    client.get("/")

    line = json.loads(log_file.read_text().splitlines()[-1])
    assert (line["logger"], line["path"], line["user_id"]) == ("photostudio.request", "/", employee.pk)


def test_context_bound_during_a_request_reaches_its_access_line(log_to_file, rf):
    log_file = log_to_file()

    def view(request):
        structlog.contextvars.bind_contextvars(booking_id=7)
        return HttpResponse()

    RequestIdMiddleware(view)(rf.get("/somewhere"))

    line = json.loads(log_file.read_text().strip())
    assert (line["path"], line["booking_id"]) == ("/somewhere", 7)
    assert structlog.contextvars.get_contextvars() == {}


def test_a_structlog_line_under_the_access_logger_name_is_rendered_in_full(log_to_file):
    log_file = log_to_file()

    try:
        raise ValueError("boom")
    except ValueError:
        structlog.get_logger("photostudio.request").exception("request_failed")

    line = json.loads(log_file.read_text().strip())
    assert (line["event"], line["logger"], line["level"]) == ("request_failed", "photostudio.request", "error")
    assert "ValueError: boom" in line["exception"]


def test_context_left_bound_before_a_request_reaches_none_of_its_lines(log_to_file, rf):
    log_file = log_to_file()
    structlog.contextvars.bind_contextvars(booking_id=7)

    def view(request):
        structlog.get_logger("photostudio.test").info("inside_the_view", space="studio-a")
        return HttpResponse()

    RequestIdMiddleware(view)(rf.get("/somewhere"))

    inside, access = [json.loads(text) for text in log_file.read_text().splitlines()]
    assert (inside["event"], inside["space"], inside["request_id"]) == (
        "inside_the_view",
        "studio-a",
        access["request_id"],
    )
    assert "booking_id" not in inside
    assert "booking_id" not in access


def test_a_line_is_the_text_structlogs_json_renderer_writes_values_json_cannot_hold_included(log_to_file):
    log_file = log_to_file()
    fields = {"booking_id": 7, "spaces": {"studio-a"}, "note": "café ✓", "ratio": 0.5, "missing": None}

    structlog.get_logger("photostudio.test").info("booking_confirmed", **fields)

    text = log_file.read_text().strip()
    line = json.loads(text)
    assert text == structlog.processors.JSONRenderer()(None, "", line | {"spaces": {"studio-a"}})
    assert line["spaces"] == "{'studio-a'}"


def test_with_debug_on_djangos_own_lines_are_json_on_stdout_and_nothing_else(tmp_path):
    # `make run` and the guide's set-up run with DEBUG on: Django's default logging would also print
    # "Not Found: /x" to stderr, and runserver's 4xx lines through Python's last-resort handler.
    emit = (
        "import logging; logging.getLogger('django.request').warning('Not Found: %s', '/x'); "
        "logging.getLogger('django.server').warning('\"GET /x HTTP/1.1\" 404 0')"
    )
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    env |= {"DEBUG": "true", "SQLITE_PATH": str(tmp_path / "db.sqlite3"), "LOG_FILE": ""}

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", emit],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.stderr == ""
    assert [json.loads(line)["event"] for line in result.stdout.splitlines()] == ["Not Found: /x"]
