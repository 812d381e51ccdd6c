"""Prometheus metrics: the only ``import prometheus_client``.

Counters and histograms live in one registry of this module (``REGISTRY``) and are incremented by
the pipeline and the scheduler through the small functions below, so the rest of the code never
sees a prometheus type. The queue of undelivered alerts is not counted in memory: it is read from
the database each time ``/metrics`` is scraped (``watch_queue``), so it is right whichever process
(``run``, a cron ``once``) queued or delivered the alerts. Deliveries to a destination that is no
longer configured are not in that queue (nothing will send them until the URL returns); they are
counted apart, once the configured destinations are known (from ``watch_queue(db, destinations)``
or from the last delivery pass's report).

Names (all prefixed ``policywatch_``)::

    sources_polled_total{result}        ok | failed | not_modified | skipped (another worker's lease)
    articles_total{status}              new | duplicate | known | failed (a page that could not be read)
    claims_total{kind}                  figure | position, in new articles
    alerts_raised_total{kind}           figure | position | ops, stored in the outbox
    alerts_delivered_total{result}      sent | retrying | failed (given up), per delivery
    fetch_seconds{purpose}              feed | page: HTTP time, including politeness waits
    pass_seconds                        one pass over the due sources
    last_progress_timestamp_seconds     the last tick, source or article done (see worker.health)
    undelivered_alerts{state}           pending | sending | digest | digesting, from the database,
                                        for configured destinations
    undelivered_alerts_removed_destination  undelivered deliveries whose destination is no longer
                                        configured (they wait; `policywatch alerts --forget-removed`)
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

SOURCES_POLLED = Counter("policywatch_sources_polled", "Sources polled, by result", ["result"], registry=REGISTRY)
ARTICLES = Counter("policywatch_articles", "Articles taken from feeds, by outcome", ["status"], registry=REGISTRY)
CLAIMS = Counter("policywatch_claims", "Claims extracted from new articles", ["kind"], registry=REGISTRY)
ALERTS_RAISED = Counter("policywatch_alerts_raised", "Alerts stored in the outbox", ["kind"], registry=REGISTRY)
ALERTS_DELIVERED = Counter("policywatch_alerts_delivered", "Delivery attempts, by result", ["result"],
                           registry=REGISTRY)
#: Buckets from a local 304 (a few ms) to the 20 s fetch timeout and the politeness waits around it.
FETCH_SECONDS = Histogram("policywatch_fetch_seconds", "HTTP fetch time", ["purpose"], registry=REGISTRY,
                          buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40))
PASS_SECONDS = Histogram("policywatch_pass_seconds", "Time of one pass over the due sources", registry=REGISTRY,
                         buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600))
LAST_PROGRESS = Gauge("policywatch_last_progress_timestamp_seconds",
                      "Unix time of the last scheduler tick, source or article finished", registry=REGISTRY)

for _result in ("ok", "failed", "not_modified", "skipped"):
    SOURCES_POLLED.labels(_result)
for _status in ("new", "duplicate", "known", "failed"):
    ARTICLES.labels(_status)
for _kind in ("figure", "position"):
    CLAIMS.labels(_kind)
for _result in ("sent", "retrying", "failed"):
    ALERTS_DELIVERED.labels(_result)
for _purpose in ("feed", "page"):
    FETCH_SECONDS.labels(_purpose)

_last_progress = time.time()


def progress(now: float | None = None) -> None:
    """Record a sign of life: a tick, a source or an article done."""
    global _last_progress
    _last_progress = time.time() if now is None else now
    LAST_PROGRESS.set(_last_progress)


def last_progress() -> float:
    """Unix time of the last ``progress()``."""
    return _last_progress


@contextmanager
def fetch_timer(purpose: str) -> Iterator[None]:
    """Time one fetch (also when it raises)."""
    with FETCH_SECONDS.labels(purpose).time():
        yield


def source_polled(result: str) -> None:
    SOURCES_POLLED.labels(result).inc()
    progress()


def article_done(status: str, *, figures: int = 0, positions: int = 0, alerts: Iterable[str] = ()) -> None:
    """Count one article's outcome, its claims, and the kinds of the alerts it raised."""
    ARTICLES.labels(status).inc()
    if figures:
        CLAIMS.labels("figure").inc(figures)
    if positions:
        CLAIMS.labels("position").inc(positions)
    for kind in alerts:
        ALERTS_RAISED.labels(kind).inc()
    progress()


