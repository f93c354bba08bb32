import json
import logging

import pytest


@pytest.fixture
def request_log_lines(caplog):
    """The request lines as the stdout handler writes them: one JSON object each."""
    formatter = logging.getLogger().handlers[0].formatter

    def read():
        records = [record for record in caplog.records if record.name == "photostudio.request"]
        return [json.loads(formatter.format(record)) for record in records]

    return read


def test_every_response_carries_a_generated_request_id(client):
    response = client.get("/health")
    assert len(response["X-Request-ID"]) == 32


def test_a_sane_request_id_from_the_caller_is_kept(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="lb-7f3a9c21")
    assert response["X-Request-ID"] == "lb-7f3a9c21"


def test_an_unsafe_request_id_from_the_caller_is_replaced(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_the_request_log_line_is_json_with_the_same_request_id(client, request_log_lines):
    response = client.get("/health")
    lines = request_log_lines()
    assert lines, "no request line was logged"
    line = lines[-1]
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/health", 200)
    assert line["level"] == "info"
    assert "timestamp" in line
    assert "duration_ms" in line
