"""Quality gate for the position extractor: precision and recall on annotated fixtures, pinned.

Each ``tests/fixtures/positions/<group>.json`` holds cases (an article text, title first, and the
positions it states). A predicted position matches an expected one on actor, target and stance
(canonical names); modality is scored among matches. The four seeds, and the ten held-out articles of
``heldout/`` (other outlets, written and annotated before the extractor was tuned on them), are scored
as ``../shared/eval/score.py`` scores them. A change that
lowers a score below its floor fails the build; raise a floor when the extractor improves.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from worker.claims.lexicon import Lexicon
from worker.claims.positions import extract_positions

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "positions"
SEEDS = HERE.parent / "seeds"

#: Floors pinned a little under the scores measured when the gate was written (all fixtures:
#: precision 1.0, recall 0.97, modality 63/64 incl. the untuned held_out group; seeds: 1.0 and 1.0), so that noise-free refactors pass and a real
#: regression of one or two cases fails.
FLOOR_PRECISION = 0.95
FLOOR_RECALL = 0.90
FLOOR_MODALITY = 0.90
FLOOR_SEEDS_PRECISION = 0.90
FLOOR_SEEDS_RECALL = 0.90
#: Held-out articles (heldout/): measured precision 1.0 (0 unexpected of 35 matched) and recall 0.972
#: (35 of 36 required) when written; 1.0 and 1.0 (36 of 36) after the clause work (점검을 마치고 시정
#: 권고를 의결, 에 대한 closing no clause). Two more false positions or two more misses fail.
FLOOR_HELDOUT_PRECISION = 0.95
FLOOR_HELDOUT_RECALL = 0.95
HELDOUT = FIXTURES / "heldout"
#: Positions of the figure held-out sets. heldout2 was used while improving positions (coordinated
#: clauses, split organisation names, topicalised objects): measured P 1.000 R 0.667 before, 1.000 and
#: 1.000 after (optimistic). heldout3 was never tuned on: P 0.500 R 0.143 before and after (1 of 7
#: required found; its misses are listed by this test when it fails) — the weak spot to work on next.
#: The directive work (지시, 지침, a kept 방침, glued 와 after a name, quoted names in a phrase, country +
#: unknown organisation, a bare 정부 in a paragraph about Korea) then used heldout3 as development material:
#: P 0.857 R 0.857 after (6 of 7; optimistic now). heldout4 (six articles written and labelled before that
#: work, never tuned on) is the honest number: P 1.000 R 0.524 before, P 1.000 R 0.619 (13 of 21) after.
#: The work on stance words (공급, 시행 촉구, 의무화, 유예), "…"이라며 반대 입장을 밝혔다, targets in a 면-clause,
#: "X 등 [relative clause] Y", a move on what a relative clause describes and a bare 정부 beside a country
#: named only as a qualifier used heldout4's misses as development material: heldout4 P 1.000 R 0.952 (20 of
#: 21) after, tuned on now (heldout3 unchanged). heldout5 (six articles written and labelled before that
#: work, never tuned on) is the honest number: P 0.857 R 0.273 before, P 0.917 R 0.500 (11 of 22) after; its
#: false position is the watchlist's alias 수출 통제 matching China's rare-earth export controls.
FIGURE_SETS = HERE / "fixtures" / "figures"
FLOORS_FIGURE_SETS = {"heldout2": (0.95, 0.95), "heldout3": (0.80, 0.80), "heldout4": (0.95, 0.90),
                      "heldout5": (0.85, 0.45)}
#: Per group, precision must not fall below this: every group guards a kind of false alert.
FLOOR_GROUP_PRECISION = 0.80


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    modality_ok: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _groups() -> dict[str, list[dict]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))["cases"]
            for p in sorted(FIXTURES.glob("*.json")) if p.stem != "seeds_gold"}


def score_cases(cases: list[dict], lexicon: Lexicon) -> tuple[Score, list[str]]:
    """Score extracted positions against the expected ones of ``cases``; the mismatches listed."""
    s, notes = Score(), []
    for case in cases:
        got = extract_positions(case["text"], lexicon)
        expected = list(case["positions"])
        for p in got:
            hit = next((e for e in expected if (e["actor"], e["target"], e["stance"])
                        == (p.actor, p.target, p.stance.value)), None)
            if hit is None:
                s.fp += 1
                notes.append(f"unexpected {p.actor} -> {p.target}: {p.stance.value} in {case['text'][:60]!r}")
                continue
            expected.remove(hit)
            s.tp += 1
            s.modality_ok += hit["modality"] == p.modality.value
            if "actor_parent" in hit and hit["actor_parent"] != p.actor_parent:
                notes.append(f"parent {p.actor_parent} != {hit['actor_parent']} in {case['text'][:60]!r}")
        for e in expected:
            s.fn += 1
            notes.append(f"missed {e['actor']} -> {e['target']}: {e['stance']} in {case['text'][:60]!r}")
    return s, notes


def test_fixture_floors(lexicon: Lexicon) -> None:
    total, notes = Score(), []
    for group, cases in _groups().items():
        s, n = score_cases(cases, lexicon)
        notes += [f"[{group}] {x}" for x in n]
        assert s.precision >= FLOOR_GROUP_PRECISION, f"{group}: precision {s.precision:.2f}\n" + "\n".join(n)
        total.tp, total.fp, total.fn = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn
        total.modality_ok += s.modality_ok
    report = "\n".join(notes)
    assert total.precision >= FLOOR_PRECISION, f"precision {total.precision:.3f}\n{report}"
    assert total.recall >= FLOOR_RECALL, f"recall {total.recall:.3f}\n{report}"
    assert total.modality_ok / max(total.tp, 1) >= FLOOR_MODALITY, f"modality\n{report}"


def test_parents_are_filled(lexicon: Lexicon) -> None:
    for case in _groups()["parents"]:
        for p in extract_positions(case["text"], lexicon):
            want = next(e.get("actor_parent") for e in case["positions"] if e["actor"] == p.actor)
            assert p.actor_parent == want == lexicon.parent_of(p.actor)


def test_mention_only_gives_nothing(lexicon: Lexicon) -> None:
    for case in _groups()["mention_only"]:
        assert extract_positions(case["text"], lexicon) == [], case["text"]


def _squash(s: str) -> str:
    return "".join(str(s or "").split()).lower()


def _alias_hit(pred: str, aliases: list[str]) -> bool:
    p = _squash(pred)
    return bool(p) and any(_squash(a) in p or p in _squash(a) for a in aliases if _squash(a))


def _score_gold(gold_file: Path, docs: Path, lexicon: Lexicon) -> tuple[float, float, list[str]]:
    """Precision, recall and notes of ``gold_file`` over the documents of ``docs``, as score.py counts."""
    read_document = pytest.importorskip("worker.documents").read_document
    gold = json.loads(gold_file.read_text(encoding="utf-8"))
    targets = [a for g in gold.values() for p in g.get("positions", []) for a in p["target"]]
    tp = fp = req = hit_req = 0
    notes: list[str] = []
    for doc, g in gold.items():
        text = read_document(next(docs.glob(f"{doc}.*"))).text
        gp, used = g.get("positions", []), set()
        for p in extract_positions(text, lexicon):
            if not _alias_hit(p.target, targets):
                continue
            hit = next((i for i, x in enumerate(gp) if i not in used and _alias_hit(p.actor, x["actor"])
                        and _alias_hit(p.target, x["target"]) and p.stance.value == x["stance"]), None)
            if hit is None:
                fp += 1
                notes.append(f"{doc}: unexpected {p.actor} -> {p.target}: {p.stance.value}")
                continue
            used.add(hit)
            tp += gp[hit]["required"]
        for i, x in enumerate(gp):
            if x["required"]:
                req += 1
                hit_req += i in used
                if i not in used:
                    notes.append(f"{doc}: missed {x['actor'][0]} -> {x['target'][0]}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = hit_req / req if req else 1.0
    return precision, recall, notes


def test_seed_floors(lexicon: Lexicon) -> None:
    """The seeds scored as ../shared/eval/score.py scores positions (alias matching, required only)."""
    precision, recall, notes = _score_gold(FIXTURES / "seeds_gold.json", SEEDS, lexicon)
    assert precision >= FLOOR_SEEDS_PRECISION, "\n".join(notes)
    assert recall >= FLOOR_SEEDS_RECALL, "\n".join(notes)


def test_heldout_floors(lexicon: Lexicon) -> None:
    """The held-out articles of other outlets, scored like the seeds: the generalisation guard."""
    precision, recall, notes = _score_gold(HELDOUT / "heldout_gold.json", HELDOUT, lexicon)
    assert precision >= FLOOR_HELDOUT_PRECISION, f"precision {precision:.3f}\n" + "\n".join(notes)
    assert recall >= FLOOR_HELDOUT_RECALL, f"recall {recall:.3f}\n" + "\n".join(notes)


@pytest.mark.parametrize("name", sorted(FLOORS_FIGURE_SETS))
def test_figure_set_positions(name: str, lexicon: Lexicon) -> None:
    """The positions labelled in the figure held-out sets (heldout2 to heldout5: whole articles that state
    figures and positions together), scored like the seeds."""
    folder = FIGURE_SETS / name
    precision, recall, notes = _score_gold(folder / f"{name}_gold.json", folder, lexicon)
    floor_precision, floor_recall = FLOORS_FIGURE_SETS[name]
    assert precision >= floor_precision, f"precision {precision:.3f}\n" + "\n".join(notes)
    assert recall >= floor_recall, f"recall {recall:.3f}\n" + "\n".join(notes)
