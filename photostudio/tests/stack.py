"""The production stack as processes a test owns: PostgreSQL and Redis servers on spare ports
(which the test may stop, unlike the machine's shared ones), the app under gunicorn, and
sign-ins against it over HTTP.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.conf import settings

WAIT_SECONDS = 90
PASSWORD = "correct-horse-battery-staple"
SECRET_KEY = "fault-test-secret-key-long-enough-for-signing-0123456789abcdef"


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, *, what: str, log: Path | None = None, seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    tail = f"; log:\n{log.read_text()[-6000:]}" if log else ""
    raise AssertionError(f"timed out waiting for {what}{tail}")


def _answers(check) -> bool:
    try:
        return check()
    except (OSError, requests.RequestException):
        return False


class RedisServer:
    """``redis-server`` on a spare port, with nothing saved to disk; ``stop`` and ``start`` again
    keep the port, so clients reconnect to the same address."""

    def __init__(self):
        self.port = spare_port()
        self._process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("needs redis-server on PATH to start a Redis of the test's own")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: _answers(self._pings), what=f"Redis on port {self.port}")

    def _pings(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=20)


@contextmanager
def redis_server():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _postgres_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        pytest.skip(f"needs PostgreSQL's {name} (postgresql package) to start a PostgreSQL of the test's own")
    return found


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; CI and these machines run the tests as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory on a spare port, user ``postgres``, trust
    authentication on 127.0.0.1 (replication included)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "postgres.log"
        self.port = spare_port()

    def url(self, name: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *command: str) -> None:
        result = subprocess.run(_as_postgres(list(command)), capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")

    def initdb(self) -> None:
        self._run(_postgres_binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def base_backup_of(self, primary: "PostgresServer") -> None:
        """Make this cluster a streaming replica of ``primary`` (recovery settings written by -R)."""
        self._run(
            _postgres_binary("pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            *("-D", str(self.data), "-R", "-X", "stream", "--no-sync"),
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(_postgres_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as in a crash or a failover."""
        if (self.data / "postmaster.pid").exists():
            self._run(_postgres_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def sql(self, statement: str, *, database: str = "postgres") -> str:
        result = subprocess.run(
            [_postgres_binary("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database]
            + ["-Atqc", statement],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode:
            raise AssertionError(f"psql {statement!r} failed: {result.stderr}")
        return result.stdout.strip()


@contextmanager
def postgres_directory():
    directory = Path(tempfile.mkdtemp(prefix="studio-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def postgres_server():
    with postgres_directory() as directory:
        server = PostgresServer(directory)
        server.initdb()
        server.start()
        try:
            yield server
        finally:
            server.stop()


def app_environment(**variables: str) -> dict[str, str]:
    """The environment of the app's production processes: no DEBUG, plain HTTP, small pools."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="photostudio.tests.settings_stack",
        SECRET_KEY=SECRET_KEY,
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_POOL_SIZE="1",
        DATABASE_MAX_OVERFLOW="2",
        TIME_ZONE=settings.TIME_ZONE,
        **variables,
    )
    return environment


def manage(environment: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode:
        raise AssertionError(f"manage.py {' '.join(arguments)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def install(environment: dict[str, str], *, receptionist: str) -> None:
    """Migrate the database of ``environment`` and add a receptionist, in one process start."""
    manage(
        environment,
        "shell",
        "-c",
        "from django.core.management import call_command; "
        "from employees.models import Employee, Role; "
        "call_command('migrate', interactive=False, verbosity=0); "
        f"Employee.objects.create_user({receptionist!r}, {PASSWORD!r}, email='{receptionist}@studio.test', "
        f"role=Role.RECEPTIONIST, full_name={receptionist.title()!r})",
    )


class WebServer:
    def __init__(self, port: int, log: Path):
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = log

    def url(self, path: str) -> str:
        return self.base_url + path

    def api_session(self, username: str) -> requests.Session:
        """A session carrying the bearer token of ``username``, as an integrator's client would."""
        session = requests.Session()
        answer = session.post(self.url("/api/v1/auth/login"), json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        return session

    def page_session(self, username: str) -> requests.Session:
        """A browser-like session signed in to the staff pages as ``username``."""
        session = requests.Session()
        session.get(self.url("/login/"))
        answer = session.post(
            self.url("/login/"),
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            allow_redirects=False,
        )
        assert answer.status_code == 302, answer.text[-2000:]
        return session


@contextmanager
def web_server(environment: dict[str, str], *, workers: int = 1, threads: int = 4):
    """The app under gunicorn with the project's configuration, as the Compose ``web`` service runs
    it (preloaded, so a loaded machine imports Django once)."""
    port = spare_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    environment = {
        **environment,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
    }
    with tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as log_file:
        log = Path(log_file.name)
        process = subprocess.Popen(
            [str(gunicorn), "-c", "photostudio/gunicorn.py", "--preload", "photostudio.wsgi:application"],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        server = WebServer(port, log)
        try:
            wait_until(
                lambda: process.poll() is not None or _answers(lambda: requests.get(server.url("/health")).ok),
                what="gunicorn to answer /health",
                log=log,
            )
            assert process.poll() is None, f"gunicorn exited; its log:\n{log.read_text()[-6000:]}"
            yield server
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.unlink(missing_ok=True)
