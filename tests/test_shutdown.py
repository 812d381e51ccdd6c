"""A stop signal during a pass of the real `policywatch run` and `policywatch once`: the article
in hand is stored whole, nothing is half-written, no lease stays held, and the next pass picks up
the rest. `run` exits 0 within the grace period; `once` exits 128 + the signal's number."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.servers import FixtureServer, Reply, Request
from tests.test_end_to_end import KST, PAGES, make_config, news_page, rss
from worker.health import read_heartbeat
from worker.scheduler import STOP_GRACE_SECONDS
from worker.store.db import Database
from worker.store.schema import AlertRow, ArticleRow, EntryRow, FigureRow, LeaseRow, PositionRow, SourceRow

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Site:
    """The e2e site, whose second page is held open until the test lets it go."""

    def __init__(self, *, hold: bool = True) -> None:
        self.server = FixtureServer()
        self.in_flight = threading.Event()  # the second page has been requested
        self.let_go = threading.Event()
        when = datetime(2025, 4, 2, 10, 15, tzinfo=KST)
        items = []
        self.paths = list(PAGES)
        for k, (path, source) in enumerate(PAGES.items()):
            text = source.read_text(encoding="utf-8")
            body = news_page(text, when)
            if k == 1 and hold:
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


def claims_per_article(url: str) -> dict[str, tuple[int, int, int]]:
    """Path of each collected article -> (figures, positions, alerts) stored with it."""
    db = Database(url)
    try:
        with db.session() as s:
            out = {}
            for art in s.scalars(select(ArticleRow).where(ArticleRow.source_name == "local-test")):
                out[urllib.parse.urlsplit(art.url).path] = tuple(
                    s.scalar(select(func.count()).select_from(t).where(t.article_id == art.id)) or 0
                    for t in (FigureRow, PositionRow, AlertRow))
            return out
    finally:
        db.dispose()


def worker_env(cfg: Path, tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env.update(POLICYWATCH_CONFIG=str(cfg), POLICYWATCH_DATA_DIR=str(tmp_path / "data"),
               POLICYWATCH_DATABASE_URL=database_url, POLICYWATCH_ALLOW_PRIVATE_HOSTS="127.0.0.1",
               PYTHONPATH=str(ROOT))
    return env


def once(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "worker.cli", "once"], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=240)


def wait_for(what: Callable[[], object], seconds: float) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
    return what()


@pytest.mark.slow
def test_sigterm_during_a_pass_finishes_the_article_and_exits_0(
        site: Site, tmp_path: Path, database_url: str) -> None:
    cfg = make_config(tmp_path, site.server.url("/feed.xml"))
    port = free_port()
    settings_yaml = cfg / "settings.yaml"
    settings_yaml.write_text(settings_yaml.read_text(encoding="utf-8").replace(
        'listen: "127.0.0.1:9464"', f'listen: "127.0.0.1:{port}"'), encoding="utf-8")
    env = worker_env(cfg, tmp_path, database_url)
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
    again = once(env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert site.requested(third) == 1 and site.requested(first) == 1
    final = counts(database_url)
    assert final["entries"] == 3 and final["articles"] == after_stop["articles"] + 1 and final["leases"] == 0
    assert (tmp_path / "data" / "heartbeat.json").exists()


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, int, int]]:
    """What an uninterrupted `once` stores for each page of the site: the claims a stopped pass
    must have stored whole for each article it kept."""
    tmp = tmp_path_factory.mktemp("undisturbed")
    site = Site(hold=False)
    url = f"sqlite:///{tmp / 'policywatch.db'}"
    with site.server:
        done = once(worker_env(make_config(tmp, site.server.url("/feed.xml")), tmp, url), tmp)
    assert done.returncode == 0, done.stderr
    stored = claims_per_article(url)
    assert set(stored) == set(PAGES) and all(sum(n) for n in stored.values()), stored
    return stored


@pytest.mark.slow
@pytest.mark.parametrize("sig, processes", [
    (signal.SIGTERM, 0), (signal.SIGINT, 0), (signal.SIGINT, 1)],
    ids=["SIGTERM", "SIGINT", "SIGINT-claim-process"])
def test_a_signal_during_once_stops_the_pass_cleanly(
        sig: signal.Signals, processes: int, site: Site, tmp_path: Path, database_url: str,
        undisturbed: dict[str, tuple[int, int, int]]) -> None:
    cfg = make_config(tmp_path, site.server.url("/feed.xml"))
    settings_yaml = cfg / "settings.yaml"
    shipped = settings_yaml.read_text(encoding="utf-8")
    assert "processes: 1" in shipped
    settings_yaml.write_text(shipped.replace("processes: 1", f"processes: {processes}"), encoding="utf-8")
    env = worker_env(cfg, tmp_path, database_url)
    data = tmp_path / "data"
    # its own process group, signalled as a whole: what Ctrl-C in a terminal and systemd's stop do
    proc = subprocess.Popen([sys.executable, "-m", "worker.cli", "once"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert site.in_flight.wait(180), "the pass never reached the second page"
        # while the pass runs, the heartbeat follows its progress (the first article is done)
        beat = wait_for(lambda: (b := read_heartbeat(data)) and b.get("articles_done", 0) >= 1 and b, 30)
        assert beat and beat["state"] == "running" and beat["pid"] == proc.pid, beat
        os.killpg(proc.pid, sig)
        time.sleep(0.2)  # the signal is handled while the page is still in flight
        site.let_go.set()
        out, err = proc.communicate(timeout=STOP_GRACE_SECONDS + 15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + sig == {signal.SIGTERM: 143, signal.SIGINT: 130}[sig], err
    stopped = [ln for ln in err.splitlines() if "pass stopped" in ln]
    assert len(stopped) == 1, err
    assert (f"pass stopped by {sig.name}: 1 of 1 sources polled, 2 articles stored" in stopped[0]
            and f"exit status {128 + sig}" in stopped[0]), stopped[0]
    assert "Traceback" not in err and "pass done" not in err, err
    first, second, third = site.paths
    assert site.requested(third) == 0, "nothing new starts after the signal"
    beat = read_heartbeat(data)
    assert beat is not None and beat["state"] == "stopped" and beat["signal"] == sig.name, beat

    # consistent: the articles before and at the signal, each with all its claims and alerts (as an
    # undisturbed pass stores them), their entries recorded, and no lease left held
    assert claims_per_article(database_url) == {p: undisturbed[p] for p in (first, second)}
    after_stop = counts(database_url)
    assert after_stop["entries"] == 2 and after_stop["leases"] == 0, after_stop

    # the next pass reads the rest, and nothing twice
    again = once(env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "pass done: 1 sources (0 failing), 1 articles" in again.stderr, again.stderr
    assert [site.requested(p) for p in (first, second, third)] == [1, 1, 1]
    assert claims_per_article(database_url) == undisturbed
    final = counts(database_url)
    assert final["entries"] == 3 and final["leases"] == 0, final
    beat = read_heartbeat(data)
    assert beat is not None and beat["state"] == "done" and beat["articles"] == 1, beat


STOPPER = """
import logging, os, signal, sys, time
from worker.logs import configure
from worker.scheduler import stop_on_signals
configure("INFO")
stop = stop_on_signals(lambda: print("stopping", flush=True), grace=float(sys.argv[1]))
print("ready", flush=True)
time.sleep(60)  # work that does not finish
"""


@pytest.mark.parametrize("second", [False, True], ids=["grace-runs-out", "second-signal"])
def test_work_that_does_not_stop_is_left_with_exit_1(second: bool) -> None:
    proc = subprocess.Popen([sys.executable, "-c", STOPPER, "1.5" if not second else "60"], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.stdout.readline() == "stopping\n"
        if second:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err
    why = "received SIGINT again" if second else "work still running 1.5 s after SIGTERM"
    assert f"{why}: leaving now; the database rolls back what was not committed" in err, err
