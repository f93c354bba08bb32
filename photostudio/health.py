"""Health probes for load balancers and ops: 200 when the part works, 503 naming it when not.

Each probe is a plain function returning a ``Probe``; the ``/health*`` views and the
``check_health`` command show the same answers.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from events.selectors import dispatch_backlog
from photostudio.celery import app as celery_app

_PROBE_KEY = "health:probe"


@dataclass(frozen=True)
class Probe:
    component: str
    error: str = ""
    facts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error

    def as_dict(self) -> dict:
        if self.ok:
            return {"status": "ok", "component": self.component, **self.facts}
        return {"status": "error", "component": self.component, "error": self.error, **self.facts}


def probe_app() -> Probe:
    return Probe("app")


def probe_database() -> Probe:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver failure means "unhealthy", never a 500
        return Probe("database", f"{type(exc).__name__}: {exc}", {"vendor": connection.vendor})
    return Probe("database", facts={"vendor": connection.vendor})


def probe_cache() -> Probe:
    facts = {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}
    try:
        cache.set(_PROBE_KEY, "1", timeout=10)
        if cache.get(_PROBE_KEY) != "1":
            return Probe("cache", "a value written could not be read back", facts)
    except Exception as exc:  # a dead Redis raises its own connection errors
        return Probe("cache", f"{type(exc).__name__}: {exc}", facts)
    return Probe("cache", facts=facts)


def _broker_state() -> str | None:
    """None when the broker answers (or tasks run eagerly), else the reason it does not."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def probe_events() -> Probe:
    mode = "eager" if settings.CELERY_TASK_ALWAYS_EAGER else "broker"
    broker_error = _broker_state()
    try:
        backlog = dispatch_backlog()
    except Exception as exc:
        return Probe("events", f"backlog unreadable: {type(exc).__name__}: {exc}", {"mode": mode})
    facts = {"mode": mode, "backlog": backlog.count, "oldest_undispatched_seconds": backlog.oldest_age_seconds}
    if broker_error:
        return Probe("events", f"broker unreachable: {broker_error}", facts)
    if backlog.oldest_age_seconds > settings.EVENTS_BACKLOG_MAX_AGE:
        return Probe("events", "events are waiting too long to be dispatched", facts)
    return Probe("events", facts=facts)


# What `check_health` runs, in the order it reports them.
PROBES = {"app": probe_app, "database": probe_database, "cache": probe_cache, "events": probe_events}


def _view(probe_function):
    @require_GET
    @never_cache
    def view(request):
        probe = probe_function()
        return JsonResponse(probe.as_dict(), status=200 if probe.ok else 503)

    return view


app = _view(probe_app)
database = _view(probe_database)
cache_ = _view(probe_cache)
events = _view(probe_events)
