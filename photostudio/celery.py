"""The Celery app. Eager in process on the embedded default; Redis-brokered workers with REDIS_URL."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photostudio.settings")

app = Celery("photostudio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
