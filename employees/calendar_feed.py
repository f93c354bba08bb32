"""The secret in an employee's calendar feed URL.

Each employee has a random ``calendar_feed_key``; the token in their feed URL is that key followed
by an HMAC of it under SECRET_KEY. So the database never holds a working token (a copy of it opens
no feed without the secret key), yet the profile can show the URL again at any time, and a new
key (``services.regenerate_calendar_feed``) ends the old URL at once. The token opens the feed and
nothing else: no page, no API call. A new SECRET_KEY changes every feed URL, as it ends every
sign-in.
"""

import base64
import functools
import secrets

from django.conf import settings
from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.crypto import constant_time_compare, salted_hmac

# secrets.token_urlsafe(16) is 22 characters long.
KEY_LENGTH = 22
_SALT = "employees.calendar_feed"


def new_key() -> str:
    return secrets.token_urlsafe(16)


def token_for(key: str) -> str:
    return key + _signature(key)


def key_of(token: str) -> str | None:
    """The key ``token`` was made from when its signature holds, else None (without a query)."""
    key, signature = token[:KEY_LENGTH], token[KEY_LENGTH:]
    if len(key) != KEY_LENGTH or not signature:
        return None
    return key if constant_time_compare(signature, _signature(key)) else None


def feed_url(employee, request) -> str:
    """The absolute URL of ``employee``'s calendar feed (served by bookings as ``calendar-feed``)."""
    path = _feed_path(token_for(employee.calendar_feed_key), get_script_prefix(), get_resolver(get_urlconf()))
    return request.build_absolute_uri(path)


# Reversed once per token, script prefix and URLconf in a process: every profile read shows the URL again.
@functools.lru_cache(maxsize=4096)
def _feed_path(token: str, script_prefix: str, resolver) -> str:
    return reverse("calendar-feed", kwargs={"token": token})


def _signature(key: str) -> str:
    return _signature_under(key, settings.SECRET_KEY)


# Every profile read shows the URL again: the HMAC of the same key under the same secret is the
# same, so a process signs each key once (a new key or a new SECRET_KEY is a new entry).
@functools.lru_cache(maxsize=4096)
def _signature_under(key: str, secret: str) -> str:
    digest = salted_hmac(_SALT, key, secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
