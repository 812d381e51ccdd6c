"""Claims read in a worker process are the claims read in this one."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import CONFIG, SEEDS
from worker.claims import extract_claims
from worker.claims.lexicon import Lexicon
from worker.claims.pool import ClaimPool, claim_pool
from worker.documents import read_document
from worker.errors import ConfigError
from worker.settings import load_settings


@pytest.mark.slow
def test_pool_reads_the_same_claims(lexicon: Lexicon) -> None:
    text = read_document(SEEDS / "001_1e1a30bdb7c7dbea.txt").text
    pool = ClaimPool(CONFIG, 1)
    try:
        assert pool(text) == extract_claims(text, lexicon)
        dated = "AI 예산 늘어\n과기정통부의 올해 AI 예산은 1조 원으로 지난해 8천억 원보다 늘었다."
        when = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
        read = pool(dated, when)
        assert read == extract_claims(dated, lexicon, published=when)
        assert {f.period for f in read.figures} == {"2025", "2024"}, read.figures
    finally:
        pool.close()


def test_pool_setting_is_checked(tmp_path: Path) -> None:
    settings = load_settings({}, config_dir=CONFIG)
    assert claim_pool(replace(settings, extra={"claims": {"processes": 0}})) is None
    with pytest.raises(ConfigError, match="claims.processes: expected a whole number from 0 to 16"):
        claim_pool(replace(settings, extra={"claims": {"processes": "two"}}))


@pytest.mark.slow
def test_claim_processes_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    """A parent killed with SIGKILL cannot shut its pool down: the claim processes notice and
    exit instead of holding ~500 MB each for ever."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import multiprocessing, sys\n"
        "from pathlib import Path\n"
        "from worker.claims.pool import ClaimPool\n"
        "if __name__ == '__main__':\n"
        f"    pool = ClaimPool(Path({str(CONFIG)!r}), 1)\n"
        "    pool('워밍업 1만 원.')\n"
        "    print(' '.join(str(p.pid) for p in multiprocessing.active_children()), flush=True)\n"
        "    sys.stdin.read()\n", encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        children = [int(p) for p in parent.stdout.readline().split()]
        assert children
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 30
        alive = children
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = [pid for pid in children if _running(pid)]
        assert not alive, f"claim processes still running after their parent was killed: {alive}"
    finally:
        if parent.poll() is None:
            parent.kill()


def _running(pid: int) -> bool:
    import os
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        os.kill(pid, 0)
        return True
