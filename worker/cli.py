"""The ``policywatch`` command line."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from worker import __version__
from worker.errors import ConfigError, ExtractError, PolicywatchError, StoreError
from worker.settings import Settings, load_settings

log = logging.getLogger("policywatch")

EPILOG = """\
examples:
  policywatch run                       poll every source at its interval until stopped
  policywatch once                      one pass over every source, then exit (cron, timers)
  policywatch extract --format json seeds/*.txt
  policywatch replay --format json new-article.txt
  policywatch claims --subject 딥시크
  policywatch alerts --limit 20

environment:
  POLICYWATCH_CONFIG        configuration directory (default: ./config)
  POLICYWATCH_DATA_DIR      SQLite database and heartbeat.json (default: ./data)
  POLICYWATCH_DATABASE_URL  SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db
  POLICYWATCH_NOTIFY_URLS   apprise URLs (whitespace or comma separated); none: alerts print here
  POLICYWATCH_ALLOW_PRIVATE_HOSTS  hosts or networks that may be fetched although private
  POLICYWATCH_LANGUAGE      language of alerts, ko or en (overrides settings.yaml)

exit status:
  0 done; 1 failed (the message says why); 2 configuration error; 3 database error;
  once: 143 (SIGTERM) or 130 (SIGINT) when a signal stopped its pass
"""


def _figure_json(f: Any) -> dict[str, Any]:
    from worker.payloads import _number, _quantity

    return {"value": _number(f.value), "unit": f.unit, "qualifier": f.qualifier.value, "subject": f.subject,
            "metric": f.metric, "period": f.period, "sentence": f.sentence, "equivalent": _quantity(f.equivalent),
            "value_max": _number(f.value_max) if f.value_max is not None else None}


def _position_json(p: Any) -> dict[str, Any]:
    return {"actor": p.actor, "target": p.target, "stance": p.stance.value, "modality": p.modality.value,
            "sentence": p.sentence, "actor_text": p.actor_text or p.actor, "actor_parent": p.actor_parent}


def _print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def cmd_extract(settings: Settings, args: argparse.Namespace) -> int:
    from worker.claims import extract_claims
    from worker.claims.lexicon import load_lexicon
    from worker.documents import read_document

    lexicon = load_lexicon(settings.config_dir)
    failed = 0
    for name in args.paths:
        try:
            article = read_document(Path(name), url=name)
        except ExtractError as exc:
            failed += 1
            print(f"policywatch: {exc}", file=sys.stderr)
            if args.format == "json":
                _print_json({"source": name, "error": str(exc), "title": "", "published": None, "text": "",
                             "figures": [], "positions": []})
            continue
        claims = extract_claims(article.text, lexicon, published=article.published)
        if args.format == "json":
            _print_json({"source": name, "title": article.title,
                         "published": article.published.isoformat() if article.published else None,
                         "text": article.text, "figures": [_figure_json(f) for f in claims.figures],
                         "positions": [_position_json(p) for p in claims.positions]})
            continue
        print(f"== {name}: {article.title}")
        for f in claims.figures:
            print(f"  figure   {f.subject} · {f.metric}: {f.qualifier.value} {f.value:g} {f.unit}"
                  + (f" ({f.period})" if f.period else ""))
        for p in claims.positions:
            print(f"  position {p.actor} → {p.target}: {p.stance.value} ({p.modality.value})")
    return 1 if failed else 0


def database_connections(settings: Settings) -> int:
    """Database connections to keep open: one per source polled at once, per alert sender, and
    two for the health and metrics readers."""
    from worker.alerts.delivery import MAX_SENDERS

    return settings.fetch.sources_at_once + MAX_SENDERS + 2


@contextmanager
def _database(settings: Settings) -> Iterator[Any]:
    """The database at the newest schema, disposed of afterwards."""
    from worker.store.db import Database

    db = Database(settings.database_url, connections=database_connections(settings))
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()


def _open(settings: Settings, *, baseline: bool = True, pool: bool = False) -> tuple[Any, Any]:
    """The migrated database and a pipeline on it (learning the seeds into an empty store); with
    ``pool``, claims are read in the worker processes ``claims.processes`` asks for."""
    from worker.claims.lexicon import load_lexicon
    from worker.claims.pool import claim_pool
    from worker.pipeline import Pipeline
    from worker.store.db import Database

    db = Database(settings.database_url, connections=database_connections(settings))
    db.migrate()
    pipeline = Pipeline(settings, db, load_lexicon(settings.config_dir), reader=claim_pool(settings) if pool else None)
    if baseline:
        pipeline.ensure_baseline()
    return db, pipeline


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from worker.documents import read_document
    from worker.pipeline import outbox_sink

    baseline_dir = Path(args.baseline) if args.baseline else settings.seeds_dir
    if not baseline_dir.is_dir():
        raise ConfigError(f"{baseline_dir}: baseline directory not found")
    with tempfile.TemporaryDirectory(prefix="policywatch-replay-") as tmp:
        settings = replace(settings, database_url=f"sqlite:///{Path(tmp) / 'replay.db'}", data_dir=Path(tmp))
        db, pipeline = _open(settings, baseline=False)
        pipeline.sink = outbox_sink(settings, deliver=False)
        docs = sorted(p for p in baseline_dir.iterdir() if p.suffix.lower() in (".txt", ".html", ".htm"))
        pipeline.learn_baseline(docs)
        failed = 0
        for name in args.paths:
            try:
                outcome = pipeline.process_article(read_document(Path(name), url=name), source_name="replay")
            except ExtractError as exc:
                failed += 1
                print(f"policywatch: {exc}", file=sys.stderr)
                continue
            for payload in outcome.alerts:
                if args.format == "json":
                    _print_json(payload)
                else:
                    from worker.alerts import render
                    title, body = render(payload, language=settings.language, timezone=settings.timezone,
                                         templates=settings.config_dir / "templates")
                    print(f"{title}\n{body}\n")
        db.dispose()
    return 1 if failed else 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    db, pipeline = _open(settings, baseline=False)
    paths = [Path(p) for p in args.paths] or sorted(settings.seeds_dir.glob("*.txt"))
    learned = pipeline.learn_baseline(paths)
    print(f"learned {learned} of {len(paths)} articles as known claims (already known ones are skipped)")
    db.dispose()
    return 0


def cmd_once(settings: Settings, args: argparse.Namespace) -> int:
    from worker.scheduler import run_once

    # 0 when the pass ran; 143 (SIGTERM) or 130 (SIGINT) when a signal stopped it (worker.scheduler)
    return run_once(settings, lambda: _open(settings, pool=True), args.source)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from worker.scheduler import run_forever

    db, pipeline = _open(settings, pool=True)
    try:
        run_forever(settings, db, pipeline)
    finally:
        pipeline.close()
        db.dispose()
    return 0


def cmd_claims(settings: Settings, args: argparse.Namespace) -> int:
    from worker.store import queries

    with _database(settings) as db, db.session() as session:
        histories = queries.claim_history(session, subject=args.subject, target=args.target, limit=args.limit)
    if not histories:
        print("no known claims match" + (" (run `policywatch seed` first?)" if not (args.subject or args.target) else ""))
    for h in histories:
        print(f"{h.kind:8} {h.label}")
        for seen, value, outlet, source in h.observations:
            print(f"           {seen:%Y-%m-%d %H:%M}  {value:28} {outlet or '-'}  {source}")
    return 0


def cmd_alerts(settings: Settings, args: argparse.Namespace) -> int:
    from worker.alerts import forget_removed, removed_note, waiting_for_removed
    from worker.store.outbox import recent_alerts

    with _database(settings) as db:
        if args.forget_removed:
            dropped = forget_removed(db, settings)
            for r in dropped:
                print(f"gave up {r.count} alert{'s' if r.count != 1 else ''} waiting for {r.label} "
                      "(no longer configured): now failed")
            if not dropped:
                print("no alerts wait for a destination that is no longer configured")
            return 0
        with db.session() as session:
            rows = recent_alerts(session, args.limit)
            for row in rows:
                print(_alert_line(row))
            if not rows:
                print("no alerts yet")
        waiting = waiting_for_removed(db, settings)
        if waiting:
            print(removed_note(waiting))
    return 0


def _alert_line(row: Any) -> str:
    alert, deliveries = row.alert, row.deliveries
    p = alert.payload or {}
    what = (f"{p.get('subject')} · {p.get('metric')}: {p.get('value')} {p.get('unit')}" if alert.kind == "figure"
            else f"{p.get('actor')} → {p.get('target')}: {p.get('stance')}" if alert.kind == "position"
            else p.get("message", ""))
    states = ", ".join(f"{getattr(d, 'label', '?')}={getattr(d, 'state', '?')}" for d in deliveries) or "no destination"
    return f"{alert.created_at:%Y-%m-%d %H:%M}  {alert.kind:8} {alert.change:9} {what}  [{states}]"


def cmd_sources(settings: Settings, args: argparse.Namespace) -> int:
    from worker.store import queries

    with _database(settings) as db, db.session() as session:
        states = {s.name: s for s in queries.all_source_states(session)}
    for source in settings.sources:
        st = states.get(source.name)
        if st is None:
            print(f"{source.name:28} never polled           {source.url}")
            continue
        checked = f"{st.last_checked_at:%Y-%m-%d %H:%M}" if st.last_checked_at else "never"
        health = "ok" if not st.error_count else f"{st.error_count} failures: {st.last_error}"
        print(f"{source.name:28} {checked}  {st.articles_seen:5} articles  {health}")
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    with _database(settings):
        print("database schema is up to date")
    return 0


def cmd_notify_test(settings: Settings, args: argparse.Namespace) -> int:
    from worker.alerts import notify_test

    results = notify_test(settings)
    for label, ok, detail in results:
        print(f"{'ok    ' if ok else 'FAILED'} {label}: {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from worker import doctor

    return doctor.run(settings, sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policywatch", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Watch Korean tech-policy news; alert on new figures and changed positions.\n"
                    "`policywatch COMMAND --help` explains each command.")
    parser.add_argument("--version", action="version", version=f"policywatch {__version__}")
    parser.add_argument("--config", metavar="DIR", help="configuration directory (overrides POLICYWATCH_CONFIG)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="least severe log messages shown on stderr (default: INFO)")
    parser.add_argument("--log-json", action="store_true",
                        help="log one JSON object per line (time, level, logger, message, source, url)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func: Any, help_: str, description: str = "") -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=description or help_,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    add("run", cmd_run, "poll every source at its interval until SIGINT/SIGTERM",
        "Run as a service: each enabled source is polled at its (adaptive) interval, alerts are\n"
        "delivered as they come, old article texts are pruned daily. With health.listen set in\n"
        "settings.yaml it serves /healthz and /metrics. SIGINT or SIGTERM stops it after the article\n"
        "in hand (within 45 s); it then exits 0.")
    once = add("once", cmd_once, "one pass over every source, deliver alerts, exit (for cron)",
               "One pass over every enabled source, then deliver due alerts, prune old article texts and\n"
               "exit. Each source is reported in one line.\n\n"
               "exit status:\n"
               "  0    the pass ran; failing sources are reported and do not make it fail\n"
               "  143  SIGTERM stopped the pass (130 for SIGINT, Ctrl-C): the article in hand was\n"
               "       finished, the rest is read by the next pass")
    once.add_argument("--source", action="append", metavar="NAME",
                      help="only the source of this name in sources.yaml (repeatable)")
    seed = add("seed", cmd_seed, "learn the seed articles as known claims, without alerts",
               "Learn the claims of article files as known claims, without alerts: later articles are\n"
               "compared with them. Files already learned are skipped. The first start of run or once\n"
               "learns the seeds directory by itself.")
    seed.add_argument("paths", nargs="*", metavar="PATH",
                      help="article files, .txt or .html (default: the .txt files of the seeds directory)")
    ext = add("extract", cmd_extract, "print the claims of article files",
              "Read each PATH (.txt article text, or .html news page) and print its figures and positions.")
    ext.add_argument("--format", choices=["json", "text"], default="text",
                     help="json: one object per file, one per line; text: readable lines (default)")
    ext.add_argument("paths", nargs="+", metavar="PATH", help="article file: .txt text or .html news page")
    rep = add("replay", cmd_replay, "print the alerts article files would raise",
              "Start from an empty temporary store, learn the baseline, then take each PATH as a newly\n"
              "collected article and print every alert it would send.")
    rep.add_argument("--baseline", metavar="DIR",
                     help="directory of documents learned first as known claims (default: the seeds)")
    rep.add_argument("--format", choices=["json", "text"], default="text",
                     help="json: one alert object per line; text: alerts as they would be sent (default)")
    rep.add_argument("paths", nargs="+", metavar="PATH",
                     help="article file (.txt or .html), taken as newly collected in the order given")
    cl = add("claims", cmd_claims, "show known claims and their history",
             "Show known claims with their history: each figure's values over time and each actor's\n"
             "stances, with the outlet and source of each.")
    cl.add_argument("--subject", metavar="TEXT", help="only figures whose subject contains TEXT")
    cl.add_argument("--target", metavar="TEXT", help="only positions whose target contains TEXT")
    cl.add_argument("--limit", type=int, default=50, metavar="N", help="at most N claims (default: 50)")
    al = add("alerts", cmd_alerts, "show recent alerts and their delivery state",
             "Show recent alerts and their delivery state per destination. Alerts for a destination whose\n"
             "URL left POLICYWATCH_NOTIFY_URLS wait (and resume if it returns); --forget-removed gives\n"
             "them up (they stay listed, as failed).")
    al.add_argument("--limit", type=int, default=20, metavar="N", help="the N most recent alerts (default: 20)")
    al.add_argument("--forget-removed", action="store_true",
                    help="give up the alerts waiting for destinations that are no longer configured")
    add("sources", cmd_sources, "show each source's last poll, articles seen and last error")
    add("migrate", cmd_migrate, "create or upgrade the database schema (run and once also do it on start)")
    add("notify-test", cmd_notify_test, "send a sample alert to every destination and report each",
        "Send a sample alert to every destination in POLICYWATCH_NOTIFY_URLS (the console when none\n"
        "is set) and report each; exit 1 if one fails.")
    add("doctor", cmd_doctor, "check configuration, database, sources and destinations; exit 1 if any is wrong",
        "Check the configuration, the database (reachable, schema at the newest migration), each\n"
        "source (one GET, 5 s timeout) and each destination (apprise accepts the URL; nothing is\n"
        "sent). Say what is wrong in plain words; exit 0 when all is well, 1 otherwise.")
    return parser


def setup_logging(level: str, as_json: bool) -> None:
    from worker.logs import configure

    configure(level, as_json=as_json)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level, args.log_json)
    try:
        settings = load_settings(config_dir=Path(args.config) if args.config else None)
        return int(args.func(settings, args) or 0)
    except ConfigError as exc:
        print(f"policywatch: configuration error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"policywatch: database error: {exc}", file=sys.stderr)
        return 3
    except PolicywatchError as exc:
        print(f"policywatch: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
