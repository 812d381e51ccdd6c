"""Rendering alerts: Korean and English numbers, stances, templates and their overrides."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from worker.alerts import render, render_digest
from worker.alerts.values import difference, quantity, stance
from worker.errors import ConfigError

FIGURE: dict[str, Any] = {
    "source": "https://www.etnews.com/20250301000001", "kind": "figure", "change": "changed",
    "subject": "H100", "metric": "가격", "value": 50000000, "value_max": None, "unit": "KRW",
    "qualifier": "approx", "period": None, "sentence": "H100 가격은 약 5,000만 원으로 올랐다.",
    "equivalent": None, "replaces_period": None,
    "previous": {"value": 40000000, "unit": "KRW", "qualifier": "exact", "period": None,
                 "source": "seeds/001_1e1a30bdb7c7dbea.txt", "sentence": "H100은 4,000만 원이다.",
                 "outlet": "한겨레", "seen_at": "2025-02-01T00:00:00+00:00"},
    "article": {"url": "https://www.etnews.com/20250301000001", "title": "GPU 가격 상승",
                "outlet": "전자신문", "published": "2025-03-01T09:00:00+09:00"},
}
POSITION: dict[str, Any] = {
    "source": "https://www.yna.co.kr/view/AKR2025", "kind": "position", "change": "changed",
    "actor": "개인정보보호위원회", "target": "딥시크", "stance": "support", "modality": "done",
    "sentence": "개인정보위는 딥시크의 국내 서비스 재개를 허용했다.",
    "previous": {"stance": "oppose", "modality": "done", "actor": "개인정보위", "source": "https://a.example/1",
                 "sentence": "개인정보위는 딥시크 신규 다운로드를 중단시켰다.", "outlet": "연합뉴스",
                 "seen_at": "2025-02-17T10:00:00+09:00"},
    "via_parent": None,
    "article": {"url": "https://www.yna.co.kr/view/AKR2025", "title": "딥시크 재개", "outlet": "연합뉴스",
                "published": None},
}
OPS: dict[str, Any] = {"kind": "ops", "change": "failing", "source_name": "etnews",
                       "message": "5 failures in a row: HTTP 503", "article": None}

# (value, unit, qualifier, value_max, language, expected)
QUANTITIES = [
    (50000000, "KRW", "exact", None, "ko", "5,000만 원"),
    (40000000, "KRW", "approx", None, "ko", "약 4,000만 원"),
    (398100000000, "CNY", "exact", None, "ko", "3,981억 위안"),
    (49.7, "PCT", "exact", None, "ko", "49.7%"),
    (5576000, "USD", "exact", None, "ko", "557만 6,000 달러"),
    (1.2e12, "KRW", "over", None, "ko", "1조 2,000억 원 이상"),
    (1000, "PERSON", "under", None, "ko", "1,000명 이하"),
    (0.1, "RATIO", "exact", None, "ko", "10분의 1"),
    (0.9, "YEAR", "exact", None, "ko", "0.9년"),
    (3, "TIMES", "exact", None, "ko", "3배"),
    (2.5, "PP", "exact", None, "ko", "2.5%p"),
    (50000000, "KRW", "exact", 70000000, "ko", "5,000만~7,000만 원"),
    (7, "NM", "exact", None, "ko", "7나노"),
    (12, "gw", "exact", None, "ko", "12 gw"),
    (50000000, "KRW", "approx", None, "en", "about KRW 50 million"),
    (398100000000, "CNY", "exact", None, "en", "CNY 398.1 billion"),
    (49.7, "PCT", "over", None, "en", "over 49.7%"),
    (1200, "PERSON", "exact", None, "en", "1,200 people"),
]


@pytest.mark.parametrize(("value", "unit", "qualifier", "value_max", "language", "expected"), QUANTITIES)
def test_quantity(value: float, unit: str, qualifier: str, value_max: float | None, language: str,
                  expected: str) -> None:
    assert quantity(value, unit, qualifier, value_max, language) == expected


@pytest.mark.parametrize(("old", "new", "unit", "language", "expected"), [
    (40000000, 50000000, "KRW", "ko", "+1,000만 원, +25%"),
    (50000000, 40000000, "KRW", "ko", "-1,000만 원, -20%"),
    (45.2, 49.7, "PCT", "ko", "+4.5%p"),
    (300, 330, "PERSON", "en", "+30 people, +10%"),
    (100, 100, "KRW", "ko", ""),
])
def test_difference(old: float, new: float, unit: str, language: str, expected: str) -> None:
    assert difference(old, new, unit, unit, language) == expected


def test_difference_needs_one_unit() -> None:
    assert difference(5576000, 8100000000, "USD", "KRW") == ""


@pytest.mark.parametrize(("s", "m", "language", "expected"), [
    ("support", "done", "ko", "지지(완료)"), ("oppose", "planned", "ko", "반대(예정)"),
    ("neutral", "considering", "ko", "중립(검토)"), ("support", "done", "en", "support (done)"),
])
def test_stance_words(s: str, m: str, language: str, expected: str) -> None:
    assert stance(s, m, language) == expected


def test_figure_changed_in_korean_carries_change_link_and_provenance() -> None:
    title, body = render(FIGURE)
    assert title == "[변경] H100 가격: 4,000만 원 → 약 5,000만 원"
    assert "4,000만 원 → 약 5,000만 원 (+1,000만 원, +25%)" in body
    assert "https://www.etnews.com/20250301000001" in body
    assert "전자신문 · 2025-03-01 09:00" in body
    assert "이전 값: 4,000만 원 (한겨레, 2025-02-01 — seeds/001_1e1a30bdb7c7dbea.txt)" in body
    assert "“H100 가격은 약 5,000만 원으로 올랐다.”" in body


def test_figure_new_leaves_out_previous_lines() -> None:
    payload = dict(FIGURE, change="new", previous=None, period="2025",
                   equivalent={"value": 8100000000, "unit": "KRW", "qualifier": "approx"})
    title, body = render(payload)
    assert title == "[신규] H100 가격: 약 5,000만 원"
    assert "이전" not in body
    assert "기간: 2025" in body and "환산: 약 81억 원" in body


def test_position_changed_in_korean_and_english() -> None:
    title, body = render(POSITION)
    assert title == "[입장 변경] 개인정보보호위원회 → 딥시크: 반대(완료) → 지지(완료)"
    assert "https://www.yna.co.kr/view/AKR2025" in body and "이전 발언 주체: 개인정보위" in body
    title_en, body_en = render(POSITION, language="en")
    assert title_en == "[position changed] 개인정보보호위원회 → 딥시크: oppose (done) → support (done)"
    assert "Previously said by: 개인정보위" in body_en


def test_position_via_parent_is_said() -> None:
    _, body = render(dict(POSITION, via_parent="인도 정부"))
    assert "상위 주체(인도 정부)의 기존 입장과 다름" in body


def test_ops_alert() -> None:
    assert render(OPS) == ("[운영 장애] 소스 etnews", "5 failures in a row: HTTP 503")


def test_markdown_escapes_fields_but_not_the_link() -> None:
    payload = copy.deepcopy(FIGURE)
    payload["sentence"] = "가격이 *급등* [단독]"
    title, body = render(payload, fmt="markdown")
    assert "\\*급등\\* \\[단독\\]" in body
    assert "[https://www.etnews.com/20250301000001](https://www.etnews.com/20250301000001)" in body
    assert title == "[변경] H100 가격: 4,000만 원 → 약 5,000만 원"


def test_html_escapes_and_links() -> None:
    payload = copy.deepcopy(FIGURE)
    payload["sentence"] = "<script>x</script> & 가격"
    _, body = render(payload, fmt="html")
    assert "&lt;script&gt;" in body and "<script>" not in body
    assert '<a href="https://www.etnews.com/20250301000001">' in body


def test_user_template_overrides_default_and_drops_empty_lines(tmp_path: Path) -> None:
    (tmp_path / "figure.ko.txt").write_text(
        "${subject}: ${what_short}\n${what}\n기간: ${period}\n${link}\n", encoding="utf-8")
    title, body = render(FIGURE, templates=tmp_path)
    assert title == "H100: 4,000만 원 → 약 5,000만 원"
    assert body == "4,000만 원 → 약 5,000만 원 (+1,000만 원, +25%)\nhttps://www.etnews.com/20250301000001"
    # kinds without an override still use the shipped defaults
    assert render(POSITION, templates=tmp_path)[0].startswith("[입장 변경]")


def test_unknown_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        render(FIGURE, fmt="rtf")


def test_digest_groups_by_target_and_kind() -> None:
    second = dict(POSITION, actor="과학기술정보통신부", stance="oppose", previous=None, change="new")
    title, body = render_digest([POSITION, FIGURE, second, OPS])
    assert title == "policywatch 요약: 4건"
    assert body.count("■ 딥시크 · 입장 (2)") == 1
    assert "■ H100 · 수치 (1)" in body and "■ etnews · 운영 (1)" in body
    assert "https://www.yna.co.kr/view/AKR2025" in body and "https://www.etnews.com/20250301000001" in body


def test_shipped_templates_render_every_kind_language_and_format() -> None:
    for payload in (FIGURE, POSITION, OPS):
        for language in ("ko", "en"):
            for fmt in ("text", "markdown", "html"):
                title, body = render(payload, language=language, fmt=fmt)
                assert title and body and "${" not in title + body
