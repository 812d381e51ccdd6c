"""The word lists of ``config/``: entities, watched targets, topics, metrics and stance words.

``load_lexicon(config_dir)`` reads ``watchlist.yaml`` and every file of ``lexicon/`` once and
returns a frozen ``Lexicon`` that resolves aliases to canonical names and finds mentions in text.
Matching folds Unicode (NFC, full-width), Latin case and spaces, and is careful with short
aliases: a one-syllable alias (美, 中, 미) or a Latin one (US, MS) only matches as a word of its
own, never inside another word.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from worker.errors import ConfigError
from worker.settings import read_yaml


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """The form aliases are compared in: NFKC, lower case, no white space, unified middle dots."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACES.sub("", text.replace("ㆍ", "·").replace("‧", "·"))


_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Entity:
    name: str
    kind: str = "org"
    aliases: tuple[str, ...] = ()
    parent: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Target:
    name: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Metric:
    name: str
    synonyms: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    name: str  # canonical


_LATIN_ALIAS = re.compile(r"[0-9A-Za-z&.\-]+")
#: Texts whose mentions are remembered per finder: the extractors ask about the same noun chunks
#: again and again (about half the calls of an article repeat an earlier one).
FIND_CACHE_SIZE = 4096


def _alias_branch(alias: str) -> tuple[str, str]:
    """An alias as (its first character, a regex for the rest): spaces optional, and word
    boundaries for short or Latin aliases, written as look-behinds that include the first character
    so that every alternative of the finder starts with a plain character."""
    chars = [ch for ch in alias if not ch.isspace()]
    first = re.escape(chars[0])
    tail = "".join(r"\s*" + re.escape(ch) for ch in chars[1:])
    if _LATIN_ALIAS.fullmatch(alias):
        return chars[0], rf"(?<![0-9A-Za-z]{first}){tail}(?![0-9A-Za-z])"
    if len(alias) == 1:
        # 美, 中, 韓, 日, 미: only before a space, a middle dot or punctuation, never inside a word
        return chars[0], rf"(?<![가-힣一-鿿]{first})(?=[\s·ㆍ,\-‧/]|$)"
    if alias[0].isascii() and alias[0].isalpha():
        return chars[0], rf"(?<![A-Za-z]{first}){tail}"
    return chars[0], tail


def _alternation(groups: dict[str, list[str]], cased: bool) -> re.Pattern[str] | None:
    """One regex over the grouped alternatives, shaped so that the regex engine can skip every
    position whose character starts no alias: uncased first characters (Hangul, CJK, digits) as
    literals; cased ones behind a leading character class, since under IGNORECASE the engine only
    builds its first-character index from a class or from uncased literals."""
    if not groups:
        return None
    if not cased:
        return re.compile("|".join(re.escape(k) + "(?:" + "|".join(t) + ")" for k, t in groups.items()),
                          re.IGNORECASE)
    heads = "".join(re.escape(k) + re.escape(k.upper()) for k in groups)
    body = "|".join(f"(?<=[{re.escape(k)}{re.escape(k.upper())}])(?:" + "|".join(t) + ")"
                    for k, t in groups.items())
    return re.compile(f"[{heads}](?:{body})", re.IGNORECASE)


