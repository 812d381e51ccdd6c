"""Figures: numbers with unit, qualifier, subject, metric and period, read from a normalised text.

Per sentence: ``numbers.find_amounts`` proposes amounts; Kiwi's morphemes confirm that a unit
is a counter of its own (``180명``, not ``명단``) and give the noun chunks around the number, from
which ``attribution`` picks the subject and the metric. Dates, years, ranks, product names and
per-unit prices (``1개당``) are dropped; a parenthetical money conversion becomes the figure's
``equivalent``. A figure repeated with the same subject, metric and value is kept once.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

from worker.claims import attribution
from worker.claims.lexicon import Lexicon
from worker.claims.morph import Token, split_sentences, tokenize
from worker.claims.numbers import Amount, find_amounts, qualifier_after, units_from
from worker.claims.phrases import chunks
from worker.model import Figure, Quantity

MONEY = frozenset({"KRW", "USD", "CNY", "JPY", "EUR", "gbp", "inr", "rub", "hkd", "twd", "aud", "cad", "sgd"})
_EQ_BEFORE = re.compile(r"^\s?\(\s*(?:(?:약|대략|한화|원화|미화|우리\s?돈(?:으로)?|한국\s?돈(?:으로)?|환산\s?시|달러|환율)"
                        r"\s*[:,]?\s*)*$")
_EQ_AFTER = re.compile(r"^\s*(?:가량|정도|안팎|상당|내외|수준)?\s*\)")
# "미국의 기술 수준을 100%, 기술 격차를 0년이라고 할 때": a reference point, not a claim.
_HYPOTHETICAL = re.compile(r"^[^.?!]{0,40}?(?:이?라고|으로|로)\s*(?:할|볼|놓을|놓고\s*볼|가정할|가정하면)\s*(?:때|경우)")
_PER_UNIT = re.compile(r"^\s?(?:당|씩\s*당)")
_ORDINAL_BEFORE = re.compile(r"(?:제|No\.?)\s?$")
_RELATIVE_YEAR = re.compile(r"지난해|올해|작년|내년|금년|지난\s?\d+년|이듬해|당해")
_YEAR_ANCHOR_AFTER = re.compile(r"^(?:\s*(?P<q>[1-4])\s?분기|\s*(?P<h>상|하)반기)?")
# "2023년 설립된", "2016년 출시한": the year dates an event, not the figure.
_YEAR_OF_EVENT = re.compile(r"^\s*[가-힣]+(?:된|한|하는|되는|했던|됐던|돼|해|하며|되며|생)(?![가-힣])|^(?:생|대|째|간|동안)")
# A day count is a duration only with words like these after it; else 19일 is a date.
_DAY_OK = re.compile(r"^\s?(?:이내|이상|이하|미만|가량|정도|안팎|남짓|내외|째|이\s?걸|가\s?걸|이\s?소요|가\s?소요|의\s?기간)")
# Words after a number that belong to it: 1000만 원 이상, 3800억 위안 규모, 10분의 1 수준.
_TRAILER = re.compile(r"^\s?(?:이상|이하|미만|초과|가량|정도|규모|수준|상당|안팎|내외|남짓)")
_CANDIDATE = re.compile(r"\d|(?<![가-힣])(?:두|세|네|다섯|여섯|일곱|여덟|아홉|열|스무|서른|마흔|쉰)\s[가-힣]|[０-９]")
_SENTENCE_END = re.compile(r"(?<=[다요])[.!?]\s+")


@dataclass
class _State:
    """What carries from one sentence to the next: the last subject and metric seen."""

    subject: str = ""
    metric: str = ""
    seen: set[tuple[float, str, str, str]] = field(default_factory=set)


def extract_figures(text: str, lexicon: Lexicon) -> list[Figure]:
    """Every figure of a normalised article text (title line, then paragraphs), in text order."""
    units = units_from(lexicon.figures)
    words = attribution.Words.of(lexicon)
    state = _State()
    dominant = _dominant_entity(text, lexicon)
    title_end = text.find("\n") if "\n" in text else len(text)
    out: list[Figure] = []
    title_figures: list[Figure] = []
    offset = 0
    sentences = []
    for line in text.split("\n"):
        if _CANDIDATE.search(line):  # Kiwi only reads paragraphs that can hold a figure
            sentences += [replace(s, start=s.start + offset, end=s.end + offset) for s in split_sentences(line)]
        elif line.strip():
            last = _SENTENCE_END.split(line.strip())[-1]
            state.subject = _regex_subject(last, lexicon)
        offset += len(line) + 1
    for sent in sentences:
        amounts = find_amounts(sent.text, units)
        tokens = tokenize(sent.text)
        figures = _figures(sent.text, tokens, amounts, units, lexicon, words, state, dominant)
        if sent.start < title_end:
            title_figures.extend(figures)
            continue
        for f in figures:
            key = (f.value, f.unit, f.subject, f.metric)
            if key not in state.seen:
                state.seen.add(key)
                out.append(f)
    body = {(f.value, f.unit) for f in out}
    return [f for f in title_figures if (f.value, f.unit) not in body] + out


def _figures(sentence: str, tokens: list[Token], amounts: list[Amount], units: dict[str, str],
             lexicon: Lexicon, words: attribution.Words, state: _State, dominant: str) -> list[Figure]:
    anchors = [a for a in amounts if a.time_reference]
    found = [a for a in amounts if not a.time_reference and _is_figure(sentence, tokens, a)]
    found, equivalents = _attach_equivalents(sentence, found)
    ends = {}
    for a in found:
        end = equivalents[a.start][1] if a.start in equivalents else a.end
        trailer = _TRAILER.match(sentence[end:])
        ends[a.start] = end + (trailer.end() if trailer else 0)
    blocked = [(a.start, ends[a.start]) for a in found] + [(a.start, a.end) for a in anchors]
    chs = chunks(sentence, tokens, blocked)
    sentence_subject = attribution.sentence_subject(chs, sentence, lexicon)
    out: list[Figure] = []
    for a in found:
        eq = equivalents.get(a.start)
        end = eq[1] if eq else a.end
        ctx = attribution.Context(sentence, tokens, chs, lexicon, words, a.start, ends[a.start], a.unit)
        previous = out[-1].subject if out else ""
        subject = ctx.subject(previous) or state.subject or dominant
        metric = ctx.metric(subject) or (out[-1].metric if out else "") or state.metric
        qualifier = (qualifier_after(sentence, end) or a.qualifier) if eq else a.qualifier
        out.append(Figure(value=a.value, unit=a.unit, qualifier=qualifier, subject=subject, metric=metric,
                          sentence=sentence, period=_period(sentence, anchors, a.start),
                          equivalent=eq[0] if eq else None, value_max=a.value_max, span=(a.start, end)))
    if out:
        state.subject, state.metric = out[-1].subject, out[-1].metric
    else:
        state.subject = sentence_subject
    return out


def _token_at(tokens: list[Token], pos: int) -> int | None:
    return next((i for i, t in enumerate(tokens) if t.start == pos and t.end > t.start), None)


def _is_figure(sentence: str, tokens: list[Token], a: Amount) -> bool:
    """False for look-alikes: counters inside words (명단, 세대), 3대 과제, 1개당, 제1, references."""
    if _PER_UNIT.match(sentence[a.end:a.end + 3]) or _ORDINAL_BEFORE.search(sentence[max(0, a.start - 4):a.start]):
        return False
    if _HYPOTHETICAL.match(sentence[a.end:a.end + 60]):
        return False
    if a.unit == "DAY" and not _DAY_OK.match(sentence[a.end:a.end + 8]):
        return False
    if re.match(r"[가-힣]", a.unit_text):
        i = _token_at(tokens, a.unit_start)
        if i is None:
            return False
        tok = tokens[i]
        if not (tok.form == a.unit_text or a.unit_text.startswith(tok.form)) or tok.tag.startswith(("V", "E", "J")):
            return False
        if a.unit_text == "대":  # 3대 과제, 10대 기업: rank or group, not a count of vehicles
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if tok.tag != "NNB" or (nxt is not None and nxt.tag in ("NNG", "NNP")):
                return False
    if a.hangul:
        i = _token_at(tokens, a.start)
        if i is None or tokens[i].tag not in ("MM", "NR"):
            return False
    return True


def _attach_equivalents(sentence: str, found: list[Amount]) -> tuple[list[Amount], dict[int, tuple[Quantity, int]]]:
    """Drops the "(약 81억 원)" after a money figure and returns it as that figure's equivalent."""
    keep: list[Amount] = []
    equivalents: dict[int, tuple[Quantity, int]] = {}
    for a in found:
        prev = keep[-1] if keep else None
        if (prev is not None and prev.unit in MONEY and a.unit in MONEY and prev.start not in equivalents
                and _EQ_BEFORE.match(sentence[prev.end:a.start])):
            close = _EQ_AFTER.match(sentence[a.end:])
            if close:
                equivalents[prev.start] = (Quantity(a.value, a.unit, a.qualifier), a.end + close.end())
                continue
        keep.append(a)
    return keep, equivalents


