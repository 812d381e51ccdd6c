"""Feeds, sitemaps and the Naver search API, served by a local HTTP server and parsed."""
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support.servers import FixtureServer
from tests.support.collector import make_settings
from worker.errors import ConfigError, ParseError
from worker.feeds import naver_request, parse_feed, parse_naver, parse_sitemap
from worker.fetch import Fetcher
from worker.model import FeedEntry, Source, SourceKind
from worker.urls import canonical_url

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
KST = timezone(timedelta(hours=9))
TYPES = {".xml": "application/rss+xml; charset=utf-8", ".json": "application/json", ".html": "text/html"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FixtureServer, Fetcher]]:
    """Every file of fixtures/feeds/ at /<name>, and a fetcher allowed to reach it."""
    with FixtureServer() as srv, Fetcher(make_settings()) as fetcher:
        for path in FEEDS.iterdir():
            srv.route(f"/{path.name}", path.read_bytes(), headers={"Content-Type": TYPES[path.suffix]})
        yield srv, fetcher


def fetch_feed(served: tuple[FixtureServer, Fetcher], name: str) -> list[FeedEntry]:
    srv, fetcher = served
    response = fetcher.get(srv.url(f"/{name}"), purpose="feed")
    return parse_feed(response.content, Source(name="test", url=srv.url(f"/{name}")), base_url=response.url)


def test_rss_entries(served: tuple[FixtureServer, Fetcher]) -> None:
    srv, _ = served
    entries = fetch_feed(served, "yonhap_rss.xml")
    assert [e.title for e in entries] == [
        "개인정보위, 딥시크 국내 신규 다운로드 잠정 중단",
        "‘딥시크’ 쇼크… 엔비디아 시총 \"하루 새 800조 원\" 증발",
        "정부 부처, 딥시크 접속 차단",
        "날짜를 읽을 수 없는 기사",
    ]  # the item without a link is dropped, the repeated guid kept once
    first, second, third, fourth = entries
    assert first.key == "example-news-1001" and first.source == "test"
    assert first.url == "https://example-news.co.kr/news/articleView.html?idxno=1001"
    assert first.link.startswith("https://www.example-news.co.kr/") and "utm_source" in first.link
    assert first.published == datetime(2025, 2, 17, 18, 0, tzinfo=KST)
    assert first.summary == "개인정보보호위원회는 17일 딥시크 앱의 국내 신규 다운로드를 잠정 중단했다고 밝혔다."
    assert second.key == second.url == "https://example-news.co.kr/news/articleView.html?idxno=1002"
    assert second.published == datetime(2025, 1, 28, 7, 10, tzinfo=KST)  # dc:date
    assert third.link == srv.url("/news/articleView.html?idxno=1003")  # relative link resolved
    assert third.published == datetime(2025, 2, 6, 13, 31, tzinfo=KST)  # "2025-02-06 13:31:00" is KST
    assert fourth.published is None  # "어제 오후": unreadable, never a guess


def test_every_entry_has_a_canonical_url_and_a_key(served: tuple[FixtureServer, Fetcher]) -> None:
    for name in ("yonhap_rss.xml", "atom.xml", "kst_dates.xml", "bozo_usable.xml", "euckr_feed.xml"):
        for entry in fetch_feed(served, name):
            assert entry.key and entry.url == canonical_url(entry.url) and entry.link
            assert entry.published is None or entry.published.tzinfo is not None


def test_atom_entries(served: tuple[FixtureServer, Fetcher]) -> None:
    act, chips = fetch_feed(served, "atom.xml")
    assert act.title == "AI 기본법 국회 통과"  # html title markup dropped
    assert act.url == "https://blog.example.kr/posts/ai-basic-act"  # xml:base applied
    assert act.key == "tag:blog.example.kr,2025:ai-basic-act"
    assert act.published == datetime(2025, 2, 7, 8, 30, tzinfo=KST)  # published wins over updated
    assert chips.key == chips.url == "https://blog.example.kr/posts/chips"  # URL guid canonicalised
    assert chips.summary == "1월 반도체 수출이 전년 대비 10% 증가했다."  # from <content>
    assert chips.published == datetime(2025, 2, 5, 23, 0, tzinfo=timezone.utc)