class _Finder:
    """Finds the longest, leftmost mentions of many aliases in a text.

    Semantics of one alternation of all aliases, longest first, scanned left to right (the first
    alias that matches at a position wins; the scan goes on after it). Only aliases sharing their
    first character can compete at a position, so the alternatives are grouped by that character
    (keeping their order inside a group), and the groups are split in two regexes, those starting
    with an uncased and with a cased character, whose matches are merged in text order.
    """

    def __init__(self, names: dict[str, tuple[str, ...]]) -> None:
        self._canon: dict[str, str] = {}
        aliases: list[str] = []
        for canonical, forms in names.items():
            for form in forms:
                key = fold(form)
                if key and key not in self._canon:
                    self._canon[key] = canonical
                    aliases.append(form)
        aliases.sort(key=lambda a: len(fold(a)), reverse=True)
        uncased: dict[str, list[str]] = {}
        cased: dict[str, list[str]] = {}
        for alias in aliases:
            first, tail = _alias_branch(alias)
            key = first.lower()
            (cased if key != key.upper() or first != key else uncased).setdefault(key, []).append(tail)
        self._patterns = tuple(p for p in (_alternation(uncased, False), _alternation(cased, True)) if p)
        self._cache: OrderedDict[str, tuple[Mention, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, text: str) -> str | None:
        return self._canon.get(fold(text))

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def find(self, text: str) -> list[Mention]:
        with self._lock:
            hit = self._cache.get(text)
        if hit is None:
            hit = tuple(self._scan(text))
            with self._lock:
                self._cache[text] = hit
                while len(self._cache) > FIND_CACHE_SIZE:
                    self._cache.popitem(last=False)
        return list(hit)

    def _scan(self, text: str) -> list[Mention]:
        out: list[Mention] = []
        patterns = list(self._patterns)
        nxt: list[re.Match[str] | None] = [None] * len(patterns)
        pos = 0
        while patterns:
            for i, p in enumerate(patterns):  # the next match of each regex at or after pos
                m = nxt[i]
                if m is None or m.start() < pos:
                    nxt[i] = p.search(text, pos)
            live = [(m, p) for m, p in zip(nxt, patterns) if m is not None]
            if not live:
                break
            patterns = [p for _, p in live]
            nxt = [m for m, _ in live]
            m = min(nxt, key=lambda x: x.start())  # type: ignore[union-attr]
            assert m is not None
            name = self._canon.get(fold(m.group(0)))
            if name:
                out.append(Mention(m.start(), m.end(), m.group(0), name))
            pos = max(m.end(), m.start() + 1)
        return out


@dataclass(frozen=True)
class Lexicon:
    entities: tuple[Entity, ...] = ()
    targets: tuple[Target, ...] = ()
    metrics: tuple[Metric, ...] = ()
    topics: tuple[str, ...] = ()
    stance: dict[str, Any] = field(default_factory=dict)  # stance.yaml as read; owned by positions
    figures: dict[str, Any] = field(default_factory=dict)  # figures.yaml as read; owned by figures

    @cached_property
    def _entities(self) -> _Finder:
        return _Finder({e.name: e.names for e in self.entities})

    @cached_property
    def _targets(self) -> _Finder:
        return _Finder({t.name: t.names for t in self.targets})

    @cached_property
    def _metrics(self) -> _Finder:
        return _Finder({m.name: m.names for m in self.metrics})

    @cached_property
    def _topics(self) -> _Finder:
        names = {t: (t,) for t in self.topics}
        for t in self.targets:
            names[t.name] = t.names
        return _Finder(names)

    @cached_property
    def _by_name(self) -> dict[str, Entity]:
        return {e.name: e for e in self.entities}

    def entity(self, text: str) -> Entity | None:
        """The entity ``text`` names exactly (any alias), or None."""
        name = self._entities.lookup(text)
        return self._by_name.get(name) if name else None

    def entity_named(self, name: str) -> Entity | None:
        return self._by_name.get(name)

    def canonical(self, text: str) -> str:
        """The canonical name of an entity or target ``text`` names, else ``text`` tidied."""
        return self._entities.lookup(text) or self._targets.lookup(text) or " ".join(text.split())

    def parent_of(self, name: str) -> str | None:
        entity = self._by_name.get(name)
        return entity.parent if entity else None

    def ancestors(self, name: str) -> list[str]:
        """The chain of parents of ``name``, nearest first (외교부 -> 한국 정부 -> 한국)."""
        out: list[str] = []
        current = self.parent_of(name)
        while current and current not in out and current != name:
            out.append(current)
            current = self.parent_of(current)
        return out

    def find_entities(self, text: str) -> list[Mention]:
        return self._entities.find(text)

    def target(self, text: str) -> str | None:
        return self._targets.lookup(text)

    def find_targets(self, text: str) -> list[Mention]:
        return self._targets.find(text)

    def metric(self, text: str) -> str | None:
        """The canonical metric ``text`` is a synonym of, or None."""
        return self._metrics.lookup(text)

    def find_metrics(self, text: str) -> list[Mention]:
        return self._metrics.find(text)

    def metric_of(self, phrase: str) -> str:
        """The canonical metric a metric phrase names: the synonym it is, else the longest synonym in
        it, else the phrase itself (the reduction ``compare.metric_key`` applies to claim identity)."""
        name = self.metric(phrase)
        if name:
            return name
        found = self.find_metrics(phrase)
        return max(found, key=lambda m: m.end - m.start).name if found else phrase

    def forget(self) -> None:
        """Drop the mentions remembered per text (a benchmark measures each article cold)."""
        for name in ("_entities", "_targets", "_metrics", "_topics"):
            finder = self.__dict__.get(name)
            if finder is not None:
                finder.forget()

    def is_on_topic(self, text: str) -> bool:
        """True when ``text`` mentions a watched target or a topic keyword."""
        return bool(self._topics.find(text))

    def topic_hits(self, text: str) -> int:
        return len(self._topics.find(text))


def _names(raw: Any, path: Path, key: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(a, (str, int)) for a in raw):
        raise ConfigError(f"{path}: {key}: expected a list of names")
    return tuple(str(a) for a in raw)


def _items(data: Any, path: Path, key: str) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get(key, []), list):
        raise ConfigError(f"{path}: {key}: expected a top-level '{key}:' list")
    items = data.get(key) or []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise ConfigError(f"{path}: {key}[{i}].name: expected a non-empty name")
    return items


