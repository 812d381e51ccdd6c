"""The whole worker, end to end: a real feed and real pages on 127.0.0.1, the real `policywatch`
command, a real webhook receiving the alerts through apprise, SQLite and PostgreSQL."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path

import pytest

from tests.conftest import CONFIG, SEEDS
from tests.support.servers import FixtureServer, Reply, Request

KST = timezone(timedelta(hours=9))
ARTICLES = Path(__file__).resolve().parent / "fixtures" / "replay"
PAGES = {  # path on the fixture server -> article text (title line, then paragraphs)
    "/news/gpu-price.html": ARTICLES / "01-gpu-price.txt",
    "/news/india-finance.html": ARTICLES / "07-india-finance.txt",
    "/news/baseball.html": ARTICLES / "06-sports.txt",
}


def news_page(text: str, published: datetime) -> bytes:
    """A news page as outlets serve it: navigation, the article, a ranking sidebar, a footer."""
    title, *paras = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("입력", "저작권자", "ⓒ"))]
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paras)
    return f"""<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>{escape(title)} - 테크데일리</title>
<meta property="og:title" content="{escape(title)}">
<meta property="article:published_time" content="{published.isoformat()}"></head>
<body><header><nav><a href="/">홈</a> <a href="/it">IT</a> <a href="/policy">정책</a> <a href="/login">로그인</a></nav></header>
<main><article><h1>{escape(title)}</h1><div class="byline">박민수 기자 minsu@techdaily.example</div>
<div class="article-body">{body}</div></article></main>
<aside><h3>많이 본 뉴스</h3><ol><li><a href="/1">삼성전자 주가 7만원 회복</a></li><li><a href="/2">2025 프로야구 개막 D-3</a></li></ol></aside>
<footer>(주)테크데일리 | 서울시 중구 세종대로 1, 5층 | 전화 02-1234-5678 | 사업자등록번호 123-45-67890 |
Copyright © 2025 테크데일리. All rights reserved.</footer></body></html>""".encode()


def rss(server: FixtureServer, items: list[tuple[str, str, datetime]]) -> bytes:
    entries = "".join(
        f"<item><title>{escape(title)}</title><link>{server.url(path)}?utm_source=rss</link>"
        f"<guid>{server.url(path)}</guid><pubDate>{format_datetime(when)}</pubDate></item>"
        for path, title, when in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>테크데일리 IT</title>'
            f"<link>{server.url('/')}</link>{entries}</channel></rss>").encode()


@pytest.fixture
def site() -> Iterator[FixtureServer]:
    with FixtureServer() as server:
        when = datetime(2025, 4, 2, 10, 15, tzinfo=KST)
        items = []
        for path, source in PAGES.items():
            text = source.read_text(encoding="utf-8")
            server.route(path, news_page(text, when), headers={"Content-Type": "text/html; charset=utf-8"})
            items.append((path, text.splitlines()[0], when))
        server.route("/feed.xml", rss(server, items), headers={"Content-Type": "application/rss+xml; charset=utf-8"})
        yield server


class Webhook:
    """A local webhook receiver: apprise's json:// posts land in ``received``."""

    def __init__(self) -> None:
        self.server = FixtureServer()
        self.received: list[dict] = []
        self._lock = threading.Lock()
        self.server.route("/hook", handler=self._handle)

    def _handle(self, req: Request) -> Reply:
        with self._lock:
            self.received.append(json.loads(req.body.decode("utf-8")))
        return Reply(200, b"ok")

    @property
    def url(self) -> str:
        return f"json://{self.server.host}:{self.server.port}/hook"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    with hook.server:
        yield hook


def make_config(tmp_path: Path, feed_url: str) -> Path:
    cfg = tmp_path / "config"
    shutil.copytree(CONFIG, cfg)
    (cfg / "sources.yaml").write_text(f"sources:\n  - name: local-test\n    outlet: 테크데일리\n    url: {feed_url}\n",
                                      encoding="utf-8")
    return cfg


