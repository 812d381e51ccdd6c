"""Queries named for what they mean. They take a Session and model values, and give model
values (or rows where the caller must update them) back."""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ARRAY, Float, Integer, String, all_, and_, bindparam, func, or_, select, union, union_all
from sqlalchemy.orm import Session, aliased

from worker.dedup import CANDIDATE_BITS, distance, fingerprint, is_candidate, same_story_sketch
from worker.model import (Article, Figure, Modality, Position, Previous, Quantity, Qualifier, Source,
                          Stance)
from worker.store.schema import (AlertRow, ArticleRow, DeliveryRow, EntryRow, FigureRow, PositionRow,
                                 SourceRow)

#: At most this many candidates, the closest fingerprints first, are compared in full: a story
#: and its rewrites sit far closer to each other than to the rest of a busy news day.
MAX_DUPLICATE_CANDIDATES = 5
#: The most ids one look of an in-memory window reads past the highest it has seen; more are read
#: by the next look. A range with both ends keeps PostgreSQL on the primary-key index even before
#: the table has statistics (with autovacuum off, say): with one end its guess is a third of the
#: table, and it scanned the whole table for every article.
TOP_UP_SPAN = 100_000
#: How far back a new article is compared with earlier ones for near-duplicates. Rewrites of a
#: story by other outlets appear within a day or two; a week also covers weekly magazines.
DUPLICATE_WINDOW = timedelta(days=7)


# --- sources and entries ---------------------------------------------------------------------

def source_state(session: Session, source: Source) -> SourceRow:
    """The fetch state row of ``source``, created on first use."""
    row = session.scalar(select(SourceRow).where(SourceRow.name == source.name))
    if row is None:
        row = SourceRow(name=source.name, url=source.url, error_count=0, total_errors=0,
                        articles_seen=0, empty_extractions=0, ops_alert_open=False)
        session.add(row)
        session.flush()
    elif row.url != source.url:
        row.url = source.url
    return row


def all_source_states(session: Session) -> list[SourceRow]:
    return list(session.scalars(select(SourceRow).order_by(SourceRow.name)))


