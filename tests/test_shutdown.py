"""SIGTERM during a pass of the real `policywatch run`: it exits 0 within the grace period, the
article in hand is stored whole, nothing is half-written, and the next pass picks up the rest."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.servers import FixtureServer, Reply, Request
from tests.test_end_to_end import KST, PAGES, make_config, news_page, rss
from worker.scheduler import STOP_GRACE_SECONDS
from worker.store.db import Database
from worker.store.schema import ArticleRow, EntryRow, FigureRow, LeaseRow, PositionRow, SourceRow

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Site:
    """The e2e site, whose second page is held open until the test lets it go."""

    def __init__(self) -> None:
        self.server = FixtureServer()
        self.in_flight = threading.Event()  # the second page has been requested
        self.let_go = threading.Event()
        when = datetime(2025, 4, 2, 10, 15, tzinfo=KST)
        items = []
        self.paths = list(PAGES)
        for k, (path, source) in enumerate(PAGES.items()):
            text = source.read_text(encoding="utf-8")
            body = news_page(text, when)
            if k == 1:
                self.server.route(path, handler=self._held(body))
            else:
                self.server.route(path, body, headers={"Content-Type": "text/html; charset=utf-8"})
            items.append((path, text.splitlines()[0], when))
        self.server.route("/feed.xml", rss(self.server, items),
                          headers={"Content-Type": "application/rss+xml; charset=utf-8"})

    def _held(self, body: bytes):
        def handler(_req: Request) -> Reply:
            self.in_flight.set()
            self.let_go.wait(60)
            return Reply(200, body, {"Content-Type": "text/html; charset=utf-8"})
        return handler

    def requested(self, path: str) -> int:
        return sum(1 for r in self.server.requests if r.path.split("?")[0] == path)


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    with s.server:
        yield s
        s.let_go.set()


def counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.session() as s:
            return {name: s.scalar(select(func.count()).select_from(t)) or 0
                    for name, t in (("articles", ArticleRow), ("entries", EntryRow), ("figures", FigureRow),
                                    ("positions", PositionRow), ("leases", LeaseRow))}
    finally:
        db.dispose()


@pytest.mark.slow
def test_sigterm_during_a_pass_finishes_the_article_and_exits_0(
        site: Site, tmp_path: Path, database_url: str) -> None:
    cfg = make_config(tmp_path, site.server.url("/feed.xml"))
    port = free_port()
    settings_yaml = cfg / "settings.yaml"
    settings_yaml.write_text(settings_yaml.read_text(encoding="utf-8").replace(
        'listen: "127.0.0.1:9464"', f'listen: "127.0.0.1:{port}"'), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env.update(POLICYWATCH_CONFIG=str(cfg), POLICYWATCH_DATA_DIR=str(tmp_path / "data"),
               POLICYWATCH_DATABASE_URL=database_url, POLICYWATCH_ALLOW_PRIVATE_HOSTS="127.0.0.1",
               PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "worker.cli", "run"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert site.in_flight.wait(180), "the pass never reached the second page"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            assert r.status == 200 and r.read() == b"ok\n"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            assert b"policywatch_articles_total" in r.read()
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)  # the signal is handled while the page is still in flight
        site.let_go.set()
        started = time.monotonic()
        out, err = proc.communicate(timeout=STOP_GRACE_SECONDS + 15)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert took < STOP_GRACE_SECONDS, took
    assert "received SIGTERM" in err and "stopped" in err, err
    first, second, third = site.paths
    assert site.requested(third) == 0, "nothing new starts after the signal"

    after_stop = counts(database_url)
    # the article in hand finished whole: two articles (the pages before and at the signal), each
    # with its entry recorded, and no lease left behind
    assert after_stop["entries"] == 2 and after_stop["leases"] == 0, after_stop
    db = Database(database_url)
    with db.session() as s:
        stored = set(s.scalars(select(ArticleRow.url).where(ArticleRow.source_name == "local-test")))
        entries = set(s.scalars(select(EntryRow.url)))
        etag = s.scalar(select(SourceRow.etag))
    db.dispose()
    assert {u.split("?")[0] for u in stored} == {site.server.url(first), site.server.url(second)}
    assert len(entries) == 2 and etag is None

    # the next pass reads the rest, and nothing twice
    again = subprocess.run([sys.executable, "-m", "worker.cli", "once"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stderr
    assert site.requested(third) == 1 and site.requested(first) == 1
    final = counts(database_url)
    assert final["entries"] == 3 and final["articles"] == after_stop["articles"] + 1 and final["leases"] == 0
    assert (tmp_path / "data" / "heartbeat.json").exists()
