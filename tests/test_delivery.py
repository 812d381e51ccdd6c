"""Delivery through real apprise to real local receivers (HTTP 200/500/slow/down, SMTP), retries,
noise control, digests, and a worker killed with SIGKILL in the middle of a delivery."""
from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.receivers import SmtpReceiver, WebhookReceiver, down_url
from worker.alerts import (Notifier, deliver_digests, deliver_due, destinations, enqueue, lease_seconds,
                           notify_test, ops_alert, ops_key)
from worker.settings import DeliverySettings, Settings
from worker.store import outbox
from worker.store.db import Database
from worker.store.schema import DeliveryRow

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 3, 1, 0, 30, tzinfo=timezone.utc)  # 09:30 in Seoul
FAST = DeliverySettings(max_attempts=3, backoff_base_seconds=10, backoff_max_seconds=25, timeout_seconds=1)


def figure(i: int) -> dict[str, Any]:
    return {"source": f"https://news.example/{i}", "kind": "figure", "change": "changed",
            "subject": f"S{i}", "metric": "가격", "value": 50000000, "value_max": None, "unit": "KRW",
            "qualifier": "approx", "period": None, "sentence": "가격은 약 5,000만 원이다.", "equivalent": None,
            "replaces_period": None,
            "previous": {"value": 40000000, "unit": "KRW", "qualifier": "exact", "period": None,
                         "source": "seeds/001.txt", "sentence": "…", "outlet": "한겨레", "seen_at": None},
            "article": {"url": f"https://news.example/{i}", "title": "t", "outlet": "전자신문",
                        "published": "2025-03-01T09:00:00+09:00"}}


def make_settings(url: str, *urls: str, notify: dict[str, Any] | None = None,
                  delivery: DeliverySettings = FAST) -> Settings:
    return Settings(config_dir=ROOT / "config", data_dir=ROOT, database_url=url, seeds_dir=ROOT,
                    notify_urls=urls, delivery=delivery, extra={"notify": notify or {}})


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(slow_seconds=3) as receiver:
        yield receiver


def enqueue_figures(db: Database, settings: Settings, count: int, now: datetime = NOW,
                    kind: str = "figure") -> None:
    dests = destinations(settings)
    with db.session() as s:
        for i in range(count):
            enqueue(s, key=f"alert-{i}", kind=kind, change="changed", claim_key=f"c{i}", target="H100",
                    article_id=None, payload=figure(i), destinations=dests, now=now)


def states(db: Database) -> dict[str, list[str]]:
    with db.session() as s:
        rows = s.scalars(select(DeliveryRow).order_by(DeliveryRow.id))
        out: dict[str, list[str]] = {}
        for row in rows:
            out.setdefault(row.label.split(" #")[0], []).append(row.state)
        return out


def test_delivers_to_json_form_and_smtp_with_link_and_change(db: Database, hook: WebhookReceiver) -> None:
    with SmtpReceiver() as smtp:
        settings = make_settings(db.url, hook.url("json", "/ok"), hook.url("form", "/ok"), smtp.url())
        enqueue_figures(db, settings, 2)
        report = deliver_due(db, settings, now=NOW)
        assert (report.sent, report.retrying, report.failed) == (6, 0, 0)
        assert deliver_due(db, settings, now=NOW + timedelta(hours=1)).sent == 0  # never twice
        mails = list(smtp.messages)
    received = hook.messages("/ok")
    assert len(received) == 4 and len(mails) == 2
    for message in received:
        assert "https://news.example/" in message["message"]
        assert "4,000만 원 → 약 5,000만 원 (+1,000만 원, +25%)" in message["message"]
    assert sorted(m["title"] for m in received) == ["[변경] S0 가격: 4,000만 원 → 약 5,000만 원"] * 2 + \
        ["[변경] S1 가격: 4,000만 원 → 약 5,000만 원"] * 2
    assert "https://news.example/0" in mails[0].get_body().get_content()
    assert all(s == ["sent"] * 2 for s in states(db).values())


