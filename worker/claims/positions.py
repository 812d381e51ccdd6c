"""Positions: an actor's stance toward a watched target.

The text is split into lines (the first is the title) and sentences with a cheap regex; only a
sentence that mentions a watched target is analysed with Kiwi (once, cached), and an earlier
sentence of the same paragraph only when a later one needs its actor (passives, 그는, an omitted
subject). For each target mention, ``positions_chain.read_chain`` reads the predicate that governs it
and ``positions_np`` the actor: the subject of that predicate, the speaker of a quote, the noun a
relative clause modifies, or the actor of an earlier sentence. A title's position is kept only when
the body does not state it more precisely.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from worker.claims.lexicon import Lexicon, Mention, fold
from worker.claims.morph import Token, tokenize
from worker.claims.positions_chain import Event, read_chain
from worker.claims.positions_phrase import noun_phrase
from worker.claims.positions_np import Actor, Subject, in_quote, np_start, quote_spans, resolve, subjects
from worker.claims.stance import is_noun
from worker.claims.stance import StanceVocab, vocab
from worker.model import Modality, Position

_SENTENCE_END = re.compile(r"(?<=[.!?。])[”\"’')\]]*\s+")
_LINE_END = re.compile(r"[.!?。][”\"’')\]]*\s*$")
#: Sentences back (same paragraph) where an omitted actor is looked for; one or two is how far
#: Korean news carries a subject before naming it again.
CARRY_BACK = 2
#: A line this short without a final full stop is a subheading, read like the title.
SUBHEAD_MAX = 80
#: Evidence ranks, strongest first: actor named in the sentence, carried from an earlier one, title.
RANK_NAMED, RANK_CARRIED, RANK_TITLE = 3, 2, 1
#: The country whose government a bare 정부 names in this Korean news project (정부가 … 허용하지 않기로 했다).
HOME_COUNTRY, HOME_GOVERNMENT = "한국", "한국 정부"
_MODAL_NOUNS = {"수", "것", "예정", "계획", "방침", "방안", "전망"}
_OBJECT_PARTICLES = {"을", "를"}
_AGENT_PARTICLES = {"로부터", "으로부터", "에게서"}
_COORD_TOKENS = {"와", "과", "·", "ㆍ", ",", "및", "등"}
#: After a country's name: the country acts (중국은, 미국이, 일본 정부가), it is not only a qualifier.
_STATE_ACTS = re.compile(r"(?:은|는|이|가|도|과|와|측|\s*(?:정부|당국|행정부))(?![가-힣])")


@dataclass
class _Sentence:
    text: str
    paragraph: int
    headline: bool
    lexicon: Lexicon | None = None
    _tokens: list[Token] | None = None

    @property
    def tokens(self) -> list[Token]:
        if self._tokens is None:
            tokens = _fix_particles(tokenize(self.text))
            if self.lexicon is not None:
                ends = {m.end for m in self.lexicon.find_targets(self.text)} \
                    | {m.end for m in self.lexicon.find_entities(self.text)}
                tokens = _split_glued(tokens, self.text, ends)
            self._tokens = tokens
        return self._tokens


@dataclass(frozen=True)
class _Found:
    position: Position
    rank: int
    order: int


def _sentences(text: str, lexicon: Lexicon | None = None) -> list[_Sentence]:
    out: list[_Sentence] = []
    first = True
    for p, line in enumerate(text.splitlines()):
        line = line.strip()
        if not line:
            continue
        head = first or (len(line) <= SUBHEAD_MAX and not _LINE_END.search(line))
        first = False
        for part in _SENTENCE_END.split(line):
            if part.strip():
                out.append(_Sentence(part.strip(), p, head, lexicon))
    return out


_MISREAD_PARTICLES = {"을": "JKO", "를": "JKO", "이": "JKS", "가": "JKS", "은": "JX", "는": "JX"}


def _fix_particles(tokens: list[Token]) -> list[Token]:
    """Kiwi reads the particle after a model number as a noun (H20을 → 을/NNG): tag it as the particle."""
    out = list(tokens)
    for k in range(1, len(out)):
        t, prev = out[k], out[k - 1]
        if t.tag == "NNG" and t.form in _MISREAD_PARTICLES and prev.tag in ("SN", "SL") and prev.end == t.start:
            out[k] = Token(t.form, _MISREAD_PARTICLES[t.form], t.start, t.end)
    return out


#: Particles Kiwi glues to a name it does not know (엔비디아와 → one noun): their tags once split off.
_GLUED_PARTICLES = {"와": "JKB", "과": "JKB", "이": "JKS", "가": "JKS", "을": "JKO", "를": "JKO", "은": "JX",
                    "는": "JX", "도": "JX", "의": "JKG", "에": "JKB", "에게": "JKB", "에서": "JKB", "로": "JKB",
                    "으로": "JKB"}


def _split_glued(tokens: list[Token], text: str, ends: set[int]) -> list[Token]:
    """Kiwi reads a name and its particle as one noun (엔비디아와/NNG): split it at the end of a known
    name into the name and the particle, so that the name's role in its clause is read."""
    out: list[Token] = []
    for t in tokens:
        cut = next((e for e in ends if t.start < e < t.end), None)
        if cut is not None and t.tag in ("NNG", "NNP") and text[cut:t.end] in _GLUED_PARTICLES:
            out.append(Token(text[t.start:cut], "NNP", t.start, cut))
            out.append(Token(text[cut:t.end], _GLUED_PARTICLES[text[cut:t.end]], cut, t.end))
        else:
            out.append(t)
    return out


