#!/bin/sh
# One image, several roles: web (gunicorn), worker and beat (Celery), migrate (one-shot),
# or any other command given verbatim. docker-compose.yml and `make smoke` run these roles.
set -eu

role="${1:-web}"
[ "$#" -gt 0 ] && shift

# A bad setting stops the role here with manage.py's one-line "Configuration error: ..." instead
# of a traceback from deep inside gunicorn or Celery.
preflight() {
  python manage.py check --fail-level ERROR >/dev/null
}

# Each process writes its Prometheus samples here; METRICS_PORT serves the container's sum. Made
# before anything imports the app: a metric defined at import writes its file at once.
fresh_metrics_dir() {
  if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  fi
}

case "$role" in
  web)
    fresh_metrics_dir
    preflight
    exec gunicorn photostudio.wsgi:application --config python:photostudio.gunicorn "$@"
    ;;
  worker)
    # A Celery worker process runs one task at a time: one connection, whatever GUNICORN_THREADS says.
    export DATABASE_POOL_SIZE="${DATABASE_POOL_SIZE:-1}"
    fresh_metrics_dir
    preflight
    exec celery -A photostudio worker --loglevel "${LOG_LEVEL:-INFO}" "$@"
    ;;
  beat)
    export DATABASE_POOL_SIZE="${DATABASE_POOL_SIZE:-1}"
    fresh_metrics_dir
    preflight
    exec celery -A photostudio beat --loglevel "${LOG_LEVEL:-INFO}" --schedule /tmp/celerybeat-schedule "$@"
    ;;
  migrate)
    # One connection at a time, as docs/operations.md's connection budget counts it.
    export DATABASE_POOL_SIZE="${DATABASE_POOL_SIZE:-1}"
    python manage.py migrate --noinput
    if [ -n "${DJANGO_SUPERUSER_PASSWORD:-}" ]; then
      # The first admin only: once the studio has one, renaming it or changing its role must not
      # fail this role, which would keep the app, worker and beat from starting.
      python manage.py create_admin --username "${DJANGO_SUPERUSER_USERNAME:-admin}" --email "${DJANGO_SUPERUSER_EMAIL:-}" --if-no-admin
    fi
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
