"""The values that flow between the stages of the pipeline.

Every stage takes these in and gives these back; no stage sees a feedparser dict, a
trafilatura document or an SQLAlchemy row. All are frozen: a stage that wants to change
one makes a new one (``dataclasses.replace``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SourceKind(StrEnum):
    RSS = "rss"  # RSS or Atom, what feedparser reads
    SITEMAP = "sitemap"  # a Google News sitemap
    NAVER = "naver"  # the Naver News search API (JSON)


class Qualifier(StrEnum):
    EXACT = "exact"
    APPROX = "approx"  # 약, 가량, 정도, 안팎, 수준
    OVER = "over"  # 이상, 넘는, 초과, 여
    UNDER = "under"  # 이하, 미만


class Stance(StrEnum):
    SUPPORT = "support"
    OPPOSE = "oppose"
    NEUTRAL = "neutral"


class Modality(StrEnum):
    DONE = "done"
    PLANNED = "planned"
    CONSIDERING = "considering"


class ChangeKind(StrEnum):
    NEW = "new"  # nothing was known under this claim's identity
    CHANGED = "changed"  # a known claim said something else
    RESTATED = "restated"  # the same as known: corroborates, never alerts


class ClaimKind(StrEnum):
    FIGURE = "figure"
    POSITION = "position"


@dataclass(frozen=True)
class Source:
    """One configured source (a feed, a sitemap or a search query)."""

    name: str
    url: str
    kind: SourceKind = SourceKind.RSS
    interval_minutes: int = 30
    outlet: str = ""  # the outlet's display name; defaults to ``name``
    enabled: bool = True
    query: str = ""  # for search sources (Naver): the keywords

    @property
    def display_name(self) -> str:
        return self.outlet or self.name


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed: enough to decide whether to fetch the article."""

    source: str  # Source.name
    key: str  # stable identity: guid, else canonical URL, else hash of title and content
    url: str  # canonical article URL
    title: str
    published: datetime | None = None  # aware; None when the feed gave none or it was unreadable
    summary: str = ""
    link: str = ""  # the article link as the feed gave it: fetch this (``url`` folds www./m. away)


@dataclass(frozen=True)
class Article:
    """A normalised article: title line plus paragraphs, chrome already stripped."""

    url: str
    title: str
    text: str  # normalised: the title on the first line, then paragraphs
    outlet: str = ""
    published: datetime | None = None


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str
    qualifier: Qualifier = Qualifier.EXACT


@dataclass(frozen=True)
class Figure:
    """A number the article states about a subject (see ../shared/CONTRACT.md)."""

    value: float
    unit: str  # KRW USD CNY JPY EUR PCT PP PERSON COUNT YEAR MONTH DAY HOUR AGE NM RATIO TIMES, or a word
    qualifier: Qualifier
    subject: str  # canonical entity name when the lexicon knows it, else the nearest subject phrase
    metric: str  # a few words: what is measured
    sentence: str
    period: str | None = None  # "2025", "2025-Q1", ... when the sentence says it
    equivalent: Quantity | None = None  # "(약 81억 원)" after "557만 6,000달러"
    value_max: float | None = None  # upper bound of a range (5천만~7천만 원), else None
    span: tuple[int, int] | None = None  # character offsets of the figure in the sentence


@dataclass(frozen=True)
class Position:
    """An actor's stance toward a watched target."""

    actor: str  # canonical actor name (개인정보보호위원회)
    target: str  # canonical target name from the watch list (딥시크)
    stance: Stance
    modality: Modality
    sentence: str
    actor_text: str = ""  # as written in the sentence (개인정보위)
    actor_parent: str | None = None  # 외교부 -> 한국 정부


@dataclass(frozen=True)
class Claims:
    figures: tuple[Figure, ...] = ()
    positions: tuple[Position, ...] = ()


@dataclass(frozen=True)
class Previous:
    """What was known under a claim's identity before, and where it came from."""

    source: str  # article URL (or seed path)
    sentence: str
    value: float | None = None
    unit: str | None = None
    qualifier: Qualifier | None = None
    period: str | None = None
    stance: Stance | None = None
    modality: Modality | None = None
    actor: str | None = None
    outlet: str = ""
    seen_at: datetime | None = None
    equivalent: Quantity | None = None
    published: datetime | None = None  # of the article it came from, when known


@dataclass(frozen=True)
class Change:
    """The comparison of one new claim with what is known."""

    kind: ClaimKind
    change: ChangeKind
    key: str  # the claim's identity (see compare.figure_key / position_key)
    figure: Figure | None = None
    position: Position | None = None
    previous: Previous | None = None
    replaces_period: str | None = None  # a figure for a new period: the latest period known before
    via_parent: str | None = None  # a position contradicting the parent actor's known stance


@dataclass(frozen=True)
class Alert:
    """A change worth telling users about, with everything a message needs."""

    key: str  # stable: the same change in the same article always gives the same key
    change: Change
    article: Article
    created_at: datetime | None = None
    id: int | None = None  # the store's id once stored
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
