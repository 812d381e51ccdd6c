"""Who a figure is about (subject) and what it measures (metric), from the chunks around it.

Subject, in order: an entity right before the number (``일본 0.43년``, ``미국의 18%``); the entity of
the nearest topic (``중국 정부는``); the nearest entity marked as subject (``한국은행이``); an entity
marked as topic or subject after the number (a relative clause: ``직원 180명에 불과한 … 딥시크가``);
the whole of ``X의 N%`` or ``X(N개)``; a topic that is not an entity (``응답 기업들은``). The caller
falls back to the previous figure's subject, then the previous sentence's, then the article's.

Metric, in order: the noun the figure modifies (``200개 수출 기업``, ``800조 원 이상의 투자``); the
noun right before it (``직원 180명``, ``연산 효율이 30%``); the noun after ``…에 불과한``; the nearest
topic or subject noun that is not the subject; the nearest lexicon metric in the sentence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from worker.claims.lexicon import Lexicon
from worker.claims.measure_words import (DATE_WORD, FIELD_MODIFIERS, ORG_ENDINGS, QUANT_WORDS, RANK_WORD, SOURCE,
                                         WHEN_WORDS, is_measure, no_metric, per_unit)
from worker.claims.morph import Token
from worker.claims.phrases import GENITIVE, SUBJECT, TIME_WORDS, TOPIC, Chunk, genitive_modifiers

_DEFAULT_GENERIC = ("수준", "규모", "정도", "비율", "비중", "수치", "금액", "액수", "결과", "수", "양", "폭")
_DEFAULT_COMPARISON = ("대비", "비해", "보다", "比")
#: Particles after which a noun is not what the figure measures: comparison, place, source.
_NOT_METRIC_PARTICLES = frozenset({"의", "과", "와", "과의", "와의", "보다", "에서", "에게", "부터", "까지", "에서의",
                                   "와는", "과는", "에서는", "로부터", "한테"})
_SUBJECT_PARTICLES = frozenset({"", "은", "는", "이", "가", "도", "의", "인"})
_HEAD_SUFFIX = frozenset({"쪽", "측", "사", "등", "당국"})
_DEFAULT_ROLES = ("CEO", "대표", "회장", "사장", "부사장", "총리", "대통령", "장관", "차관", "위원장", "의장", "원장",
                  "청장", "대변인", "창업자", "최고경영자", "교수", "이사", "부회장", "주석", "국무원 총리")
_DEFAULT_ANAPHORA = ("회사", "이 회사", "동사", "당사", "양사", "해당 기업", "해당 업체", "이 기업", "같은 회사",
                     "그", "이들", "회사 측", "그녀", "이곳")
_COUNT_UNITS = frozenset({"PERSON", "COUNT", "NM", "AGE"})
_RELATIVE_UNITS = frozenset({"RATIO", "TIMES"})
_MONEY = frozenset({"KRW", "USD", "CNY", "JPY", "EUR"})  # X의 10분의 1: X is what it is compared with
_LINK_FIRST = frozenset({"JKB", "JKS", "JKO", "JX", "VV", "VA", "VCP", "MAG"})
_LINK_BODY = frozenset({"VV", "VA", "XSA", "XSV", "VX", "EP", "MAG", "VCP"})


@dataclass(frozen=True)
class Words:
    """Word lists from ``figures.yaml`` (``generic_heads``, ``comparison_words``) with defaults."""

    generic: frozenset[str]
    comparison: frozenset[str]
    roles: frozenset[str] = frozenset(_DEFAULT_ROLES)
    anaphora: frozenset[str] = frozenset(_DEFAULT_ANAPHORA)

    @classmethod
    def of(cls, lexicon: Lexicon) -> "Words":
        data: dict[str, Any] = lexicon.figures
        return cls(frozenset(data.get("generic_heads") or _DEFAULT_GENERIC),
                   frozenset(data.get("comparison_words") or _DEFAULT_COMPARISON),
                   frozenset(data.get("role_words") or _DEFAULT_ROLES),
                   frozenset(data.get("anaphora") or _DEFAULT_ANAPHORA))


def _entity(ch: Chunk, lexicon: Lexicon, head: bool, roles: frozenset[str] = frozenset(_DEFAULT_ROLES)) -> str:
    """The canonical entity the chunk names (head: the chunk ends with it or its role), else ""."""
    words = ch.words
    mentions = lexicon.find_entities(words)
    if not mentions:
        last = words.split()[-1] if words else ""
        if len(last) > 2 and last.endswith(ORG_ENDINGS):
            return last  # 한국인공지능산업협회가: an organisation by the shape of its name
        return ""
    if not head:
        return mentions[-1].name
    m = mentions[-1]
    rest = words[m.end:].strip()
    if not rest or rest in _HEAD_SUFFIX or rest in roles:
        return m.name
    if " " not in rest and m.end < len(words) and words[m.end] != " " and len(rest) >= 2 \
            and (m.start == 0 or words[m.start - 1] == " ") and not is_measure(rest, lexicon) and " " not in words[m.start:]:
        return words[m.start:]  # 네이버클라우드: a company named after its parent, written as one word
    if rest.split()[-1] and is_measure(rest.split()[-1], lexicon) and len(rest.split()) <= 2:
        return m.name  # H100 중고 가격이: the price of H100
    return ""


def _np_entity(chs: list[Chunk], i: int, sentence: str, lexicon: Lexicon, own: bool = True) -> str:
    """The entity of chunk ``i`` itself, else of its 의-modifiers (한국의 기술 수준: 한국)."""
    if own and (name := _entity(chs[i], lexicon, head=False)):
        return name
    for mod in genitive_modifiers(chs, i, sentence):
        name = _entity(mod, lexicon, head=False)
        if name:
            return name
    return ""


def sentence_subject(chs: list[Chunk], sentence: str, lexicon: Lexicon) -> str:
    """The first topic's entity, else the first subject-marked entity of a sentence, else ""."""
    for i, ch in enumerate(chs):
        if ch.particle in TOPIC:
            name = _np_entity(chs, i, sentence, lexicon)
            if name:
                return name
    for ch in chs:
        if ch.particle in SUBJECT:
            name = _entity(ch, lexicon, head=True)
            if name:
                return name
    return ""