def _agent(tokens: list[Token], pred: int, spans: list[tuple[int, int]]) -> Subject | None:
    """The agent of a passive: 외교부에 의해 (차단됐다), 미국 정부로부터 (허가를 받았다)."""
    for k in range(pred - 1, 0, -1):
        t = tokens[k]
        by = t.tag == "JKB" and (t.form in _AGENT_PARTICLES
                                 or (t.form == "에" and k + 1 < pred and tokens[k + 1].form == "의하"))
        if by and is_noun(tokens[k - 1]):
            start = np_start(tokens, k)
            return Subject(start, k, False, in_quote(k, spans)) if start < k else None
    return None


def _closed(tokens: list[Token], subj: Subject, pred: int, background: frozenset[str]) -> bool:
    """True when a nominative subject belongs to an embedded clause ended before ``pred``."""
    if subj.topic:
        return False
    for k in range(subj.end + 1, min(pred, len(tokens) - 1)):
        t, nxt = tokens[k], tokens[k + 1]
        if t.tag == "EF":
            return True  # 답변이 "불충분하다"며 (차단하라고 명령했다): a clause already ended
        if t.tag == "ETM" and nxt.form == "것" and k + 2 < len(tokens) and tokens[k + 2].tag == "JKO":
            return True  # 엔비디아가 H200을 판매하는 것을 (허용하겠다): the subject of the clause acted on
        if t.tag == "ETM" and nxt.form not in _MODAL_NOUNS and is_noun(nxt) \
                and not (k > 0 and tokens[k - 1].form in ("대하", "관하")):
            return True  # 딥시크가 개발한 (모델): a relative clause; 딥시크에 대한 (점검) is none
        if t.tag == "ETN" and nxt.form not in ("로", "으로"):
            return True
        if t.tag == "EC" and (t.form in ("도록", "게") or t.form in background):
            return True  # 장병들이 사용할 수 없도록 (막았다): the subject of the inner clause
    return False


def _overlaps(tokens: list[Token], subj: Subject, spans: list[Mention]) -> bool:
    a, b = tokens[subj.start].start, tokens[subj.end - 1].end
    return any(m.start < b and m.end > a for m in spans)


