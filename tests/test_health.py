"""Health and metrics: the health section, /healthz with an injected clock, /metrics over real
HTTP with the undelivered queue read from the database, the heartbeat file, retention."""
from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import CONFIG
from worker import metrics
from worker.errors import ConfigError
from worker.health import (Health, HealthServer, HealthSettings, health_settings, read_heartbeat,
                           write_heartbeat)
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
])
def test_health_section(tmp_path: Path, section: dict, expected: HealthSettings) -> None:
    assert health_settings(settings_with(tmp_path, {"health": section})) == expected


@pytest.mark.parametrize("section, message", [
    ({"listen": "9464"}, "health.listen: expected host:port"),
    ({"listen": "localhost:http"}, "health.listen"),
    ({"stuck_after_seconds": 0}, "health.stuck_after_seconds"),
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
        assert b'policywatch_undelivered_alerts{state="pending"} 0.0' in metrics.exposition()
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