@pytest.mark.parametrize("path", ["/fail", "/slow", None])  # 500, a read timeout, nobody listening
def test_failure_retries_with_backoff_then_gives_up(db: Database, hook: WebhookReceiver, path: str | None,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    bad = hook.url("json", path) if path else down_url("json")
    settings = make_settings(db.url, hook.url("json", "/ok"), bad)
    enqueue_figures(db, settings, 1)
    first = deliver_due(db, settings, now=NOW)
    assert (first.sent, first.retrying, first.failed) == (1, 1, 0)  # a partial failure fails only its part
    assert len(first.errors) == 1 and "\n" not in first.errors[0] and first.errors[0].startswith("json://")
    with db.session() as s:
        row = s.scalars(select(DeliveryRow).where(DeliveryRow.state == "pending")).one()
        assert row.attempts == 1 and outbox.utc(row.next_attempt_at) == NOW + timedelta(seconds=10)
    assert deliver_due(db, settings, now=NOW + timedelta(seconds=9)).retrying == 0  # not due yet
    second = deliver_due(db, settings, now=NOW + timedelta(seconds=10))
    assert second.retrying == 1
    with db.session() as s:
        row = s.scalars(select(DeliveryRow).where(DeliveryRow.state == "pending")).one()
        assert outbox.utc(row.next_attempt_at) == NOW + timedelta(seconds=30)  # 10 s, then 20 s
    with caplog.at_level(logging.WARNING, logger="policywatch.alerts"):
        third = deliver_due(db, settings, now=NOW + timedelta(seconds=30))
    assert third.failed == 1
    assert [r.message for r in caplog.records if "giving up" in r.message][0].count("\n") == 0
    assert "alert-0" in caplog.text and "/fail" not in caplog.text
    assert len(hook.messages("/ok")) == 1
    with db.session() as s:
        (listed,) = outbox.recent_alerts(s, 5)  # the alert stays, with its failed delivery
        assert sorted(d.state for d in listed.deliveries) == ["failed", "sent"]


def test_invalid_url_fails_at_once(db: Database, hook: WebhookReceiver) -> None:
    settings = make_settings(db.url, "nosuchscheme://secret-token@example/x")
    enqueue_figures(db, settings, 1)
    report = deliver_due(db, settings, now=NOW)
    assert report.failed == 1 and "secret-token" not in report.errors[0]


def test_console_destination_prints_readable_text(db: Database) -> None:
    settings = make_settings(db.url)
    enqueue_figures(db, settings, 1)
    stream = io.StringIO()
    assert deliver_due(db, settings, notifier=Notifier(stream=stream), now=NOW).sent == 1
    text = stream.getvalue()
    assert text.startswith("[변경] S0 가격: 4,000만 원 → 약 5,000만 원\n")
    assert "https://news.example/0" in text


def test_hourly_limit_holds_and_never_drops(db: Database, hook: WebhookReceiver) -> None:
    settings = make_settings(db.url, hook.url("json", "/ok"), notify={"max_per_hour": 2})
    enqueue_figures(db, settings, 5)
    assert (deliver_due(db, settings, now=NOW).sent, deliver_due(db, settings, now=NOW).held) == (2, 3)
    assert deliver_due(db, settings, now=NOW + timedelta(minutes=59)).sent == 0
    assert deliver_due(db, settings, now=NOW + timedelta(minutes=60)).sent == 2
    assert deliver_due(db, settings, now=NOW + timedelta(minutes=120)).sent == 1
    titles = [m["title"] for m in hook.messages("/ok")]
    assert [t.split()[1] for t in titles] == ["S0", "S1", "S2", "S3", "S4"]  # in order, each once


def test_quiet_hours_hold_until_they_end(db: Database, hook: WebhookReceiver) -> None:
    settings = make_settings(db.url, hook.url("json", "/ok"), notify={"quiet_hours": "23:00-07:00"})
    night = datetime(2025, 3, 1, 15, 0, tzinfo=timezone.utc)  # 00:00 in Seoul
    enqueue_figures(db, settings, 2, now=night)
    assert deliver_due(db, settings, now=night).held == 2
    assert hook.messages("/ok") == []
    assert deliver_due(db, settings, now=datetime(2025, 3, 1, 22, 0, tzinfo=timezone.utc)).sent == 2


def test_digest_sends_one_grouped_message_when_due(db: Database, hook: WebhookReceiver) -> None:
    notify = {"destinations": [{"match": "/ok", "digest": "hourly"}]}
    settings = make_settings(db.url, hook.url("json", "/ok"), hook.url("json", "/fail"), notify=notify)
    enqueue_figures(db, settings, 3)
    assert deliver_due(db, settings, now=NOW).retrying == 3  # the immediate one fails meanwhile
    assert deliver_digests(db, settings, now=NOW + timedelta(minutes=29)).messages == 0
    report = deliver_digests(db, settings, now=NOW + timedelta(minutes=30))  # 10:00 in Seoul
    assert (report.messages, report.sent) == (1, 3)
    (digest,) = hook.messages("/ok")
    assert digest["title"] == "policywatch 요약: 3건"
    assert digest["message"].count("■ H100 · 수치 (3)") == 1
    assert all(f"https://news.example/{i}" in digest["message"] for i in range(3))
    assert deliver_digests(db, settings, now=NOW + timedelta(hours=5)).messages == 0


def test_failed_digest_is_retried_as_a_digest(db: Database, hook: WebhookReceiver) -> None:
    settings = make_settings(db.url, hook.url("json", "/fail"), notify={"digest": "daily 08:00"})
    enqueue_figures(db, settings, 2)
    due = datetime(2025, 3, 1, 23, 0, tzinfo=timezone.utc)
    assert deliver_digests(db, settings, now=due).retrying == 2
    assert states(db)[hook.url("json", "/fail").rsplit("/", 1)[0]] == ["digest", "digest"]


def test_ops_alert_is_delivered(db: Database, hook: WebhookReceiver) -> None:
    settings = make_settings(db.url, hook.url("json", "/ok"))
    payload = ops_alert("etnews", "failing", "5 failures in a row:\nHTTP 503")
    with db.session() as s:
        enqueue(s, key=ops_key("etnews", "failing", NOW), kind="ops", change="failing", claim_key="",
                target=None, article_id=None, payload=payload, destinations=destinations(settings), now=NOW)
    assert deliver_due(db, settings, now=NOW).sent == 1
    (message,) = hook.messages("/ok")
    assert (message["title"], message["type"]) == ("[운영 장애] 소스 etnews", "warning")


def test_notify_test_reports_each_destination(hook: WebhookReceiver) -> None:
    settings = make_settings("sqlite://", hook.url("json", "/ok"), hook.url("json", "/fail"))
    results = notify_test(settings)
    assert [(label.split(" #")[0], ok) for label, ok, _ in results] == [
        (hook.url("json", "/ok").rsplit("/", 1)[0], True), (hook.url("json", "/fail").rsplit("/", 1)[0], False)]
    assert "500" in results[1][2]
    assert len(hook.messages("/ok")) == 1


CHILD = r"""
import sys
from datetime import datetime
from pathlib import Path
from worker.alerts import deliver_due
from worker.settings import DeliverySettings, Settings
from worker.store.db import Database

url, hook, now = sys.argv[1:4]
settings = Settings(config_dir=Path("config"), data_dir=Path("."), database_url=url, seeds_dir=Path("."),
                    notify_urls=(hook,), delivery=DeliverySettings(timeout_seconds=30),
                    extra={"notify": {"max_per_hour": 0}})
report = deliver_due(Database(url), settings, now=None if now == "-" else datetime.fromisoformat(now))
print(report.sent, report.in_doubt)
"""


def run_child(db: Database, hook_url: str, now: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, db.url, hook_url, now], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))


