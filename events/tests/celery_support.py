"""Switch the Celery app's options for a block of a test, whatever other tests left behind, and
start a real Celery worker process on the test database."""

import os
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from photostudio.celery import app as celery_app
from photostudio.tests.stack import wait_until

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


def _forget_broker_connections():
    # Celery keeps pools of broker connections per app; drop them so the next send connects to
    # the broker configured now.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def celery_options(**options):
    """Set Celery ``options`` in the app's own configuration layer, which wins over Django's
    settings, and put back what that layer held before."""
    changes = celery_app.conf.changes
    saved = {key: changes[key] for key in options if key in changes}
    celery_app.conf.update(options)
    _forget_broker_connections()
    try:
        yield
    finally:
        for key in options:
            if key in saved:
                changes[key] = saved[key]
            else:
                changes.pop(key, None)
        _forget_broker_connections()
        if "task_routes" in options:
            # Setting task_routes rebuilds Celery's router; putting the old value back must too.
            celery_app.amqp.flush_routes()
            celery_app.amqp.router = celery_app.amqp.Router()


def broker_unreachable():
    """Celery sends to a broker nobody listens on, as when Redis is down at commit time."""
    return celery_options(task_always_eager=False, broker_url=UNREACHABLE_BROKER)


def database_url_of_tests() -> str:
    database = settings.DATABASES["default"]
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database.get("PASSWORD") else "")
    return f"postgresql://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process = process
        self.log = log


@contextmanager
def celery_worker(*, smtp_port: int = 1, redis_url: str = "", beat: bool = False, threads: int = 0, **environment: str):
    """A `celery -A photostudio worker` process on the test database and the test Redis (or
    ``redis_url``), which a test may kill. ``beat`` runs the beat schedule (the relay) in it too,
    ``threads`` runs that many tasks at once instead of one, ``environment`` sets more variables
    (EVENTS_*, WEBHOOKS_*).

    It consumes a queue of its own, where this test process routes the events' tasks, so another
    run sharing the Redis database (and its worker) neither takes nor loses this one's messages.
    """
    redis_url = redis_url or settings.REDIS_URL
    queue = f"events-integration-{uuid.uuid4().hex}"
    name = f"{queue}@localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "photostudio.settings",
        "SECRET_KEY": "integration-test-secret-key-long-enough-for-signing-0123456789",
        "DATABASE_URL": database_url_of_tests(),
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": str(2 + threads),
        "REDIS_URL": redis_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "false",
        "DEFAULT_FROM_EMAIL": settings.DEFAULT_FROM_EMAIL,
        "TIME_ZONE": settings.TIME_ZONE,
        "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
        "CELERY_QUEUE": queue,
        **environment,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "photostudio", "worker", "-n", name, "--loglevel=INFO"]
    command += ["--pool=threads", f"--concurrency={threads}"] if threads else ["--pool=solo"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    with (
        celery_options(task_always_eager=False, broker_url=redis_url, task_routes={"events.*": {"queue": queue}}),
        tempfile.TemporaryDirectory() as directory,
    ):
        log = Path(directory) / "worker.log"
        if beat:
            command += ["--beat", f"--schedule={Path(directory) / 'beat-schedule'}"]
        with log.open("w") as log_file:
            process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
        worker = Worker(process, log)
        try:
            wait_until(
                lambda: process.poll() is not None or celery_app.control.ping(destination=[name], timeout=0.5),
                what="the worker to answer a ping",
                log=log,
            )
            assert process.poll() is None, f"the worker exited; its log:\n{log.read_text()[-6000:]}"
            yield worker
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            with celery_app.connection_for_write() as connection:
                connection.default_channel.queue_delete(queue)