#: Ids of the configured destinations, from ``watch_queue`` or the last delivery pass; None until
#: known (then every undelivered delivery counts as queued).
_configured: frozenset[str] | None = None
UNDELIVERED = ("pending", "sending", "digest", "digesting")
REMOVED = "removed_destination"  # the key of the removed destinations' count in undelivered_counts


def delivery_done(report: Any) -> None:
    """Count a ``DeliveryReport`` (sent, retrying, failed) of one delivery pass, and remember which
    destinations it found configured."""
    global _configured
    for result in ("sent", "retrying", "failed"):
        count = int(getattr(report, result, 0) or 0)
        if count:
            ALERTS_DELIVERED.labels(result).inc(count)
    configured = getattr(report, "destinations", None)
    if configured:
        _configured = frozenset(configured)


#: A scrape waits this long for the queue counts; a database that does not answer leaves the
#: queue gauges out of that scrape (``absent()`` in an alert rule catches it) instead of hanging it.
QUEUE_READ_TIMEOUT_SECONDS = 3.0


class _QueueCollector(Collector):
    def __init__(self, read: Callable[[], dict[str, int]]) -> None:
        self._read = read
        self._pending: Future[dict[str, int]] | None = None  # at most one read in flight
        self._lock = threading.Lock()

    def _counts(self) -> dict[str, int] | None:
        with self._lock:
            if self._pending is None or self._pending.done():
                self._pending = Future()
                pending = self._pending

                def work() -> None:
                    try:
                        pending.set_result(self._read())
                    except BaseException as exc:  # noqa: BLE001 - reported as a missing reading
                        pending.set_exception(exc)
                threading.Thread(target=work, daemon=True, name="metrics-queue").start()
            pending = self._pending
        try:
            return pending.result(timeout=QUEUE_READ_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 - timeout or database error: a scrape must not fail or hang
            return None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("policywatch_undelivered_alerts",
                                   "Deliveries not yet sent or given up, from the database", labels=["state"])
        removed = GaugeMetricFamily("policywatch_undelivered_alerts_removed_destination",
                                    "Undelivered deliveries waiting for a destination that is no longer configured")
        counts = self._counts()
        if counts is None:
            return
        for state in UNDELIVERED:
            family.add_metric([state], counts.get(state, 0))
        removed.add_metric([], counts.get(REMOVED, 0))
        yield family
        yield removed

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("policywatch_undelivered_alerts", "", labels=["state"])
        yield GaugeMetricFamily("policywatch_undelivered_alerts_removed_destination", "")


def undelivered_counts(db: Any, configured: Iterable[str] | None = None) -> dict[str, int]:
    """Deliveries per undelivered state, counted in the database; with ``configured`` (destination
    ids), those for other destinations are counted apart under ``REMOVED``."""
    from sqlalchemy import func, select

    from worker.store.schema import DeliveryRow

    known = None if configured is None else list(configured)
    with db.session() as session:
        query = select(DeliveryRow.state, func.count()).where(DeliveryRow.state.in_(UNDELIVERED))
        if known is not None:
            query = query.where(DeliveryRow.destination.in_(known))
        counts = {state: int(n) for state, n in session.execute(query.group_by(DeliveryRow.state))}
        if known is not None:
            counts[REMOVED] = int(session.scalar(select(func.count()).select_from(DeliveryRow).where(
                DeliveryRow.state.in_(UNDELIVERED), DeliveryRow.destination.not_in(known))) or 0)
        return counts


_queue: _QueueCollector | None = None


def watch_queue(db: Any, destinations: Iterable[str] | None = None) -> None:
    """Report the undelivered queue of ``db`` on every scrape (replaces an earlier database);
    ``destinations``: the ids of the configured destinations, when the caller knows them."""
    global _queue, _configured
    unwatch_queue()
    _configured = None if destinations is None else frozenset(destinations)  # else: from the next pass
    _queue = _QueueCollector(lambda: undelivered_counts(db, _configured))
    REGISTRY.register(_queue)


def unwatch_queue() -> None:
    global _queue
    if _queue is not None:
        REGISTRY.unregister(_queue)
        _queue = None


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    return generate_latest(REGISTRY)


def value(name: str, **labels: str) -> float:
    """The current value of one sample (for tests and `doctor`); 0 when absent."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
