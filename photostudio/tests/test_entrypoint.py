"""The container's entrypoint and gunicorn command line, run here as the image would run them."""

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.integration
def test_entrypoint_migrates_then_serves_health_and_metrics_through_gunicorn(tmp_path):
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG"}
    }
    env.update(
        SECRET_KEY="entrypoint-test-" + "k" * 40,
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        PATH=f"{PROJECT_DIR / '.venv' / 'bin'}:{env['PATH']}",
    )
    migrate = subprocess.run(
        ["sh", "docker/entrypoint.sh", "migrate"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=180
    )
    assert migrate.returncode == 0, migrate.stderr
    server = subprocess.Popen(
        ["sh", "docker/entrypoint.sh", "web"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    body = response.read()
                    status = response.status
                    request_id = response.headers["X-Request-ID"]
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.3)
        assert body is not None, "gunicorn did not answer within 30 s"
        assert status == 200
        assert b'"status": "ok"' in body
        assert request_id
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read()
        assert b"django_http_requests" in metrics
        assert b"studio_events_backlog 0.0" in metrics
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.parametrize("role", ["web", "worker", "beat"])
def test_a_bad_setting_stops_every_long_running_role_with_one_line(role):
    env = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}}
    env.update(
        SECRET_KEY="entrypoint-test-" + "k" * 40,
        EVENT_BUS_TYPE="kafka",
        PATH=f"{PROJECT_DIR / '.venv' / 'bin'}:{env['PATH']}",
    )
    result = subprocess.run(
        ["sh", "docker/entrypoint.sh", role], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Configuration error: EVENT_BUS_TYPE='kafka' must be one of memory, redis"
    ]


def test_migrate_keeps_one_database_connection_whatever_the_threads_of_the_app(tmp_path):
    # docs/operations.md counts migrate as one connection in the budget; a pool sized for
    # GUNICORN_THREADS would open that many.
    stub = tmp_path / "bin" / "python"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\necho "$* pool=$DATABASE_POOL_SIZE"\n')
    stub.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_POOL_SIZE"}
    env.update(GUNICORN_THREADS="4", DJANGO_SUPERUSER_PASSWORD="", PATH=f"{stub.parent}:{env['PATH']}")

    result = subprocess.run(
        ["sh", "docker/entrypoint.sh", "migrate"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["manage.py migrate --noinput pool=1"]


def test_migrate_creates_the_first_admin_only_while_the_studio_has_none(tmp_path):
    stub = tmp_path / "bin" / "python"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\necho "$*"\n')
    stub.chmod(0o755)
    env = dict(os.environ)
    env.update(
        DJANGO_SUPERUSER_PASSWORD="a-passphrase",
        DJANGO_SUPERUSER_USERNAME="owner",
        DJANGO_SUPERUSER_EMAIL="owner@studio.test",
        PATH=f"{stub.parent}:{env['PATH']}",
    )

    result = subprocess.run(
        ["sh", "docker/entrypoint.sh", "migrate"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "manage.py create_admin --username owner --email owner@studio.test --if-no-admin"
    )
