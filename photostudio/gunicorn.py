"""gunicorn configuration: the process model comes from the settings, like everything else."""

import os

from photostudio import settings

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = settings.WEB_CONCURRENCY
threads = settings.GUNICORN_THREADS
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# The app logs one JSON line per request itself (with its request id); gunicorn's access log
# would repeat it in another format.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def when_ready(server):
    """Serve every worker's metrics on METRICS_PORT, for a Prometheus scraping each container."""
    if settings.METRICS_PORT:
        from photostudio.metrics import serve_process_metrics

        serve_process_metrics(settings.METRICS_PORT)


def post_worker_init(worker):
    from photostudio.connections import log_connection_share

    log_connection_share(role="web", processes_in_container=workers)


def child_exit(server, worker):
    """Drop a dead worker's Prometheus samples so /metrics sums only live processes."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
