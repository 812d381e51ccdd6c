"""Quality gate for figure extraction (in the style of trafilatura's ``tests/eval_gate.py``).

Annotated Korean fixtures in ``tests/fixtures/figures/`` (one JSON file per case: raw ``text`` and
the expected ``figures``) and the four seeds with the project's copy of the seed gold file are
scored for precision, recall, subject, metric and qualifier, the same way as
``../shared/eval/score.py``. ``heldout/`` holds ten whole articles (``NNN.txt``, gold in
``heldout_gold.json``) written apart from the extractor's development, in other outlets' styles:
its floors say how the extractor does on text it was not tuned on. ``heldout2/`` and ``heldout3/`` were
later used while improving the extractor (optimistic now), and so was ``heldout4/``; ``heldout5/`` (six articles
on other topics written, with their gold, before the change that added it and measured only before and after
it) is the honest one. A change that drops a score below its floor fails the build; raise a floor when the
extractor gets better.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from worker.claims.figures import extract_figures
from worker.claims.lexicon import Lexicon
from worker.model import Figure
from worker.normalize import normalize_text

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "figures"
SEEDS = HERE.parent / "seeds"
HELDOUT = FIXTURES / "heldout"
HELDOUT2 = FIXTURES / "heldout2"
HELDOUT3 = FIXTURES / "heldout3"
HELDOUT4 = FIXTURES / "heldout4"
HELDOUT5 = FIXTURES / "heldout5"

#: Floors, pinned a little under the scores measured when the gate was written (fixtures: P 1.000
#: R 1.000 subject 0.974 metric 0.947 qualifier 1.000; seeds: P 1.000 R 1.000 subject 1.000 metric
#: 1.000 qualifier 0.974 — the gold marks "약 4천만 원" exact where the contract says approx).
#: Held-out articles, measured when they were added: P 0.996 R 0.996 subject 0.674 metric 0.667
#: qualifier 0.996 (before the attribution work of that change: P 0.988 R 0.962 subject 0.575 metric
#: 0.583 qualifier 0.964). Attribution is the weak part; raise these as it improves.
#: After the attribution rework (paragraph-scoped subjects, clause subjects, measure owners, lists,
#: objects, purposes): fixtures and seeds 1.000 subject and metric; heldout subject 0.801 metric 0.808.
#: heldout2 (six articles written for that rework and used while making it: optimistic) went from
#: P 0.993 R 1.000 subject 0.736 metric 0.716 qualifier 0.966 to P 1.000 R 1.000 subject 0.946 metric
#: 0.926. heldout3 (six articles written with heldout2, measured only before and after that work and
#: never tuned on) is the honest number: P 0.993 R 0.952 subject 0.710 metric 0.717 qualifier 0.971
#: before, P 0.993 R 0.952 subject 0.768 metric 0.804 qualifier 0.971 after.
#: The units, look-alike, attribution and directive work (telecom and computing units, counts of quarters,
#: market voices, counted things, lists of owners) used heldout2 and heldout3 as development material, so
#: heldout3 is now tuned on too: P 1.000 R 1.000 subject 0.883 metric 0.841 qualifier 0.972 after (heldout
#: and heldout2 unchanged: 0.996/0.996/0.801/0.808/0.996 and 1.000/1.000/0.946/0.926/0.966). heldout4
#: (written and labelled before that work, never tuned on) is the honest number: P 1.000 R 0.901 subject
#: 0.862 metric 0.826 qualifier 1.000 before, P 1.000 R 1.000 subject 0.893 metric 0.851 qualifier 1.000 after.
#: The per-unit, measure-topic and glued-name work (핀당 / kWh당 / 1인당 are never subjects, 대역폭 and 낙찰가
#: are measures, 삼성SDS is not 삼성전자, AWS is its own entity) used heldout4's misses as development
#: material, so heldout4 is tuned on now: subject 0.917 metric 0.868 after (heldout3 subject 0.876 metric
#: 0.848, the others unchanged). heldout5 (six articles on chip subsidies, AI visas, CSAP, platform law,
#: autonomous driving and rare earths, written and labelled before that work, never tuned on) is the honest
#: number: P 1.000 R 0.893 subject 0.747 metric 0.827 qualifier 0.973 before, P 1.000 R 0.893 subject 0.813
#: metric 0.840 qualifier 0.973 after (its misses: 종, ㎏ and 일분 are no units, 15일에서 45일로 reads as dates).
FLOORS = {
    "fixtures": {"precision": 0.95, "recall": 0.95, "subject": 0.95, "metric": 0.95, "qualifier": 0.90},
    "seeds": {"precision": 0.95, "recall": 0.95, "subject": 0.95, "metric": 0.95, "qualifier": 0.90},
    "heldout": {"precision": 0.97, "recall": 0.97, "subject": 0.77, "metric": 0.78, "qualifier": 0.96},
    "heldout2": {"precision": 0.97, "recall": 0.97, "subject": 0.91, "metric": 0.89, "qualifier": 0.93},
    "heldout3": {"precision": 0.97, "recall": 0.97, "subject": 0.85, "metric": 0.81, "qualifier": 0.95},
    "heldout4": {"precision": 0.97, "recall": 0.97, "subject": 0.89, "metric": 0.84, "qualifier": 0.96},
    "heldout5": {"precision": 0.97, "recall": 0.87, "subject": 0.79, "metric": 0.81, "qualifier": 0.95},
}
#: Periods of matched figures (``period_scores``): the share of gold periods found, the share of
#: figures without one left without one. Measured with each article's own publication date:
#: heldout 20/29 and 217/232 (its labels disagree on quarters named alone and on changes), heldout2
#: 22/28 and 115/120 (two of its articles carry a date format the page reader does not know, so their
#: 올해 / 내년 stay null), heldout3 32/41 and 82/97 (before relative periods: 9/29, 2/26, 6/41); after the
#: units work heldout3 37/43 and 86/102 (its new 회선 figures carry month periods, 2025-11, which are not
#: read) and heldout4 14/32 and 82/89 (0.429 and 0.914 before: the page reader finds no date in 006's
#: "파이낸셜뉴스 | 2026.01.29 16:31" line, so its 11 dated figures stay null, and 5 gold periods are months).
#: The page reader then learnt outlet mastheads ("파이낸셜뉴스 | 2026.01.29 16:31", "디지털데일리 2026.01.29
#: 16:31"), "16시 31분", "기사전송" and bylines ending in "=": heldout 0.828 and 0.897 (its 006 and 008 are dated
#: now, and 008's gold leaves the 올해 figures of its page null), heldout4 0.750 and 0.899, heldout5 0.952 and
#: 0.926 (0.667 and 0.944 before: three of its six pages carried a date form the reader did not know).
PERIOD_FLOORS = {"heldout": (0.80, 0.88), "heldout2": (0.75, 0.93), "heldout3": (0.82, 0.82),
                 "heldout4": (0.72, 0.88), "heldout5": (0.90, 0.90)}
#: The units the contract names; a gold figure in another unit (m2, mw, sgd) matches on its value
#: alone, as in ``../shared/eval/score.py``, since the contract leaves such units' words free.
CONTRACT_UNITS = frozenset({"KRW", "USD", "CNY", "JPY", "EUR", "PCT", "PP", "PERSON", "COUNT", "YEAR", "MONTH",
                            "DAY", "HOUR", "AGE", "NM", "RATIO", "TIMES"})


def _squash(s: str) -> str:
    return "".join(str(s or "").split()).lower()


def _alias_hit(pred: str, aliases: list[str]) -> bool:
    p = _squash(pred)
    return bool(p) and any(_squash(a) in p or p in _squash(a) for a in aliases if _squash(a))


def _same_unit(gold_unit: str, unit: str) -> bool:
    return gold_unit == unit or gold_unit not in CONTRACT_UNITS


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-9)


def _matched(predicted: list[Figure], gold: list[dict[str, Any]], used: set[int]) -> Iterator[tuple[Figure, int | None]]:
    """Each predicted figure with the index of the first unused gold figure of its value and unit
    (then marked used), or None."""
    for f in predicted:
        i = next((k for k, g in enumerate(gold) if k not in used and _same_unit(g["unit"], f.unit)
                  and _close(g["value"], f.value)), None)
        if i is not None:
            used.add(i)
        yield f, i


def score(cases: list[tuple[str, list[Figure], list[dict[str, Any]]]]) -> tuple[dict[str, float], list[str]]:
    """Precision, recall and attribution accuracy over (name, predicted, gold) cases, and the misses."""
    t = dict(tp=0, fp=0, req=0, hit=0, subj=0, metric=0, qual=0)
    notes: list[str] = []
    for name, predicted, gold in cases:
        used: set[int] = set()
        for f, i in _matched(predicted, gold, used):
            if i is None:
                if not any(g.get("equivalent") and g["equivalent"]["unit"] == f.unit
                           and _close(g["equivalent"]["value"], f.value) for g in gold):
                    t["fp"] += 1
                    notes.append(f"{name}: unexpected {f.value} {f.unit} in {f.sentence[:60]}")
                continue
            g = gold[i]
            if not g.get("required", True):
                continue
            t["tp"] += 1
            t["subj"] += _alias_hit(f.subject, g["subject"])
            t["metric"] += any(_squash(k) in _squash(f.metric) for k in g["metric"])
            t["qual"] += f.qualifier == g.get("qualifier", "exact")
            if not _alias_hit(f.subject, g["subject"]) or not any(_squash(k) in _squash(f.metric) for k in g["metric"]):
                notes.append(f"{name}: {f.value} {f.unit} attributed to {f.subject!r} / {f.metric!r}")
        for i, g in enumerate(gold):
            if g.get("required", True):
                t["req"] += 1
                t["hit"] += i in used
                if i not in used:
                    notes.append(f"{name}: missed {g['value']} {g['unit']}")
    tp = t["tp"] or 1
    scores = {"precision": t["tp"] / ((t["tp"] + t["fp"]) or 1), "recall": t["hit"] / (t["req"] or 1),
              "subject": t["subj"] / tp, "metric": t["metric"] / tp, "qualifier": t["qual"] / tp}
    return scores, notes


def _published(case: dict[str, Any]) -> datetime | None:
    """A fixture's publication time (``"published"``, ISO 8601), which dates its relative periods."""
    return datetime.fromisoformat(case["published"]) if case.get("published") else None


