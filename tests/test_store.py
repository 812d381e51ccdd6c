"""The store on SQLite and PostgreSQL: migrations create exactly the schema the models describe,
and the claim queries return what was stored."""
from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from worker.model import Article, Figure, Modality, Position, Qualifier, Stance
from worker.store import queries
from worker.store.db import Database
from worker.store.schema import Base


def test_migrations_match_the_models(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    db.migrate()  # idempotent
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    db.dispose()
    assert diff == []


def test_claims_round_trip_newest_first(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    t1, t2 = datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
    fig = Figure(value=4e7, unit="KRW", qualifier=Qualifier.APPROX, subject="H100", metric="가격", sentence="s1")
    pos = Position(actor="개인정보보호위원회", target="딥시크", stance=Stance.OPPOSE, modality=Modality.DONE,
                   sentence="중단했다", actor_text="개인정보위")
    with db.session() as s:
        a = queries.add_article(s, Article(url="u1", title="t", text="x", outlet="A"), source_name=None,
                                content_hash="h1", fingerprint=1, now=t1)
        queries.add_figures(s, a, [("h100|가격|money|", "h100|가격|money", fig)], t1)
        queries.add_positions(s, a, [("개인정보보호위원회|딥시크", pos)], t1)
        b = queries.add_article(s, Article(url="u2", title="t", text="y", outlet="B"), source_name=None,
                                content_hash="h2", fingerprint=2, now=t2)
        queries.add_figures(s, b, [("h100|가격|money|", "h100|가격|money", fig.__class__(**{**fig.__dict__, "value": 5e7}))], t2)
    with db.session() as s:
        (latest,) = queries.latest_figures_for(s, ["h100|가격|money|"])["h100|가격|money|"]
        assert latest.value == 5e7 and latest.outlet == "B" and latest.seen_at is not None
        by_base = queries.known_figures_by_base(s, ["h100|가격|money"])["h100|가격|money"]
        assert [k.value for k in by_base] == [5e7]  # the newest of the one period (none)
        (p,) = queries.known_positions_for(s, ["개인정보보호위원회|딥시크"])["개인정보보호위원회|딥시크"]
        assert p.stance is Stance.OPPOSE and p.actor == "개인정보위"
        (history,) = [h for h in queries.claim_history(s, subject="H100")]
        assert [o[1] for o in history.observations] == ["40,000,000 KRW (approx)", "50,000,000 KRW (approx)"]
        assert queries.find_duplicate(s, "u9", "h2", 0, t2).url == "u2"
    db.dispose()


def test_upgrade_from_0001_fills_subject_keys_and_sketches_old_articles(database_url: str) -> None:
    """A store made by revision 0001 upgrades in place: figures get their subject key, and articles
    stored without a sketch are still found as duplicates (sketched from their text)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from worker.dedup import fingerprint
    from worker.store.db import MIGRATIONS

    db = Database(database_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db.engine
    command.upgrade(cfg, "0001")
    story = "개인정보보호위원회가 딥시크의 국내 신규 다운로드를 두 달 만에 재개하기로 했다. " * 3
    t1 = datetime(2025, 4, 1, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO articles (id, url, outlet, title, fetched_at, text, content_hash, simhash,"
                          " is_baseline, on_topic) VALUES (1, 'u1', 'A', 't', :t, :body, 'h1', :sim, :f, :tr)"),
                     {"t": t1, "body": story, "sim": fingerprint(story).simhash, "f": False, "tr": True})
        conn.execute(text("INSERT INTO figures (article_id, key, base_key, subject, metric, value, unit, qualifier,"
                          " sentence, observed_at) VALUES (1, 'h100|가격|money|', 'h100|가격|money', 'H100', '가격',"
                          " 4e7, 'KRW', 'approx', 's', :t)"), {"t": t1})
    db.migrate()
    with db.session() as s:
        assert s.scalar(text("SELECT subject_key FROM figures")) == "h100|money"
        assert list(queries.known_figures_by_subject(s, [("h100|money", "KRW", 3e7, 5e7)])) == ["h100|money"]
        rewrite = story.replace("재개하기로 했다", "재개한다고 밝혔다")
        fp = fingerprint(rewrite)
        dup = queries.find_duplicate(s, "u2", "h2", fp.simhash, t1, fp.sketch)
        assert dup is not None and dup.url == "u1"
    db.dispose()


def test_duplicates_are_found_after_their_text_was_pruned(db: Database) -> None:
    """The sketch stays when retention drops an article's body, so rewrites are still caught."""
    from worker.dedup import fingerprint

    story = ("엔비디아가 중국 수출용 인공지능 칩 H20의 판매를 재개한다고 밝혔다. 미국 상무부는 엔비디아의 수출 허가 "
             "신청을 승인할 방침이라고 전했다. 업계는 중국 시장 매출이 다시 늘어날 것으로 내다봤다.")
    t1 = datetime(2025, 4, 1, tzinfo=UTC)
    fp = fingerprint(story)
    with db.session() as s:
        queries.add_article(s, Article(url="u1", title="t", text=story, outlet="A"), source_name=None,
                            content_hash="h1", fingerprint=fp.simhash, sketch=fp.sketch, now=t1)
    with db.session() as s:
        assert queries.prune_article_texts(s, datetime(2025, 5, 1, tzinfo=UTC)) == 1
    rewrite = "[베이징=뉴스원] " + story.replace("내다봤다", "전망했다")
    other = fingerprint(rewrite)
    with db.session() as s:
        dup = queries.find_duplicate(s, "u2", "h2", other.simhash, t1, other.sketch)
        assert dup is not None and dup.url == "u1" and dup.text is None
        unrelated = fingerprint("카카오가 새 메신저 기능을 선보였다. " * 5)
        assert queries.find_duplicate(s, "u3", "h3", unrelated.simhash, t1, unrelated.sketch) is None


def test_recent_fingerprints_match_the_database_and_see_late_commits(db: Database) -> None:
    """The in-memory window finds what the database query finds, including a row whose lower id
    committed after a higher one (PostgreSQL assigns ids before commit), baseline articles whatever
    their age, and never duplicates or articles older than the window."""
    from datetime import timedelta

    from worker.store.schema import ArticleRow

    now = datetime(2025, 4, 10, tzinfo=UTC)
    fp = 0x0F0F_0F0F_0F0F_0F0F

    def add(s, art_id: int, simhash: int, age_days: float, *, baseline: bool = False,
            duplicate_of: int | None = None) -> None:
        s.add(ArticleRow(id=art_id, url=f"u{art_id}", outlet="o", title="t", text="x", content_hash=f"h{art_id}",
                         simhash=simhash, fetched_at=now - timedelta(days=age_days), is_baseline=baseline,
                         duplicate_of_id=duplicate_of, on_topic=True))
        s.flush()

    recent = queries.RecentFingerprints()
    since = now - queries.DUPLICATE_WINDOW
    with db.session() as s:
        add(s, 10, fp ^ 0b111, 1)            # 3 bits away
        add(s, 20, fp ^ 0b1, 30, baseline=True)  # old, but baseline
        add(s, 30, fp ^ 0b11, 30)            # too old
        add(s, 40, fp, 1, duplicate_of=10)   # a duplicate itself
        add(s, 50, ~fp, 1)                   # far away
    with db.session() as s:
        assert recent.closest(s, fp, since) == [(1, 20), (3, 10)]
    with db.session() as s:
        add(s, 5, fp ^ 0b11, 0)              # a lower id, committed later
    with db.session() as s:
        got = recent.closest(s, fp, since)
        assert got == [(1, 20), (2, 5), (3, 10)]
        db_rows = s.execute(queries.select(ArticleRow.id, ArticleRow.simhash).where(
            ArticleRow.duplicate_of_id.is_(None),
            queries.or_(ArticleRow.fetched_at >= since, ArticleRow.is_baseline.is_(True))))
        assert sorted((queries.distance(fp, h), i) for i, h in db_rows if queries.is_candidate(fp, h)) == got


def _stating_article(db: Database, n: int, when: datetime, values: list[tuple[float, str]],
                     baseline: bool = False) -> int:
    fig = Figure(value=0, unit="COUNT", qualifier=Qualifier.EXACT, subject="s", metric="m", sentence="")
    with db.session() as s:
        row = queries.add_article(s, Article(url=f"u{n}", title="t", text="x", outlet="o"), source_name=None,
                                  content_hash=f"h{n}", fingerprint=n, now=when, baseline=baseline)
        queries.add_figures(s, row, [(f"k{n}{i}", f"b{n}{i}", fig.__class__(**{**fig.__dict__, "value": v, "unit": u}))
                                     for i, (v, u) in enumerate(values)], when)
        return row.id


def test_values_stated_each_range_newest_first_within_the_window(db: Database) -> None:
    from datetime import timedelta

    now = datetime(2025, 4, 10, tzinfo=UTC)
    since = now - timedelta(days=7)
    recent = queries.RecentValues()
    seed = _stating_article(db, 1, now - timedelta(days=60), [(3, "COUNT")], baseline=True)
    old = _stating_article(db, 2, now - timedelta(days=30), [(3, "COUNT"), (4e7, "KRW")])
    a = _stating_article(db, 3, now - timedelta(days=2), [(3, "COUNT"), (4e7, "KRW")])
    b = _stating_article(db, 4, now - timedelta(days=1), [(3.01, "COUNT"), (7, "PCT")])
    me = _stating_article(db, 5, now, [(3, "COUNT")])
    with db.session() as s:
        got = recent.stating(s, [("COUNT", 2.99, 3.02), ("KRW", 4.1e7, 3.9e7), ("PCT", 1, 2), ("USD", 1, 2)],
                             since, me)
    assert got == [[b, a, seed], [a], [], []]
    assert old not in got[0]
    with db.session() as s:
        assert recent.stating(s, [], now, me) == []
    many = queries.MAX_STATING_ARTICLES
    for n in range(many + 3):
        _stating_article(db, 100 + n, now - timedelta(hours=12), [(9, "PERSON")])
    with db.session() as s:  # read after the first look: only the new articles are read
        (ids,) = recent.stating(s, [("PERSON", 9, 9)], since, me)
    assert len(ids) == many and ids == sorted(ids, reverse=True)


def test_values_stated_match_the_database_and_see_late_commits(db: Database) -> None:
    """The in-memory window gives what a scan of the figures table gives, for many articles and
    values (so that the sorted part is merged several times, dropping what left the window), and
    sees an article whose lower id committed after higher ones (PostgreSQL assigns ids first)."""
    import random
    from datetime import timedelta

    from worker.store.schema import ArticleRow, FigureRow

    rng = random.Random(7)
    now = datetime(2025, 4, 10, tzinfo=UTC)
    since = now - timedelta(days=7)
    recent = queries.RecentValues()
    units = ["COUNT", "KRW", "PCT"]
    _stating_article(db, 0, now - timedelta(days=40), [(5, "COUNT")], baseline=True)

    def batch(first: int, count: int) -> None:
        with db.session() as s:
            for n in range(first, first + count):
                when = now - timedelta(days=rng.uniform(0, 12))
                row = ArticleRow(url=f"u{n}", outlet="o", title="t", text="x", content_hash=f"h{n}", simhash=n,
                                 fetched_at=when, is_baseline=False, on_topic=True)
                s.add(row)
                s.flush()
                s.add_all(FigureRow(article_id=row.id, key="k", base_key="b", subject_key="s|x", subject="s",
                                    metric="m", value=rng.randint(1, 60), unit=rng.choice(units), qualifier="exact",
                                    sentence="", observed_at=when) for _ in range(30))

    def expected(s, unit: str, low: float, high: float, exclude: int) -> list[int]:
        rows = s.execute(queries.select(FigureRow.article_id).join(ArticleRow).where(
            FigureRow.unit == unit, FigureRow.value.between(low, high), FigureRow.article_id != exclude,
            queries.or_(ArticleRow.fetched_at >= since, ArticleRow.is_baseline.is_(True))).distinct())
        return sorted((i for (i,) in rows), reverse=True)[:queries.MAX_STATING_ARTICLES]

    wanted = [(rng.choice(units), v, v * 1.05) for v in (1, 5, 17, 30, 59.5, 61)]
    for first in (1, 150, 300):
        batch(first, 140)  # 4,200 values a batch: more than the unsorted tail holds
        with db.session() as s:
            got = recent.stating(s, wanted, since, exclude_id=first + 3)
            assert got == [expected(s, u, lo, hi, first + 3) for u, lo, hi in wanted]
    def add(s, art_id: int, value: float) -> None:
        s.add(ArticleRow(id=art_id, url=f"u{art_id}", outlet="o", title="t", text="x", content_hash=f"h{art_id}",
                         simhash=1, fetched_at=now, is_baseline=False, on_topic=True))
        s.flush()
        s.add(FigureRow(article_id=art_id, key="k", base_key="b", subject_key="s|count", subject="s", metric="m",
                        value=value, unit="COUNT", qualifier="exact", sentence="", observed_at=now))

    with db.session() as s:
        add(s, 5000, 999)
    with db.session() as s:
        assert recent.stating(s, [("COUNT", 999, 1000)], since, exclude_id=0) == [[5000]]
    with db.session() as s:  # a lower id, committed after the higher one was read
        add(s, 4990, 1000)
    with db.session() as s:
        assert recent.stating(s, [("COUNT", 999, 1000)], since, exclude_id=0) == [[5000, 4990]]


def test_known_claim_queries_return_what_comparison_needs(db: Database) -> None:
    """latest_figures_for: every value of the newest article under a key, in text order;
    by_base: the newest observation of each period; by_subject: each distinct value once;
    positions: the newest stance."""
    from datetime import timedelta

    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    base = Figure(value=0, unit="KRW", qualifier=Qualifier.EXACT, subject="s", metric="m", sentence="")

    def fig(value: float, period: str | None = None, sentence: str = "") -> Figure:
        return base.__class__(**{**base.__dict__, "value": value, "period": period, "sentence": sentence})

    def article(n: int, days: int, figures: list[tuple[str, str, Figure]], stance: Stance | None = None) -> None:
        with db.session() as s:
            row = queries.add_article(s, Article(url=f"u{n}", title="t", text="x", outlet=f"o{n}"), source_name=None,
                                      content_hash=f"h{n}", fingerprint=n, now=t0 + timedelta(days=days))
            queries.add_figures(s, row, figures, t0 + timedelta(days=days))
            if stance is not None:
                queries.add_positions(s, row, [("a|t", Position(actor="a", target="t", stance=stance,
                                                                modality=Modality.DONE, sentence=str(n)))],
                                      t0 + timedelta(days=days))

    article(1, 0, [("x|m|money|", "x|m|money", fig(1e8)), ("x|m|money|2024", "x|m|money", fig(5e7, "2024"))],
            Stance.OPPOSE)
    article(2, 1, [("x|m|money|", "x|m|money", fig(2e8, sentence="first")),
                   ("x|m|money|", "x|m|money", fig(3e8, sentence="second")),
                   ("x|n|money|", "x|n|money", fig(1e8))], Stance.SUPPORT)
    article(3, 2, [("x|m|money|2024", "x|m|money", fig(6e7, "2024"))])
    with db.session() as s:
        latest = queries.latest_figures_for(s, ["x|m|money|", "x|m|money|2024", "nothing"])
        assert [(p.value, p.sentence, p.outlet) for p in latest["x|m|money|"]] == [(2e8, "first", "o2"),
                                                                                 (3e8, "second", "o2")]
        assert [p.value for p in latest["x|m|money|2024"]] == [6e7] and "nothing" not in latest
        by_base = queries.known_figures_by_base(s, ["x|m|money"])["x|m|money"]
        assert [(p.period, p.value) for p in by_base] == [("2024", 6e7), (None, 2e8)]
        values = [p.value for p in queries.known_figures_by_subject(s, [("x|money", "KRW", 0, 1e9)])["x|money"]]
        assert sorted(values) == [5e7, 6e7, 1e8, 2e8, 3e8]  # 1e8 was stated twice: once here
        near = queries.known_figures_by_subject(s, [("x|money", "KRW", 1.5e8, 2.5e8), ("x|money", "KRW", 5e7, 5e7),
                                                    ("x|money", "USD", 0, 1e9), ("y|money", "KRW", 0, 1e9)])
        assert sorted(p.value for p in near["x|money"]) == [5e7, 2e8] and list(near) == ["x|money"]
        (pos,) = queries.known_positions_for(s, ["a|t"])["a|t"]
        assert pos.stance is Stance.SUPPORT and pos.sentence == "2"


def test_as_many_threads_as_connections_never_reopen_one(database_url: str) -> None:
    """Each connection the pool opens beyond its size is closed after use, and on PostgreSQL a new
    one costs a backend start with cold caches: ``connections`` threads using the store at once
    must reuse what is open. With a smaller pool the same load opens and closes connections."""
    import threading

    from sqlalchemy import event, text

    def opened(connections: int, threads: int = 8) -> int:
        db = Database(database_url, connections=connections)
        count = []
        event.listen(db.engine.pool, "connect", lambda *_: count.append(1))
        barrier = threading.Barrier(threads)

        def work() -> None:
            for _ in range(5):
                with db.session() as s:
                    s.execute(text("SELECT 1"))
                    barrier.wait(timeout=30)  # all threads hold a connection at once
                barrier.wait(timeout=30)  # and all have given it back

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        db.dispose()
        return len(count)

    assert opened(8) <= 8
    assert opened(4) > 8  # the overflow connections were opened again and again


def test_postgres_plans_each_execution_for_its_parameters(database_url: str) -> None:
    """A generic plan made while the tables were small would be kept as they grow."""
    from sqlalchemy import text

    import pytest

    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL setting")
    db = Database(database_url)
    with db.session() as s:
        assert s.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    db.dispose()


def test_sketch_cache_reads_each_sketch_once_and_keeps_the_most_recent(db: Database, monkeypatch) -> None:
    from sqlalchemy import event

    from worker.dedup import fingerprint

    monkeypatch.setattr(queries.SketchCache, "CAPACITY", 2)
    t1 = datetime(2025, 4, 1, tzinfo=UTC)
    ids = []
    with db.session() as s:
        for n in range(3):
            fp = fingerprint(f"{n}번째 기사: 과학기술정보통신부가 인공지능 반도체 지원 예산을 늘린다고 밝혔다. " * 3)
            ids.append(queries.add_article(s, Article(url=f"u{n}", title="t", text="x", outlet="o"), source_name=None,
                                           content_hash=f"h{n}", fingerprint=fp.simhash, sketch=fp.sketch, now=t1).id)
    reads: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: reads.append(a[2]))
    cache = queries.SketchCache()
    with db.session() as s:
        first = cache.get(s, ids[:2])
        assert len(reads) == 1 and set(first) == set(ids[:2])
        assert all(a.dtype == "uint64" and len(a) for a in first.values())
        cache.get(s, ids[:2])
        assert len(reads) == 1  # both from memory
        cache.get(s, [ids[1], ids[2]])  # ids[0] is now the least recently used: dropped
        assert len(reads) == 2
        cache.get(s, [ids[0]])
        assert len(reads) == 3
