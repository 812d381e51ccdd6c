"""Table-driven cases of the figure extractor's units, look-alikes and subject rules.

Each row is a sentence (given a neutral title line) and what must hold of its figures: adding a case
is adding a row.
"""
from __future__ import annotations

from datetime import date

import pytest

from worker.claims.figures import extract_figures
from worker.claims.lexicon import Lexicon
from worker.claims.numbers import find_amounts, units_from
from worker.model import Figure

TITLE = "정책 동향"

#: (text, value, unit, qualifier, time reference): units the contract leaves as lowercase words.
AMOUNTS: list[tuple[str, float, str, str, bool]] = [
    ("주파수 370㎒폭의 재할당", 370, "mhz", "exact", False),  # 주파수 is no vague 수 before 370
    ("100MHz 폭을", 100, "mhz", "exact", False),
    ("3.5GHz 대역", 3.5, "ghz", "exact", False),
    ("1.5㎓폭 확보", 1.5, "ghz", "exact", False),
    ("전체 가입자 5천690만 회선 가운데", 56_900_000, "회선", "exact", False),
    ("KT가 1천110만 가입자로", 11_100_000, "PERSON", "exact", False),
    ("핀당 10Gbps 이상", 10, "gbps", "over", False),
    ("약 4천 테라플롭스로", 4000, "tflops", "approx", False),
    ("141GB를 탑재", 141, "gb", "exact", False),
    ("100㎿ 규모", 100, "mw", "exact", False),
    ("5개 분기 만에 10조원대", 5, "COUNT", "exact", True),  # after five quarters
    ("3개 분기 연속 적자", 3, "COUNT", "exact", True),
    ("미국 5개 주에서", 5, "COUNT", "exact", False),  # five states: a count
    ("5천만원을 웃돈다", 50_000_000, "KRW", "over", False),
    ("50%를 밑도는", 50, "PCT", "under", False),
    ("전망치를 8% 웃돈 실적", 8, "PCT", "exact", False),  # the margin, not a bound
]


@pytest.mark.parametrize("text,value,unit,qualifier,time_ref", AMOUNTS, ids=[a[0] for a in AMOUNTS])
def test_amounts(text: str, value: float, unit: str, qualifier: str, time_ref: bool, lexicon: Lexicon) -> None:
    units = units_from(lexicon.figures)  # the measures beyond the contract's units live in figures.yaml
    found = [a for a in find_amounts(text, units) if a.unit == unit and abs(a.value - value) < 1e-9]
    assert found, [(a.value, a.unit) for a in find_amounts(text, units)]
    assert found[0].qualifier.value == qualifier
    assert found[0].time_reference is time_ref


def test_units_beyond_the_contract_come_from_the_lexicon(lexicon: Lexicon) -> None:
    """The code knows the contract's units; ㎒ and kWh are words of ``figures.yaml`` only."""
    assert not any(a.unit == "mhz" for a in find_amounts("주파수 370㎒폭"))
    assert [a.unit for a in find_amounts("주파수 370㎒폭", units_from(lexicon.figures))] == ["mhz"]


def test_vague_amounts_stay_out() -> None:
    assert find_amounts("수천 명이 몰렸다") == []
    assert find_amounts("수 천억 원") == []


def _figures(text: str, lexicon: Lexicon) -> list[Figure]:
    return extract_figures(f"{TITLE}\n{text}", lexicon, published=date(2026, 1, 15))


def _one(figures: list[Figure], value: float) -> Figure:
    got = [f for f in figures if abs(f.value - value) < 1e-9]
    assert len(got) == 1, [(f.value, f.unit) for f in figures]
    return got[0]


