"""``python -m bench``: measure the studio under gunicorn on PostgreSQL + Redis against a trivial
Django view in the same gunicorn, loading both with wrk from this process over loopback.

Needs DATABASE_URL (PostgreSQL, migrated and seeded: ``manage.py seed_demo --bookings N``),
REDIS_URL, and Debian's ``wrk``. It adds a ``bench_manager`` employee (a new password each run)
and creates bookings on free slots of the seeded group's spaces far in the future; it changes
nothing else. Prints one row per scenario; see bench/README.md.
"""

import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from pathlib import Path

from bench.scenarios import (
    SCENARIOS,
    TRIVIAL_PATH,
    Figures,
    Load,
    Summary,
    lua_script,
    parse_args,
    parse_wrk,
    summarise,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH_USER = "bench_manager"
CREATE_BODIES = 20_000  # per round, each round booking slots after the previous one's
# Pending bookings booked for state_change per second of a round, beside what create books: more
# than any machine here confirmed (~480 a second). A round that ran out would confirm its first
# ones again (409s, counted as failures).
PENDING_PER_SECOND = 600
# Slots start on the hour; 40 minutes plus the longest buffer (20) ends by the next one.
SESSION = timedelta(minutes=40)
# day_cold measures cache misses at any size, but a 10k history has too few days for wrk not to
# come back to one: while it runs, the namespace every day list is filed under moves on this
# often (seconds), as if someone kept renaming a client, so every request computes its day. wrk
# comes back to a day after every other day of the history (~20 days at 10k: ~80 ms at ~250
# req/s), so each visit finds it moved on; moving it more often only took CPU from the server
# under test, in this process.
COLD_INTERVAL = 0.01


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a seeded PostgreSQL database (manage.py seed_demo --bookings N).")
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL, e.g. redis://127.0.0.1:6379/0.")
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    environment = _server_environment()
    os.environ.update(environment)
    import django

    django.setup()
    from photostudio.health import unapplied_migrations

    if missing := unapplied_migrations():
        sys.exit(f"The database lacks migrations ({', '.join(missing)}): run manage.py migrate first.")
    plan = _plan(rounds=args.rounds, seconds=args.duration)
    database = _database()
    print(f"{plan['bookings']:,} bookings; {_machine()}; {database}", flush=True)
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as workdir:
        log = Path(tempfile.gettempdir()) / f"studio-bench-{args.port}.log"
        print(f"gunicorn's output goes to {log}", flush=True)
        server = _start_gunicorn(args, environment, log)
        try:
            rounds = [_run_round(args, plan, Path(workdir), number) for number in range(args.rounds)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    summaries = summarise(rounds)
    _print_table(summaries, bookings=plan["bookings"], rounds=args.rounds, database=database)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "bookings": plan["bookings"],
                    "machine": _machine(),
                    "database": database,
                    "args": sys.argv[1:],
                    "results": {name: summary.__dict__ for name, summary in summaries.items()},
                    "rounds": [{name: figures.__dict__ for name, figures in round.items()} for round in rounds],
                },
                indent=2,
            )
        )
    return 0


def _server_environment() -> dict[str, str]:
    """The studio as production runs it (DEBUG off), minus what would refuse a load test: the
    per-caller API throttle, HTTPS redirects and the second factor for the bench's manager."""
    return {
        "DJANGO_SETTINGS_MODULE": "photostudio.settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "API_THROTTLE_RATE": "1000000/second",
        "MFA_REQUIRED_ROLES": "",
        "CELERY_QUEUE": os.environ.get("CELERY_QUEUE", "bench"),
        "DATABASE_POOL_SIZE": os.environ.get("DATABASE_POOL_SIZE", "2"),
    }


