"""The lexicon's mention finder: longest-leftmost matches, word boundaries, case and spaces.

The finder is one index built once per word list (see ``worker.claims.lexicon._Finder``); these
cases pin what a plain alternation of every alias, longest first, finds, so a faster index can
be checked against it.
"""
from __future__ import annotations

import re

import pytest

from worker.claims.lexicon import Lexicon, _Finder, fold

NAMES = {
    "미국": ("미국", "미", "美", "US", "USA"),
    "미국 정부": ("미국 정부", "미 정부", "美 정부"),
    "삼성전자": ("삼성전자", "삼성", "Samsung Electronics", "Samsung"),
    "마이크로소프트": ("마이크로소프트", "MS"),
    "엔비디아": ("엔비디아", "NVIDIA", "엔비디아(NVIDIA)"),
    "R&D 예산": ("R&D 예산", "연구개발 예산"),
    "한국수력원자력": ("한국수력원자력", "한수원"),
    "한국": ("한국", "韓"),
}


def _reference(names: dict[str, tuple[str, ...]], text: str) -> list[tuple[int, int, str]]:
    """What one regex alternation of all aliases, longest first, finds: the semantics to keep."""
    canon: dict[str, str] = {}
    aliases: list[str] = []
    for name, forms in names.items():
        for form in forms:
            if fold(form) not in canon:
                canon[fold(form)] = name
                aliases.append(form)
    aliases.sort(key=lambda a: len(fold(a)), reverse=True)

    def pattern(alias: str) -> str:
        body = r"\s*".join(re.escape(ch) for ch in alias if not ch.isspace())
        if re.fullmatch(r"[0-9A-Za-z&.\-]+", alias):
            return rf"(?<![0-9A-Za-z]){body}(?![0-9A-Za-z])"
        if len(alias) == 1:
            return rf"(?<![가-힣一-鿿]){body}(?=[\s·ㆍ,\-‧/]|$)"
        return rf"(?<![A-Za-z]){body}" if alias[0].isascii() and alias[0].isalpha() else body

    rx = re.compile("|".join(pattern(a) for a in aliases), re.IGNORECASE)
    return [(m.start(), m.end(), canon[fold(m.group(0))]) for m in rx.finditer(text) if fold(m.group(0)) in canon]


TEXTS = [
    "미국 정부와 美 정부, 그리고 미 정부는 다르지 않다.",
    "삼성전자와 Samsung Electronics, samsung, SAMSUNG은 한 회사다.",
    "MS와 ms, MSCI 지수, 5MS는 다르다.",  # MS only as a word of its own
    "미국산 칩, 미 상무부, 美·中 갈등, 미래 산업",  # 미 only before a space or a dot
    "엔비디아(NVIDIA)의 H100, nvidia 주가",
    "R&D예산과 연구개발 예산, R & D 예산",
    "한국수력원자력(한수원)은 한국 기업이다. 韓 정부",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_finder_matches_one_alternation(text: str) -> None:
    found = [(m.start, m.end, m.name) for m in _Finder(NAMES).find(text)]
    assert found == _reference(NAMES, text)


def test_finder_prefers_longest_alias_and_folds_case_and_spaces() -> None:
    finder = _Finder(NAMES)
    assert [m.name for m in finder.find("미국 정부는")] == ["미국 정부"]
    assert [m.name for m in finder.find("samsung electronics")] == ["삼성전자"]
    assert [m.text for m in finder.find("R & D 예산")] == ["R & D 예산"]
    assert finder.find("MSCI") == [] and finder.find("미래") == []


def test_finder_results_are_independent_copies(lexicon: Lexicon) -> None:
    first = lexicon.find_entities("엔비디아와 삼성전자")
    first.clear()  # callers may change the list they get: the cached mentions stay
    assert [m.name for m in lexicon.find_entities("엔비디아와 삼성전자")] == ["엔비디아", "삼성전자"]


def test_metric_of_reduces_a_phrase_to_its_canonical_metric(lexicon: Lexicon) -> None:
    assert lexicon.metric_of("학습 비용") == "훈련 비용"
    assert lexicon.metric_of("3분기 합산 영업이익") == "영업이익"
    assert lexicon.metric_of("무선 ARPU") == "무선 ARPU"


def test_finder_over_the_real_word_lists_matches_one_alternation(lexicon: Lexicon) -> None:
    """Every entity, target and metric alias, in seeds text and in each alias's own spellings."""
    from pathlib import Path

    seeds = [p.read_text(encoding="utf-8") for p in sorted((Path(__file__).parent.parent / "seeds").glob("*.txt"))]
    lists = {"entities": {e.name: e.names for e in lexicon.entities},
             "targets": {t.name: t.names for t in lexicon.targets},
             "metrics": {m.name: m.names for m in lexicon.metrics}}
    for names in lists.values():
        finder = _Finder(names)
        forms = [f for fs in names.values() for f in fs]
        texts = seeds + [" ".join(forms), "".join(forms), ", ".join(f.upper() for f in forms)]
        for text in texts:
            assert [(m.start, m.end, m.name) for m in finder.find(text)] == _reference(names, text)
