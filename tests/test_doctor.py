"""`policywatch doctor`, through the real command: all well exits 0; each kind of problem is named
in plain words and exits 1; nothing is sent and no schema is created."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.support.servers import FixtureServer, Reply
from tests.test_end_to_end import make_config

ROOT = Path(__file__).resolve().parent.parent


def doctor(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "worker.cli", "doctor"], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def site():
    with FixtureServer() as server:
        server.route("/feed.xml", (FIXTURES / "feeds" / "yonhap_rss.xml").read_bytes(),
                     headers={"Content-Type": "application/rss+xml"})
        server.route("/hook", handler=lambda req: Reply(500, b"no"))
        yield server


def make_env(tmp_path: Path, site: FixtureServer, database_url: str, notify: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env.update(POLICYWATCH_CONFIG=str(make_config(tmp_path, site.url("/feed.xml"))),
               POLICYWATCH_DATA_DIR=str(tmp_path / "data"), POLICYWATCH_DATABASE_URL=database_url,
               POLICYWATCH_NOTIFY_URLS=notify, POLICYWATCH_ALLOW_PRIVATE_HOSTS="127.0.0.1", PYTHONPATH=str(ROOT))
    return env


def test_all_well(site: FixtureServer, tmp_path: Path, database_url: str) -> None:
    env = make_env(tmp_path, site, database_url, f"json://127.0.0.1:{site.port}/hook")
    migrated = subprocess.run([sys.executable, "-m", "worker.cli", "migrate"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    result = doctor(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "ok     source local-test: HTTP 200" in out and "entries" in out
    assert "ok     schema: at the newest migration" in out
    assert "ok     destination json://127.0.0.1" in out
    assert "ok     alert queue: no alerts wait for a destination that is no longer configured" in out
    assert "all checks passed" in out
    assert not [r for r in site.requests if r.path == "/hook"], "doctor sends nothing"
    if database_url.startswith("postgresql"):  # what the server runs with, said either way
        from sqlalchemy import create_engine, text

        engine = create_engine(database_url)
        with engine.connect() as conn:
            setting = conn.execute(text("SHOW autovacuum")).scalar()
        engine.dispose()
        assert ("WARN   autovacuum: off on this server" in out if setting == "off"
                else "ok     autovacuum: on" in out), out
    else:
        assert "autovacuum" not in out


def test_problems_are_named(site: FixtureServer, tmp_path: Path, database_url: str) -> None:
    env = make_env(tmp_path, site, database_url, "notaservice://abc/def")
    cfg = Path(env["POLICYWATCH_CONFIG"])
    (cfg / "sources.yaml").write_text(
        "sources:\n"
        f"  - {{name: good, url: '{site.url('/feed.xml')}'}}\n"
        f"  - {{name: gone, url: '{site.url('/missing.xml')}'}}\n"
        f"  - {{name: not-a-feed, url: '{site.url('/hook')}'}}\n", encoding="utf-8")
    result = doctor(env, tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()

    def line(prefix: str) -> str:
        found = [ln for ln in lines if ln.startswith(prefix)]
        assert found, f"{prefix!r} not in:\n{result.stdout}"
        return found[0]

    assert "ok     source good" in result.stdout
    assert "404" in line("FAILED source gone")
    assert "500" in line("FAILED source not-a-feed")
    assert "apprise does not accept this URL" in line("FAILED destination notaservice://")
    schema = [ln for ln in lines if ln.startswith("FAILED database") or ln.startswith("FAILED schema")]
    assert schema and "policywatch migrate" in schema[0], result.stdout
    assert "checks failed" in lines[-1]
    assert "abc/def" not in result.stdout, "the destination's secret part is never printed"


def test_configuration_errors(site: FixtureServer, tmp_path: Path, sqlite_url: str) -> None:
    env = make_env(tmp_path, site, sqlite_url, "")
    settings = Path(env["POLICYWATCH_CONFIG"]) / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("article_text_days: 90", "article_text_days: -1")
                        .replace('listen: "127.0.0.1:9464"', 'listen: "nowhere"'), encoding="utf-8")
    result = doctor(env, tmp_path)
    assert result.returncode == 1
    assert "FAILED health settings:" in result.stdout and "health.listen" in result.stdout
    assert "FAILED retention settings:" in result.stdout and "article_text_days" in result.stdout
    assert "ok     destination console" in result.stdout


def test_alerts_waiting_for_a_removed_destination_are_a_warning(site: FixtureServer, tmp_path: Path,
                                                                database_url: str) -> None:
    from datetime import UTC, datetime

    from worker.store import outbox
    from worker.store.db import Database

    env = make_env(tmp_path, site, database_url, f"json://127.0.0.1:{site.port}/hook")
    db = Database(database_url)
    db.migrate()
    try:
        with db.session() as s:  # two alerts queued for a URL since removed from POLICYWATCH_NOTIFY_URLS
            for i in range(2):
                alert_id = outbox.insert_alert(s, key=f"k{i}", kind="figure", change="new", claim_key="c",
                                               target=None, article_id=None, payload={}, created_at=datetime.now(UTC))
                outbox.add_delivery(s, alert_id=alert_id, destination="0123456789abcdef",
                                    label="json://127.0.0.1:1 #012345", state="pending",
                                    next_attempt_at=datetime.now(UTC))
    finally:
        db.dispose()
    result = doctor(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr  # a warning, not a failure
    assert ("WARN   alert queue: 2 alerts wait for a destination that is no longer configured "
            "(json://127.0.0.1:1 #012345); they resume if it returns, or run "
            '"policywatch alerts --forget-removed" to drop them') in result.stdout.splitlines()
    # this machine's PostgreSQL may run without autovacuum: a warning of its own (see test_all_well)
    expected = ("all checks passed (2 warnings: autovacuum, alert queue)" if "WARN   autovacuum" in result.stdout
                else "all checks passed (1 warning: alert queue)")
    assert result.stdout.splitlines()[-1] == expected