def _plan(*, rounds: int, seconds: int) -> dict:
    """What each scenario asks for, from the seeded data, for ``rounds`` of ``seconds`` each."""
    from django.utils import timezone

    from bookings.demo_group import busy_day, group_slugs
    from bookings.models import Booking, Space, local_instant
    from bookings.reports import REPORT_MAX_DAYS
    from employees.models import Employee, Role

    today = timezone.localdate()
    password = secrets.token_urlsafe(16)
    manager = Employee.objects.filter(username=BENCH_USER).first() or Employee.objects.create_user(
        BENCH_USER, None, full_name="Bench Manager", role=Role.MANAGER, email="bench@example.com"
    )
    manager.set_password(password)
    manager.is_active = True
    manager.save()
    first = Booking.objects.order_by("start").values_list("start", flat=True).first()
    if first is None:
        sys.exit("The database has no bookings: run manage.py seed_demo --bookings N first.")
    first_day = timezone.localdate(first)
    days = [first_day + timedelta(days=offset) for offset in range(0, (today - first_day).days, 1)]
    quiet = today - timedelta(days=(today.weekday() or 7) + 7)  # a Monday, the group's quiet day
    spaces = list(Space.objects.filter(slug__in=group_slugs(), is_active=True).order_by("slug"))
    if not spaces:
        sys.exit("The studio group's spaces are missing: run manage.py seed_demo --bookings N first.")
    latest = Booking.objects.filter(created_by=manager).order_by("-start").values_list("start", flat=True).first()
    create_from = max(today + timedelta(days=60), timezone.localdate(latest) + timedelta(days=1) if latest else today)
    bodies = []
    day = create_from
    while len(bodies) < CREATE_BODIES * rounds:
        for hour in range(10, 18):
            for space in spaces:
                start = local_instant(day, f"{hour:02d}:00")
                bodies.append(
                    {
                        "client_name": f"Bench Client {len(bodies) % 100}",
                        "client_phone": f"+1555999{len(bodies) % 100:04d}",
                        "start_time": start.isoformat(),
                        "end_time": (start + SESSION).isoformat(),
                        "space_type": space.slug,
                        "people_count": 1,
                    }
                )
        day += timedelta(days=1)
    _book_pending_pool(spaces, manager, first_day=day + timedelta(days=30), size=PENDING_PER_SECOND * seconds * rounds)
    month_end = today.replace(day=1) - timedelta(days=1)
    return {
        "bookings": Booking.objects.count(),
        "password": password,
        "today": today,
        "days": days or [today],
        "quiet_day": quiet,
        "busy_day": busy_day(today),
        "space": spaces[0].slug,
        "create": bodies,
        "month": (month_end.replace(day=1), month_end),
        "five_years": (today - timedelta(days=REPORT_MAX_DAYS - 2), today),
    }


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _book_pending_pool(spaces, manager, *, first_day: date, size: int) -> None:
    """``size`` pending bookings for state_change to confirm, one each, after the create range."""
    from bookings.models import Booking, Client, local_instant

    client, _ = Client.objects.get_or_create(phone="+15559980000", defaults={"full_name": "Bench Pool Client"})
    bookings, day = [], first_day
    while len(bookings) < size:
        for hour in range(10, 18):
            for space in spaces:
                start = local_instant(day, f"{hour:02d}:00")
                bookings.append(
                    Booking(
                        client=client,
                        space=space,
                        start=start,
                        end=start + SESSION,
                        blocks_until=start + SESSION + space.buffer,
                        people_count=1,
                        price=space.price_for(SESSION),
                        created_by=manager,
                        updated_by=manager,
                    )
                )
        day += timedelta(days=1)
    Booking.objects.bulk_create(bookings[:size], batch_size=1000)


def _start_gunicorn(args, environment: dict, log: Path) -> subprocess.Popen:
    if not _port_is_free(args.port):
        sys.exit(f"Port {args.port} is taken (another server?); choose another with --port.")
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "bench.wsgi:application",
        "--config",
        str(ROOT / "photostudio" / "gunicorn.py"),
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "sync",
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **environment}, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped at start:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health", timeout=10) as answer:
                if answer.status == 200:
                    return server
        except OSError:  # not listening yet, or still booting
            time.sleep(0.5)
    server.terminate()
    sys.exit(f"gunicorn did not answer /health within a minute:\n{log.read_text()[-3000:]}")


