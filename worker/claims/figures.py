"""Figures: numbers with unit, qualifier, subject, metric and period, read from a normalised text.

Per sentence: ``numbers.find_amounts`` proposes amounts; Kiwi's morphemes confirm that a unit
is a counter of its own (``180명``, not ``명단``) and give the noun chunks around the number, from
which ``attribution`` picks the subject and the metric. Dates, years, ranks, product names and
per-unit prices (``1개당``, ``주문 1건에``) are dropped; a parenthetical money conversion becomes the
figure's ``equivalent``. A figure repeated with the same subject, metric and value is kept once.

A figure whose sentence names no subject takes the one carried from the paragraph's earlier
sentences (a figure's, or who a sentence without figures is about); a paragraph starts from the
article's subject (its title's, else the clearly most frequent topic entity), since Korean news
names the subject again when a paragraph turns to another. ``periods`` dates a figure, with the
article's publication day for 올해, 지난해 4분기 and the like.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from dataclasses import dataclass, field

from worker.claims import attribution
from worker.claims.lexicon import Lexicon
from worker.claims.measure_words import is_measure
from worker.claims.morph import Token, split_sentences, tokenize
from worker.claims.numbers import FREQUENCY_UNITS, Amount, find_amounts, qualifier_after, units_from
from worker.claims.periods import as_date, period_before
from worker.claims.phrases import chunks
from worker.model import Figure, Quantity

MONEY = frozenset({"KRW", "USD", "CNY", "JPY", "EUR", "gbp", "inr", "rub", "hkd", "twd", "aud", "cad", "sgd"})
_EQ_BEFORE = re.compile(r"^\s?\(\s*(?:(?:약|대략|한화|원화|미화|우리\s?돈(?:으로)?|한국\s?돈(?:으로)?|환산\s?시|달러|환율)"
                        r"\s*[:,]?\s*)*$")
_EQ_AFTER = re.compile(r"^\s*(?:가량|정도|안팎|상당|내외|수준)?\s*\)")
# "미국의 기술 수준을 100%, 기술 격차를 0년이라고 할 때": a reference point, not a claim.
_HYPOTHETICAL = re.compile(r"^[^.?!]{0,40}?(?:이?라고|으로|로)\s*(?:할|볼|놓을|놓고\s*볼|가정할|가정하면)\s*(?:때|경우)")
_PER_UNIT = re.compile(r"^\s?(?:당|씩\s*당)")
_PER_ONE = re.compile(r"^(?:에|마다|에게)\s(?!.{0,4}(?:불과|그쳐|그친|그쳤|그칠|달해|달한|이르|머물))")
_ORDINAL_BEFORE = re.compile(r"(?:제|No\.?)\s?$")
# A day count is a duration only with words like these after it; else 19일 is a date.
_DAY_OK = re.compile(r"^\s?(?:이내|이상|이하|미만|가량|정도|안팎|남짓|내외|째|이\s?걸|가\s?걸|이\s?소요|가\s?소요|의\s?기간)")
# Words after a number that belong to it: 1000만 원 이상, 3800억 위안 규모, 10분의 1 수준.
_TRAILER = re.compile(r"^\s?(?:이상|이하|미만|초과|가량|정도|규모|수준|상당|안팎|내외|남짓)|^간(?=[\s의,]|$)")
_SPANS = frozenset({"YEAR", "MONTH", "DAY", "HOUR"})  # 1년간, 3개월간: the 간 belongs to the span
_CANDIDATE = re.compile(r"\d|(?<![가-힣])(?:두|세|네|다섯|여섯|일곱|여덟|아홉|열|스무|서른|마흔|쉰)\s[가-힣]|[０-９]")
_SENTENCE_END = re.compile(r"(?<=[다요])[.!?]\s+")
# A frequency before these names a band (3.5㎓ 대역, 28㎓ 기지국, 700㎒ 주파수): a name, not a measure;
# its width is the figure (280㎒폭).
_BAND_AFTER = re.compile(r"^\s?(?:대역(?!폭)|대(?=[\s의에을를은는이가]|$)|주파수|기지국|장비|망(?![가-힣]))")


@dataclass
class _State:
    """What carries from one sentence to the next: the last subject and metric seen."""

    subject: str = ""
    metric: str = ""
    seen: set[tuple[float, str, str, str]] = field(default_factory=set)


def extract_figures(text: str, lexicon: Lexicon, *, published: datetime | date | None = None) -> list[Figure]:
    """Every figure of a normalised article text (title line, then paragraphs), in text order.
    ``published``: when the article came out, which dates its relative periods (올해, 지난해 4분기);
    without it they stay None (see ``periods``)."""
    day = as_date(published)
    units = units_from(lexicon.figures)
    words = attribution.Words.of(lexicon)
    state = _State()
    dominant = _article_subject(text, lexicon)
    out: list[Figure] = []
    title_figures: list[Figure] = []
    for k, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        if k > 0:  # a new paragraph names its own subject, else it is the article's (when that is known)
            state.subject, state.metric = dominant or state.subject, ""
        if not _CANDIDATE.search(line):  # Kiwi only reads paragraphs that can hold a figure
            state.subject = _regex_subject(_SENTENCE_END.split(line.strip())[-1], lexicon) or state.subject
            continue
        for sent in split_sentences(line):
            amounts = find_amounts(sent.text, units)
            tokens = tokenize(sent.text)
            figures = _figures(sent.text, tokens, amounts, units, lexicon, words, state, dominant, day)
            if k == 0:
                title_figures.extend(figures)
                continue
            for f in figures:
                key = (f.value, f.unit, f.subject, lexicon.metric_of(f.metric))
                if key not in state.seen:
                    state.seen.add(key)
                    out.append(f)
    body = {(f.value, f.unit) for f in out}
    return [f for f in title_figures if (f.value, f.unit) not in body] + out


def _figures(sentence: str, tokens: list[Token], amounts: list[Amount], units: dict[str, str],
             lexicon: Lexicon, words: attribution.Words, state: _State, dominant: str,
             day: date | None = None) -> list[Figure]:
    anchors = [a for a in amounts if a.time_reference]
    found = [a for a in amounts if not a.time_reference and _is_figure(sentence, tokens, a)]
    found, equivalents = _attach_equivalents(sentence, found)
    ends = {}
    for a in found:
        end = equivalents[a.start][1] if a.start in equivalents else a.end
        trailer = _TRAILER.match(sentence[end:])
        ends[a.start] = end + (trailer.end() if trailer else 0)
    blocked = [(a.start, ends[a.start]) for a in found] + [(a.start, a.end) for a in anchors]
    blocked += [(a.start, a.end + 1) for a in amounts if a.unit in _SPANS and sentence[a.end:a.end + 1] == "간"]
    chs = chunks(sentence, tokens, blocked)
    out: list[Figure] = []
    for a in found:
        eq = equivalents.get(a.start)
        end = eq[1] if eq else a.end
        ctx = attribution.Context(sentence, tokens, chs, lexicon, words, a.start, ends[a.start], a.unit, a.unit_text)
        previous = out[-1].subject if out else ""
        subject = ctx.subject(previous) or state.subject or dominant
        metric = ctx.metric(subject) or (out[-1].metric if out else "") or state.metric
        qualifier = (qualifier_after(sentence, end) or a.qualifier) if eq else a.qualifier
        out.append(Figure(value=a.value, unit=a.unit, qualifier=qualifier, subject=subject, metric=metric,
                          sentence=sentence,
                          period=period_before(sentence, a.start, day, multiple=a.unit in ("TIMES", "RATIO")),
                          equivalent=eq[0] if eq else None, value_max=a.value_max, span=(a.start, end)))
    if _owner_list(sentence, out):
        state.metric = out[-1].metric  # SK텔레콤 155㎒폭, KT 115㎒폭: a list of owners carries none of them
    elif out:
        state.subject, state.metric = out[-1].subject, out[-1].metric
    else:  # a sentence without figures passes on who it is about; one that omits it, the article's
        said = attribution.Context(sentence, tokens, chs, lexicon, words, len(sentence), len(sentence), "").named()
        state.subject = state.subject if said is None else said or dominant or state.subject
    return out


#: Between two items of a list of owners: the first's unit tail, a comma, the next owner's name.
_LIST_GAP = re.compile(r"^[가-힣]{0,2}\s*,\s*[^\s,]+(?:\s[^\s,]+)?\s*$")


def _owner_list(sentence: str, figures: list[Figure]) -> bool:
    """``SK텔레콤 1조3천억원, KT 1조300억원, LG유플러스 7천700억원``: figures of several owners written
    as one list (each owner's name, then its figure, comma-separated)."""
    if len(figures) < 2 or len({f.subject for f in figures}) < 2:
        return False
    return all(a.span is not None and b.span is not None and _LIST_GAP.match(sentence[a.span[1]:b.span[0]])
               for a, b in zip(figures, figures[1:]))


def _token_at(tokens: list[Token], pos: int) -> int | None:
    return next((i for i, t in enumerate(tokens) if t.start == pos and t.end > t.start), None)


def _is_figure(sentence: str, tokens: list[Token], a: Amount) -> bool:
    """False for look-alikes: counters inside words (명단, 세대), 3대 과제, 1개당, 제1, references."""
    if _PER_UNIT.match(sentence[a.end:a.end + 3]) or _ORDINAL_BEFORE.search(sentence[max(0, a.start - 4):a.start]):
        return False
    if a.value == 1 and _PER_ONE.match(sentence[a.end:a.end + 12]):
        return False  # 주문 1건에 (점주가 내는 비용), 1인마다: a rate's unit, not a count
    if _HYPOTHETICAL.match(sentence[a.end:a.end + 60]):
        return False
    if a.unit == "DAY" and not _DAY_OK.match(sentence[a.end:a.end + 8]):
        return False
    if a.unit in FREQUENCY_UNITS and _BAND_AFTER.match(sentence[a.end:a.end + 5]):
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


def _regex_subject(sentence: str, lexicon: Lexicon) -> str:
    """The first entity written as topic (은/는), else as subject (이/가), of a sentence Kiwi skipped."""
    marked = [(text_after[:1] in ("은", "는"), m.name) for m in lexicon.find_entities(sentence)
              if (text_after := sentence[m.end:m.end + 3].lstrip("’”'\")"))[:1] in ("은", "는", "이", "가")]
    topic = next((name for is_topic, name in marked if is_topic), "")
    return topic or (marked[0][1] if marked else "")


#: A rubric before a title: [단독], [시론], 【베이징】.
_TITLE_TAG = re.compile(r"^\s*(?:\[[^\]]{1,12}\]|【[^】]{1,12}】|<[^>]{1,12}>)\s*")
#: "정부, 내년 …", "中, 美 수출통제 맞서 …": the name before a title's first comma is its subject.
_TITLE_HEAD = re.compile(r"^(?P<head>[^,，…·\"“”'‘’\d]{1,20}?)\s*[,，]")
#: How often an entity must be the topic or subject of a sentence to be the article's subject
#: when its title names none (two: one mention is any passing name, and the fallback is then wrong
#: more often than empty on the held-out articles).
DOMINANT_MIN_MARKED = 2


def _article_subject(text: str, lexicon: Lexicon) -> str:
    """Who the article is about: the subject its title puts first (an entity starting it, or the
    name before its first comma), else the entity most often written as a sentence's topic or
    subject when that is clearly the most frequent; "" when neither is clear."""
    title = _TITLE_TAG.sub("", text.split("\n", 1)[0]).strip()
    head = _TITLE_HEAD.match(title)
    if head:
        words = head.group("head").strip()
        mentions = lexicon.find_entities(words)
        if mentions and mentions[0].start == 0:
            return mentions[0].name
        if len(words.split()) <= 2 and not is_measure(words.split()[-1], lexicon):
            return words
    first = lexicon.find_entities(title[:20])
    if first and first[0].start == 0 and title[first[0].end:first[0].end + 1] in (" ", ",", "·", ""):
        return first[0].name
    marked: Counter[str] = Counter()
    for m in lexicon.find_entities(text):
        if text[m.end:m.end + 3].lstrip("’”'\")")[:1] in ("은", "는", "이", "가"):
            marked[m.name] += 1
    best = marked.most_common(2)
    if best and best[0][1] >= DOMINANT_MIN_MARKED and (len(best) == 1 or best[0][1] > best[1][1]):
        return best[0][0]
    return ""
