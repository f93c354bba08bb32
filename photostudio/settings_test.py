"""The real settings as the test suite reads them: a throwaway secret, fast password hashing,
no HTTPS redirect for the test client, and static files served without a collected manifest."""

import os

os.environ.setdefault("SECRET_KEY", "test-suite-secret-key-that-is-long-enough-for-hs256-signing")

from photostudio.settings import *  # noqa: E402,F403
from photostudio.settings import DATABASES, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Celery tasks run in process even when REDIS_URL is set, so every test sees the work queued
# after its commits; the integration tests that need a real worker switch this off themselves.
CELERY_TASK_ALWAYS_EAGER = True
# The event list shows an event as soon as it is committed, without the margin for app clocks.
EVENTS_LIST_SETTLE = 0
# The concurrency tests run each call on a connection of its own (photostudio.tests.concurrency):
# a pool as small as production's would hand them out one after another and let a missing lock
# pass unseen. Room for the largest of them, whatever DATABASE_POOL_SIZE says.
CONCURRENT_CALLS_MAX = 24
if "pool" in DATABASES["default"].get("OPTIONS", {}):
    _pool = DATABASES["default"]["OPTIONS"]["pool"]
    _pool["max_size"] = max(_pool["max_size"], CONCURRENT_CALLS_MAX + 2)
