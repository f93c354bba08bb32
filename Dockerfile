# Production image: gunicorn serving Django, static files collected at build and served by
# whitenoise. The same image runs the web app, Celery workers, Celery beat and migrations
# (see docker/entrypoint.sh and docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus

WORKDIR /app
RUN useradd --create-home --uid 10001 studio

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings to load; this throwaway key exists only during the build step.
RUN SECRET_KEY=collectstatic-only-build-key-not-used-at-run-time-000000 python manage.py collectstatic --noinput \
    && chmod +x docker/entrypoint.sh

USER studio
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
