"""Korean numerals and units: input string -> value, unit, qualifier (table-driven)."""
from __future__ import annotations

import pytest

from worker.claims.numbers import find_amounts, parse_amount, parse_korean_number

CASES = [  # text, value, unit, qualifier, value_max
    ("557만 6,000달러", 5_576_000, "USD", "exact", None),
    ("3981억 위안", 3.981e11, "CNY", "exact", None),
    ("1조 2천억 원", 1.2e12, "KRW", "exact", None),
    ("1조2000억원", 1.2e12, "KRW", "exact", None),
    ("약 4천만 원", 4e7, "KRW", "approx", None),
    ("4000만원", 4e7, "KRW", "exact", None),
    ("8만5천162명", 85_162, "PERSON", "exact", None),
    ("4억 7700만 달러", 4.77e8, "USD", "exact", None),
    ("천만 원", 1e7, "KRW", "exact", None),
    ("0.9년", 0.9, "YEAR", "exact", None),
    ("49.7%", 49.7, "PCT", "exact", None),
    ("29%포인트", 29, "PP", "exact", None),
    ("29%p", 29, "PP", "exact", None),
    ("3.5%P 하락", 3.5, "PP", "exact", None),
    ("10분의 1", 0.1, "RATIO", "exact", None),
    ("3분의 2", 2 / 3, "RATIO", "exact", None),
    ("3배", 3, "TIMES", "exact", None),
    ("7나노", 7, "NM", "exact", None),
    ("5나노 이하", 5, "NM", "under", None),
    ("1.2조 개", 1.2e12, "COUNT", "exact", None),
    ("１２３％", 123, "PCT", "exact", None),
    ("5천만~7천만 원", 5e7, "KRW", "exact", 7e7),
    ("10∼15%", 10, "PCT", "exact", 15),
    ("2~3배", 2, "TIMES", "exact", 3),
    ("2~3조 원", 2e12, "KRW", "exact", 3e12),
    ("두 배", 2, "TIMES", "exact", None),
    ("세 곳에서", 3, "COUNT", "exact", None),
    ("네 명", 4, "PERSON", "exact", None),
    ("$5.6M", 5.6e6, "USD", "exact", None),
    ("US$ 6억", 6e8, "USD", "exact", None),
    ("5.6 billion dollars", 5.6e9, "USD", "exact", None),
    ("1억 달러 이상이", 1e8, "USD", "over", None),
    ("50%를 넘겼다", 50, "PCT", "over", None),
    ("1억 원을 훌쩍 넘긴다", 1e8, "KRW", "over", None),
    ("1천600억 달러를 돌파", 1.6e11, "USD", "over", None),
    ("두 배 가까이", 2, "TIMES", "approx", None),
    ("20조원에 육박", 2e13, "KRW", "approx", None),
    ("최대 3천만 원", 3e7, "KRW", "under", None),
    ("열두 명", 12, "PERSON", "exact", None),
    ("넉 달", 4, "MONTH", "exact", None),
    ("1억 달러가 넘는", 1e8, "USD", "over", None),
    ("2년도 안 된", 2, "YEAR", "under", None),
    ("100여 명", 100, "PERSON", "over", None),
    ("1만여 장", 1e4, "COUNT", "over", None),
    ("총 800조 원 이상의", 8e14, "KRW", "over", None),
    ("최대 5억 달러", 5e8, "USD", "under", None),
    ("최소 3천 명", 3000, "PERSON", "over", None),
    ("30% 가량", 30, "PCT", "approx", None),
    ("1조 원대", 1e12, "KRW", "approx", None),
    ("40세", 40, "AGE", "exact", None),
    ("3개월", 3, "MONTH", "exact", None),
    ("52시간", 52, "HOUR", "exact", None),
    ("100억 엔", 1e10, "JPY", "exact", None),
    ("20억 유로", 2e9, "EUR", "exact", None),
]

NOT_AMOUNTS = ["수천억 원", "수십만 명", "2025.02.06", "02-3142-4151", "118-81-03520", "H100", "GPT-4",
               "지피티-4", "6G", "13:31", "2023년 설립", "1985년생", "10년 만에", "10년 전", "3년째", "1년 새"]


@pytest.mark.parametrize(("text", "value", "unit", "qualifier", "value_max"), CASES)
def test_amount(text: str, value: float, unit: str, qualifier: str, value_max: float | None) -> None:
    a = parse_amount(text)
    assert a is not None, text
    assert a.value == pytest.approx(value) and a.unit == unit and a.qualifier == qualifier
    assert (a.value_max is None) if value_max is None else a.value_max == pytest.approx(value_max)


