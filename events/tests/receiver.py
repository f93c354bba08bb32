"""A real HTTP server on 127.0.0.1 that records webhook POSTs and answers as scripted."""

import json
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int
    at: float  # time.monotonic() when the request arrived

    @property
    def event_id(self) -> int:
        return json.loads(self.body)["id"]


class WebhookReceiver:
    def __init__(self, *, certificate: tuple[str, str] | None = None):
        """``certificate``: the paths of a certificate and its key, to answer over HTTPS."""
        self.received: list[Received] = []
        self._answers: dict[str, list[int]] = {}
        self._delays: dict[str, float] = {}
        self._bodies: dict[str, tuple[bytes, float]] = {}
        self._header_pauses: dict[str, float] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrived = time.monotonic()
                time.sleep(receiver._delays.get(self.path, 0))
                if self.path in receiver._header_pauses:
                    self._trickle_headers(receiver._header_pauses[self.path])
                    return
                with receiver._lock:
                    scripted = receiver._answers.get(self.path, [])
                    status = scripted.pop(0) if scripted else 200
                    receiver.received.append(Received(self.path, dict(self.headers), body, status, arrived))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                body, pause = receiver._bodies.get(self.path, (b"ok" if status < 300 else b"try again later", 0))
                for piece in [body[i : i + 1] for i in range(len(body))] if pause else [body]:
                    self.wfile.write(piece)
                    self.wfile.flush()
                    time.sleep(pause)

            def _trickle_headers(self, pause):
                self.wfile.write(b"HTTP/1.0 200 OK\r\n")
                for byte in b"X-Padding: " + b"." * 40 + b"\r\n\r\n":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(pause)

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        host, port = self._server.server_address
        return f"{self._scheme}://{host}:{port}{path}"

    def answer(self, path: str, *statuses: int) -> None:
        """Answer the next requests to ``path`` with ``statuses``, then 200."""
        self._answers[path] = list(statuses)

    def delay(self, path: str, seconds: float) -> None:
        """Answer requests to ``path`` only after ``seconds``."""
        self._delays[path] = seconds

    def reply(self, path: str, body: bytes, *, trickle: float = 0) -> None:
        """Answer requests to ``path`` with ``body``, a byte every ``trickle`` seconds when given."""
        self._bodies[path] = (body, trickle)

    def trickle_headers(self, path: str, *, pause: float) -> None:
        """Answer requests to ``path`` with headers sent a byte every ``pause`` seconds."""
        self._header_pauses[path] = pause

    def to(self, path: str) -> list[Received]:
        with self._lock:
            return [request for request in self.received if request.path == path]
