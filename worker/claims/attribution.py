"""Who a figure is about (its subject), from the chunks around it; what it measures is ``metric``.

Subject, in order:
- the item of a list whose measure is the clause's topic (장려금은 석사 월 100만원, 박사 …);
- an entity right before the number (일본 0.43년, 미국의 18%), unless it only narrows a measure of the
  topic entity (엔비디아는 … 중국 매출이 170억 달러);
- the entity of the clause's own subject after the topic (개인정보위는 딥시크가 이용자 100여 명의 …),
  or the 의-owner of a measure subject whose value the figure is (번스타인은 … 엔비디아의 점유율이 66%);
- the 의-owner of a measure the clause's object names (KB증권은 SK하이닉스의 영업이익을 10조원으로);
- the topic's entity (중국 정부는; 엔비디아의 중국 매출 비중은: 엔비디아); an entity topic or subject after
  the number (직원 180명에 불과한 … 딥시크가);
- X of ``X(N개)`` and of ``X의 N%가`` (응답 기업의 64.5%가 답했다);
- without a topic, the nearest 이/가 subject that is no entity (정부가; GPU 가격이 30% 올랐다: GPU), never
  one of a relative clause (성과가 좋은 기관 20곳);
- a group counted in a sentence that names no one else (박사후연구원 1천명에게는);
- the owner a topic implies (B사 직원 수는: B사; 국내 5G 가입자는: 국내 5G), or the topic itself when it
  names who (응답 기업들은), looking past a topic that is only a measure (개정안은 … 총수수료도 15%를);
  an anaphoric topic (이 회사 대표는) and a speaker (한 증권사 연구원은) name none;
- the previous figure's subject in the sentence; an entity, then a noun, subject of the topic's
  relative clause (중국이 배출하는 AI 인력은, 반도체가 … 차지하는 비중은); X of ``X의 N%``.
The caller falls back to the subject carried within the paragraph, then the article's.
"""
from __future__ import annotations

from worker.claims.clause import COUNT_UNITS, RELATIVE_UNITS, SUBJECT_PARTICLES, Clause, Words, entity_of, np_entity
from worker.claims.measure_words import ESTIMATE, ORG_ENDINGS
from worker.claims.metric import MetricRules
from worker.claims.phrases import GENITIVE, SUBJECT, TOPIC, Chunk

__all__ = ["Clause", "Context", "Words"]

#: Bare nouns that name a government or a legislature as a sentence's subject (정부는 …).
_GOVERNMENT_WORDS = frozenset({"정부", "당국", "국회", "여당", "야당", "의회", "정부 부처"})


#: Longest owner read off a measure in a reported clause (현지 업체 비중: 현지 업체); a longer run
#: (데이터센터 가동 첫해 클라우드 부문 매출) is a description, not a name.
VOICED_OWNER_WORDS = 2
#: Endings of the names of those who estimate others' figures (하나증권, 한국IR협의회 리서치, ○○연구소).
SOURCE_ENDINGS = ("증권", "리서치", "연구소", "연구원", "인베스트먼트", "애널리틱스")


