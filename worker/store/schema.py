"""The database schema (SQLAlchemy 2.x declarative). Alembic migrations in ``worker/migrations``
create and upgrade it; ``tests/test_migrations.py`` checks that the two agree.

Known claims are the rows of ``figures`` and ``positions``: every observation is kept with its
article, so a claim's history is the list of its observations under one ``key``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    """A configured source and its fetch state (the configuration itself lives in sources.yaml)."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text, default="")
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    interval_seconds: Mapped[int | None] = mapped_column(Integer)  # adaptive polling interval
    error_count: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failures
    total_errors: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    articles_seen: Mapped[int] = mapped_column(Integer, default=0)
    empty_extractions: Mapped[int] = mapped_column(Integer, default=0)  # consecutive
    ops_alert_open: Mapped[bool] = mapped_column(Boolean, default=False)


class EntryRow(Base):
    """A feed entry seen once: it is never fetched again (identity: source + key)."""

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("source_name", "key", name="uq_entries_source_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="done")  # done | skipped | failed
    detail: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class ArticleRow(Base):
    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)  # canonical URL, or seed path
    outlet: Mapped[str] = mapped_column(String(200), default="")
    source_name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    text: Mapped[str | None] = mapped_column(Text)  # pruned by retention; claims stay
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    simhash: Mapped[int] = mapped_column(BigInteger, default=0)
    sketch: Mapped[bytes | None] = mapped_column(LargeBinary)  # dedup.fingerprint; kept when text is pruned
    is_baseline: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    on_topic: Mapped[bool] = mapped_column(Boolean, default=True)


class FigureRow(Base):
    __tablename__ = "figures"
    __table_args__ = (Index("ix_figures_key_observed", "key", "observed_at"),
                      # the newest observation of each period under a base key, ranked in the index
                      Index("ix_figures_base_period", "base_key", "period", "observed_at", "id"),
                      # a subject's known values near a new one (queries.known_figures_by_subject)
                      Index("ix_figures_subject_value", "subject_key", "unit", "value"),
                      Index("ix_figures_subject_equivalent", "subject_key", "equivalent_unit", "equivalent_value"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(500))
    base_key: Mapped[str] = mapped_column(String(500))  # the key without the period
    subject_key: Mapped[str | None] = mapped_column(String(500))  # subject|unit kind
    subject: Mapped[str] = mapped_column(String(300), default="")
    metric: Mapped[str] = mapped_column(String(300), default="")
    value: Mapped[float] = mapped_column(Float)
    value_max: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(30))
    qualifier: Mapped[str] = mapped_column(String(10), default="exact")
    period: Mapped[str | None] = mapped_column(String(20))
    sentence: Mapped[str] = mapped_column(Text, default="")
    equivalent_value: Mapped[float | None] = mapped_column(Float)
    equivalent_unit: Mapped[str | None] = mapped_column(String(30))
    equivalent_qualifier: Mapped[str | None] = mapped_column(String(10))
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    article: Mapped[ArticleRow] = relationship()


class PositionRow(Base):
    __tablename__ = "positions"
    __table_args__ = (Index("ix_positions_key_observed", "key", "observed_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(300))
    actor_text: Mapped[str] = mapped_column(String(300), default="")
    actor_parent: Mapped[str | None] = mapped_column(String(300))
    target: Mapped[str] = mapped_column(String(300), index=True)
    stance: Mapped[str] = mapped_column(String(10))
    modality: Mapped[str] = mapped_column(String(12))
    sentence: Mapped[str] = mapped_column(Text, default="")
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    article: Mapped[ArticleRow] = relationship()


class AlertRow(Base):
    """An alert, stored before any delivery attempt (the outbox)."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # figure | position | ops
    change: Mapped[str] = mapped_column(String(20))  # new | changed | failing | recovered
    claim_key: Mapped[str] = mapped_column(String(500), default="")
    target: Mapped[str | None] = mapped_column(String(300))  # for routing and digests
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    payload: Mapped[dict] = mapped_column(JSON)  # the contract's alert object, plus link/outlet/date
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class DeliveryRow(Base):
    """The delivery state of one alert to one destination."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "destination", name="uq_deliveries_alert_dest"),
                      Index("ix_deliveries_due", "state", "next_attempt_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    destination: Mapped[str] = mapped_column(String(64))  # a hash of the URL: never the secret itself
    label: Mapped[str] = mapped_column(String(300), default="")  # redacted, for people
    state: Mapped[str] = mapped_column(String(12), default="pending")  # see store/outbox.py
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LeaseRow(Base):
    """A lease held by one worker process on a named resource (a source, the delivery loop)."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
