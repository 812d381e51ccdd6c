"""Leases on SQLite and PostgreSQL: semantics with an injected clock, races between engines and
between real processes, and the pipeline skipping a source another worker holds."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from worker import metrics
from worker.model import Source
from worker.store import leases
from worker.store.db import Database

T0 = datetime(2025, 4, 2, 1, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_lease_is_exclusive_until_it_lapses(db: Database) -> None:
    assert leases.acquire(db, "source:a", "one", 60, now=at(0))
    assert not leases.acquire(db, "source:a", "two", 60, now=at(59))
    assert not leases.acquire(db, "source:a", "one", 60, now=at(1)), "held is held, even by its holder"
    assert leases.acquire(db, "source:b", "two", 60, now=at(1)), "other names are independent"
    assert leases.holder_of(db, "source:a", now=at(30)) == "one"
    # the holder crashed: at expiry the lease is free for another process
    assert leases.acquire(db, "source:a", "two", 60, now=at(60))
    assert leases.holder_of(db, "source:a", now=at(61)) == "two"


def test_renew_and_release_only_by_the_holder(db: Database) -> None:
    assert leases.acquire(db, "x", "one", 60, now=at(0))
    assert leases.renew(db, "x", "one", 60, now=at(50))  # now until 110
    assert not leases.acquire(db, "x", "two", 60, now=at(100))
    assert not leases.renew(db, "x", "two", 60, now=at(100))
    assert not leases.release(db, "x", "two")
    assert leases.release(db, "x", "one")
    assert leases.holder_of(db, "x", now=at(100)) is None
    assert leases.acquire(db, "x", "two", 60, now=at(100))
    # taken over after lapsing: the old holder can neither renew nor release it
    assert leases.acquire(db, "x", "three", 60, now=at(200))
    assert not leases.renew(db, "x", "two", 60, now=at(201))
    assert not leases.release(db, "x", "two")


def test_acquire_in_the_callers_session(db: Database) -> None:
    with db.session() as session:
        assert leases.acquire(session, "y", "one", 60, now=at(0))
    assert leases.holder_of(db, "y", now=at(1)) == "one"


def test_racing_engines_get_each_lease_exactly_once(database_url: str) -> None:
    """Eight threads, each with its own engine (its own connections), race for the same names."""
    first = Database(database_url)
    first.migrate()
    first.dispose()
    names = [f"source:{i}" for i in range(25)]
    contenders = 8
    barrier = threading.Barrier(contenders)

    def contend(k: int) -> list[str]:
        db = Database(database_url)
        try:
            barrier.wait()
            return [n for n in names if leases.acquire(db, n, f"holder-{k}", 60, now=at(0))]
        finally:
            db.dispose()

    with ThreadPoolExecutor(contenders) as pool:
        won = list(pool.map(contend, range(contenders)))
    flat = [n for w in won for n in w]
    assert sorted(flat) == sorted(names), won


def test_racing_processes_get_each_lease_exactly_once(database_url: str, tmp_path: Path) -> None:
    """Two real processes take turns at nothing: each tries every name; no name is won twice, and
    a lapsed lease is taken over by exactly one of them."""
    Database(database_url).migrate()
    go = tmp_path / "go"
    script = f"""
import json, os, sys, time
from datetime import datetime, timedelta, UTC
from worker.store import leases
from worker.store.db import Database
db = Database(sys.argv[1])
holder = leases.holder_id()
t0 = datetime(2025, 4, 2, 1, 0, tzinfo=UTC)
while not os.path.exists({str(go)!r}):
    time.sleep(0.005)
won = [i for i in range(60) if leases.acquire(db, f"n{{i}}", holder, 60, now=t0)]
# every lease lapses; both try again later
later = [i for i in range(60) if leases.acquire(db, f"n{{i}}", holder, 60, now=t0 + timedelta(seconds=61))]
print(json.dumps({{"holder": holder, "won": won, "later": later}}))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", script, database_url], stdout=subprocess.PIPE, text=True,
                              env=env) for _ in range(2)]
    go.write_text("go")
    results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    a, b = results
    assert a["holder"] != b["holder"]
    assert sorted(a["won"] + b["won"]) == list(range(60))
    assert sorted(a["later"] + b["later"]) == list(range(60))


