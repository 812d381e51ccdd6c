"""The replay timeline of tests/fixtures/replay: every key change alerted, nothing on rewrites,
restatements and off-topic news. Expectations are data (expected.json); adding a case is adding
a document and its line there."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEEDS

TIMELINE = Path(__file__).resolve().parent / "fixtures" / "replay"
ROOT = Path(__file__).resolve().parent.parent


def _matches(alert: dict, want: dict) -> bool:
    if any(alert.get(k) != want[k] for k in ("kind", "change")):
        return False
    if want["kind"] == "figure":
        ok = alert.get("unit") == want["unit"] and abs(alert.get("value", 0) - want["value"]) <= 1e-6 * want["value"]
        ok = ok and any(s.replace(" ", "") in str(alert.get("subject", "")).replace(" ", "") for s in want["subject"])
        if "previous_value" in want:
            ok = ok and (alert.get("previous") or {}).get("value") == want["previous_value"]
        return ok
    ok = all(alert.get(k) == want[k] for k in ("actor", "target", "stance"))
    if "previous_stance" in want:
        ok = ok and (alert.get("previous") or {}).get("stance") == want["previous_stance"]
    if "via_parent" in want:
        ok = ok and alert.get("via_parent") == want["via_parent"]
    return ok


@pytest.fixture(scope="module")
def replayed() -> dict[str, list[dict]]:
    docs = sorted(p for p in TIMELINE.glob("*.txt"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-m", "worker.cli", "replay", "--baseline", str(SEEDS), "--format",
                             "json", *map(str, docs)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    out: dict[str, list[dict]] = {p.name: [] for p in docs}
    for line in result.stdout.splitlines():
        alert = json.loads(line)
        out[Path(alert["source"]).name].append(alert)
    return out


EXPECTED = {k: v for k, v in json.loads((TIMELINE / "expected.json").read_text(encoding="utf-8")).items()
            if not k.startswith("_")}


@pytest.mark.parametrize("doc", sorted(EXPECTED))
def test_timeline_document_raises_exactly_its_alerts(replayed: dict[str, list[dict]], doc: str) -> None:
    got, wanted = list(replayed[doc]), EXPECTED[doc]
    for want in wanted:
        hit = next((a for a in got if _matches(a, want)), None)
        assert hit is not None, f"{doc}: missing {want}; got {json.dumps(got, ensure_ascii=False)[:1500]}"
        got.remove(hit)
    assert not got, f"{doc}: unexpected alerts {json.dumps(got, ensure_ascii=False)[:1500]}"


def test_alerts_carry_sentence_and_previous_source(replayed: dict[str, list[dict]]) -> None:
    price = replayed["01-gpu-price.txt"][0]
    assert "5천만 원" in price["sentence"]
    assert price["previous"]["source"].endswith("001_1e1a30bdb7c7dbea.txt")
    assert "4천만 원" in price["previous"]["sentence"]
