"""Outbox queries: alerts stored before delivery, and the delivery state of each destination.

A delivery moves ``pending`` -> ``sending`` (claimed: ``next_attempt_at`` is then the lease's
end) -> ``sent`` | back to ``pending`` (retry later) | ``failed``. A digest delivery moves the
same way through ``digest`` -> ``digesting`` (claimed) -> ``sent`` | ``digest`` | ``failed``; a
``sending`` or ``digesting`` delivery whose lease ran out was interrupted: it is *in doubt*. Claims are
compare-and-set updates, so two workers never both own one delivery.

A delivery whose destination is no longer configured (its URL left ``POLICYWATCH_NOTIFY_URLS``)
stays as it is and resumes if the URL returns; ``waiting_for_removed`` counts them and
``forget_removed`` gives them up.

All times are stored in UTC: SQLite keeps no offset, so mixed offsets would compare wrongly.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from worker.store.schema import AlertRow, DeliveryRow

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
DIGEST, DIGESTING = "digest", "digesting"
IN_FLIGHT = (SENDING, DIGESTING)
UNDELIVERED = (PENDING, SENDING, DIGEST, DIGESTING)


def utc(moment: datetime) -> datetime:
    """``moment`` as aware UTC (a naive value, as SQLite returns them, is taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class DueDelivery:
    """One delivery ready to be claimed, with what its message needs."""

    id: int
    alert_id: int
    alert_key: str
    destination: str
    state: str
    attempts: int
    kind: str
    target: str | None
    payload: dict[str, Any]
    due_at: datetime | None = None  # next_attempt_at: the slot, the retry time or the lease's end


class RemovedDestination(NamedTuple):
    """Deliveries waiting for a destination that is not configured any more."""

    destination: str  # its id
    label: str  # its redacted URL, as stored with the deliveries
    count: int


class AlertDeliveries(NamedTuple):
    """An alert and the delivery state of each of its destinations (unpacks as a pair)."""

    alert: AlertRow
    deliveries: tuple[DeliveryRow, ...]


_ALERT_COLUMNS = ("key", "kind", "change", "claim_key", "target", "article_id", "payload", "created_at")
# INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id, built once per dialect
_INSERT_ALERT = {
    name: dialect.insert(AlertRow)
    .values({c: bindparam(c, type_=AlertRow.__table__.c[c].type) for c in _ALERT_COLUMNS})
    .on_conflict_do_nothing(index_elements=["key"]).returning(AlertRow.id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))}


def insert_alert(session: Session, **values: Any) -> int | None:
    """Insert an alert row; its id, or None when an alert with that key exists (race-free)."""
    values["created_at"] = utc(values["created_at"])
    dialect = session.get_bind().dialect.name
    if dialect in _INSERT_ALERT:
        return session.connection().execute(_INSERT_ALERT[dialect], values).scalar()
    if session.scalar(select(AlertRow.id).where(AlertRow.key == values["key"])) is not None:
        return None
    row = AlertRow(**values)
    session.add(row)
    session.flush()
    return row.id


def add_delivery(session: Session, *, alert_id: int, destination: str, label: str, state: str,
                 next_attempt_at: datetime) -> None:
    """Queue one alert for one destination (written with the session's next flush)."""
    session.add(DeliveryRow(alert_id=alert_id, destination=destination, label=label, state=state,
                            attempts=0, next_attempt_at=utc(next_attempt_at)))


def _due(session: Session, states: Sequence[str], now: datetime, destinations: Sequence[str],
         limit: int) -> list[DueDelivery]:
    stmt = (select(DeliveryRow, AlertRow).join(AlertRow, AlertRow.id == DeliveryRow.alert_id)
            .where(DeliveryRow.state.in_(states), DeliveryRow.next_attempt_at <= utc(now),
                   DeliveryRow.destination.in_(list(destinations)))
            .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id).limit(limit))
    return [DueDelivery(d.id, a.id, a.key, d.destination, d.state, d.attempts, a.kind, a.target,
                        dict(a.payload or {}), utc(d.next_attempt_at) if d.next_attempt_at else None)
            for d, a in session.execute(stmt)]


def due_deliveries(session: Session, now: datetime, destinations: Sequence[str],
                   limit: int = 500) -> list[DueDelivery]:
    """Immediate deliveries to send now, oldest first: pending ones whose time has come, and
    sending ones whose lease ran out (their sender died: in doubt)."""
    return _due(session, (PENDING, SENDING), now, destinations, limit)


def due_digest_deliveries(session: Session, now: datetime, destinations: Sequence[str],
                          limit: int = 2000) -> list[DueDelivery]:
    """Digest deliveries whose digest is due (or whose earlier digest attempt ran out its lease)."""
    return _due(session, (DIGEST, DIGESTING), now, destinations, limit)


