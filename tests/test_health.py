"""Health and metrics: the health section, /healthz with an injected clock, /healthz over real HTTP
while a real database hangs (a held lock, a server that never answers), /metrics with the
undelivered queue read from the database, the heartbeat file, retention."""
from __future__ import annotations

import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import CONFIG
from worker import metrics
from worker.errors import ConfigError
from worker.health import (Health, HealthServer, HealthSettings, ProgressHeartbeat, health_settings,
                           read_heartbeat, write_heartbeat)
from worker.settings import load_settings
from worker.store.db import Database

ROOT = Path(__file__).resolve().parent.parent


def settings_with(tmp_path: Path, extra: dict):
    base = load_settings({"POLICYWATCH_DATA_DIR": str(tmp_path)}, config_dir=CONFIG)
    return replace(base, extra={**base.extra, **extra})


@pytest.mark.parametrize("section, expected", [
    ({}, HealthSettings()),
    ({"listen": ""}, HealthSettings()),
    ({"listen": "127.0.0.1:9464"}, HealthSettings("127.0.0.1", 9464)),
    ({"listen": "0.0.0.0:0", "stuck_after_seconds": 60}, HealthSettings("0.0.0.0", 0, 60.0)),
    ({"listen": "[::1]:9464"}, HealthSettings("::1", 9464)),
    ({"listen": ":9464"}, HealthSettings("0.0.0.0", 9464)),
    ({"database_timeout_seconds": 1.5}, HealthSettings(database_timeout_seconds=1.5)),
])
def test_health_section(tmp_path: Path, section: dict, expected: HealthSettings) -> None:
    assert health_settings(settings_with(tmp_path, {"health": section})) == expected