class _Reader:
    """Reads the positions of one article."""

    def __init__(self, text: str, lexicon: Lexicon) -> None:
        self.lex = lexicon
        self.v: StanceVocab = vocab(lexicon)
        self.sents = _sentences(text, lexicon)
        self.found: list[_Found] = []
        self._home_agencies: bool | None = None

    def _candidates(self, s: _Sentence, ev: Event, spans: list[tuple[int, int]]) -> list[Subject]:
        toks = s.tokens
        subs = subjects(toks, spans, s.headline)
        q = in_quote(ev.pred, spans)
        if q >= 0:
            inner = [x for x in subs if x.quote == q and x.end < ev.pred]
            before = [x for x in subs if x.quote == -1 and x.end <= spans[q][0]]
            verb = next((k for k in range(spans[q][1], len(toks)) if toks[k].tag.startswith(("VV", "XSV"))), len(toks))
            after = [x for x in subs if x.quote == -1 and spans[q][1] < x.start and x.end < verb]
            return inner[::-1] + before[::-1] + after
        return [x for x in subs if x.quote == -1 and x.end < ev.pred][::-1]

    def _actors(self, idx: int, ev: Event, targets: list[Mention], np_end: int) -> tuple[list[Actor], int]:
        s = self.sents[idx]
        toks = s.tokens
        spans = quote_spans(toks)
        ents = self.lex.find_entities(s.text)
        if ev.relative is not None:
            rel = [x for x in subjects(toks, spans) if x.start <= ev.relative < x.end]
            if rel:
                got = resolve(toks, rel[0], s.text, ents, self.lex, self.v)
                if isinstance(got, list) and got:
                    return got, RANK_NAMED
        agent = _agent(toks, ev.pred, spans) if ev.passive else None
        if agent is not None:
            got = resolve(toks, agent, s.text, ents, self.lex, self.v)
            if isinstance(got, list) and got:
                return got, RANK_TITLE if s.headline else RANK_NAMED
        if ev.passive == "received":
            return [], 0  # 엔비디아는 … 허가를 받았다: the subject received the move; nobody else named
        moved = False  # a move noun was the subject: its actor is in this sentence or nowhere
        for subj in self._candidates(s, ev, spans):
            if subj.end == np_end or _overlaps(toks, subj, targets) or _closed(toks, subj, ev.pred, self.v.background):
                continue
            if self.v.known(fold(toks[subj.end - 1].form)):
                moved = True
                continue  # (금지한) 방침은 (유지하기로 했다), 차단 조치는: a move or a plan, never who moves
            got = resolve(toks, subj, s.text, ents, self.lex, self.v, known_only=s.headline)
            if not got and self._home_government(idx, toks, subj):
                return [Actor(HOME_GOVERNMENT, s.text[toks[subj.start].start:toks[subj.end - 1].end])], RANK_NAMED
            if got == "pronoun":
                if subj.quote >= 0:
                    continue  # "우리는 …": the speaker, outside the quote
                break
            if got:
                return list(got), RANK_TITLE if s.headline else RANK_NAMED
            if not ev.passive:
                return [], 0  # the subject is someone who is not an actor (전문가들은, 업계는)
        if s.headline or (moved and not ev.passive):
            return [], 0  # (딥시크를 활용하려는) 움직임도 나타났다: nobody is named as moving
        if ev.passive:
            named = self._explained(idx)
            if named:
                return named, RANK_CARRIED
        return self._carried(idx), RANK_CARRIED

    def _explained(self, idx: int) -> list[Actor]:
        """The actor named by the next sentence when it explains a passive: "외교부가 내린 조치다",
        "개인정보위의 요청에 따른 것이다" (no target of its own, ends in a copula on a decision noun)."""
        if idx + 1 >= len(self.sents):
            return []
        s = self.sents[idx + 1]
        if s.paragraph != self.sents[idx].paragraph or s.headline or self.lex.find_targets(s.text):
            return []
        toks = s.tokens
        verbs = [k for k, t in enumerate(toks) if t.tag.startswith(("VV", "VA", "VX", "XSV", "XSA", "VCP"))]
        if not verbs or toks[verbs[-1]].tag != "VCP" or verbs[-1] == 0:
            return []
        noun = toks[verbs[-1] - 1].form
        if not (noun in self.v.light_nouns or (noun == "것" and any(t.form == "따르" for t in toks))):
            return []
        spans = quote_spans(toks)
        ents = self.lex.find_entities(s.text)
        found = [x for x in subjects(toks, spans) if x.quote == -1]
        found += [Subject(np_start(toks, k), k, False, -1) for k in range(1, len(toks) - 1)
                  if toks[k].tag == "JKG" and fold(toks[k + 1].form) in self.v.light_nouns]
        for subj in found:
            if subj.start < subj.end:
                got = resolve(toks, subj, s.text, ents, self.lex, self.v)
                if isinstance(got, list) and got:
                    return got
        return []

    def _home(self, name: str) -> bool | None:
        """True for an entity of the home country (외교부), False for a foreign one, None when neither."""
        chain = [name, *self.lex.ancestors(name)]
        if HOME_COUNTRY in chain:
            return True
        return False if any((e := self.lex.entity_named(c)) and e.kind == "country" for c in chain) else None

    def _home_government(self, idx: int, toks: list[Token], subj: Subject) -> bool:
        """True when a bare 정부 subject is the home government: the article names home ministries or
        this sentence or the one before names the home country, and neither names a foreign state
        (중국 외교부는 … 정부는)."""
        s = self.sents[idx]
        if s.headline or subj.quote >= 0 or fold(s.text[toks[subj.start].start:toks[subj.end - 1].end]) != "정부":
            return False
        if self._home_agencies is None:
            self._home_agencies = any(self._home(m.name) and (e := self.lex.entity_named(m.name))
                                      and e.kind in ("agency", "government")
                                      for m in self.lex.find_entities("\n".join(x.text for x in self.sents)))
        near = [x for x in self.sents[max(idx - 1, 0):idx + 1] if x.paragraph == s.paragraph]
        homes = [home for x in near for m in self.lex.find_entities(x.text)
                 if not ((home := self._home(m.name)) is False and self._attributive(x.text, m))]
        # 반면 한국의 대응은 더뎠다. 정부는 …: the paragraph itself says whose government it is
        return (self._home_agencies or True in homes) and False not in homes

    def _attributive(self, text: str, m: Mention) -> bool:
        """True for a country named only to qualify a noun (중국 AI 스타트업 딥시크, 중국산 칩, 미국의 수출
        통제): it says whose a thing is, not which state acts, so a bare 정부 nearby stays the home one
        (the home country so named still says whose 정부 it is: 한국의 대응은 더뎠다. 정부는 …)."""
        entity = self.lex.entity_named(m.name)
        return entity is not None and entity.kind == "country" and not _STATE_ACTS.match(text[m.end:])

    def _carried(self, idx: int) -> list[Actor]:
        """The actor of the nearest earlier sentence of the paragraph that names one."""
        para = self.sents[idx].paragraph
        for back in range(idx - 1, max(idx - 1 - CARRY_BACK, -1), -1):
            s = self.sents[back]
            if s.paragraph != para or s.headline:
                break
            toks = s.tokens
            spans = quote_spans(toks)
            ents = self.lex.find_entities(s.text)
            targets = self.lex.find_targets(s.text)
            subs = [x for x in subjects(toks, spans) if x.quote == -1 and not _overlaps(toks, x, targets)]
            for subj in sorted(subs, key=lambda x: not x.topic):
                got = resolve(toks, subj, s.text, ents, self.lex, self.v)
                if isinstance(got, list) and got:
                    return got
        return []

    def _valid(self, actor: Actor, target: str) -> bool:
        if actor.name == target or target in self.lex.ancestors(actor.name):
            return False
        if (e := self.lex.entity_named(actor.name)) is not None and e.kind == "product":
            return False  # H20은 … 규제를 피하기 위해 만든 제품: a product holds no stance
        return self.lex.target(actor.text) != target and self.lex.target(actor.name) != target

    def sentence(self, idx: int) -> None:
        s = self.sents[idx]
        targets = self.lex.find_targets(s.text)
        if not targets:
            return
        toks = s.tokens
        for m in targets:
            after = next((k for k, t in enumerate(toks) if t.start >= m.end), len(toks))
            glued = next((s.text[m.end:t.end] for t in toks if t.start < m.end < t.end), "")
            if glued and glued not in _OBJECT_PARTICLES:
                continue  # Kiwi read "엔비디아가" as one noun: the target is the subject, not acted on
            _, np_end = noun_phrase(toks, after)
            inner = [o for o in targets if o is not m and m.end <= o.start < (toks[np_end].start if np_end < len(
                toks) else len(s.text))]
            if inner and not any(t.form in _COORD_TOKENS for t in toks[after:np_end] if t.start < inner[0].start):
                continue  # 엔비디아 H20의 수출: the position is about the more specific target
            topic_before = any(t.tag == "JX" and t.form in ("은", "는") and t.end <= m.start for t in toks)
            ev = read_chain(toks, after, self.v, topic_object=topic_before)
            if ev is None:
                continue
            if ev.fact and any(o is not m and m.end <= o.start and o.end <= toks[min(ev.pred, len(toks) - 1)].start
                               for o in targets):
                continue  # 엔비디아가 H200을 판매하는 것을 허용: the move is about the fact's own object
            actors, rank = self._actors(idx, ev, [m], np_end)
            for a in actors:
                if self._valid(a, m.name):
                    pos = Position(actor=a.name, target=m.name, stance=ev.stance, modality=ev.modality,
                                   sentence=s.text, actor_text=a.text, actor_parent=self.lex.parent_of(a.name))
                    self.found.append(_Found(pos, rank, len(self.found)))

    def positions(self) -> list[Position]:
        for i in range(len(self.sents)):
            self.sentence(i)
        best: dict[tuple[str, str, str], _Found] = {}
        for f in self.found:
            p = f.position
            key = (p.actor, p.target, p.stance.value)
            if key not in best or (f.rank, _MOD_RANK[p.modality]) > (best[key].rank, _MOD_RANK[best[key].position.modality]):
                best[key] = f
        kept = sorted(best.values(), key=lambda f: f.order)
        return [f.position for f in kept if f.rank != RANK_TITLE or not self._covered(f.position, kept)]

    def _covered(self, title: Position, kept: list[_Found]) -> bool:
        """True when the body states a title's position for the same actor or one under it."""
        return any(f.rank != RANK_TITLE and f.position.target == title.target and f.position.stance == title.stance
                   and (f.position.actor == title.actor or title.actor in self.lex.ancestors(f.position.actor)
                        or _country(self.lex, title.actor) in self.lex.ancestors(f.position.actor))
                   for f in kept)


_MOD_RANK = {Modality.DONE: 2, Modality.PLANNED: 1, Modality.CONSIDERING: 0}


def _country(lexicon: Lexicon, name: str) -> str | None:
    ent = lexicon.entity_named(name)
    return ent.parent if ent is not None and ent.kind == "government" else name


def extract_positions(text: str, lexicon: Lexicon) -> list[Position]:
    """Every position toward a watched target in a normalised article text (title on line one)."""
    return _Reader(text, lexicon).positions()