def _period(sentence: str, anchors: list[Amount], start: int) -> str | None:
    """The year (and quarter or half) the sentence ties to the figure at ``start``, else None."""
    best: tuple[int, str | None] | None = None
    for a in anchors:
        if a.unit != "YEAR" or a.end > start or not (1900 <= a.value <= 2100):
            continue
        if _YEAR_OF_EVENT.match(sentence[a.end:a.end + 12]):
            continue
        m = _YEAR_ANCHOR_AFTER.match(sentence[a.end:a.end + 8])
        label = str(int(a.value))
        if m and m.group("q"):
            label += f"-Q{m.group('q')}"
        elif m and m.group("h"):
            label += "-H1" if m.group("h") == "상" else "-H2"
        best = (a.end, label)
    if best is None:
        return None
    if _RELATIVE_YEAR.search(sentence[best[0]:start]):
        return None  # 지난해 between the year and the figure: a later time we cannot date
    return best[1]


def _regex_subject(sentence: str, lexicon: Lexicon) -> str:
    """The first entity written as topic (은/는), else as subject (이/가), of a sentence Kiwi skipped."""
    marked = [(text_after[:1] in ("은", "는"), m.name) for m in lexicon.find_entities(sentence)
              if (text_after := sentence[m.end:m.end + 3].lstrip("’”'\")"))[:1] in ("은", "는", "이", "가")]
    topic = next((name for is_topic, name in marked if is_topic), "")
    return topic or (marked[0][1] if marked else "")


def _dominant_entity(text: str, lexicon: Lexicon) -> str:
    """The entity the article is mostly about: the most frequent topic or subject of its sentences."""
    marked: Counter[str] = Counter()
    mentioned: Counter[str] = Counter()
    for m in lexicon.find_entities(text):
        mentioned[m.name] += 1
        if text[m.end:m.end + 3].lstrip("’”'\")")[:1] in ("은", "는", "이", "가"):
            marked[m.name] += 1
    best = marked.most_common(1) or mentioned.most_common(1)
    return best[0][0] if best else ""
