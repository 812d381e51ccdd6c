"""The period a figure refers to, read from the words of its sentence before it.

A period is written ``2025`` (a year), ``2025-Q1`` .. ``2025-Q4`` (a quarter) or ``2025-H1`` /
``2025-H2`` (the first or second half year, 상반기 / 하반기). Time words are explicit (2024년,
2025년 1분기, 2026년 상반기) or relative to the day the article was published: 올해 / 금년 / 올
(this year), 지난해 / 작년 / 전년 / 전년도 (last year), 재작년 (the year before), 내년 / 명년 (next
year), 내후년; each may carry a quarter or a half (지난해 4분기, 올 상반기). A quarter or half
written alone (3분기 매출) is of the publication year, except a fourth quarter or second half
named in the first quarter of a year, which is last year's (results come out after a quarter
ends). Without a publication date a relative period stays unknown (None).

The nearest time word before the figure gives its period, unless
- it dates an event rather than the figure (2023년 설립된, 지난해 출시한),
- the figure is a change measured against it (지난해보다 10% 늘었다, 전년 대비 3%p), or
- it names the base of a comparison the figure is not the value of (전년 동기 대비 38.9%): only
  a value written right after it, ``지난해(23조 원)보다``, is of that period.
"""
from __future__ import annotations

import re
from datetime import date, datetime

#: Relative year words and how many years they are from the publication year.
RELATIVE_YEARS = {"올해": 0, "금년": 0, "올": 0, "지난해": -1, "작년": -1, "전년": -1, "전년도": -1, "재작년": -2,
                  "지지난해": -2, "내년": 1, "명년": 1, "내년도": 1, "내후년": 2}

_PART = r"(?:\s*(?:(?P<q>[1-4])\s?분기|(?P<h>상|하)반기))?"
_TIME = re.compile(
    r"(?<![0-9가-힣])(?:(?P<year>(?:19|20)\d{2})\s?년(?:도)?" + _PART
    + r"|(?P<rel>올해|금년|지난해|작년|전년도|전년|재작년|지지난해|내년도|내년|명년|내후년)" + _PART.replace("q>", "q2>")
    .replace("h>", "h2>")
    + r"|올\s(?:(?P<q3>[1-4])\s?분기|(?P<h3>상|하)반기)"
    + r"|(?P<q4>[1-4])\s?분기|(?P<h4>상|하)반기)")
#: After a time word: it dates an event, not the figure (2023년 설립된, 지난해 출시한, 2020년생), or
#: the start of a span the figure holds through (2020년부터).
_EVENT_AFTER = re.compile(r"^\s*[가-힣]+(?:된|한|하는|되는|했던|됐던|돼|해|하며|되며|생)(?![가-힣])"
                          r"|^(?:생|대|째|간|동안|만에|부터|이후|이래)")
#: After a time word, before the figure: that time is the base of a change or a multiple.
_COMPARED = re.compile(r"대비|보다|비해|비교|比|의\s*[\d.]*\s*(?:[가-힣]\s)?배")
#: Fiscal quarters (2026 회계연도 2분기) are not calendar ones.
_FISCAL = re.compile(r"회계\s?연도|회계\s?분기|FY\s?\d")
#: Between a time word and a value written right after it: 지난해(23조 원), 전년도의 2조 원, 올해는 3%.
_RIGHT_AFTER = re.compile(r"^\s*(?:도|에는|엔|에|의|은|는|만|까지|말|초|중)?\s*[(（]?\s*$")
#: A base of comparison whose own value is not given here (전년 동기, 지난해 같은 기간).
_SAME_SPAN = re.compile(r"^\s*(?:동기|같은\s?기간|같은\s?달|같은\s?분기|동월|동기간)")


def as_date(published: datetime | date | None) -> date | None:
    """The calendar day of a publication time (its own time zone), or None."""
    if published is None:
        return None
    return published.date() if isinstance(published, datetime) else published


def period_before(sentence: str, start: int, published: date | None, *, multiple: bool = False) -> str | None:
    """The period the time words of ``sentence`` before offset ``start`` give the figure there.
    ``multiple``: the figure is a multiple or a ratio (두 배, 3분의 1), which ``올해의`` only dates
    as its base."""
    found = list(_TIME.finditer(sentence[:start]))
    for k in range(len(found) - 1, -1, -1):
        m = found[k]
        after = sentence[m.end():start]
        if _EVENT_AFTER.match(sentence[m.end():m.end() + 12]):
            continue  # 2023년 설립된 회사, 2020년부터: look further back
        if _RIGHT_AFTER.match(after):
            if multiple and "의" in after:
                continue  # 올해의 두 배: this year is the base, not the figure's time
            if _SAME_SPAN.match(sentence[m.end():start + 1]):
                return None
            return _label(m, published, found[:k], sentence)
        if _SAME_SPAN.match(after):
            return None  # 전년 동기(17조 원) 대비: a span we cannot name without its quarter
        own = sentence[m.end():found[k + 1].start()] if k + 1 < len(found) else after
        if _COMPARED.search(own):
            continue  # 지난해보다 10% 늘었다, 올해의 두 배인 900억 원: the base of a change
        return _label(m, published, found[:k], sentence)
    return None


def _label(m: re.Match[str], published: date | None, earlier: list[re.Match[str]], sentence: str) -> str | None:
    quarter = m.group("q") or m.group("q2") or m.group("q3") or m.group("q4")
    half = m.group("h") or m.group("h2") or m.group("h3") or m.group("h4")
    if m.group("year"):
        year: int | None = int(m.group("year"))
    elif m.group("rel") in ("전년", "전년도"):
        # the year before the one under discussion: only named when the sentence names that one
        base = next((_label(e, published, [], sentence) for e in reversed(earlier)
                     if e.group("rel") not in ("전년", "전년도")), None)
        year = int(base[:4]) - 1 if base else None
    elif m.group("rel"):
        year = published.year + RELATIVE_YEARS[m.group("rel")] if published else None
    elif m.group("q3") or m.group("h3"):
        year = published.year if published else None
    else:  # a quarter or half alone: this year's, but last year's late quarter early in a year
        if published is None or _FISCAL.search(sentence):
            return None
        late = quarter == "4" or half == "하"
        year = published.year - 1 if late and published.month <= 3 else published.year
    if year is None:
        return None
    if quarter:
        return f"{year}-Q{quarter}"
    if half:
        return f"{year}-H1" if half == "상" else f"{year}-H2"
    return str(year)
