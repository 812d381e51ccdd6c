"""Token-walking helpers shared by the position readers: groups, the next verb, a predicate's word."""
from __future__ import annotations

from worker.claims.lexicon import fold
from worker.claims.morph import Token
from worker.claims.stance import is_verb, lemma

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
