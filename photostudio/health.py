"""Health probes for load balancers and ops: 200 when the part works, 503 naming it when not.

Each probe is a plain function returning a ``Probe``; the ``/health*`` views and the
``check_health`` command show the same answers. The kernel probes the app, the database and the
cache; an app adds the probe of a part it owns with ``register_probe`` in its ``AppConfig.ready``
(events: ``/health/events``).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import HttpResponse
from django.urls import re_path
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from photostudio.celery import app as celery_app

logger = structlog.get_logger(__name__)

_PROBE_KEY = "health:probe"
# What ``never_cache`` writes, written directly: its header parsing was an eighth of a liveness
# probe's time, and load balancers send many.
_NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
# What JsonResponse writes, with one encoder for every probe: it made an encoder per answer and
# encoded its text again, a tenth of a liveness probe's time.
_as_json = DjangoJSONEncoder().encode


@lru_cache(maxsize=1)
def _http_date(epoch_seconds: int) -> str:
    # Formatted once a second, not once a probe.
    return http_date(epoch_seconds)


@dataclass(frozen=True)
class Probe:
    component: str
    error: str = ""
    facts: dict = field(default_factory=dict)
    # The failure's own text, which may name internal hosts, ports and database users: logged and
    # shown by check_health, never in a /health answer, which anyone who reaches the proxy reads.
    cause: str = ""

    @classmethod
    def failed(cls, component: str, summary: str, exc: Exception, facts: dict | None = None) -> "Probe":
        """``component`` is down, as ``summary`` says, because of ``exc``: the answer names the
        exception's class, its text goes to ``cause``."""
        return cls(component, f"{summary}: {type(exc).__name__}", facts or {}, cause=str(exc))

    @property
    def ok(self) -> bool:
        return not self.error

    def as_dict(self) -> dict:
        if self.ok:
            return {"status": "ok", "component": self.component, **self.facts}
        return {"status": "error", "component": self.component, "error": self.error, **self.facts}


def unapplied_migrations() -> list[str]:
    """The project's migrations the database has not had (``app.name``): the studio would answer
    500s on it. Asks the database, so only once it answers."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def probe_app() -> Probe:
    return Probe("app")


def probe_database() -> Probe:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver failure means "unhealthy", never a 500
        return Probe.failed("database", "SELECT 1 failed", exc, {"vendor": connection.vendor})
    return Probe("database", facts={"vendor": connection.vendor})


def probe_cache() -> Probe:
    facts = {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}
    try:
        cache.set(_PROBE_KEY, "1", timeout=10)
        if cache.get(_PROBE_KEY) != "1":
            return Probe("cache", "a value written could not be read back", facts)
    except Exception as exc:  # a dead Redis raises its own connection errors
        return Probe.failed("cache", "cache unreachable", exc, facts)
    return Probe("cache", facts=facts)


def broker_failure() -> Exception | None:
    """None when the Celery broker answers (or tasks run eagerly), else why it does not."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return exc
    return None


_registered: dict[str, Callable[[], Probe]] = {}


def register_probe(name: str, probe_function: Callable[[], Probe]) -> None:
    """Answer ``/health/<name>`` with ``probe_function`` and run it in ``check_health``."""
    _registered[name] = probe_function


def probes() -> dict[str, Callable[[], Probe]]:
    """What ``check_health`` runs, in the order it reports them: the kernel's probes, then the apps'."""
    return {"app": probe_app, "database": probe_database, "cache": probe_cache, **_registered}


def _view(probe_function):
    # Any other method is a 405 naming GET and HEAD; without csrf_exempt a POST met the CSRF
    # check first, and a monitor read its 403 as a refusal. A probe changes nothing to protect.
    @csrf_exempt
    @require_safe  # GET, and HEAD as uptime monitors and `curl -I` send it
    def view(request):
        probe = probe_function()
        if probe.cause:
            logger.warning("health_probe_failed", component=probe.component, error=probe.error, cause=probe.cause)
        body = _as_json(probe.as_dict()).encode()
        response = HttpResponse(body, content_type="application/json", status=200 if probe.ok else 503)
        response["Expires"] = _http_date(int(time.time()))
        response["Cache-Control"] = _NEVER_CACHE
        return response

    return view


app = _view(probe_app)
database = _view(probe_database)
cache_ = _view(probe_cache)


def registered_urls() -> list:
    """``/health/<name>`` of each probe an app registered (the URLconf loads after every app is ready)."""
    return [
        re_path(rf"^health/{name}/?$", _view(probe_function), name=f"health-{name}")
        for name, probe_function in _registered.items()
    ]
