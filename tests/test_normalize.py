"""Text normalisation: Unicode, page chrome, footers, publication time, title."""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from worker.normalize import find_published, normalize_text, split_title

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
KST = timezone(timedelta(hours=9))


@pytest.mark.parametrize(("raw", "expected"), [
    (unicodedata.normalize("NFD", "제목\n딥시크는 한국에서 차단됐다."), "제목\n딥시크는 한국에서 차단됐다."),
    ("제목\n매출이 １２３％ 늘었다.", "제목\n매출이 123% 늘었다."),
    ("제목\n외교부ㆍ국방부‧산업부가 나섰다.", "제목\n외교부·국방부·산업부가 나섰다."),
    ("제목\n직원\u00a0180명\u200b이다.", "제목\n직원 180명이다."),
    ("제목\n그는 “긍정적인 일”이라고 ‘평가’했다.", "제목\n그는 “긍정적인 일”이라고 ‘평가’했다."),
])
def test_unicode(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("chrome", [
    "입력 2025.02.06 13:31", "수정 2025.02.06 14:00", "입력", "기사입력 2025-02-06 오후 1:31", "2025.03.27 23:08:39",
    "(사진:로이터)", "(사진=연합뉴스)", "▲ 사진설명 딥시크 로고 ⓒ뉴시스", "홍길동 기자 hong@yna.co.kr", "[애플경제 김예지 기자]",
    "구독", "좋아요", "ⓒ 뉴스1",
])
def test_chrome_lines_go(chrome: str) -> None:
    assert normalize_text(f"제목\n{chrome}\n본문 문장이다.") == "제목\n본문 문장이다."


@pytest.mark.parametrize(("line", "kept"), [
    ("[애플경제 김예지 기자] 딥시크의 출현은 판도를 바꿀 것이다.", "딥시크의 출현은 판도를 바꿀 것이다."),
    ("(서울=연합뉴스) 홍길동 기자 = 정부가 발표했다.", "정부가 발표했다."),
    ("[서울=뉴시스] 정부가 발표했다.", "정부가 발표했다."),
    ("정부가 발표했다(사진=연합뉴스).", "정부가 발표했다."),
])
def test_inline_bylines_and_captions(line: str, kept: str) -> None:
    assert normalize_text(f"제목\n{line}") == f"제목\n{kept}"


def test_copyright_ends_article_and_footer_goes() -> None:
    raw = ("제목\n본문이다.\n저작권자 © 애플경제 무단전재 및 재배포 금지\n관련기사\n다른 기사 제목\n"
           "상호: (주)첨단 | 전화 02-3142-4151 | 사업자등록번호 118-81-03520")
    assert normalize_text(raw) == "제목\n본문이다."


@pytest.mark.parametrize("masthead", [
    "경인일보 | 입력 2026-05-07 14:20 | 수정 2026-05-07 15:02 | 지면 A1면",
    "한국경제신문 | 2026.06.12 06:00 | 정소람 기자",
    "정책브리핑 | 보도자료 | 2026.08.29 | 과학기술정보통신부",
    "[머니경제] 입력 2026-11-01 10:12",
    "(베이징=뉴스핌) 이성진 특파원 = 2026년04월10일 08:55",
])
def test_masthead_lines_go(masthead: str) -> None:
    assert normalize_text(f"제목\n{masthead}\n본문이다.") == "제목\n본문이다."


def test_prose_naming_footer_words_stays() -> None:
    para = "국내에 주소나 영업소가 없는 AI 사업자는 국내 대리인을 지정해야 한다."
    assert normalize_text(f"제목\n{para}\n주소: 서울시 중구 세종대로 12 | 사업자등록번호 123-45-67890") == f"제목\n{para}"


def test_related_block_is_dropped_until_a_paragraph() -> None:
    raw = "제목\n첫 문단이다.\n많이 본 뉴스\n딥시크 쇼크\n엔비디아 급락\n이어지는 본문은 여기서 다시 시작된다고 기자는 썼다."
    assert normalize_text(raw) == "제목\n첫 문단이다.\n이어지는 본문은 여기서 다시 시작된다고 기자는 썼다."


def test_seed_footers_are_gone() -> None:
    text = normalize_text((SEEDS / "003_f4d327ceaa89a947.txt").read_text(encoding="utf-8"))
    for needle in ("02-3142-4151", "118-81-03520", "00420", "Copyright", "서재창 기자", "eled@hellot.net"):
        assert needle not in text
    text = normalize_text((SEEDS / "004_4ccb1a2348ef8322.txt").read_text(encoding="utf-8"))
    assert "사진:로이터" not in text and "저작권자" not in text and "김예지 기자" not in text


@pytest.mark.parametrize(("raw", "expected"), [
    ("제목\n입력 2025.02.06 13:31\n본문", datetime(2025, 2, 6, 13, 31, tzinfo=KST)),
    ("제목\n2025.03.27 23:08:39\n본문", datetime(2025, 3, 27, 23, 8, 39, tzinfo=KST)),
    ("제목\n기사입력 2025-02-06 오후 1:31\n본문", datetime(2025, 2, 6, 13, 31, tzinfo=KST)),
    ("제목\n입력 2025년 2월 6일 13시 31분\n본문", datetime(2025, 2, 6, 13, 31, tzinfo=KST)),
    ("제목\n2025-02-06T04:31:00Z\n본문", datetime(2025, 2, 6, 4, 31, tzinfo=timezone.utc)),
    ("제목\n입력\n수정\n본문", None),
    ("제목\n발행일 : 2025-09-15 17:00\n본문", datetime(2025, 9, 15, 17, 0, tzinfo=KST)),
    ("제목\n(서울=뉴스1) 홍길동 기자 | 2025-10-02 14:05 송고\n본문", datetime(2025, 10, 2, 14, 5, tzinfo=KST)),
    ("제목\n홍길동 기자 | 2025.08.08 07:30\n본문", datetime(2025, 8, 8, 7, 30, tzinfo=KST)),
    ("제목\n본문에 2024.05.01 행사가 있었다.\n", None),
])
def test_find_published(raw: str, expected: datetime | None) -> None:
    assert find_published(raw) == expected


T = datetime(2026, 1, 29, 16, 31, tzinfo=KST)


@pytest.mark.parametrize("stamp", [
    # outlet mastheads: a name, a separator or brackets or nothing, the date and time
    "파이낸셜뉴스 | 2026.01.29 16:31",
    "파이낸셜뉴스ㅣ2026-01-29 16:31",
    "[파이낸셜뉴스] 2026.01.29 16:31",
    "디지털데일리 2026.01.29 16:31",
    "ZDNet Korea 2026.01.29 PM 04:31",
    "한국경제신문 | 2026.01.29 16:31 | 정소람 기자",
    # labelled stamps, the label written together or apart, the time in any of its forms
    "입력 2026.01.29 16:31",
    "기사입력 2026-01-29 16:31",
    "승인 2026.01.29 16:31",
    "등록 2026.01.29 오후 4:31",
    "기사전송 2026/01/29 16:31",
    "게시 2026.01.29 16:31",
    "입력 : 2026. 1. 29. 16:31",
    # a line holding only the date, written out in Korean
    "2026년 01월 29일 16시 31분",
    "2026년 1월 29일 오후 4시 31분",
    # a byline whose date follows "="
    "(베이징=뉴스핌) 이성진 특파원 = 2026년01월29일 16:31",
    # several stamps: the publication, not the last update, whichever comes first
    "최종수정 2026.01.30 09:00 입력 2026.01.29 16:31",
    "수정 2026.01.30 09:00 | 입력 2026.01.29 16:31",
    "입력 2026.01.29 16:31 | 수정 2026.01.30 09:00",
])
def test_bylines_and_date_lines(stamp: str) -> None:
    raw = f"제목\n{stamp}\n지난 2025.05.01 14:00 행사에서 발표된 내용이다."
    assert find_published(raw) == T
    assert stamp not in normalize_text(raw)


@pytest.mark.parametrize("line", [
    "행사는 2026.02.10 14:00",  # a clause (a particle before the date), not an outlet
    "일시: 2026.02.10 14:00",  # an event's date
    "▲일시 2026.02.10 14:00",
    "오는 2026.02.10 14:00 서울 코엑스에서 열린다.",
    "설명회는 2026년 2월 10일 오후 2시 열린다.",
])
def test_event_dates_in_the_body_are_not_published(line: str) -> None:
    assert find_published(f"제목\n본문이다.\n{line}\n") is None


def test_a_footer_registration_date_is_not_published() -> None:
    raw = "제목\n본문이다.\n상호 : 뉴스 | 등록일자 : 2013년05월15일 | 발행인 : 홍길동"
    assert find_published(raw) is None
    text = (SEEDS / "003_f4d327ceaa89a947.txt").read_text(encoding="utf-8")
    assert find_published(text) == datetime(2025, 3, 27, 23, 8, 39, tzinfo=KST)


def test_split_title() -> None:
    assert split_title("제목이다\n첫 문단\n둘째 문단") == ("제목이다", "첫 문단\n둘째 문단")
    assert split_title("제목만") == ("제목만", "")
