"""`make smoke`: the Compose stack's roles run as plain processes here, driven over HTTPS.

docker/entrypoint.sh runs `migrate`, two `web` instances, a `worker` and `beat` on PostgreSQL and
Redis, behind docker/nginx/templates/default.conf.template served by Debian's nginx with a
self-signed certificate. The smoke signs in, books, confirms, waits for the worker to deliver the
confirmation e-mail, reads /health* through the proxy and the worker's metrics, then stops it all
(also on Ctrl+C or a failure). Exit status 0 means it all worked.

    SMOKE_POSTGRES_URL  server to create the smoke's own database on (postgresql://postgres@127.0.0.1:5432)
    SMOKE_REDIS_URL     Redis database to use (redis://127.0.0.1:6379/3); the queue is the smoke's own
    SMOKE_PORTS         range to take free ports from (18300-18399)
"""

import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import requests

PROJECT_DIR = Path(__file__).resolve().parents[1]
ENTRYPOINT = PROJECT_DIR / "docker" / "entrypoint.sh"
NGINX_TEMPLATE = PROJECT_DIR / "docker" / "nginx" / "templates" / "default.conf.template"
CERTIFICATE_SCRIPT = PROJECT_DIR / "docker" / "nginx" / "self-signed-certificate.sh"
CLIENT_EMAIL = "smoke-client@example.com"
STARTUP_SECONDS = 120
# Settings the caller's shell (CI's test run, say) may hold that would change the stack under test.
INHERITED_SETTINGS_DROPPED = {
    "DJANGO_SETTINGS_MODULE", "DEBUG", "SQLITE_PATH", "EMAIL_HOST", "EMAIL_FILE_PATH", "LOG_FILE",
    "DATABASE_POOL_SIZE", "DATABASE_MAX_OVERFLOW", "DATABASE_PREPARED_STATEMENTS", "GUNICORN_THREADS", "METRICS_PORT",
    "PROMETHEUS_MULTIPROC_DIR",
}  # fmt: skip


class SmokeFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"smoke: {message}", flush=True)


