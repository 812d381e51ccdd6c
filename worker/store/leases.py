"""Leases: which worker process owns a named resource (a source being polled) right now.

A lease is one ``leases`` row (name, holder, expires_at). ``acquire`` takes a free or expired lease
in one statement, ``INSERT ... ON CONFLICT (name) DO UPDATE ... WHERE expires_at <= now``: on
PostgreSQL the conflicting row is locked and the condition re-checked on its newest version, on
SQLite the write lock serialises writers, so of two processes racing for one name exactly one gets
``True``. A holder that crashes stops renewing and its lease lapses after ``ttl`` seconds.

Times are compared as UTC timestamps taken from each worker's own clock (``now``, injectable for
tests): hosts sharing a store must keep their clocks in sync (NTP); the TTLs used are minutes, so
seconds of skew do not matter.
"""
from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from worker.errors import StoreError
from worker.store.db import Database
from worker.store.schema import LeaseRow

Target = Database | Session


def holder_id() -> str:
    """A name for this process that no other process, here or on another host, will use."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _run(target: Target, work: Callable[[Session], bool]) -> bool:
    """Run ``work(session)`` in the caller's session, or in a transaction of its own on a Database
    (committed at once, so other processes see the lease)."""
    if isinstance(target, Session):
        try:
            return bool(work(target))
        except SQLAlchemyError as exc:
            raise StoreError(f"lease: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from exc
    with target.session() as session:
        return bool(work(session))


def acquire(target: Target, name: str, holder: str, ttl: float, *, now: datetime | None = None) -> bool:
    """Take lease ``name`` for ``holder`` for ``ttl`` seconds when nobody holds it or its holder's
    time ran out; True when taken. Held (even by ``holder`` itself): False. ``StoreError`` on a
    database failure."""
    at = _utc(now)
    until = at + timedelta(seconds=ttl)

    def work(session: Session) -> bool:
        dialect = session.get_bind().dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise StoreError(f"leases need SQLite or PostgreSQL, not {dialect}")
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = insert(LeaseRow).values(name=name, holder=holder, expires_at=until)
        stmt = stmt.on_conflict_do_update(
            index_elements=[LeaseRow.name],
            set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
            where=LeaseRow.expires_at <= at)
        return session.scalar(stmt.returning(LeaseRow.holder)) == holder
    return _run(target, work)


def renew(target: Target, name: str, holder: str, ttl: float, *, now: datetime | None = None) -> bool:
    """Extend ``holder``'s lease ``name`` to ``ttl`` seconds from now; False when it is not (or no
    longer) theirs: another process took it over after it lapsed."""
    until = _utc(now) + timedelta(seconds=ttl)

    def work(session: Session) -> bool:
        result = session.execute(update(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder)
                                 .values(expires_at=until).execution_options(synchronize_session=False))
        return result.rowcount == 1
    return _run(target, work)


def release(target: Target, name: str, holder: str) -> bool:
    """Give lease ``name`` up; False when ``holder`` did not hold it (it lapsed and was taken)."""
    def work(session: Session) -> bool:
        result = session.execute(delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder)
                                 .execution_options(synchronize_session=False))
        return result.rowcount == 1
    return _run(target, work)


def holder_of(target: Target, name: str, *, now: datetime | None = None) -> str | None:
    """Who holds lease ``name`` now (None when free or lapsed); for status output and tests."""
    at = _utc(now)
    found: list[str | None] = [None]

    def work(session: Session) -> bool:
        row = session.get(LeaseRow, name)
        if row is not None and _utc(row.expires_at) > at:
            found[0] = row.holder
        return True
    _run(target, work)
    return found[0]
