"""What a figure measures, from the chunks around it (``Clause``).

In order: a survey answer quoted after a share (64.5%가 "…"고 답했다); the measure of an enumerated
list (장려금은 석사 월 100만원, …); the noun the figure modifies (200개 수출 기업); the measure the
clause's object names (예산을 35조원으로 편성); what money goes to (AI 분야에 2조원을 투입); the noun
right before the figure (직원 180명, 연산 효율이 30%) or after 의 (이용자 100여 명의 정보); the noun
after …에 불과한; an entity's measured noun (H100 성능의 60%); the verbal noun an amount is the
object of (3800억 위안을 투자); the nearest topic or subject that names a measure or is not the
subject; the nearest lexicon metric in the sentence. The metric is the article's own words; claim
identity maps synonyms to one name.
"""
from __future__ import annotations

import re

from worker.claims.clause import (ADNOMINAL, COUNT_UNITS, HEAD_SUFFIX, LINK_BODY, LINK_FIRST, MONEY_UNITS,
                                  NOT_METRIC_PARTICLES, PURPOSE_PARTICLES, QUOTED_ANSWER, RELATIVE_UNITS, Clause,
                                  entity_of)
from worker.claims.measure_words import PLACE_WORDS, QUANT_WORDS, RANK_WORD, WHEN_WORDS, no_metric, per_unit
from worker.claims.numbers import FREQUENCY_UNITS
from worker.claims.phrases import GENITIVE, SUBJECT, TOPIC


#: Unit words that name what they count (1천110만 가입자): the metric, when nothing nearer names it.
MEASURED_UNITS = frozenset({"가입자"})
#: Before a mention that starts a word: the text's start, a space or a mark, not a syllable.
_WORD_START = re.compile(r"(?:^|.*[^가-힣A-Za-z0-9])$", re.S)