@pytest.mark.slow
def test_sigkill_mid_delivery_loses_nothing_and_repeats_only_the_message_in_flight(
        db: Database, hook: WebhookReceiver) -> None:
    hook.hold_after = 2  # the third request waits (the receiver has it) until released
    target = hook.url("json", "/hold")
    settings = make_settings(db.url, target, delivery=DeliverySettings(timeout_seconds=30))
    start = datetime.now(timezone.utc)
    enqueue_figures(db, settings, 5, now=start)

    child = run_child(db, target, "-")
    assert hook.wait_for("/hold", 3), child.communicate(timeout=5)
    time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    hook.release()  # the held request is answered to a dead client
    assert states(db)[target.rsplit("/", 1)[0]] == ["sent", "sent", "sending", "pending", "pending"]

    # Restarted before the lease runs out: the rest goes, the one in doubt is not touched yet.
    out, err = run_child(db, target, "-").communicate(timeout=60)
    assert out.split() == ["2", "0"], err
    # Once the lease has run out, the delivery in doubt is sent again.
    later = (datetime.now(timezone.utc) + timedelta(seconds=lease_seconds(settings) + 1)).isoformat()
    out, err = run_child(db, target, later).communicate(timeout=60)
    assert out.split() == ["1", "1"], err

    counts = Counter(m["title"].split()[1] for m in hook.messages("/hold"))
    # The guarantee: every alert arrived; only the one in flight at the kill arrived twice.
    assert counts == {"S0": 1, "S1": 1, "S2": 2, "S3": 1, "S4": 1}
    with db.session() as s:
        rows = list(s.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))
    assert [r.state for r in rows] == ["sent"] * 5
    assert rows[2].last_error is not None and rows[2].last_error.startswith("in doubt")
    assert [r.attempts for r in rows] == [1, 1, 2, 1, 1]