@pytest.mark.parametrize("section, message", [
    ({"listen": "9464"}, "health.listen: expected host:port"),
    ({"listen": "localhost:http"}, "health.listen"),
    ({"stuck_after_seconds": 0}, "health.stuck_after_seconds"),
    ({"database_timeout_seconds": "3s"}, "health.database_timeout_seconds: expected a positive number"),
    ({"database_timeout_seconds": True}, "health.database_timeout_seconds"),
    ({"port": 9464}, "health.port: expected one of listen"),
    ("on", "health: expected a mapping"),
])
def test_health_section_errors(tmp_path: Path, section: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        health_settings(settings_with(tmp_path, {"health": section}))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_healthz_follows_ticks_progress_and_the_database(db: Database) -> None:
    clock, progress = Clock(), [0.0]
    health = Health(db, tick_seconds=30, stuck_after_seconds=900, clock=clock, last_progress=lambda: progress[0])
    assert health.check() == (False, "the scheduler has not ticked yet")
    health.tick()
    assert health.check() == (True, "ok")
    clock.now += 91
    assert health.check() == (False, "the scheduler has not ticked for 91 s")
    health.tick()
    health.begin_pass()
    progress[0] = clock.now
    clock.now += 600
    health.tick()
    assert health.check()[0], "a long pass that makes progress is healthy"
    clock.now += 301
    health.tick()
    assert health.check() == (False, "a pass has finished no source or article for 901 s")
    health.end_pass()
    assert health.check() == (True, "ok")
    health.stopping = True
    assert health.check() == (False, "stopping")


def test_the_shipped_health_section() -> None:
    assert health_settings(load_settings({}, config_dir=CONFIG)) == HealthSettings(
        "127.0.0.1", 9464, stuck_after_seconds=900.0, database_timeout_seconds=3.0)


def test_healthz_says_when_the_database_is_away() -> None:
    away = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    health = Health(away, tick_seconds=30)
    health.tick()
    ok, reason = health.check()
    assert not ok and reason.startswith("the database does not answer: OperationalError")
    away.dispose()


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def test_endpoints_over_http_with_the_queue_from_the_database(db: Database) -> None:
    from worker.store import outbox

    now = datetime(2025, 4, 2, tzinfo=UTC)
    with db.session() as s:
        for i, state in enumerate(["pending", "pending", "digest", "sent"]):
            alert_id = outbox.insert_alert(s, key=f"k{i}", kind="figure", change="new", claim_key="c", target=None,
                                           article_id=None, payload={}, created_at=now)
            outbox.add_delivery(s, alert_id=alert_id, destination="d", label="d", state=state,
                                next_attempt_at=now + timedelta(minutes=i))
    health = Health(db, tick_seconds=30)
    server = HealthServer(health, "127.0.0.1", 0).start()
    metrics.watch_queue(db)
    try:
        status, _, body = get(server.url + "/healthz")
        assert (status, body) == (503, "the scheduler has not ticked yet\n")
        health.tick()
        assert get(server.url + "/healthz")[::2] == (200, "ok\n")
        status, ctype, text = get(server.url + "/metrics")
        assert status == 200 and ctype.startswith("text/plain")
        assert 'policywatch_undelivered_alerts{state="pending"} 2.0' in text
        assert 'policywatch_undelivered_alerts{state="digest"} 1.0' in text
        for name in ("policywatch_sources_polled_total", "policywatch_articles_total", "policywatch_claims_total",
                     "policywatch_alerts_raised_total", "policywatch_alerts_delivered_total",
                     "policywatch_fetch_seconds_bucket", "policywatch_last_progress_timestamp_seconds"):
            assert name in text, name
        assert get(server.url + "/nope")[0] == 404
    finally:
        metrics.unwatch_queue()
        server.stop()


def test_a_scrape_survives_the_database_going_away() -> None:
    away = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    metrics.watch_queue(away)
    try:
        text = metrics.exposition()  # no error: the queue gauges are left out (not a false 0)
        assert b"policywatch_undelivered_alerts{" not in text and b"policywatch_articles_total" in text
    finally:
        metrics.unwatch_queue()
        away.dispose()


def test_delivery_reports_are_counted() -> None:
    from worker.alerts import DeliveryReport

    before = metrics.value("policywatch_alerts_delivered_total", result="sent")
    failed = metrics.value("policywatch_alerts_delivered_total", result="failed")
    metrics.delivery_done(DeliveryReport(sent=3, failed=1))
    assert metrics.value("policywatch_alerts_delivered_total", result="sent") == before + 3
    assert metrics.value("policywatch_alerts_delivered_total", result="failed") == failed + 1


def test_heartbeat_file(tmp_path: Path) -> None:
    when = datetime(2025, 4, 2, 3, 4, 5, tzinfo=UTC)
    path = write_heartbeat(tmp_path / "data", "once", {"sources": 3, "failing": 1}, now=when)
    assert path.name == "heartbeat.json"
    beat = read_heartbeat(tmp_path / "data")
    assert beat is not None and beat["time"] == "2025-04-02T03:04:05+00:00"
    assert beat["command"] == "once" and beat["sources"] == 3 and beat["failing"] == 1
    assert read_heartbeat(tmp_path / "elsewhere") is None


def test_retention_prunes_old_texts_and_keeps_claims(db: Database, tmp_path: Path) -> None:
    from worker.model import Article
    from worker.scheduler import prune, retention_days
    from worker.store import queries
    from worker.store.schema import ArticleRow

    settings = settings_with(tmp_path, {"retention": {"article_text_days": 90}})
    assert retention_days(settings) == 90
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with db.session() as s:
        for i, age in enumerate((100, 10)):
            queries.add_article(s, Article(url=f"https://x.example/{i}", title="t", text=f"본문 {i}", outlet="o"),
                                source_name="s", content_hash=f"h{i}", fingerprint=i + 1, now=now - timedelta(days=age))
    assert prune(settings, db, now) == 1
    with db.session() as s:
        texts = {r.url: r.text for r in s.query(ArticleRow)}
    assert texts == {"https://x.example/0": None, "https://x.example/1": "본문 1"}
    assert prune(settings_with(tmp_path, {"retention": {"article_text_days": 0}}), db, now) == 0
    with pytest.raises(ConfigError, match="retention.article_text_days"):
        retention_days(settings_with(tmp_path, {"retention": {"article_text_days": "90d"}}))


# --- a hung database -----------------------------------------------------------------------------

class Locked:
    """Another session holding the database so that no one else can read the schema version:
    SQLite's exclusive locking mode (in WAL mode a plain BEGIN EXCLUSIVE lets readers through),
    PostgreSQL's ACCESS EXCLUSIVE table lock."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.engine.raw_connection()  # a connection of its own, outside the pool's reuse
        self.sqlite = db.engine.dialect.name == "sqlite"

    def __enter__(self) -> Locked:
        cur = self.conn.cursor()
        if self.sqlite:
            self.conn.driver_connection.isolation_level = None  # explicit BEGIN
            cur.execute("PRAGMA locking_mode=EXCLUSIVE")
            cur.execute("BEGIN EXCLUSIVE")
            cur.execute("UPDATE alembic_version SET version_num = version_num")
        else:
            cur.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback()
        if self.sqlite:
            self.conn.driver_connection.execute("PRAGMA locking_mode=NORMAL")
            self.conn.driver_connection.execute("SELECT count(*) FROM alembic_version").fetchall()  # lets go
        self.conn.invalidate()  # never back into the pool


def probe_threads() -> int:
    return sum(t.name == "health-database" and t.is_alive() for t in threading.enumerate())


def timed_get(url: str) -> tuple[int, str, float]:
    started = time.monotonic()
    status, _, body = get(url)
    return status, body, time.monotonic() - started


@pytest.mark.slow
def test_healthz_answers_503_quickly_while_the_database_hangs(db: Database) -> None:
    health = Health(db, tick_seconds=30, database_timeout_seconds=2)
    health.tick()
    server = HealthServer(health, "127.0.0.1", 0).start()
    try:
        assert get(server.url + "/healthz")[::2] == (200, "ok\n")
        with Locked(db):
            # the same read from a session of the pool really hangs (until the busy or lock timeout)
            status, body, took = timed_get(server.url + "/healthz")
            assert status == 503 and body.startswith("the database did not answer within 2 s"), body
            assert took < 15, took
            # probes keep coming: each answers, and only one question to the database is outstanding
            answers: list[tuple[int, str, float]] = []
            probes = [threading.Thread(target=lambda: answers.append(timed_get(server.url + "/healthz")))
                      for _ in range(4)]
            for t in probes:
                t.start()
            for t in probes:
                t.join(30)
            assert len(answers) == 4 and all(a[0] == 503 and a[2] < 15 for a in answers), answers
            assert all("did not answer within 2 s" in a[1] for a in answers), answers
            assert probe_threads() == 1
            health.tick()
        # the lock is gone: the outstanding question gets its answer and /healthz is well again
        deadline = time.monotonic() + 60
        while get(server.url + "/healthz")[::2] != (200, "ok\n") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert get(server.url + "/healthz")[::2] == (200, "ok\n")
        assert probe_threads() == 0
    finally:
        server.stop()


@pytest.mark.slow
def test_healthz_answers_503_when_the_database_server_never_answers() -> None:
    """A PostgreSQL URL whose server accepts the connection and then says nothing (a hung host)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        hung = Database(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none")
        health = Health(hung, tick_seconds=30, database_timeout_seconds=1)
        health.tick()
        server = HealthServer(health, "127.0.0.1", 0).start()
        try:
            status, body, took = timed_get(server.url + "/healthz")
            assert status == 503 and body.startswith("the database did not answer within 1 s"), body
            assert took < 15, took
            assert health.check()[1].startswith("the database did not answer within 1 s")
            assert probe_threads() == 1
        finally:
            server.stop()
    # the socket is closed: the connection attempt fails and its thread ends
    deadline = time.monotonic() + 30
    while probe_threads() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert probe_threads() == 0
    assert health.check()[1].startswith("the database does not answer: OperationalError")
    hung.dispose()


def test_progress_heartbeat_follows_the_pass(tmp_path: Path) -> None:
    moved, done = [0.0], [5]
    beat = ProgressHeartbeat(tmp_path, poll_seconds=0.05, last_progress=lambda: moved[0],
                             articles_done=lambda: done[0]).start()
    try:
        first = read_heartbeat(tmp_path)
        assert first is not None and first["state"] == "running" and first["articles_done"] == 0
        done[0], moved[0] = 7, time.time() + 3600  # two articles done (an hour ahead: a time of its own)
        deadline = time.monotonic() + 10
        while (read_heartbeat(tmp_path) or {}).get("articles_done") != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        now = read_heartbeat(tmp_path)
        assert now is not None and now["articles_done"] == 2
        assert now["time"] == datetime.fromtimestamp(moved[0], UTC).isoformat(timespec="seconds")
    finally:
        beat.stop()
    (tmp_path / "heartbeat.json").unlink()
    time.sleep(0.2)
    assert read_heartbeat(tmp_path) is None, "stopped: it writes no more"


@pytest.mark.slow
def test_metrics_scrape_does_not_hang_on_a_silent_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """/metrics reads the undelivered queue from the database: a server that never answers leaves
    the queue gauges out of the scrape after a short wait, and the other metrics still come."""
    monkeypatch.setattr(metrics, "QUEUE_READ_TIMEOUT_SECONDS", 1.0)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        hung = Database(f"postgresql+psycopg://nobody@127.0.0.1:{silent.getsockname()[1]}/none")
        metrics.watch_queue(hung, ["console"])
        try:
            started = time.monotonic()
            first = metrics.exposition().decode()
            second = metrics.exposition().decode()  # the first read is still stuck: no second one starts
            assert time.monotonic() - started < 15
            for text in (first, second):
                assert "policywatch_undelivered_alerts{" not in text
                assert "policywatch_articles_total" in text
            assert sum(t.name == "metrics-queue" for t in threading.enumerate()) == 1
        finally:
            metrics.unwatch_queue()
    hung.dispose()
