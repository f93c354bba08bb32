#!/bin/sh
# One image, several roles: web (gunicorn), worker and beat (Celery), migrate (one-shot),
# or any other command given verbatim.
set -eu

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
  web)
    if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
      rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    fi
    exec gunicorn photostudio.wsgi:application --config python:photostudio.gunicorn "$@"
    ;;
  worker)
    exec celery -A photostudio worker --loglevel "${LOG_LEVEL:-INFO}" "$@"
    ;;
  beat)
    exec celery -A photostudio beat --loglevel "${LOG_LEVEL:-INFO}" --schedule /tmp/celerybeat-schedule "$@"
    ;;
  migrate)
    python manage.py migrate --noinput
    if [ -n "${DJANGO_SUPERUSER_PASSWORD:-}" ]; then
      python manage.py create_admin --username "${DJANGO_SUPERUSER_USERNAME:-admin}" --email "${DJANGO_SUPERUSER_EMAIL:-}"
    fi
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
