"""A minimal SMTP server on 127.0.0.1 that keeps every message it is sent, for tests whose mail
leaves another process (a Celery worker) through Django's real SMTP backend."""

import email
import email.policy
import socketserver
import threading
from email.message import EmailMessage


class SmtpSink:
    """``stall_sessions``: the first that many connections are accepted and never greeted, as by
    a mail server that hangs; ``stalled`` is set when one is."""

    def __init__(self, *, stall_sessions: int = 0):
        self.messages: list[EmailMessage] = []
        self.stalled = threading.Event()
        self._stalls_left = stall_sessions
        sink = self

        class Session(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                if sink._stalls_left > 0:
                    sink._stalls_left -= 1
                    sink.stalled.set()
                    self.rfile.read()  # until the client goes away
                    return
                self.reply("220 sink ready")
                data: list[bytes] | None = None
                while line := self.rfile.readline():
                    if data is not None:
                        if line.rstrip(b"\r\n") == b".":
                            sink.messages.append(email.message_from_bytes(b"".join(data), policy=email.policy.default))
                            data = None
                            self.reply("250 queued")
                        else:
                            data.append(line[1:] if line.startswith(b"..") else line)
                        continue
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        self.reply("250 sink")
                    elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                        self.reply("250 OK")
                    elif verb == b"DATA":
                        data = []
                        self.reply("354 end with <CRLF>.<CRLF>")
                    elif verb == b"QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
