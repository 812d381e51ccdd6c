"""The only module that knows the order of the stages.

    feed bytes ─ fetch ─ parse ─ skip seen entries ─ fetch page ─ main text ─ normalise ─ claims
      ─ compare with known claims ─ decide alerts ─ store (article, claims, outbox) ─ deliver

``Pipeline.process_article`` is the path every article takes — collected by ``once``/``run``,
learned from the seeds, or replayed by ``replay`` — so what is measured is what runs. One
failing source or page is logged in one line and counted; the pass goes on.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from worker import compare, dedup, metrics
from worker.claims import extract_claims
from worker.claims.lexicon import Lexicon
from worker.documents import read_document
from worker.errors import ExtractError, FetchError, ParseError, PolicywatchError, StoreError
from worker.model import Article, Change, ChangeKind, ClaimKind, Claims, FeedEntry, Source
from worker.payloads import alert_key, alert_payload
from worker.settings import Settings, redact
from worker.store import leases, queries
from worker.store.db import Database

log = logging.getLogger("policywatch.pipeline")

#: A page that failed this many times is given up (marked skipped) instead of retried each pass.
MAX_ENTRY_ATTEMPTS = 3
#: Consecutive failures of a source before one operations message is raised.
OPS_FAILURE_THRESHOLD = 3
#: Distinct topic keywords that make an article on-topic when it names no watched target.
MIN_TOPIC_HITS = 2
#: A "new" figure whose value a recent article on the same story already stated is that story
#: retold (another outlet's rewrite attributes it differently), not news. Same story: shingle
#: Jaccard from 0.1 — rewrites by other outlets measure 0.3-0.7, unrelated articles under 0.05.
RELATED_STORY_JACCARD = 0.1
RELATED_STORY_WINDOW = timedelta(days=7)
#: How long a source's lease lasts without renewal. It is renewed before every entry, and one entry
#: takes at most a few fetch timeouts (20 s each) plus extraction: five minutes is ample, and a
#: crashed worker's sources are free again well before the next cron pass (15 minutes).
SOURCE_LEASE_SECONDS = 300.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class AlertSink(Protocol):
    def __call__(self, session: Session, *, key: str, kind: str, change: str, claim_key: str,
                 target: str | None, article_id: int | None, payload: dict[str, Any], now: datetime) -> bool: ...


def outbox_sink(settings: Settings, *, deliver: bool = True) -> AlertSink:
    """The outbox: alerts stored with one delivery per destination (none when ``deliver`` is False)."""
    from worker import alerts

    destinations = alerts.destinations(settings) if deliver else []

    def sink(session: Session, **kw: Any) -> bool:
        return alerts.enqueue(session, destinations=destinations, **kw) is not None
    return sink


@dataclass
class ArticleOutcome:
    status: str  # "new" | "baseline" | "duplicate" | "known"
    alerts: list[dict[str, Any]] = field(default_factory=list)
    figures: int = 0
    positions: int = 0
    on_topic: bool = True


@dataclass
class SourceReport:
    source: str
    ok: bool = True
    not_modified: bool = False
    entries: int = 0
    new_entries: int = 0
    articles: int = 0
    alerts: int = 0
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    max_age: float | None = None  # what the server said about polling again
    retry_after: float | None = None
    skipped: str | None = None  # why it was not polled (not an error): another worker has it, stopping


class Pipeline:
    """Collects, reads and compares articles, and hands alerts to the outbox."""

    def __init__(self, settings: Settings, db: Database, lexicon: Lexicon, *, fetcher: Any = None,
                 sink: AlertSink | None = None, clock: Callable[[], datetime] = utcnow,
                 reader: Callable[..., Claims] | None = None) -> None:
        self.settings = settings
        self.db = db
        self.lexicon = lexicon
        self._fetcher = fetcher
        self.sink = sink or outbox_sink(settings)
        self.clock = clock
        # claim extraction elsewhere (a process pool): reader(text, published); None: in this process
        self.reader = reader
        self.holder = leases.holder_id()  # this process, in the leases it takes
        self.stopping = threading.Event()  # set on SIGTERM: finish the article in hand, start nothing new
        self._recent = queries.RecentFingerprints()  # the duplicate window's fingerprints, in memory
        self._recent_values = queries.RecentValues()  # the related-story window's figure values
        self._sketches = queries.SketchCache()  # the sketches told-before checks read

    def close(self) -> None:
        """Stop the claim-reading processes, if any."""
        close = getattr(self.reader, "close", None)
        if close is not None:
            close()

    @property
    def fetcher(self) -> Any:
        if self._fetcher is None:
            from worker.fetch import Fetcher
            self._fetcher = Fetcher(self.settings)
        return self._fetcher

    # --- reading one article ---------------------------------------------------------------

    def is_on_topic(self, article: Article) -> bool:
        text = f"{article.title}\n{article.text}"
        return bool(self.lexicon.find_targets(text)) or self.lexicon.topic_hits(text) >= MIN_TOPIC_HITS

    def _watched(self, change: Change, article_on_target: bool) -> bool:
        """Whether a new claim is worth an alert: positions and changes always; a new figure when it
        is about a watched target, in an article on one, or takes over a known figure's place."""
        if change.kind is ClaimKind.POSITION or change.change is ChangeKind.CHANGED:
            return True
        assert change.figure is not None
        return (article_on_target or change.previous is not None
                or self.lexicon.target(change.figure.subject) is not None)

    def process_article(self, article: Article, *, source_name: str | None = None,
                        baseline: bool = False) -> ArticleOutcome:
        """Compare one normalised article with what is known, store it, and raise its alerts."""
        now = self.clock()
        # the article's date resolves relative periods (올해, 지난해 4분기)
        claims = (self.reader(article.text, article.published) if self.reader
                  else extract_claims(article.text, self.lexicon, published=article.published))
        figures = [(compare.figure_key(f, self.lexicon), compare.figure_base_key(f, self.lexicon), f)
                   for f in claims.figures]
        positions = [(compare.position_key(p), p) for p in claims.positions]
        chash, (fingerprint, sketch) = dedup.content_hash(article.text), dedup.fingerprint(article.text)
        on_topic = self.is_on_topic(article)
        on_target = bool(self.lexicon.find_targets(f"{article.title}\n{article.text}"))
        with self.db.session() as session:
            if queries.article_by_url(session, article.url) is not None:
                return ArticleOutcome("known", on_topic=on_topic)
            duplicate = queries.find_duplicate(session, article.url, chash, fingerprint, now, sketch,
                                               recent=self._recent)
            changes = self._compare(session, figures, positions)
            restated = {c.key for c in changes if c.change is ChangeKind.RESTATED}
            if duplicate is not None:
                # the same story again: it corroborates what it restates and raises nothing
                figures = [x for x in figures if x[0] in restated]
                positions = [x for x in positions if x[0] in restated]
            row = queries.add_article(session, article, source_name=source_name, content_hash=chash,
                                      fingerprint=fingerprint, now=now, baseline=baseline, on_topic=on_topic,
                                      duplicate_of=duplicate, sketch=sketch)
            queries.add_figures(session, row, figures, now)
            queries.add_positions(session, row, positions, now)
            outcome = ArticleOutcome("baseline" if baseline else "duplicate" if duplicate else "new",
                                     figures=len(figures), positions=len(positions), on_topic=on_topic)
            if baseline or duplicate is not None or not on_topic:
                return outcome
            alerting = [c for c in compare.alerting(changes) if self._watched(c, on_target)]
            told = self._told_before(session, [c.figure for c in alerting
                                               if c.figure is not None and c.change is ChangeKind.NEW],
                                     sketch, row.id, now)
            for change in alerting:
                if change.figure is not None and change.change is ChangeKind.NEW and id(change.figure) in told:
                    continue
                payload = alert_payload(change, article)
                target = change.position.target if change.position else None
                if self.sink(session, key=alert_key(change, article), kind=change.kind.value,
                             change=change.change.value, claim_key=change.key, target=target,
                             article_id=row.id, payload=payload, now=now):
                    outcome.alerts.append(payload)
            return outcome

    def _told_before(self, session: Session, figures: Sequence[Any], sketch: bytes, article_id: int,
                     now: datetime) -> set[int]:
        """The ``id()`` of each of ``figures`` whose value a recent article on the same story
        (sketch Jaccard at least ``RELATED_STORY_JACCARD``) already stated."""
        if not figures or not sketch:
            return set()
        wanted = []
        for figure in figures:
            tolerance = compare.APPROX_TOLERANCE if figure.qualifier.value != "exact" else compare.EXACT_TOLERANCE
            wanted.append((figure.unit, figure.value * (1 - tolerance), figure.value * (1 + tolerance)))
        stating = self._recent_values.stating(session, wanted, now - RELATED_STORY_WINDOW, article_id)
        sketches = self._sketches.get(session, {i for ids in stating for i in ids})
        related = dedup.related(sketch, sketches, RELATED_STORY_JACCARD)
        return {id(figure) for figure, ids in zip(figures, stating) if related.intersection(ids)}

    def _compare(self, session: Session, figures: Sequence[tuple[str, str, Any]],
                 positions: Sequence[tuple[str, Any]]) -> list[Change]:
        known_f = queries.latest_figures_for(session, [k for k, _, _ in figures])
        # only keys nothing is known under can be new: a restatement worded with another metric,
        # or a figure for a new period
        unknown = [(k, b, f) for k, b, f in figures if k not in known_f]
        known_b = queries.known_figures_by_base(session, [b for _, b, _ in unknown])
        known_s = queries.known_figures_by_subject(session, [(compare.subject_of(b), *r) for _, b, f in unknown
                                                             for r in compare.restating_ranges(f)])
        known_p = queries.known_positions_for(session, [k for k, _ in positions])
        parent_keys: dict[str, list[tuple[str, str]]] = {}
        for key, pos in positions:
            for ancestor in self.lexicon.ancestors(pos.actor):
                akey = compare.position_key(pos.__class__(actor=ancestor, target=pos.target, stance=pos.stance,
                                                          modality=pos.modality, sentence=""))
                parent_keys.setdefault(key, []).append((ancestor, akey))
        known_a = queries.known_positions_for(session, [a for pairs in parent_keys.values() for _, a in pairs])
        known_parent = {key: [(name, known_a[akey][0]) for name, akey in pairs if akey in known_a]
                        for key, pairs in parent_keys.items()}
        return (compare.compare_figures(figures, known_f, known_b, known_s)
                + compare.compare_positions(positions, known_p, known_parent))

    # --- the baseline ----------------------------------------------------------------------

    def learn_baseline(self, paths: Iterable[Path]) -> int:
        """Learn the claims of ``paths`` as known claims, without alerts; returns articles learned."""
        learned = 0
        for path in paths:
            try:
                outcome = self.process_article(read_document(path), baseline=True)
            except ExtractError as exc:
                log.warning("baseline: %s", exc)
                continue
            learned += outcome.status == "baseline"
        return learned

    def ensure_baseline(self) -> int:
        """Learn the seed articles the store does not know yet (all of them on first start, the rest
        after a first start that was stopped half-way)."""
        seeds = sorted(self.settings.seeds_dir.glob("*.txt")) + sorted(self.settings.seeds_dir.glob("*.html"))
        with self.db.session() as session:
            missing = [p for p in seeds if queries.article_by_url(session, str(p)) is None]
        if not missing:
            return 0
        learned = self.learn_baseline(missing)
        log.info("learned the baseline: %d seed articles from %s", learned, self.settings.seeds_dir)
        return learned

    # --- collecting --------------------------------------------------------------------------

    def run_once(self, sources: Sequence[Source] | None = None, *, workers: int | None = None) -> list[SourceReport]:
        """One pass over every enabled source, ``fetch.sources_at_once`` of them side by side (or
        ``workers``); a failing source is reported, not raised."""
        todo = [s for s in (sources if sources is not None else self.settings.sources) if s.enabled]
        if not todo:
            return []
        workers = workers or self.settings.fetch.sources_at_once
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo))), thread_name_prefix="source") as pool:
            return list(pool.map(self.refresh_source, todo))

    def refresh_source(self, source: Source) -> SourceReport:
        """Poll one source and process its new entries, unless another worker process holds the
        source's lease (then the report says ``skipped``; that is not an error)."""
        report = SourceReport(source.name)
        lease = f"source:{source.name}"
        try:
            if self.stopping.is_set():
                report.skipped = "stopping"
            elif not leases.acquire(self.db, lease, self.holder, SOURCE_LEASE_SECONDS, now=self.clock()):
                report.skipped = "another worker is polling it"
        except StoreError as exc:
            report.ok, report.error = False, str(exc)
            log.warning("source %s: %s", source.name, report.error, extra={"source": source.name})
            metrics.source_polled("failed")
            return report
        if report.skipped:
            log.info("source %s: skipped: %s", source.name, report.skipped, extra={"source": source.name})
            metrics.source_polled("skipped")
            return report
        try:
            self._refresh_leased(source, report)
        finally:
            try:
                leases.release(self.db, lease, self.holder)
            except StoreError as exc:  # it lapses by itself
                log.warning("source %s: could not release its lease: %s", source.name, exc,
                            extra={"source": source.name})
        metrics.source_polled("failed" if not report.ok else "not_modified" if report.not_modified else "ok")
        return report

    def _keep_lease(self, source: Source) -> bool:
        """Renew the source's lease before the next entry; False when the pass must stop here."""
        if self.stopping.is_set():
            return False
        try:
            if leases.renew(self.db, f"source:{source.name}", self.holder, SOURCE_LEASE_SECONDS, now=self.clock()):
                return True
        except StoreError as exc:
            log.warning("source %s: could not renew its lease: %s", source.name, exc, extra={"source": source.name})
            return False
        log.warning("source %s: lease lost to another worker; stopping this source", source.name,
                    extra={"source": source.name})
        return False

    def _refresh_leased(self, source: Source, report: SourceReport) -> None:
        try:
            self._refresh(source, report)
        except FetchError as exc:
            report.ok, report.error, report.retry_after = False, redact(str(exc)), exc.retry_after
        except ParseError as exc:
            report.ok, report.error = False, redact(str(exc))
        except StoreError as exc:
            report.ok, report.error = False, str(exc)
        except Exception as exc:  # noqa: BLE001 - one source must never stop the pass
            log.exception("source %s: unexpected error", source.name, extra={"source": source.name})
            report.ok, report.error = False, f"unexpected error: {type(exc).__name__}: {exc}"
        if not report.ok:
            log.warning("source %s: %s", source.name, report.error, extra={"source": source.name})
        self._record_source(source, report)

    def _refresh(self, source: Source, report: SourceReport) -> None:
        from worker import feeds

        with self.db.session() as session:
            state = queries.source_state(session, source)
            etag, modified = state.etag, state.last_modified
        headers: dict[str, str] | None = None
        url = source.url
        if source.kind.value == "naver":
            url, headers = feeds.naver_request(source, self.settings)
        with metrics.fetch_timer("feed"):
            response = self.fetcher.get(url, etag=etag, last_modified=modified, purpose="feed", headers=headers)
        report.max_age, report.retry_after = response.max_age, response.retry_after
        if response.not_modified:
            report.not_modified = True
            return
        entries = feeds.parse_source(response.content, source, base_url=response.url)
        report.entries = len(entries)
        with self.db.session() as session:
            seen = queries.seen_entry_keys(session, source.name, [e.key for e in entries])
        unseen = [e for e in entries if e.key not in seen]
        new = unseen[: self.settings.fetch.max_entries_per_pass]
        report.new_entries = len(new)
        for entry in new:
            if not self._keep_lease(source):
                return  # the rest waits for the next pass (the validators below stay unsaved)
            self._process_entry(source, entry, report)
        if len(new) == len(unseen):
            # saved only once every entry was handled: a 304 next time must not hide unread ones
            with self.db.session() as session:
                state = queries.source_state(session, source)
                state.etag, state.last_modified = response.etag, response.last_modified

    def _process_entry(self, source: Source, entry: FeedEntry, report: SourceReport) -> None:
        status, detail = "done", None
        try:
            with metrics.fetch_timer("page"):
                page = self.fetcher.get(entry.link or entry.url, purpose="page")
            from worker.extract import article_from_html
            article = article_from_html(page.content, url=entry.url, content_type=page.headers.get("content-type"),
                                        outlet=source.display_name, fallback_title=entry.title,
                                        fallback_published=entry.published)
            outcome = self.process_article(article, source_name=source.name)
            report.articles += outcome.status == "new"
            report.alerts += len(outcome.alerts)
            metrics.article_done(outcome.status, figures=outcome.figures, positions=outcome.positions,
                                 alerts=[str(a.get("kind", "")) for a in outcome.alerts])
            if outcome.status != "new":
                status, detail = "skipped", outcome.status
        except (FetchError, ExtractError) as exc:
            status, detail = "failed", redact(str(exc))
            report.failures.append(detail)
            log.warning("source %s: article skipped: %s", source.name, detail,
                        extra={"source": source.name, "url": redact(entry.url)})
        except PolicywatchError as exc:
            status, detail = "failed", str(exc)
            report.failures.append(detail)
            log.warning("source %s: article failed: %s", source.name, detail,
                        extra={"source": source.name, "url": redact(entry.url)})
        if status == "failed":
            metrics.article_done("failed")
        with self.db.session() as session:
            if status == "failed" and queries.failed_attempts(session, source.name, entry.key) + 1 >= MAX_ENTRY_ATTEMPTS:
                status = "skipped"
                detail = f"gave up after {MAX_ENTRY_ATTEMPTS} attempts: {detail}"
            queries.record_entry(session, source.name, entry.key, entry.url, entry.title, status, self.clock(), detail)

    def _record_source(self, source: Source, report: SourceReport) -> None:
        now = self.clock()
        try:
            with self.db.session() as session:
                state = queries.source_state(session, source)
                state.last_checked_at = now
                if report.ok:
                    state.last_success_at, state.error_count, state.last_error = now, 0, None
                    state.articles_seen += report.articles
                else:
                    state.error_count += 1
                    state.total_errors += 1
                    state.last_error = report.error
                state.interval_seconds = int(self._next_interval(source, state.interval_seconds, report,
                                                                 state.error_count))
                state.next_check_at = now + timedelta(seconds=state.interval_seconds)
                self._ops_messages(session, source, state, report, now)
        except StoreError as exc:
            log.error("source %s: could not record its state: %s", source.name, exc, extra={"source": source.name})

    def _next_interval(self, source: Source, current: int | None, report: SourceReport, errors: int) -> float:
        from worker.polling import next_interval

        return next_interval(current, had_new_entries=report.new_entries > 0, max_age=report.max_age,
                             retry_after=report.retry_after, error_count=errors,
                             settings=self.settings.fetch, base_seconds=source.interval_minutes * 60.0)

    def _ops_messages(self, session: Session, source: Source, state: Any, report: SourceReport,
                      now: datetime) -> None:
        """One operations message when a source starts failing repeatedly, one when it recovers."""
        from worker import alerts

        if not report.ok and state.error_count >= OPS_FAILURE_THRESHOLD and not state.ops_alert_open:
            change = "failing"
        elif report.ok and state.ops_alert_open:
            change = "recovered"
        else:
            return
        state.ops_alert_open = change == "failing"
        payload = alerts.ops_alert(source.name, change, report.error or f"{source.name} works again")
        self.sink(session, key=alerts.ops_key(source.name, change, now), kind="ops", change=change,
                  claim_key=f"source:{source.name}", target=None, article_id=None, payload=payload, now=now)
