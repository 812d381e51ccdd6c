"""Delivery through real apprise to real local receivers (HTTP 200/500/slow/held/down, SMTP):
retries, noise control, digests, idempotency keys, per-destination language, destinations sent to
side by side, destinations removed from the configuration, and a worker killed with SIGKILL in
the middle of a delivery."""
from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.receivers import SmtpReceiver, WebhookReceiver, down_url
from worker import metrics
from worker.alerts import (DeliveryReport, Notifier, deliver_digests, deliver_due, destinations, enqueue,
                           lease_seconds, notify_test, ops_alert, ops_key, removed_note)
from worker.alerts import keys
from worker.alerts.notifier import supports_headers
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
                  delivery: DeliverySettings = FAST, language: str = "ko") -> Settings:
    return Settings(config_dir=ROOT / "config", data_dir=ROOT, database_url=url, seeds_dir=ROOT,
                    notify_urls=urls, delivery=delivery, language=language, extra={"notify": notify or {}})


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
    json_dest, form_dest, mail_dest = destinations(settings)
    # Every message names its alert and carries a key per (alert, destination).
    sent_keys = {(r.headers["x-policywatch-alert"], r.headers["idempotency-key"]) for r in hook.requests("/ok")}
    assert sent_keys == {(f"alert-{i}", keys.message_key(f"alert-{i}", d.id)) for i in range(2)
                         for d in (json_dest, form_dest)}
    assert [(m["X-Policywatch-Alert"], m["Idempotency-Key"]) for m in mails] == [
        (f"alert-{i}", keys.message_key(f"alert-{i}", mail_dest.id)) for i in range(2)]
    assert all(len(m.get_all("Message-ID")) == 1 for m in mails)  # apprise's own; we add no second one
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
def test_sigkill_mid_delivery_loses_nothing_and_a_keyed_receiver_sees_each_alert_once(
        db: Database, hook: WebhookReceiver) -> None:
    target = hook.url("json", "/hold")
    settings = make_settings(db.url, target, delivery=DeliverySettings(timeout_seconds=30))
    (dest,) = destinations(settings)
    enqueue_figures(db, settings, 5, now=datetime.now(timezone.utc))
    kills = 0

    def kill_while_held(requests: int) -> None:
        nonlocal kills
        child = run_child(db, target, "-")
        assert hook.wait_for("/hold", requests), child.communicate(timeout=5)
        time.sleep(0.2)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        kills += 1
        hook.release()  # the held request is answered to a dead client

    hook.hold(after=2)  # S0 and S1 are answered; S2 reaches the receiver and is held
    kill_while_held(3)
    assert states(db)[target.rsplit("/", 1)[0]] == ["sent", "sent", "sending", "pending", "pending"]
    # Restarted before S2's lease runs out: S2 is not touched; S3 reaches the receiver, killed again.
    hook.hold(after=0)
    kill_while_held(4)
    assert states(db)[target.rsplit("/", 1)[0]] == ["sent", "sent", "sending", "sending", "pending"]
    # Once both leases have run out: S4 goes, and S2 and S3, in doubt, are sent again.
    later = (datetime.now(timezone.utc) + timedelta(seconds=lease_seconds(settings) + 1)).isoformat()
    out, err = run_child(db, target, later).communicate(timeout=60)
    assert out.split() == ["3", "2"], err

    requests = hook.requests("/hold")
    alerts = [r.headers["x-policywatch-alert"] for r in requests]
    sent_keys = [r.headers["idempotency-key"] for r in requests]
    expected = [f"alert-{i}" for i in range(5)]
    # Every alert arrived; each carried the key of its (alert, destination), also when sent again.
    assert sorted(set(alerts)) == expected
    assert sent_keys == [keys.message_key(a, dest.id) for a in alerts]
    # Counting distinct keys, as a receiver honouring Idempotency-Key does: each alert exactly once.
    assert len(set(sent_keys)) == 5
    assert sorted(r.headers["x-policywatch-alert"] for r in hook.deduplicated("/hold")) == expected
    # Raw HTTP: only the messages in flight at a kill arrived twice, at most one per kill.
    assert 0 < len(requests) - len(set(sent_keys)) <= kills
    assert Counter(alerts) == {"alert-0": 1, "alert-1": 1, "alert-2": 2, "alert-3": 2, "alert-4": 1}
    with db.session() as s:
        rows = list(s.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))
    assert [r.state for r in rows] == ["sent"] * 5
    assert [r.attempts for r in rows] == [1, 1, 2, 2, 1]
    assert all(r.last_error is not None and r.last_error.startswith("in doubt") for r in rows[2:4])


