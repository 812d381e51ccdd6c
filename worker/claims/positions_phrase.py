"""The noun phrase of a target mention: the nouns it heads, read rightwards from the mention.

``noun_phrase(tokens, i)`` joins what Korean writes between a target and the particle that gives its role:
의 (딥시크 앱의 신규 다운로드), an adjective after 의 (AI 기본법의 즉각적인 시행), 와 before a noun, 에 대한,
a quoted name (칩 'RTX 프로 6000D'의 주문), "와 같은" and "등" with a relative clause (딥시크 등 보안 검증을
거치지 않은 중국산 AI 서비스: the target is one of the services).
"""
from __future__ import annotations

from worker.claims.morph import Token
from worker.claims.positions_tokens import PARENS, QUOTE_OPEN, quoted_name, skip_group
from worker.claims.stance import is_noun, is_verb

TRANSPARENT_VERBS = {"대하", "관하", "대상"}  # 에 대해, 에 관한: the target stays the complement
#: "X 등 Y": X is one of the Ys.
EXAMPLE = "등"
#: Longest relative clause passed over between "X 등" and the noun it gives an example of, in tokens
#: (보안 검증을 거치지 않은: 6); a longer span is a clause of its own, not a modifier.
MAX_EXAMPLE_CLAUSE = 10
_CLAUSE_TAGS = ("NN", "SL", "SN", "XSN", "XPN", "JKO", "JKB", "JKS", "JKG", "VV", "VA", "VX", "XSV", "XSA", "EP",
                "MAG", "VCP", "XR")


def noun_phrase(tokens: list[Token], i: int) -> tuple[list[int], int]:
    """Noun indices of the phrase starting at ``i`` (의, 와, 에 대한 joined) and the index after it."""
    nouns: list[int] = []
    n, start = len(tokens), i
    while i < n:
        t = tokens[i]
        if t.form in PARENS:
            i = skip_group(tokens, i)
        elif t.tag == "SSC" and t.form not in PARENS.values() and i == start:
            i += 1  # the closing quote around a name: ‘딥시크’가
        elif t.form == EXAMPLE and t.tag == "NNB" and (head := _example_of(tokens, i + 1)) is not None:
            nouns.append(i)
            i = head  # 딥시크 등 (보안 검증을 거치지 않은) 중국산 AI 서비스: the target is an example of the head
        elif is_noun(t) or (t.tag == "SP" and t.form in "·ㆍ‧/"):
            if is_noun(t):
                nouns.append(i)
            i += 1
        elif t.tag == "JKG":
            i = _past_modifier(tokens, i + 1)  # AI 기본법의 (즉각적인) 시행
        elif t.tag == "SSO" and t.form in QUOTE_OPEN and (end := quoted_name(tokens, i)) is not None:
            nouns.extend(k for k in range(i + 1, end) if is_noun(tokens[k]))
            i = end  # 칩 'RTX 프로 6000D'의 주문: a quoted name inside the phrase
        elif t.form in ("에", "에게") and i + 1 < n and tokens[i + 1].form in TRANSPARENT_VERBS:
            i += 2
            while i < n and tokens[i].tag in ("EC", "ETM", "JX"):
                i += 1
        elif t.form in ("와", "과") and t.tag in ("JKB", "JC") and i + 1 < n:
            nxt = tokens[i + 1]
            if nxt.form == "같" and i + 2 < n and tokens[i + 2].tag == "ETM":
                i += 3  # 딥시크와 같은 중국산 AI: the target is an example of the phrase
            elif is_noun(nxt):
                i += 1
            else:
                break
        else:
            break
    return nouns, i


def _past_modifier(tokens: list[Token], i: int) -> int:
    """After a 의, the index past an adjective modifying the next noun (즉각적인, 온전한, 조속한), else ``i``."""
    j, n = i, len(tokens)
    while j < n and j - i < 3 and tokens[j].tag in ("MAG", "XR", "XSN"):
        j += 1
    if j < n and tokens[j].tag.startswith(("VA", "VCP", "XSA")) and j + 2 < n and tokens[j + 1].tag == "ETM" \
            and is_noun(tokens[j + 2]) and (j > i or tokens[j].tag.startswith("VA")):
        return j + 2
    return i


def _example_of(tokens: list[Token], i: int) -> int | None:
    """After "X 등", the index of the noun a relative clause modifies (보안 검증을 거치지 않은 [서비스]),
    when one follows before the clause ends; None when the phrase goes on plainly or no such clause."""
    n = len(tokens)
    if i >= n or tokens[i].tag.startswith("J") or not is_noun(tokens[i]):
        return None
    for k in range(i, min(n - 1, i + MAX_EXAMPLE_CLAUSE)):
        t = tokens[k]
        if t.tag == "ETM":
            return k + 1 if k > i and is_noun(tokens[k + 1]) and any(is_verb(x) for x in tokens[i:k]) else None
        if t.tag == "EC" and t.form == "지" and k + 1 < n and tokens[k + 1].tag.startswith("VX"):
            continue  # 거치지 않은
        if not t.tag.startswith(_CLAUSE_TAGS):
            return None
    return None
