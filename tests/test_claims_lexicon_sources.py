"""Where the claim extractor's words live: ``config/lexicon/*.yaml`` is their only source.

The code knows grammar (particles, endings, the contract's units and the currencies); every word list
a user may extend is read from the lexicon files, so an empty lexicon knows none of them and a word
added to a file is known without a code change.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from worker.claims.clause import Words
from worker.claims.lexicon import Lexicon, load_lexicon
from worker.claims.numbers import DEFAULT_UNITS, units_from
from worker.claims.stance import vocab

CONFIG = Path(__file__).resolve().parent.parent / "config"
CONTRACT_UNITS = {"KRW", "USD", "CNY", "JPY", "EUR", "PCT", "PP", "PERSON", "COUNT", "YEAR", "MONTH", "DAY", "HOUR",
                  "AGE", "NM", "RATIO", "TIMES"}


def test_an_empty_lexicon_knows_no_stance_or_figure_words() -> None:
    v = vocab(Lexicon(stance={}))
    assert not (v.support | v.oppose | v.light_verbs | v.light_nouns | v.use)
    words = Words.of(Lexicon(figures={}))
    assert not (words.generic | words.roles | words.anaphora | words.speakers | words.voices)


def test_code_units_are_the_contracts_and_the_currencies() -> None:
    """Measures the contract leaves as lowercase words (㎒, kWh, 회선) come from figures.yaml only."""
    money = {"gbp", "inr", "rub", "hkd", "twd", "aud", "cad", "sgd"}
    assert set(DEFAULT_UNITS.values()) <= CONTRACT_UNITS | money
    assert not set(DEFAULT_UNITS) & set(yaml.safe_load((CONFIG / "lexicon" / "figures.yaml").read_text())["units"])


def test_agreement_and_directive_words_are_read_from_stance_yaml(tmp_path: Path) -> None:
    """협약 and 체결하다 are words of stance.yaml: removing one there removes it from the extractor."""
    v = vocab(load_lexicon(CONFIG))
    assert {"협약", "mou", "시행", "의무화"} <= v.support and {"체결하다", "하달하다", "촉구하다"} <= v.light_verbs
    assert "공급" in v.use
    for name in ("watchlist.yaml",):
        (tmp_path / name).write_text((CONFIG / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "lexicon").mkdir()
    for path in (CONFIG / "lexicon").glob("*.yaml"):
        (tmp_path / "lexicon" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    stance = tmp_path / "lexicon" / "stance.yaml"
    stance.write_text(stance.read_text(encoding="utf-8").replace(" 협약,", ""), encoding="utf-8")
    assert "협약" not in vocab(load_lexicon(tmp_path)).support


def test_units_beyond_the_contract_are_extensible() -> None:
    units = units_from({"units": {"㎏": "kg"}})
    assert units["㎏"] == "kg" and units["원"] == "KRW"