EXPECTED_DATES = {
    "a": datetime(2025, 2, 6, 13, 31, tzinfo=KST), "b": datetime(2025, 2, 6, 13, 31, tzinfo=KST),
    "c": datetime(2025, 2, 6, 13, 31, tzinfo=KST), "d": datetime(2025, 2, 6, 13, 31, tzinfo=KST),
    "e": datetime(2025, 2, 6, 13, 31, tzinfo=KST), "f": datetime(2025, 2, 6, 13, 31, tzinfo=KST),
    "g": datetime(2025, 2, 6, 13, 31, tzinfo=KST), "h": datetime(2025, 2, 6, 13, 31, tzinfo=KST),
    "i": datetime(2025, 2, 6, 13, 31, tzinfo=KST), "x": None, "y": None, "z": None,
}


def test_korean_feed_dates(served: tuple[FixtureServer, Fetcher]) -> None:
    assert {e.title: e.published for e in fetch_feed(served, "kst_dates.xml")} == EXPECTED_DATES


def test_euckr_feed_keeps_cp949_syllables(served: tuple[FixtureServer, Fetcher]) -> None:
    (entry,) = fetch_feed(served, "euckr_feed.xml")
    assert entry.title == "똠방각하와 햏자, 인터넷 밈의 역사" and entry.summary == "똠양꿍 먹는 햏자들"
    assert entry.published == datetime(2025, 2, 6, 13, 31, tzinfo=KST)


def test_bozo_feed_with_usable_entries_is_fine(served: tuple[FixtureServer, Fetcher]) -> None:
    titles = [e.title for e in fetch_feed(served, "bozo_usable.xml")]
    assert titles == ["R&D 예산 5조 원 삭감", "과기정통부, 반도체 R&D 3천억 원 투입"]


def test_empty_feed_is_empty_not_an_error(served: tuple[FixtureServer, Fetcher]) -> None:
    assert fetch_feed(served, "empty_channel.xml") == []


@pytest.mark.parametrize(("name", "words"), [
    ("malformed.xml", "malformed XML with no usable entries"),
    ("not_a_feed.html", "not an RSS or Atom feed (an HTML page"),
])
def test_unusable_documents_raise_one_clear_line(served: tuple[FixtureServer, Fetcher], name: str,
                                                 words: str) -> None:
    with pytest.raises(ParseError) as exc:
        fetch_feed(served, name)
    message = str(exc.value)
    assert words in message and "\n" not in message and name in message


def test_empty_body_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="the feed is empty"):
        parse_feed(b"  \n", Source(name="t", url="https://x.example/feed"))


@pytest.mark.parametrize("name", ["billion_laughs.xml", "billion_laughs_one_line.xml"])
def test_billion_laughs_is_not_expanded(served: tuple[FixtureServer, Fetcher], name: str) -> None:
    started = time.monotonic()
    entries = fetch_feed(served, name)
    assert time.monotonic() - started < 2.0
    assert len(entries) == 1 and entries[0].link.startswith("https://lol.example/")
    assert "lollol" not in entries[0].title + entries[0].summary
    assert "aaaaaaaaaaaaaaaaaaaa" not in entries[0].title
    assert len(entries[0].title) < 100


def test_external_entities_are_not_read(served: tuple[FixtureServer, Fetcher]) -> None:
    (entry,) = fetch_feed(served, "xxe.xml")
    assert "root:" not in entry.title + entry.summary and entry.title.startswith("비밀")


def test_private_link_is_kept_for_the_fetcher_to_refuse(served: tuple[FixtureServer, Fetcher]) -> None:
    (entry,) = fetch_feed(served, "private_link.xml")
    assert entry.url == "http://10.0.0.1/admin"  # parse_feed reads; Fetcher refuses (test_fetch)


# -- Google News sitemaps ------------------------------------------------------------------------

def fetch_sitemap(served: tuple[FixtureServer, Fetcher], name: str) -> list[FeedEntry]:
    srv, fetcher = served
    response = fetcher.get(srv.url(f"/{name}"), purpose="feed")
    return parse_sitemap(response.content, Source(name="sm", url=srv.url(f"/{name}"), kind=SourceKind.SITEMAP))


