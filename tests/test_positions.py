"""Table-driven cases of the position extractor: sentence(s) in, expected positions out.

A row is (text, expected) where expected lists (actor, target, stance, modality); the text gets a
neutral title line unless it has a line break of its own (then its first line is the title).
"""
from __future__ import annotations

import time

import pytest

from worker.claims.lexicon import Lexicon
from worker.claims.positions import extract_positions
from worker.model import Modality, Position, Stance

TITLE = "AI 업계 동향"

CASES: list[tuple[str, list[tuple[str, str, str, str]]]] = [
    # aliases resolve to one canonical actor and target
    ("개인정보위가 딥시크 앱의 국내 신규 다운로드를 잠정 중단했다.",
     [("개인정보보호위원회", "딥시크", "oppose", "done")]),
    ("개보위는 DeepSeek 앱 다운로드를 재개했다고 밝혔다.", [("개인정보보호위원회", "딥시크", "support", "done")]),
    ("미국 상무부가 엔비디아 H20의 중국 수출을 허용했다.", [("미국 상무부", "엔비디아 칩 수출", "support", "done")]),
    ("호주 정부는 모든 정부 기기에서 딥시크 사용을 금지했다.", [("호주 정부", "딥시크", "oppose", "done")]),
    # negation flips
    ("카카오는 딥시크 사용을 금지하지 않았다.", [("카카오", "딥시크", "support", "done")]),
    ("네이버는 딥시크 사용을 허용하지 않기로 했다.", [("네이버", "딥시크", "oppose", "planned")]),
    ("국방부는 장병들이 딥시크를 사용할 수 없도록 막았다.", [("국방부", "딥시크", "oppose", "done")]),
    # modality
    ("경기도는 딥시크 차단을 검토 중이다.", [("경기도", "딥시크", "oppose", "considering")]),
    ("서울시는 딥시크 접속을 차단할 예정이다.", [("서울시", "딥시크", "oppose", "planned")]),
    ("인도 정부는 딥시크 모델을 자국 서버에 적용하겠다고 밝혔다.", [("인도 정부", "딥시크", "support", "planned")]),
    # coordination
    ("외교부·국방부·산업부가 딥시크 접속을 차단했다.",
     [("외교부", "딥시크", "oppose", "done"), ("국방부", "딥시크", "oppose", "done"),
      ("산업통상자원부", "딥시크", "oppose", "done")]),
    # passive with the actor in an earlier sentence, and with an agent
    ("개보위는 15일 딥시크 측에 처리방침 보완을 요구했다. 이에 따라 딥시크 앱의 다운로드가 중단됐다.",
     [("개인정보보호위원회", "딥시크", "oppose", "done")]),
    ("딥시크 앱의 국내 다운로드가 개인정보위에 의해 중단됐다.", [("개인정보보호위원회", "딥시크", "oppose", "done")]),
    # reported speech: the speaker holds the stance; 에 따르면 names a source
    ('"딥시크 사용을 전면 금지하겠다"고 국방부 관계자가 말했다.', [("국방부", "딥시크", "oppose", "planned")]),
    ("로이터에 따르면 이탈리아 당국은 딥시크 앱을 차단했다.", [("이탈리아 정부", "딥시크", "oppose", "done")]),
    # an unknown company still gets its name
    ("크래프톤이 딥시크 모델을 자사 게임에 적용했다.", [("크래프톤", "딥시크", "support", "done")]),
    # mentions, forecasts and analysts are not positions
    ("딥시크의 등장은 전 세계 AI 업계에 큰 충격을 줬다.", []),
    ("딥시크 쇼크로 엔비디아 주가가 17% 폭락했다.", []),
    ("업계에서는 정부가 딥시크를 차단할 것으로 보고 있다.", []),
    ("전문가들은 딥시크 사용을 중단해야 한다고 주장했다.", []),
    ("딥시크가 개발한 모델은 엔비디아의 고가 칩을 사용하지 않았다.", []),
    ("미국 정부가 H20 수출을 막으면 엔비디아의 매출이 줄어들 것이다.", []),
    # a title's position
    ("개인정보위, 딥시크 신규 다운로드 재개\n딥시크는 처리방침을 고쳤다.",
     [("개인정보보호위원회", "딥시크", "support", "done")]),
]


def _text(text: str) -> str:
    return text if "\n" in text and "." not in text.split("\n", 1)[0] else f"{TITLE}\n{text}"


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:24] for c in CASES])
def test_positions(lexicon: Lexicon, text: str, expected: list[tuple[str, str, str, str]]) -> None:
    got = extract_positions(_text(text), lexicon)
    assert sorted((p.actor, p.target, p.stance.value, p.modality.value) for p in got) == sorted(expected)


def test_fields_are_filled(lexicon: Lexicon) -> None:
    [p] = extract_positions(f"{TITLE}\n개보위가 딥시크 앱의 신규 다운로드를 잠정 중단했다.", lexicon)
    assert p == Position(actor="개인정보보호위원회", target="딥시크", stance=Stance.OPPOSE, modality=Modality.DONE,
                         sentence="개보위가 딥시크 앱의 신규 다운로드를 잠정 중단했다.", actor_text="개보위",
                         actor_parent="한국 정부")


def test_duplicates_keep_the_strongest_evidence(lexicon: Lexicon) -> None:
    text = ("개인정보위, 딥시크 다운로드 중단\n개인정보위는 딥시크 다운로드를 중단했다. "
            "개인정보위는 딥시크 앱 다운로드를 잠정 중단한다고 거듭 밝혔다.")
    got = extract_positions(text, lexicon)
    assert [(p.actor, p.stance.value) for p in got] == [("개인정보보호위원회", "oppose")]
    assert got[0].sentence == "개인정보위는 딥시크 다운로드를 중단했다."


def test_text_without_targets_is_cheap(lexicon: Lexicon) -> None:
    text = TITLE + "\n" + "오늘 서울은 맑고 기온은 영상 10도까지 오르겠다. " * 2000
    start = time.perf_counter()
    assert extract_positions(text, lexicon) == []
    assert time.perf_counter() - start < 1.0