def free_ports(count: int) -> list[int]:
    low, high = (int(part) for part in os.environ.get("SMOKE_PORTS", "18300-18399").split("-"))
    ports = []
    for port in range(low, high + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise SmokeFailed(f"fewer than {count} free ports in {low}-{high}")


def wait_until(condition, *, what: str, processes, seconds: float = STARTUP_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for process in processes:
            process.check_alive()
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise SmokeFailed(f"{what}: not within {seconds:.0f} s")


class Role:
    """One process of the stack, its output in a log file of its own."""

    def __init__(self, name: str, command: list[str], *, env: dict, logs: Path):
        self.name = name
        self.log = logs / f"{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def check_alive(self):
        if self.process.poll() is not None:
            raise SmokeFailed(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def run_role(role: str, *args: str, env: dict, logs: Path) -> None:
    log = logs / f"{role}.log"
    with log.open("ab") as out:
        result = subprocess.run(
            ["sh", str(ENTRYPOINT), role, *args], cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if result.returncode:
        raise SmokeFailed(f"{role} {' '.join(args)} exited with {result.returncode}:\n{log.read_text()[-3000:]}")


def nginx_config(workdir: Path, *, web_ports: list[int], http_port: int, https_port: int) -> Path:
    """The shared server config, rendered as the nginx image renders it, inside a main config
    that keeps every file nginx writes in the smoke's own directory."""
    certificates = workdir / "certs"
    subprocess.run(["sh", str(CERTIFICATE_SCRIPT), str(certificates), "localhost"], check=True)
    server = string.Template(NGINX_TEMPLATE.read_text()).safe_substitute(
        NGINX_UPSTREAM_SERVERS=" ".join(f"server 127.0.0.1:{port};" for port in web_ports),
        NGINX_SERVER_NAME="localhost",
        NGINX_HTTP_PORT=str(http_port),
        NGINX_HTTPS_PORT=str(https_port),
        NGINX_CERT_DIR=str(certificates),
        NGINX_CLIENT_MAX_BODY_SIZE="2m",
    )
    (workdir / "studio.conf").write_text(server)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = workdir / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 1;\npid {workdir / 'nginx.pid'};\n"
        + "events { worker_connections 256; }\n"
        + f"http {{\n    access_log {workdir / 'logs' / 'nginx-access.log'};\n{temp_paths}\n"
        + f"    include {workdir / 'studio.conf'};\n}}\n"
    )
    return main


def https_client(certificate: Path) -> requests.Session:
    """A client trusting only the smoke's certificate, deaf to proxy and CA-bundle variables."""
    client = requests.Session()
    client.trust_env = False
    client.verify = str(certificate)
    return client


def drive(*, https: str, http: str, certificate: Path, password: str) -> int:
    """Sign in, book and confirm over HTTPS, checking the proxy on the way; the booking's id."""
    browser = https_client(certificate)

    redirect = browser.get(f"{http}/login/", allow_redirects=False, timeout=10)
    check(redirect.status_code == 301 and redirect.headers["Location"] == f"{https}/login/", "http redirects to https")

    for path in ("/health", "/health/db", "/health/cache", "/health/events"):
        answer = browser.get(f"{https}{path}", timeout=10)
        check(answer.status_code == 200 and answer.json()["status"] == "ok", f"{path} through the proxy: {answer.text}")

    login_page = browser.get(f"{https}/login/", timeout=10)
    check(login_page.status_code == 200, "the sign-in page answers")
    signed_in = browser.post(
        f"{https}/login/",
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"], "username": "rita", "password": password},
        headers={"Referer": f"{https}/login/", "Origin": https},
        allow_redirects=False,
        timeout=10,
    )
    check(signed_in.status_code == 302, f"rita signs in on the HTML page (answer {signed_in.status_code})")
    check("Strict-Transport-Security" in signed_in.headers, "HTTPS is recognised behind the proxy (HSTS sent)")
    today = browser.get(f"{https}/", timeout=10)
    check(today.status_code == 200 and "Today" in today.text, "the Today page renders with collected static files")
    stylesheet = browser.get(f"{https}/static/{static_path(today.text)}", timeout=10)
    check(stylesheet.status_code == 200, "/static/ is served through the proxy")

    oversized = browser.post(f"{https}/api/v1/auth/login", data=b"x" * 3 * 1024 * 1024, timeout=30)
    check(oversized.status_code == 413, f"the proxy refuses a body over its limit (answer {oversized.status_code})")

    token = browser.post(f"{https}/api/v1/auth/login", json={"username": "rita", "password": password}, timeout=10)
    check(token.status_code == 200, f"rita signs in on the API: {token.text}")
    api = https_client(certificate)
    api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    spaces = api.get(f"{https}/api/v1/spaces/", timeout=10).json()
    space = (spaces["results"] if isinstance(spaces, dict) else spaces)[0]["slug"]
    for days_ahead in range(60, 68):  # a day the space is open, clear of the demo bookings
        day = date.today() + timedelta(days=days_ahead)
        slots = api.get(f"{https}/api/v1/spaces/{space}/free-slots/", params={"date": day.isoformat()}, timeout=10)
        check(slots.status_code == 200, f"free slots of {space} on {day}: {slots.text}")
        if slots.json()["slots"]:
            break
    start = datetime.fromisoformat(slots.json()["slots"][0]["start"].replace("Z", "+00:00"))
    booking = api.post(
        f"{https}/api/v1/bookings/",
        json={
            "client_name": "Smoke Client",
            "client_phone": "+14155550199",
            "client_email": CLIENT_EMAIL,
            "start_time": start.isoformat(),
            "end_time": (start + timedelta(hours=1)).isoformat(),
            "space_type": space,
            "people_count": 1,
        },
        timeout=10,
    )
    check(booking.status_code == 201, f"a booking is made: {booking.text}")
    booking_id = booking.json()["id"]
    confirmed = api.post(f"{https}/api/v1/bookings/{booking_id}/state", json={"target_state": "confirmed"}, timeout=10)
    check(confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed", f"confirmed: {confirmed.text}")
    say(f"booking {booking_id} made and confirmed over HTTPS")
    return booking_id


def static_path(page: str) -> str:
    marker = 'href="/static/'
    begin = page.index(marker) + len(marker)
    return page[begin : page.index('"', begin)]


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeFailed(what)
    say(f"ok: {what.split(':')[0]}")


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="studio-smoke-"))
    logs = workdir / "logs"
    logs.mkdir()
    mail = workdir / "mail"
    database = f"studio_smoke_{os.getpid()}"
    server_url = os.environ.get("SMOKE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
    roles: list[Role] = []
    created_database = False

    def stop_on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise SmokeFailed("nginx is not installed: apt-get install -y nginx")
        ports = free_ports(8)
        web1, web2, http_port, https_port, metrics1, metrics2, worker_metrics_port, beat_metrics_port = ports
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        created_database = True

        env = {key: value for key, value in os.environ.items() if key not in INHERITED_SETTINGS_DROPPED}
        env.update(
            PATH=f"{PROJECT_DIR / '.venv' / 'bin'}:{env['PATH']}",
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            DATABASE_URL=f"{server_url}/{database}",
            REDIS_URL=os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/3"),
            EVENT_BUS_TYPE="redis",
            CELERY_QUEUE=f"studio-smoke-{os.getpid()}",
            ALLOWED_HOSTS="localhost",
            PROXY_COUNT="1",
            APP_REPLICAS="2",
            WEB_CONCURRENCY="2",
            CELERY_CONCURRENCY="1",
        )

        say(f"working in {workdir}; database {database}; ports {ports}")
        run_role("python", "manage.py", "collectstatic", "--noinput", env=env, logs=logs)
        run_role("migrate", env=env, logs=logs)
        run_role(
            "python", "manage.py", "seed_demo", "--credentials-file", str(workdir / "credentials"), env=env, logs=logs
        )
        password = (workdir / "credentials").read_text().split()[1]

        for name, port, metrics_port in (("web1", web1, metrics1), ("web2", web2, metrics2)):
            roles.append(
                Role(
                    name,
                    ["sh", str(ENTRYPOINT), "web"],
                    env=env
                    | {
                        "GUNICORN_BIND": f"127.0.0.1:{port}",
                        "METRICS_PORT": str(metrics_port),
                        "PROMETHEUS_MULTIPROC_DIR": str(workdir / f"prometheus-{name}"),
                    },
                    logs=logs,
                )
            )
        roles.append(
            Role(
                "worker",
                ["sh", str(ENTRYPOINT), "worker"],
                env=env
                | {
                    "EMAIL_FILE_PATH": str(mail),
                    "METRICS_PORT": str(worker_metrics_port),
                    "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus-worker"),
                },
                logs=logs,
            )
        )
        roles.append(
            Role(
                "beat",
                ["sh", str(ENTRYPOINT), "beat", "--schedule", str(workdir / "celerybeat-schedule")],
                env=env
                | {
                    "METRICS_PORT": str(beat_metrics_port),
                    "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus-beat"),
                },
                logs=logs,
            )
        )
        config = nginx_config(workdir, web_ports=[web1, web2], http_port=http_port, https_port=https_port)
        roles.append(
            Role(
                "nginx",
                [nginx, "-p", str(workdir), "-c", str(config), "-e", str(logs / "nginx-error.log")],
                env=env,
                logs=logs,
            )
        )

        https = f"https://localhost:{https_port}"
        certificate = workdir / "certs" / "fullchain.pem"

        probe = https_client(certificate)

        def answers(url):
            try:
                return probe.get(url, timeout=3).status_code == 200
            except requests.RequestException:
                return False

        for port in (web1, web2):
            wait_until(
                lambda port=port: answers(f"http://127.0.0.1:{port}/health"), what=f"web on {port}", processes=roles
            )
        wait_until(lambda: answers(f"{https}/health/db"), what="the proxy", processes=roles)
        say("migrate, web x2, worker, beat and nginx are up")

        booking_id = drive(
            https=https,
            http=f"http://localhost:{http_port}",
            certificate=certificate,
            password=password,
        )

        def confirmation_mail():
            for message in mail.glob("*.log") if mail.is_dir() else []:
                text = message.read_text(errors="replace")
                if f"To: {CLIENT_EMAIL}" in text and "is confirmed" in text:
                    return text
            return None

        wait_until(confirmation_mail, what="the worker e-mails the confirmation", processes=roles, seconds=60)
        say(f"ok: the worker delivered booking {booking_id}'s confirmation e-mail to {CLIENT_EMAIL}")

        worker_metrics = probe.get(f"http://127.0.0.1:{worker_metrics_port}/metrics", timeout=5).text
        check(
            'studio_events_dispatched_total{type="booking.state_changed"}' in worker_metrics,
            "the worker's event metrics are served on its METRICS_PORT",
        )
        web_metrics = probe.get(f"http://127.0.0.1:{metrics1}/metrics", timeout=5).text
        check("django_http_requests_total_by_method" in web_metrics, "web metrics are served on METRICS_PORT")
        backlog = probe.get(f"http://127.0.0.1:{beat_metrics_port}/metrics", timeout=5).text
        check("studio_events_backlog " in backlog, "beat serves the event backlog gauges on its METRICS_PORT")
        check(
            "database_connection_share" in (logs / "worker.log").read_text()
            and "database_connection_share" in (logs / "web1.log").read_text(),
            "each process logs its share of the database connections",
        )
        for role in roles:
            role.check_alive()
        say("PASSED")
        return 0
    except (SmokeFailed, requests.RequestException) as failure:
        print(f"smoke: FAILED: {failure}", file=sys.stderr)
        for role in roles:
            print(f"--- {role.name} (last lines of {role.log}) ---\n{role.tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("smoke: interrupted", file=sys.stderr)
        return 130
    finally:
        for role in reversed(roles):
            role.stop()
        if created_database:
            with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
