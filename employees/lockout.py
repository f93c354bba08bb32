"""django-axes with the guide's rate limit: a sliding window of failures and a fixed-length lock.

``RATE_LIMIT_MAX_ATTEMPTS`` failed sign-ins of one username within the last ``RATE_LIMIT_WINDOW``
seconds lock that username for ``RATE_LIMIT_LOCK_DURATION`` seconds, counted from the failure
that reached the limit. Axes by itself counts every failure since the first one that has not
cooled off, so five typos spread over an afternoon would lock; this handler counts only recent
ones:

- every failure is one ``AccessFailureLog`` row (axes' own per-failure log) and only rows newer
  than the window are counted;
- the ``AccessAttempt`` row of the username, address and browser (what the axes admin lists)
  holds that count and the time of the latest failure; once the count reached the limit, that
  time is when the lock began. Attempts refused during a lock are not failures, so the lock
  neither grows nor restarts.
- deleting ``AccessAttempt`` rows (a successful sign-in, a manager's unlock, ``axes_reset``, the
  expiry clean-up) deletes their failure rows too, so an unlocked username starts from zero.

Counting is exact under concurrency: ``guesses_in_turn`` makes "is it locked?", the password or
code check and the recorded failure one transaction per username, so parallel guesses queue up
and at most ``RATE_LIMIT_MAX_ATTEMPTS`` of them are ever checked.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_parameters, get_client_username, get_failure_limit
from axes.models import AccessAttempt, AccessFailureLog
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone


def window() -> timedelta:
    return timedelta(seconds=settings.RATE_LIMIT_WINDOW)


def lock_duration() -> timedelta:
    return timedelta(seconds=settings.RATE_LIMIT_LOCK_DURATION)


@contextmanager
def guesses_in_turn(username: str) -> Iterator[None]:
    """Run one guess at ``username``'s password or code while no other guess at it runs.

    The employee's row is locked for the transaction (PostgreSQL; SQLite's IMMEDIATE transactions
    run one at a time anyway), so the next guess sees this one's failure before it is checked.
    A username that belongs to nobody has no password to guess and is not serialised.
    """
    with transaction.atomic(using=router.db_for_write(AccessAttempt)):
        list(get_user_model().objects.select_for_update().filter(username=username).values_list("pk", flat=True))
        yield


def lock_started(username_field: str = "username"):
    """When the current lock of a username began, as a subquery on ``username_field`` of the outer rows."""
    return Subquery(
        AccessAttempt.objects.filter(
            username=OuterRef(username_field),
            failures_since_start__gte=settings.RATE_LIMIT_MAX_ATTEMPTS,
            attempt_time__gt=timezone.now() - lock_duration(),
        )
        .order_by()
        .values("username")
        .annotate(started=Max("attempt_time"))
        .values("started")[:1]
    )


class WindowedLockoutHandler(AxesDatabaseHandler):
    def _filters(self, request, credentials) -> list[dict]:
        username = get_client_username(request, credentials)
        return get_client_parameters(username, request.axes_ip_address, request.axes_user_agent, request, credentials)

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """Failures within the window, for the lockout parameter that has the most."""
        since = request.axes_attempt_time - window()
        return max(
            AccessFailureLog.objects.filter(**filters, attempt_time__gt=since).count()
            for filters in self._filters(request, credentials)
        )

    def locked_until(self, request, credentials: dict | None = None) -> datetime | None:
        """When the current lock of this username (or username and address) ends; None if unlocked."""
        lock_started = AccessAttempt.objects.none()
        for filters in self._filters(request, credentials):
            lock_started = lock_started | AccessAttempt.objects.filter(**filters)
        started = lock_started.filter(
            failures_since_start__gte=get_failure_limit(request, credentials),
            attempt_time__gt=request.axes_attempt_time - lock_duration(),
        ).aggregate(latest=Max("attempt_time"))["latest"]
        return None if started is None else started + lock_duration()

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return self.locked_until(request, credentials) is not None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            return
        if request.axes_locked_out:
            # The axes backend refused the attempt because of a running lock.
            request.axes_credentials = credentials
            return
        if self.is_whitelisted(request, credentials):
            return
        self.clean_expired_user_attempts(request, credentials)
        username = get_client_username(request, credentials)
        client = {
            "username": username,
            "ip_address": request.axes_ip_address,
            "user_agent": request.axes_user_agent,
        }
        details = {"http_accept": request.axes_http_accept, "path_info": request.axes_path_info}
        with transaction.atomic(using=router.db_for_write(AccessAttempt)):
            failure = AccessFailureLog.objects.create(**client, **details)
            failures = self.get_failures(request, credentials)
            locked = failures >= get_failure_limit(request, credentials)
            AccessAttempt.objects.update_or_create(
                **client,
                defaults={**details, "failures_since_start": failures, "attempt_time": request.axes_attempt_time},
                create_defaults={**details, "failures_since_start": failures, "get_data": "", "post_data": ""},
            )
            if locked:
                failure.locked_out = True
                failure.save(update_fields=["locked_out"])
        request.axes_failures_since_start = failures
        if locked:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)

    def post_delete_access_attempt(self, instance, **kwargs):
        AccessFailureLog.objects.filter(
            username=instance.username, ip_address=instance.ip_address, user_agent=instance.user_agent
        ).delete()
