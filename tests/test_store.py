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
        known = queries.known_figures_for(s, ["h100|가격|money|"])["h100|가격|money|"]
        assert [k.value for k in known] == [5e7, 4e7] and known[0].outlet == "B"
        (p,) = queries.known_positions_for(s, ["개인정보보호위원회|딥시크"])["개인정보보호위원회|딥시크"]
        assert p.stance is Stance.OPPOSE and p.actor == "개인정보위"
        (history,) = [h for h in queries.claim_history(s, subject="H100")]
        assert [o[1] for o in history.observations] == ["40,000,000 KRW (approx)", "50,000,000 KRW (approx)"]
        assert queries.find_duplicate(s, "u9", "h2", 0, t2).url == "u2"
    db.dispose()
