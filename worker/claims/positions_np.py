"""Actors: the subject noun phrases of a sentence and the actors they name.

``subjects(tokens)`` finds the phrases marked as subject or topic (외교부·국방부·산업부가, 인도 정부는,
리우 빈싱 알리바바 클라우드 … 부사장은); ``resolve(...)`` splits a phrase into its coordinated members and
turns each into an ``Actor``: a canonical entity of the lexicon (aliases folded, a country read as its
government), the organisation a role noun speaks for, or an unknown proper name as written.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from worker.claims.lexicon import Lexicon, Mention, fold
from worker.claims.morph import Token
from worker.claims.positions_tokens import PARENS, QUOTE_OPEN
from worker.claims.stance import StanceVocab, is_noun

COORD = {"·", "ㆍ", "‧", ",", "및", "등", "와", "과", "/"}
#: Nouns that close a clause after an adnominal ending (…을 앞둔 가운데, …한 뒤, …하는 동안).
CLAUSE_NOUNS = {"가운데", "와중", "뒤", "후", "동안", "사이", "만큼", "이후", "직후", "끝", "속", "때", "중"}
SUBJECT_JX = {"은", "는", "도"}
#: Longest unknown actor phrase kept as written, in tokens; longer ones are descriptions, not names.
MAX_UNKNOWN_TOKENS = 4
#: Syllables of a lone common-noun subject Kiwi does not know (크래프톤) before it is read as a name:
#: the generic subjects of news (정부, 업계, 학교, 직원) are mostly two syllables.
MIN_UNKNOWN_NOUN = 3


@dataclass(frozen=True)
class Subject:
    start: int  # first token of the phrase
    end: int  # the particle's index (one past the phrase)
    topic: bool  # 은/는 (scopes over the sentence) rather than 이/가
    quote: int  # index of the quote span holding it, -1 when outside quotes


@dataclass(frozen=True)
class Actor:
    name: str  # canonical
    text: str  # as written


def quote_spans(tokens: list[Token]) -> list[tuple[int, int]]:
    """Token spans (open, close) of the quotations of a sentence."""
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    for i, t in enumerate(tokens):
        if t.form in PARENS or t.form in PARENS.values():
            continue
        if open_at is None and (t.tag == "SSO" or (t.form in QUOTE_OPEN and t.tag.startswith("S"))):
            open_at = i
        elif open_at is not None and t.tag in ("SSC", "SSO") and (t.tag == "SSC" or t.form in "\"'"):
            spans.append((open_at, i))
            open_at = None
    return spans


def in_quote(i: int, spans: list[tuple[int, int]]) -> int:
    return next((q for q, (a, b) in enumerate(spans) if a < i < b), -1)


def np_start(tokens: list[Token], end: int) -> int:
    """First token of the noun phrase that ends just before ``end``, walking back."""
    i = end - 1
    start = end
    while i >= 0:
        t = tokens[i]
        if t.form in PARENS.values():
            depth = 0
            while i >= 0:  # a parenthesis: (Donald Trump)
                depth += tokens[i].form in PARENS.values()
                depth -= tokens[i].form in PARENS
                if depth == 0:
                    break
                i -= 1
            i -= 1
            continue
        if is_noun(t):
            if start < end and i > 0 and tokens[i - 1].tag == "ETM" and t.form in CLAUSE_NOUNS:
                break  # 공개를 앞둔 가운데 (정부가): the noun that ends a clause, not part of the name
            start = i
        elif t.tag in ("SSO", "SSC") and t.form not in PARENS:
            pass  # quote marks around a name
        elif start < end and (t.form in COORD and t.tag in ("SP", "JC", "JKB", "MAJ", "NNB")):
            pass
        else:
            break
        i -= 1
    while start < end and tokens[start].tag in ("SP", "JC", "JKB", "MAJ", "SSC"):
        start += 1
    return start


def subjects(tokens: list[Token], spans: list[tuple[int, int]], headline: bool = False) -> list[Subject]:
    """The subject and topic phrases of a sentence, left to right."""
    out: list[Subject] = []
    for i, t in enumerate(tokens):
        marker = t.tag == "JKS" or (t.tag == "JX" and t.form in SUBJECT_JX)
        if not marker and headline and i > 0 and (t.form == "," or t.tag == "SSO") \
                and not any(x.tag.startswith(("J", "E", "V")) for x in tokens[:i]):
            marker = True  # a headline's actor: "개인정보위, 딥시크 …", "인도·러시아 “…”"
        if not marker or i == 0 or not (is_noun(tokens[i - 1]) or tokens[i - 1].tag == "SSC"):
            continue
        start = np_start(tokens, i)
        if start < i:
            out.append(Subject(start, i, t.tag == "JX" or not t.tag.startswith("J"), in_quote(i, spans)))
    return out


def _members(tokens: list[Token], start: int, end: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    a = start
    depth = 0
    for i in range(start, end):
        f = tokens[i].form
        depth += (f in PARENS) - (f in PARENS.values())
        if depth == 0 and f in COORD and tokens[i].tag in ("SP", "JC", "JKB", "MAJ", "NNB"):
            if a < i:
                out.append((a, i))
            a = i + 1
    if a < end:
        out.append((a, end))
    return out


_gov_cache: dict[int, tuple[object, dict[str, str]]] = {}
_lock = threading.Lock()


def _governments(lexicon: Lexicon) -> dict[str, str]:
    """Country → its government entity (인도 → 인도 정부): a country acts through its government."""
    hit = _gov_cache.get(id(lexicon.entities))
    if hit is not None and hit[0] is lexicon.entities:
        return hit[1]
    gov = {e.parent: e.name for e in lexicon.entities if e.kind == "government" and e.parent}
    with _lock:
        _gov_cache[id(lexicon.entities)] = (lexicon.entities, gov)
    return gov


def _head(tokens: list[Token], a: int, b: int) -> int | None:
    depth = 0
    head = None
    for i in range(a, b):
        f = tokens[i].form
        depth += (f in PARENS) - (f in PARENS.values())
        if depth == 0 and is_noun(tokens[i]) and tokens[i].tag not in ("XSN",):
            head = i
    return head


def _member(tokens: list[Token], a: int, b: int, sentence: str, mentions: list[Mention], lexicon: Lexicon,
            vocab: StanceVocab) -> Actor | str | None:
    """The actor a member names; "group" when it names a group, "pronoun" for 그는, else None."""
    head = _head(tokens, a, b)
    if head is None:
        return None
    cs, ce = tokens[a].start, tokens[b - 1].end
    text = sentence[cs:ce].strip(" ‘’“”'\"")
    hw = fold(tokens[head].form)
    if fold(text) in vocab.pronouns or hw in vocab.pronouns and head == a:
        return "pronoun"
    hs, he = tokens[head].start, tokens[head].end
    inside = [m for m in mentions if m.start >= cs and m.end <= ce
              and not (hs <= m.start and m.end < he)]  # 한국수력원자력 is not 한국
    if fold(text) in vocab.non_actors or fold(text).removesuffix("들") in vocab.non_actors:
        return None
    gov = _governments(lexicon)

    def actor(m: Mention) -> Actor:
        ent = lexicon.entity_named(m.name)
        name = gov.get(m.name, m.name) if ent is not None and ent.kind == "country" else m.name
        return Actor(name, text)

    if inside:
        last = max(inside, key=lambda m: m.end)
        if last.end >= tokens[head].end and last.start <= tokens[head].start:
            return actor(last)
        if hw in ("정부", "당국") and (e := lexicon.entity_named(last.name)) and e.kind == "country":
            return actor(last)  # 영국 정부, with no government entity of its own: the country
        if hw in vocab.roles:
            people = [m for m in inside if (e := lexicon.entity_named(m.name)) and e.kind == "person"]
            return actor(people[-1] if people else last)
        if hw.removesuffix("들") in vocab.groups:
            return "group"
        if all((e := lexicon.entity_named(m.name)) and e.kind in ("country", "government", "local") for m in inside) \
                and _proper(tokens, a, head, vocab) and head - a <= MAX_UNKNOWN_TOKENS and not lexicon.find_targets(text):
            name = _name(text)
            return Actor(name, text)  # 중국 국가인터넷정보판공실: an organisation the lexicon does not hold, of a known state
        return None
    if hw in vocab.roles:
        names = [i for i in range(a, head) if tokens[i].tag == "NNP"]
        return Actor(text, text) if names and hw not in vocab.non_actors else None
    if hw.removesuffix("들") in vocab.groups or hw in vocab.non_actors:
        return "group" if hw.removesuffix("들") in vocab.groups else None
    company = head > a and tokens[a].tag in ("NNP", "SL") and hw in vocab.org_words  # 도요타 자동차
    proper = company or _proper(tokens, a, head, vocab) \
        or (head == a and len(hw) >= MIN_UNKNOWN_NOUN and not vocab.words(hw))
    if proper and head - a < MAX_UNKNOWN_TOKENS and not lexicon.find_targets(text):
        return Actor(text, text)
    return None


def _proper(tokens: list[Token], a: int, head: int, vocab: StanceVocab) -> bool:
    """True when the head of a member is a name: a proper noun, Latin letters, or an organisation's
    ending (…위원회, …판공실, 참여연대 read as 참여 + 연대)."""
    hw = fold(tokens[head].form)
    word = fold(_glued_word(tokens, a, head))
    return tokens[head].tag in ("NNP", "SL") or any(w.endswith(s) and len(w) > len(s) + 1
                                                     for s in vocab.org_suffixes for w in {hw, word})


def _name(text: str) -> str:
    """An actor's name as written, without the parenthesis of an abbreviation (판공실(CAC))."""
    return " ".join(re.sub(r"\s*\([^()]*\)", "", text).split()) or text


