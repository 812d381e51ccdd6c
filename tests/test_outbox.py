"""The outbox on SQLite and PostgreSQL: alerts stored once, one delivery per accepting destination,
compare-and-set claims, retries and the listing ``policywatch alerts`` shows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from worker.alerts import Destination, destinations, enqueue
from worker.errors import ConfigError
from worker.settings import Settings
from worker.store import outbox
from worker.store.db import Database
from worker.store.schema import AlertRow, DeliveryRow

NOW = datetime(2025, 3, 1, 0, 30, tzinfo=timezone.utc)  # 09:30 in Seoul
PAYLOAD: dict[str, Any] = {"source": "https://a.example/1", "kind": "position", "change": "changed",
                           "actor": "개인정보보호위원회", "target": "딥시크", "stance": "support",
                           "modality": "done", "sentence": "…", "previous": None, "via_parent": None,
                           "article": {"url": "https://a.example/1", "title": "t", "outlet": "o",
                                       "published": None}}


def make_settings(tmp_path: Path, urls: tuple[str, ...] = (), notify: dict[str, Any] | None = None) -> Settings:
    return Settings(config_dir=tmp_path, data_dir=tmp_path, database_url="sqlite://", seeds_dir=tmp_path,
                    notify_urls=urls, extra={"notify": notify} if notify is not None else {})


def add(db: Database, dests: list[Destination], key: str = "a1", kind: str = "position",
        target: str | None = "딥시크", now: datetime = NOW) -> AlertRow | None:
    with db.session() as s:
        alert_id = enqueue(s, key=key, kind=kind, change="changed", claim_key="c:" + key, target=target,
                           article_id=None, payload=dict(PAYLOAD, kind=kind), destinations=dests, now=now)
        return None if alert_id is None else s.get(AlertRow, alert_id)


def deliveries(db: Database) -> list[DeliveryRow]:
    with db.session() as s:
        return list(s.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))


def test_enqueue_stores_once_with_one_delivery_per_destination(db: Database, tmp_path: Path) -> None:
    dests = destinations(make_settings(tmp_path, ("json://127.0.0.1:1/a", "form://127.0.0.1:1/b")))
    first = add(db, dests)
    assert first is not None and first.key == "a1" and first.payload["actor"] == "개인정보보호위원회"
    assert add(db, dests) is None  # the same key again: nothing new
    rows = deliveries(db)
    assert [r.state for r in rows] == ["pending", "pending"]
    assert {r.destination for r in rows} == {d.id for d in dests}
    assert all("127.0.0.1:1/a" not in r.destination + r.label for r in rows)  # never the URL itself
    assert all(outbox.utc(r.next_attempt_at) == NOW for r in rows)


def test_enqueue_joins_the_callers_transaction(db: Database, tmp_path: Path) -> None:
    dests = destinations(make_settings(tmp_path))
    with pytest.raises(RuntimeError), db.session() as s:
        enqueue(s, key="rolled-back", kind="figure", change="new", claim_key="c", target=None, article_id=None,
                payload=PAYLOAD, destinations=dests, now=NOW)
        raise RuntimeError("the pipeline failed later in its transaction")
    with db.session() as s:
        assert s.scalar(select(AlertRow).where(AlertRow.key == "rolled-back")) is None
    assert deliveries(db) == []


def test_routing_by_kind_and_target(db: Database, tmp_path: Path) -> None:
    notify = {"destinations": [{"match": "/positions", "kinds": ["position", "ops"], "targets": ["딥시크"]}]}
    dests = destinations(make_settings(tmp_path, ("json://h.example/positions", "json://h.example/all"), notify))
    add(db, dests, "p1", "position", "딥시크")
    add(db, dests, "p2", "position", "엔비디아")
    add(db, dests, "f1", "figure", "딥시크")
    add(db, dests, "o1", "ops", None)
    with db.session() as s:
        got = {(a.alert.key, len(a.deliveries)) for a in outbox.recent_alerts(s, 10)}
    assert got == {("p1", 2), ("p2", 1), ("f1", 1), ("o1", 2)}


def test_digest_deliveries_wait_for_their_slot(db: Database, tmp_path: Path) -> None:
    notify = {"digest": "daily 08:00", "destinations": [{"match": "hourly", "digest": "hourly"}]}
    dests = destinations(make_settings(tmp_path, ("json://h.example/daily", "json://h.example/hourly"), notify))
    add(db, dests)
    rows = {r.destination: r for r in deliveries(db)}
    daily, hourly = dests
    assert rows[daily.id].state == rows[hourly.id].state == "digest"
    # 09:30 in Seoul: the daily digest is tomorrow 08:00 KST, the hourly one at 10:00 KST
    assert outbox.utc(rows[daily.id].next_attempt_at) == datetime(2025, 3, 1, 23, 0, tzinfo=timezone.utc)
    assert outbox.utc(rows[hourly.id].next_attempt_at) == datetime(2025, 3, 1, 1, 0, tzinfo=timezone.utc)
    with db.session() as s:
        assert outbox.due_deliveries(s, NOW + timedelta(days=2), [d.id for d in dests]) == []
        assert len(outbox.due_digest_deliveries(s, NOW + timedelta(hours=1), [d.id for d in dests])) == 1


def test_claim_is_compare_and_set(db: Database, tmp_path: Path) -> None:
    add(db, destinations(make_settings(tmp_path)))
    with db.session() as s:
        (due,) = outbox.due_deliveries(s, NOW, ["console"])
    lease = NOW + timedelta(minutes=2)
    with db.session() as s:
        assert outbox.claim_delivery(s, due.id, state=due.state, attempts=due.attempts, now=NOW, lease_until=lease)
    with db.session() as s:  # a second worker with the same stale view loses
        assert not outbox.claim_delivery(s, due.id, state=due.state, attempts=due.attempts, now=NOW,
                                         lease_until=lease)
        assert outbox.due_deliveries(s, NOW + timedelta(minutes=1), ["console"]) == []  # leased
        (again,) = outbox.due_deliveries(s, lease, ["console"])  # lease ran out: in doubt
    assert (again.state, again.attempts) == ("sending", 1)


def test_retry_failure_sent_and_recent_alerts(db: Database, tmp_path: Path) -> None:
    dests = destinations(make_settings(tmp_path))
    for i in range(3):
        add(db, dests, f"k{i}", now=NOW + timedelta(minutes=i))
    with db.session() as s:
        first, second, third = outbox.due_deliveries(s, NOW + timedelta(hours=1), ["console"])
        outbox.schedule_retry(s, first.id, NOW + timedelta(minutes=30), "HTTP 500")
        outbox.mark_delivery_failed(s, second.id, "gave up")
        outbox.mark_delivery_sent(s, third.id, NOW)
    with db.session() as s:
        listing = outbox.recent_alerts(s, 2)
        assert [a.alert.key for a in listing] == ["k2", "k1"]  # newest first, limited
        assert [(d.state, d.last_error) for d in listing[1].deliveries] == [("failed", "gave up")]
        assert outbox.delivery_counts(s) == {"pending": 1, "failed": 1, "sent": 1}
        assert outbox.sent_since(s, "console", NOW - timedelta(hours=1)) == 1
        assert [d.id for d in outbox.due_deliveries(s, NOW + timedelta(minutes=30), ["console"])] == [first.id]


@pytest.mark.parametrize(("notify", "key"), [
    ({"digest": "weekly"}, "notify.digest"),
    ({"quiet_hours": "23:00-25:00"}, "notify.quiet_hours"),
    ({"max_per_hour": -1}, "notify.max_per_hour"),
    ({"kinds": ["figure", "gossip"]}, "notify.kinds"),
    ({"format": "rtf"}, "notify.format"),
    ({"colour": "red"}, "notify.colour"),
    ({"destinations": [{"digest": "hourly"}]}, "notify.destinations[0].match"),
    ({"destinations": [{"match": "x", "speed": 1}]}, "notify.destinations[0].speed"),
    ({"destinations": [{"match": "x", "language": "fr"}]}, "notify.destinations[0].language"),
    ({"language": "en"}, "notify.language"),  # the top-level `language` of settings.yaml is the default
])
def test_bad_notify_section_names_file_and_key(tmp_path: Path, notify: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        destinations(make_settings(tmp_path, ("json://h.example/x",), notify))
    assert str(err.value).startswith(f"{tmp_path / 'settings.yaml'}: {key}: expected")


def test_console_when_no_url_and_quiet_hours(tmp_path: Path) -> None:
    (console,) = destinations(make_settings(tmp_path))
    assert console.is_console and not console.is_digest
    (dest,) = destinations(make_settings(tmp_path, ("json://h.example/x",), {"quiet_hours": "23:00-07:00"}))
    night = datetime(2025, 3, 1, 15, 0, tzinfo=timezone.utc)  # 00:00 KST
    assert dest.quiet_until(night) == datetime(2025, 3, 1, 22, 0, tzinfo=timezone.utc)
    assert dest.quiet_until(NOW) is None


def test_destination_language_defaults_to_the_top_level_one(tmp_path: Path) -> None:
    notify = {"destinations": [{"match": "/en", "language": "en"}]}
    settings = make_settings(tmp_path, ("json://h.example/en", "json://h.example/other"), notify)
    assert [d.language for d in destinations(settings)] == ["en", "ko"]
    english = Settings(config_dir=tmp_path, data_dir=tmp_path, database_url="sqlite://", seeds_dir=tmp_path,
                       language="en")
    assert [d.language for d in destinations(english)] == ["en"]  # the console too


def test_removed_destinations_are_counted_and_forgotten_but_never_sent(db: Database, tmp_path: Path) -> None:
    kept, gone = destinations(make_settings(tmp_path, ("json://h.example/kept", "json://h.example/gone")))
    for i in range(3):
        add(db, [kept, gone], f"k{i}")
    with db.session() as s:
        (due,) = outbox.due_deliveries(s, NOW, [gone.id])[:1]
        outbox.mark_delivery_sent(s, due.id, NOW)  # one of them was sent before the URL was removed
    with db.session() as s:
        assert outbox.waiting_for_removed(s, [kept.id]) == [outbox.RemovedDestination(gone.id, gone.label, 2)]
        assert outbox.waiting_for_removed(s, [kept.id, gone.id]) == []
    with db.session() as s:
        assert outbox.forget_removed(s, [kept.id], "gone") == [outbox.RemovedDestination(gone.id, gone.label, 2)]
    with db.session() as s:
        assert outbox.waiting_for_removed(s, [kept.id]) == []
        assert outbox.delivery_counts(s) == {"pending": 3, "sent": 1, "failed": 2}
    rows = [r for r in deliveries(db) if r.destination == gone.id]
    assert sorted((r.state, r.last_error) for r in rows) == [("failed", "gone"), ("failed", "gone"), ("sent", None)]
