"""The files in ``deploy/`` agree with the program they start.

They cannot run here (no Docker daemon, no systemd as PID 1, no cluster), so these tests check
what would break them silently: a subcommand or environment variable that does not exist, a stop
grace period shorter than the 45 s a clean stop may take, a health check on another port than
``health.listen``, two schedulers that could overlap, a unit file systemd would not parse.
"""
from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from worker import cli, settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
#: ``run`` leaves within this many seconds of SIGTERM (scheduler); every stop grace period must exceed it
CLEAN_STOP_SECONDS = 45


def _subcommands() -> set[str]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(action.choices)


def _deploy_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file())


def _health_port() -> int:
    listen = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))["health"]["listen"]
    return int(listen.rsplit(":", 1)[1])


def _seconds(value: str | int) -> int:
    """``60``, ``"60s"``, ``"2min"``, ``"1m30s"`` as seconds."""
    if isinstance(value, int):
        return value
    total, units = 0, {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    for number, unit in re.findall(r"(\d+)\s*([a-z]*)", value):
        total += int(number) * units[unit or "s"]
    return total


def test_every_policywatch_command_in_deploy_exists() -> None:
    known, seen = _subcommands(), []
    for path in _deploy_files():
        text = path.read_text(encoding="utf-8")
        seen += [(path.name, m) for m in re.findall(r"bin/policywatch (\w+)", text)]
        if path.suffix in (".yaml", ".yml"):
            for doc in yaml.safe_load_all(text):
                seen += [(path.name, c) for c in _container_commands(doc)]
    seen += re.findall(r'CMD \["(\w+)"\]', (DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    assert seen, "no policywatch command found in deploy/"
    unknown = [s for s in seen if (s[1] if isinstance(s, tuple) else s) not in known]
    assert not unknown, f"subcommands that policywatch does not have: {unknown}"


def _container_commands(node: object) -> list[str]:
    """The first argument of every ``args``/``command`` list under a compose service or pod spec."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("args", "command") and isinstance(value, list) and value and "python" not in value[0]:
                found.append(value[0])
            else:
                found += _container_commands(value)
    elif isinstance(node, list):
        for item in node:
            found += _container_commands(item)
    return found


def test_environment_variables_are_the_ones_policywatch_reads() -> None:
    read = {getattr(settings, n) for n in dir(settings) if n.startswith("ENV_")}
    for path in _deploy_files():
        named = set(re.findall(r"POLICYWATCH_[A-Z_]+", path.read_text(encoding="utf-8")))
        assert named <= read, f"{path.relative_to(ROOT)} names variables policywatch never reads: {named - read}"


def test_health_checks_use_the_shipped_health_port() -> None:
    port = _health_port()
    for path in (DEPLOY / "Dockerfile", DEPLOY / "compose.yaml", DEPLOY / "kubernetes" / "policywatch.yaml"):
        ports = {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)/healthz", path.read_text(encoding="utf-8"))}
        assert ports == {port}, f"{path.name} checks {ports}, settings.yaml listens on {port}"


def test_compose_gives_a_clean_stop_time_and_waits_for_postgres() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    worker = compose["services"]["worker"]
    assert _seconds(worker["stop_grace_period"]) > CLEAN_STOP_SECONDS
    assert worker["depends_on"]["db"]["condition"] == "service_healthy"
    assert worker["environment"]["POLICYWATCH_DATABASE_URL"].startswith("postgresql+psycopg://")
    context = (DEPLOY / worker["build"]["context"]).resolve()
    assert context == ROOT and (context / worker["build"]["dockerfile"]).exists()


def test_kubernetes_runs_one_worker_and_never_overlaps_passes() -> None:
    docs = {d["kind"]: d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "policywatch.yaml").read_text("utf-8"))}
    deployment, cronjob = docs["Deployment"], docs["CronJob"]
    assert deployment["spec"]["replicas"] == 1
    # a rolling update would run the old and the new pod side by side
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > CLEAN_STOP_SECONDS
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert len(cronjob["spec"]["schedule"].split()) == 5
    job = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert job["restartPolicy"] in ("Never", "OnFailure")


def test_dockerfile_copies_what_exists_and_starts_the_console_script() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for line in re.findall(r"^COPY (.+)$", text, flags=re.M):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the project"
    assert 'ENTRYPOINT ["policywatch"]' in text
    assert 'policywatch = "worker.cli:main"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_crontab_line_is_a_valid_schedule_that_skips_overlapping_passes() -> None:
    lines = [ln for ln in (DEPLOY / "crontab").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(maxsplit=5)
    for field in fields[:5]:
        assert re.fullmatch(r"[\d*/,-]+", field), f"not a cron field: {field}"
    command = shlex.split(fields[5])
    assert "flock" in command and "-n" in command
    assert command[command.index("flock") + 3].endswith("policywatch") and "once" in command


def test_systemd_stop_timeouts_exceed_the_clean_stop() -> None:
    for name in ("policywatch.service", "policywatch-once.service"):
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        assert _seconds(re.search(r"^TimeoutStopSec=(\S+)", text, flags=re.M).group(1)) > CLEAN_STOP_SECONDS
    once = (DEPLOY / "systemd" / "policywatch-once.service").read_text(encoding="utf-8")
    assert re.search(r"^SuccessExitStatus=143$", once, flags=re.M)  # a stop is not a failed pass


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_parse_without_warnings(tmp_path: Path) -> None:
    """``systemd-analyze verify`` on copies whose ExecStart points at this checkout's command (the
    units name /opt/policywatch, which does not exist here). Unknown keys and bad values are only
    warnings to systemd, so any output fails the test."""
    executable = shutil.which("policywatch", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("the policywatch command is not installed next to this Python")
    units = []
    for path in sorted((DEPLOY / "systemd").iterdir()):
        copy = tmp_path / path.name
        copy.write_text(path.read_text(encoding="utf-8").replace("/opt/policywatch/.venv/bin/policywatch",
                                                                 executable), encoding="utf-8")
        units.append(str(copy))
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip() and not result.stdout.strip(), \
        result.stderr or result.stdout
