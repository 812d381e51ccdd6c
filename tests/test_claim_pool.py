"""Claims read in a worker process are the claims read in this one."""
from __future__ import annotations

from dataclasses import replace
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
    finally:
        pool.close()


def test_pool_setting_is_checked(tmp_path: Path) -> None:
    settings = load_settings({}, config_dir=CONFIG)
    assert claim_pool(replace(settings, extra={"claims": {"processes": 0}})) is None
    with pytest.raises(ConfigError, match="claims.processes: expected a whole number from 0 to 16"):
        claim_pool(replace(settings, extra={"claims": {"processes": "two"}}))
