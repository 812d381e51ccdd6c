"""Korean numerals and units: ``557만 6,000달러``, ``1조2000억원``, ``29%포인트``, ``10분의 1``, ``두 배``.

``find_amounts(text)`` gives every amount of a text (number, unit, range, qualifier, span), in
text order; it reads characters only. Whether an amount is a figure (not a date, a rank or a
product name) is decided by ``figures`` with morphology and context.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from worker.model import Qualifier

NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SMALL = {"십": 10, "백": 100, "천": 1000}
_LARGE = {"만": 10**4, "억": 10**8, "조": 10**12, "경": 10**16}
_CORE = (rf"(?:{NUM}|(?<![가-힣])[십백천](?=[만억조]))"
         rf"(?:\s?[십백천만억조](?:\s?{NUM}(?![.,:/\-]\d))?)*")
_LATIN_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
                "billion": 1e9, "t": 1e12, "tn": 1e12, "trillion": 1e12}
_CURRENCY_SIGN = {"us$": "USD", "$": "USD", "usd": "USD", "€": "EUR", "eur": "EUR", "£": "gbp",
                  "¥": "JPY", "jpy": "JPY", "₩": "KRW", "krw": "KRW", "rmb": "CNY", "cny": "CNY"}

#: Unit words after a number and the unit they mean: the contract's units (money, %, %p, people,
#: counters, durations, 나노, 배) and the currencies, which are number grammar. Measures the contract
#: leaves as lowercase words (㎒, Gbps, TB, 테라플롭스, ㎿, kWh, 회선, ㎞, 톤 ...) are word lists, kept only in
#: ``figures.yaml`` (``units:``), which adds to these.
DEFAULT_UNITS: dict[str, str] = {
    "원": "KRW", "달러": "USD", "달러화": "USD", "불": "USD", "위안": "CNY", "위안화": "CNY", "엔": "JPY",
    "엔화": "JPY", "유로": "EUR", "유로화": "EUR", "파운드": "gbp", "루피": "inr", "루블": "rub",
    "홍콩달러": "hkd", "대만달러": "twd", "호주달러": "aud", "캐나다달러": "cad", "싱가포르달러": "sgd",
    "%포인트": "PP", "%p": "PP", "%P": "PP", "%pt": "PP", "퍼센트포인트": "PP", "％포인트": "PP",
    "%": "PCT", "퍼센트": "PCT", "프로": "PCT",
    "명": "PERSON", "개": "COUNT", "곳": "COUNT", "대": "COUNT", "장": "COUNT", "건": "COUNT",
    "척": "COUNT", "개사": "COUNT", "개국": "COUNT", "개소": "COUNT", "가구": "COUNT", "군데": "COUNT",
    "년": "YEAR", "개월": "MONTH", "달": "MONTH", "일": "DAY", "시간": "HOUR", "세": "AGE", "살": "AGE",
    "나노미터": "NM", "나노": "NM", "nm": "NM", "배": "TIMES",
}
#: Frequency units (the names ``figures.yaml`` gives ㎒, GHz ...): a frequency written before 대역 or 대
#: names a band (3.5㎓ 대역), not a measure.
FREQUENCY_UNITS = frozenset({"hz", "khz", "mhz", "ghz", "thz"})
#: Counters that Hangul number words (두, 세, 열 ...) take.
HANGUL_COUNTERS = ("곳", "명", "개", "배", "대", "건", "척", "군데", "개국", "개사", "달", "살", "가구")
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HANGUL_NUMBERS = {"두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10,
                   "열한": 11, "열두": 12, "열세": 13, "열네": 14, "열다섯": 15, "열여섯": 16, "열일곱": 17,
                   "열여덟": 18, "열아홉": 19, "스무": 20, "스물": 20, "서른": 30, "마흔": 40, "쉰": 50,
                   "넉": 4, "석": 3}  # 넉 달, 석 달: the forms 네 and 세 take before 달

_Q_BEFORE = {"약": Qualifier.APPROX, "대략": Qualifier.APPROX, "대략적으로": Qualifier.APPROX,
             "줄잡아": Qualifier.APPROX, "어림잡아": Qualifier.APPROX, "거의": Qualifier.APPROX,
             "최대": Qualifier.UNDER, "최고": Qualifier.UNDER, "최소": Qualifier.OVER, "적어도": Qualifier.OVER}
# After the number (an optional particle between): "1억 달러 이상이", "1억 달러가 넘는", "2년도 안 된".
# Adverbs that sit between an amount and its verb: 1억 원을 훌쩍 넘긴다, 처음으로 30억 달러를 넘었다.
_ADVERB = r"(?:(?:훌쩍|크게|훨씬|이미|다시|처음으로|가볍게|거뜬히|무난히)\s*)?"
# 웃돌다 and 밑돌다 take the amount as their object (5천만원을 웃돈다: over); written bare after a share they
# give the margin instead (전망치를 8% 웃돈: by 8%, an exact figure).
_Q_AFTER = [
    (re.compile(r"^\s*(?:가|이|을|를|은|는|도)?\s*" + _ADVERB +
                r"(?:이상|초과|넘는|넘게|넘어|넘었|넘긴|넘겼|넘기|넘을|넘으며|돌파|남짓|여\b)"
                r"|^\s*(?:가|이|을|를|은|는|도)\s*" + _ADVERB + r"(?:상회|웃도|웃돌|웃돈)"),
     Qualifier.OVER),
    (re.compile(r"^\s*(?:가|이|을|를|은|는|도|에)?\s*(?:이하|미만|이내|못\s*미치|안\s*되|안\s*된|안\s*돼|채\s*안)"
                r"|^\s*(?:가|이|을|를|은|는|도|에)\s*(?:밑도|밑돌|밑돈|하회)"), Qualifier.UNDER),
    (re.compile(r"^\s*(?:가량|정도|안팎|내외|쯤|께|(?:에\s*)?(?:가까이|가까운|가깝|육박|근접)|선(?=[이에으을은]|\s|$)|대(?=[에의로를가이는은]|\s|$)|남짓|언저리|상당)"),
     Qualifier.APPROX),
]
_Q_BEFORE_RE = re.compile(r"(?:^|[\s(\[‘“'\"])(" + "|".join(sorted(_Q_BEFORE, key=len, reverse=True)) + r")\s*$")
_VAGUE_BEFORE = re.compile(r"(?<![가-힣])(?:수|몇|십수|여러|수십|수백|수천)\s*$")  # not 주파수 370㎒
# A duration followed by these is a time reference ("10년 만에", "10년 전", "3년째", "1985년생").
_TIME_REF_AFTER = re.compile(r"^\s?(?:새(?![가-힣])|사이|내(?![가-힣])|안에|만에|만의|만이|만인|만으로|전|후(?![반퇴])|뒤(?![처쳐따])|째|간|동안|연속|생|대(?![비응])|차|"
                             r"말|초|중반|상반기|하반기|이래|부터)")


@dataclass(frozen=True)
class Amount:
    """One amount in a text: value in the unit's base, unit code, span and qualifier."""

    value: float
    unit: str
    start: int  # first character of the number (or of a currency sign)
    end: int  # just after the unit
    text: str
    unit_text: str
    unit_start: int
    qualifier: Qualifier = Qualifier.EXACT
    value_max: float | None = None
    hangul: bool = False  # a Hangul number word (두 배, 세 곳)
    time_reference: bool = False  # 2023년 (a year), 10년 만에, 3년째: a time, not a quantity