def _fixture_cases(lexicon: Lexicon) -> list[tuple[str, list[Figure], list[dict[str, Any]]]]:
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        if path.name == "seeds_gold.json":
            continue
        case = json.loads(path.read_text(encoding="utf-8"))
        out.append((path.stem, extract_figures(normalize_text(case["text"]), lexicon, published=_published(case)),
                    case["figures"]))
    return out


def _seed_cases(lexicon: Lexicon) -> list[tuple[str, list[Figure], list[dict[str, Any]]]]:
    gold = json.loads((FIXTURES / "seeds_gold.json").read_text(encoding="utf-8"))
    out = []
    for doc, labels in gold.items():
        raw = (SEEDS / f"{doc}.txt").read_text(encoding="utf-8")
        out.append((doc, extract_figures(normalize_text(raw), lexicon), labels.get("figures", [])))
    return out


def _heldout_cases(lexicon: Lexicon, folder: Path = HELDOUT) -> list[tuple[str, list[Figure], list[dict[str, Any]]]]:
    """The articles of a held-out folder (``NNN.txt`` and ``<folder>_gold.json``) read as the ``extract``
    command reads them: their own publication date dates relative periods."""
    read_document = pytest.importorskip("worker.documents").read_document
    gold = json.loads((folder / f"{folder.name}_gold.json").read_text(encoding="utf-8"))
    out = []
    for doc, labels in gold.items():
        article = read_document(folder / f"{doc}.txt")
        out.append((doc, extract_figures(article.text, lexicon, published=article.published), labels.get("figures", [])))
    return out


