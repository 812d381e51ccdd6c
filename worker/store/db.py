"""Engines, sessions and schema upgrades for SQLite and PostgreSQL.

``Database(url)`` owns one engine and a session factory; ``migrate()`` brings the schema to the
newest Alembic revision (run on every start, and by ``policywatch migrate``). SQLite runs in WAL
mode with foreign keys on and a busy timeout, so a ``run`` and a cron ``once`` can share a file.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from worker.errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000  # a cron `once` may wait for a long `run` transaction


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _postgres_session(dbapi_conn: Any, _record: Any) -> None:
    # psycopg prepares a statement run five times, and PostgreSQL then plans it once for any
    # parameters. A plan made while the claim tables were small (a sequential scan) stays in use
    # as they grow: plan each execution for its own keys instead (parsing is still saved).
    cur = dbapi_conn.cursor()
    cur.execute("SET plan_cache_mode = force_custom_plan")
    cur.close()
    dbapi_conn.commit()


def make_engine(url: str, connections: int = 5) -> Engine:
    """An engine for ``url``; creates the SQLite file's directory when needed. A server database
    keeps up to ``connections`` open: as many as threads use it at once, since each connection
    opened beyond them is closed again after use (a new PostgreSQL backend costs milliseconds and
    starts with cold caches). An in-memory SQLite database keeps its single connection."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several kinds here
        raise StoreError("POLICYWATCH_DATABASE_URL is not a valid SQLAlchemy URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        pool = {"pool_size": connections, "max_overflow": 5} if parsed.database not in (None, "", ":memory:") else {}
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(parsed, pool_pre_ping=True, pool_size=connections, max_overflow=5)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_session)
    return engine


class Database:
    """One database: an engine, a session factory and the schema's migrations."""

    def __init__(self, url: str, *, connections: int = 5) -> None:
        self.url = url
        self.engine = make_engine(url, connections)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise StoreError(f"database error: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision (creates it on an empty database)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["engine"] = self.engine
        try:
            command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot upgrade the database schema: {str(exc).splitlines()[0][:200]}") from exc

    def has_schema(self) -> bool:
        return inspect(self.engine).has_table("alembic_version")

    def dispose(self) -> None:
        self.engine.dispose()