def parse_korean_number(text: str) -> float | None:
    """``557만 6,000`` -> 5576000, ``1조 2천억`` -> 1.2e12, ``4천만`` -> 4e7; None if malformed."""
    parts = re.findall(rf"{NUM}|[십백천만억조경]", text.replace(" ", ""))
    if not parts:
        return None
    total, section, current, last_large = 0.0, 0.0, None, float("inf")
    for part in parts:
        if part in _SMALL:
            section += (current if current is not None else 1) * _SMALL[part]
            current = None
        elif part in _LARGE:
            scale = _LARGE[part]
            if scale >= last_large:
                return None  # 2만 3만: two numbers, not one
            section += current or 0
            total += (section or 1) * scale
            section, current, last_large = 0.0, None, scale
        else:
            if current is not None:
                return None
            current = float(part.replace(",", ""))
    return total + section + (current or 0)


def _largest_scale(text: str) -> float:
    scales = [_LARGE[c] for c in text if c in _LARGE]
    return max(scales) if scales else 1.0


@lru_cache(maxsize=8)
def _patterns(units_key: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    units = dict(units_key)
    alts = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    lead = r"(?<![\d.,:/\-A-Za-z])(?<![A-Za-z가-힣]-)"
    tail = r"(?![.,:/\-]\d)(?!\d)"
    rng = r"\s?[~∼〜～]\s?"
    korean = (rf"{lead}(?P<n1>{_CORE}){tail}"
              rf"(?:(?P<u1>\s?(?:{alts}))?{rng}(?P<n2>{_CORE}){tail})?(?P<yeo>여)?(?P<sp>\s?)(?P<unit>{alts})"
              rf"|{lead}(?P<rden>{_CORE}){tail}\s?분의\s?(?P<rnum>{_CORE}){tail}")
    latin = (r"(?P<sign>US\s?\$|\$|€|£|¥|₩|USD|EUR|JPY|KRW|RMB|CNY)\s?"
             rf"(?P<ln>{NUM})(?:\s?(?P<lscale>[kKmMbBtT]n?|thousand|million|billion|trillion)(?![A-Za-z])"
             r"|(?P<lk>\s?[십백천만억조](?:\s?\d[\d,.]*\s?[십백천만억조]|[십백천만억조])*))?"
             rf"|{lead}(?P<wn>{NUM})\s?(?P<wscale>million|billion|trillion)\s?(?P<wunit>dollars?|달러|euros?|유로|won|원)")
    hangul = (r"(?<![가-힣])(?P<hn>" + "|".join(sorted(_HANGUL_NUMBERS, key=len, reverse=True)) + r")\s(?P<hunit>"
              + "|".join(sorted(HANGUL_COUNTERS, key=len, reverse=True)) + r")")
    return re.compile(f"{latin}|{korean}|{hangul}"), units


def qualifier_after(text: str, end: int) -> Qualifier | None:
    """The qualifier written right after an amount ending at ``end`` (이상, 미만, 가량 ...), or None."""
    after = text[end:end + 20]
    for pattern, qual in _Q_AFTER:
        if pattern.match(after):
            return qual
    return None


def _qualifier(text: str, start: int, end: int, inner_over: bool) -> Qualifier:
    after = qualifier_after(text, end)
    if after is not None:
        return after
    if inner_over:
        return Qualifier.OVER
    before = _Q_BEFORE_RE.search(text[max(0, start - 8):start])
    return _Q_BEFORE[before.group(1)] if before else Qualifier.EXACT


def _is_time_reference(text: str, a: Amount) -> bool:
    if a.unit not in ("YEAR", "MONTH", "DAY", "HOUR"):
        return False
    if a.unit == "YEAR" and a.value == int(a.value) and 1900 <= a.value <= 2100 \
            and (a.value_max is None or 1900 <= a.value_max <= 2100):
        return True  # 2023년, 2026~2028년: years, not durations
    return bool(_TIME_REF_AFTER.match(text[a.end:a.end + 4]))


#: A count of calendar spans (5개 분기 만에, 3개 분기 연속): with a time word after it, a time
#: reference like 10년 만에, not a count of things.
_SPAN_COUNTED = re.compile(r"^\s?(?:분기|반기|학기|회계연도)")


def _counts_spans(text: str, a: Amount) -> bool:
    if a.unit != "COUNT" or a.unit_text != "개":
        return False
    m = _SPAN_COUNTED.match(text[a.end:a.end + 6])
    return bool(m) and bool(_TIME_REF_AFTER.match(text[a.end + m.end():a.end + m.end() + 4]))


def find_amounts(text: str, units: dict[str, str] | None = None) -> list[Amount]:
    """Every amount in ``text`` (vague ones like 수천억 원 left out), in text order."""
    pattern, table = _patterns(tuple(sorted((units or DEFAULT_UNITS).items())))
    text = text.translate(_FULLWIDTH)  # same length: spans stay valid for the caller's text
    out: list[Amount] = []
    for m in pattern.finditer(text):
        amount = _amount(m, table)
        if amount is None or _VAGUE_BEFORE.search(text[max(0, m.start() - 5):m.start()]):
            continue
        qual = _qualifier(text, amount.start, amount.end, m.group("yeo") is not None)
        amount = replace(amount, qualifier=qual)
        out.append(replace(amount, time_reference=_is_time_reference(text, amount) or _counts_spans(text, amount)))
    return out


def _amount(m: re.Match[str], table: dict[str, str]) -> Amount | None:
    g = m.group
    if g("sign"):
        value = float(g("ln").replace(",", ""))
        if g("lscale"):
            value *= _LATIN_SCALE[g("lscale").lower()]
        elif g("lk"):
            parsed = parse_korean_number(g("ln") + g("lk").strip())
            if parsed is None:
                return None
            value = parsed
        unit = _CURRENCY_SIGN[re.sub(r"\s", "", g("sign")).lower()]
        return Amount(value, unit, m.start(), m.end(), m.group(0).rstrip(), g("sign"), m.start("sign"))
    if g("wn"):
        word = g("wunit").lower().rstrip("s")
        unit = {"dollar": "USD", "달러": "USD", "euro": "EUR", "유로": "EUR", "won": "KRW", "원": "KRW"}[word]
        value = float(g("wn").replace(",", "")) * _LATIN_SCALE[g("wscale").lower()]
        return Amount(value, unit, m.start(), m.end(), m.group(0), g("wunit"), m.start("wunit"))
    if g("hn"):
        return Amount(float(_HANGUL_NUMBERS[g("hn")]), table.get(g("hunit"), "COUNT"), m.start(), m.end(),
                      m.group(0), g("hunit"), m.start("hunit"), hangul=True)
    if g("rden"):
        den, num = parse_korean_number(g("rden")), parse_korean_number(g("rnum"))
        if not den or num is None:
            return None
        return Amount(num / den, "RATIO", m.start(), m.end(), m.group(0), "분의", m.start("rden") + len(g("rden")))
    first = parse_korean_number(g("n1"))
    if first is None:
        return None
    unit = table[g("unit")]
    value_max = None
    if g("n2"):
        second = parse_korean_number(g("n2"))
        if second is None:
            return None
        if _largest_scale(g("n1")) == 1 and _largest_scale(g("n2")) > 1 and first < second:
            first *= _largest_scale(g("n2"))  # 2~3조 원: the scale is written once
        if g("u1") and table.get(g("u1").strip()) != unit:
            return None
        value_max = second
    return Amount(first, unit, m.start(), m.end(), m.group(0), g("unit"), m.start("unit"), value_max=value_max)


def units_from(figures: dict[str, Any]) -> dict[str, str]:
    """The default unit words plus the ``units:`` mapping of ``figures.yaml``."""
    extra = figures.get("units") or {}
    return DEFAULT_UNITS | {str(k): str(v) for k, v in extra.items()}


def parse_amount(text: str, units: dict[str, str] | None = None) -> Amount | None:
    """The first amount of ``text`` that is not a time reference, or None."""
    return next((a for a in find_amounts(text, units) if not a.time_reference), None)