_CORPORA = {"fixtures": _fixture_cases, "seeds": _seed_cases, "heldout": _heldout_cases,
            "heldout2": lambda lex: _heldout_cases(lex, HELDOUT2), "heldout3": lambda lex: _heldout_cases(lex, HELDOUT3),
            "heldout4": lambda lex: _heldout_cases(lex, HELDOUT4), "heldout5": lambda lex: _heldout_cases(lex, HELDOUT5)}


@pytest.mark.parametrize("corpus", sorted(_CORPORA))
def test_quality_floors(corpus: str, lexicon: Lexicon) -> None:
    cases = _CORPORA[corpus](lexicon)
    scores, notes = score(cases)
    report = " ".join(f"{k} {v:.3f}" for k, v in scores.items())
    low = {k: v for k, v in scores.items() if v < FLOORS[corpus][k]}
    assert not low, f"{corpus}: {report}; below floor: {low}\n" + "\n".join(notes)


def test_seed_footer_never_leaks(lexicon: Lexicon) -> None:
    gold = json.loads((FIXTURES / "seeds_gold.json").read_text(encoding="utf-8"))
    for doc, labels in gold.items():
        text = normalize_text((SEEDS / f"{doc}.txt").read_text(encoding="utf-8"))
        for needle in labels.get("must_not", []):
            assert needle not in text, f"{doc}: footer text {needle!r} survived normalisation"
        for f in extract_figures(text, lexicon):
            assert not any(n in f.sentence for n in labels.get("must_not", [])), f.sentence


