"""Noun phrases of a sentence from its morphemes: the words a figure's subject and metric come from.

A ``Chunk`` is a run of nouns (``중국 신생 기업 ‘딥시크’``, ``유럽연합(EU)``, ``R&D 예산``) with
the particles that follow it (``은``, ``이``, ``의``, ``과의``). Amount spans break chunks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from worker.claims.morph import Token

_NOUN = {"NNG", "NNP", "NNB", "SL", "SH", "SN", "XSN", "XPN", "XR"}
_LINK = {"SW", "SO"}  # &, ·, - inside a name: R&D, 미국·중국, GPT-5
_QUOTE_OPEN = set("‘“'\"「『《〈")
_QUOTE_CLOSE = set("’”'\"」』》〉")
_PARTICLE = {"JKS", "JKC", "JKG", "JKO", "JKB", "JKV", "JKQ", "JX", "JC"}

TOPIC = frozenset({"은", "는", "도", "은는", "에서는", "께서는", "로서는", "으로서는"})
SUBJECT = frozenset({"이", "가", "께서", "에서"})
GENITIVE = "의"
#: Words that open a noun run but only say when: they never name a subject or a metric.
TIME_WORDS = frozenset({"올해", "올", "지난해", "작년", "재작년", "내년", "금년", "전년", "전년도", "최근", "현재", "당시", "이번", "지난달",
                        "이달", "이날", "오늘", "어제", "지금", "그동안", "첫해", "이듬해", "당해", "연내", "전", "후", "뒤", "향후", "앞서", "그간", "당초", "대부분", "각각", "모두",
                        "전체", "가운데", "중", "등", "또", "이후", "이전", "한편", "동안", "해", "데", "바", "것",
                        "때", "점", "지", "뿐", "만큼", "측면", "이상", "이하", "미만", "초과", "새", "사이",
                        "주", "달", "달간", "분기", "반기", "상반기", "하반기", "말", "초", "연말", "연초", "기간", "시점"})

#: Sentence adverbs Kiwi may take into a noun run (반면 코리아스타트업포럼은): never part of a name.
CONNECTIVES = frozenset({"반면", "한편", "또한", "특히", "다만", "또", "이에", "이어", "결국", "실제로", "대신", "아울러",
                         "그러나", "하지만", "따라서", "게다가", "반대로", "역시"})


@dataclass(frozen=True)
class Chunk:
    start: int  # character offsets in the sentence (nouns only, particles excluded)
    end: int
    text: str  # as written, parentheses and quotes included
    particle: str  # the particles that follow, joined (은, 이, 의, 과의, ...), or ""
    particle_end: int  # just after the particles
    before_verb: bool  # a verbal noun: 증액(하다), 개선(되다)

    @cached_property
    def words(self) -> str:
        """The chunk without parentheses, quotes, plural 들 and leading time words."""
        text = _PARENS.sub("", self.text)
        text = _QUOTES.sub("", text)
        text = _PLURAL.sub("", " ".join(text.split()))
        parts = text.split()
        if "등" in parts[:-1]:  # 미국·중국 갈등 등 글로벌 보호무역주의 강화: the list ends at 등
            parts = parts[len(parts) - parts[::-1].index("등"):]
        while len(parts) > 1 and (parts[0] in TIME_WORDS or parts[0] in CONNECTIVES):
            parts = parts[1:]
        return " ".join(parts)


def chunks(sentence: str, tokens: list[Token], blocked: list[tuple[int, int]]) -> list[Chunk]:
    """The noun chunks of ``sentence``; character ranges in ``blocked`` (amounts) are never inside one."""
    def is_blocked(t: Token) -> bool:
        return any(a <= t.start < b for a, b in blocked)

    out: list[Chunk] = []
    i, n = 0, len(tokens)
    while i < n:
        t = tokens[i]
        glued = _tag(t) == "MM" and i + 1 < n and tokens[i + 1].start == t.end and _tag(tokens[i + 1]) in _NOUN \
            and not is_blocked(tokens[i + 1])  # 수율 read as 수(MM) + 율(XSN): one noun
        if (_tag(t) not in _NOUN or _tag(t) == "XSN" or is_blocked(t) or t.end <= t.start) and not glued:
            i += 1
            continue
        start, end, j = t.start, t.end, i + 1
        if glued:
            end, j = tokens[i + 1].end, i + 2
        word_start = _word_start(sentence, start)
        if word_start < start and _HANGUL_RUN.fullmatch(sentence[word_start:start]) \
                and not any(a < start and b > word_start for a, b in blocked):
            start = word_start  # 우아한형제들, 순증: Kiwi split one word into an adnominal and a noun
            while out and out[-1].start >= start:
                out.pop()
        while j < n:
            u = tokens[j]
            tag = _tag(u)
            if is_blocked(u):
                break
            if tag in _NOUN and u.end > u.start:
                end, j = u.end, j + 1
            elif tag in ("MM", "XPN") and j + 1 < n and tokens[j + 1].start == u.end and _tag(tokens[j + 1]) in _NOUN \
                    and not is_blocked(tokens[j + 1]):
                end, j = tokens[j + 1].end, j + 2  # 가입자 순증: a prefix glued to the next noun
            elif (tag in _LINK or u.form in _QUOTE_OPEN or u.form in _QUOTE_CLOSE) and j + 1 < n:
                j += 1
                if u.form in _QUOTE_CLOSE:
                    end = u.end
            elif u.form == "(":
                close = _closing(tokens, j)
                if close is None or any(is_blocked(tokens[k]) for k in range(j, close + 1)):
                    break
                end, j = tokens[close].end, close + 1
            else:
                break
        while j < n and tokens[j].form in _QUOTE_CLOSE:
            j += 1
        particle, p_end, k = "", end, j
        while k < n and _tag(tokens[k]) in _PARTICLE:
            particle += tokens[k].form
            p_end = tokens[k].end
            k += 1
        before_verb = k < n and _tag(tokens[k]) in ("XSV", "XSA") and not particle
        if k < n and not particle and _tag(tokens[k]) == "VCP" and k + 1 < n and _tag(tokens[k + 1]) == "ETM":
            particle = "인"  # 칩인 H100: apposition, not a particle of its own
        out.append(Chunk(start, end, sentence[start:end], particle, p_end, before_verb))
        i = max(j, i + 1)
    return out


_HANGUL_RUN = re.compile(r"[가-힣]+")
_PARENS = re.compile(r"\([^()]*\)")
_QUOTES = re.compile(r"[‘’“”'\"「」『』《》〈〉]")
_PLURAL = re.compile(r"들$")


def _word_start(sentence: str, pos: int) -> int:
    """Where the space-delimited word holding ``pos`` starts."""
    k = pos
    while k > 0 and not sentence[k - 1].isspace() and sentence[k - 1] not in "(‘“'\"「『《〈·,":
        k -= 1
    return k


def _tag(t: Token) -> str:
    return t.tag.split("-")[0]


def _closing(tokens: list[Token], i: int) -> int | None:
    depth = 0
    for k in range(i, min(len(tokens), i + 40)):
        if tokens[k].form == "(":
            depth += 1
        elif tokens[k].form == ")":
            depth -= 1
            if depth == 0:
                return k
    return None


def genitive_modifiers(chs: list[Chunk], index: int, sentence: str) -> list[Chunk]:
    """The chunks tied to ``chs[index]`` by 의 (한국의 기술 수준: 한국), nearest first."""
    out: list[Chunk] = []
    k = index - 1
    while k >= 0 and chs[k].particle == GENITIVE and not sentence[chs[k].particle_end:chs[k + 1].start].strip():
        out.append(chs[k])
        k -= 1
    return out