def _post_json(port: int, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _run_round(args, plan: dict, workdir: Path, number: int) -> dict[str, Figures]:
    login = {"username": BENCH_USER, "password": plan["password"]}
    token = _post_json(args.port, "/api/v1/auth/login", login)["access_token"]
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    month, years = plan["month"], plan["five_years"]
    loads = {
        "trivial": Load([("GET", TRIVIAL_PATH, None)]),
        "health": Load([("GET", "/health", None)]),
        "day_cold": Load([("GET", f"/api/v1/bookings/?date={day}", None) for day in plan["days"]], auth),
        "day_cached": Load([("GET", f"/api/v1/bookings/?date={plan['quiet_day']}", None)], auth),
        "busy_day": Load([("GET", f"/api/v1/bookings/?date={plan['busy_day']}", None)], auth),
        "create": Load(
            [
                ("POST", "/api/v1/bookings/", json.dumps(body))
                for body in plan["create"][number * CREATE_BODIES : (number + 1) * CREATE_BODIES]
            ],
            auth,
        ),
        "login": Load([("POST", "/api/v1/auth/login", json.dumps(login))], {"Content-Type": "application/json"}),
        "free_slots": Load(
            [("GET", f"/api/v1/spaces/{plan['space']}/free-slots/?date={plan['today'] + timedelta(days=3)}", None)],
            auth,
        ),
        "profile": Load([("GET", "/api/v1/employees/profile", None)], auth),
        "reports_month": Load([("GET", f"/api/v1/reports/?from={month[0]}&to={month[1]}", None)], auth),
        "reports_5y": Load([("GET", f"/api/v1/reports/?from={years[0]}&to={years[1]}", None)], auth),
    }
    results = {}
    for name in args.scenarios:
        if name == "state_change":
            loads[name] = Load(_pending_bench_bookings(), auth)
            if not loads[name].requests:
                print("state_change: skipped, no pending bookings of the bench (run create first)", flush=True)
                continue
        with _day_lists_kept_cold() if name == "day_cold" else nullcontext():
            results[name] = _run_wrk(args, name, loads[name], workdir)
        _wait_for_backlog(args.port)
        figures = results[name]
        print(
            f"{f'{number + 1}/{args.rounds}':>5} {name:14} {figures.requests_per_second:9.1f} req/s  "
            f"p50 {figures.p50_ms:8.1f} ms  p99 {figures.p99_ms:8.1f} ms  failures {figures.failures}",
            flush=True,
        )
    return results


@contextmanager
def _day_lists_kept_cold():
    from bookings.selectors import CALENDAR_NAMESPACE
    from photostudio.cache import cache

    stop = threading.Event()

    def churn() -> None:
        while not stop.wait(COLD_INTERVAL):
            cache.invalidate(CALENDAR_NAMESPACE)

    churner = threading.Thread(target=churn, name="day-list-churn", daemon=True)
    churner.start()
    try:
        yield
    finally:
        stop.set()
        churner.join()


def _wait_for_backlog(port: int) -> None:
    """Return once gunicorn has answered what wrk left queued, so it does not slow the next scenario."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=120):
                return
        except OSError:
            time.sleep(1)


def _pending_bench_bookings() -> list[tuple[str, str, str]]:
    from bookings.models import Booking, BookingState

    pending = Booking.objects.filter(created_by__username=BENCH_USER, state=BookingState.PENDING).order_by("pk")
    body = json.dumps({"target_state": "confirmed", "reason": "Bench"})
    return [("POST", f"/api/v1/bookings/{pk}/state", body) for pk in pending.values_list("pk", flat=True)]


def _run_wrk(args, name: str, load: Load, workdir: Path) -> Figures:
    script = workdir / f"{name}.lua"
    script.write_text(lua_script(load, threads=args.threads))
    base = ["wrk", f"-t{args.threads}", f"-c{args.connections}", "--timeout", "30s", "--latency", "-s", str(script)]
    url = f"http://127.0.0.1:{args.port}"
    if args.warmup and name not in ("create", "state_change"):
        subprocess.run([*base, f"-d{args.warmup}s", url], capture_output=True, check=True, timeout=args.warmup + 60)
    done = subprocess.run(
        [*base, f"-d{args.duration}s", url], capture_output=True, text=True, check=True, timeout=args.duration + 120
    )
    if done.stderr.strip():
        # A script wrk cannot load is reported here, and wrk goes on loading "GET /" in its stead.
        sys.exit(f"wrk could not run the {name} scenario: {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def _print_table(summaries: dict[str, Summary], *, bookings: int, rounds: int, database: str) -> None:
    labels = dict(SCENARIOS)
    print(f"\nAt {bookings:,} bookings, {_machine()}; {database}")
    if rounds > 1:
        print(f"The median of {rounds} rounds; the share's lowest and highest in brackets.")
    print("| scenario | req/s | p50 ms | p99 ms | share of trivial | failures |\n|---|---|---|---|---|---|")
    for name, summary in summaries.items():
        spread = f" ({summary.lowest_share:.1f}–{summary.highest_share:.1f})" if rounds > 1 else ""
        print(
            f"| {labels[name]} | {summary.requests_per_second:,.1f} | {summary.p50_ms:.1f} | {summary.p99_ms:.1f} "
            f"| {summary.share:.1f}%{spread} | {summary.failures} |"
        )


def _database() -> str:
    """What figures at 1M depend on beside the code and the machine: a history larger than
    PostgreSQL's buffer cache is read from the operating system's cache, or from the disk."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers'), "
            "pg_size_pretty(pg_database_size(current_database()))"
        )
        version, buffers, size = cursor.fetchone()
    return f"PostgreSQL {version}, shared_buffers {buffers}, database {size}"


def _machine() -> str:
    cpus = os.cpu_count()
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = os.getloadavg()[0]
    return f"{cpus} cores ({model}), load {load:.1f} at start, Python {platform.python_version()}"


if __name__ == "__main__":
    sys.exit(main())
