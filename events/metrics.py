"""Prometheus metrics of the event pipeline, exported on django-prometheus's ``/metrics``.

Counters and the latency histogram live in the process that does the work (the web process for
``published``, the Celery worker for the rest; one and the same process when Celery is eager).
The backlog gauges are read from the database at scrape time, so every process reports the
same, current figures.
"""

import structlog
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from events.selectors import delivery_backlog, dispatch_backlog

logger = structlog.get_logger(__name__)

published = Counter("studio_events_published", "Events committed, by type.", ["type"])
dispatched = Counter("studio_events_dispatched", "Events handed to their handlers, by type.", ["type"])
handler_errors = Counter(
    "studio_events_handler_errors", "Failed handler attempts (each will be retried or give up).", ["type", "handler"]
)
failed = Counter(
    "studio_events_failed", "Deliveries that ran out of attempts and are now failed, by type.", ["type", "handler"]
)
handler_latency = Histogram(
    "studio_events_handler_seconds",
    "Time one handler attempt took, by handler kind.",
    ["handler"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


_unavailable_logged = False


def record(update) -> None:
    """Apply ``update`` (e.g. ``lambda: published.labels(t).inc()``); metrics never break the pipeline.

    In prometheus_client's multi-process mode a process whose PROMETHEUS_MULTIPROC_DIR does not
    exist (a Celery worker in the web image, say) cannot write samples: it logs that once and
    carries on delivering.
    """
    global _unavailable_logged
    try:
        update()
    except OSError as exc:
        if not _unavailable_logged:
            _unavailable_logged = True
            logger.warning("events_metrics_unavailable", error=f"{type(exc).__name__}: {exc}")


class BacklogCollector:
    """Undispatched events and waiting deliveries, queried when Prometheus scrapes (registered in
    events' AppConfig.ready)."""

    def describe(self):
        # Nothing to declare up front: registering must not query the database.
        return []

    def collect(self):
        try:
            events = dispatch_backlog()
            deliveries = delivery_backlog()
        except Exception as exc:  # a scrape must answer even when the database does not
            logger.warning("events_backlog_unreadable", error=f"{type(exc).__name__}: {exc}")
            return
        yield GaugeMetricFamily(
            "studio_events_backlog", "Committed events not yet dispatched to their handlers.", value=events.count
        )
        yield GaugeMetricFamily(
            "studio_events_backlog_oldest_seconds",
            "Age of the oldest undispatched event.",
            value=events.oldest_age_seconds,
        )
        waiting = GaugeMetricFamily(
            "studio_events_deliveries", "Deliveries not finished yet, by status.", labels=["status"]
        )
        for status, count in sorted(deliveries.items()):
            waiting.add_metric([status], count)
        yield waiting