def seen_entry_keys(session: Session, source_name: str, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` were already handled for this source (done or skipped)."""
    if not keys:
        return set()
    rows = session.scalars(select(EntryRow.key).where(
        EntryRow.source_name == source_name, EntryRow.key.in_(list(keys)), EntryRow.status != "failed"))
    return set(rows)


def record_entry(session: Session, source_name: str, key: str, url: str, title: str, status: str,
                 now: datetime, detail: str | None = None) -> None:
    row = session.scalar(select(EntryRow).where(EntryRow.source_name == source_name, EntryRow.key == key))
    if row is None:
        session.add(EntryRow(source_name=source_name, key=key, url=url, title=title[:1000], seen_at=now,
                             status=status, detail=detail, attempts=1))
    else:
        row.status, row.detail, row.seen_at = status, detail, now
        row.attempts += 1


def failed_attempts(session: Session, source_name: str, key: str) -> int:
    return session.scalar(select(EntryRow.attempts).where(
        EntryRow.source_name == source_name, EntryRow.key == key, EntryRow.status == "failed")) or 0


# --- articles --------------------------------------------------------------------------------

def article_by_url(session: Session, url: str) -> ArticleRow | None:
    return session.scalar(select(ArticleRow).where(ArticleRow.url == url))


def find_duplicate(session: Session, url: str, content_hash: str, fingerprint: int, now: datetime,
                   sketch: bytes = b"", recent: RecentFingerprints | None = None) -> ArticleRow | None:
    """An earlier article that is this one: same URL, same text, or the same story rewritten
    (a close SimHash confirmed by the sketches' Jaccard similarity). ``recent`` keeps the window's
    fingerprints in memory between calls; without it they are read from the database."""
    row = session.scalar(select(ArticleRow).where(
        or_(ArticleRow.url == url, ArticleRow.content_hash == content_hash)).limit(1))
    if row is not None or not sketch:
        return row
    since = now - DUPLICATE_WINDOW
    if recent is not None:
        close = recent.closest(session, fingerprint, since)
    else:
        candidates = session.execute(select(ArticleRow.id, ArticleRow.simhash).where(
            ArticleRow.duplicate_of_id.is_(None),
            or_(ArticleRow.fetched_at >= since, ArticleRow.is_baseline.is_(True))))
        close = sorted((distance(fingerprint, other), art_id) for art_id, other in candidates
                       if is_candidate(fingerprint, other))[:MAX_DUPLICATE_CANDIDATES]
    if not close:
        return None
    sketches = article_sketches(session, [art_id for _dist, art_id in close])
    for _dist, art_id in close:
        if art_id in sketches and same_story_sketch(sketch, sketches[art_id]):
            return session.get(ArticleRow, art_id)
    return None


class RecentFingerprints:
    """The SimHash of every article that can still be found as a near-duplicate (not itself a
    duplicate, fetched within the window or part of the baseline), kept in memory and topped up
    from the database by id, so that each new article costs one small query and one vectorised
    distance computation instead of reading the whole window. Thread-safe.

    Ids are assigned when a row is inserted but become visible when it commits, so on PostgreSQL a
    lower id can appear after a higher one: each top-up re-reads the last ``OVERLAP`` ids.
    """

    OVERLAP = 64  # far more than the transactions that can be in flight at once

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[int] = set()
        self._ids = np.zeros(0, dtype=np.int64)
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._times = np.zeros(0, dtype=np.float64)  # fetched_at as a timestamp; +inf for the baseline
        self._max_id = 0

    def closest(self, session: Session, fingerprint: int, since: datetime) -> list[tuple[int, int]]:
        """``(distance, id)`` of the nearest candidates for an article with ``fingerprint``,
        closest first (at most ``MAX_DUPLICATE_CANDIDATES``), among those fetched since ``since``
        or in the baseline."""
        if fingerprint == 0:
            return []
        with self._lock:
            # the first look reads the window through the index on fetched_at; later ones, by id
            newer = (ArticleRow.id.between(self._max_id - self.OVERLAP + 1, self._max_id + TOP_UP_SPAN)
                     if self._max_id
                     else or_(ArticleRow.fetched_at >= since, ArticleRow.is_baseline.is_(True)))
            rows = session.connection().execute(
                select(ArticleRow.id, ArticleRow.simhash, ArticleRow.fetched_at, ArticleRow.is_baseline)
                .where(newer, ArticleRow.duplicate_of_id.is_(None)))
            new = [(i, h, math.inf if baseline else _aware(at).timestamp())
                   for i, h, at, baseline in rows if i not in self._seen and h]
            if new:
                ids, hashes, times = zip(*new)
                self._seen.update(ids)
                self._max_id = max(self._max_id, *ids)
                self._ids = np.concatenate([self._ids, np.array(ids, dtype=np.int64)])
                self._hashes = np.concatenate([self._hashes, np.array(hashes, dtype=np.int64).view(np.uint64)])
                self._times = np.concatenate([self._times, np.array(times, dtype=np.float64)])
            start = _aware(since).timestamp()
            live = self._times >= start
            if not live.all() and (~live).sum() > len(live) // 4:  # forget what left the window
                self._seen.difference_update(self._ids[~live].tolist())
                self._ids, self._hashes, self._times = self._ids[live], self._hashes[live], self._times[live]
                live = live[live]
            mine = np.array([fingerprint], dtype=np.int64).view(np.uint64)[0]
            dist = np.bitwise_count(self._hashes ^ mine)
            hits = np.flatnonzero((dist <= CANDIDATE_BITS) & live)
            close = sorted(zip(dist[hits].tolist(), self._ids[hits].tolist()))
            return close[:MAX_DUPLICATE_CANDIDATES]


def _aware(moment: datetime) -> datetime:
    """``moment`` as an aware datetime (SQLite returns naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def article_sketches(session: Session, ids: Iterable[int]) -> dict[int, bytes]:
    """The stored sketch of each article (computed from its text for rows stored before sketches
    existed; an article with neither is left out)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    out: dict[int, bytes] = {}
    missing: list[int] = []
    for art_id, sketch in session.execute(select(ArticleRow.id, ArticleRow.sketch).where(ArticleRow.id.in_(ids))):
        if sketch:
            out[art_id] = bytes(sketch)
        else:
            missing.append(art_id)
    if missing:
        for art_id, text in session.execute(select(ArticleRow.id, ArticleRow.text).where(
                ArticleRow.id.in_(missing), ArticleRow.text.is_not(None))):
            out[art_id] = fingerprint(text).sketch
    return out


class SketchCache:
    """The sketches of the articles most recently compared with, decoded (``CAPACITY`` at most,
    8 MB): the recent articles that state a value are asked for again and again, and a sketch
    never changes once stored. Thread-safe."""

    CAPACITY = 2048

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def get(self, session: Session, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """The hashes of each article's sketch (an article with neither sketch nor text is left out)."""
        out: dict[int, np.ndarray] = {}
        with self._lock:
            for art_id in set(ids):
                if (hashes := self._cache.get(art_id)) is not None:
                    self._cache.move_to_end(art_id)
                    out[art_id] = hashes
        missing = set(ids) - out.keys()
        if missing:
            read = {i: np.frombuffer(s, dtype=">u8").astype(np.uint64)
                    for i, s in article_sketches(session, missing).items()}
            out.update(read)
            with self._lock:
                self._cache.update(read)
                while len(self._cache) > self.CAPACITY:
                    self._cache.popitem(last=False)
        return out


def add_article(session: Session, article: Article, *, source_name: str | None, content_hash: str,
                fingerprint: int, now: datetime, baseline: bool = False, on_topic: bool = True,
                duplicate_of: ArticleRow | None = None, sketch: bytes | None = None) -> ArticleRow:
    row = ArticleRow(url=article.url, outlet=article.outlet, source_name=source_name, title=article.title,
                     published_at=article.published, fetched_at=now, text=article.text,
                     content_hash=content_hash, simhash=fingerprint, sketch=sketch or None,
                     is_baseline=baseline, on_topic=on_topic,
                     duplicate_of_id=duplicate_of.id if duplicate_of else None)
    session.add(row)
    session.flush()
    return row


def prune_article_texts(session: Session, older_than: datetime) -> int:
    """Drop the bodies of old articles (claims and alerts stay); returns how many."""
    rows = session.scalars(select(ArticleRow).where(ArticleRow.fetched_at < older_than,
                                                    ArticleRow.text.is_not(None),
                                                    ArticleRow.is_baseline.is_(False)))
    count = 0
    for row in rows:
        row.text = None
        count += 1
    return count


# --- claims ----------------------------------------------------------------------------------

_FIGURE_COLUMNS = (FigureRow.id, FigureRow.key, FigureRow.base_key, FigureRow.subject_key, FigureRow.sentence,
                   FigureRow.value, FigureRow.unit, FigureRow.qualifier, FigureRow.period, FigureRow.observed_at,
                   FigureRow.equivalent_value, FigureRow.equivalent_unit, FigureRow.equivalent_qualifier,
                   ArticleRow.url, ArticleRow.outlet, ArticleRow.published_at)
_POSITION_COLUMNS = (PositionRow.id, PositionRow.key, PositionRow.sentence, PositionRow.stance, PositionRow.modality,
                     PositionRow.actor, PositionRow.actor_text, PositionRow.observed_at,
                     ArticleRow.url, ArticleRow.outlet, ArticleRow.published_at)


def _figure_previous(row: Any) -> Previous:
    equivalent = None
    if row.equivalent_value is not None and row.equivalent_unit:
        equivalent = Quantity(row.equivalent_value, row.equivalent_unit, Qualifier(row.equivalent_qualifier or "exact"))
    return Previous(source=row.url, sentence=row.sentence, value=row.value, unit=row.unit,
                    qualifier=Qualifier(row.qualifier), period=row.period, outlet=row.outlet,
                    seen_at=row.observed_at, equivalent=equivalent, published=row.published_at)


def _position_previous(row: Any) -> Previous:
    return Previous(source=row.url, sentence=row.sentence, stance=Stance(row.stance),
                    modality=Modality(row.modality), actor=row.actor_text or row.actor,
                    outlet=row.outlet, seen_at=row.observed_at, published=row.published_at)


# The statements below are built once: building a select with subqueries and aliases costs more
# than running it on an indexed table. Lists of keys go in as expanding bound parameters, or as
# a VALUES list whose statement is kept per length.

def _ranked(table: Any, columns: Sequence[Any], where: Any, partition: Sequence[Any]) -> Any:
    """The newest row of each ``partition`` group among the rows matching ``where`` (the first in
    text order within the newest article). The rows are ranked on the table alone, from an index
    that covers the ranking where there is one; only the winners are read in full and joined."""
    rank = func.row_number().over(partition_by=list(partition),
                                  order_by=(table.observed_at.desc(), table.id)).label("rank")
    winners = select(table.id, rank).where(where).subquery()
    return (select(*columns).join(ArticleRow, ArticleRow.id == table.article_id)
            .join(winners, winners.c.id == table.id).where(winners.c.rank == 1))


class _Joined:
    """A statement that joins a list of rows of bound values (a CTE named ``wanted``), built once
    per database kind (and row count where it needs one).

    On PostgreSQL the rows go in as one array per column, unnested side by side: one short
    statement whatever the count, which psycopg parses once (it caches statements of at most
    4 kB and 50 parameters) and PostgreSQL plans quickly. Elsewhere each row is a SELECT of its
    parameters, joined by UNION ALL. (SQLAlchemy cannot cache a statement holding a ``values()``
    construct: it would be compiled again for every article.)"""

    def __init__(self, columns: Sequence[tuple[str, Any]], build: Callable[[Any], Any]) -> None:
        self.columns, self.build = columns, build
        self._built: dict[tuple[bool, int], Any] = {}

    def execute(self, session: Session, rows: Sequence[Sequence[Any]]) -> Any:
        conn = session.connection()
        arrays = conn.dialect.name == "postgresql"
        shape = (arrays, 0 if arrays else len(rows))
        if shape not in self._built:
            if arrays:
                wanted = select(*(func.unnest(bindparam(col, type_=ARRAY(type_))).label(col)
                                  for col, type_ in self.columns))
            else:
                each = [select(*(bindparam(f"{col}{n}", type_=type_).label(col) for col, type_ in self.columns))
                        for n in range(len(rows))]
                wanted = union_all(*each) if len(each) > 1 else each[0]
            self._built[shape] = self.build(wanted.cte("wanted"))
        if arrays:
            # an array holds one type: 0 and 1e8 are both float8 here
            params = {col: [float(row[i]) if type_ is Float else row[i] for row in rows]
                      for i, (col, type_) in enumerate(self.columns)}
        else:
            params = {f"{col}{n}": row[i] for n, row in enumerate(rows) for i, (col, _) in enumerate(self.columns)}
        return conn.execute(self._built[shape], params)


def _latest(wanted: Any) -> Any:
    """The rows of each key's newest observation time: the newest time is one backward step in
    the (key, observed_at) index per key, whatever the key's history."""
    newer = aliased(FigureRow)
    newest = select(func.max(newer.observed_at)).where(newer.key == wanted.c.k).scalar_subquery()
    return (select(*_FIGURE_COLUMNS).select_from(wanted)
            .join(FigureRow, and_(FigureRow.key == wanted.c.k, FigureRow.observed_at == newest))
            .join(ArticleRow, ArticleRow.id == FigureRow.article_id).order_by(FigureRow.id))


_LATEST = _Joined([("k", String)], _latest)


_NEWEST_PER_PERIOD = _ranked(FigureRow, _FIGURE_COLUMNS, FigureRow.base_key.in_(bindparam("keys", expanding=True)),
                             (FigureRow.base_key, FigureRow.period))
_NEWEST_POSITIONS = _ranked(PositionRow, _POSITION_COLUMNS, PositionRow.key.in_(bindparam("keys", expanding=True)),
                            (PositionRow.key,))


def _newest_first(rows: Iterable[Any]) -> list[Any]:
    """Newest article first; within one article, in text order."""
    return sorted(rows, key=lambda r: (-_aware(r.observed_at).timestamp(), r.id))


def latest_figures_for(session: Session, keys: Iterable[str]) -> dict[str, list[Previous]]:
    """For each key, what its newest article said under it (every value that article gave, in
    text order): the value a new figure is compared with."""
    keys = sorted(set(keys))
    out: dict[str, list[Previous]] = {}
    if keys:
        for row in _LATEST.execute(session, [(key,) for key in keys]):
            out.setdefault(row.key, []).append(_figure_previous(row))
    return out


def known_figures_by_base(session: Session, base_keys: Iterable[str]) -> dict[str, list[Previous]]:
    """Under each base key, the newest observation of each period (newest first): what a figure
    for a new period takes over from."""
    base_keys = sorted(set(base_keys))
    out: dict[str, list[Previous]] = {}
    if base_keys:
        for row in _newest_first(session.connection().execute(_NEWEST_PER_PERIOD, {"keys": base_keys})):
            out.setdefault(row.base_key, []).append(_figure_previous(row))
    return out


def _subject_values(wanted: Any) -> Any:
    f = FigureRow
    columns = (f.subject_key, f.value, f.unit, f.qualifier, f.equivalent_value, f.equivalent_unit,
               f.equivalent_qualifier)
    as_value = select(*columns).join(wanted, and_(f.subject_key == wanted.c.s, f.unit == wanted.c.u,
                                                   f.value.between(wanted.c.lo, wanted.c.hi)))
    as_equivalent = select(*columns).join(wanted, and_(f.subject_key == wanted.c.s, f.equivalent_unit == wanted.c.u,
                                                       f.equivalent_value.between(wanted.c.lo, wanted.c.hi)))
    return union(as_value, as_equivalent)


_SUBJECT_VALUES = _Joined([("s", String), ("u", String), ("lo", Float), ("hi", Float)], _subject_values)


def known_figures_by_subject(session: Session, wanted: Iterable[tuple[str, str, float, float]]
                             ) -> dict[str, list[Previous]]:
    """For each ``(subject key, unit, low, high)`` (``subject|unit kind``), the values known for
    that subject under any metric and period whose value, or stated equivalent, is in that unit
    and range; each value once. These observations tell only whether a value was known (value,
    unit, qualifier and equivalent are set; not where it came from): a restatement under another
    metric wording raises nothing. Two index range scans per range, however many values the
    subject has."""
    wanted = sorted(set(wanted))
    out: dict[str, list[Previous]] = {}
    if not wanted:
        return out
    for row in _SUBJECT_VALUES.execute(session, wanted):
        equivalent = None
        if row.equivalent_value is not None and row.equivalent_unit:
            equivalent = Quantity(row.equivalent_value, row.equivalent_unit,
                                  Qualifier(row.equivalent_qualifier or "exact"))
        out.setdefault(row.subject_key, []).append(Previous(
            source="", sentence="", value=row.value, unit=row.unit, qualifier=Qualifier(row.qualifier),
            equivalent=equivalent))
    return out


def known_positions_for(session: Session, keys: Iterable[str]) -> dict[str, list[Previous]]:
    """The newest stance known under each key."""
    keys = sorted(set(keys))
    out: dict[str, list[Previous]] = {}
    if keys:
        for row in _newest_first(session.connection().execute(_NEWEST_POSITIONS, {"keys": keys})):
            out.setdefault(row.key, []).append(_position_previous(row))
    return out


#: At most this many articles per figure are checked for having stated its value before.
MAX_STATING_ARTICLES = 20


class _UnitValues:
    """The values stated in one unit: a part sorted by value and an unsorted tail that new values
    are appended to, merged into the sorted part when it fills up (values older than the window
    are dropped then)."""

    TAIL = 2048

    def __init__(self) -> None:
        self.values = np.zeros(0, dtype=np.float64)
        self.ids = np.zeros(0, dtype=np.int64)
        self.times = np.zeros(0, dtype=np.float64)
        self.tail_values = np.empty(self.TAIL, dtype=np.float64)
        self.tail_ids = np.empty(self.TAIL, dtype=np.int64)
        self.tail_times = np.empty(self.TAIL, dtype=np.float64)
        self.filled = 0

    def add(self, values: np.ndarray, ids: np.ndarray, times: np.ndarray, start: float) -> None:
        end = self.filled + len(values)
        if end <= self.TAIL:
            self.tail_values[self.filled:end], self.tail_ids[self.filled:end] = values, ids
            self.tail_times[self.filled:end] = times
            self.filled = end
            return
        values = np.concatenate([self.values, self.tail_values[:self.filled], values])
        ids = np.concatenate([self.ids, self.tail_ids[:self.filled], ids])
        times = np.concatenate([self.times, self.tail_times[:self.filled], times])
        live = times >= start
        order = np.argsort(values[live], kind="stable")
        self.values, self.ids, self.times = values[live][order], ids[live][order], times[live][order]
        self.filled = 0

    def between(self, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
        """Article ids and times of the values in ``[low, high]``."""
        i, j = np.searchsorted(self.values, low, "left"), np.searchsorted(self.values, high, "right")
        tail = self.tail_values[:self.filled]
        hit = (tail >= low) & (tail <= high)
        return (np.concatenate([self.ids[i:j], self.tail_ids[:self.filled][hit]]),
                np.concatenate([self.times[i:j], self.tail_times[:self.filled][hit]]))


_WINDOW_VALUES = (select(FigureRow.article_id, FigureRow.unit, FigureRow.value, ArticleRow.fetched_at,
                         ArticleRow.is_baseline).join(ArticleRow, ArticleRow.id == FigureRow.article_id))


class RecentValues:
    """The figure values stated by the articles fetched within a window, and by the baseline, in
    memory by unit and value: "which recent articles stated a value near this one" is a binary
    search instead of an index scan whose length grows with the whole store (a common value such
    as 3개 is in thousands of old articles). Thread-safe.

    The first look reads the window's articles through the index on ``fetched_at``, then their
    figures. Each
    later look reads the figures of the articles stored since, in one query: those above the
    highest id seen less ``OVERLAP`` (PostgreSQL may commit a lower id after a higher one) that it
    has not read yet.
    """

    OVERLAP = 64
    CHUNK = 500  # articles per query on the first look
    _WINDOW = select(ArticleRow.id).where(or_(ArticleRow.fetched_at >= bindparam("since"),
                                               ArticleRow.is_baseline.is_(True)))
    _OF = _WINDOW_VALUES.where(FigureRow.article_id.in_(bindparam("ids", expanding=True)))
    _AFTER = FigureRow.article_id.between(bindparam("after"), bindparam("until"))  # see TOP_UP_SPAN
    _NEXT = _WINDOW_VALUES.where(_AFTER, FigureRow.article_id.not_in(bindparam("read", expanding=True)))
    # on PostgreSQL as one array: psycopg parses a statement of more than 50 parameters anew each time
    _NEXT_ARRAY = _WINDOW_VALUES.where(_AFTER, FigureRow.article_id != all_(bindparam("read", type_=ARRAY(Integer))))

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._units: dict[str, _UnitValues] = {}
        self._recent_ids: set[int] = set()  # the ids above max_id - OVERLAP already read
        self._max_id = 0
        self._loaded = False

    def stating(self, session: Session, wanted: Sequence[tuple[str, float, float]], since: datetime,
                exclude_id: int, limit: int = MAX_STATING_ARTICLES) -> list[list[int]]:
        """For each ``(unit, low, high)``: the ids of up to ``limit`` of the newest articles
        fetched since ``since`` (or in the baseline), other than ``exclude_id``, that state a value
        in that range in that unit, newest first."""
        out: list[list[int]] = [[] for _ in wanted]
        if not wanted:
            return out
        start = _aware(since).timestamp()
        with self._lock:
            self._top_up(session, since, start)
            for n, (unit, a, b) in enumerate(wanted):
                column = self._units.get(unit)
                if column is not None:
                    ids, times = column.between(*sorted((a, b)))
                    out[n] = _largest_distinct(ids[(times >= start) & (ids != exclude_id)], limit)
        return out

    def _top_up(self, session: Session, since: datetime, start: float) -> None:
        if self._loaded:
            conn = session.connection()
            statement = self._NEXT_ARRAY if conn.dialect.name == "postgresql" else self._NEXT
            rows = conn.execute(statement, {"after": self._max_id - self.OVERLAP + 1,
                                            "until": self._max_id + TOP_UP_SPAN,
                                            "read": sorted(self._recent_ids)}).all()
        else:  # the window's articles, then their figures (each through its own index)
            conn = session.connection()
            window = sorted(conn.scalars(self._WINDOW, {"since": since}))
            rows = [row for i in range(0, len(window), self.CHUNK)
                    for row in conn.execute(self._OF, {"ids": window[i:i + self.CHUNK]})]
            self._loaded = True
        if not rows:
            return
        by_unit: dict[str, tuple[list[float], list[int], list[float]]] = {}
        for art_id, unit, value, at, baseline in rows:
            values, ids, times = by_unit.setdefault(unit, ([], [], []))
            values.append(value)
            ids.append(art_id)
            times.append(math.inf if baseline else _aware(at).timestamp())
        for unit, (values, ids, times) in by_unit.items():
            self._units.setdefault(unit, _UnitValues()).add(np.array(values, dtype=np.float64),
                                                            np.array(ids, dtype=np.int64),
                                                            np.array(times, dtype=np.float64), start)
        self._max_id = max(self._max_id, max(r[0] for r in rows))
        self._recent_ids = {i for i in self._recent_ids.union(r[0] for r in rows)
                            if i > self._max_id - self.OVERLAP}


def _largest_distinct(ids: np.ndarray, limit: int) -> list[int]:
    """The ``limit`` largest distinct values of ``ids``, largest first. The largest ``4 * limit``
    entries hold them unless ids repeat a lot, so only those are sorted as a rule."""
    if len(ids) > 4 * limit:
        top = np.unique(np.partition(ids, len(ids) - 4 * limit)[-4 * limit:])
        if len(top) >= limit:
            return top[::-1][:limit].tolist()
    return np.unique(ids)[::-1][:limit].tolist()


# Claims are written with one Core executemany: no ORM objects to build, and one short statement
# the driver prepares once (a multi-row VALUES would hold hundreds of parameters).

def add_figures(session: Session, article: ArticleRow, figures: Sequence[tuple[str, str, Figure]],
                now: datetime) -> None:
    rows = []
    for key, base, f in figures:
        eq = f.equivalent
        parts = base.split("|")
        rows.append({"article_id": article.id, "key": key[:500], "base_key": base[:500],
                     "subject_key": f"{parts[0]}|{parts[-1]}"[:500], "subject": f.subject[:300],
                     "metric": f.metric[:300], "value": f.value, "value_max": f.value_max, "unit": f.unit,
                     "qualifier": f.qualifier.value, "period": f.period, "sentence": f.sentence,
                     "equivalent_value": eq.value if eq else None, "equivalent_unit": eq.unit if eq else None,
                     "equivalent_qualifier": eq.qualifier.value if eq else None, "observed_at": now})
    if rows:
        session.connection().execute(FigureRow.__table__.insert(), rows)


def add_positions(session: Session, article: ArticleRow, positions: Sequence[tuple[str, Position]],
                  now: datetime) -> None:
    rows = [{"article_id": article.id, "key": key[:500], "actor": p.actor[:300],
             "actor_text": (p.actor_text or p.actor)[:300], "actor_parent": p.actor_parent,
             "target": p.target[:300], "stance": p.stance.value, "modality": p.modality.value,
             "sentence": p.sentence, "observed_at": now} for key, p in positions]
    if rows:
        session.connection().execute(PositionRow.__table__.insert(), rows)


def _plain(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


@dataclass(frozen=True)
class ClaimHistory:
    kind: str
    key: str
    label: str
    observations: list[tuple[datetime, str, str, str]]  # (seen, value or stance, outlet, source)


def claim_history(session: Session, *, subject: str | None = None, target: str | None = None,
                  limit: int = 50) -> list[ClaimHistory]:
    """Known claims with their observations over time, optionally filtered (substring match)."""
    out: list[ClaimHistory] = []
    if target is None:
        q = select(FigureRow).join(ArticleRow)
        if subject:
            q = q.where(or_(FigureRow.subject.contains(subject), FigureRow.key.contains(subject.lower())))
        groups: dict[str, list[FigureRow]] = {}
        for row in session.scalars(q.order_by(FigureRow.observed_at, FigureRow.id)):
            groups.setdefault(row.key, []).append(row)
        for key, rows in groups.items():
            last = rows[-1]
            label = f"{last.subject} · {last.metric}" + (f" ({last.period})" if last.period else "")
            out.append(ClaimHistory("figure", key, label, [
                (r.observed_at, f"{_plain(r.value)} {r.unit} ({r.qualifier})", r.article.outlet, r.article.url)
                for r in rows]))
    if subject is None:
        q2 = select(PositionRow).join(ArticleRow)
        if target:
            q2 = q2.where(PositionRow.target.contains(target))
        pgroups: dict[str, list[PositionRow]] = {}
        for prow in session.scalars(q2.order_by(PositionRow.observed_at, PositionRow.id)):
            pgroups.setdefault(prow.key, []).append(prow)
        for key, prows in pgroups.items():
            last_p = prows[-1]
            out.append(ClaimHistory("position", key, f"{last_p.actor} → {last_p.target}", [
                (r.observed_at, f"{r.stance}/{r.modality}", r.article.outlet, r.article.url) for r in prows]))
    return out[-limit:] if limit else out


def counts(session: Session) -> dict[str, int]:
    """How many rows each main table holds (for `doctor`, logs and benchmarks)."""
    return {name: session.scalar(select(func.count()).select_from(table)) or 0
            for name, table in (("articles", ArticleRow), ("figures", FigureRow), ("positions", PositionRow),
                                ("alerts", AlertRow), ("deliveries", DeliveryRow), ("entries", EntryRow))}
