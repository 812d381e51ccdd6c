"""A real HTTP server on 127.0.0.1 for tests: serves fixture feeds and pages, and records requests.

    with FixtureServer() as srv:
        srv.route("/feed.xml", body=rss_bytes, headers={"Content-Type": "application/rss+xml"})
        srv.route("/slow", handler=lambda req: time.sleep(5) or Reply(200, b"late"))
        url = srv.url("/feed.xml")

A route is either a fixed ``Reply`` or a handler called with the ``Request`` that returns one.
``srv.requests`` lists every request received, in order.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # when set, the body is sent in these chunks (a generator may sleep between them or stop early)
    chunks: Any = None


Handler = Callable[[Request], Reply]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up early (a fetcher stopping at its size cap) is expected here
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class FixtureServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with outer._lock:
                    outer.requests.append(req)
                path = self.path.split("?", 1)[0]
                handler = outer.routes.get(self.path) or outer.routes.get(path)
                reply = handler(req) if handler else Reply(404, b"not found")
                try:
                    self.send_response(reply.status)
                    headers = {k.lower(): v for k, v in reply.headers.items()}
                    if reply.chunks is None:
                        headers.setdefault("content-length", str(len(reply.body)))
                    else:
                        headers.setdefault("connection", "close")
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if self.command == "HEAD":
                        return
                    if reply.chunks is None:
                        self.wfile.write(reply.body)
                    else:
                        for chunk in reply.chunks:
                            self.wfile.write(chunk)
                            self.wfile.flush()
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_HEAD = do_PUT = _serve

        self.httpd = _QuietServer((host, port), _H)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[0], self.httpd.server_address[1]
        # a short poll interval keeps stop() (and so every test's teardown) under 0.1 s
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def route(self, path: str, body: bytes | str = b"", *, status: int = 200,
              headers: dict[str, str] | None = None, handler: Handler | None = None) -> None:
        if handler is None:
            data = body.encode("utf-8") if isinstance(body, str) else body
            reply = Reply(status, data, dict(headers or {}))
            handler = lambda _req: reply  # noqa: E731
        self.routes[path] = handler

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> FixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
