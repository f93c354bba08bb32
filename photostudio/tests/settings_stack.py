"""The production settings for the app processes the fault tests start, except for what plain
HTTP on loopback needs: static files served as they are (tests run no collectstatic) and
cookies that are not marked Secure."""

from photostudio.settings import *  # noqa: F403
from photostudio.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