def test_a_send_that_timed_out_is_retried_with_the_same_key(db: Database, hook: WebhookReceiver) -> None:
    settings = make_settings(db.url, hook.url("json", "/slow"))  # 3 s to answer, 1 s client timeout
    enqueue_figures(db, settings, 1)
    assert deliver_due(db, settings, now=NOW).retrying == 1
    assert deliver_due(db, settings, now=NOW + timedelta(seconds=10)).retrying == 1
    (dest,) = destinations(settings)
    # The receiver got the message both times; a receiver honouring the key keeps one.
    assert hook.keys("/slow") == [keys.message_key("alert-0", dest.id)] * 2
    assert len(hook.deduplicated("/slow")) == 1


def test_a_digest_is_retried_as_the_same_digest_with_the_same_key(db: Database, hook: WebhookReceiver) -> None:
    settings = make_settings(db.url, hook.url("json", "/slow"), notify={"digest": "hourly"})
    (dest,) = destinations(settings)
    enqueue_figures(db, settings, 2)  # 09:30 KST: in the 10:00 digest
    assert deliver_digests(db, settings, now=NOW + timedelta(minutes=30)).retrying == 2  # timed out
    with db.session() as s:
        enqueue(s, key="late", kind="figure", change="changed", claim_key="late", target="H100", article_id=None,
                payload=figure(9), destinations=[dest], now=NOW + timedelta(minutes=31))  # the 11:00 digest
    # At 11:00 both are due: the earlier digest goes again as it was, the new alert on its own.
    report = deliver_digests(db, settings, now=NOW + timedelta(minutes=90))
    assert report.retrying == 3
    with db.session() as s:
        ids = [r.id for r in s.scalars(select(DeliveryRow).order_by(DeliveryRow.id))]
    first, late = keys.digest_key(dest.id, ids[:2]), keys.digest_key(dest.id, ids[2:])
    assert hook.keys("/slow") == [first, first, late]
    assert [r.headers["x-policywatch-digest"] for r in hook.requests("/slow")] == ["2", "2", "1"]


@pytest.mark.parametrize("scheme", ["json", "form", "xml"])
def test_web_messages_carry_their_keys_as_headers(db: Database, hook: WebhookReceiver, scheme: str) -> None:
    settings = make_settings(db.url, hook.url(scheme, "/ok"))
    enqueue_figures(db, settings, 2)
    with db.session() as s:  # a key that is not safe in a header as it is goes hashed
        enqueue(s, key=ops_key("전자신문", "failing", NOW), kind="ops", change="failing", claim_key="", target=None,
                article_id=None, payload=ops_alert("전자신문", "failing", "HTTP 503"),
                destinations=destinations(settings), now=NOW)
    assert deliver_due(db, settings, now=NOW).sent == 3
    (dest,) = destinations(settings)
    got = [(r.headers.get("x-policywatch-alert"), r.headers.get("idempotency-key")) for r in hook.requests("/ok")]
    alert_keys = ["alert-0", "alert-1", ops_key("전자신문", "failing", NOW)]
    assert sorted(got) == sorted((keys.header_value(k), keys.message_key(k, dest.id)) for k in alert_keys)
    assert keys.header_value(alert_keys[2]).startswith("sha256-")


@pytest.mark.parametrize(("url", "takes_headers"), [
    ("json://hook.example/x", True), ("jsons://hook.example/x", True), ("form://hook.example/x", True),
    ("xmls://hook.example/x", True), ("mailto://user:pw@example.com", True), ("mailtos://example.com", True),
    ("slack://T1/B1/abc", False), ("tgram://123:abc/456", False), ("discord://1/abc", False),
    ("ntfy://topic", False), ("pover://user@token", False),
])
def test_headers_go_only_to_services_that_send_them_as_headers(url: str, takes_headers: bool) -> None:
    assert supports_headers(url) is takes_headers