def _glued_word(tokens: list[Token], a: int, head: int) -> str:
    """The head noun with the nouns written together with it before it (참여+연대 → 참여연대,
    공업+정보+화+부 → 공업정보화부)."""
    k = head
    while k > a and tokens[k - 1].end == tokens[k].start and tokens[k - 1].tag in ("NNG", "NNP", "XSN"):
        k -= 1
    return "".join(t.form for t in tokens[k:head + 1])


#: Longest relative clause between "A, B 등" and the group it lists (중국에 생산 거점을 둔: 7 tokens).
MAX_LISTED_CLAUSE = 10


def _enumeration(tokens: list[Token], start: int) -> tuple[int, int] | None:
    """The list before "와 같은 [기업들]" (화웨이, 텐센트와 같은 중국 기업들) or before "등" and a relative
    clause (삼성전자와 SK하이닉스 등 중국에 공장을 둔 [기업들]): its token span."""
    if start >= 3 and tokens[start - 1].tag == "ETM" and tokens[start - 2].form == "같" \
            and tokens[start - 3].form in ("와", "과"):
        a = np_start(tokens, start - 3)
        if a < start - 3:
            return a, start - 3
    if start >= 2 and tokens[start - 1].tag == "ETM":
        for k in range(start - 2, max(start - 2 - MAX_LISTED_CLAUSE, 0), -1):
            t = tokens[k]
            if t.form == "등" and t.tag == "NNB":
                a = np_start(tokens, k)
                return (a, k) if a < k and is_noun(tokens[k + 1]) else None
            if t.tag in ("EF", "SF", "SSO", "SSC") or (t.tag == "JX" and t.form in SUBJECT_JX) \
                    or (t.tag == "EC" and t.form != "지"):
                return None  # the clause began earlier: no list of its own
    return None


