import json

import pytest
from django.core.management import CommandError, call_command
from django.db import ProgrammingError

pytestmark = pytest.mark.django_db


def test_check_health_prints_every_part_up_and_exits_zero(capsys):
    call_command("check_health")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["app", "database", "cache", "events"]
    assert all(line.split()[1] == "up" for line in lines)


def test_check_health_json_lists_the_same_answers_as_the_endpoints(client, capsys):
    call_command("check_health", "--json")
    answers = json.loads(capsys.readouterr().out)
    assert answers[1] == client.get("/health/db").json()
    assert {answer["status"] for answer in answers} == {"ok"}


def test_check_health_exits_non_zero_naming_what_is_down(settings, capsys):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    with pytest.raises(CommandError, match="Down: cache"):
        call_command("check_health")
    cache_line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("cache"))
    assert "DOWN" in cache_line
    assert "RedisCache" in cache_line


def test_check_health_keeps_each_part_on_one_line_when_its_error_spans_several(monkeypatch, capsys):
    # PostgreSQL's errors quote the statement on further lines (LINE 1: ... and a caret).
    def missing_table():
        raise ProgrammingError('relation "events_event" does not exist\nLINE 1: SELECT ...\n               ^')

    monkeypatch.setattr("events.health.dispatch_backlog", missing_table)

    with pytest.raises(CommandError, match="Down: events"):
        call_command("check_health")

    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["app", "database", "cache", "events"]
    assert 'relation "events_event" does not exist' in lines[-1]
