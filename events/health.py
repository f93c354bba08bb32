"""The events probe of ``/health/events`` and ``check_health``: the broker answers and no
committed event has waited longer than ``EVENTS_BACKLOG_MAX_AGE`` to be dispatched."""

from django.conf import settings

from events.selectors import dispatch_backlog
from photostudio.health import Probe, broker_failure


def probe_events() -> Probe:
    mode = "eager" if settings.CELERY_TASK_ALWAYS_EAGER else "broker"
    broker_error = broker_failure()
    try:
        backlog = dispatch_backlog()
    except Exception as exc:
        return Probe.failed("events", "backlog unreadable", exc, {"mode": mode})
    facts = {"mode": mode, "backlog": backlog.count, "oldest_undispatched_seconds": backlog.oldest_age_seconds}
    if broker_error is not None:
        return Probe.failed("events", "broker unreachable", broker_error, facts)
    if backlog.oldest_age_seconds > settings.EVENTS_BACKLOG_MAX_AGE:
        return Probe("events", "events are waiting too long to be dispatched", facts)
    return Probe("events", facts=facts)
