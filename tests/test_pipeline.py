"""The pipeline in process, against a real local server: failing sources raise one operations
message and one on recovery; a failing page is retried a few times, then given up; one article
under several URLs is read once."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import FixtureServer, Reply, Request
from tests.test_end_to_end import PAGES, news_page, rss
from worker.claims.lexicon import Lexicon
from worker.fetch import Fetcher
from worker.model import Source
from worker.pipeline import MAX_ENTRY_ATTEMPTS, OPS_FAILURE_THRESHOLD, Pipeline
from worker.settings import FetchSettings, Settings
from worker.store.db import Database


class Sink:
    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []

    def __call__(self, session: Any, **kw: Any) -> bool:
        self.alerts.append(kw)
        return True


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as srv:
        yield srv


def make_pipeline(tmp_path: Path, lexicon: Lexicon, database_url: str) -> tuple[Pipeline, Sink]:
    settings = Settings(config_dir=tmp_path, data_dir=tmp_path, database_url=database_url,
                        seeds_dir=Path(__file__).resolve().parent.parent / "seeds", allow_private_hosts=("127.0.0.1",),
                        fetch=FetchSettings(timeout_seconds=5, per_host_delay_seconds=0, respect_robots=False))
    db = Database(database_url)
    db.migrate()
    sink = Sink()
    clock = iter(datetime(2025, 4, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(10_000))
    pipeline = Pipeline(settings, db, lexicon, fetcher=Fetcher(settings), sink=sink, clock=lambda: next(clock))
    return pipeline, sink


def test_failing_source_raises_one_ops_message_and_one_on_recovery(
        server: FixtureServer, tmp_path: Path, lexicon: Lexicon, database_url: str) -> None:
    pipeline, sink = make_pipeline(tmp_path, lexicon, database_url)
    state = {"ok": False}
    feed = rss(server, [])
    server.route("/feed.xml", handler=lambda _r: Reply(200, feed) if state["ok"] else Reply(500, b"oops"))
    source = Source("flaky", server.url("/feed.xml"))
    for _ in range(OPS_FAILURE_THRESHOLD + 2):
        report = pipeline.refresh_source(source)
        assert not report.ok and "500" in (report.error or "")
    assert [(a["kind"], a["change"]) for a in sink.alerts] == [("ops", "failing")]
    state["ok"] = True
    assert pipeline.refresh_source(source).ok
    assert pipeline.refresh_source(source).ok
    assert [(a["kind"], a["change"]) for a in sink.alerts] == [("ops", "failing"), ("ops", "recovered")]
    pipeline.db.dispose()


def test_failing_page_is_retried_then_given_up(server: FixtureServer, tmp_path: Path, lexicon: Lexicon,
                                               sqlite_url: str) -> None:
    pipeline, _sink = make_pipeline(tmp_path, lexicon, sqlite_url)
    when = datetime(2025, 4, 2, tzinfo=UTC)
    server.route("/feed.xml", rss(server, [("/news/down.html", "딥시크 기사", when)]))
    server.route("/news/down.html", b"busy", status=503)
    source = Source("s", server.url("/feed.xml"))
    for _ in range(MAX_ENTRY_ATTEMPTS + 2):
        report = pipeline.refresh_source(source)
        assert report.ok  # a failing page does not fail its source
    hits = [r for r in server.requests if r.path.startswith("/news/down.html")]
    assert len(hits) == MAX_ENTRY_ATTEMPTS
    pipeline.db.dispose()


def test_one_article_under_several_urls_is_read_once(server: FixtureServer, tmp_path: Path, lexicon: Lexicon,
                                                     sqlite_url: str) -> None:
    pipeline, sink = make_pipeline(tmp_path, lexicon, sqlite_url)
    pipeline.ensure_baseline()
    text = PAGES["/news/india-finance.html"].read_text(encoding="utf-8")
    when = datetime(2025, 4, 2, tzinfo=UTC)
    page = news_page(text, when)
    seen: list[str] = []

    def serve(req: Request) -> Reply:
        seen.append(req.path)
        return Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})
    server.route("/a.html", handler=serve)
    server.route("/b.html", handler=serve)  # another outlet's URL, the same text
    body = rss(server, [("/a.html", "인도 재무부", when)]).replace(b"</channel>", (
        f"<item><title>again</title><link>{server.url('/a.html')}?utm_source=x&amp;fbclid=1</link></item>"
        f"<item><title>copy</title><link>{server.url('/b.html')}</link></item></channel>").encode())
    server.route("/feed.xml", body)
    report = pipeline.refresh_source(Source("s", server.url("/feed.xml")))
    assert report.ok
    positions = [a for a in sink.alerts if a["kind"] == "position"]
    assert len(positions) == 1, sink.alerts
    assert sum(p.startswith("/a.html") for p in seen) == 1  # the tracking-parameter variant is the same entry
    pipeline.db.dispose()


def test_baseline_half_learned_is_completed_on_next_start(tmp_path: Path, lexicon: Lexicon, sqlite_url: str) -> None:
    pipeline, sink = make_pipeline(tmp_path, lexicon, sqlite_url)
    seeds = sorted(pipeline.settings.seeds_dir.glob("*.txt"))
    assert pipeline.learn_baseline(seeds[:1]) == 1  # a first start stopped after one seed
    assert pipeline.ensure_baseline() == len(seeds) - 1
    assert pipeline.ensure_baseline() == 0
    assert sink.alerts == []
    pipeline.db.dispose()


def test_relative_periods_follow_each_articles_date(tmp_path: Path, lexicon: Lexicon, database_url: str) -> None:
    """"올해" in an article of 2025 and in one of 2026 are two periods: the second is a figure for
    a new period that takes over from 2025, not a change of the 2025 figure."""
    from worker.model import Article

    pipeline, sink = make_pipeline(tmp_path, lexicon, database_url)
    text = ("딥시크 대응 AI 예산\n과학기술정보통신부의 올해 인공지능(AI) 예산은 {}으로 집계됐다. "
            "정부는 딥시크 등 중국 AI 확산에 대응해 국산 AI 반도체 지원을 늘리기로 했다.")
    first = pipeline.process_article(Article(url="https://news.example/a", title="AI 예산", outlet="A",
                                             text=text.format("1조 원"),
                                             published=datetime(2025, 3, 2, 9, 0, tzinfo=UTC)))
    assert first.status == "new"
    later = ("내년도 반도체 지원 확대\n과학기술정보통신부의 올해 AI 예산은 1조 2천억 원이다. 과기정통부는 이 가운데 "
             "상당 부분을 국산 신경망처리장치 실증과 데이터센터 구축에 쓰고, 딥시크 같은 중국 모델의 국내 확산에도 "
             "대비하겠다고 설명했다. 업계는 예산 집행 속도가 관건이라고 지적했다.")
    second = pipeline.process_article(Article(url="https://news.example/b", title="AI 예산", outlet="B", text=later,
                                              published=datetime(2026, 2, 10, 9, 0, tzinfo=UTC)))
    budget = [a for a in second.alerts if a.get("kind") == "figure" and a.get("value") == 1.2e12]
    assert budget, second.alerts
    assert budget[0]["period"] == "2026" and budget[0]["change"] == "new"
    assert budget[0]["replaces_period"] == "2025" and budget[0]["previous"]["value"] == 1e12
    pipeline.db.dispose()
