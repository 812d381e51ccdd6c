"""Token-walking helpers shared by the position readers: groups, the next verb, a predicate's word."""
from __future__ import annotations

from worker.claims.lexicon import fold
from worker.claims.morph import Token
from worker.claims.stance import is_noun, is_verb, lemma

PARENS = {"(": ")", "[": "]", "{": "}", "<": ">", "〈": "〉", "《": "》"}
QUOTE_OPEN = set("“‘「『\"'")


def skip_group(tokens: list[Token], i: int) -> int:
    """Index after the bracketed or quoted group opening at ``i``."""
    opener = tokens[i].form
    closer = PARENS.get(opener)
    depth = 0
    for k in range(i, len(tokens)):
        f = tokens[k].form
        if closer is None and tokens[k].tag == "SSC" and k > i:
            return k + 1
        if f == opener:
            depth += 1
        elif f == closer:
            depth -= 1
            if depth == 0:
                return k + 1
    return len(tokens)


def next_verb(tokens: list[Token], k: int) -> int | None:
    for m in range(k, len(tokens)):
        if is_verb(tokens[m]) and tokens[m].tag != "VCP":
            return m
        if tokens[m].tag in ("SF",):
            return None
    return None


def pred_word(tokens: list[Token], m: int) -> str:
    """The listed word of the predicate at ``m``: the noun of 차단하다, else the verb (막다)."""
    if tokens[m].tag.startswith(("XSV", "XSA")) and m > 0:
        return fold(tokens[m - 1].form)
    return lemma(tokens, m)


def quoted_name(tokens: list[Token], i: int) -> int | None:
    """The index after a quoted name opening at ``i`` (nouns, numbers, marks only) when the noun
    phrase goes on after it (a noun or a case particle, not a quotative); else None."""
    end = skip_group(tokens, i)
    if end >= len(tokens) or end - i < 3:
        return None
    inside = tokens[i + 1:end - 1]
    if not all(is_noun(t) or t.tag in ("SN", "SL", "SW", "SP", "SO") for t in inside):
        return None
    nxt = tokens[end]
    return end if is_noun(nxt) or (nxt.tag.startswith("J") and nxt.tag != "JKQ") else None