def test_each_destination_speaks_its_own_language(db: Database, hook: WebhookReceiver) -> None:
    paths = [hook.accept(p) for p in ("/ko", "/en", "/ko-digest", "/en-digest")]
    notify = {"destinations": [{"match": "/ko-digest", "language": "ko", "digest": "hourly"},
                               {"match": "/en-digest", "digest": "hourly"},
                               {"match": "/ko", "language": "ko"}]}
    settings = make_settings(db.url, *(hook.url("json", p) for p in paths), notify=notify, language="en")
    assert [d.language for d in destinations(settings)] == ["ko", "en", "ko", "en"]
    enqueue_figures(db, settings, 1)
    assert deliver_due(db, settings, now=NOW).sent == 2
    assert deliver_digests(db, settings, now=NOW + timedelta(minutes=30)).sent == 2
    (ko,), (en,) = hook.messages("/ko"), hook.messages("/en")
    assert ko["title"] == "[변경] S0 가격: 4,000만 원 → 약 5,000만 원"
    assert en["title"] == "[changed] S0 가격: KRW 40 million → about KRW 50 million"
    (ko_digest,), (en_digest,) = hook.messages("/ko-digest"), hook.messages("/en-digest")
    assert (ko_digest["title"], "■ H100 · 수치 (1)" in ko_digest["message"]) == ("policywatch 요약: 1건", True)
    assert (en_digest["title"], "■ H100 · figure (1)" in en_digest["message"]) == ("policywatch digest: 1 alerts", True)


def in_thread(work: Callable[[], DeliveryReport]) -> tuple[threading.Thread, list[DeliveryReport]]:
    done: list[DeliveryReport] = []
    thread = threading.Thread(target=lambda: done.append(work()), daemon=True)
    thread.start()
    return thread, done


@pytest.mark.parametrize("digest", [False, True])
def test_a_stalled_destination_does_not_hold_up_the_others(db: Database, hook: WebhookReceiver,
                                                          digest: bool) -> None:
    hook.hold()  # /hold keeps every request until released
    settings = make_settings(db.url, hook.url("json", "/hold"), hook.url("json", "/ok"),
                             notify={"digest": "hourly"} if digest else {},
                             delivery=DeliverySettings(timeout_seconds=30))
    enqueue_figures(db, settings, 3)  # /hold's delivery of each alert comes before /ok's
    deliver = deliver_digests if digest else deliver_due
    worker, done = in_thread(lambda: deliver(db, settings, now=NOW + timedelta(minutes=30)))
    try:
        # Sending one destination after the other would wait here for /hold's first message.
        assert hook.wait_for("/ok", 1 if digest else 3), "the /ok destination waited for the stalled one"
        assert hook.wait_for("/hold", 1) and worker.is_alive()  # /hold's first message is still held
        assert len(hook.requests("/hold")) == 1
    finally:
        hook.release()
        worker.join(timeout=60)
    (report,) = done
    assert (report.sent, report.messages, report.retrying) == (6, 2 if digest else 6, 0)
    if not digest:  # each destination's messages in order
        assert [m["title"].split()[1] for m in hook.messages("/ok")] == ["S0", "S1", "S2"]
        assert [m["title"].split()[1] for m in hook.messages("/hold")] == ["S0", "S1", "S2"]


def test_hourly_limits_stay_per_destination_when_sending_side_by_side(db: Database, hook: WebhookReceiver) -> None:
    settings = make_settings(db.url, hook.url("json", "/ok"), hook.url("json", hook.accept("/b")),
                             notify={"max_per_hour": 2})
    enqueue_figures(db, settings, 5)
    assert (lambda r: (r.sent, r.held))(deliver_due(db, settings, now=NOW)) == (4, 6)
    assert deliver_due(db, settings, now=NOW + timedelta(minutes=60)).sent == 4
    for path in ("/ok", "/b"):
        assert [m["title"].split()[1] for m in hook.messages(path)] == ["S0", "S1", "S2", "S3"]


