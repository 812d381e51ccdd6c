"""The queries an article runs while it is compared use indexes, on SQLite and PostgreSQL, and
SQLAlchemy can cache each of them (one it cannot is compiled again for every article).

Every SELECT the pipeline sends while processing an article (duplicate check, known claims,
related stories, outbox) is captured and explained. SQLite's plan must not SCAN a claims or
articles table; PostgreSQL, asked with sequential scans disabled (its planner rightly prefers
them on tables this small), must not fall back to one. A full scan here would make every article
slower as the store grows.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from tests.test_pipeline import make_pipeline
from worker.claims.lexicon import Lexicon
from worker.documents import read_document
from worker.store import queries

REPLAY = Path(__file__).resolve().parent / "fixtures" / "replay"
BIG_TABLES = ("articles", "figures", "positions", "alerts", "deliveries")


def _explain(conn: Any, dialect: str, statement: str, params: Any) -> Any:
    if dialect == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).fetchall()
        return "\n".join(str(r[-1]) for r in rows)
    return conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params).scalar()[0]["Plan"]


def _full_scans(plan: Any, dialect: str) -> list[str]:
    if dialect == "sqlite":
        # SEARCH is a bounded lookup; SCAN reads a whole table, or a whole index of it
        return [line for line in plan.splitlines()
                if (m := re.match(r"\s*SCAN (\w+?)(?:_\d+)?\b", line)) and m.group(1) in BIG_TABLES]
    # a sequential scan, or an index scan with no condition on the index (it reads all of it)
    found = []
    nodes = [plan]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        if node.get("Relation Name") not in BIG_TABLES:
            continue
        kind = node["Node Type"]
        if kind == "Seq Scan" or (kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node):
            found.append(f"{kind} on {node['Relation Name']} {node.get('Index Name', '')}".strip())
    return found


def test_comparison_queries_use_indexes(tmp_path: Path, lexicon: Lexicon, database_url: str) -> None:
    pipeline, _sink = make_pipeline(tmp_path, lexicon, database_url)
    pipeline.ensure_baseline()
    docs = sorted(REPLAY.glob("*.txt"))
    assert len(docs) >= 5
    for path in docs[:-2]:
        pipeline.process_article(read_document(path))
    captured: list[tuple[str, Any]] = []
    uncached: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, params))
        # a statement SQLAlchemy cannot cache is compiled again for every article
        if getattr(context, "cache_hit", None) is context.dialect.NO_CACHE_KEY:
            uncached.append(statement)

    engine = pipeline.db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        # as in a process that starts now: the in-memory windows load from the store first
        pipeline._recent, pipeline._recent_values = queries.RecentFingerprints(), queries.RecentValues()
        pipeline.process_article(read_document(docs[-2]))
        pipeline.process_article(read_document(docs[-1]))  # then they are topped up
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(captured) >= 5, captured
    assert not uncached, "statements without a cache key:\n" + "\n\n".join(uncached)
    dialect = engine.dialect.name
    problems = []
    with engine.connect() as conn:
        if dialect == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))
        for statement, params in captured:
            plan = _explain(conn, dialect, statement, params)
            if scans := _full_scans(plan, dialect):
                problems.append(f"{statement}\n{scans}")
    pipeline.db.dispose()
    assert not problems, "\n\n".join(problems)


def test_window_top_ups_use_an_index_before_the_tables_have_statistics(database_url: str) -> None:
    """Each article tops up the in-memory windows with the rows stored since the last look. On a
    PostgreSQL table without statistics (never analyzed: autovacuum off, or not yet run) the
    planner guesses a third of the table for ``id > n`` and chose a sequential scan, so every
    article read all articles. With a range of two ends it keeps to the index; checked here with
    sequential scans allowed, on tables big enough for the difference to matter."""
    import pytest
    from datetime import UTC, datetime, timedelta

    from worker.store.db import Database
    from worker.store.schema import ArticleRow, FigureRow

    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL planner question")
    db = Database(database_url)
    db.migrate()
    now = datetime(2025, 4, 10, tzinfo=UTC)
    with db.engine.begin() as conn:
        for table in ("articles", "figures"):
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        conn.execute(ArticleRow.__table__.insert(), [
            {"id": i, "url": f"u{i}", "outlet": "o", "title": "t", "text": "본문 " * 20, "content_hash": f"h{i}",
             "simhash": i, "fetched_at": now - timedelta(minutes=i % 5000), "is_baseline": False, "on_topic": True}
            for i in range(1, 4001)])
        conn.execute(FigureRow.__table__.insert(), [
            {"article_id": i, "key": "k", "base_key": "b", "subject_key": "s|count", "subject": "s", "metric": "m",
             "value": float(i % 50), "unit": "COUNT", "qualifier": "exact", "sentence": "", "observed_at": now}
            for i in range(1, 4001) for _ in range(3)])
    fingerprints, values = queries.RecentFingerprints(), queries.RecentValues()
    since = now - timedelta(days=7)
    with db.session() as s:  # the first looks load the windows
        fingerprints.closest(s, 7, since)
        values.stating(s, [("COUNT", 1, 2)], since, 0)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.session() as s:
            fingerprints.closest(s, 7, since)
            values.stating(s, [("COUNT", 1, 2)], since, 0)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert len(captured) == 2
    with db.engine.connect() as conn:
        scans = [(statement, _full_scans(_explain(conn, "postgresql", statement, params), "postgresql"))
                 for statement, params in captured]
    db.dispose()
    assert not [s for s in scans if s[1]], scans
