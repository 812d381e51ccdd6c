"""The outbox: alerts are stored first (``enqueue``, in the pipeline's transaction), then delivered
(``deliver_due``, ``deliver_digests``), retried with exponential backoff, and never dropped.

Delivery guarantee, per (alert, destination):

* **At least once**, unless the destination refuses ``delivery.max_attempts`` times (or its URL is
  invalid): the delivery is then ``failed``, logged in one line, and kept in the database.
  Deliveries held by quiet hours or the hourly limit wait, in order. Deliveries to a destination
  whose URL left ``POLICYWATCH_NOTIFY_URLS`` wait too (one log line per pass says how many) and
  resume if it returns; ``policywatch alerts --forget-removed`` gives them up (``failed``).
* **Exactly once** when no process dies while a message is in flight: each delivery is claimed
  (``sending``, with a lease) and committed before its message is handed to apprise, and recorded
  ``sent`` in its own commit right after apprise returns. A crash before the claim commits leaves
  it ``pending`` (sent later, once); a crash after ``sent`` commits changes nothing.
* **A crash while a message is in flight** (between claim and record) leaves its delivery *in
  doubt* once the lease runs out; it is then sent again (its ``last_error`` says so) with the
  **same idempotency key** as the first time (``worker.alerts.keys``: per alert and destination;
  a digest is retried with exactly the deliveries it carried, so its key repeats too). A send
  that timed out after the receiver took the message is retried with the same key as well.

  - Webhooks (json://, form://, xml://) carry the key in an ``Idempotency-Key`` header: a
    receiver that drops keys it has seen gets every alert **exactly once**.
  - Every other service gets **at most one duplicate per crash and destination**: the one
    message in flight to it at that moment (each destination has one sender, sending one message,
    or one digest, at a time). That covers Slack, Telegram, Discord and the like, which take no
    key, and e-mail: its headers carry the key, but apprise gives it a random ``Message-ID``, so
    mail clients do not collapse the repeat (a mail filter on ``Idempotency-Key`` can).

  A claim's lease outlasts the longest a send may take, so a live sender is never doubled by
  another worker.

Destinations are served side by side, one sender thread each (up to ``MAX_SENDERS``): a slow or
dead destination delays only its own messages, which keep their order.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from worker.alerts import keys
from worker.alerts.config import Destination, by_id, destinations
from worker.alerts.notifier import CALL_TIMEOUT_FACTOR, Notifier, PermanentDeliveryError
from worker.alerts.render import render, render_digest
from worker.errors import DeliveryError
from worker.settings import Settings
from worker.store import outbox
from worker.store.db import Database

log = logging.getLogger("policywatch.alerts")

#: A claimed delivery belongs to its sender this long. It must outlast the longest send (apprise
#: gives up after CALL_TIMEOUT_FACTOR socket timeouts), plus a margin for the database commit.
LEASE_MARGIN_SECONDS = 60.0
#: Sender threads per pass. Installations have a handful of destinations (a chat, a mailbox, a
#: webhook); each thread holds a database connection only around a claim or a record, never
#: while it sends, which keeps them well inside the PostgreSQL pool (5 + 5 overflow).
MAX_SENDERS = 6
IN_DOUBT = "in doubt: an earlier attempt was interrupted before its result was recorded; sent again"
FORGOTTEN = ("its destination is no longer configured (removed from POLICYWATCH_NOTIFY_URLS); given up by "
             "`policywatch alerts --forget-removed`")
_LEVEL = {"failing": "warning", "recovered": "success"}
_Queue = TypeVar("_Queue")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0  # deliveries recorded as sent (a digest counts each alert it carried)
    messages: int = 0  # messages handed to a destination successfully
    retrying: int = 0  # failed this time, scheduled again with backoff
    failed: int = 0  # given up: stay in the database as failed
    held: int = 0  # due but waiting: quiet hours or the hourly limit
    in_doubt: int = 0  # sent again after an interrupted attempt (may be a duplicate)
    removed: int = 0  # waiting for a destination that is no longer configured (not attempted)
    errors: list[str] = field(default_factory=list)  # one redacted line per failed attempt
    destinations: tuple[str, ...] = field(default=(), repr=False)  # ids of the configured destinations

    def summary(self) -> str:
        """One line for people: the counts that are not zero ("3 sent, 1 retrying")."""
        parts = [f"{getattr(self, name)} {label}" for name, label in (
            ("sent", "sent"), ("retrying", "retrying"), ("failed", "failed"), ("held", "held"),
            ("in_doubt", "sent again after an interruption"), ("removed", "waiting for a removed destination"))
            if getattr(self, name)]
        return ", ".join(parts) or "nothing due"

    def add(self, other: DeliveryReport) -> None:
        """Count ``other`` (one destination's share of a pass) into this report."""
        for name in ("sent", "messages", "retrying", "failed", "held", "in_doubt", "removed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)


def lease_seconds(settings: Settings) -> float:
    """How long a claimed delivery belongs to the worker that claimed it."""
    return settings.delivery.timeout_seconds * CALL_TIMEOUT_FACTOR + LEASE_MARGIN_SECONDS


def backoff_seconds(settings: Settings, attempts: int) -> float:
    """The wait before attempt ``attempts + 1``: base, 2x base, 4x base, ... capped."""
    d = settings.delivery
    return float(min(d.backoff_base_seconds * 2 ** max(attempts - 1, 0), d.backoff_max_seconds))


def enqueue(session: Session, *, key: str, kind: str, change: str, claim_key: str, target: str | None,
            article_id: int | None, payload: dict[str, Any], destinations: Sequence[Destination],
            now: datetime) -> int | None:
    """Store an alert and one delivery per destination that accepts it, in the caller's
    transaction; the alert's id, or None (and nothing stored) when an alert with this key
    already exists."""
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
    return alert_id


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


def _side_by_side(queues: Mapping[str, _Queue], work: Callable[[str, _Queue], DeliveryReport]) -> DeliveryReport:
    """Run ``work`` on each destination's queue, destinations in parallel threads; their reports
    added up. An error in one destination's work is raised once the others have finished."""
    report = DeliveryReport()
    if len(queues) <= 1:
        for dest_id, queue in queues.items():
            report.add(work(dest_id, queue))
        return report
    with ThreadPoolExecutor(max_workers=min(MAX_SENDERS, len(queues)), thread_name_prefix="deliver") as pool:
        futures = [pool.submit(work, dest_id, queue) for dest_id, queue in queues.items()]
    for future in futures:
        report.add(future.result())
    return report


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


def removed_note(found: Sequence[outbox.RemovedDestination]) -> str:
    """One line saying how many deliveries wait for destinations that are no longer configured."""
    total = sum(r.count for r in found)
    alerts = f"{total} alert waits" if total == 1 else f"{total} alerts wait"
    if len(found) == 1:
        where, back = f"a destination that is no longer configured ({found[0].label})", "it returns"
    else:
        names = "; ".join(f"{r.label}: {r.count}" for r in found)
        where, back = f"{len(found)} destinations that are no longer configured ({names})", "they return"
    return (f"{alerts} for {where}; they resume if {back}, or run \"policywatch alerts --forget-removed\" "
            "to drop them")


def deliver_due(db: Database, settings: Settings, *, notifier: Notifier | None = None,
                now: datetime | None = None) -> DeliveryReport:
    """Send every due immediate delivery once (oldest first per destination, destinations in
    parallel), honouring quiet hours and hourly limits; record sent / retry / failed; log one line
    when deliveries wait for removed destinations. See the module docstring for the guarantee."""
    clock = _clock(now)
    dests = by_id(settings)
    notifier = notifier or Notifier(timeout_seconds=settings.delivery.timeout_seconds)
    start = clock()
    with db.session() as s:  # per destination, so a long backlog of one never hides the others'
        queues = {d: items for d in dests if (items := outbox.due_deliveries(s, start, [d]))}
        budget = {d.id: d.max_per_hour - outbox.sent_since(s, d.id, start - timedelta(hours=1))
                  for d in dests.values() if d.max_per_hour}
        removed = outbox.waiting_for_removed(s, list(dests))
    if removed:
        log.warning("%s", removed_note(removed))

    def work(dest_id: str, items: list[outbox.DueDelivery]) -> DeliveryReport:
        return _send_each(db, settings, notifier, clock, start, dests[dest_id], items, budget.get(dest_id))

    report = _side_by_side(queues, work)
    report.destinations = tuple(dests)
    report.removed = sum(r.count for r in removed)
    return report


def _send_each(db: Database, settings: Settings, notifier: Notifier, clock: Callable[[], datetime],
               start: datetime, dest: Destination, items: Sequence[outbox.DueDelivery],
               budget: int | None) -> DeliveryReport:
    """One destination's due deliveries, one message each, in order (``budget``: messages its
    hourly limit still allows, None for no limit)."""
    report = DeliveryReport()
    if dest.quiet_until(start) is not None:
        report.held += len(items)
        return report
    for item in items:
        if budget is not None and budget <= 0:
            report.held += 1
            continue
        doubt = item.state in outbox.IN_FLIGHT
        if doubt and item.attempts >= settings.delivery.max_attempts:
            _give_up_in_doubt(db, [item], report)
            continue
        payload = _payload(item)
        title, body = render(payload, language=dest.language, fmt=dest.fmt, templates=dest.templates,
                             timezone=settings.timezone)
        with db.session() as s:
            owned = outbox.claim_delivery(s, item.id, state=item.state, attempts=item.attempts, now=start,
                                          lease_until=clock() + timedelta(seconds=lease_seconds(settings)),
                                          note=IN_DOUBT if doubt else None)
        if not owned:
            continue  # another worker has it
        report.in_doubt += doubt
        if budget is not None:
            budget -= 1
        try:
            notifier.send(dest, title, body, dest.fmt, level=_LEVEL.get(str(payload.get("change")), "info"),
                          headers=keys.alert_headers(item.alert_key, dest.id))
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
    """Send one digest message per destination whose digest is due (destinations in parallel),
    grouping its alerts by target and kind; the same guarantee as ``deliver_due``, per digest."""
    clock = _clock(now)
    dests = by_id(settings)
    notifier = notifier or Notifier(timeout_seconds=settings.delivery.timeout_seconds)
    start = clock()
    with db.session() as s:
        queues = {d: items for d in dests if (items := outbox.due_digest_deliveries(s, start, [d]))}

    def work(dest_id: str, items: list[outbox.DueDelivery]) -> DeliveryReport:
        return _send_digests(db, settings, notifier, clock, start, dests[dest_id], items)

    report = _side_by_side(queues, work)
    report.destinations = tuple(dests)
    return report


def _digest_batches(items: Sequence[outbox.DueDelivery]) -> list[list[outbox.DueDelivery]]:
    """The digests to send: deliveries an earlier digest carried (it failed or was interrupted)
    go again as exactly that digest, so its idempotency key repeats; new ones go together, last.
    An earlier digest's deliveries share their attempts and their retry time or lease end."""
    earlier: dict[tuple[bool, int, datetime | None], list[outbox.DueDelivery]] = {}
    fresh: list[outbox.DueDelivery] = []
    for item in items:
        if item.attempts == 0:
            fresh.append(item)
        else:
            earlier.setdefault((item.state in outbox.IN_FLIGHT, item.attempts, item.due_at), []).append(item)
    oldest_first = sorted(earlier.values(), key=lambda batch: (batch[0].due_at or _EPOCH, batch[0].id))
    return oldest_first + ([fresh] if fresh else [])


def _send_digests(db: Database, settings: Settings, notifier: Notifier, clock: Callable[[], datetime],
                  start: datetime, dest: Destination, due: Sequence[outbox.DueDelivery]) -> DeliveryReport:
    """One destination's due digest deliveries, as one digest message per batch."""
    report = DeliveryReport()
    if dest.quiet_until(start) is not None:
        report.held += len(due)
        return report
    exhausted = [i for i in due if i.state in outbox.IN_FLIGHT and i.attempts >= settings.delivery.max_attempts]
    if exhausted:
        _give_up_in_doubt(db, exhausted, report)
    fmt = "text" if dest.is_console else dest.fmt
    for batch in _digest_batches([i for i in due if i not in exhausted]):
        lease_until = clock() + timedelta(seconds=lease_seconds(settings))
        with db.session() as s:
            claimed = [i for i in batch if outbox.claim_delivery(
                s, i.id, state=i.state, attempts=i.attempts, now=start, lease_until=lease_until,
                note=IN_DOUBT if i.state in outbox.IN_FLIGHT else None)]
        if not claimed:
            continue
        report.in_doubt += sum(1 for i in claimed if i.state in outbox.IN_FLIGHT)
        title, body = render_digest([_payload(i) for i in claimed], language=dest.language, fmt=fmt,
                                    templates=dest.templates, timezone=settings.timezone)
        try:
            notifier.send(dest, title, body, fmt, headers=keys.digest_headers(dest.id, [i.id for i in claimed]))
        except DeliveryError as exc:
            _record_failure(db, settings, claimed, dest, exc, clock(), report, digest=True)
            continue
        with db.session() as s:
            for item in claimed:
                outbox.mark_delivery_sent(s, item.id, clock())
        report.sent += len(claimed)
        report.messages += 1
    return report


def forget_removed(db: Database, settings: Settings) -> list[outbox.RemovedDestination]:
    """Give up (``failed``) every undelivered delivery whose destination is no longer configured;
    what was given up, per destination."""
    with db.session() as s:
        return outbox.forget_removed(s, list(by_id(settings)), FORGOTTEN)


def waiting_for_removed(db: Database, settings: Settings) -> list[outbox.RemovedDestination]:
    """Undelivered deliveries whose destination is no longer configured, per destination."""
    with db.session() as s:
        return outbox.waiting_for_removed(s, list(by_id(settings)))


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
        title, body = render(SAMPLE, language=dest.language, fmt=dest.fmt, templates=dest.templates,
                             timezone=settings.timezone)
        try:
            notifier.send(dest, title, body, dest.fmt)
        except DeliveryError as exc:
            out.append((dest.label, False, str(exc)))
        else:
            out.append((dest.label, True, "sent"))
    return out