class Context(MetricRules):
    """One figure in its sentence: ``subject`` and ``metric`` (``MetricRules``) of it."""

    def subject(self, previous: str = "") -> str:
        """The subject of the figure; ``previous``: the subject of the sentence's previous figure."""
        chs, lex = self.chs, self.lexicon
        pre = self._pre()
        source_end = self._source_end()
        before = [i for i, ch in enumerate(chs) if ch.particle_end <= self.start and ch.start >= source_end]
        after = [i for i, ch in enumerate(chs) if ch.start >= self.end]
        topics = [i for i in reversed(before) if chs[i].particle in TOPIC]
        topic = topics[0] if topics else None
        topic_entity = ""
        if topic is not None:  # 엔비디아의 중국 매출 비중은: the owner, not the market the measure is narrowed to
            topic_entity = (self._measure_like(chs[topic]) and np_entity(chs, topic, self.sentence, lex, own=False)) \
                or np_entity(chs, topic, self.sentence, lex)
        # 증권가는 …, 하나증권은 … 1조원 수준으로 추정했다: the topic is who estimates, not whose figure it is
        voice = topic is not None and not topic_entity and not self._measure_like(chs[topic]) \
            and not self._anaphora(chs[topic].words) \
            and (self._speaker(chs[topic]) or (self._named_source(chs[topic])
                                                and bool(ESTIMATE.search(self.sentence[self.end:]))))
        if voice:
            topics = topics[1:]
        if (enumerated := self._enumerated()) and not entity_of(chs[pre], lex, False):
            return enumerated[0]  # 장려금은 석사 월 100만원: the item
        if pre is not None:
            allowed = SUBJECT_PARTICLES - ({GENITIVE} if self.unit in RELATIVE_UNITS else set())
            if chs[pre].particle in allowed:
                name = entity_of(chs[pre], lex, True, self.words.roles) or np_entity(chs, pre, self.sentence, lex, own=False)
                if name and not (topic_entity and topic != pre and self._measure_like(chs[pre])):
                    return name  # (엔비디아는 지난 회계연도) 중국 매출이 170억 달러: 중국 says where
        for i in reversed(before):  # 개인정보위는 딥시크가 이용자 100여 명의 …: the inner clause's subject
            if chs[i].particle in SUBJECT and (topic is None or i > topic):
                name = entity_of(chs[i], lex, True, self.words.roles)
                if name and topic_entity and self._measure_like(chs[i]):
                    continue
                if not name and self._measure_like(chs[i]) and self._no_verb_between(chs[i].particle_end, self.start):
                    name = np_entity(chs, i, self.sentence, lex, own=False)  # 번스타인은 … 엔비디아의 점유율이 66%에서
                if not name and voice:
                    name = self._voiced_subject(i)  # 증권가는 반도체(DS) 부문이 7조원 안팎의 …
                if name:
                    return name
        if (owner := self._object_owner(voice)):
            return owner  # KB증권은 SK하이닉스의 2분기 영업이익을 10조원으로 예상했다
        if topic_entity:
            return topic_entity
        if topic is None and pre is not None and not chs[pre].particle and self.unit not in COUNT_UNITS \
                and not any(chs[k].particle in SUBJECT for k in before) and "(" not in self.sentence[chs[pre].end:self.start] \
                and self._measure_like(chs[pre]) \
                and (owner := self._measure_owner(chs[pre].words)) and len(owner.split()) <= VOICED_OWNER_WORDS:
            return owner  # 전체 이동통신 가입자 5천690만 회선: whose subscribers they are
        if topic is not None and self._measure_like(chs[topic]) and (owner := self._genitive_owner(topic)):
            return owner  # 지난해 거래액 기준 배민의 점유율은 58.7%, (쿠팡이츠는 …): the topic's owner first
        for i in after:
            if chs[i].particle in TOPIC | SUBJECT:
                name = entity_of(chs[i], lex, True, self.words.roles)
                if name:
                    return name
        if pre is not None and not self._is_time(chs[pre]) and self.unit in ("COUNT", "PERSON") \
                and "(" in self.sentence[chs[pre].end:self.start] and not lex.metric(chs[pre].words):
            return chs[pre].words  # 상위 20%에 해당하는 기업(40개)
        if pre is not None and chs[pre].particle == GENITIVE and self._figure_is_subject() \
                and self.unit not in RELATIVE_UNITS and self._usable_topic(chs[pre]):
            return chs[pre].words  # 응답 기업의 64.5%가 …: a share of them
        if topic is None and (name := self._clause_subject(before)):
            return name
        if not topics and pre is not None and self.unit in ("PERSON", "COUNT") and not chs[pre].particle \
                and not self._counted_thing(chs[pre]) \
                and not any(chs[k].particle in SUBJECT for k in before) and self._usable_topic(chs[pre]) \
                and not self.lexicon.metric(chs[pre].words) and self._particle_after() not in ("을", "를"):
            return chs[pre].words  # 박사후연구원 1천명에게는 …: the group counted is what the sentence is about
        for i in topics:  # 개정안은 … 총수수료도 15%를: past a topic that is only a measure
            if self._anaphora(chs[i].words):
                return previous  # 이 회사 대표는: the subject named before
            if i == pre and self._counted_thing(chs[i]) and (owner := self._relative_owner(i)):
                return owner  # 정부가 보유하는 GPU는 2만8천 장: what is counted; its relative clause names whose
            if (owner := self._owner(i) or self._speaker_org(chs[i])) or self._usable_topic(chs[i]):
                return owner or chs[i].words
            if not self._measure_like(chs[i]):
                break
        if previous:
            return previous
        for i in reversed(before):  # 중국이 배출하는 AI 전문 인력은 …: the topic's relative clause
            if chs[i].particle in SUBJECT:
                name = entity_of(chs[i], lex, True, self.words.roles)
                if name:
                    return name
        for i in reversed(before):  # 반도체가 전체 수출에서 차지하는 비중은: a subject that is no entity
            ch = chs[i]
            if ch.particle in ("이", "가") and topic is not None and i < topic and not self._measure_like(ch) \
                    and not self._counted_thing(ch) \
                    and self._usable_topic(ch) and len(ch.words.replace(" ", "")) >= 2:
                return ch.words
        if pre is not None and chs[pre].particle == GENITIVE and self.unit not in RELATIVE_UNITS \
                and not self._is_time(chs[pre]) and not lex.metric(chs[pre].words):
            return chs[pre].words  # 상위 기업의 32.5%: a share of them
        return ""

    def named(self) -> str | None:
        """Who a sentence without figures is about: its first topic's or subject's entity, else that
        topic or subject itself when it names who (정부는); None when it points back (회사는), "" when
        it names no one."""
        for i, ch in enumerate(self.chs):
            if ch.particle not in TOPIC and ch.particle not in ("이", "가"):
                continue
            if name := np_entity(self.chs, i, self.sentence, self.lexicon):
                return name
            if self._anaphora(ch.words):
                return None
            if org := self._speaker_org(ch):
                return org
            last = ch.words.split()[-1] if ch.words else ""
            if last in _GOVERNMENT_WORDS or (len(last) > 2 and last.endswith(ORG_ENDINGS)) or self._proper(ch):
                return ch.words  # 정부는, 코리아스타트업포럼은, 뤼튼은: who, by the shape of the name
            return ""
        return ""

    def _proper(self, ch: Chunk) -> bool:
        """A chunk whose head is a proper noun or a Latin name (Kiwi's NNP, SL)."""
        heads = [t for t in self.tokens if ch.start <= t.start < ch.end and t.end > t.start]
        return bool(heads) and heads[-1].tag in ("NNP", "SL") and not self._speaker(ch)

    def _owner(self, i: int) -> str:
        """The subject a non-entity topic implies: its 의-modifier (A 서비스의 호출 건수: A 서비스), or the
        words before a measure noun (반도체 수출액: 반도체); "" when it implies none."""
        ch = self.chs[i]
        if owner := self._genitive_owner(i):
            return owner
        if any(self.chs[k].particle in SUBJECT and entity_of(self.chs[k], self.lexicon, True, self.words.roles)
               for k in range(i) if self.chs[k].start >= self._source_end()):
            return ""  # 중국이 배출하는 AI 전문 인력은: the relative clause names the owner
        return self._measure_owner(ch.words)

    def _clause_subject(self, before: list[int]) -> str:
        """The nearest 이/가 subject before the figure when it is no entity: its words when it names
        who (정부가), the owner of the measure it names when the figure is that measure's value (GPU
        가격이 … 30% 올랐다: GPU, 3사의 영업이익이: 3사); "" when it names neither, when it belongs to a
        relative clause (성과가 좋은 기관 20곳) or when there is none."""
        for i in reversed(before):
            ch = self.chs[i]
            if ch.particle not in ("이", "가", "께서"):
                continue
            if self._is_time(ch) or self._anaphora(ch.words) or len(ch.words.replace(" ", "")) < 2 \
                    or self._in_relative_clause(ch):
                return ""
            if self._measure_like(ch):
                if not self._no_verb_between(ch.particle_end, self.start):
                    return ""
                return self._genitive_owner(i) or self._measure_owner(ch.words)
            return ch.words if self._usable_topic(ch) else ""
        return ""

    def _object_owner(self, voice: bool = False) -> str:
        """The entity that owns the measure of the clause's object through 의 (X의 영업이익을 N원으로); with
        ``voice`` (the topic only estimates it) any 의-owner (시스템LSI 사업부의 영업손실을 1조원으로)."""
        i = self._object_chunk()
        if i is None:
            return ""
        return np_entity(self.chs, i, self.sentence, self.lexicon, own=False) or (voice and self._genitive_owner(i)) or ""

    def _named_source(self, ch: Chunk) -> bool:
        """A topic that names a firm or an institute by name (번스타인은, 하나증권은, 트렌드포스는), which
        reports others' figures when it estimates; a group (이들 기업은) estimates its own."""
        last = ch.words.split()[-1] if ch.words else ""
        return self._proper(ch) or last.endswith(SOURCE_ENDINGS)

    def _relative_owner(self, i: int) -> str:
        """The 이/가 subject of the relative clause before topic ``i`` when it names who (정부가 보유하는
        GPU는): an entity's name or its words; "" when there is none."""
        for k in range(i - 1, -1, -1):
            ch = self.chs[k]
            if ch.particle in TOPIC or ch.start < self._source_end():
                return ""
            if ch.particle in ("이", "가") and not self._measure_like(ch) and not self._counted_thing(ch) \
                    and len(ch.words.replace(" ", "")) >= 2 and self._usable_topic(ch):
                return entity_of(ch, self.lexicon, True, self.words.roles) or ch.words
        return ""

    def _voiced_subject(self, i: int) -> str:
        """The subject of the clause an estimating topic reports (증권가는 반도체 부문이 7조원의 이익을,
        번스타인은 현지 업체 비중이 29%에서): its words, or the owner of the measure it names; "" when it
        belongs to another clause or names no one."""
        ch = self.chs[i]
        if self._is_time(ch) or self._anaphora(ch.words) or self._in_relative_clause(ch) \
                or not self._no_verb_between(ch.particle_end, self.start):
            return ""
        if self._measure_like(ch):
            owner = self._genitive_owner(i) or self._measure_owner(ch.words)
            return owner if len(owner.split()) <= VOICED_OWNER_WORDS else ""
        return ch.words if self._usable_topic(ch) and not self._counted_thing(ch) else ""
