"""The guide's two-tier cache: a small in-process L1 in front of Django's default cache (L2).

L2 is django-redis in production (shared by every app process and worker) and locmem in the
embedded mode. L1 is a bounded LRU per process with a short TTL (``CACHE_L1_MAX_SIZE``,
``CACHE_L1_TTL``); it saves L2 round trips and unpickling, never correctness:

- Values are filed under **namespaces** (``"day:2030-01-14"``, ``"caller:42"``). Each namespace
  has a version token in L2 and a value's key carries the versions it was computed under, so
  ``invalidate(namespace)`` is one L2 write however many values it drops, and every process sees
  it at its next read: a read asks L2 for the versions (one ``get_many``) before it trusts L1.
- A value is computed only after its versions were read, and invalidation happens after the
  change committed, so a value computed from stale rows is filed under a version nobody asks for.
- When L2 is unreachable every read is a miss and every write a no-op: logged, counted on
  ``studio_cache_errors_total``, never raised. Locks are then granted, since every job they
  guard is idempotent on its own (the lock only spares duplicate work). An invalidation L2 did
  not take is kept by the process, which reads those namespaces without the cache until L2 takes
  it, at its next invalidation or version read that L2 answers.

Within one request each namespace's version is read once, and the namespaces a request is going
to need can be announced (``announce``) so that its first read asks for them all at once: an API
request then checks its caller's and its day list's versions in one ``get_many``. On Redis that
read is usually answered in the process: Redis tracks the versions each thread read and tells it
when one changes (``photostudio.redis_cache.TrackedReads``), so a cached API read makes no round
trip at all. A change the request makes itself moves its own versions at once; a change another
process makes shows from the next read on (Redis writes its message in the same pass as the
writer's reply: a read racing that reply by microseconds may still see the old version).

Counters for rate limits (``take``) are counted in L2 but spent in leases: a process takes a share
of what is left of a limit in one increment and spends it locally, so most requests count without
a round trip.

A value filed without namespaces can only expire: each process may serve it from L1 for up to
``CACHE_L1_TTL`` seconds. Values, L1's in particular, are shared between callers: treat them as
read-only.
"""

import functools
import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime

import structlog
from django.conf import settings
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.db import models, transaction
from prometheus_client import Counter

from photostudio.replicas import primary_reads

logger = structlog.get_logger(__name__)

lookups = Counter("studio_cache_lookups", "Cache reads by tier (l1, l2) and result (hit, miss).", ["tier", "result"])
errors = Counter("studio_cache_errors", "Cache operations that failed because L2 was unreachable.", ["operation"])

_MISSING = object()
# Keys longer than this are hashed: memcached-style limits, and shorter Redis keys.
_MAX_KEY_LENGTH = 200
_SAFE_KEY = re.compile(r"[\x21-\x7e]*")
_UNSAFE_CHARACTER = re.compile(r"[^\x21-\x7e]")
_ERROR_LOG_INTERVAL = 60.0
# A version token that expires only turns its namespace's values into misses, so tokens need not
# live forever (one per day and per sign-in would pile up).
_VERSION_TTL = 7 * 24 * 3600
# take(): a lease is at most this many uses, and at most this share of what is left of a limit.
MAX_LEASE = 64
LEASE_SHARE = 32
_MAX_LEASES = 10_000


class _L1:
    """A thread-safe LRU of at most ``max_size`` entries, each kept at most ``ttl`` seconds."""

    def __init__(self, *, max_size: int, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.max_size = max_size
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, default=_MISSING):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            expires_at, value = entry
            if expires_at <= self._clock():
                del self._entries[key]
                return default
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value, ttl: float) -> None:
        if self.max_size <= 0 or ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + min(ttl, self.ttl), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class _RequestReads:
    """What the current request read from L2 so far, and what it announced for its next version read."""

    versions: dict[str, str] = field(default_factory=dict)
    announced: set[str] = field(default_factory=set)


@dataclass
class _Lease:
    """What this process may still spend of a counter, and the counter's value when it took it."""

    left: int
    counted: int


