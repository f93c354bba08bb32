import logging
import re
import secrets
import time

import structlog
from django.contrib.messages import middleware as messages_middleware
from django.contrib.messages.storage import default_storage
from django.utils.functional import SimpleLazyObject, empty

from photostudio.logs import ACCESS_LOGGER, clear_contextvars

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")

# A plain logging logger: photostudio.logs.JsonFormatter renders its lines (see there why).
access_log = logging.getLogger(ACCESS_LOGGER)


class RequestIdMiddleware:
    """Give every request an id (the caller's X-Request-ID when it is sane), log one line per
    request carrying it, and return it in the response header so a user can quote it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = offered if _ACCEPTED_REQUEST_ID.match(offered) else secrets.token_hex(16)
        clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request.id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.id
        user = getattr(request, "user", None)
        _log_access(
            {
                "method": request.method,
                # A view whose address holds a secret (a calendar feed's) gives it without
                # (photostudio.logs.SecretPathFilter does the same for Django's own lines).
                "path": getattr(request, "logged_path", request.path),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "event": "request",
                "request_id": request.id,
            }
        )
        clear_contextvars()
        return response


def _log_access(line: dict) -> None:
    # Logger.info would first walk the stack for the caller's file and line, which the JSON line
    # does not show; the record goes to the same filters and handlers without that walk.
    if access_log.isEnabledFor(logging.INFO):
        access_log.handle(access_log.makeRecord(ACCESS_LOGGER, logging.INFO, "", 0, line, (), None))


class LivenessProbeMiddleware:
    """Answer ``GET /health`` before the host check: container health checks and load balancers
    probe with their own address as Host, which ALLOWED_HOSTS rightly does not list."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.rstrip("/") == "/health":
            from photostudio import health

            return health.app(request)
        return self.get_response(request)


def client_ip(request) -> str | None:
    """The caller's address behind PROXY_COUNT reverse proxies (the lockout's IP bucket).

    Each trusted proxy appends the address it saw to X-Forwarded-For, so the client is the entry
    PROXY_COUNT places from the right; anything further left was written by the client and is
    ignored. With no proxy, or a shorter header than promised, it is the peer's own address.
    """
    from django.conf import settings

    proxies = settings.AXES_IPWARE_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's, with the message storage made when a message is first added or read.

    Django builds the cookie-and-session storage on every request and saves it on every response;
    the API, most requests, neither adds nor shows messages. A storage never made holds nothing,
    so there is nothing to save.
    """

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        stored = getattr(request, "_messages", None)
        if isinstance(stored, SimpleLazyObject) and stored._wrapped is empty:
            return response
        return super().process_response(request, response)
