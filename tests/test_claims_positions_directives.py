"""Table-driven cases of positions stated as directives, kept policies, partnerships and replies.

A row is (text, expected) where expected lists (actor, target, stance); the text gets a neutral
title line. Adding a case is adding a row.
"""
from __future__ import annotations

import pytest

from worker.claims.lexicon import Lexicon
from worker.claims.positions import extract_positions

TITLE = "AI 업계 동향"

CASES: list[tuple[str, list[tuple[str, str, str]]]] = [
    # directives: the content of the order is the stance of who gives it
    ("중국 국가인터넷정보판공실(CAC)은 자국 기업에 엔비디아의 중국 전용 칩 'RTX 프로 6000D'의 주문을 중단하라고 지시했다.",
     [("중국 국가인터넷정보판공실", "엔비디아", "oppose")]),
    ("중국 공업정보화부는 통신사들에 H20 구매를 중단하라는 지침을 내려보냈다.",
     [("중국 공업정보화부", "엔비디아 칩 수출", "oppose")]),
    ("국방부는 장병들에게 딥시크 사용 금지 지침을 하달했다.", [("국방부", "딥시크", "oppose")]),
    ("중국 당국은 엔비디아 H20 대신 국산 칩을 쓰라고 지시했다.", [("중국 정부", "엔비디아 칩 수출", "oppose")]),
    # a policy kept: the move noun as a second topic names nobody
    ("카카오는 보안 우려를 이유로 딥시크 등 중국산 AI의 사내 업무 활용을 금지한 방침은 그대로 유지하기로 했다.",
     [("카카오", "딥시크", "oppose"), ("카카오", "중국산 AI", "oppose")]),
    ("과기정통부는 딥시크 접속 차단을 당분간 이어가기로 했다.", [("과학기술정보통신부", "딥시크", "oppose")]),
    # partnerships and a quoted plan to cooperate (Kiwi glues 와 to a name it does not know)
    ("최수연 네이버 대표는 \"엔비디아와 협력해 동남아 시장을 공략하겠다\"고 말했다.", [("네이버", "엔비디아", "support")]),
    ("삼성전자는 엔비디아와 전략적 파트너십을 맺었다.", [("삼성전자", "엔비디아", "support")]),
    ("KT는 엔비디아와 업무협약(MOU)을 체결했다.", [("KT", "엔비디아", "support")]),
    # replies and withheld decisions
    ("중국 외교부는 미국의 반도체 수출 통제에 강하게 반발했다.", [("중국 외교부", "반도체 수출 통제", "oppose")]),
    ("벤처기업협회는 AI 기본법에 반대 입장을 밝혔다.", [("벤처기업협회", "인공지능 기본법", "oppose")]),
    ("개인정보위는 딥시크 서비스 재개를 보류했다.", [("개인정보보호위원회", "딥시크", "neutral")]),
    # a bare 정부 is the home government when the paragraph says so
    ("반면 한국의 대응은 더뎠다. 정부는 지난해 2월 보안 우려를 이유로 딥시크 접속을 막았다.",
     [("한국 정부", "딥시크", "oppose")]),
    # allowing a company to sell a product is about the product, not the company
    ("트럼프 대통령은 \"엔비디아가 H200을 판매하는 것을 허용하겠다\"고 밝혔다.",
     [("도널드 트럼프", "엔비디아 칩 수출", "support")]),
    # a move noun as the subject, with nobody named in its clause: no position carried in
    ("일본 정부는 딥시크 사용을 제한했다. 반면 기업들 사이에서는 딥시크를 업무에 활용하려는 움직임도 나타났다.",
     [("일본 정부", "딥시크", "oppose")]),
    # mentions without a move
    ("엔비디아와 AMD는 지난주 실적을 발표했다.", []),
    ("딥시크의 등장으로 엔비디아 주가가 급락했다.", []),
    ("엔비디아는 한국 정부와 기업들에 GPU 26만 장을 공급하기로 했다.", []),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[c[0][:30] for c in CASES])
def test_positions(text: str, expected: list[tuple[str, str, str]], lexicon: Lexicon) -> None:
    got = sorted((p.actor, p.target, p.stance.value) for p in extract_positions(f"{TITLE}\n{text}", lexicon))
    assert got == sorted(expected)


def test_glued_particle_is_split_at_a_known_name(lexicon: Lexicon) -> None:
    """엔비디아가 read as one noun by Kiwi still makes 엔비디아 the subject: a passive names no one else."""
    got = extract_positions(f"{TITLE}\n엔비디아가 화웨이를 견제하고 있다.", lexicon)
    assert [(p.actor, p.target, p.stance.value) for p in got] == [("엔비디아", "화웨이", "oppose")]
