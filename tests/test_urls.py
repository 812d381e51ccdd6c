"""URL identity: one canonical form per article, one stable key per feed entry."""
from __future__ import annotations

import pytest

from worker.urls import canonical_url, entry_key, is_http_url

SAME_ARTICLE = [
    # (as a feed or a reader gives it, the canonical form)
    ("https://www.example.co.kr/news/articleView.html?idxno=1001",
     "https://example.co.kr/news/articleView.html?idxno=1001"),
    ("HTTPS://WWW.Example.CO.KR/news/articleView.html?idxno=1001#comments",
     "https://example.co.kr/news/articleView.html?idxno=1001"),
    ("https://m.example.co.kr/news/articleView.html?idxno=1001&utm_source=naver&utm_medium=referral",
     "https://example.co.kr/news/articleView.html?idxno=1001"),
    ("https://mobile.example.co.kr/news/articleView.html?fbclid=IwAR0x&idxno=1001",
     "https://example.co.kr/news/articleView.html?idxno=1001"),
    ("https://amp.example.co.kr/news/articleView.html?idxno=1001&gclid=abc",
     "https://example.co.kr/news/articleView.html?idxno=1001"),
    ("https://www.example.co.kr:443/news/articleView.html?idxno=1001",
     "https://example.co.kr/news/articleView.html?idxno=1001"),
    ("https://example.co.kr/news/2025/02/06/deepseek/amp", "https://example.co.kr/news/2025/02/06/deepseek"),
    ("https://example.co.kr/amp/news/2025/02/06/deepseek", "https://example.co.kr/news/2025/02/06/deepseek"),
    ("https://example.co.kr/news/deepseek.amp.html", "https://example.co.kr/news/deepseek.html"),
    ("https://example.co.kr/news/deepseek.html?outputType=amp", "https://example.co.kr/news/deepseek.html"),
    ("https://example.co.kr/view?b=2&a=1", "https://example.co.kr/view?a=1&b=2"),
    ("https://news.example.co.kr/article?aid=2&oid=1&cloc=joongang-home&ref=main",
     "https://news.example.co.kr/article?aid=2&oid=1"),
    ("https://m.news.naver.com/read.nhn?oid=001&aid=0015200000&sid1=105",
     "https://news.naver.com/read.nhn?aid=0015200000&oid=001&sid1=105"),
    ("https://example.co.kr/기사/딥시크", "https://example.co.kr/%EA%B8%B0%EC%82%AC/%EB%94%A5%EC%8B%9C%ED%81%AC"),
    ("https://example.co.kr/%EA%B8%B0%EC%82%AC", "https://example.co.kr/%EA%B8%B0%EC%82%AC"),
    ("http://Example.co.kr:8080", "http://example.co.kr:8080/"),
    ("  https://example.co.kr/a  ", "https://example.co.kr/a"),
]


@pytest.mark.parametrize(("given", "canonical"), SAME_ARTICLE)
def test_canonical_url(given: str, canonical: str) -> None:
    assert canonical_url(given) == canonical
    assert canonical_url(canonical) == canonical  # idempotent


@pytest.mark.parametrize("url", [
    "https://example.co.kr/news/articleView.html?idxno=1002",  # another article id
    "https://sports.example.co.kr/news/articleView.html?idxno=1001",  # another section host
    "https://example.co.kr/camp/1",  # "amp" inside a word is not AMP
    "https://example.co.kr/view?no=7",
])
def test_different_articles_stay_different(url: str) -> None:
    assert canonical_url(url) != canonical_url("https://www.example.co.kr/news/articleView.html?idxno=1001")


@pytest.mark.parametrize("url", ["https://www.co.kr/x", "https://m.go.kr/x"])
def test_never_folds_down_to_a_public_suffix(url: str) -> None:
    assert canonical_url(url) == url


@pytest.mark.parametrize("url", ["mailto:desk@example.co.kr", "javascript:void(0)", "/relative/path", ""])
def test_non_http_urls_are_left_alone(url: str) -> None:
    assert canonical_url(url) == url.strip()
    assert not is_http_url(url)


def test_entry_key_prefers_the_guid() -> None:
    assert entry_key("yna-AKR20250206", "https://www.yna.co.kr/view/AKR20250206", "t", "c") == "yna-AKR20250206"


def test_entry_key_canonicalises_url_guids() -> None:
    a = entry_key("https://www.example.co.kr/n/1?utm_source=rss", None, "t", "")
    b = entry_key(None, "https://m.example.co.kr/n/1#top", "other title", "")
    assert a == b == "https://example.co.kr/n/1"


def test_entry_key_falls_back_to_a_content_hash() -> None:
    a = entry_key(None, None, "딥시크 차단", "외교부가  딥시크를\n차단했다.")
    b = entry_key("", "not a url", "딥시크 차단", "외교부가 딥시크를 차단했다.")
    assert a == b and a.startswith("sha256:")
    assert entry_key(None, None, "딥시크 허용", "외교부가 딥시크를 차단했다.") != a
