"""The Celery app. Eager in process with EVENT_BUS_TYPE=memory; Redis-brokered workers with redis."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init, worker_process_init, worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photostudio.settings")

app = Celery("photostudio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _serve_worker_metrics(**kwargs):
    """The worker's processes count the events they handle; Prometheus reads them on METRICS_PORT."""
    from django.conf import settings

    if settings.METRICS_PORT:
        from photostudio.metrics import serve_process_metrics

        serve_process_metrics(settings.METRICS_PORT)


@worker_process_init.connect
def _log_worker_connection_share(**kwargs):
    from django.conf import settings

    from photostudio.connections import log_connection_share

    log_connection_share(role="worker", processes_in_container=settings.CELERY_WORKER_CONCURRENCY)


@worker_process_shutdown.connect
def _drop_worker_process_metrics(pid, **kwargs):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


@beat_init.connect
def _start_beat(**kwargs):
    """Beat logs its connection share and, being one per deployment, serves the backlog gauges."""
    from django.conf import settings

    from photostudio.connections import log_connection_share

    log_connection_share(role="beat", processes_in_container=1)
    if settings.METRICS_PORT:
        from photostudio.metrics import serve_database_metrics

        serve_database_metrics(settings.METRICS_PORT)
