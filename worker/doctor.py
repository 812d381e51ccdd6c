"""``policywatch doctor``: is this installation ready to run? Every check says what is wrong in
plain words; nothing is sent and nothing is written (not even the database schema).

Checks, in order: the configuration (sources, the lexicon, the ``notify``, ``health`` and
``retention`` sections, the seeds), the database (it answers; its schema is at the newest
migration; no alerts wait for a destination that is no longer configured), each enabled source
(one GET with a short timeout, then parsed as its kind says), and each notification destination
(apprise accepts the URL; no message is sent). The last heartbeat of ``run``/``once`` is shown for
information. A warning (``WARN``) names something to look at that does not stop the worker:
alerts waiting for a removed destination are one.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TextIO

from worker.errors import PolicywatchError
from worker.settings import Settings, redact

#: One GET per source: a working feed answers in well under this; the worker itself waits longer.
SOURCE_TIMEOUT_SECONDS = 5.0
SOURCE_WORKERS = 8


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool
    detail: str
    warn: bool = False  # ok, but worth a look: printed as WARN, not counted as a failure


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return redact(text.splitlines()[0])[:300]


def check_configuration(settings: Settings) -> list[Check]:
    """The configuration directory and every section other stages read."""
    from worker.alerts import destinations
    from worker.claims.lexicon import load_lexicon
    from worker.health import health_settings
    from worker.scheduler import retention_days

    out = []
    enabled = [s for s in settings.sources if s.enabled]
    out.append(Check("configuration", bool(enabled),
                     f"{settings.config_dir}: {len(settings.sources)} sources, {len(enabled)} enabled"
                     if enabled else f"{settings.config_dir / 'sources.yaml'}: no enabled source: nothing to poll"))
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("lexicon", lambda: load_lexicon(settings.config_dir)),
        ("notify settings", lambda: destinations(settings)),
        ("health settings", lambda: health_settings(settings)),
        ("retention settings", lambda: retention_days(settings)),
    ]
    for what, step in steps:
        try:
            step()
        except (PolicywatchError, OSError, ValueError) as exc:
            out.append(Check(what, False, _first_line(exc)))
    seeds = sorted(settings.seeds_dir.glob("*.txt")) if settings.seeds_dir.is_dir() else []
    out.append(Check("seeds", bool(seeds), f"{len(seeds)} seed articles in {settings.seeds_dir}" if seeds else
                     f"{settings.seeds_dir}: no seed articles: the first pass will alert on every claim it sees"))
    return out


def check_database(settings: Settings) -> list[Check]:
    """The database answers and its schema is at the newest migration (nothing is created)."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from worker.store.db import MIGRATIONS

    shown = "the database"
    try:
        url = make_url(settings.database_url)
        shown = url.render_as_string(hide_password=True)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            from pathlib import Path
            if not Path(url.database).expanduser().exists():
                return [Check("database", False, f"{shown}: the file does not exist yet; `policywatch migrate` "
                                                 "(or the first `once`/`run`) creates it")]
        engine = create_engine(url, connect_args={"connect_timeout": 5} if url.get_backend_name() == "postgresql"
                               else {})
    except Exception as exc:  # noqa: BLE001 - a bad URL, a missing driver
        return [Check("database", False, f"POLICYWATCH_DATABASE_URL is not usable: {_first_line(exc)}")]
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
            autovacuum = (conn.execute(text("SHOW autovacuum")).scalar()
                          if conn.dialect.name == "postgresql" else None)
    except Exception as exc:  # noqa: BLE001
        return [Check("database", False, f"{shown}: cannot connect: {_first_line(exc)}")]
    finally:
        engine.dispose()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    out = [Check("database", True, f"{shown}: connected")]
    if current == heads:
        out.append(Check("schema", True, f"at the newest migration ({', '.join(sorted(heads))})"))
    elif not current:
        out.append(Check("schema", False, "no schema yet: run `policywatch migrate` (`once` and `run` also do it)"))
    else:
        out.append(Check("schema", False, f"at {', '.join(sorted(current))}, the newest is {', '.join(sorted(heads))}: "
                                          "run `policywatch migrate`"))
    if autovacuum == "off":
        out.append(Check("autovacuum", True, "off on this server: the claim tables get statistics and "
                         "visibility maps only from a `VACUUM ANALYZE` you run (daily from cron, say)", warn=True))
    elif autovacuum is not None:
        out.append(Check("autovacuum", True, autovacuum))
    if current == heads:
        out.extend(check_waiting(settings))
    return out


