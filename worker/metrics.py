"""Prometheus metrics: the only ``import prometheus_client``.

Counters and histograms live in one registry of this module (``REGISTRY``) and are incremented by
the pipeline and the scheduler through the small functions below, so the rest of the code never
sees a prometheus type. The queue of undelivered alerts is not counted in memory: it is read from
the database each time ``/metrics`` is scraped (``watch_queue``), so it is right whichever process
(``run``, a cron ``once``) queued or delivered the alerts.

Names (all prefixed ``policywatch_``)::

    sources_polled_total{result}        ok | failed | not_modified | skipped (another worker's lease)
    articles_total{status}              new | duplicate | known | failed (a page that could not be read)
    claims_total{kind}                  figure | position, in new articles
    alerts_raised_total{kind}           figure | position | ops, stored in the outbox
    alerts_delivered_total{result}      sent | retrying | failed (given up), per delivery
    fetch_seconds{purpose}              feed | page: HTTP time, including politeness waits
    pass_seconds                        one pass over the due sources
    last_progress_timestamp_seconds     the last tick, source or article done (see worker.health)
    undelivered_alerts{state}           pending | sending | digest | digesting, from the database
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
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


def delivery_done(report: Any) -> None:
    """Count a ``DeliveryReport`` (sent, retrying, failed) of one delivery pass."""
    for result in ("sent", "retrying", "failed"):
        count = int(getattr(report, result, 0) or 0)
        if count:
            ALERTS_DELIVERED.labels(result).inc(count)


class _QueueCollector(Collector):
    def __init__(self, read: Callable[[], dict[str, int]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("policywatch_undelivered_alerts",
                                   "Deliveries not yet sent or given up, from the database", labels=["state"])
        try:
            counts = self._read()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is away
            counts = {}
        for state in ("pending", "sending", "digest", "digesting"):
            family.add_metric([state], counts.get(state, 0))
        yield family

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("policywatch_undelivered_alerts", "", labels=["state"])


def undelivered_counts(db: Any) -> dict[str, int]:
    """Deliveries per undelivered state, counted in the database."""
    from sqlalchemy import func, select

    from worker.store.schema import DeliveryRow

    with db.session() as session:
        rows = session.execute(select(DeliveryRow.state, func.count()).where(
            DeliveryRow.state.in_(("pending", "sending", "digest", "digesting"))).group_by(DeliveryRow.state))
        return {state: int(n) for state, n in rows}


_queue: _QueueCollector | None = None


def watch_queue(db: Any) -> None:
    """Report the undelivered queue of ``db`` on every scrape (replaces an earlier database)."""
    global _queue
    unwatch_queue()
    _queue = _QueueCollector(lambda: undelivered_counts(db))
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
