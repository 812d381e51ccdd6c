"""Korean morphology (kiwipiepy), loaded once per process and shared by the claim extractors.

The only ``import kiwipiepy``. Kiwi's model ships inside the ``kiwipiepy_model`` package, so
nothing is downloaded at run time. Loading takes a few seconds; it happens on first use.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_lock = threading.Lock()


@dataclass(frozen=True)
class Token:
    form: str
    tag: str  # Sejong-style tag: NNG, NNP, SN, NR, JX, VV, ...
    start: int  # character offset in the analysed text
    end: int


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def kiwi() -> Any:
    """The shared Kiwi analyser (thread-safe construction)."""
    with _lock:
        from kiwipiepy import Kiwi
        return Kiwi()


def tokenize(text: str) -> list[Token]:
    """Morphemes of ``text`` with their tags and character offsets."""
    return [Token(t.form, t.tag, t.start, t.start + t.len) for t in kiwi().tokenize(text)]


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` with character offsets (Kiwi's splitter)."""
    return [Sentence(s.text, s.start, s.end) for s in kiwi().split_into_sents(text)]
