"""Health endpoints for load balancers and ops: 200 when the part works, 503 naming it when not."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from events.selectors import dispatch_backlog
from photostudio.celery import app as celery_app

_PROBE_KEY = "health:probe"


def _healthy(component: str, **facts) -> JsonResponse:
    return JsonResponse({"status": "ok", "component": component, **facts})


def _unhealthy(component: str, error: str, **facts) -> JsonResponse:
    return JsonResponse({"status": "error", "component": component, "error": error, **facts}, status=503)


@require_GET
@never_cache
def app(request):
    return _healthy("app")


@require_GET
@never_cache
def database(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver failure means "unhealthy", never a 500
        return _unhealthy("database", f"{type(exc).__name__}: {exc}", vendor=connection.vendor)
    return _healthy("database", vendor=connection.vendor)


@require_GET
@never_cache
def cache_(request):
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    try:
        cache.set(_PROBE_KEY, "1", timeout=10)
        if cache.get(_PROBE_KEY) != "1":
            return _unhealthy("cache", "a value written could not be read back", backend=backend)
    except Exception as exc:  # a dead Redis raises its own connection errors
        return _unhealthy("cache", f"{type(exc).__name__}: {exc}", backend=backend)
    return _healthy("cache", backend=backend)


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


@require_GET
@never_cache
def events(request):
    mode = "eager" if settings.CELERY_TASK_ALWAYS_EAGER else "broker"
    broker_error = _broker_state()
    try:
        backlog = dispatch_backlog()
    except Exception as exc:
        return _unhealthy("events", f"backlog unreadable: {type(exc).__name__}: {exc}", mode=mode)
    facts = {"mode": mode, "backlog": backlog.count, "oldest_undispatched_seconds": backlog.oldest_age_seconds}
    if broker_error:
        return _unhealthy("events", f"broker unreachable: {broker_error}", **facts)
    if backlog.oldest_age_seconds > settings.EVENTS_BACKLOG_MAX_AGE:
        return _unhealthy("events", "events are waiting too long to be dispatched", **facts)
    return _healthy("events", **facts)
