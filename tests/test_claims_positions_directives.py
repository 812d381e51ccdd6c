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
    # supplying a product is a sale of it; supplying a company supports it
    ("트럼프 대통령은 \"엔비디아가 승인된 고객에게 H200을 공급하는 것을 허용하겠다\"고 밝혔다.",
     [("도널드 트럼프", "엔비디아 칩 수출", "support")]),
    ("SK하이닉스는 엔비디아에 HBM3E를 공급하고 있다.", [("SK하이닉스", "엔비디아", "support")]),
    # putting a law into force, or putting it off, asked for; making a use mandatory
    ("참여연대는 \"계도기간이 길어지면 법이 유명무실해진다\"며 AI 기본법의 즉각적인 시행을 촉구했다.",
     [("참여연대", "인공지능 기본법", "support")]),
    ("코리아스타트업포럼은 AI 기본법의 시행 유예를 촉구했다.", [("코리아스타트업포럼", "인공지능 기본법", "oppose")]),
    ("중국 정부는 데이터센터에 화웨이 어센드 칩 등 자국산 AI 칩 사용을 의무화했다.", [("중국 정부", "화웨이", "support")]),
    # an enforcement decree is a document, not the law's enforcement
    ("과학기술정보통신부는 AI 기본법 시행령 운영 방안을 발표했다.", []),
    # a quote about the target, then the stance stated as the speaker's position
    ("워런 상원의원은 \"H200 수출 허용은 중국의 군사력 강화를 돕는 것\"이라며 반대 입장을 밝혔다.",
     [("워런 상원의원", "엔비디아 칩 수출", "oppose")]),
    ("국방부는 \"딥시크는 안보 위협\"이라며 우려를 나타냈다.", [("국방부", "딥시크", "oppose")]),
    # the target as the subject of a condition: the main clause's move is made on it
    ("개인정보보호위원회는 딥시크 V4가 출시되면 개인정보 처리 실태를 다시 점검할 계획이다.",
     [("개인정보보호위원회", "딥시크", "neutral")]),
    ("행정안전부는 업무망에서 딥시크가 발견되면 즉시 접속을 차단하겠다고 밝혔다.", [("행정안전부", "딥시크", "oppose")]),
    ("엔비디아 칩 수요가 늘면 삼성전자는 HBM 투자를 확대할 것이다.", []),  # the demand, not the target
    # "X 등 [relative clause] Y": X is one of the Ys, as target and as actor
    ("행정안전부는 딥시크 등 보안 검증을 거치지 않은 중국산 AI 서비스의 접속 차단을 계속하라는 공문을 보냈다.",
     [("행정안전부", "딥시크", "oppose"), ("행정안전부", "중국산 AI", "oppose")]),
    ("삼성전자와 SK하이닉스 등 중국에 공장을 둔 기업들은 미국의 수출 통제 강화에 우려를 나타냈다.",
     [("삼성전자", "반도체 수출 통제", "oppose"), ("SK하이닉스", "반도체 수출 통제", "oppose")]),
    # a move on what a relative clause describes is a move on the target it names
    ("미국 상무부는 화웨이 칩을 쓴 차량의 판매를 금지하기로 했다.", [("미국 상무부", "화웨이", "oppose")]),
    # a bare 정부 stays the home government when a foreign country only qualifies a noun
    ("행정안전부는 공문을 보냈다. 중국 AI 스타트업 딥시크가 새 모델 공개를 앞둔 가운데 정부가 딥시크 접속 차단 방침을 유지하기로 했다.",
     [("한국 정부", "딥시크", "oppose")]),
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