class MetricRules(Clause):
    """The metric rules of a figure's ``Clause``."""

    def metric(self, subject: str) -> str:
        """What the figure measures, canonical when the lexicon knows it, or ""."""
        pre = self._pre()
        pre_particle = self.chs[pre].particle if pre is not None else ""
        enumerated = self._enumerated()
        order = [self._bandwidth(), self._quoted_answer(), enumerated[1] if enumerated else "", self._adnominal(bare_only=True),
                 self._object_measure(), self._base_of_ratio()]
        if pre_particle in PURPOSE_PARTICLES and self.unit in MONEY_UNITS and pre is not None:
            # AI 인프라에 3800억 위안을 투자한다, 양자 분야에는 3천100억원이 책정됐다: what it goes to
            purpose = "" if self._is_time(self.chs[pre]) else self._label(pre)
            order.append(" ".join(w for w in (purpose, self._predicate()) if w) if self._predicate() else "")
        of_link = self._adnominal(bare_only=False)  # 5나노 이하의 공정 / 이용자 100여 명의 정보
        if self.unit in COUNT_UNITS - {"NM"}:
            order += [self._pre_metric(subject), of_link]
        else:
            order += [of_link, self._pre_metric(subject)]
        order += [self._linked(),
                  self._of_entity(), self._predicate() if self.unit in MONEY_UNITS else "", self._clause_noun(subject)]
        for pick in order:
            pick = RANK_WORD.sub("", pick or "").strip()
            if pick and not no_metric(pick):
                return self._canonical(pick)
        return self._nearest_lexicon_metric()

    def _bandwidth(self) -> str:
        """``370㎒폭``: a frequency with 폭 written on it is a bandwidth; ``1천110만 가입자``: a unit that is
        itself what is counted."""
        if self.counter in MEASURED_UNITS:
            return self.counter
        return "대역폭" if self.unit in FREQUENCY_UNITS and self.sentence[self.end:self.end + 1] == "폭" else ""

    def _base_of_ratio(self) -> str:
        """``딥시크의 가격은 미국 주요 모델의 10분의 1``: a ratio or multiple of a base named with 의
        measures what the clause's topic or subject measures."""
        pre = self._pre()
        if self.unit not in RELATIVE_UNITS or pre is None or self.chs[pre].particle != GENITIVE:
            return ""
        for i in range(pre - 1, -1, -1):
            ch = self.chs[i]
            if ch.particle in TOPIC | SUBJECT:
                return (self._split_measure(ch.words)[1] or self._label(i)) if self._measure_like(ch) else ""
        return ""

    def _quoted_answer(self) -> str:
        """``응답 기업의 62.3%가 "대응 준비가 안 됐다"고 답했다``: the answer a share of respondents gave,
        as the nouns of the quote."""
        if not self._figure_is_subject():
            return ""
        m = QUOTED_ANSWER.match(self.sentence[self.end:])
        if not m:
            return ""
        lo, hi = self.end + m.start("q"), self.end + m.end("q")
        return " ".join(ch.words for ch in self.chs if lo <= ch.start and ch.end <= hi)

    def _object_measure(self) -> str:
        """``중개수수료를 주문 금액의 5% 이내로 제한``, ``예산을 역대 최대인 35조원으로 편성``: the measure
        the clause's object names when the figure is the value it is set to."""
        i = self._object_chunk()
        return (self._split_measure(self.chs[i].words)[1] or self._label(i)) if i is not None else ""

    def _predicate(self) -> str:
        """``3800억 위안을 투자한다``: the verbal noun the amount is the object of."""
        toks = [t for t in self.tokens if t.start >= self.end][:4]
        k = 0
        while k < len(toks) and (toks[k].tag.split("-")[0] in ("JKO", "JKS", "JX", "MAG") or toks[k].form == "씩"):
            k += 1  # 3800억 위안을, 100억원씩
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

    def _adnominal(self, bare_only: bool) -> str:
        nxt = next((i for i, ch in enumerate(self.chs) if ch.start >= self.end), None)
        if nxt is None:
            return ""
        ch = self.chs[nxt]
        gap = self.sentence[self.end:ch.start]
        linked = bool(ADNOMINAL.match(gap)) and "의" in gap and not bare_only
        bare = not gap.strip() and gap != "" and self.unit in COUNT_UNITS | RELATIVE_UNITS
        if (linked or bare) and not ch.before_verb and not self._is_time(ch) \
                and not entity_of(ch, self.lexicon, True, self.words.roles):
            return self._label(nxt)
        return ""

    def _pre_metric(self, subject: str) -> str:
        pre = self._pre()
        if pre is None:
            return ""
        ch = self.chs[pre]
        if ch.particle in NOT_METRIC_PARTICLES or self._is_time(ch) or all(w in PLACE_WORDS for w in ch.words.split()):
            return ""  # 전 세계에 10개: where, not what
        parts = ch.words.split()
        per = False
        while parts and (parts[-1] in QUANT_WORDS or per_unit(parts[-1])):
            per = per or per_unit(parts[-1])
            parts = parts[:-1]  # 기업당 최대 2천만 원, 석사 월 80만 원: how it is counted, not what
        if not parts or (per and parts[-1] in WHEN_WORDS):
            return ""  # 하 등급 기준 건당 1천500만원: the basis the amount is counted per, not what it measures
        cut = max((k for k, w in enumerate(parts) if w in self.words.comparison), default=-1)
        words = " ".join(parts[cut + 1:])  # 기존 제품 대비 연산 효율: what follows the comparison
        for m in reversed(self.lexicon.find_entities(words)):
            if self.unit in COUNT_UNITS and m.name != subject and m.start == 0 and m.end < len(words):
                continue  # 중국 기업 140곳: which companies, kept
            end = m.end
            while end < len(words) and not words[end].isspace():
                end += 1  # 쿠팡이츠: a name built on an entity's goes whole
            words = (words[:m.start] + words[end:]).strip()
        paren = "(" in self.sentence[ch.end:self.start]
        counted = self.unit in COUNT_UNITS and not ch.particle  # 박사과정 제자 세 명: the group is also what is counted
        if not words or (words == subject and not paren and not counted) or words in HEAD_SUFFIX or self._anaphora(words):
            return ""
        return self._label(pre) if words == ch.words else words

    def _linked(self) -> str:
        """``10분의 1에 불과한 저비용``, ``10억 달러에 달하는 비용``: the noun after a modifying verb."""
        toks = [t for t in self.tokens if t.start >= self.end][:8]
        if not toks or toks[0].tag.split("-")[0] not in LINK_FIRST:
            return ""
        for k, t in enumerate(toks):
            tag = t.tag.split("-")[0]
            if tag == "ETM":
                nxt = next((i for i, ch in enumerate(self.chs) if ch.start >= t.end), None)
                if nxt is not None and not self.sentence[t.end:self.chs[nxt].start].strip():
                    ch = self.chs[nxt]
                    if not ch.before_verb and not self._is_time(ch) \
                            and not entity_of(ch, self.lexicon, True, self.words.roles):
                        return self._label(nxt)
                return ""
            nxt_tag = toks[k + 1].tag.split("-")[0] if k + 1 < len(toks) else ""
            if tag not in LINK_BODY and not (tag == "NNG" and nxt_tag in ("XSA", "XSV")) and k > 0:
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
            if ch.particle == "에서" and not entity_of(ch, self.lexicon, True, self.words.roles):
                continue  # 정규장에서: where, not who or what
            if self._measure_like(ch):  # 엔비디아 주가는: 주가
                return self._split_measure(words)[1] or self._label(i)
            if words == subject and self.unit in ("COUNT", "PERSON") and ch.particle in TOPIC and i in before:
                return self._label(i)  # 신규 과제는 3천200개를 뽑는다: what is counted is the topic itself
            if words == subject or entity_of(ch, self.lexicon, True, self.words.roles) or self._anaphora(words) \
                    or self._speaker(ch):
                continue
            return self._label(i)
        return ""

    def _nearest_lexicon_metric(self) -> str:
        """The lexicon metric written nearest the figure, as the text writes it."""
        best: tuple[int, str] | None = None
        for m in self.lexicon.find_metrics(self.sentence):
            if m.start < self.end and m.end > self.start or not _WORD_START.match(self.sentence[:m.start]):
                continue  # 1조원 가까이: "원 가" is no 원가
            dist = self.start - m.end if m.end <= self.start else m.start - self.end
            if best is None or abs(dist) < best[0]:
                best = (abs(dist), m.text)
        return best[1] if best else ""

    def _canonical(self, text: str) -> str:
        """The metric as the text words it, its last four words at most. Claim identity maps
        synonyms to one name (``compare.metric_key``); the figure keeps the article's own word, which
        is what a reader (and an alert) recognises: 가입자 stays 가입자, not a merged 이용자 수."""
        return " ".join(text.split()[-4:])
