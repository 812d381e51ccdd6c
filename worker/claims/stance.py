"""The stance vocabulary of ``config/lexicon/stance.yaml``, read once into lookup sets.

``vocab(lexicon)`` gives a frozen ``StanceVocab``; ``lemma(tokens, i)`` gives the dictionary form a
token is listed under (nouns as they stand, verbs and adjectives with 다, 긍정+적 joined), and
``StanceVocab.words(form)`` splits a compound noun into its listed parts (사용금지령 → 사용, 금지).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from worker.claims.lexicon import Lexicon, fold
from worker.claims.morph import Token

VERB_TAGS = frozenset({"VV", "VA", "VX", "XSV", "XSA", "VCP", "VCN", "VV-I", "VV-R", "VA-I", "VA-R", "VX-I",
                       "VX-R", "XSV-I", "XSA-I", "XSA-R", "XSV-R"})
NOUN_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "SL", "SN", "SH", "XR", "NP"})

#: Longest compound part tried when splitting a noun (사용금지령); Korean stance nouns are 1-4 syllables.
MAX_PART = 5


def _words(raw: Any) -> frozenset[str]:
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(fold(str(w)) for w in raw if str(w).strip())


@dataclass(frozen=True)
class StanceVocab:
    support: frozenset[str]
    oppose: frozenset[str]
    neutral: frozenset[str]
    void: frozenset[str]
    use: frozenset[str]
    light_nouns: frozenset[str]
    light_verbs: frozenset[str]
    noun_suffixes: frozenset[str]
    planned: frozenset[str]
    considering: frozenset[str]
    forecast: frozenset[str]
    reporting: frozenset[str]
    eval_support: frozenset[str]
    eval_oppose: frozenset[str]
    neg_aux: frozenset[str]
    neg_adverbs: frozenset[str]
    neg_nouns: frozenset[str]
    neg_after_su: frozenset[str]
    background: frozenset[str]
    roles: frozenset[str]
    groups: frozenset[str]
    non_actors: frozenset[str]
    pronouns: frozenset[str]
    org_suffixes: tuple[str, ...]
    org_words: frozenset[str] = frozenset()

    @property
    def polar(self) -> frozenset[str]:
        return self.support | self.oppose | self.use

    def known(self, word: str) -> bool:
        """True when ``word`` is a stance, use, neutral, void, light or modality word."""
        return word in self.polar or word in self.neutral or word in self.void or word in self.light_nouns \
            or word in self.planned or word in self.considering

    def words(self, form: str) -> list[str]:
        """The listed words a noun form is made of (금지령 → [금지]); [] when it is not one of them."""
        form = fold(form)
        if self.known(form):
            return [form]
        out: list[str] = []
        i = 0
        while i < len(form):
            for j in range(min(len(form), i + MAX_PART), i, -1):
                part = form[i:j]
                if self.known(part) or (out and part in self.noun_suffixes):
                    if self.known(part):
                        out.append(part)
                    i = j
                    break
            else:
                return []
        return out


_cache: dict[int, tuple[dict[str, Any], StanceVocab]] = {}
_lock = threading.Lock()


def vocab(lexicon: Lexicon) -> StanceVocab:
    """The ``StanceVocab`` of ``lexicon.stance``, built once per loaded lexicon."""
    raw = lexicon.stance
    hit = _cache.get(id(raw))
    if hit is not None and hit[0] is raw:
        return hit[1]
    ev = raw.get("evaluative") or {}
    neg = raw.get("negation") or {}
    built = StanceVocab(
        support=_words(raw.get("support")), oppose=_words(raw.get("oppose")),
        neutral=_words(raw.get("neutral")), void=_words(raw.get("void")), use=_words(raw.get("use")),
        light_nouns=_words(raw.get("light_nouns")), light_verbs=_words(raw.get("light_verbs")),
        noun_suffixes=_words(raw.get("noun_suffixes")), planned=_words(raw.get("planned")),
        considering=_words(raw.get("considering")), forecast=_words(raw.get("forecast")),
        reporting=_words(raw.get("reporting_verbs")), eval_support=_words(ev.get("support")),
        eval_oppose=_words(ev.get("oppose")), neg_aux=_words(neg.get("auxiliaries")),
        neg_adverbs=_words(neg.get("adverbs")), neg_nouns=_words(neg.get("nouns")),
        neg_after_su=_words(neg.get("after_su")), background=_words(raw.get("background_endings")),
        roles=_words(raw.get("role_nouns")), groups=_words(raw.get("group_nouns")),
        non_actors=_words(raw.get("non_actors")), pronouns=_words(raw.get("pronouns")),
        org_suffixes=tuple(sorted(_words(raw.get("org_suffixes")), key=len, reverse=True)),
        org_words=_words(raw.get("org_words")))
    with _lock:
        _cache[id(raw)] = (raw, built)
    return built


def lemma(tokens: list[Token], i: int) -> str:
    """The listed form of token ``i``: verbs with 다 (막 → 막다), 긍정+적 → 긍정적, else the form."""
    t = tokens[i]
    if t.tag in VERB_TAGS:
        return fold(t.form) + "다"
    if i + 1 < len(tokens) and tokens[i + 1].form == "적" and tokens[i + 1].tag == "XSN":
        return fold(t.form) + "적"
    return fold(t.form)


def is_noun(t: Token) -> bool:
    return t.tag in NOUN_TAGS or t.tag in ("XSN", "XPN")


def is_verb(t: Token) -> bool:
    return t.tag in VERB_TAGS
