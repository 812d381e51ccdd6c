"""Real local receivers for notification tests: an HTTP webhook receiver for apprise's ``json://``
and ``form://`` and an SMTP server (aiosmtpd) for ``mailto://``.

    with WebhookReceiver() as hook:
        hook.url("json", "/ok")        # answers 200 and records what it got
        hook.accept("/en")             # one more path answering 200 (another destination)
        hook.url("json", "/fail")      # answers 500
        hook.url("json", "/slow")      # answers 200 after ``slow_seconds`` (longer than a client timeout)
        hook.url("json", "/hold")      # waits until ``hook.release()`` (for crash tests), then 200
        hook.url("xml", "/ok")         # any apprise web scheme: every request is recorded
        down_url("json")               # a port nobody listens on
        hook.messages("/ok")           # [{"title": ..., "message": ...}, ...]
        hook.keys("/ok")               # the Idempotency-Key header of each request, in order
        hook.deduplicated("/ok")       # the messages a receiver honouring that key keeps

    with SmtpReceiver() as smtp:
        smtp.url(to="ops@example.com") # mailto:// for plain SMTP on 127.0.0.1
        smtp.messages                  # [email.message.EmailMessage, ...]
"""
from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl

from aiosmtpd.controller import Controller

from tests.support.servers import FixtureServer, Reply, Request


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on (just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def down_url(scheme: str = "json", path: str = "/down") -> str:
    """An apprise URL to a port with no server behind it."""
    return f"{scheme}://127.0.0.1:{free_port()}{path}"


def decode(req: Request) -> dict[str, Any]:
    """The fields apprise posted: JSON for json://, form fields for form://."""
    ctype = req.headers.get("content-type", "")
    text = req.body.decode("utf-8", "replace")
    if "json" in ctype:
        return dict(json.loads(text))
    if "multipart" in ctype:
        msg = email.message_from_bytes(f"Content-Type: {ctype}\r\n\r\n".encode() + req.body,
                                       policy=email.policy.default)
        return {part.get_param("name", header="content-disposition"): part.get_content()
                for part in msg.iter_parts()}
    return dict(parse_qsl(text, keep_blank_values=True))


class WebhookReceiver:
    """An HTTP server with one route per behaviour, recording every request."""

    def __init__(self, slow_seconds: float = 5.0) -> None:
        self.server = FixtureServer()
        self.slow_seconds = slow_seconds
        self.gate = threading.Event()
        self.hold_after = 0  # /hold answers at once for this many requests, then waits for release()
        self._held = 0  # requests /hold has seen since the last hold()
        self._lock = threading.Lock()
        self.server.route("/ok", "ok")
        self.server.route("/fail", "boom", status=500)
        self.server.route("/slow", handler=self._slow)
        self.server.route("/hold", handler=self._hold)

    def _slow(self, _req: Request) -> Reply:
        time.sleep(self.slow_seconds)
        return Reply(200, b"late")

    def _hold(self, _req: Request) -> Reply:
        with self._lock:
            self._held += 1
            wait = self._held > self.hold_after
            gate = self.gate
        if wait:
            gate.wait(60)
        return Reply(200, b"ok")

    def accept(self, path: str) -> str:
        """Answer 200 on ``path`` too (another destination on this receiver); returns ``path``."""
        self.server.route(path, "ok")
        return path

    def release(self) -> None:
        self.gate.set()

    def hold(self, after: int = 0) -> None:
        """Hold /hold again: answer ``after`` more requests at once, then wait for ``release()``."""
        with self._lock:
            self.gate = threading.Event()
            self.hold_after = after
            self._held = 0

    def keys(self, path: str) -> list[str | None]:
        """The ``Idempotency-Key`` header of each request to ``path``, in order (None when absent)."""
        return [r.headers.get("idempotency-key") for r in self.requests(path)]

    def deduplicated(self, path: str) -> list[Request]:
        """The requests to ``path`` a receiver that honours ``Idempotency-Key`` keeps: the first
        request with each key (and every request without one)."""
        seen: set[str] = set()
        kept = []
        for r in self.requests(path):
            key = r.headers.get("idempotency-key")
            if key is None or key not in seen:
                kept.append(r)
            if key is not None:
                seen.add(key)
        return kept

    def url(self, scheme: str = "json", path: str = "/ok") -> str:
        return f"{scheme}://{self.server.host}:{self.server.port}{path}"

    def requests(self, path: str) -> list[Request]:
        return [r for r in list(self.server.requests) if r.path.split("?", 1)[0] == path]

    def messages(self, path: str = "/ok") -> list[dict[str, Any]]:
        return [decode(r) for r in self.requests(path)]

    def wait_for(self, path: str, count: int, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests(path)) >= count:
                return True
            time.sleep(0.02)
        return False

    def __enter__(self) -> WebhookReceiver:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.gate.set()
        self.server.stop()


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        raw = envelope.original_content or envelope.content
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpReceiver:
    """A plain SMTP server on 127.0.0.1 recording every message."""

    def __init__(self) -> None:
        self.recorder = _Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.recorder.messages

    def url(self, to: str = "alerts@example.com", sender: str = "policywatch@example.com") -> str:
        """An apprise mailto:// URL for this server: plain SMTP, no TLS, no login."""
        return f"mailto://127.0.0.1:{self.port}?to={to}&from={sender}&mode=insecure"

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
