"""``Idempotency-Key``: a client that retries a POST (after a timeout, a dropped connection)
gets the first answer again instead of creating a second booking.

The key is stored per caller with a fingerprint of the request and, in the same transaction as
the work, the response. A concurrent retry waits on the key's unique index until the first
request commits, then replays its answer; if the first request failed, nothing was stored and
the retry runs afresh. The same key with a different request is refused with 422
``idempotency_key_reused``. Keys are kept ``IDEMPOTENCY_KEY_TTL`` seconds; each new key of a
caller clears that caller's expired ones.
"""

import functools
import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from photostudio.errors import IdempotencyKeyReused, ValidationFailed
from photostudio.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Visible ASCII, as the IETF draft's examples (UUIDs, random strings) are.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def idempotent(view_method):
    """Decorates an APIView's ``post``: honours ``Idempotency-Key`` when the request carries one."""

    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        if not _KEY.fullmatch(key):
            message = "Use 1 to 255 visible ASCII characters, such as a UUID."
            raise ValidationFailed(message, details={HEADER: [message]})
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            record, first = _claim(caller=request.user, key=key, fingerprint=fingerprint)
            if not first:
                headers = {REPLAYED_HEADER: "true"} | ({"Location": record.location} if record.location else {})
                body = json.loads(record.response_text) if record.response_text else record.response_body
                return Response(body, status=record.status_code, headers=headers)
            response = view_method(view, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                # Only an answer that did something is replayed; the key stays free for a corrected retry.
                transaction.set_rollback(True)
                return response
            record.status_code, record.response_body = response.status_code, response.data
            record.response_text = json.dumps(response.data, cls=DjangoJSONEncoder)
            record.location = response.get("Location", "")
            record.save(update_fields=["status_code", "response_body", "response_text", "location"])
        return response

    return wrapper


def _fingerprint(request) -> str:
    path = request.path.rstrip("/")
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(f"{request.method} {path}\n{body}".encode()).hexdigest()


def _claim(*, caller, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """The caller's record of ``key`` and whether this request is the first to use it.

    Raises IdempotencyKeyReused when the key was used for a different request.
    """
    expired = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    IdempotencyKey.objects.filter(caller=caller, created_at__lt=expired).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(caller=caller, key=key, fingerprint=fingerprint), True
    except IntegrityError:
        # Another request with this key committed first (we waited for it on the unique index).
        record = IdempotencyKey.objects.get(caller=caller, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(details={"header": HEADER})
    return record, False


def prune_idempotency_keys(cutoff) -> int:
    """Delete keys stored before ``cutoff`` that are past IDEMPOTENCY_KEY_TTL; returns how many."""
    expired = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=min(cutoff, expired)).delete()
    return deleted