def check_waiting(settings: Settings) -> list[Check]:
    """A warning when alerts wait for a destination that is no longer configured (nothing sent)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from worker.alerts import destinations, removed_note
    from worker.store import outbox

    try:
        configured = [d.id for d in destinations(settings)]
    except PolicywatchError:
        return []  # the configuration check says what is wrong
    engine = create_engine(settings.database_url)  # a plain engine: doctor sets no pragma, writes nothing
    try:
        with Session(engine) as session:
            found = outbox.waiting_for_removed(session, configured)
    except Exception as exc:  # noqa: BLE001 - the database check already passed; say what failed here
        return [Check("alert queue", False, f"cannot read the alert queue: {_first_line(exc)}")]
    finally:
        engine.dispose()
    if not found:
        return [Check("alert queue", True, "no alerts wait for a destination that is no longer configured")]
    return [Check("alert queue", True, removed_note(found), warn=True)]


def _check_source(settings: Settings, fetcher: Any, source: Any) -> Check:
    from worker import feeds

    what = f"source {source.name}"
    started = time.monotonic()
    try:
        url, headers = source.url, None
        if source.kind.value == "naver":
            url, headers = feeds.naver_request(source, settings)
        response = fetcher.get(url, purpose="feed", headers=headers)
        entries = feeds.parse_source(response.content, source, base_url=response.url)
    except PolicywatchError as exc:
        return Check(what, False, _first_line(exc))
    except Exception as exc:  # noqa: BLE001 - one source must not stop the others' checks
        return Check(what, False, f"unexpected error: {type(exc).__name__}: {_first_line(exc)}")
    took = time.monotonic() - started
    return Check(what, True, f"HTTP {response.status}, {len(entries)} entries ({took:.1f} s)")


def check_sources(settings: Settings, *, fetcher: Any = None) -> list[Check]:
    """One GET per enabled source with a short timeout, parsed as its kind says."""
    from worker.fetch import Fetcher

    sources = [s for s in settings.sources if s.enabled]
    if not sources:
        return []
    quick = replace(settings, fetch=replace(settings.fetch, timeout_seconds=SOURCE_TIMEOUT_SECONDS))
    own = fetcher is None
    fetcher = fetcher or Fetcher(quick)
    try:
        with ThreadPoolExecutor(max_workers=min(SOURCE_WORKERS, len(sources))) as pool:
            return list(pool.map(lambda s: _check_source(quick, fetcher, s), sources))
    finally:
        if own:
            fetcher.close()


def check_destinations(settings: Settings, *, notifier: Any = None) -> list[Check]:
    """Whether apprise accepts each notification URL (nothing is sent)."""
    from worker.alerts import Notifier, destinations

    try:
        dests = destinations(settings)
    except PolicywatchError as exc:
        return [Check("destinations", False, _first_line(exc))]
    notifier = notifier or Notifier(timeout_seconds=settings.delivery.timeout_seconds)
    out = []
    for dest in dests:
        if dest.is_console:
            out.append(Check("destination console", True, "POLICYWATCH_NOTIFY_URLS is empty: alerts are printed "
                                                          "on standard output"))
            continue
        try:
            notifier.check(dest)
        except PolicywatchError as exc:
            out.append(Check(f"destination {dest.label}", False, _first_line(exc)))
        else:
            out.append(Check(f"destination {dest.label}", True, "apprise accepts the URL (not sent; "
                                                               "`policywatch notify-test` sends a sample)"))
    return out


def heartbeat_note(settings: Settings, now: datetime | None = None) -> str:
    from worker.health import read_heartbeat

    beat = read_heartbeat(settings.data_dir)
    if beat is None:
        return "no heartbeat yet (written by each `once` and by `run` every tick)"
    try:
        age = ((now or datetime.now(UTC)) - datetime.fromisoformat(str(beat["time"]))).total_seconds()
    except (KeyError, ValueError, TypeError):
        return "the heartbeat file is unreadable"
    return f"last heartbeat: `{beat.get('command', '?')}` {age / 60:.0f} min ago"


def run(settings: Settings, out: TextIO, *, sections: Sequence[str] = ("configuration", "database", "sources",
                                                                       "destinations")) -> int:
    """Print every check, one line each; 0 when all passed, 1 otherwise."""
    checks: list[Check] = []
    steps = {"configuration": check_configuration, "database": check_database, "sources": check_sources,
             "destinations": check_destinations}
    for name in sections:
        found = steps[name](settings)
        for c in found:
            out.write(f"{'FAILED' if not c.ok else 'WARN  ' if c.warn else 'ok    '} {c.what}: {c.detail}\n")
        checks.extend(found)
        out.flush()
    out.write(f"       {heartbeat_note(settings)}\n")
    failed = [c for c in checks if not c.ok]
    warned = [c.what for c in checks if c.ok and c.warn]
    warnings = f" ({len(warned)} warning{'s' if len(warned) > 1 else ''}: {', '.join(warned)})" if warned else ""
    out.write(f"all checks passed{warnings}\n" if not failed else
              f"{len(failed)} of {len(checks)} checks failed: {', '.join(c.what for c in failed)}{warnings}\n")
    return 1 if failed else 0
