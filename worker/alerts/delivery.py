"""The outbox: alerts are stored first (``enqueue``, in the pipeline's transaction), then delivered
(``deliver_due``, ``deliver_digests``), retried with exponential backoff, and never dropped.

Delivery guarantee, per (alert, destination):

* **At least once**, unless the destination refuses ``delivery.max_attempts`` times (or its URL is
  invalid): the delivery is then ``failed``, logged in one line, and kept in the database.
* **Exactly once** when no process dies while a message is in flight: each delivery is claimed
  (``sending``, with a lease) and committed before its message is handed to apprise, and recorded
  ``sent`` in its own commit right after apprise returns. A crash before the claim commits
  leaves it ``pending`` (sent later, once); a crash after ``sent`` commits changes nothing.
* **At most one duplicate per crash**, and only for the deliveries that were in flight at that
  moment (between claim and record: with serial sending, at most one per process, or one digest):
  apprise offers no idempotency key, so a claimed delivery whose lease expired without a record
  is *in doubt* and is sent again (its ``last_error`` says so). Its lease outlasts the longest a
  send may take, so a live sender is never doubled by another worker.
* Deliveries held by quiet hours or the hourly limit wait, in order; nothing is dropped.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from worker.alerts.config import Destination, by_id, destinations
from worker.alerts.notifier import CALL_TIMEOUT_FACTOR, Notifier, PermanentDeliveryError
from worker.alerts.render import render, render_digest
from worker.errors import DeliveryError
from worker.settings import Settings
from worker.store import outbox
from worker.store.db import Database
from worker.store.schema import AlertRow

log = logging.getLogger("policywatch.alerts")

#: A claimed delivery belongs to its sender this long. It must outlast the longest send (apprise
#: gives up after CALL_TIMEOUT_FACTOR socket timeouts), plus a margin for the database commit.
LEASE_MARGIN_SECONDS = 60.0
IN_DOUBT = "in doubt: an earlier attempt was interrupted before its result was recorded; sent again"
_LEVEL = {"failing": "warning", "recovered": "success"}


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0  # deliveries recorded as sent (a digest counts each alert it carried)
    messages: int = 0  # messages handed to a destination successfully
    retrying: int = 0  # failed this time, scheduled again with backoff
    failed: int = 0  # given up: stay in the database as failed
    held: int = 0  # due but waiting: quiet hours or the hourly limit
    in_doubt: int = 0  # sent again after an interrupted attempt (may be a duplicate)
    errors: list[str] = field(default_factory=list)  # one redacted line per failed attempt


def lease_seconds(settings: Settings) -> float:
    """How long a claimed delivery belongs to the worker that claimed it."""
    return settings.delivery.timeout_seconds * CALL_TIMEOUT_FACTOR + LEASE_MARGIN_SECONDS


def backoff_seconds(settings: Settings, attempts: int) -> float:
    """The wait before attempt ``attempts + 1``: base, 2x base, 4x base, ... capped."""
    d = settings.delivery
    return float(min(d.backoff_base_seconds * 2 ** max(attempts - 1, 0), d.backoff_max_seconds))


def enqueue(session: Session, *, key: str, kind: str, change: str, claim_key: str, target: str | None,
            article_id: int | None, payload: dict[str, Any], destinations: Sequence[Destination],
            now: datetime) -> AlertRow | None:
    """Store an alert and one delivery per destination that accepts it, in the caller's
    transaction; None (and nothing stored) when an alert with this key already exists."""
    alert_id = outbox.insert_alert(session, key=key, kind=kind, change=change, claim_key=claim_key,
                                   target=target, article_id=article_id, payload=payload, created_at=now)
    if alert_id is None:
        return None
    for dest in destinations:
        if not dest.accepts(kind, target):
            continue
        due = dest.next_digest_at(now) if dest.is_digest else now
        outbox.add_delivery(session, alert_id=alert_id, destination=dest.id, label=dest.label,
                            state=outbox.DIGEST if dest.is_digest else outbox.PENDING, next_attempt_at=due)
    return session.get(AlertRow, alert_id)


def _clock(now: datetime | None) -> Callable[[], datetime]:
    if now is not None:
        fixed = outbox.utc(now)
        return lambda: fixed
    return lambda: datetime.now(timezone.utc)


def _payload(item: outbox.DueDelivery) -> dict[str, Any]:
    payload = dict(item.payload)
    if item.target and not payload.get("target"):
        payload["target"] = item.target
    return payload


def _record_failure(db: Database, settings: Settings, items: Sequence[outbox.DueDelivery], dest: Destination,
                    exc: DeliveryError, at: datetime, report: DeliveryReport, *, digest: bool) -> None:
    """After a failed attempt: retry later with backoff, or give up and say so in one log line."""
    message = str(exc)
    report.errors.append(message)
    with db.session() as s:
        for item in items:
            attempts = item.attempts + 1
            if isinstance(exc, PermanentDeliveryError) or attempts >= settings.delivery.max_attempts:
                outbox.mark_delivery_failed(s, item.id, message)
                report.failed += 1
                log.warning("alert %s to %s failed after %d attempt(s), giving up: %s",
                            item.alert_key, dest.label, attempts, message)
            else:
                outbox.schedule_retry(s, item.id, at + timedelta(seconds=backoff_seconds(settings, attempts)),
                                      message, digest=digest)
                report.retrying += 1


def _give_up_in_doubt(db: Database, items: Sequence[outbox.DueDelivery], report: DeliveryReport) -> None:
    with db.session() as s:
        for item in items:
            outbox.mark_delivery_failed(s, item.id, "interrupted during its last allowed attempt; "
                                                    "it may or may not have been delivered")
            report.failed += 1
            log.warning("alert %s: last delivery attempt was interrupted; marked failed", item.alert_key)


def deliver_due(db: Database, settings: Settings, *, notifier: Notifier | None = None,
                now: datetime | None = None) -> DeliveryReport:
    """Send every due immediate delivery once (oldest first), honouring quiet hours and hourly
    limits; record sent / retry / failed. See the module docstring for the guarantee."""
    clock = _clock(now)
    dests = by_id(settings)
    notifier = notifier or Notifier(timeout_seconds=settings.delivery.timeout_seconds)
    report = DeliveryReport()
    start = clock()
    with db.session() as s:
        due = outbox.due_deliveries(s, start, list(dests))
        budget = {d.id: d.max_per_hour - outbox.sent_since(s, d.id, start - timedelta(hours=1))
                  for d in dests.values() if d.max_per_hour}
    for item in due:
        dest = dests[item.destination]
        if dest.quiet_until(start) is not None or budget.get(dest.id, 1) <= 0:
            report.held += 1
            continue
        doubt = item.state in outbox.IN_FLIGHT
        if doubt and item.attempts >= settings.delivery.max_attempts:
            _give_up_in_doubt(db, [item], report)
            continue
        payload = _payload(item)
        title, body = render(payload, language=settings.language, fmt=dest.fmt, templates=dest.templates,
                             timezone=settings.timezone)
        with db.session() as s:
            owned = outbox.claim_delivery(s, item.id, state=item.state, attempts=item.attempts, now=start,
                                          lease_until=clock() + timedelta(seconds=lease_seconds(settings)),
                                          note=IN_DOUBT if doubt else None)
        if not owned:
            continue  # another worker has it
        report.in_doubt += doubt
        if dest.id in budget:
            budget[dest.id] -= 1
        try:
            notifier.send(dest, title, body, dest.fmt, level=_LEVEL.get(str(payload.get("change")), "info"))
        except DeliveryError as exc:
            _record_failure(db, settings, [item], dest, exc, clock(), report, digest=False)
            continue
        with db.session() as s:
            outbox.mark_delivery_sent(s, item.id, clock())
        report.sent += 1
        report.messages += 1
    return report


def deliver_digests(db: Database, settings: Settings, *, notifier: Notifier | None = None,
                    now: datetime | None = None) -> DeliveryReport:
    """Send one digest message per destination whose digest is due, grouping its alerts by target
    and kind; the same guarantee as ``deliver_due``, per digest."""
    clock = _clock(now)
    dests = by_id(settings)
    notifier = notifier or Notifier(timeout_seconds=settings.delivery.timeout_seconds)
    report = DeliveryReport()
    start = clock()
    for dest in dests.values():
        with db.session() as s:
            due = outbox.due_digest_deliveries(s, start, [dest.id])
        if not due:
            continue
        if dest.quiet_until(start) is not None:
            report.held += len(due)
            continue
        exhausted = [i for i in due
                     if i.state in outbox.IN_FLIGHT and i.attempts >= settings.delivery.max_attempts]
        if exhausted:
            _give_up_in_doubt(db, exhausted, report)
        lease_until = clock() + timedelta(seconds=lease_seconds(settings))
        with db.session() as s:
            claimed = [i for i in due if i not in exhausted and outbox.claim_delivery(
                s, i.id, state=i.state, attempts=i.attempts, now=start, lease_until=lease_until,
                note=IN_DOUBT if i.state in outbox.IN_FLIGHT else None)]
        if not claimed:
            continue
        report.in_doubt += sum(1 for i in claimed if i.state in outbox.IN_FLIGHT)
        fmt = "text" if dest.is_console else dest.fmt
        title, body = render_digest([_payload(i) for i in claimed], language=settings.language, fmt=fmt,
                                    templates=dest.templates, timezone=settings.timezone)
        try:
            notifier.send(dest, title, body, fmt)
        except DeliveryError as exc:
            _record_failure(db, settings, claimed, dest, exc, clock(), report, digest=True)
            continue
        with db.session() as s:
            for item in claimed:
                outbox.mark_delivery_sent(s, item.id, clock())
        report.sent += len(claimed)
        report.messages += 1
    return report


def ops_alert(source_name: str, change: str, message: str) -> dict[str, Any]:
    """The payload of an operations alert: a source is ``failing`` or has ``recovered``."""
    if change not in ("failing", "recovered"):
        raise ValueError(f"ops alert change must be 'failing' or 'recovered', got {change!r}")
    return {"kind": "ops", "change": change, "source_name": source_name,
            "message": " ".join(message.split()), "article": None}


def ops_key(source_name: str, change: str, since: datetime) -> str:
    """A stable alert key for one failing or recovery episode of a source (``since``: its start)."""
    return f"ops:{source_name}:{change}:{outbox.utc(since).strftime('%Y%m%dT%H%M%S')}"


SAMPLE: dict[str, Any] = {
    "source": "https://example.com/policywatch-test", "kind": "figure", "change": "changed",
    "subject": "policywatch", "metric": "알림 시험", "value": 50000000, "value_max": None, "unit": "KRW",
    "qualifier": "approx", "period": None, "equivalent": None, "replaces_period": None,
    "sentence": "policywatch 알림 시험 메시지입니다. (test message)",
    "previous": {"value": 40000000, "unit": "KRW", "qualifier": "exact", "period": None,
                 "source": "seeds/example.txt", "sentence": "", "outlet": "policywatch", "seen_at": None},
    "article": {"url": "https://example.com/policywatch-test", "title": "policywatch test",
                "outlet": "policywatch", "published": None},
}


def notify_test(settings: Settings, *, notifier: Notifier | None = None) -> list[tuple[str, bool, str]]:
    """Send a sample alert to every configured destination: (label, delivered, detail) for each."""
    notifier = notifier or Notifier(timeout_seconds=settings.delivery.timeout_seconds)
    out: list[tuple[str, bool, str]] = []
    for dest in destinations(settings):
        title, body = render(SAMPLE, language=settings.language, fmt=dest.fmt, templates=dest.templates,
                             timezone=settings.timezone)
        try:
            notifier.send(dest, title, body, dest.fmt)
        except DeliveryError as exc:
            out.append((dest.label, False, str(exc)))
        else:
            out.append((dest.label, True, "sent"))
    return out
