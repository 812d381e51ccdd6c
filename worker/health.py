"""Health for supervisors: an HTTP endpoint for ``run`` and a heartbeat file for ``once``.

``settings.yaml``::

    health:
      listen: "127.0.0.1:9464"    # host:port of /healthz and /metrics; absent or "" = no server
      stuck_after_seconds: 900    # a pass with no source or article finished this long is stuck

``GET /healthz`` answers 200 ``ok`` when the scheduler ticked recently, no pass is stuck and the
database answers ``SELECT 1``; otherwise 503 with one line saying which of those failed. ``GET
/metrics`` is the Prometheus exposition of ``worker.metrics``.

``heartbeat.json`` in the data directory is rewritten after every ``once`` and every ``run`` tick
(time, pid, command, summary), for cron and timer set-ups: a check such as ``find
$POLICYWATCH_DATA_DIR/heartbeat.json -mmin -40`` (two missed 15-minute passes) tells a monitor
the worker is alive without any server.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import text

from worker import metrics
from worker.errors import ConfigError
from worker.settings import Settings

log = logging.getLogger("policywatch.health")

HEARTBEAT_FILE = "heartbeat.json"
#: A scheduler that missed this many ticks in a row is not running any more.
MISSED_TICKS = 3
#: Longer than any one article or feed can take (a few 20 s fetches plus extraction), far shorter
#: than a pass over hundreds of sources, which reports progress after each source and article.
DEFAULT_STUCK_AFTER_SECONDS = 900.0


@dataclass(frozen=True)
class HealthSettings:
    host: str | None = None  # None: no HTTP server
    port: int = 0
    stuck_after_seconds: float = DEFAULT_STUCK_AFTER_SECONDS


def health_settings(settings: Settings) -> HealthSettings:
    """The ``health:`` section of ``settings.yaml``; ``ConfigError`` naming the key when wrong."""
    where = settings.config_dir / "settings.yaml"
    raw = settings.extra.get("health") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: health: expected a mapping")
    unknown = sorted(set(raw) - {"listen", "stuck_after_seconds"})
    if unknown:
        raise ConfigError(f"{where}: health.{unknown[0]}: expected one of listen, stuck_after_seconds")
    stuck = raw.get("stuck_after_seconds", DEFAULT_STUCK_AFTER_SECONDS)
    if not isinstance(stuck, (int, float)) or isinstance(stuck, bool) or stuck <= 0:
        raise ConfigError(f"{where}: health.stuck_after_seconds: expected a positive number, got {stuck!r}")
    listen = raw.get("listen") or ""
    if not listen:
        return HealthSettings(stuck_after_seconds=float(stuck))
    host, sep, port = str(listen).rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{where}: health.listen: expected host:port such as 127.0.0.1:9464, got {listen!r}")
    return HealthSettings(host=host.strip("[]") or "0.0.0.0", port=int(port), stuck_after_seconds=float(stuck))


class Health:
    """What ``/healthz`` says, from the scheduler's ticks, the pipeline's progress and the database."""

    def __init__(self, db: Any, *, tick_seconds: float, stuck_after_seconds: float = DEFAULT_STUCK_AFTER_SECONDS,
                 clock: Callable[[], float] = time.time,
                 last_progress: Callable[[], float] = metrics.last_progress) -> None:
        self.db = db
        self.tick_seconds = tick_seconds
        self.stuck_after_seconds = stuck_after_seconds
        self.clock = clock
        self.last_progress = last_progress
        self.last_tick: float | None = None
        self.pass_started: float | None = None
        self.stopping = False

    def tick(self) -> None:
        """The scheduler is alive."""
        self.last_tick = self.clock()
        metrics.progress(self.last_tick)

    def begin_pass(self) -> None:
        self.pass_started = self.clock()
        metrics.progress(self.pass_started)

    def end_pass(self) -> None:
        self.pass_started = None

    def check(self) -> tuple[bool, str]:
        """(healthy, one line saying why not, or "ok")."""
        now = self.clock()
        if self.stopping:
            return False, "stopping"
        if self.last_tick is None:
            return False, "the scheduler has not ticked yet"
        late = now - self.last_tick
        if late > MISSED_TICKS * self.tick_seconds:
            return False, f"the scheduler has not ticked for {late:.0f} s"
        if self.pass_started is not None:
            idle = now - max(self.last_progress(), self.pass_started)
            if idle > self.stuck_after_seconds:
                return False, f"a pass has finished no source or article for {idle:.0f} s"
        try:
            with self.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            return False, f"the database does not answer: {type(exc).__name__}: {str(exc).splitlines()[0][:150]}"
        return True, "ok"


class HealthServer:
    """``/healthz`` and ``/metrics`` on a small HTTP server in a daemon thread."""

    def __init__(self, health: Health, host: str, port: int) -> None:
        outer = health

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # probes every few seconds: not worth a log line
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    ok, reason = outer.check()
                    self._reply(200 if ok else 503, (reason + "\n").encode(), "text/plain; charset=utf-8")
                elif path == "/metrics":
                    self._reply(200, metrics.exposition(), metrics.CONTENT_TYPE)
                else:
                    self._reply(404, b"not found: try /healthz or /metrics\n", "text/plain; charset=utf-8")

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = str(self.httpd.server_address[0]), int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="health", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def write_heartbeat(data_dir: Path, command: str, summary: dict[str, Any] | None = None,
                    *, now: datetime | None = None) -> Path:
    """Rewrite ``heartbeat.json`` in ``data_dir`` atomically; its path. Failures are logged, not raised:
    a read-only data directory must not fail a pass."""
    path = data_dir / HEARTBEAT_FILE
    moment = now or datetime.now(UTC)
    body = {"time": moment.isoformat(timespec="seconds"), "pid": os.getpid(), "command": command,
            **(summary or {})}
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{HEARTBEAT_FILE}.{os.getpid()}")
        tmp.write_text(json.dumps(body, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not write the heartbeat file %s: %s", path, exc.strerror)
    return path


def read_heartbeat(data_dir: Path) -> dict[str, Any] | None:
    """The last heartbeat written in ``data_dir``, or None."""
    try:
        data = json.loads((data_dir / HEARTBEAT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
