"""Word lists and tests for what a noun near a figure is: a counting word (최대, 평균), a time
(9월, 전년 동기), a measure (수출액, 보유량), an organisation by its name's shape (…협회), a rank.

Read by ``clause``, ``attribution`` and ``metric``; kept apart so those hold the rules and this one the Korean words.
"""
from __future__ import annotations

import re

from worker.claims.lexicon import Lexicon

#: Words that say how a figure is counted, not what it measures (최대 30%, 평균 3년, 연간 2천억 원, 월 80만
#: 원): stripped off the noun before a number, and a noun made only of them is no metric.
QUANT_WORDS = frozenset({"최대", "최소", "최고", "최저", "평균", "연평균", "일평균", "월평균", "연간", "연", "월", "일",
                         "총", "약", "각각", "각", "모두", "합계", "누적", "시간당", "주당", "한", "매년", "매달", "매월",
                         "시속", "분당", "초당", "한화", "원화", "미화"})
#: Nouns that only say when or against what (전년 동기, 9월, 지난달 기준, 처음으로): no subject, no metric.
WHEN_WORDS = frozenset({"전년", "전년도", "동기", "전월", "전기", "전 분기", "직전", "종전", "기준", "처음", "사상",
                        "연내", "역대", "당시", "이날", "시행", "연속", "초반", "중반", "후반", "장중", "오전", "오후",
                        "개장", "마감"})
DATE_WORD = re.compile(r"^(?:\d+(?:\s?[~∼〜-]\s?\d+)?(?:월|일|년|분기|주|주일)|[1-4]분기|\d{1,2}월\s?\d{1,2}일)$")
#: Last syllables of nouns that name a measure (사업비, 보유량, 점유율, 수출액): such a noun is what a figure
#: measures, so it is not the subject; the words before it (반도체 수출액: 반도체) are.
_MEASURE_ENDINGS = ("비", "량", "율", "률", "액", "금", "가격", "건수", "단가", "용량", "속도", "면적", "효과", "비중",
                    "인원", "요금", "이용료", "사용료", "임대료", "수수료", "규모", "매출", "이익", "예산", "연봉",
                    "대상", "정원", "점유율", "한도", "상한", "수요", "손실", "적자", "흑자",
                    # widths (대역폭, 인상폭) and prices named for the deal they close (낙찰가, 공모가, 출고가)
                    "폭", "낙찰가", "입찰가", "경매가", "공모가", "분양가", "출고가", "판매가", "매매가", "거래가",
                    "매입가", "인수가", "공급가", "납품가", "감정가", "목표가", "최저가", "최고가", "시장가", "권장가")
_NOT_MEASURE = frozenset({"대비", "준비", "설비", "장비", "경비", "무방비", "역량", "대량", "소량", "자금", "현금",
                          "세금", "상금", "전략", "효율", "자율", "법률", "비율", "확률", "우선순위", "미비", "구비",
                          "정비", "예비"})
#: Last syllables of organisation names the entity list may not hold (한국인공지능산업협회가, 스타트업얼라이언스는).
ORG_ENDINGS = ("협회", "연합회", "협의회", "위원회", "연구소", "재단", "공사", "공단", "은행", "그룹",
               "얼라이언스", "상공회의소", "진흥원", "안보국", "통계국", "조달청", "연맹", "학회")
#: Nouns that say what is planned or how it went, never what is measured (… 두 배로 늘린다는 방침).
_NOT_METRIC_WORDS = frozenset({"방침", "계획", "예정", "전망", "목표", "중심", "돌파", "기록", "달성", "가운데",
                               "이유", "상황", "분석", "설명", "발표", "예상", "추산", "관측", "입장", "의견"})
#: Ranks and ordinals inside a noun run (1위 아마존웹서비스, 3기 펀드, 6대 국유은행): not part of a metric.
RANK_WORD = re.compile(r"(?<![\w.])\d+(?:위|기|대|차|번째|호)(?![가-힣\w])")
#: A clause ending in these names the source of a report, not the subject of its figures.
SOURCE = re.compile(r"(?:에|에게)\s?(?:따르면|의하면)")
#: Topic words watched for, yet too broad to own a figure alone (AI 전문 인력: AI modifies the measure).
FIELD_MODIFIERS = frozenset({"AI", "인공지능"})
#: Places that narrow a measure without owning it (국내 일평균 이용자, 해외 매출).
PLACE_WORDS = frozenset({"국내", "국외", "해외", "전국", "세계", "전세계", "글로벌", "지역", "현지", "역내", "역외"})
#: Words that say which kind of a measure is meant, not whose it is (주간 활성 이용자, 전문 인력, 신규 가입자).
KIND_WORDS = frozenset({"월간", "주간", "일간", "활성", "전문", "신규", "기존", "전체", "합산", "순", "실제", "일반", "추가",
                        "잠정", "연결", "별도", "관련", "해당", "제시", "실질", "명목", "전년", "분기", "반기",
                        # what is done with it, not whose: 지원 한도, 투자 규모, 판매 가격
                        "지원", "투자", "구매", "판매", "생산", "개발", "연구", "운영", "구축", "이용", "사용", "처리",
                        "유지", "관리", "수출", "수입", "조달", "집행", "배정", "구입", "확보", "도입", "매입", "인수"})
#: Verbal nouns of acquiring: the words before them name what is bought, not whose the measure is
#: (GPU 구매 예산: the budget of whoever buys GPUs; 멜라녹스 인수 금액).
ACQUIRE_WORDS = frozenset({"구매", "구입", "확보", "도입", "조달", "매입", "인수", "임차"})
#: After a figure, the verb of someone estimating it (…로 추정했다, …할 것으로 예상했다): the topic that
#: says so is the source of the figure, unless it names an entity (엔비디아는 … 예상했다).
ESTIMATE = re.compile(r"(?:추정|예상|전망|예측|추산|관측|분석|평가)(?:했|한다|하고|하며|해)|내다[보봤본]|점[쳤친친]|"
                      r"(?<![가-힣])(?:본다|봤다|보고\s?있)")
#: Counters of things (GPU 5만 장, 기지국 2만 개, 100만 대): the noun counted is what is measured,
#: never whose it is; counters of organisations and people (곳, 개사, 명) name a group that can be.
THING_COUNTERS = frozenset({"장", "개", "대", "척", "건"})
#: Counter nouns a Hangul number word takes as a unit of a thing (B200 한 장의 가격: one of them).
UNIT_COUNTERS = frozenset({"장", "개", "대", "척", "건", "명", "곳", "기"})


def is_measure(word: str, lexicon: Lexicon) -> bool:
    """True for a noun that names a measure (수출액, 보유량, 사업비, 점유율)."""
    if word in _NOT_MEASURE:
        return False
    return bool(lexicon.metric(word)) or (len(word) >= 2 and word.endswith(_MEASURE_ENDINGS))


def per_unit(word: str) -> bool:
    """기업당, 1인당, 시간당: the unit a figure is counted per."""
    return len(word) >= 2 and word.endswith("당") and word not in ("정당", "해당", "상당", "당당")


def no_metric(words: str) -> bool:
    """True for a pick that cannot be a metric: one syllable (안, 전, 만), a number, a plan word."""
    parts = words.split()
    bare = "".join(parts)
    return len(bare) <= 1 or not re.search(r"[가-힣A-Za-z]", bare) or parts[-1] in _NOT_METRIC_WORDS \
        or all(w in QUANT_WORDS or w in WHEN_WORDS for w in parts)
