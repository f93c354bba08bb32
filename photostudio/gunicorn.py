"""gunicorn configuration: the process model comes from the settings, like everything else."""

import gc
import os

from photostudio import settings
from photostudio.env import env_int

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = settings.WEB_CONCURRENCY
threads = settings.GUNICORN_THREADS
timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1, maximum=settings.DURATION_MAX_SECONDS)
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
    # What the worker loaded lives as long as it does: kept out of the garbage collector's full
    # passes, which otherwise walk it every time (~130k objects, ~80 ms of a pass that held a
    # request of a worker whose L1 is full of day lists).
    gc.collect()
    gc.freeze()
    # A full collection still walks whatever the worker keeps (with L1 full of day lists at 1M,
    # ~150k objects: 50-150 ms held from one request) and came every ~150 day-list misses. After
    # a hundred middle-generation collections instead of Python's ten it is ten times rarer, for
    # ~3% memory.
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)


def child_exit(server, worker):
    """Drop a dead worker's Prometheus samples so /metrics sums only live processes."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
