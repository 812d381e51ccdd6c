"""Health for supervisors: an HTTP endpoint for ``run`` and a heartbeat file for ``once``.

``settings.yaml``::

    health:
      listen: "127.0.0.1:9464"       # host:port of /healthz and /metrics; absent or "" = no server
      stuck_after_seconds: 900       # a pass with no source or article finished this long is stuck
      database_timeout_seconds: 3    # /healthz waits this long for the database, then says 503

``GET /healthz`` answers 200 ``ok`` when the scheduler ticked recently, no pass is stuck and the
database answers (it reads the schema version, so a locked or hung database counts, not only a
closed port); otherwise 503 with one line saying which of those failed. The database is asked in
a thread of its own (``DatabaseProbe``) and waited for at most ``database_timeout_seconds``: a hung
database makes /healthz answer 503 quickly instead of hanging the probe, and however many probes
come, only one question to the database is ever outstanding. ``GET /metrics`` is the Prometheus
exposition of ``worker.metrics``.

``heartbeat.json`` in the data directory is rewritten by ``run`` on every tick and by ``once`` when
its pass starts, after every source or article it finishes (checked every
``HEARTBEAT_POLL_SECONDS``) and at its end, with ``state`` running, done or stopped. For cron and
timer set-ups, its age is the time since the worker last made progress: a check such as ``find
$POLICYWATCH_DATA_DIR/heartbeat.json -mmin -40`` (two missed 15-minute passes) tells a monitor the
worker is alive without any server, and a pass that hangs stops refreshing it.
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
#: Long enough for a busy database to answer a one-row read (milliseconds when well), short enough
#: that a probe with the usual 5-10 s timeout (deploy/) gets the 503 and its reason, not a timeout.
DEFAULT_DATABASE_TIMEOUT_SECONDS = 3.0
#: A probe's question left unanswered this many times its wait is cancelled by the database
#: itself (PostgreSQL ``statement_timeout``), so a lock wait does not hold a connection for ever.
DATABASE_CANCEL_FACTOR = 5
#: How often ``once`` looks whether its pass made progress to refresh the heartbeat file.
HEARTBEAT_POLL_SECONDS = 5.0


@dataclass(frozen=True)
class HealthSettings:
    host: str | None = None  # None: no HTTP server
    port: int = 0
    stuck_after_seconds: float = DEFAULT_STUCK_AFTER_SECONDS
    database_timeout_seconds: float = DEFAULT_DATABASE_TIMEOUT_SECONDS


KEYS = ("listen", "stuck_after_seconds", "database_timeout_seconds")


def _positive(raw: dict[str, Any], key: str, default: float, where: Path) -> float:
    value = raw.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{where}: health.{key}: expected a positive number of seconds, got {value!r}")
    return float(value)


def health_settings(settings: Settings) -> HealthSettings:
    """The ``health:`` section of ``settings.yaml``; ``ConfigError`` naming the key when wrong."""
    where = settings.config_dir / "settings.yaml"
    raw = settings.extra.get("health") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: health: expected a mapping")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: health.{unknown[0]}: expected one of {', '.join(KEYS)}")
    stuck = _positive(raw, "stuck_after_seconds", DEFAULT_STUCK_AFTER_SECONDS, where)
    db_timeout = _positive(raw, "database_timeout_seconds", DEFAULT_DATABASE_TIMEOUT_SECONDS, where)
    listen = raw.get("listen") or ""
    if not listen:
        return HealthSettings(stuck_after_seconds=stuck, database_timeout_seconds=db_timeout)
    host, sep, port = str(listen).rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{where}: health.listen: expected host:port such as 127.0.0.1:9464, got {listen!r}")
    return HealthSettings(host=host.strip("[]") or "0.0.0.0", port=int(port), stuck_after_seconds=stuck,
                          database_timeout_seconds=db_timeout)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:150] if lines else ''}".rstrip(": ")


class _Question:
    """One question to the database: its thread, when it was asked, and the answer once there."""

    def __init__(self, ask: Callable[[_Question], None]) -> None:
        self.started = time.monotonic()
        self.answer: str | None = None
        self.thread = threading.Thread(target=ask, args=(self,), name="health-database", daemon=True)


class DatabaseProbe:
    """Asks the database one question at a time in a thread of its own and waits for the answer at
    most ``timeout`` seconds, so whoever asks is never held longer than that by a hung database."""

    def __init__(self, db: Any, timeout: float = DEFAULT_DATABASE_TIMEOUT_SECONDS) -> None:
        self.db = db
        self.timeout = timeout
        self._lock = threading.Lock()
        self._pending: _Question | None = None

    def check(self) -> str | None:
        """None when the database answered in time, else one line saying what went wrong."""
        with self._lock:
            question = self._pending
            if question is None or not question.thread.is_alive():  # nothing outstanding: ask anew
                question = self._pending = _Question(self._ask)
                question.thread.start()
        question.thread.join(self.timeout)
        if question.thread.is_alive():  # still unanswered (maybe an earlier probe's): do not pile up
            return (f"the database did not answer within {self.timeout:g} s "
                    f"(waiting for {time.monotonic() - question.started:.0f} s)")
        return question.answer

    def _ask(self, question: _Question) -> None:
        try:
            with self.db.engine.connect() as conn:
                if conn.dialect.name == "postgresql":  # the server gives up too, freeing the connection
                    conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"),
                                 {"ms": str(int(self.timeout * DATABASE_CANCEL_FACTOR * 1000))})
                conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            question.answer = f"the database does not answer: {_first_line(exc)}"


class Health:
    """What ``/healthz`` says, from the scheduler's ticks, the pipeline's progress and the database."""

    def __init__(self, db: Any, *, tick_seconds: float, stuck_after_seconds: float = DEFAULT_STUCK_AFTER_SECONDS,
                 database_timeout_seconds: float = DEFAULT_DATABASE_TIMEOUT_SECONDS,
                 clock: Callable[[], float] = time.time,
                 last_progress: Callable[[], float] = metrics.last_progress) -> None:
        self.db = db
        self.database = DatabaseProbe(db, database_timeout_seconds)
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
        trouble = self.database.check()
        if trouble is not None:
            return False, trouble
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


def _articles_done() -> int:
    """Articles this process finished, whatever their outcome (from the metrics)."""
    return int(sum(metrics.value("policywatch_articles_total", status=status)
                   for status in ("new", "duplicate", "known", "failed")))


class ProgressHeartbeat:
    """Keeps ``heartbeat.json`` fresh while a ``once`` pass makes progress: written when the pass
    starts, then whenever a source or an article finished since the last look (every
    ``poll_seconds``), with that moment as its time. A pass that hangs stops refreshing it."""

    def __init__(self, data_dir: Path, command: str = "once", *, poll_seconds: float = HEARTBEAT_POLL_SECONDS,
                 last_progress: Callable[[], float] = metrics.last_progress,
                 articles_done: Callable[[], int] | None = None) -> None:
        self.data_dir = data_dir
        self.command = command
        self.poll_seconds = poll_seconds
        self.last_progress = last_progress
        self.articles_done = articles_done or _articles_done
        self._articles_before = 0
        self._written = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="heartbeat", daemon=True)

    def start(self) -> ProgressHeartbeat:
        self._written = max(time.time(), self.last_progress())
        self._articles_before = self.articles_done()
        write_heartbeat(self.data_dir, self.command, {"state": "running", "articles_done": 0})
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._done.wait(self.poll_seconds):
            moved = self.last_progress()
            if moved > self._written:
                self._written = moved
                write_heartbeat(self.data_dir, self.command,
                                {"state": "running", "articles_done": self.articles_done() - self._articles_before},
                                now=datetime.fromtimestamp(moved, UTC))

    def stop(self) -> None:
        """Stop watching (the caller writes the final heartbeat)."""
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()


def read_heartbeat(data_dir: Path) -> dict[str, Any] | None:
    """The last heartbeat written in ``data_dir``, or None."""
    try:
        data = json.loads((data_dir / HEARTBEAT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
