"""Korean morphology (kiwipiepy), loaded once per process and shared by the claim extractors.

The only ``import kiwipiepy``. Kiwi's model ships inside the ``kiwipiepy_model`` package, so
nothing is downloaded at run time. Loading takes a few seconds; it happens on first use.
Sentences are analysed once: ``split_sentences`` keeps the tokens Kiwi found while splitting, so
a later ``tokenize`` of one of those sentences (by any extractor) is a cache hit.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_lock = threading.Lock()
_cache_lock = threading.Lock()

#: Sentences whose tokens are kept. A few articles' worth: the figure and position extractors
#: read the same sentences one after the other, so a small cache gives nearly every hit.
TOKEN_CACHE_SIZE = 2048


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


_tokens: OrderedDict[str, tuple[Token, ...]] = OrderedDict()


def _remember(text: str, tokens: tuple[Token, ...]) -> None:
    with _cache_lock:
        _tokens[text] = tokens
        _tokens.move_to_end(text)
        while len(_tokens) > TOKEN_CACHE_SIZE:
            _tokens.popitem(last=False)


def tokenize(text: str) -> list[Token]:
    """Morphemes of ``text`` with their tags and character offsets."""
    with _cache_lock:
        hit = _tokens.get(text)
    if hit is None:
        hit = tuple(Token(t.form, t.tag, t.start, t.start + t.len) for t in kiwi().tokenize(text))
        _remember(text, hit)
    return list(hit)


# Kiwi sometimes ends a sentence after the quoted name that opens the next one:
# "…놀라게 했다. ‘딥시크’" + "쪽은 …". The tail after the last full stop belongs to the next sentence.
_STRAY_TAIL = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?P<tail>[^.!?]{1,40})$")


def _line_sentences(line: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for s in kiwi().split_into_sents(line, return_tokens=True):
        _remember(s.text, tuple(Token(t.form, t.tag, t.start - s.start, t.start - s.start + t.len)
                                for t in s.tokens))
        spans.append((s.start, s.end))
    for i in range(len(spans) - 1):
        start, end = spans[i]
        m = _STRAY_TAIL.search(line[start:end])
        if m and not line[end:spans[i + 1][0]].strip():
            cut = start + m.start("tail")
            spans[i], spans[i + 1] = (start, cut), (cut, spans[i + 1][1])
    return [(a, len(line[:b].rstrip())) for a, b in spans if line[a:b].strip()]


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` with character offsets; a line break always ends a sentence."""
    out: list[Sentence] = []
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            for a, b in _line_sentences(line):
                out.append(Sentence(line[a:b], offset + a, offset + b))
        offset += len(line) + 1
    return out