#: (text, value, subject, a word of the metric)
ATTRIBUTED: list[tuple[str, float, str, str]] = [
    # the market or a research house estimating: the clause it reports names the owner
    ("증권가는 반도체 부문이 7조원 안팎의 영업이익을 낸 것으로 추정한다.", 7e12, "반도체 부문", "영업이익"),
    ("하나증권은 시스템LSI 사업부의 영업손실을 1조원 수준으로 추정했다.", 1e12, "시스템LSI 사업부", "영업손실"),
    ("번스타인은 현지 업체 비중이 지난해 29%에서 크게 높아질 것으로 예상했다.", 29, "현지 업체", "비중"),
    # a group estimating its own figure keeps it
    ("이들 기업은 법 대응에 드는 비용을 연평균 4천200만원으로 추산했다.", 42_000_000, "기업", "비용"),
    # things counted are what is measured; the relative clause names whose they are
    ("정부가 보유하는 GPU는 2만8천 장으로 늘어난다.", 28_000, "정부", "GPU"),
    ("국내에서 쓸 수 있는 고성능 GPU는 2천여 장에 불과하다.", 2000, "고성능 GPU", "GPU"),
    # what is bought is not whose budget it is
    ("과기정통부는 계획을 발표했다. 올해 GPU 구매 예산은 2조1천억원이다.", 2.1e12, "과학기술정보통신부", "예산"),
    # one of a product: the product's maker owns the price
    ("엔비디아 B200 한 장의 가격은 5천만원을 웃돈다.", 5e7, "엔비디아", "가격"),
    # a frequency with 폭 is a bandwidth; 가입자 after a number is what is counted
    ("과학기술정보통신부는 3.7㎓ 대역 300㎒폭을 경매에 내놓는다.", 300, "과학기술정보통신부", "대역폭"),
    ("KT는 1천110만 가입자를 확보했다.", 11_100_000, "KT", "가입자"),
    # a duration's span noun is its metric
    ("과기정통부는 계획을 발표했다. 이용 기간은 5년이다.", 5, "과학기술정보통신부", "이용 기간"),
    # 투자자 is a who, not the metric 투자
    ("외국인 투자자는 삼성전자 주식을 7조원 넘게 순매수했다.", 7e12, "외국인 투자자", "주식"),
    # market hours are a time, not an item of a list
    ("이날 삼성전자 주가는 장 초반 3% 넘게 올랐다.", 3, "삼성전자", "주가"),
    # a measure written before its value names its owner when nothing else does
    ("11월 말 기준 전체 이동통신 가입자 5천690만 회선 가운데 절반이 5G다.", 56_900_000, "이동통신", "가입자"),
    # a per-unit word (핀당, kWh당, 1인당) says what an amount is counted per: never its subject
    ("6세대 HBM4의 데이터 전송 속도는 핀당 10Gbps 이상이다.", 10, "6세대 HBM4", "속도"),
    ("국내 산업용 전기요금은 kWh당 182.7원으로 올랐다.", 182.7, "국내 산업용", "전기요금"),
    ("정부가 해외 인재를 유치한다. 1인당 연구비는 연간 최대 2억원이다.", 2e8, "정부", "연구비"),
    ("과기정통부는 개편안을 냈다. 인증 수수료는 하 등급 기준 건당 1천500만원으로 낮춘다.", 1.5e7, "인증", "수수료"),
    # a topic that only names a measure (대역폭은, 낙찰가가) is the metric; the subject is found elsewhere
    ("한 사업자가 가져갈 수 있는 대역폭은 최대 200㎒로 제한했다.", 200, "사업자", "대역폭"),
    ("과기정통부는 경매를 공고했다. 업계는 낙찰가가 4조원까지 오를 수 있다고 본다.", 4e12, "과학기술정보통신부", "낙찰가"),
    # a company named on top of an alias (삼성SDS is not 삼성전자, KT클라우드 is not KT); AWS is its own entity
    ("삼성SDS는 전남에 2조5천억원 규모의 센터 건립을 추진한다.", 2.5e12, "삼성SDS", "센터"),
    ("KT클라우드는 지난해 매출 1조원을 올렸다.", 1e12, "KT클라우드", "매출"),
    ("국내 클라우드 시장에서 아마존웹서비스(AWS) 점유율은 약 60%다.", 60, "AWS", "점유율"),
]


@pytest.mark.parametrize("text,value,subject,metric", ATTRIBUTED, ids=[a[0][:24] for a in ATTRIBUTED])
def test_attribution(text: str, value: float, subject: str, metric: str, lexicon: Lexicon) -> None:
    f = _one(_figures(text, lexicon), value)
    assert (f.subject, metric in f.metric) == (subject, True), (f.subject, f.metric)


@pytest.mark.parametrize("text", [
    "3.5㎓ 대역을 경매에 내놓는다.", "28㎓ 기지국 장비를 바꾼다.", "700㎒ 주파수를 회수했다.",
    "삼성전자는 5개 분기 만에 흑자로 돌아섰다.", "파운드리는 3개 분기 연속 적자를 냈다.",
])
def test_lookalikes_give_no_figure(text: str, lexicon: Lexicon) -> None:
    """Band names (a frequency before 대역, 기지국, 주파수) and counts of quarters before 만에 or 연속."""
    assert _figures(text, lexicon) == []


def test_a_list_of_owners_carries_none_of_them(lexicon: Lexicon) -> None:
    """``SK텔레콤 155㎒폭, KT 115㎒폭``: the next sentence's figure keeps the subject named before the list."""
    text = "과기정통부는 재할당 계획을 발표했다. 대상은 SK텔레콤 155㎒폭, KT 115㎒폭이다. 이용 기간은 5년이다."
    figures = _figures(text, lexicon)
    assert [f.subject for f in figures] == ["SK텔레콤", "KT", "과학기술정보통신부"]


def test_a_sentence_of_one_owner_still_carries(lexicon: Lexicon) -> None:
    text = ("포럼이 회원사 212곳을 대상으로 실시한 설문조사에 따르면 응답 기업의 62.3%가 \"준비가 안 됐다\"고 답했다. "
            "법 내용을 잘 안다는 응답은 14.2%에 그쳤다.")
    figures = _figures(text, lexicon)
    assert _one(figures, 14.2).subject == "응답 기업"


def test_a_country_glued_to_a_word_still_names_the_country(lexicon: Lexicon) -> None:
    """중국산 is of 중국: a state's name written onto a word qualifies it, it is no new name."""
    f = _one(_figures("중국산 AI 앱 이용자는 100만명이다.", lexicon), 1e6)
    assert f.subject == "중국"
