"""manage.py as an operator meets it: a database that cannot be reached is one line and exit 1."""

import os
import subprocess
import sys
from pathlib import Path

from photostudio.tests.stack import spare_port

PROJECT_DIR = Path(__file__).resolve().parents[1]


def _manage(*arguments: str, **variables: str) -> subprocess.CompletedProcess:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(SECRET_KEY="p-" + "x7Kq9" * 12, **variables)
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _last_line(result: subprocess.CompletedProcess) -> str:
    # The pool logs each failed connection attempt as a JSON line before the command gives up.
    return result.stderr.strip().splitlines()[-1]


def test_a_command_on_a_database_that_cannot_be_opened_exits_1_with_one_line(tmp_path):
    result = _manage("unlock_employee", "rita", "--operator", "admin", SQLITE_PATH=str(tmp_path / "no" / "db.sqlite3"))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert _last_line(result).startswith("Database error: unable to open database file")


def test_a_command_on_a_postgresql_that_does_not_answer_exits_1_with_one_line():
    result = _manage("relay_events", DATABASE_URL=f"postgresql://studio@127.0.0.1:{spare_port()}/studio")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert _last_line(result).startswith("Database error: couldn't get a connection")


def test_traceback_still_shows_the_traceback(tmp_path):
    result = _manage(
        "unlock_employee", "rita", "--operator", "admin", "--traceback", SQLITE_PATH=str(tmp_path / "no" / "db.sqlite3")
    )

    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_a_command_on_a_database_never_migrated_says_to_migrate_first(tmp_path):
    result = _manage("relay_events", SQLITE_PATH=str(tmp_path / "new.sqlite3"))

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Database error: no such table: events_delivery. The database lacks migrations: run manage.py migrate."
    ]
