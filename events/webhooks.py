"""Outbound webhooks: the signed JSON POST, and the guard that keeps it off internal networks.

Each POST carries the event as JSON and three headers: ``X-Studio-Event-Id`` (the same on every
retry, for deduplication), ``X-Studio-Timestamp`` (Unix seconds of this attempt) and
``X-Studio-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the secret>``.
docs/webhooks.md shows receivers how to verify it.

Targets must be http(s) and, unless ``WEBHOOKS_ALLOW_PRIVATE_TARGETS`` is on, public: the URL is
checked when an endpoint is saved, and the address actually connected to is checked again on
every attempt, so a host name that resolves (or later re-resolves) to a loopback, private,
link-local or otherwise non-public address is refused before anything is sent.
"""

import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError

from events.models import Event, WebhookEndpoint
from events.targets import private_targets_allowed, refused_address

SIGNATURE_HEADER = "X-Studio-Signature"
TIMESTAMP_HEADER = "X-Studio-Timestamp"
EVENT_ID_HEADER = "X-Studio-Event-Id"
EVENT_TYPE_HEADER = "X-Studio-Event"
USER_AGENT = "StudioCRM-Webhooks/1.0"
_RESPONSE_EXCERPT = 300


class TargetRefused(Exception):
    """The webhook URL points somewhere the studio does not send to."""


class WebhookTimedOut(Exception):
    """The receiver did not answer in full before the attempt's deadline."""


class WebhookRejected(Exception):
    """The receiver answered with something other than 2xx."""

    def __init__(self, message: str, *, response_status: int):
        super().__init__(message)
        self.response_status = response_status


@dataclass(frozen=True)
class WebhookResult:
    response_status: int
    outcome: str


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# The connections the running send() opened, for its deadline to cut.
_opened_connections: ContextVar[list[HTTPConnection] | None] = ContextVar("webhook_connections", default=None)


class _GuardedConnectionMixin:
    def _new_conn(self):
        sock = super()._new_conn()
        address = sock.getpeername()[0]
        if not private_targets_allowed() and refused_address(address):
            sock.close()
            raise TargetRefused(f"{self.host} resolves to {address}, a loopback, private or link-local address")
        opened = _opened_connections.get()
        if opened is not None:
            opened.append(self)
        return sock


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """Checks the peer address of every new connection, after DNS resolution."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def _session() -> requests.Session:
    session = requests.Session()
    # Proxies from the environment would make the proxy, not the target, the checked peer.
    session.trust_env = False
    adapter = _GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def event_body(event: Event) -> bytes:
    """The JSON document every endpoint receives for ``event``; identical on every retry."""
    document = {
        "id": event.pk,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "aggregate": {"type": event.aggregate_type, "id": event.aggregate_id},
        "actor_id": event.actor_id,
        "payload": event.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send(endpoint: WebhookEndpoint, event: Event) -> WebhookResult:
    """POST ``event`` to ``endpoint`` once. Raises on refusal, network failure or a non-2xx answer."""
    body = event_body(event)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: str(event.pk),
        EVENT_TYPE_HEADER: event.type,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(endpoint.secret, timestamp, body),
    }
    started = time.monotonic()
    # Streamed: the status decides, and only the start of a refusal's body is read. A receiver
    # that answers 2xx and keeps sending, or sends a huge or trickling answer, would otherwise hold
    # the worker past its lease, and the relay would send the event a second time.
    with (
        _deadline(2 * settings.WEBHOOKS_TIMEOUT),
        _session() as session,
        session.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOKS_TIMEOUT,
            allow_redirects=False,
            stream=True,
        ) as response,
    ):
        elapsed_ms = round((time.monotonic() - started) * 1000)
        if not 200 <= response.status_code < 300:
            excerpt = _excerpt(response)
            raise WebhookRejected(f"HTTP {response.status_code}: {excerpt}", response_status=response.status_code)
    return WebhookResult(
        response_status=response.status_code, outcome=f"HTTP {response.status_code} in {elapsed_ms} ms"
    )


@contextmanager
def _deadline(seconds: int):
    """Cut the connections opened inside once ``seconds`` have passed, and raise WebhookTimedOut:
    the timeout of requests bounds each wait for a byte, not the answer, which a receiver may
    send a byte at a time. A cut answer may look whole (headers end at the cut), so whatever was
    read is discarded."""
    opened: list[HTTPConnection] = []
    cut = threading.Event()

    def cut_connections():
        cut.set()
        for connection in opened:
            # The connection's socket as it is now: for HTTPS the TLS socket, which took over the
            # plain one (left without a file descriptor) once the handshake began.
            if (sock := connection.sock) is not None:
                with suppress(OSError):  # closed already
                    sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, cut_connections)
    token = _opened_connections.set(opened)
    timer.start()
    timed_out = WebhookTimedOut(f"no complete answer within {seconds} seconds")
    try:
        yield
    except Exception as exc:
        if cut.is_set():
            raise timed_out from exc
        raise
    finally:
        timer.cancel()
        _opened_connections.reset(token)
    if cut.is_set():
        raise timed_out


def _excerpt(response: requests.Response) -> str:
    """The first characters of the answer, read for at most ``WEBHOOKS_TIMEOUT`` seconds more."""
    deadline = time.monotonic() + settings.WEBHOOKS_TIMEOUT
    received = b""
    try:
        while len(received) < _RESPONSE_EXCERPT and time.monotonic() < deadline:
            chunk = response.raw.read1(_RESPONSE_EXCERPT - len(received), decode_content=True)
            if not chunk:
                break
            received += chunk
    except (HTTPError, OSError):  # a receiver that stops or stalls mid-answer: what came is the excerpt
        pass
    return received.decode(response.encoding or "utf-8", errors="replace")[:_RESPONSE_EXCERPT]
