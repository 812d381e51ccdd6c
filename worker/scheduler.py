"""APScheduler set-up for ``policywatch run``, and ``policywatch once`` with the stop and
housekeeping steps both share.

Jobs: a tick every ``TICK_SECONDS`` records that the scheduler is alive (``/healthz``, the
heartbeat file); ``poll`` hands the sources that are due (their adaptive ``next_check_at`` has
passed) to the pipeline; ``deliver`` drains the outbox; ``retention`` prunes old article bodies
once a day.

Stopping, for both commands: SIGINT or SIGTERM starts no new source or article, lets the article
in hand finish (each is one transaction, so an article is stored whole or not at all) and
releases the sources' leases, within ``STOP_GRACE_SECONDS``. ``run`` then exits 0: stopping is how
a service ends. ``once`` exits ``128 + the signal's number`` (143 for SIGTERM, 130 for SIGINT),
what a shell reports for a process that signal ended: its pass did not finish, so a systemd unit,
a Kubernetes Job or a ``once && ping`` wrapper must not count it as done; the next pass reads the
rest. A second signal, or work still running at the end of the grace period, exits 1 at once: the
database rolls back whatever was not committed, and the leases still held lapse after five minutes.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler

from worker import metrics
from worker.alerts.config import destinations
from worker.errors import ConfigError, StoreError
from worker.health import Health, HealthServer, ProgressHeartbeat, health_settings, write_heartbeat
from worker.settings import Settings
from worker.store import queries

log = logging.getLogger("policywatch.scheduler")

TICK_SECONDS = 30  # how often due sources are looked for; intervals are minutes, so 30 s is ample
DELIVERY_SECONDS = 15  # how often the outbox is drained (retries wait for their backoff anyway)
RETENTION_HOURS = 24
#: Below the 60 s that deploy/ gives (systemd TimeoutStopSec, Kubernetes
#: terminationGracePeriodSeconds): one fetch timeout (20 s) plus one article's extraction fits.
STOP_GRACE_SECONDS = 45.0


def due_sources(settings: Settings, db: Any, now: datetime) -> list[Any]:
    """The enabled sources whose next check time has come (never-polled ones first)."""
    with db.session() as session:
        states = {s.name: s.next_check_at for s in queries.all_source_states(session)}
    due = []
    for source in settings.sources:
        if not source.enabled:
            continue
        nxt = states.get(source.name)
        if nxt is not None and nxt.tzinfo is None:
            nxt = nxt.replace(tzinfo=UTC)
        if nxt is None or nxt <= now:
            due.append(source)
    return due


def retention_days(settings: Settings) -> int | None:
    """``retention.article_text_days`` of settings.yaml (None: keep article texts for ever)."""
    where = settings.config_dir / "settings.yaml"
    raw = settings.extra.get("retention") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: retention: expected a mapping")
    unknown = sorted(set(raw) - {"article_text_days"})
    if unknown:
        raise ConfigError(f"{where}: retention.{unknown[0]}: expected article_text_days")
    days = raw.get("article_text_days")
    if days in (None, 0):
        return None
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ConfigError(f"{where}: retention.article_text_days: expected a whole number of days >= 1, "
                          f"got {days!r}")
    return days


def prune(settings: Settings, db: Any, now: datetime | None = None) -> int:
    """Drop the bodies of articles older than the retention (claims and alerts stay); how many.
    A database failure is logged, not raised: it is retried the next day."""
    days = retention_days(settings)
    if days is None:
        return 0
    try:
        with db.session() as session:
            pruned = queries.prune_article_texts(session, (now or datetime.now(UTC)) - timedelta(days=days))
    except StoreError as exc:
        log.error("retention: could not prune article texts: %s", exc)
        return 0
    if pruned:
        log.info("retention: dropped the text of %d articles older than %d days", pruned, days)
    return pruned


def deliver(settings: Settings, db: Any) -> Any:
    """Send due alerts and digests; the immediate delivery report."""
    from worker import alerts

    report = alerts.deliver_due(db, settings)
    metrics.delivery_done(report)
    digests = alerts.deliver_digests(db, settings)
    metrics.delivery_done(digests)
    report.add(digests)
    return report


def _leave_now(why: str) -> None:
    """Exit 1 at once (from any thread), after flushing the log line saying why."""
    log.error("%s: leaving now; the database rolls back what was not committed", why)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(1)


class StopSignal:
    """What ``stop_on_signals`` saw: the first SIGINT or SIGTERM (``received``), if any."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._watchdog: threading.Timer | None = None
        self._previous: dict[int, Any] = {}

    @property
    def exit_status(self) -> int:
        """128 + the signal's number (what a shell reports for a process that signal ended); 0 without one."""
        return 128 + int(self.received) if self.received is not None else 0

    def restore(self) -> None:
        """Put the earlier signal handlers back and cancel the grace timer."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


def stop_on_signals(on_stop: Callable[[], None], *, grace: float | None = None) -> StopSignal:
    """Call ``on_stop`` on the first SIGINT or SIGTERM; exit 1 at once on the second, or ``grace``
    seconds after the first when given (the caller's work did not finish in time)."""
    stop = StopSignal()

    def handler(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if stop.received is not None:
            _leave_now(f"received {name} again")
        stop.received = signal.Signals(signum)
        log.info("received %s: finishing the work in flight, then stopping", name)
        if grace is not None:
            why = f"work still running {grace:g} s after {name}"
            stop._watchdog = threading.Timer(grace, _leave_now, args=(why,))
            stop._watchdog.daemon = True
            stop._watchdog.start()
        on_stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        stop._previous[signum] = signal.signal(signum, handler)
    return stop


class _InFlight:
    """Counts running jobs so a stop can wait for them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running = 0

    def wrap(self, job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            with self._cond:
                self._running += 1
            try:
                job()
            except Exception:  # noqa: BLE001 - a job failing must not kill the scheduler
                log.exception("job %s failed", getattr(job, "__name__", "?"))
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()
        run.__name__ = getattr(job, "__name__", "job")
        return run

    def wait(self, timeout: float) -> bool:
        """True when nothing runs any more, False when ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._running == 0, timeout)


def run_forever(settings: Settings, db: Any, pipeline: Any, *, stop_grace: float = STOP_GRACE_SECONDS) -> None:
    """Poll, deliver and prune until a signal stops it."""
    hs = health_settings(settings)
    retention_days(settings)  # a wrong section fails the start, not the first daily run
    health = Health(db, tick_seconds=TICK_SECONDS, stuck_after_seconds=hs.stuck_after_seconds,
                    database_timeout_seconds=hs.database_timeout_seconds)
    in_flight = _InFlight()
    last: dict[str, Any] = {}

    def tick() -> None:
        health.tick()
        write_heartbeat(settings.data_dir, "run", last)

    def poll() -> None:
        due = due_sources(settings, db, datetime.now(UTC))
        if not due or pipeline.stopping.is_set():
            return
        health.begin_pass()
        started = time.monotonic()
        try:
            reports = pipeline.run_once(due)
        finally:
            health.end_pass()
            metrics.PASS_SECONDS.observe(time.monotonic() - started)
        last.update(sources=len(reports), failing=sum(not r.ok for r in reports),
                    skipped=sum(r.skipped is not None for r in reports), articles=sum(r.articles for r in reports),
                    alerts=sum(r.alerts for r in reports))
        log.info("polled %d sources: %d articles, %d alerts, %d failing, %d skipped", len(reports),
                 last["articles"], last["alerts"], last["failing"], last["skipped"])

    def deliver_job() -> None:
        if not pipeline.stopping.is_set():
            deliver(settings, db)

    def retention() -> None:
        prune(settings, db)

    now = datetime.now(UTC)
    scheduler = BlockingScheduler(timezone=UTC)
    jobs: list[tuple[Callable[[], None], float, datetime | None]] = [
        (tick, TICK_SECONDS, now), (poll, TICK_SECONDS, now), (deliver_job, DELIVERY_SECONDS, None),
        (retention, RETENTION_HOURS * 3600.0, now + timedelta(minutes=1))]
    for job, every, first in jobs:
        scheduler.add_job(in_flight.wrap(job), "interval", seconds=every, id=job.__name__, max_instances=1,
                          coalesce=True, misfire_grace_time=int(every),
                          next_run_time=first or now + timedelta(seconds=every))

    def stop() -> None:
        pipeline.stopping.set()
        health.stopping = True
        if scheduler.running:
            scheduler.shutdown(wait=False)

    stop_on_signals(stop)
    server = None
    if hs.host is not None:
        try:
            server = HealthServer(health, hs.host, hs.port).start()
        except OSError as exc:
            raise ConfigError(f"{settings.config_dir / 'settings.yaml'}: health.listen: cannot listen on "
                              f"{hs.host}:{hs.port}: {exc.strerror or exc}") from None
        metrics.watch_queue(db, [d.id for d in destinations(settings)])
        log.info("health and metrics on %s/healthz and %s/metrics", server.url, server.url)
    log.info("policywatch running: %d sources, database %s", len(settings.sources),
             db.engine.url.render_as_string(hide_password=True))
    try:
        if not pipeline.stopping.is_set():  # a signal may come before the scheduler starts
            scheduler.start()
        if not in_flight.wait(stop_grace):
            _leave_now(f"work still running {stop_grace:.0f} s after the stop signal")
    finally:
        if server is not None:
            server.stop()
            metrics.unwatch_queue()
    log.info("stopped")


def _state(report: Any) -> str:
    if report.skipped:
        return f"skipped: {report.skipped}"
    if not report.ok:
        return f"FAILED: {report.error}"
    return "not modified" if report.not_modified else "ok"


def run_once(settings: Settings, open_store: Callable[[], tuple[Any, Any]], names: Sequence[str] | None = None,
             *, stop_grace: float = STOP_GRACE_SECONDS) -> int:
    """``policywatch once``: open the store with ``open_store()`` (database, pipeline), make one pass
    over the enabled sources (only ``names`` when given), deliver due alerts, prune, write the
    heartbeat. The exit status: 0 when the pass ran (failing sources are reported, not fatal), 128 +
    the signal's number when SIGTERM or SIGINT stopped it. ``ConfigError`` for an unknown name."""
    retention_days(settings)  # a wrong retention section fails before the pass, not after
    sources = settings.sources
    if names:
        sources = tuple(s for s in sources if s.name in names)
        if not sources:
            raise ConfigError(f"no source named {', '.join(names)} in {settings.config_dir / 'sources.yaml'}")
    opened: list[Any] = []  # the pipeline, once open: a signal during start-up stops it before any source
    stop = stop_on_signals(lambda: [p.stopping.set() for p in opened], grace=stop_grace)
    db = pipeline = heartbeat = None
    try:
        db, pipeline = open_store()
        opened.append(pipeline)
        if stop.received is not None:
            pipeline.stopping.set()
        heartbeat = ProgressHeartbeat(settings.data_dir, "once").start()
        started = time.monotonic()
        reports = pipeline.run_once(sources)
        metrics.PASS_SECONDS.observe(time.monotonic() - started)
        for r in reports:
            log.info("source %s: %s; %d entries, %d new, %d articles, %d alerts%s", r.source, _state(r), r.entries,
                     r.new_entries, r.articles, r.alerts, f", {len(r.failures)} pages failed" if r.failures else "",
                     extra={"source": r.source})
        summary = {"sources": len(reports), "failing": sum(not r.ok for r in reports),
                   "articles": sum(r.articles for r in reports), "alerts": sum(r.alerts for r in reports)}
        heartbeat.stop()
        cut_short = stop.received  # a signal after this point lets delivery and pruning finish
        if cut_short is not None:
            log.warning("pass stopped by %s: %d of %d sources polled, %d articles stored, %d alerts queued; "
                        "delivery skipped; the rest is read on the next pass; exit status %d", cut_short.name,
                        sum(r.skipped is None for r in reports), len(reports), summary["articles"],
                        summary["alerts"], stop.exit_status)
            write_heartbeat(settings.data_dir, "once", {"state": "stopped", "signal": cut_short.name, **summary})
            return stop.exit_status
        report = deliver(settings, db)
        log.info("pass done: %d sources (%d failing), %d articles, %d alerts; delivery: %s", summary["sources"],
                 summary["failing"], summary["articles"], summary["alerts"], report.summary())
        prune(settings, db)
        write_heartbeat(settings.data_dir, "once", {"state": "done", **summary})
        return 0
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        if pipeline is not None:
            pipeline.close()
        if db is not None:
            db.dispose()
        stop.restore()
