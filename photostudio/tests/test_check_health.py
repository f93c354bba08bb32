import json

import pytest
from django.core.management import CommandError, call_command

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
