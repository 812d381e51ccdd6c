"""Queries named for what they mean. They take a Session and model values, and give model
values (or rows where the caller must update them) back."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from worker.dedup import distance, is_candidate, same_story, shingles
from worker.model import (Article, Figure, Modality, Position, Previous, Quantity, Qualifier, Source,
                          Stance)
from worker.store.schema import (AlertRow, ArticleRow, DeliveryRow, EntryRow, FigureRow, PositionRow,
                                 SourceRow)

#: At most this many candidates, the closest fingerprints first, are compared in full: a story
#: and its rewrites sit far closer to each other than to the rest of a busy news day.
MAX_DUPLICATE_CANDIDATES = 5
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
                   text: str = "") -> ArticleRow | None:
    """An earlier article that is this one: same URL, same text, or the same story rewritten."""
    row = session.scalar(select(ArticleRow).where(
        or_(ArticleRow.url == url, ArticleRow.content_hash == content_hash)).limit(1))
    if row is not None or not text:
        return row
    since = now - DUPLICATE_WINDOW
    candidates = session.execute(select(ArticleRow.id, ArticleRow.simhash).where(
        ArticleRow.duplicate_of_id.is_(None),
        or_(ArticleRow.fetched_at >= since, ArticleRow.is_baseline.is_(True))))
    close = sorted((distance(fingerprint, other), art_id) for art_id, other in candidates
                   if is_candidate(fingerprint, other))[:MAX_DUPLICATE_CANDIDATES]
    mine = shingles(text) if close else set()
    for _dist, art_id in close:
        earlier = session.get(ArticleRow, art_id)
        if earlier is not None and earlier.text and same_story(mine, earlier.text):
            return earlier
    return None


def add_article(session: Session, article: Article, *, source_name: str | None, content_hash: str,
                fingerprint: int, now: datetime, baseline: bool = False, on_topic: bool = True,
                duplicate_of: ArticleRow | None = None) -> ArticleRow:
    row = ArticleRow(url=article.url, outlet=article.outlet, source_name=source_name, title=article.title,
                     published_at=article.published, fetched_at=now, text=article.text,
                     content_hash=content_hash, simhash=fingerprint, is_baseline=baseline,
                     on_topic=on_topic, duplicate_of_id=duplicate_of.id if duplicate_of else None)
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

def _when(row: FigureRow | PositionRow) -> datetime | None:
    return row.observed_at


def _figure_previous(row: FigureRow) -> Previous:
    equivalent = None
    if row.equivalent_value is not None and row.equivalent_unit:
        equivalent = Quantity(row.equivalent_value, row.equivalent_unit,
                              Qualifier(row.equivalent_qualifier or "exact"))
    return Previous(source=row.article.url, sentence=row.sentence, value=row.value, unit=row.unit,
                    qualifier=Qualifier(row.qualifier), period=row.period, outlet=row.article.outlet,
                    seen_at=_when(row), equivalent=equivalent, published=row.article.published_at)


def _position_previous(row: PositionRow) -> Previous:
    return Previous(source=row.article.url, sentence=row.sentence, stance=Stance(row.stance),
                    modality=Modality(row.modality), actor=row.actor_text or row.actor,
                    outlet=row.article.outlet, seen_at=_when(row), published=row.article.published_at)


def _newest_first(rows: Iterable[FigureRow | PositionRow]) -> list:
    """Newest article first; within one article, text order (its first statement leads)."""
    return sorted(rows, key=lambda r: (-r.observed_at.timestamp(), r.id))


def known_figures_for(session: Session, keys: Iterable[str]) -> dict[str, list[Previous]]:
    """Observations under each key, newest first."""
    keys = sorted(set(keys))
    out: dict[str, list[Previous]] = {}
    if keys:
        for row in _newest_first(session.scalars(select(FigureRow).options(joinedload(FigureRow.article)).where(FigureRow.key.in_(keys)))):
            out.setdefault(row.key, []).append(_figure_previous(row))
    return out


def known_figures_by_base(session: Session, base_keys: Iterable[str]) -> dict[str, list[Previous]]:
    """Observations under each base key (every period), newest first."""
    base_keys = sorted(set(base_keys))
    out: dict[str, list[Previous]] = {}
    if base_keys:
        rows = session.scalars(select(FigureRow).options(joinedload(FigureRow.article)).where(FigureRow.base_key.in_(base_keys)))
        for row in _newest_first(rows):
            out.setdefault(row.base_key, []).append(_figure_previous(row))
    return out


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def known_figures_by_subject(session: Session, subjects: Iterable[str]) -> dict[str, list[Previous]]:
    """Observations of each ``subject|unit kind`` under any metric, newest first."""
    out: dict[str, list[Previous]] = {}
    for wanted in sorted(set(subjects)):
        subject, kind = wanted.rsplit("|", 1)
        pattern = f"{_like_escape(subject)}|%|{_like_escape(kind)}"
        rows = session.scalars(select(FigureRow).options(joinedload(FigureRow.article))
                               .where(FigureRow.base_key.like(pattern, escape="\\")))
        for row in _newest_first(rows):
            out.setdefault(wanted, []).append(_figure_previous(row))
    return out


def known_positions_for(session: Session, keys: Iterable[str]) -> dict[str, list[Previous]]:
    keys = sorted(set(keys))
    out: dict[str, list[Previous]] = {}
    if keys:
        for row in _newest_first(session.scalars(select(PositionRow).options(joinedload(PositionRow.article)).where(PositionRow.key.in_(keys)))):
            out.setdefault(row.key, []).append(_position_previous(row))
    return out


def articles_stating(session: Session, unit: str, value: float, tolerance: float, since: datetime,
                     exclude_id: int) -> list[ArticleRow]:
    """Articles seen since ``since`` (or in the baseline) that state ``value`` in ``unit``."""
    low, high = sorted((value * (1 - tolerance), value * (1 + tolerance)))
    ids = session.scalars(select(FigureRow.article_id).join(ArticleRow).where(
        FigureRow.unit == unit, FigureRow.value.between(low, high), FigureRow.article_id != exclude_id,
        or_(ArticleRow.fetched_at >= since, ArticleRow.is_baseline.is_(True))).distinct().limit(20))
    return [a for a in (session.get(ArticleRow, i) for i in ids) if a is not None]


def add_figures(session: Session, article: ArticleRow, figures: Sequence[tuple[str, str, Figure]],
                now: datetime) -> None:
    for key, base, f in figures:
        eq = f.equivalent
        session.add(FigureRow(article_id=article.id, key=key[:500], base_key=base[:500], subject=f.subject[:300],
                              metric=f.metric[:300], value=f.value, value_max=f.value_max, unit=f.unit,
                              qualifier=f.qualifier.value, period=f.period, sentence=f.sentence,
                              equivalent_value=eq.value if eq else None, equivalent_unit=eq.unit if eq else None,
                              equivalent_qualifier=eq.qualifier.value if eq else None, observed_at=now))


def add_positions(session: Session, article: ArticleRow, positions: Sequence[tuple[str, Position]],
                  now: datetime) -> None:
    for key, p in positions:
        session.add(PositionRow(article_id=article.id, key=key[:500], actor=p.actor[:300],
                                actor_text=(p.actor_text or p.actor)[:300], actor_parent=p.actor_parent,
                                target=p.target[:300], stance=p.stance.value, modality=p.modality.value,
                                sentence=p.sentence, observed_at=now))


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