@dataclass
class Context:
    """One figure in its sentence: the chunks around ``start``..``end``."""

    sentence: str
    tokens: list[Token]
    chs: list[Chunk]
    lexicon: Lexicon
    words: Words
    start: int
    end: int
    unit: str

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
        return not words or words[-1] in TIME_WORDS or words[-1] in WHEN_WORDS or bool(DATE_WORD.match(words[-1])) \
            or all(w in QUANT_WORDS for w in words)

    def _source_end(self) -> int:
        """Where the last "…에 따르면" clause before the figure ends (its chunks name a source), else 0."""
        ends = [m.end() for m in SOURCE.finditer(self.sentence[:self.start])]
        return ends[-1] if ends else 0

    def _owner(self, i: int) -> str:
        """The subject a non-entity topic implies: its 의-modifier (A 서비스의 호출 건수: A 서비스), or the
        words before a measure noun (반도체 수출액: 반도체); "" when it implies none."""
        ch = self.chs[i]
        for mod in genitive_modifiers(self.chs, i, self.sentence):
            last = mod.words.split()[-1] if mod.words else ""
            if self._is_time(mod) or last in self.words.generic or last in self.words.anaphora \
                    or self.lexicon.metric(mod.words) or is_measure(last, self.lexicon):
                continue
            return _entity(mod, self.lexicon, False) or mod.words
        if any(self.chs[k].particle in SUBJECT and _entity(self.chs[k], self.lexicon, True, self.words.roles)
               for k in range(i) if self.chs[k].start >= self._source_end()):
            return ""  # 중국이 배출하는 AI 전문 인력은: the relative clause names the owner
        words = ch.words
        found = [m for m in self.lexicon.find_metrics(words) if not words[m.end:].strip()]
        if found:  # 기술 격차는: a metric the lexicon knows, whole; 네이버 매출은: 네이버
            rest = words[:found[-1].start].strip()
        elif len(words.split()) > 1 and is_measure(words.split()[-1], self.lexicon):
            rest = " ".join(words.split()[:-1])
        else:
            return ""
        # Only a named owner or a watched field (반도체 수출액: 반도체); "주간 활성 이용자", "AI 전문 인력"
        # are modifiers of the measure, not owners.
        if not rest:
            return ""
        name = _entity(Chunk(0, len(rest), rest, "", len(rest), False), self.lexicon, False)
        last = rest.split()[-1]
        return name or (rest if self.lexicon.is_on_topic(last) and last not in FIELD_MODIFIERS else "")

    def subject(self, previous: str = "") -> str:
        """The subject of the figure; ``previous``: the subject of the sentence's previous figure."""
        chs, lex = self.chs, self.lexicon
        pre = self._pre()
        if pre is not None:
            allowed = _SUBJECT_PARTICLES - ({GENITIVE} if self.unit in _RELATIVE_UNITS else set())
            if chs[pre].particle in allowed:
                name = _entity(chs[pre], lex, True, self.words.roles) or _np_entity(chs, pre, self.sentence, lex, own=False)
                if name:
                    return name
        source_end = self._source_end()
        before = [i for i, ch in enumerate(chs) if ch.particle_end <= self.start and ch.start >= source_end]
        after = [i for i, ch in enumerate(chs) if ch.start >= self.end]
        topic = next((i for i in reversed(before) if chs[i].particle in TOPIC), None)
        for i in reversed(before):  # 개인정보위는 딥시크가 이용자 100여 명의 …: the inner clause's subject
            if chs[i].particle in SUBJECT and (topic is None or i > topic):
                name = _entity(chs[i], lex, True, self.words.roles)
                if name:
                    return name
        if topic is not None:
            name = _np_entity(chs, topic, self.sentence, lex)
            if name:
                return name
        for i in after:
            if chs[i].particle in TOPIC | SUBJECT:
                name = _entity(chs[i], lex, True, self.words.roles)
                if name:
                    return name
        if pre is not None and not self._is_time(chs[pre]) and self.unit in ("COUNT", "PERSON") \
                and "(" in self.sentence[chs[pre].end:self.start] and not lex.metric(chs[pre].words):
            return chs[pre].words  # 상위 20%에 해당하는 기업(40개)
        if topic is not None and (owner := self._owner(topic)):
            return owner
        if topic is not None and self._usable_topic(chs[topic]):
            return chs[topic].words
        if previous:
            return previous
        for i in reversed(before):  # 중국이 배출하는 AI 전문 인력은 …: the topic's relative clause
            if chs[i].particle in SUBJECT:
                name = _entity(chs[i], lex, True, self.words.roles)
                if name:
                    return name
        if pre is not None and chs[pre].particle == GENITIVE and self.unit not in _RELATIVE_UNITS \
                and not self._is_time(chs[pre]) and not lex.metric(chs[pre].words):
            return chs[pre].words  # 상위 기업의 32.5%: a share of them
        return ""

    def _anaphora(self, words: str) -> bool:
        bare = " ".join(w for w in words.split() if w not in _HEAD_SUFFIX)
        return words in self.words.anaphora or bare in self.words.anaphora

    def _usable_topic(self, ch: Chunk) -> bool:
        words = ch.words
        last = words.split()[-1] if words else ""
        return bool(words) and not self._is_time(ch) and not self.lexicon.metric(words) \
            and not (" " not in words and is_measure(words, self.lexicon)) \
            and not self.lexicon.find_metrics(last) and last not in self.words.generic and not self._anaphora(words)

    def metric(self, subject: str) -> str:
        """What the figure measures, canonical when the lexicon knows it, or ""."""
        pre = self._pre()
        pre_particle = self.chs[pre].particle if pre is not None else ""
        order = [self._adnominal(bare_only=True)]
        if pre_particle == "에" and self.unit in _MONEY:  # AI 인프라에 3800억 위안을 투자한다
            order.append(self._predicate())
        of_link = self._adnominal(bare_only=False)  # 5나노 이하의 공정 / 이용자 100여 명의 정보
        if self.unit in _COUNT_UNITS - {"NM"}:
            order += [self._pre_metric(subject), of_link]
        else:
            order += [of_link, self._pre_metric(subject)]
        order += [self._linked(),
                  self._of_entity(), self._predicate() if self.unit in _MONEY else "", self._clause_noun(subject)]
        for pick in order:
            pick = RANK_WORD.sub("", pick or "").strip()
            if pick and not no_metric(pick):
                return self._canonical(pick)
        return self._nearest_lexicon_metric()

    def _predicate(self) -> str:
        """``3800억 위안을 투자한다``: the verbal noun the amount is the object of."""
        toks = [t for t in self.tokens if t.start >= self.end][:4]
        k = 0
        while k < len(toks) and toks[k].tag.split("-")[0] in ("JKO", "JKS", "JX", "MAG"):
            k += 1
        if k + 1 < len(toks) and toks[k].tag == "NNG" and toks[k + 1].tag.split("-")[0] == "XSV":
            return toks[k].form
        return ""

    def _of_entity(self) -> str:
        """``엔비디아 H100 성능의 60%``: the measured noun of an entity's genitive phrase."""
        pre = self._pre()
        if pre is None or self.chs[pre].particle != GENITIVE or self.unit not in ("PCT", "RATIO", "TIMES"):
            return ""
        words = self.chs[pre].words
        mentions = self.lexicon.find_entities(words)
        if not mentions:
            return ""
        for m in reversed(mentions):
            words = (words[:m.start] + words[m.end:]).strip()
        return words

    def _label(self, i: int) -> str:
        """A chunk as a metric: a bare generic head takes the word before it (우려스러운 수준)."""
        ch = self.chs[i]
        words = ch.words
        if words in self.words.generic:
            prev = self.sentence[:ch.start].split()
            return f"{prev[-1]} {words}" if prev else words
        return words

    def _adnominal(self, bare_only: bool) -> str:
        nxt = next((i for i, ch in enumerate(self.chs) if ch.start >= self.end), None)
        if nxt is None:
            return ""
        ch = self.chs[nxt]
        gap = self.sentence[self.end:ch.start]
        linked = bool(_ADNOMINAL.match(gap)) and "의" in gap and not bare_only
        bare = not gap.strip() and gap != "" and self.unit in _COUNT_UNITS | _RELATIVE_UNITS
        if (linked or bare) and not ch.before_verb and not self._is_time(ch) and not _entity(ch, self.lexicon, True):
            return self._label(nxt)
        return ""

    def _pre_metric(self, subject: str) -> str:
        pre = self._pre()
        if pre is None:
            return ""
        ch = self.chs[pre]
        if ch.particle in _NOT_METRIC_PARTICLES or self._is_time(ch):
            return ""
        parts = ch.words.split()
        while parts and (parts[-1] in QUANT_WORDS or per_unit(parts[-1])):
            parts = parts[:-1]  # 기업당 최대 2천만 원, 석사 월 80만 원: how it is counted, not what
        if not parts:
            return ""
        cut = max((k for k, w in enumerate(parts) if w in self.words.comparison), default=-1)
        words = " ".join(parts[cut + 1:])  # 기존 제품 대비 연산 효율: what follows the comparison
        for m in reversed(self.lexicon.find_entities(words)):
            words = (words[:m.start] + words[m.end:]).strip()
        paren = "(" in self.sentence[ch.end:self.start]
        if not words or (words == subject and not paren) or words in _HEAD_SUFFIX or self._anaphora(words):
            return ""
        return self._label(pre) if words == ch.words else words

    def _linked(self) -> str:
        """``10분의 1에 불과한 저비용``, ``10억 달러에 달하는 비용``: the noun after a modifying verb."""
        toks = [t for t in self.tokens if t.start >= self.end][:8]
        if not toks or toks[0].tag.split("-")[0] not in _LINK_FIRST:
            return ""
        for k, t in enumerate(toks):
            tag = t.tag.split("-")[0]
            if tag == "ETM":
                nxt = next((i for i, ch in enumerate(self.chs) if ch.start >= t.end), None)
                if nxt is not None and not self.sentence[t.end:self.chs[nxt].start].strip():
                    ch = self.chs[nxt]
                    if not ch.before_verb and not self._is_time(ch) and not _entity(ch, self.lexicon, True):
                        return self._label(nxt)
                return ""
            nxt_tag = toks[k + 1].tag.split("-")[0] if k + 1 < len(toks) else ""
            if tag not in _LINK_BODY and not (tag == "NNG" and nxt_tag in ("XSA", "XSV")) and k > 0:
                return ""
        return ""

    def _clause_noun(self, subject: str) -> str:
        before = [i for i, ch in enumerate(self.chs) if ch.particle_end <= self.start]
        after = [i for i, ch in enumerate(self.chs) if ch.start >= self.end]
        for i in list(reversed(before)) + after:
            ch = self.chs[i]
            if ch.particle not in TOPIC | SUBJECT or self._is_time(ch):
                continue
            words = ch.words
            if words == subject or _entity(ch, self.lexicon, True, self.words.roles) or self._anaphora(words):
                continue
            return self._label(i)
        return ""

    def _nearest_lexicon_metric(self) -> str:
        best: tuple[int, str] | None = None
        for m in self.lexicon.find_metrics(self.sentence):
            dist = self.start - m.end if m.end <= self.start else m.start - self.end
            if best is None or abs(dist) < best[0]:
                best = (abs(dist), m.name)
        return best[1] if best else ""

    def _canonical(self, text: str) -> str:
        """The lexicon's name for the metric when ``text`` or its last words are an alias of one."""
        parts = text.split()
        for k in range(len(parts)):
            name = self.lexicon.metric(" ".join(parts[k:]))
            if name:
                return name
        return " ".join(parts[-4:])


_YEAR = re.compile(r"(?:19|20)\d{2}년(?:\s?만\s?해도|에는|에|엔)?")
_GAP = re.compile(r"^[\s(‘“'\"]*(?:(?:약|대략|최대|최소|총|단지|불과|무려|거의|평균|연간|월|연|모두|각각|전체|단|고작|"
                  r"줄잡아|어림잡아|적어도|전년\s?대비|전년보다|보다|대비)\s*[(‘“'\"]*)*$")
_ADNOMINAL = re.compile(r"^\s*(?:(?:이상|이하|미만|초과|가량|정도|규모|수준|상당|여|내외|안팎|남짓|대)?의\s+|\s+)$")