def claim_delivery(session: Session, delivery_id: int, *, state: str, attempts: int, now: datetime,
                   lease_until: datetime, note: str | None = None) -> bool:
    """Take a due delivery for one attempt; False when another worker took or changed it first."""
    new_state = DIGESTING if state in (DIGEST, DIGESTING) else SENDING
    values: dict[str, Any] = {"state": new_state, "attempts": attempts + 1,
                              "next_attempt_at": utc(lease_until)}
    if note is not None:
        values["last_error"] = note
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id, DeliveryRow.state == state,
               DeliveryRow.attempts == attempts, DeliveryRow.next_attempt_at <= utc(now))
        .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


def mark_delivery_sent(session: Session, delivery_id: int, now: datetime) -> None:
    """Record that the message carrying this delivery was accepted by its destination (the last
    error, if any, stays: it tells how the delivery got there)."""
    session.execute(update(DeliveryRow).where(DeliveryRow.id == delivery_id)
                    .values(state=SENT, sent_at=utc(now), next_attempt_at=None)
                    .execution_options(synchronize_session=False))


def schedule_retry(session: Session, delivery_id: int, at: datetime, error: str, *,
                   digest: bool = False) -> None:
    """Put a delivery back in the queue for another attempt at ``at``."""
    session.execute(update(DeliveryRow).where(DeliveryRow.id == delivery_id, DeliveryRow.state != SENT)
                    .values(state=DIGEST if digest else PENDING, next_attempt_at=utc(at), last_error=error)
                    .execution_options(synchronize_session=False))


def mark_delivery_failed(session: Session, delivery_id: int, error: str) -> None:
    """Give a delivery up: it stays in the database with its last error, for people to see."""
    session.execute(update(DeliveryRow).where(DeliveryRow.id == delivery_id, DeliveryRow.state != SENT)
                    .values(state=FAILED, next_attempt_at=None, last_error=error)
                    .execution_options(synchronize_session=False))


def sent_since(session: Session, destination: str, since: datetime) -> int:
    """How many deliveries a destination received after ``since`` (for its hourly limit)."""
    return session.scalar(select(func.count(DeliveryRow.id)).where(
        DeliveryRow.destination == destination, DeliveryRow.state == SENT,
        DeliveryRow.sent_at > utc(since))) or 0


def recent_alerts(session: Session, limit: int = 50) -> list[AlertDeliveries]:
    """The newest alerts, newest first, each with its deliveries (for ``policywatch alerts``)."""
    alerts = list(session.scalars(select(AlertRow).order_by(AlertRow.created_at.desc(), AlertRow.id.desc())
                                  .limit(limit)))
    by_alert: dict[int, list[DeliveryRow]] = {a.id: [] for a in alerts}
    if alerts:
        rows = session.scalars(select(DeliveryRow).where(DeliveryRow.alert_id.in_(list(by_alert)))
                               .order_by(DeliveryRow.id))
        for row in rows:
            by_alert[row.alert_id].append(row)
    return [AlertDeliveries(a, tuple(by_alert[a.id])) for a in alerts]


def delivery_counts(session: Session) -> dict[str, int]:
    """How many deliveries are in each state."""
    rows = session.execute(select(DeliveryRow.state, func.count(DeliveryRow.id)).group_by(DeliveryRow.state))
    return {state: count for state, count in rows}


def waiting_for_removed(session: Session, configured: Sequence[str]) -> list[RemovedDestination]:
    """Undelivered deliveries whose destination is not among ``configured``, per destination
    (most first)."""
    rows = session.execute(
        select(DeliveryRow.destination, func.max(DeliveryRow.label), func.count(DeliveryRow.id))
        .where(DeliveryRow.state.in_(UNDELIVERED), DeliveryRow.destination.not_in(list(configured)))
        .group_by(DeliveryRow.destination))
    found = [RemovedDestination(dest, label or dest, int(n)) for dest, label, n in rows]
    return sorted(found, key=lambda r: (-r.count, r.label))


def forget_removed(session: Session, configured: Sequence[str], error: str) -> list[RemovedDestination]:
    """Give up every undelivered delivery whose destination is not among ``configured``: they
    become ``failed`` with ``error``; what was given up, per destination."""
    found = waiting_for_removed(session, configured)
    if found:
        session.execute(update(DeliveryRow)
                        .where(DeliveryRow.state.in_(UNDELIVERED),
                               DeliveryRow.destination.in_([r.destination for r in found]))
                        .values(state=FAILED, next_attempt_at=None, last_error=error)
                        .execution_options(synchronize_session=False))
    return found