# --- the pipeline honours the leases -------------------------------------------------------------

def test_pipeline_skips_a_source_another_worker_holds(database_url: str, tmp_path: Path, lexicon) -> None:
    from dataclasses import replace

    from tests.support.servers import FixtureServer
    from worker.pipeline import Pipeline, outbox_sink
    from worker.settings import load_settings

    with FixtureServer() as site:
        site.route("/feed.xml", b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
                   headers={"Content-Type": "application/rss+xml"})
        source = Source(name="held", url=site.url("/feed.xml"))
        settings = load_settings({"POLICYWATCH_DATA_DIR": str(tmp_path), "POLICYWATCH_DATABASE_URL": database_url,
                                  "POLICYWATCH_ALLOW_PRIVATE_HOSTS": "127.0.0.1"}, config_dir=ROOT / "config")
        settings = replace(settings, sources=(source,))
        db = Database(database_url)
        db.migrate()
        pipeline = Pipeline(settings, db, lexicon, sink=outbox_sink(settings, deliver=False))
        try:
            assert leases.acquire(db, "source:held", "another-host:1:abc", 300)
            skipped_before = metrics.value("policywatch_sources_polled_total", result="skipped")
            report = pipeline.refresh_source(source)
            assert report.ok and report.skipped == "another worker is polling it"
            assert site.requests == [], "a held source is not fetched"
            assert metrics.value("policywatch_sources_polled_total", result="skipped") == skipped_before + 1
            assert leases.holder_of(db, "source:held") == "another-host:1:abc", "someone else's lease stays"

            leases.release(db, "source:held", "another-host:1:abc")
            report = pipeline.refresh_source(source)
            assert report.skipped is None and len(site.requests) == 1
            assert leases.holder_of(db, "source:held") is None, "released after the pass"
        finally:
            db.dispose()


def test_two_workers_never_poll_one_source_at_once(database_url: str, tmp_path: Path, lexicon) -> None:
    """Worker A is inside both sources' feed requests (held open by the server) when worker B makes
    its pass: B skips both, A finishes both."""
    from dataclasses import replace

    from tests.support.servers import FixtureServer, Reply
    from worker.pipeline import Pipeline, outbox_sink
    from worker.settings import load_settings

    release = threading.Event()
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'

    def slow_feed(_req) -> Reply:
        release.wait(30)
        return Reply(200, empty, {"Content-Type": "application/rss+xml"})

    with FixtureServer() as site:
        site.route("/a.xml", handler=slow_feed)
        site.route("/b.xml", handler=slow_feed)
        sources = (Source(name="a", url=site.url("/a.xml")), Source(name="b", url=site.url("/b.xml")))
        settings = load_settings({"POLICYWATCH_DATA_DIR": str(tmp_path), "POLICYWATCH_DATABASE_URL": database_url,
                                  "POLICYWATCH_ALLOW_PRIVATE_HOSTS": "127.0.0.1"}, config_dir=ROOT / "config")
        settings = replace(settings, sources=sources)
        dbs = [Database(database_url), Database(database_url)]
        dbs[0].migrate()
        a, b = (Pipeline(settings, d, lexicon, sink=outbox_sink(settings, deliver=False)) for d in dbs)
        try:
            with ThreadPoolExecutor(1) as pool:
                first = pool.submit(a.run_once)
                for _ in range(500):  # until A holds both leases (it is then inside the requests)
                    if all(leases.holder_of(dbs[1], f"source:{s.name}") == a.holder for s in sources):
                        break
                    threading.Event().wait(0.01)
                second = b.run_once()
                release.set()
                reports_a = first.result(timeout=60)
            assert [r.skipped for r in second] == ["another worker is polling it"] * 2
            assert [r.skipped for r in reports_a] == [None, None] and all(r.ok for r in reports_a)
            assert len(site.requests) == 2
        finally:
            release.set()
            for d in dbs:
                d.dispose()