def test_alerts_for_a_removed_destination_wait_and_resume(db: Database, hook: WebhookReceiver,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    kept, gone = hook.url("json", "/ok"), hook.url("json", hook.accept("/gone"))
    before = make_settings(db.url, kept, gone)
    label = destinations(before)[1].label
    enqueue_figures(db, before, 3)
    after = make_settings(db.url, kept)  # the URL left POLICYWATCH_NOTIFY_URLS
    with caplog.at_level(logging.INFO, logger="policywatch.alerts"):
        report = deliver_due(db, after, now=NOW)
        assert deliver_digests(db, after, now=NOW).removed == 0  # said once per pass, by deliver_due
    assert (report.sent, report.removed) == (3, 3)
    assert [r.getMessage() for r in caplog.records if "no longer configured" in r.getMessage()] == [
        f"3 alerts wait for a destination that is no longer configured ({label}); they resume if it returns, "
        'or run "policywatch alerts --forget-removed" to drop them']
    assert states(db)[label.split(" #")[0]] == ["sent", "pending"] * 3  # json://host for both: interleaved
    assert hook.requests("/gone") == []

    metrics.watch_queue(db)
    try:  # until a pass says which destinations are configured, everything undelivered is queued
        assert 'policywatch_undelivered_alerts{state="pending"} 3.0' in metrics.exposition().decode()
        metrics.delivery_done(report)
        text = metrics.exposition().decode()
        assert 'policywatch_undelivered_alerts{state="pending"} 0.0' in text
        assert "policywatch_undelivered_alerts_removed_destination 3.0" in text
    finally:
        metrics.unwatch_queue()

    report = deliver_due(db, before, now=NOW)  # the URL is back
    assert (report.sent, report.removed) == (3, 0)
    assert len(hook.requests("/gone")) == 3


def test_removed_note_names_every_destination_in_one_line() -> None:
    from worker.store.outbox import RemovedDestination

    note = removed_note([RemovedDestination("a" * 16, "json://h.example #aaaaaa", 12),
                         RemovedDestination("b" * 16, "mailto://*** #bbbbbb", 1)])
    assert note == ("13 alerts wait for 2 destinations that are no longer configured (json://h.example #aaaaaa: 12; "
                    'mailto://*** #bbbbbb: 1); they resume if they return, or run "policywatch alerts '
                    '--forget-removed" to drop them')


def test_forget_removed_gives_them_up(db: Database, hook: WebhookReceiver, tmp_path: Path) -> None:
    kept, gone = hook.url("json", "/ok"), hook.url("json", hook.accept("/gone"))
    label = destinations(make_settings(db.url, kept, gone))[1].label
    enqueue_figures(db, make_settings(db.url, kept, gone), 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env.update(POLICYWATCH_CONFIG=str(ROOT / "config"), POLICYWATCH_DATA_DIR=str(tmp_path),
               POLICYWATCH_DATABASE_URL=db.url, POLICYWATCH_NOTIFY_URLS=kept, PYTHONPATH=str(ROOT))

    def alerts(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "worker.cli", "alerts", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert alerts().splitlines()[-1].startswith(
        f"2 alerts wait for a destination that is no longer configured ({label});")
    assert alerts("--forget-removed") == f"gave up 2 alerts waiting for {label} (no longer configured): now failed\n"
    assert alerts("--forget-removed") == "no alerts wait for a destination that is no longer configured\n"
    with db.session() as s:
        rows = list(s.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))
    gone_rows = [r for r in rows if r.label == label]
    assert [r.state for r in gone_rows] == ["failed", "failed"]
    assert all("--forget-removed" in (r.last_error or "") for r in gone_rows)
    assert [r.state for r in rows if r.label != label] == ["pending", "pending"]  # the configured one: untouched
    # Given up means given up: the URL coming back does not send them.
    assert deliver_due(db, make_settings(db.url, kept, gone), now=NOW).sent == 2
    assert hook.requests("/gone") == []


def test_a_delivery_report_reads_as_one_line() -> None:
    from worker.alerts import DeliveryReport

    assert DeliveryReport().summary() == "nothing due"
    report = DeliveryReport(sent=3, retrying=1)
    report.add(DeliveryReport(sent=2, held=4))
    assert report.summary() == "5 sent, 1 retrying, 4 held"