@pytest.mark.parametrize("folder", [HELDOUT, HELDOUT2, HELDOUT3, HELDOUT4, HELDOUT5], ids=lambda p: p.name)
def test_heldout_lookalikes_never_become_figures(folder: Path, lexicon: Lexicon) -> None:
    """Phone numbers, dates, ranks, addresses and sidebar headlines of the held-out pages give no figure."""
    gold = json.loads((folder / f"{folder.name}_gold.json").read_text(encoding="utf-8"))
    for doc, labels in gold.items():
        text = normalize_text((folder / f"{doc}.txt").read_text(encoding="utf-8"))
        for f in extract_figures(text, lexicon):
            wanted = any(_close(g["value"], f.value) for g in labels["figures"])
            leaked = [n for n in labels.get("must_not", []) if n in f.sentence]
            assert wanted or not leaked, (doc, f.value, f.unit, leaked)


def period_scores(cases: list[tuple[str, list[Figure], list[dict[str, Any]]]]) -> tuple[float, float, list[str]]:
    """Among matched required figures: the share of those with a gold period that get it, and the
    share of those without one that get none (a wrong period splits a claim's identity)."""
    right = dated = kept = undated = 0
    notes: list[str] = []
    for name, predicted, gold in cases:
        for f, i in _matched(predicted, gold, set()):
            if i is None or not gold[i].get("required", True):
                continue
            want = gold[i].get("period")
            if want:
                dated, right = dated + 1, right + (f.period == want)
            else:
                undated, kept = undated + 1, kept + (f.period is None)
            if f.period != want:
                notes.append(f"{name}: {gold[i].get('quote', f.value)}: period {f.period} (gold {want})")
    return right / (dated or 1), kept / (undated or 1), notes


@pytest.mark.parametrize("corpus", sorted(PERIOD_FLOORS))
def test_heldout_periods(corpus: str, lexicon: Lexicon) -> None:
    """Periods on held-out articles dated by their own page (올해, 지난해 4분기 resolved), pinned."""
    dated, undated, notes = period_scores(_CORPORA[corpus](lexicon))
    floor_dated, floor_undated = PERIOD_FLOORS[corpus]
    assert dated >= floor_dated and undated >= floor_undated, \
        f"{corpus}: dated {dated:.3f} undated {undated:.3f}\n" + "\n".join(notes)


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json") if p.name != "seeds_gold.json"))
def test_fixture_periods_and_ranges(name: str, lexicon: Lexicon) -> None:
    case = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    predicted = extract_figures(normalize_text(case["text"]), lexicon, published=_published(case))
    for g in case["figures"]:
        match = next((f for f in predicted if f.unit == g["unit"] and _close(f.value, g["value"])), None)
        if match is None or not g.get("required", True):
            continue
        if "period" in g:
            assert match.period == g["period"], (name, g["value"], match.period)
        if "value_max" in g:
            assert match.value_max is not None and _close(match.value_max, g["value_max"]), (name, g["value"])
        if "equivalent" in g:
            assert match.equivalent is not None and _close(match.equivalent.value, g["equivalent"]["value"])