def test_news_sitemap(served: tuple[FixtureServer, Fetcher]) -> None:
    ban, h100, section = fetch_sitemap(served, "news_sitemap.xml")  # the javascript: loc is dropped
    assert ban.title == "행안부, 공무원 PC에서 딥시크 사용 자제 요청"
    assert ban.url == ban.key == "https://sitemap-news.kr/article/2025/02/06/deepseek-ban"
    assert ban.link.endswith("?utm_campaign=gn")
    assert ban.published == datetime(2025, 2, 6, 13, 31, tzinfo=KST)
    assert h100.title == "H100 가격 & 공급 전망"
    assert h100.published == datetime(2025, 2, 5, 18, 20, tzinfo=KST)  # news date beats lastmod
    assert section.title == "" and section.published == datetime(2025, 2, 6, tzinfo=KST)


@pytest.mark.parametrize(("name", "words"), [
    ("sitemap_index.xml", "a sitemap index, not a sitemap"),
    ("yonhap_rss.xml", "not a sitemap (the root element is <rss>)"),
    ("malformed.xml", "not a readable sitemap"),
    ("billion_laughs.xml", "not a readable sitemap"),
])
def test_unusable_sitemaps(served: tuple[FixtureServer, Fetcher], name: str, words: str) -> None:
    with pytest.raises(ParseError) as exc:
        fetch_sitemap(served, name)
    assert words in str(exc.value) and "\n" not in str(exc.value)


# -- Naver News search API -----------------------------------------------------------------------

def naver_source(url: str = "") -> Source:
    return Source(name="naver-deepseek", url=url, kind=SourceKind.NAVER, query="딥시크 규제")


def test_naver_request_against_a_local_api(served: tuple[FixtureServer, Fetcher]) -> None:
    srv, fetcher = served
    settings = make_settings(naver_client_id="id-123", naver_client_secret="s3cret")
    url, headers = naver_request(naver_source(srv.url("/naver_news.json")), settings)
    assert "query=%EB%94%A5%EC%8B%9C%ED%81%AC+%EA%B7%9C%EC%A0%9C" in url and "sort=date" in url
    assert headers == {"X-Naver-Client-Id": "id-123", "X-Naver-Client-Secret": "s3cret"}
    response = fetcher.get(url, purpose="api", headers=headers)
    assert srv.requests[-1].headers["x-naver-client-secret"] == "s3cret"
    first, naver_only, odd = parse_naver(response.content, naver_source())
    assert first.title == '정부, 딥시크 접속 차단"보안 우려"'  # <b> and entities gone
    assert first.url == "https://naver-outlet.co.kr/news/articleView.html?idxno=555"  # originallink
    assert first.summary.startswith("외교부·국방부·산업부가 딥시크 접속을 차단했다.")
    assert "'추가 조치'" in first.summary
    assert first.published == datetime(2025, 2, 6, 13, 31, tzinfo=KST)
    assert naver_only.link == "https://n.news.naver.com/mnews/article/003/0013000000?sid=101"
    assert odd.published is None


def test_naver_default_endpoint() -> None:
    settings = make_settings(naver_client_id="a", naver_client_secret="b")
    url, _ = naver_request(naver_source(), settings)
    assert url.startswith("https://openapi.naver.com/v1/search/news.json?query=")


def test_naver_without_credentials_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="NAVER_CLIENT_ID and NAVER_CLIENT_SECRET"):
        naver_request(naver_source(), make_settings())


@pytest.mark.parametrize(("body", "words"), [
    ((FEEDS / "naver_error.json").read_bytes(), "the API answered 024: Authentication failed"),
    (b"<html>502 Bad Gateway</html>", "the answer is not JSON"),
    (b"[]", "a JSON object was expected"),
    (b'{"total": 0}', "no 'items' list"),
])
def test_naver_errors(body: bytes, words: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse_naver(body, naver_source())
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_naver_empty_result() -> None:
    assert parse_naver(b'{"total": 0, "items": []}', naver_source()) == []
