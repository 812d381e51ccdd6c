"""One figure in its sentence: the noun chunks around it and what they are (a measure, a time, a
speaker, an anaphor, a relative clause), shared by the subject rules (``attribution``) and the metric
rules (``metric``). Word lists come from ``figures.yaml`` through ``Words``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from worker.claims.lexicon import Lexicon, Mention
from worker.claims.measure_words import (ACQUIRE_WORDS, DATE_WORD, FIELD_MODIFIERS, KIND_WORDS, ORG_ENDINGS,
                                         PLACE_WORDS, QUANT_WORDS, SOURCE, THING_COUNTERS, UNIT_COUNTERS,
                                         WHEN_WORDS, is_measure, per_unit)
from worker.claims.morph import Token
from worker.claims.phrases import CONNECTIVES, SUBJECT, TIME_WORDS, TOPIC, Chunk, genitive_modifiers

#: Particles after which a noun is not what the figure measures: comparison, place, source.
NOT_METRIC_PARTICLES = frozenset({"의", "과", "와", "과의", "와의", "보다", "에서", "에게", "부터", "까지", "에서의",
                                   "와는", "과는", "에서는", "로부터", "한테"})
SUBJECT_PARTICLES = frozenset({"", "은", "는", "이", "가", "도", "의", "인"})
HEAD_SUFFIX = frozenset({"쪽", "측", "사", "등", "당국"})
_ANSWER_HEADS = frozenset({"응답", "답변", "대답"})
#: Durations, and the nouns that name what a duration measures (이용 기간은 5년, 대기 기간은 평균 3년).
SPAN_UNITS = frozenset({"YEAR", "MONTH", "DAY", "HOUR"})
SPAN_WORDS = frozenset({"기간"})
COUNT_UNITS = frozenset({"PERSON", "COUNT", "NM", "AGE"})
RELATIVE_UNITS = frozenset({"RATIO", "TIMES"})
MONEY_UNITS = frozenset({"KRW", "USD", "CNY", "JPY", "EUR"})  # X의 10분의 1: X is what it is compared with
#: Particles of the noun an amount goes to (AI 분야에 2조원을 투입, 양자 분야에는 3천억원이 책정).
PURPOSE_PARTICLES = frozenset({"에", "에는", "에도", "엔"})
LINK_FIRST = frozenset({"JKB", "JKS", "JKO", "JX", "VV", "VA", "VCP", "MAG"})
_PREDICATE_TAGS = frozenset({"VV", "VA", "VX", "VCP", "VCN", "XSV", "XSA", "EC", "EF", "ETM", "ETN"})
LINK_BODY = frozenset({"VV", "VA", "XSA", "XSV", "VX", "EP", "MAG", "VCP"})


@dataclass(frozen=True)
class Words:
    """The word lists of ``figures.yaml`` (``generic_heads``, ``comparison_words``, ``role_words``,
    ``anaphora``, ``speaker_words``, ``voice_words``): the file is their only source; a list it omits is empty."""

    generic: frozenset[str] = frozenset()
    comparison: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    anaphora: frozenset[str] = frozenset()
    speakers: frozenset[str] = frozenset()
    voices: frozenset[str] = frozenset()

    @classmethod
    def of(cls, lexicon: Lexicon) -> "Words":
        data: dict[str, Any] = lexicon.figures

        def listed(key: str) -> frozenset[str]:
            raw = data.get(key)
            return frozenset(str(w) for w in raw) if isinstance(raw, list) else frozenset()

        return cls(listed("generic_heads"), listed("comparison_words"), listed("role_words"), listed("anaphora"),
                   listed("speaker_words"), listed("voice_words"))


def entity_of(ch: Chunk, lexicon: Lexicon, head: bool, roles: frozenset[str] = frozenset()) -> str:
    """The canonical entity the chunk names (head: the chunk ends with it or its role), else ""."""
    words = ch.words
    mentions = lexicon.find_entities(words)
    if not mentions:
        last = words.split()[-1] if words else ""
        if len(last) > 2 and last.endswith(ORG_ENDINGS):
            return last  # 한국인공지능산업협회가: an organisation by the shape of its name
        return ""
    if not head:
        return _glued_name(words, mentions[-1], lexicon) or mentions[-1].name
    m = mentions[-1]
    rest = words[m.end:].strip()
    if not rest or rest in HEAD_SUFFIX or rest in roles:
        return m.name
    if " " not in words[m.start:] and (glued := _glued_name(words, m, lexicon, states=True)):
        return glued  # 네이버클라우드: a company named after its parent, written as one word
    if rest.split()[-1] and is_measure(rest.split()[-1], lexicon) and len(rest.split()) <= 2:
        return m.name  # H100 중고 가격이: the price of H100
    return ""


#: Kinds of entity whose name, glued to more letters, is an attribute (중국산, 미국계, 한국형), not a name.
_STATE_KINDS = frozenset({"country", "government", "local"})


def _glued_name(words: str, m: Mention, lexicon: Lexicon, states: bool = False) -> str:
    """The whole word when mention ``m`` starts a word and more name letters are written onto it
    (삼성SDS, KT클라우드, 네이버클라우드: a more specific company than the alias 삼성, KT, 네이버); "" when
    it stands alone, when what follows is a measure (삼성전자매출) or, unless ``states``, when it names a
    state (중국산, 미국계)."""
    end = m.end
    while end < len(words) and not words[end].isspace():
        end += 1
    rest = words[m.end:end]
    if len(rest) < 2 or (m.start > 0 and not words[m.start - 1].isspace()) or is_measure(rest, lexicon):
        return ""
    entity = lexicon.entity_named(m.name)
    if not states and entity is not None and entity.kind in _STATE_KINDS:
        return ""
    return words[m.start:end]


def np_entity(chs: list[Chunk], i: int, sentence: str, lexicon: Lexicon, own: bool = True) -> str:
    """The entity of chunk ``i`` itself, else of its 의-modifiers (한국의 기술 수준: 한국)."""
    if own and (name := entity_of(chs[i], lexicon, head=False)):
        return name
    for mod in genitive_modifiers(chs, i, sentence):
        name = entity_of(mod, lexicon, head=False)
        if name:
            return name
    return ""


@dataclass
class Clause:
    """One figure in its sentence: the chunks around ``start``..``end`` and the tests on them."""

    sentence: str
    tokens: list[Token]
    chs: list[Chunk]
    lexicon: Lexicon
    words: Words
    start: int
    end: int
    unit: str
    counter: str = ""  # the counter word of a count (장, 곳, 명), else ""

    def _pre(self) -> int | None:
        """Index of the chunk right before the figure (qualifiers, a year or a '(' between)."""
        for i in range(len(self.chs) - 1, -1, -1):
            ch = self.chs[i]
            if ch.particle_end > self.start:
                continue
            gap = _YEAR.sub("", self.sentence[ch.particle_end:self.start])
            return i if _GAP.match(gap) else None
        return None

    def _is_time(self, ch: Chunk) -> bool:
        words = ch.words.split()
        if words and words[-1] in SPAN_WORDS and self.unit in SPAN_UNITS and len(words) > 1:
            return False  # 이용 기간은 5년: the span a duration measures, not a time
        return not words or words[-1] in TIME_WORDS or words[-1] in WHEN_WORDS or bool(DATE_WORD.match(words[-1])) \
            or all(w in QUANT_WORDS for w in words)

    def _source_end(self) -> int:
        """Where the last "…에 따르면" clause before the figure ends (its chunks name a source), else 0."""
        ends = [m.end() for m in SOURCE.finditer(self.sentence[:self.start])]
        return ends[-1] if ends else 0

    def _genitive_owner(self, i: int) -> str:
        """The 의-modifier of chunk ``i`` that names who owns it (A 서비스의 호출 건수: A 서비스), or ""."""
        for mod in genitive_modifiers(self.chs, i, self.sentence):
            mod = self._counted_one(mod)
            last = mod.words.split()[-1] if mod.words else ""
            if self._is_time(mod) or last in self.words.generic or last in self.words.anaphora \
                    or self.lexicon.metric(mod.words) or is_measure(last, self.lexicon):
                continue
            return entity_of(mod, self.lexicon, False) or mod.words
        return ""

    def _counted_one(self, ch: Chunk) -> Chunk:
        """``B200 한 장의 가격``: for a bare counter after a number word, the chunk naming the thing."""
        if ch.words not in UNIT_COUNTERS:
            return ch
        k = next((k for k, c in enumerate(self.chs) if c is ch), 0)
        prev = self.chs[k - 1] if k > 0 else None
        if prev is not None and not prev.particle and _ONE_OF.match(self.sentence[prev.end:ch.start]):
            return prev
        return ch

    def _counted_thing(self, ch: Chunk) -> bool:
        """``GPU는 2만8천 장``: in a count of things, a noun that names no entity and no organisation is
        the thing counted (what is measured), not whose count it is."""
        if self.unit != "COUNT" or self.counter not in THING_COUNTERS or not ch.words or self._measure_like(ch):
            return False
        last = ch.words.split()[-1]
        return not entity_of(ch, self.lexicon, True, self.words.roles) and not last.endswith(ORG_ENDINGS) \
            and last not in ("정부", "당국", "정부 부처")

    def _measure_owner(self, words: str) -> str:
        """The owner of the measure ``words`` names (반도체 수출액: 반도체, B사 직원 수: B사), an entity's
        canonical name when it names one; "" when there is none (see ``_split_measure``)."""
        owner, _ = self._split_measure(words)
        return (entity_of(Chunk(0, len(owner), owner, "", len(owner), False), self.lexicon, False) or owner) if owner else ""

    def _split_measure(self, words: str) -> tuple[str, str]:
        """``words`` split into (owner, measure) when they end in a measure noun: 국내 5G 가입자 →
        (국내 5G, 가입자); no owner when the words before the measure only say how it is counted or which
        kind it is (주간 활성 이용자, 연간 영업이익, AI 전문 인력); ("", "") when there is no measure."""
        found = [m for m in self.lexicon.find_metrics(words) if not words[m.end:].strip()
                 and (m.start == 0 or not words[m.start - 1].isalnum())]  # 본예산 holds no owner 본
        if found:  # 기술 격차는: a metric the lexicon knows, whole; 네이버 매출은: 네이버
            rest, measure = words[:found[-1].start].split(), words[found[-1].start:].split()
        elif words.split() and is_measure(words.split()[-1], self.lexicon):
            rest, measure = words.split()[:-1], words.split()[-1:]
        else:
            return "", ""
        while rest and (rest[-1] in QUANT_WORDS or rest[-1] in KIND_WORDS or rest[-1] in WHEN_WORDS
                        or is_measure(rest[-1], self.lexicon)):
            measure.insert(0, rest.pop())  # 연구비 상한, 월간 활성 이용자: one measure
        if any(w in ACQUIRE_WORDS for w in measure[:-1]):
            return "", " ".join(measure)  # GPU 구매 예산: GPUs are what is bought, not whose budget it is
        per = max((k for k, w in enumerate(rest) if per_unit(w)), default=-1)
        if per >= 0:  # 1억원당 고용 인원, 국내 기업당 지원금: a measure per unit; the words before 당 name the unit
            return "", " ".join(rest[per + 1:] + measure)
        while rest and (rest[0] in QUANT_WORDS or rest[0] in TIME_WORDS or rest[0] in WHEN_WORDS or rest[0] in CONNECTIVES
                        or per_unit(rest[0]) or DATE_WORD.match(rest[0])):
            rest = rest[1:]
        if all(w in KIND_WORDS or w in FIELD_MODIFIERS or w in QUANT_WORDS or w in PLACE_WORDS for w in rest):
            return "", " ".join(rest + measure)
        return " ".join(rest), " ".join(measure)

    def _particle_after(self) -> str:
        """The particle written right after the figure (을, 에게는, 가), or ""."""
        out, at = "", self.end
        for t in (t for t in self.tokens if t.start >= self.end):
            if t.start != at or not t.tag.startswith("J"):
                break
            out, at = out + t.form, t.end
        return out

    def _figure_is_subject(self) -> bool:
        """``64.5%가 답했다``: the figure itself is the subject or topic of its clause."""
        nxt = next((t for t in self.tokens if t.start >= self.end), None)
        return nxt is not None and nxt.start == self.end and nxt.tag.split("-")[0] in ("JKS", "JX") \
            and nxt.form in ("가", "이", "는", "은")

    def _in_relative_clause(self, ch: Chunk) -> bool:
        """``성과가 좋은 기관 20곳``: an adnominal ending after ``ch`` whose head noun comes before the
        figure makes ``ch`` the subject of a clause that only describes that noun."""
        for t in self.tokens:
            if ch.particle_end <= t.start < self.start and t.tag.split("-")[0] == "ETM":
                if _OPEN_QUOTE.search(self.sentence[t.end:self.start]):
                    return False  # 정부가 발표한 'AI 인재 10만 명 양성' 계획: the head noun follows the quote
                if any(t.end <= c.start and c.end <= self.start for c in self.chs):
                    return True
        return False

    def _no_verb_between(self, start: int, end: int) -> bool:
        """True when no predicate lies between two offsets: the figure belongs to that clause. A
        modifier of the figure itself (역대 최대인 35조원, 평균 2만5천원짜리) does not count."""
        between = [t for t in self.tokens if start <= t.start < end]
        if between and between[-1].tag.split("-")[0] == "ETM" and not self.sentence[between[-1].end:end].strip():
            while between and between[-1].tag.split("-")[0] in ("ETM", "VCP", "VA", "XSA", "NNG", "MAG"):
                between.pop()
        return not any(t.tag.split("-")[0] in _PREDICATE_TAGS for t in between)

    def _measure_like(self, ch: Chunk) -> bool:
        """A chunk that names what is measured (점유율, 매출액, 비용 수준), not who."""
        last = ch.words.split()[-1] if ch.words else ""
        return bool(last) and (is_measure(last, self.lexicon) or last in self.words.generic
                               or bool(self.lexicon.metric(ch.words)) or (last in SPAN_WORDS and self.unit in SPAN_UNITS))

    def _anaphora(self, words: str) -> bool:
        """회사 측, 이 회사 대표: words that point back to a subject named earlier."""
        bare = " ".join(w for w in words.split() if w not in HEAD_SUFFIX)
        parts = words.split()
        if len(parts) > 1 and (parts[-1] in self.words.roles or parts[-1] in self.words.speakers):
            parts = parts[:-1]
        return words in self.words.anaphora or bare in self.words.anaphora or " ".join(parts) in self.words.anaphora

    def _speaker(self, ch: Chunk) -> bool:
        """한 증권사 연구원, 업계 관계자: a person who speaks, named by role without an entity or a name."""
        last = ch.words.split()[-1] if ch.words else ""
        if ch.words in self.words.voices or (last in self.words.voices and last not in MEASURED_PLACES):
            return not entity_of(ch, self.lexicon, True, self.words.roles)  # 증권가는 … 추정한다: the market talking
        return last in self.words.speakers and not entity_of(ch, self.lexicon, True, self.words.roles) \
            and not self._speaker_org(ch)

    def _speaker_org(self, ch: Chunk) -> str:
        """뤼튼 관계자, KT 측: the organisation a speaker is named by, when it is a name (a proper noun
        or Latin letters), not a kind (증권사 연구원); else ""."""
        parts = ch.words.split()
        if len(parts) < 2 or (parts[-1] not in self.words.speakers and parts[-1] not in self.words.roles
                              and parts[-1] not in HEAD_SUFFIX):
            return ""
        first = next((t for t in self.tokens if t.start >= ch.start and t.end > t.start), None)
        return " ".join(parts[:-1]) if first is not None and first.tag in ("NNP", "SL", "SH") else ""

    def _usable_topic(self, ch: Chunk) -> bool:
        """A topic that names who the figure is about, though no entity (응답 기업들은, 3사는)."""
        words = ch.words
        last = words.split()[-1] if words else ""
        if self._speaker(ch):
            return False  # 한 증권사 연구원은 "…": who speaks, not whose figure
        if per_unit(last) or (any(per_unit(w) for w in words.split()) and self._measure_like(ch)):
            return False  # kWh당, 1인당 연구비: what an amount is counted per, or a measure per head: no one's
        return bool(words) and not self._is_time(ch) and not self.lexicon.metric(words) \
            and not (" " not in words and is_measure(words, self.lexicon)) \
            and not any(m.end == len(last) for m in self.lexicon.find_metrics(last)) \
            and last not in self.words.generic and not self._anaphora(words) \
            and not (last in SPAN_WORDS and self.unit in SPAN_UNITS)  # 투자자 is no 투자; 이용 기간 is a measure

    def _enumerated(self) -> tuple[str, str] | None:
        """``연구생활장려금은 석사 월 100만원, 박사 월 140만원``: a bare noun right before the figure that
        names an item (석사) while the clause's topic or subject names the measure (장려금); (item,
        measure) or None."""
        pre = self._pre()
        if pre is None:
            return None
        item = self.chs[pre]
        words = item.words.split()
        while words and (words[-1] in QUANT_WORDS or per_unit(words[-1])):
            words = words[:-1]  # 석사 월 100만원: the item is 석사; 핀당 10Gbps: an amount per pin names no item
        if item.particle or self._is_time(item) or self._measure_like(item) or len("".join(words)) < 2 \
                or self.sentence[item.end:self.start].strip(" 월연간일주당") \
                or any(w in self.words.comparison or w in WHEN_WORDS or w in QUANT_WORDS for w in words):
            return None
        for i in range(pre - 1, -1, -1):
            ch = self.chs[i]
            if ch.particle in TOPIC | SUBJECT:
                first = self.chs[i + 1]  # the list starts right after the measure: 장려금은 석사 월 100만원
                if self._measure_like(ch) and self._no_verb_between(ch.particle_end, self.chs[pre].start) \
                        and not first.particle and _starts_amount(self.sentence[first.end:first.end + 6]):
                    return " ".join(words), self._split_measure(ch.words)[1] or self._label(i)
                return None
        return None

    def _object_chunk(self) -> int | None:
        """The nearest 을/를 chunk before the figure in its clause (no topic or subject between),
        when it names a measure the figure is the value of (no predicate between), else None."""
        for i in range(len(self.chs) - 1, -1, -1):
            ch = self.chs[i]
            if ch.particle_end > self.start:
                continue
            if ch.particle not in ("을", "를"):
                if ch.particle in TOPIC | SUBJECT:
                    return None
                continue
            if self._measure_like(ch) and self._no_verb_between(ch.particle_end, self.start):
                return i
            return None
        return None

    def _label(self, i: int) -> str:
        """A chunk as a metric: a bare generic head takes the word before it (우려스러운 수준); a Latin
        abbreviation the text gives in parentheses is kept (그래픽처리장치(GPU))."""
        ch = self.chs[i]
        words = ch.words
        if words in self.words.generic:
            # 우려스러운 수준; an answer keeps its clause: 우려할 수준이 아니라는 응답, "구하기 어렵다"는 응답
            clause = re.split(r"[,;:(]", self.sentence[:ch.start])[-1]
            prev = re.sub(r"[‘’“”'\"]", "", clause).split()[-(3 if words in _ANSWER_HEADS else 1):]
            return " ".join(prev + [words])
        abbr = _ABBREVIATION.search(ch.text)
        if abbr and abbr.group(1) not in words and ch.text.rstrip().endswith(")"):
            return f"{words}({abbr.group(1)})"
        return words


#: Voices that, with words before them, name what is measured instead (중국 AI 칩 시장은 500억 달러 규모로).
MEASURED_PLACES = frozenset({"시장"})
_ONE_OF = re.compile(r"^\s*(?:한|두|세|네|\d+)\s*$")
_ABBREVIATION = re.compile(r"\(([A-Za-z][A-Za-z0-9&\-]{1,9})\)\s*$")
_AMOUNT_START = re.compile(r"^\s*(?:(?:월|연|연간|일|주|약|최대|최소|총)\s*)*[\d０-９]")


def _starts_amount(text: str) -> bool:
    return bool(_AMOUNT_START.match(text))


#: A figure's particle, then a quotation right after it: 64.5%가 "…"고 답했다.
QUOTED_ANSWER = re.compile(r"^[가이는은]\s*(?:[가-힣]{1,4}\s+)?[\"“‘'](?P<q>[^\"”’']{2,80})[\"”’']\s*(?:이?라?고|며|는)")
_OPEN_QUOTE = re.compile(r"^[^‘“'\"]*[‘“'\"][^’”'\"]*$")
_YEAR = re.compile(r"(?:19|20)\d{2}년(?:\s?만\s?해도|에는|에|엔)?")
_GAP = re.compile(r"^[\s(‘“'\"]*(?:(?:약|대략|최대|최소|총|단지|불과|무려|거의|평균|연간|월|연|모두|각각|전체|단|고작|"
                  r"줄잡아|어림잡아|적어도|전년\s?대비|전년보다|보다|대비)\s*[(‘“'\"]*)*$")
ADNOMINAL = re.compile(r"^\s*(?:(?:이상|이하|미만|초과|가량|정도|규모|수준|상당|여|내외|안팎|남짓|대)?의\s+|\s+)$")

