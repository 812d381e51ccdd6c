"""Main text, title and date of Korean news pages fetched from a local server, in every encoding."""
from __future__ import annotations

import codecs
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support.collector import make_settings
from tests.support.servers import FixtureServer
from worker.errors import ExtractError
from worker.extract import article_from_html, decode_html
from worker.fetch import Fetcher
from worker.model import Article

PAGES = Path(__file__).parent / "fixtures" / "pages"
KST = timezone(timedelta(hours=9))

# (page, Content-Type the server sends): the header is wrong on purpose in some rows
SERVED = {
    "/utf8": ("article_utf8.html", "text/html; charset=UTF-8"),
    "/euckr": ("article_euckr.html", "text/html"),  # only <meta charset="euc-kr"> tells
    "/wrong-header": ("article_wrong_header.html", "text/html; charset=utf-8"),
    "/latin1-default": ("article_wrong_header.html", "text/html; charset=ISO-8859-1"),
    "/bom": ("article_bom.html", "text/html; charset=euc-kr"),
    "/no-meta": ("article_no_meta.html", "text/html"),
    "/login": ("login_page.html", "text/html; charset=utf-8"),
}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FixtureServer, Fetcher]]:
    with FixtureServer() as srv, Fetcher(make_settings()) as fetcher:
        for path, (name, ctype) in SERVED.items():
            srv.route(path, (PAGES / name).read_bytes(), headers={"Content-Type": ctype})
        yield srv, fetcher


def fetch_article(served: tuple[FixtureServer, Fetcher], path: str, **kwargs: object) -> Article:
    srv, fetcher = served
    page = fetcher.get(srv.url(path), purpose="page")
    return article_from_html(page.content, url=page.url, content_type=page.content_type, **kwargs)  # type: ignore[arg-type]


def test_utf8_article_keeps_the_story_and_drops_the_chrome(served: tuple[FixtureServer, Fetcher]) -> None:
    article = fetch_article(served, "/utf8", outlet="테스트경제")
    assert article.title == "개인정보위, 딥시크 국내 신규 다운로드 잠정 중단"
    assert article.text.split("\n")[0] == article.title
    assert "557만 6,000달러(약 81억 원)" in article.text
    assert "카카오와 LG유플러스 등 민간 기업도 사내 사용을 금지했다." in article.text
    for chrome in ("많이 본 뉴스", "비트코인 1억5천만 원", "양화로 127", "02-3142-4151", "118-81-03520",
                   "회원가입", "관련기사", "댓글을 입력하세요", "뉴스레터", "IT·과학"):
        assert chrome not in article.text, chrome
    assert article.published == datetime(2025, 2, 17, 18, 0, tzinfo=KST)
    assert article.outlet == "테스트경제" and article.url.endswith("/utf8")


def test_euckr_page_by_meta_charset_keeps_cp949_syllables(served: tuple[FixtureServer, Fetcher]) -> None:
    article = fetch_article(served, "/euckr")
    assert article.title == "똠방각하 햏자 열풍…인터넷 신조어 100년사"
    assert "'햏', '똠', '뷁'처럼 확장 완성형(CP949)에만 있는 글자" in article.text
    assert "똠양꿍을 똠양꿍으로" in article.text and "\ufffd" not in article.text
    assert "인기기사" not in article.text and "세종대로" not in article.text
    assert article.published == datetime(2025, 2, 8, 10, 15, tzinfo=KST)


@pytest.mark.parametrize("path", ["/wrong-header", "/latin1-default"])
def test_wrong_http_charset_falls_back_to_the_page(served: tuple[FixtureServer, Fetcher], path: str) -> None:
    article = fetch_article(served, path)
    assert article.title == "뷁 논쟁 10년…햏자들이 남긴 말"
    assert "똠양꿍" in article.text and "\ufffd" not in article.text


def test_bom_wins_over_a_wrong_header(served: tuple[FixtureServer, Fetcher]) -> None:
    article = fetch_article(served, "/bom")
    assert article.title == "반도체 수출 10% 증가…HBM이 견인"
    assert "101억 달러로 전년 같은 달보다 10% 증가" in article.text
    assert not article.text.startswith("\ufeff")
    assert article.published == datetime(2025, 2, 1, 9, 0, tzinfo=KST)