def resolve(tokens: list[Token], subj: Subject, sentence: str, mentions: list[Mention], lexicon: Lexicon,
            vocab: StanceVocab, known_only: bool = False) -> list[Actor] | str:
    """The actors a subject phrase names ([] when none); "pronoun" when it is 그는, 이 회사는."""
    spans = _members(tokens, subj.start, subj.end)
    if len(spans) > 1 and tokens[spans[-1][0] - 1].form == "등":
        spans = spans[:-1]  # 한수원과 한전 등 공기업: the noun after 등 names the kind, not one more actor
    got = [_member(tokens, a, b, sentence, mentions, lexicon, vocab) for a, b in spans]
    if got and got[0] == "pronoun":
        return "pronoun"
    actors = [g for g in got if isinstance(g, Actor)]
    if not actors and "group" in got:
        enum = _enumeration(tokens, subj.start)
        if enum:
            sub = [_member(tokens, a, b, sentence, mentions, lexicon, vocab) for a, b in _members(tokens, *enum)]
            actors = [g for g in sub if isinstance(g, Actor)]
    if known_only:
        actors = [x for x in actors if lexicon.entity_named(x.name)]
    seen: set[str] = set()
    return [x for x in actors if not (x.name in seen or seen.add(x.name))]  # type: ignore[func-returns-value]
