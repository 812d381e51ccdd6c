"""APScheduler set-up for ``policywatch run``, nothing else.

A tick every ``TICK_SECONDS`` hands the sources that are due (their adaptive ``next_check_at``
has passed) to the pipeline; a second job delivers due alerts and digests. SIGINT and SIGTERM
stop the scheduler after the work in flight.
"""
from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler

from worker.settings import Settings
from worker.store import queries

log = logging.getLogger("policywatch.scheduler")

TICK_SECONDS = 30  # how often due sources are looked for; intervals are minutes, so 30 s is ample
DELIVERY_SECONDS = 15  # how often the outbox is drained (retries wait for their backoff anyway)


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


def run_forever(settings: Settings, db: Any, pipeline: Any) -> None:
    """Poll and deliver until a signal stops it."""
    from worker import alerts

    busy = threading.Lock()

    def poll() -> None:
        if not busy.acquire(blocking=False):
            return  # the previous tick is still working through its sources
        try:
            due = due_sources(settings, db, datetime.now(UTC))
            if due:
                reports = pipeline.run_once(due)
                log.info("polled %d sources: %d articles, %d alerts, %d failing", len(reports),
                         sum(r.articles for r in reports), sum(r.alerts for r in reports),
                         sum(not r.ok for r in reports))
        finally:
            busy.release()

    def deliver() -> None:
        alerts.deliver_due(db, settings)
        if hasattr(alerts, "deliver_digests"):
            alerts.deliver_digests(db, settings)

    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(poll, "interval", seconds=TICK_SECONDS, next_run_time=datetime.now(UTC), id="poll",
                      max_instances=1, coalesce=True)
    scheduler.add_job(deliver, "interval", seconds=DELIVERY_SECONDS, id="deliver", max_instances=1, coalesce=True)

    def stop(signum: int, _frame: Any) -> None:
        log.info("received %s: finishing the work in flight, then stopping", signal.Signals(signum).name)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("policywatch running: %d sources, database %s", len(settings.sources),
             db.engine.url.render_as_string(hide_password=True))
    scheduler.start()
    log.info("stopped")
