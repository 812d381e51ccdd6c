"""Claim extraction in worker processes.

Reading claims is CPU work in Python and in Kiwi; the collector's threads share one core under
the GIL, so a long-running worker hands article texts to a small process pool and the claims
are read on the other cores. Each worker process loads the lexicon and Kiwi once (about 500 MB).
Commands that read a few documents (``extract``, ``replay``) stay in-process.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path

from worker.claims import extract_claims
from worker.claims.lexicon import Lexicon, load_lexicon
from worker.errors import ConfigError
from worker.model import Claims
from worker.settings import Settings

#: One claim process by default: the main process then never loads Kiwi, so it costs little
#: memory, and claim reading gets a core of its own.
DEFAULT_PROCESSES = 1
_lexicon: Lexicon | None = None


def _start(config_dir: str, parent: int) -> None:
    global _lexicon
    # A Ctrl-C or a service stop signals the whole process group: the parent decides when this
    # process ends (it shuts the pool down after the article in hand), so ignore them here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()
    _lexicon = load_lexicon(Path(config_dir))
    extract_claims("워밍업 문장입니다. 1만 원.", _lexicon)  # load Kiwi before the first article


def _exit_with_parent(parent: int) -> None:
    """End this process when its parent is gone (killed with SIGKILL, it cannot shut us down)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _read(text: str, published: datetime | date | None) -> Claims:
    assert _lexicon is not None
    return extract_claims(text, _lexicon, published=published)


class ClaimPool:
    """``extract_claims`` for a text, run in one of ``processes`` worker processes."""

    def __init__(self, config_dir: Path, processes: int) -> None:
        # spawn, not fork: the parent has threads (scheduler, HTTP) and open database connections
        self._pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start, initargs=(str(config_dir), os.getpid()))

    def __call__(self, text: str, published: datetime | date | None = None) -> Claims:
        return self._pool.submit(_read, text, published).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def claim_pool(settings: Settings) -> ClaimPool | None:
    """The pool ``claims.processes`` in settings.yaml asks for (default 1; 0: none, claims are
    read in the main process)."""
    section = settings.extra.get("claims") or {}
    processes = section.get("processes", DEFAULT_PROCESSES) if isinstance(section, dict) else None
    if not isinstance(processes, int) or isinstance(processes, bool) or not 0 <= processes <= 16:
        raise ConfigError(f"{settings.config_dir / 'settings.yaml'}: claims.processes: expected a whole number "
                          f"from 0 to 16, got {processes!r}")
    return ClaimPool(settings.config_dir, processes) if processes else None
