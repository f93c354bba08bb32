"""Read replicas (``DATABASE_REPLICA_URLS``): the read-only selectors behind lists, the calendar
and reports read from a streaming replica; everything else reads and writes on the primary.

A caller never misses their own write: once a request has written, its later reads go to the
primary, and so do the caller's requests for ``DATABASE_REPLICA_PIN_SECONDS`` after it (a cookie),
longer than a healthy replica lags. What the cache keeps for every caller is computed from the
primary (``primary_reads``). A replica that cannot be reached is left alone for a while and its
reads go to the primary.
"""

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = structlog.get_logger(__name__)

REPLICA_PREFIX = "replica_"
PIN_COOKIE = "studio_read_primary"
# How long a replica that failed to connect is skipped before it is tried again.
RETRY_UNREACHABLE_AFTER = 30

_wrote = ContextVar("wrote_to_primary", default=False)
_recently_wrote = ContextVar("recently_wrote_to_primary", default=False)
_computing_shared = ContextVar("computing_a_shared_value", default=False)
_unreachable_until: dict[str, float] = {}


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


def read_alias() -> str:
    """The database a read-only selector should read from: a reachable replica, or the primary
    when there is none, inside a transaction, when this caller has just written, or for a value
    kept for everyone (``primary_reads``)."""
    aliases = replica_aliases()
    if (
        not aliases
        or _wrote.get()
        or _recently_wrote.get()
        or _computing_shared.get()
        or connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return DEFAULT_DB_ALIAS
    for alias in random.sample(aliases, len(aliases)):
        if _reachable(alias):
            return alias
    return DEFAULT_DB_ALIAS


@contextmanager
def primary_reads() -> Iterator[None]:
    """Read from the primary inside: for a value computed once and kept for every caller (the
    cache's). Filed under the versions a change has already moved on, a replica's rows from
    before the change would be served to everyone, the clerk who made it included."""
    token = _computing_shared.set(True)
    try:
        yield
    finally:
        _computing_shared.reset(token)


def _reachable(alias: str) -> bool:
    if time.monotonic() < _unreachable_until.get(alias, 0):
        return False
    connection = connections[alias]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except DatabaseError as exc:
        _unreachable_until[alias] = time.monotonic() + RETRY_UNREACHABLE_AFTER
        logger.warning("replica_unreachable", alias=alias, error=f"{type(exc).__name__}: {exc}")
        return False
    return True


class PrimaryRouter:
    """Every write, and every read not sent elsewhere by ``read_alias``, goes to the primary;
    a write also keeps the rest of the request (and, through the middleware, the caller's next
    requests) on the primary."""

    def db_for_read(self, model, **hints):
        return None  # the primary, or the database the related instance came from

    def db_for_write(self, model, **hints):
        _wrote.set(True)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # replicas hold the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReadYourWritesMiddleware:
    """Keeps a caller on the primary for a while after they wrote (the ``studio_read_primary``
    cookie), so the booking a clerk just made is on the next page they open."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        wrote = _wrote.set(False)
        recently_wrote = _recently_wrote.set(PIN_COOKIE in request.COOKIES)
        try:
            response = self.get_response(request)
            if _wrote.get():
                response.set_cookie(
                    PIN_COOKIE,
                    "1",
                    max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
        finally:
            _wrote.reset(wrote)
            _recently_wrote.reset(recently_wrote)
        return response