@pytest.mark.parametrize("text", NOT_AMOUNTS)
def test_not_an_amount(text: str) -> None:
    assert parse_amount(text) is None, text


def test_equivalent_is_a_second_amount() -> None:
    found = find_amounts("557만 6,000달러(약 81억 원)만 썼다")
    assert [(a.value, a.unit, a.qualifier) for a in found] == [(5_576_000, "USD", "exact"), (8.1e9, "KRW", "approx")]


@pytest.mark.parametrize(("text", "value"), [("557만 6,000", 5_576_000), ("1조 2천억", 1.2e12), ("8만5천162", 85_162),
                                             ("4천만", 4e7), ("3천억", 3e11), ("2만 3만", None)])
def test_parse_korean_number(text: str, value: float | None) -> None:
    assert parse_korean_number(text) == (None if value is None else pytest.approx(value))


# Periods: the time words before a figure, dated by the publication day. ``▲`` marks the figure.
PERIOD_CASES = [  # sentence, published (ISO day or None), period
    ("올해 매출은 ▲8조원이다.", "2025-07-15", "2025"),
    ("지난해 매출은 ▲7조원이다.", "2025-07-15", "2024"),
    ("작년 영업이익은 ▲4천억원이다.", "2025-07-15", "2024"),
    ("재작년 매출은 ▲6조원이다.", "2025-07-15", "2023"),
    ("내년 예산은 ▲2조원이다.", "2025-07-15", "2026"),
    ("올 상반기 영업이익은 ▲2천억원이다.", "2025-07-15", "2025-H1"),
    ("올해 하반기 매출은 ▲3조원이다.", "2025-07-15", "2025-H2"),
    ("지난해 4분기 영업이익은 ▲1천억원이다.", "2025-07-15", "2024-Q4"),
    ("내년 1분기 출하량은 ▲60만 개다.", "2025-07-15", "2026-Q1"),
    ("3분기 매출은 ▲2조원이다.", "2025-10-30", "2025-Q3"),
    ("4분기 영업이익은 ▲20조원이다.", "2026-01-02", "2025-Q4"),  # a late quarter named in January
    ("하반기 매출은 ▲5조원이다.", "2026-02-10", "2025-H2"),
    ("지난해 매출은 ▲7조원이다.", "2026-01-02", "2025"),  # two days into a year
    ("올해 투자는 ▲53조원이다.", "2025-12-31", "2025"),
    ("2024년 매출은 ▲10조원이다.", None, "2024"),
    ("2025년 1분기 매출은 ▲3조원이다.", None, "2025-Q1"),
    ("올해 매출은 ▲8조원이다.", None, None),  # no date: unknown
    ("3분기 매출은 ▲2조원이다.", None, None),
    ("매출은 지난해보다 ▲12% 늘었다.", "2025-07-15", None),  # a change against last year
    ("매출은 전년 대비 ▲10% 늘었다.", "2025-07-15", None),
    ("매출은 지난해(▲1조5천억원)보다 늘었다.", "2025-07-15", "2024"),  # last year's own value
    ("매출은 전년 동기(▲17조원) 대비 늘었다.", "2025-07-15", None),
    ("생산량을 올해의 ▲두 배로 늘린다.", "2025-07-15", None),
    ("내년 생산량을 올해의 두 배인 ▲60만 개로 늘린다.", "2025-07-15", "2026"),
    ("2023년 설립된 회사의 직원은 ▲180명이다.", "2025-07-15", None),
    ("2026 회계연도 2분기 매출은 ▲467억달러다.", "2025-08-28", None),  # a fiscal quarter
    ("2023년 매출은 ▲5조원으로 전년(▲4조원)보다 늘었다.", "2025-07-15", "2022"),
    ("전년도 매출이 ▲1조원 이상인 사업자.", "2025-07-15", None),  # 전년 of no named year
]


@pytest.mark.parametrize("sentence,published,period", PERIOD_CASES)
def test_period(sentence: str, published: str | None, period: str | None) -> None:
    from datetime import date

    from worker.claims.periods import period_before

    start = sentence.rindex("▲")
    text = sentence.replace("▲", "")
    start -= sentence[:start].count("▲")
    day = date.fromisoformat(published) if published else None
    assert period_before(text, start, day, multiple="배" in text[start:start + 5]) == period