def policywatch(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "worker.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=240)


@pytest.fixture
def worker_env(tmp_path: Path, site: FixtureServer, webhook: Webhook, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env.update(POLICYWATCH_CONFIG=str(make_config(tmp_path, site.url("/feed.xml"))),
               POLICYWATCH_DATA_DIR=str(tmp_path / "data"), POLICYWATCH_DATABASE_URL=database_url,
               POLICYWATCH_NOTIFY_URLS=webhook.url, POLICYWATCH_ALLOW_PRIVATE_HOSTS="127.0.0.1",
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    return env


@pytest.mark.slow
def test_once_alerts_on_new_figure_and_changed_position_then_stays_quiet(
        worker_env: dict[str, str], webhook: Webhook, site: FixtureServer, tmp_path: Path) -> None:
    first = policywatch("once", env=worker_env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    bodies = [m.get("message", "") for m in webhook.received]
    text = "\n".join(f"{m.get('title', '')}\n{m.get('message', '')}" for m in webhook.received)
    # the H100 price: previous and new value, the sentence and the link
    price = [b for b in bodies if "H100" in b]
    assert len(price) == 1, text
    assert "4,000만 원" in price[0] and "5,000만 원" in price[0], price[0]
    assert "1개당 약 5천만 원에 거래되고 있다" in price[0]
    assert site.url("/news/gpu-price.html") in price[0]
    # India's finance ministry bans what the Indian government had adopted
    india = [b for b in bodies if "인도 재무부" in b]
    assert len(india) == 1 and "딥시크" in india[0], text
    assert site.url("/news/india-finance.html") in india[0]
    # the baseball game is off-topic: nothing about it
    assert not any("트윈스" in b or "관중" in b for b in bodies), text
    assert "local-test" in first.stderr  # the pass says what it did per source

    count = len(webhook.received)
    second = policywatch("once", env=worker_env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert len(webhook.received) == count, "a second pass must send nothing"

    listed = policywatch("alerts", env=worker_env, cwd=tmp_path)
    assert listed.returncode == 0 and "H100" in listed.stdout and "sent" in listed.stdout, listed.stdout
    claims = policywatch("claims", "--subject", "H100", env=worker_env, cwd=tmp_path)
    assert "40000000" in claims.stdout.replace(",", "") and "50000000" in claims.stdout.replace(",", ""), claims.stdout


@pytest.mark.slow
def test_failing_source_is_reported_and_the_pass_goes_on(
        worker_env: dict[str, str], webhook: Webhook, site: FixtureServer, tmp_path: Path) -> None:
    cfg = Path(worker_env["POLICYWATCH_CONFIG"])
    site.route("/broken.xml", b"<rss><channel><item><title>unterminated", headers={"Content-Type": "text/xml"})
    (cfg / "sources.yaml").write_text(
        "sources:\n"
        f"  - {{name: broken, url: '{site.url('/broken.xml')}'}}\n"
        f"  - {{name: gone, url: '{site.url('/missing.xml')}'}}\n"
        f"  - {{name: local-test, url: '{site.url('/feed.xml')}'}}\n", encoding="utf-8")
    result = policywatch("once", env=worker_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert any("H100" in m.get("message", "") for m in webhook.received)
    lines = [ln for ln in result.stderr.splitlines() if "source gone" in ln]
    assert lines and "404" in lines[0], result.stderr
    sources = policywatch("sources", env=worker_env, cwd=tmp_path)
    assert "gone" in sources.stdout and "404" in sources.stdout, sources.stdout


@pytest.mark.slow
def test_console_alerts_when_no_notification_url(site: FixtureServer, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env.update(POLICYWATCH_CONFIG=str(make_config(tmp_path, site.url("/feed.xml"))),
               POLICYWATCH_DATA_DIR=str(tmp_path / "data"), POLICYWATCH_ALLOW_PRIVATE_HOSTS="127.0.0.1",
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    result = policywatch("once", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "H100" in result.stdout and "5,000만 원" in result.stdout, result.stdout
    assert (tmp_path / "data" / "policywatch.db").exists()


def test_replaying_the_seeds_over_themselves_raises_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    seeds = sorted(str(p) for p in SEEDS.glob("*.txt"))
    # the same files, and copies under other names (another URL: caught as the same text)
    copies = []
    for path in seeds:
        copy = tmp_path / f"copy-{Path(path).name}"
        copy.write_text(Path(path).read_text(encoding="utf-8"), encoding="utf-8")
        copies.append(str(copy))
    result = policywatch("replay", "--format", "json", *seeds, *copies, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
