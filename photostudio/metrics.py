"""/metrics for Prometheus: django-prometheus's exporter plus the metrics read at scrape time.

An app whose figures are read from the database when Prometheus scrapes (events: the backlog
gauges) registers their collector with ``register_database_collector`` in its ``AppConfig.ready``.

With ``METRICS_TOKEN`` set, only a scraper sending ``Authorization: Bearer <METRICS_TOKEN>`` reads
them: 401 without credentials, 403 with wrong ones. Unset, the page is open (for a scraper on a
private network).
"""

import hmac
import os

import django_prometheus.middleware
import prometheus_client
from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django_prometheus.utils import Time, TimeSince
from prometheus_client import multiprocess

# Collectors that query the database at scrape time: they live in no process's sample files, so
# every exporter adds them to the registry it serves.
_database_collectors = []
_ABSENT = object()


def register_database_collector(collector) -> None:
    """Report ``collector``'s figures on ``/metrics`` and on beat's ``METRICS_PORT``."""
    _database_collectors.append(collector)
    prometheus_client.REGISTRY.register(collector)


@csrf_exempt  # as the health probes: a 405 for another method, not the CSRF check's 403
@require_safe
def export(request):
    refusal = _refusal(request)
    if refusal:
        return refusal
    # Under gunicorn (PROMETHEUS_MULTIPROC_DIR set) each worker process writes its samples to
    # files, and the page is built from those files in a fresh registry; collectors that query
    # the database at scrape time live in no file, so they join that registry here.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        for collector in _database_collectors:
            registry.register(collector)
    else:
        registry = prometheus_client.REGISTRY
    return HttpResponse(prometheus_client.generate_latest(registry), content_type=prometheus_client.CONTENT_TYPE_LATEST)


def _refusal(request) -> HttpResponse | None:
    if not settings.METRICS_TOKEN:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        response = HttpResponse("Metrics need Authorization: Bearer <METRICS_TOKEN>.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode()):
        return HttpResponse("The metrics token is wrong.\n", status=403)
    return None


def serve_process_metrics(port: int) -> None:
    """Serve on ``port`` the samples every process of this container wrote to
    PROMETHEUS_MULTIPROC_DIR (gunicorn's workers, Celery's worker processes), outside Django: no
    host check and no sign-in, for a Prometheus inside the deployment's own network."""
    registry = prometheus_client.CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    prometheus_client.start_http_server(port, registry=registry)


class _DatabaseCollectorsForScrape:
    """The database collectors for an exporter outside Django's request cycle: each scrape runs in
    a thread of its own, which hands its database connection back once it has read the figures."""

    def describe(self):
        return []

    def collect(self):
        from django.db import connections

        try:
            for collector in _database_collectors:
                yield from collector.collect()
        finally:
            connections.close_all()


def serve_database_metrics(port: int) -> None:
    """Serve the figures read from the database (the event backlog gauges) on ``port``; beat, the
    one process of its kind, does, so Prometheus reads them once per deployment."""
    registry = prometheus_client.CollectorRegistry()
    registry.register(_DatabaseCollectorsForScrape())
    prometheus_client.start_http_server(port, registry=registry)


class PrometheusAfterMiddleware(django_prometheus.middleware.PrometheusAfterMiddleware):
    """django-prometheus's per-request metrics, the same names, labels and samples, for less.

    ``metric.labels()`` checks its label names and takes a lock on each call, nine times a request;
    here each labelled child is looked up once per process and then taken from a dict. The two
    headers it reads come from ``META``: ``request.headers`` would copy every header of the request.
    The response's metrics take their children by label values (the library builds keyword labels
    for each) and read the view's name, the charset and the body once each (the library twice).
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self._children = {}

    def label_metric(self, metric, request, response=None, **labels):
        if not labels:
            return metric
        key = (metric, *labels.items())
        try:
            return self._children[key]
        except KeyError:
            child = self._children[key] = metric.labels(**labels)
            return child

    def _child(self, metric, *label_values):
        # label_values in the order of the metric's label names
        key = (metric, label_values)
        try:
            return self._children[key]
        except KeyError:
            child = self._children[key] = metric.labels(*label_values)
            return child

    def process_request(self, request):
        self._child(self.metrics.requests_by_method, self._method(request)).inc()
        self._child(self.metrics.requests_by_transport, self._transport(request)).inc()
        if request.META.get("HTTP_X_REQUESTED_WITH") == "XMLHttpRequest":
            self.metrics.requests_ajax.inc()
        self.metrics.requests_body_bytes.observe(int(request.META.get("CONTENT_LENGTH") or 0))
        request.prometheus_after_middleware_event = Time()

    def process_view(self, request, view_func, *view_args, **view_kwargs):
        if hasattr(request, "resolver_match"):
            name = request.resolver_match.view_name or "<unnamed view>"
            metric = self.metrics.requests_by_view_transport_method
            self._child(metric, name, self._transport(request), self._method(request)).inc()

    def process_response(self, request, response):
        metrics = self.metrics
        method = self._method(request)
        view = self._get_view_name(request)
        status = str(response.status_code)
        self._child(metrics.responses_by_status, status).inc()
        self._child(metrics.responses_by_status_view_method, status, view, method).inc()
        charset = getattr(response, "charset", _ABSENT)
        if charset is not _ABSENT:
            self._child(metrics.responses_by_charset, str(charset)).inc()
        if getattr(response, "streaming", False):
            metrics.responses_streaming.inc()
        content = getattr(response, "content", _ABSENT)
        if content is not _ABSENT:
            metrics.responses_body_bytes.observe(len(content))
        if hasattr(request, "prometheus_after_middleware_event"):
            latency = TimeSince(request.prometheus_after_middleware_event)
            self._child(metrics.requests_latency_by_view_method, view, request.method).observe(latency)
        else:
            metrics.requests_unknown_latency.inc()
        return response