class TwoTierCache:
    """L1 in this process, L2 in Django's cache ``alias``; see the module docstring."""

    def __init__(self, *, alias: str = "default", l1_max_size: int, l1_ttl: float):
        self.alias = alias
        self.l1 = _L1(max_size=l1_max_size, ttl=l1_ttl)
        self._last_error_logged = 0.0
        self._request_reads: ContextVar[_RequestReads | None] = ContextVar(f"request_reads_{id(self)}", default=None)
        # The namespaces changed by this thread's open transaction, for L2 at its commit.
        self._committing: ContextVar[set[str] | None] = ContextVar(f"committing_{id(self)}", default=None)
        # The namespaces whose invalidation L2 did not take, each with a token of the last attempt.
        self._undelivered: dict[str, object] = {}
        self._undelivered_lock = threading.Lock()
        self._leases: dict[str, _Lease] = {}
        self._leases_lock = threading.Lock()

    @property
    def l2(self):
        return caches[self.alias]

    # --- reads and writes ------------------------------------------------------------------
    def get(self, key: str, *, namespaces: Iterable[str] = (), default=None):
        """The value filed under ``key`` in the current versions of ``namespaces``, or ``default``."""
        full_key = self._full_key(key, namespaces)
        if full_key is None:
            return default
        value = self._get(full_key)
        return default if value is _MISSING else value

    def set(self, key: str, value, *, namespaces: Iterable[str] = (), ttl: int | None = None) -> None:
        full_key = self._full_key(key, namespaces)
        if full_key is not None:
            self._set(full_key, value, ttl)

    def get_or_set(self, key: str, compute: Callable[[], object], *, namespaces: Iterable[str] = (), ttl=None):
        """The cached value, or ``compute()``'s, filed under the versions read *before* computing.
        A value to be filed is computed from the primary database, never from a replica that may
        not have the changes those versions count yet (``replicas.primary_reads``)."""
        full_key = self._full_key(key, namespaces)
        if full_key is None:
            return compute()
        value = self._get(full_key)
        if value is _MISSING:
            with primary_reads():
                value = compute()
            self._set(full_key, value, ttl)
        return value

    def refresh(self, key: str, compute: Callable[[], object], *, namespaces: Iterable[str] = (), ttl=None):
        """Compute and file the value whether or not one is cached (cache warming), from the
        primary as ``get_or_set``."""
        full_key = self._full_key(key, namespaces)
        if full_key is None:
            return compute()
        with primary_reads():
            value = compute()
        self._set(full_key, value, ttl)
        return value

    def versioned_key(self, key: str, *, namespaces: Iterable[str] = ()) -> str | None:
        """``key`` with the current version of each namespace, for ``get_versioned`` and
        ``set_versioned``; None when L2 cannot say (read as a miss, write nothing). A value filed
        again under a key obtained earlier cannot outlive an invalidation made in between."""
        return self._full_key(key, namespaces)

    def get_versioned(self, versioned_key: str, default=None):
        value = self._get(versioned_key)
        return default if value is _MISSING else value

    def set_versioned(self, versioned_key: str, value, *, ttl: int | None = None) -> None:
        self._set(versioned_key, value, ttl)

    def invalidate(self, *namespaces: str) -> bool:
        """Drop every value filed under any of ``namespaces``, in every process: one L2 write.
        False when L2 did not take it: until it does, this process reads those namespaces from
        their source alone, and writes them again with its next invalidation or version read
        that L2 answers (an outage that ends without a restart leaves L2 its old values)."""
        if not namespaces:
            return True
        with self._undelivered_lock:
            self._undelivered.update(dict.fromkeys(namespaces, object()))
        return self._deliver()

    def _deliver(self) -> bool:
        """Write new versions of every namespace whose invalidation L2 has yet to take, in one
        write; whether it took them."""
        with self._undelivered_lock:
            attempts = dict(self._undelivered)
        if not attempts:
            return True
        if not self._write_versions(attempts):
            return False
        with self._undelivered_lock:
            for ns, attempt in attempts.items():
                if self._undelivered.get(ns) is attempt:  # not invalidated again meanwhile
                    del self._undelivered[ns]
        return True

    def _write_versions(self, namespaces: Iterable[str]) -> bool:
        """Write new versions of ``namespaces`` to L2; whether it took them."""
        versions = {ns: _new_version() for ns in namespaces}
        # set_many answers the keys it could not write (a backend told to ignore its errors
        # raises none); django-redis's own answers None.
        refused = self._l2(
            "invalidate",
            lambda: self.l2.set_many({_version_key(ns): version for ns, version in versions.items()}, _VERSION_TTL),
            failed=_MISSING,
        )
        reads = self._request_reads.get()
        if reads is not None:
            # The request reads its own change whether or not L2 took it: whatever L2 still holds
            # under the old versions predates the change.
            reads.versions.update(versions)
        return refused is not _MISSING and not refused

    def invalidate_for_change(self, *namespaces: str) -> None:
        """``invalidate`` for a change being written: now for the writer's own reads, so the
        writing transaction reads its own write, and in L2 once it commits, so nothing computed
        from the rows as they were in between (another reader, before the commit) survives.

        Within a request the writer's reads go by the request's versions, which change at once
        without L2; every namespace a transaction changes then reaches L2 in one write, at its
        commit. Outside a request (a task, a command) L2 is written now as well.
        """
        if not namespaces:
            return
        if not transaction.get_connection().in_atomic_block:  # autocommit: already committed
            self.invalidate(*namespaces)
            return
        reads = self._request_reads.get()
        if reads is None:
            self.invalidate(*namespaces)
        else:
            reads.versions.update({ns: _new_version() for ns in namespaces})
        self._uncommitted().update(namespaces)
        # One callback per call, each writing whatever is still pending: a callback dropped with
        # a rolled-back savepoint loses nothing. Namespaces of a transaction rolled back as a
        # whole wait for this thread's next commit (dropping more values than needed is
        # harmless); those L2 does not take at the commit, ``invalidate`` keeps for later.
        transaction.on_commit(self._invalidate_committed)

    def _uncommitted(self) -> "set[str]":  # quoted: in this class, "set" names its method
        """The namespaces this thread changed that L2 has yet to be told of."""
        committing = self._committing.get()
        if committing is None:
            committing = set()
            self._committing.set(committing)
        return committing

    def _invalidate_committed(self) -> None:
        committing = self._committing.get()
        if committing:
            namespaces = sorted(committing)
            committing.clear()
            self.invalidate(*namespaces)

    def take(self, key: str, *, limit: int, ttl: int) -> bool:
        """Count one use of the counter ``key`` (expiring ``ttl`` seconds after its first use)
        and tell whether it is within ``limit``; True while L2 cannot count.

        A process counts in L2 a lease of up to ``1/LEASE_SHARE`` of what it last saw left of the
        limit (at most ``MAX_LEASE``, at least one; never granted beyond the limit) and spends it
        here first. Near the limit leases shrink to
        one use each, so one process is refused exactly at the limit; where uses move between
        processes, one may be refused while another still holds a few unspent, never let through
        beyond the limit.
        """
        with self._leases_lock:
            lease = self._leases.get(key)
            if lease is not None:
                if lease.left:
                    lease.left -= 1
                    return True
                if lease.counted >= limit:  # a counter only grows: refused without asking
                    return False
        size = max(1, min(MAX_LEASE, (limit - (lease.counted if lease else 0)) // LEASE_SHARE))
        counted = self._l2("count", lambda: _counted(self.l2, key, size, ttl), failed=None)
        if counted is None:
            return True
        granted = max(0, min(size, limit - (counted - size)))
        with self._leases_lock:
            # Another thread may have taken a lease of its own meanwhile: both are spent here.
            lease = self._leases.get(key)
            if lease is None:
                if len(self._leases) >= _MAX_LEASES:  # counters of windows gone by, mostly
                    self._leases.clear()
                lease = self._leases[key] = _Lease(left=0, counted=0)
            lease.left += max(0, granted - 1)
            lease.counted = max(lease.counted, counted)
        return granted > 0

    def clear_local(self) -> None:
        """Forget what this process keeps: L1's values, the leases of its counters and the
        invalidations L2 has yet to take."""
        self.l1.clear()
        with self._undelivered_lock:
            self._undelivered.clear()
        with self._leases_lock:
            self._leases.clear()

    # --- the request's versions ---------------------------------------------------------------
    def begin_request(self, **kwargs) -> None:
        """``request_started`` receiver: from here on each namespace's version is read once."""
        self._request_reads.set(_RequestReads())

    def end_request(self, **kwargs) -> None:
        """``request_finished`` receiver: outside a request every read asks L2 again."""
        self._request_reads.set(None)

    def announce(self, *namespaces: str) -> None:
        """The current request will read ``namespaces``: fetch their versions with its next
        version read. Outside a request, nothing."""
        reads = self._request_reads.get()
        if reads is not None:
            reads.announced.update(ns for ns in namespaces if ns not in reads.versions)

    # --- locks ------------------------------------------------------------------------------
    @contextmanager
    def lock(self, name: str, *, timeout: float | None = None, ttl: int | None = None) -> Iterator[bool]:
        """Hold the lock ``name`` across every process sharing L2; yields whether it was acquired.

        Waits up to ``timeout`` seconds (``CACHE_LOCK_TIMEOUT``) for another holder; the lock
        expires after ``ttl`` seconds (``CACHE_LOCK_TTL``) should its holder die. With L2
        unreachable the lock is granted (see the module docstring).
        """
        timeout = settings.CACHE_LOCK_TIMEOUT if timeout is None else timeout
        ttl = settings.CACHE_LOCK_TTL if ttl is None else ttl
        key, token = f"lock:{name}", secrets.token_hex(16)
        acquired = self._l2("lock", lambda: self._acquire(key, token, timeout=timeout, ttl=ttl), failed=None)
        if acquired is None:
            yield True
            return
        try:
            yield acquired
        finally:
            if acquired:
                self._l2("unlock", lambda: self._release(key, token))

    def _acquire(self, key: str, token: str, *, timeout: float, ttl: int) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            added = self.l2.add(key, token, ttl)
            if added is None:  # a backend told to ignore its errors (django-redis) could not answer
                raise ConnectionError("the cache did not answer")
            if added:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _release(self, key: str, token: str) -> None:
        # Only our own token: after an expiry the lock may belong to someone else now.
        if self.l2.get(key) == token:
            self.l2.delete(key)

    # --- internals --------------------------------------------------------------------------
    def _full_key(self, key: str, namespaces: Iterable[str]) -> str | None:
        """``key`` with the current version of each namespace; None when L2 cannot say which."""
        namespaces = sorted(set(namespaces))
        if not namespaces:
            return _bounded(key)
        versions = self._versions(namespaces)
        if versions is None:
            return None
        return _bounded(key + "|" + ",".join(f"{ns}={versions[ns]}" for ns in namespaces))

    def _versions(self, namespaces: list[str]) -> dict[str, str] | None:
        reads = self._request_reads.get()
        if reads is None:
            return self._read_versions(namespaces)
        known = reads.versions
        unknown = [ns for ns in namespaces if ns not in known]
        if unknown:
            read = self._read_versions(sorted({*unknown, *reads.announced}))
            if read is None:
                return None
            known.update(read)
            reads.announced.clear()
        return {ns: known[ns] for ns in namespaces}

    def _read_versions(self, namespaces: list[str]) -> dict[str, str] | None:
        """The versions of ``namespaces``; None when L2 cannot say, or has yet to take the
        invalidation of one of them."""
        keys = {ns: _version_key(ns) for ns in namespaces}
        found = self._l2("versions", lambda: _read_version_keys(self.l2, list(keys.values())), failed=None)
        if found is not None and self._undelivered:  # L2 answers again: it takes them before any read
            if self._deliver():
                found = self._l2("versions", lambda: _read_version_keys(self.l2, list(keys.values())), failed=None)
            with self._undelivered_lock:
                if not self._undelivered.keys().isdisjoint(namespaces):
                    return None
        if found is None:
            return None
        versions = {}
        for ns, version_key in keys.items():
            version = found.get(version_key)
            if version is None:
                # A namespace nobody has used (or L2 lost): start it at a fresh token, never at a
                # number an earlier life of the namespace may have had.
                self._l2("versions", lambda k=version_key: self.l2.add(k, _new_version(), _VERSION_TTL))
                version = self._l2("versions", lambda k=version_key: self.l2.get(k), failed=None)
                if version is None:
                    return None
            versions[ns] = version
        return versions

    def _get(self, full_key: str):
        value = self.l1.get(full_key)
        if value is not _MISSING:
            _count(lookups, "l1", "hit")
            return value
        _count(lookups, "l1", "miss")
        value = self._l2("get", lambda: self.l2.get(full_key, _MISSING), failed=_MISSING)
        if value is _MISSING:
            _count(lookups, "l2", "miss")
            return _MISSING
        _count(lookups, "l2", "hit")
        self.l1.set(full_key, value, self.l1.ttl)
        return value

    def _set(self, full_key: str, value, ttl: int | None) -> None:
        ttl = settings.CACHE_TTL if ttl is None else ttl
        if self._l2("set", lambda: self.l2.set(full_key, value, ttl), failed=_MISSING) is not _MISSING:
            self.l1.set(full_key, value, ttl)

    def _l2(self, operation: str, call: Callable[[], object], failed=None):
        """``call()`` against L2; on failure log (at most once a minute), count and return ``failed``."""
        try:
            return call()
        except Exception as exc:  # whatever the client raises, the cache must not break a request
            _count(errors, operation)
            now = time.monotonic()
            if now - self._last_error_logged >= _ERROR_LOG_INTERVAL:
                self._last_error_logged = now
                logger.warning("cache_unavailable", operation=operation, error=f"{type(exc).__name__}: {exc}")
            return failed


# Each counter's child per labels, looked up once per process: labels() checks its label values
# and takes a lock on every call, for every cache read.
_counter_children: dict[tuple, Counter] = {}


def _count(counter: Counter, *labels: str) -> None:
    # Under gunicorn's multi-process metrics a process without its samples directory cannot
    # count; the cache must work all the same.
    with suppress(OSError):
        key = (counter, labels)
        child = _counter_children.get(key)
        if child is None:
            child = _counter_children[key] = counter.labels(*labels)
        child.inc()


def _counted(l2, key: str, uses: int, ttl: int) -> int:
    """The counter ``key`` after adding ``uses``; a new counter expires in ``ttl`` seconds."""
    try:
        return l2.incr(key, uses)
    except ValueError:  # the counter's first count, or it expired just now
        if l2.add(key, uses, ttl):
            return uses
        return l2.incr(key, uses)


def _read_version_keys(l2, keys: list[str]) -> dict | None:
    """``get_many(keys)``, from what Redis keeps this thread told of where it can (see
    ``photostudio.redis_cache``)."""
    if hasattr(l2, "get_many_tracked"):
        return l2.get_many_tracked(keys)
    return l2.get_many(keys)


def _version_key(namespace: str) -> str:
    return f"ns:{namespace}"


def _new_version() -> str:
    return secrets.token_hex(6)


def _bounded(key: str) -> str:
    """``key`` as it is when short and free of spaces and control characters, else hashed."""
    if len(key) <= _MAX_KEY_LENGTH and _SAFE_KEY.fullmatch(key):
        return key
    return _UNSAFE_CHARACTER.sub("_", key[:100]) + "#" + hashlib.sha256(key.encode()).hexdigest()


def key_part(value) -> str:
    """A stable text for a cache key: ``label:pk`` for a model instance, ISO for dates."""
    if isinstance(value, models.Model):
        return f"{value._meta.label_lower}:{value.pk}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return "[" + ",".join(key_part(item) for item in items) + "]"
    return repr(value)


cache = TwoTierCache(l1_max_size=settings.CACHE_L1_MAX_SIZE, l1_ttl=settings.CACHE_L1_TTL)


def connect() -> None:
    request_started.connect(cache.begin_request, dispatch_uid="photostudio.cache.begin_request")
    request_finished.connect(cache.end_request, dispatch_uid="photostudio.cache.end_request")


def cached(ttl: int | None = None, key_prefix: str = ""):
    """The guide's ``@cached(ttl=300, key_prefix="bookings")``: the function's result per arguments,
    filed under the namespace ``key_prefix`` (default: the function's module and name), so
    ``@cache_invalidate("bookings:*")`` or ``cache.invalidate("bookings")`` drops them all."""

    def decorate(function):
        namespace = key_prefix or f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            key = f"{namespace}:" + key_part(args) + key_part(sorted(kwargs.items()))
            return cache.get_or_set(key, lambda: function(*args, **kwargs), namespaces=[namespace], ttl=ttl)

        wrapper.namespace = namespace
        return wrapper

    return decorate


def cache_invalidate(pattern: str):
    """The guide's ``@cache_invalidate("bookings:*")``: once the decorated command ran, every value
    filed under the namespace ``bookings`` is dropped (``TwoTierCache.invalidate_for_change``)."""
    if not pattern.endswith(":*") or len(pattern) < 3:
        raise ValueError(f"cache_invalidate takes a namespace pattern such as 'bookings:*', not {pattern!r}")
    namespace = pattern[:-2]

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            result = function(*args, **kwargs)
            cache.invalidate_for_change(namespace)
            return result

        return wrapper

    return decorate