def load_lexicon(config_dir: Path) -> Lexicon:
    """Read ``watchlist.yaml`` and ``lexicon/*.yaml`` of ``config_dir``; ``ConfigError`` if broken."""
    watch_path = config_dir / "watchlist.yaml"
    watch = read_yaml(watch_path) or {}
    targets = tuple(Target(t["name"], _names(t.get("aliases"), watch_path, f"targets[{i}].aliases"))
                    for i, t in enumerate(_items(watch, watch_path, "targets")))
    topics = _names(watch.get("topics"), watch_path, "topics")

    lex_dir = config_dir / "lexicon"
    ent_path = lex_dir / "entities.yaml"
    entities = tuple(
        Entity(e["name"], str(e.get("kind", "org")), _names(e.get("aliases"), ent_path, f"entities[{i}].aliases"),
               e.get("parent"))
        for i, e in enumerate(_items(read_yaml(ent_path) or {}, ent_path, "entities")))
    known = {e.name for e in entities}
    for e in entities:
        if e.parent and e.parent not in known:
            raise ConfigError(f"{ent_path}: {e.name}.parent: expected the name of another entity, "
                              f"got {e.parent!r}")
    met_path = lex_dir / "metrics.yaml"
    metrics: tuple[Metric, ...] = ()
    if met_path.exists():
        metrics = tuple(Metric(m["name"], _names(m.get("synonyms"), met_path, f"metrics[{i}].synonyms"))
                        for i, m in enumerate(_items(read_yaml(met_path) or {}, met_path, "metrics")))
    extra: dict[str, dict[str, Any]] = {}
    for name in ("stance", "figures"):
        path = lex_dir / f"{name}.yaml"
        data = read_yaml(path) if path.exists() else {}
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"{path}: (top level): expected a mapping")
        extra[name] = data or {}
    return Lexicon(entities=entities, targets=targets, metrics=metrics, topics=topics,
                   stance=extra["stance"], figures=extra["figures"])