def test_page_without_meta_uses_title_tag_and_byline(served: tuple[FixtureServer, Fetcher]) -> None:
    article = fetch_article(served, "/no-meta")
    assert article.title == "정부, AI 기본법 시행령 입법예고"
    assert article.text.count("정부, AI 기본법 시행령 입법예고") == 1  # the headline is not repeated
    assert "40일간 의견을 수렴한 뒤" in article.text and "오늘의 인기 뉴스" not in article.text
    assert article.published == datetime(2025, 2, 7, 9, 12, tzinfo=KST)  # from "기사입력 2025-02-07 09:12"


def test_fallbacks_when_the_page_has_neither(served: tuple[FixtureServer, Fetcher]) -> None:
    body = ("<html><body><article><p>" + "과기정통부는 7일 반도체 연구개발에 3천억 원을 투입한다고 밝혔다. " * 3
            + "</p></article></body></html>").encode()
    when = datetime(2025, 2, 7, 9, 0, tzinfo=KST)
    article = article_from_html(body, url="https://x.example/1", fallback_title="피드의 제목",
                                fallback_published=when)
    assert article.title == "피드의 제목" and article.text.startswith("피드의 제목\n")
    assert article.published == when


def test_feed_time_refines_a_date_only_page() -> None:
    body = ('<html><head><meta property="article:published_time" content="2025-02-07"></head><body><article><p>'
            + "정부는 인공지능 기본법 시행령을 확정했다고 밝혔다. " * 4 + "</p></article></body></html>").encode()
    feed_time = datetime(2025, 2, 7, 15, 40, tzinfo=KST)
    article = article_from_html(body, url="https://x.example/2", fallback_published=feed_time)
    assert article.published == feed_time


def test_page_without_an_article_raises_one_line(served: tuple[FixtureServer, Fetcher]) -> None:
    with pytest.raises(ExtractError) as exc:
        fetch_article(served, "/login")
    message = str(exc.value)
    assert "no article text found" in message and "\n" not in message and "/login" in message


@pytest.mark.parametrize("content", [b"", b"   ", b"<html><body></body></html>", b"\x00\x01\x02 binary"])
def test_empty_or_junk_pages_raise(content: bytes) -> None:
    with pytest.raises(ExtractError):
        article_from_html(content, url="https://x.example/empty?key=SECRET")


# -- decode_html on its own ----------------------------------------------------------------------

KOREAN = "똠방각하와 햏자, 뷁"


@pytest.mark.parametrize(("content", "content_type"), [
    (KOREAN.encode("utf-8"), "text/html; charset=utf-8"),
    (KOREAN.encode("cp949"), "text/html; charset=euc-kr"),
    (KOREAN.encode("cp949"), "text/html; charset=EUC-KR"),
    (KOREAN.encode("cp949"), 'text/html; charset="ks_c_5601-1987"'),
    (KOREAN.encode("cp949"), "text/html; charset=x-windows-949"),
    (b'<meta charset="euc-kr">' + KOREAN.encode("cp949"), None),
    (b"<meta http-equiv='Content-Type' content='text/html; charset=KS_C_5601-1987'>" + KOREAN.encode("cp949"), None),
    (b'<meta charset="euc-kr">' + KOREAN.encode("cp949"), "text/html; charset=utf-8"),  # wrong header
    (b'<meta charset="euc-kr">' + KOREAN.encode("cp949"), "text/html; charset=iso-8859-1"),  # server default
    (codecs.BOM_UTF8 + KOREAN.encode("utf-8"), "text/html; charset=euc-kr"),
    (codecs.BOM_UTF16_LE + KOREAN.encode("utf-16-le"), None),
    (b'<meta charset="utf-8">' + KOREAN.encode("cp949") * 20, None),  # a wrong meta: detection
    (KOREAN.encode("cp949") * 20, None),  # no label at all
    (KOREAN.encode("utf-8"), "text/html; charset=no-such-charset"),
])
def test_decode_html(content: bytes, content_type: str | None) -> None:
    assert KOREAN in decode_html(content, content_type)


def test_decode_html_never_raises() -> None:
    assert isinstance(decode_html(bytes(range(256)) * 4, "text/html; charset=utf-8"), str)


def test_footer_registration_date_is_never_the_publication_date() -> None:
    body = ("<html><body><article><p>" + "방송통신위원회는 딥시크 앱의 개인정보 처리 실태를 점검하고 있다고 밝혔다. " * 3
            + "</p></article><footer>(주)테스트경제 | 등록번호 서울 아00420 | 등록일 2009-01-01 | "
            "발행인 홍길동</footer></body></html>").encode()
    assert article_from_html(body, url="https://x.example/3").published is None
    when = datetime(2025, 2, 9, 8, 0, tzinfo=KST)
    assert article_from_html(body, url="https://x.example/3", fallback_published=when).published == when
