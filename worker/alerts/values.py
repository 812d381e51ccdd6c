"""Pure formatting of figures, stances and dates for alert messages, in Korean or English.

Korean numbers are written the way Korean newspapers write them: grouped by 조/억/만 with
thousands separators inside each group, a space before money words and counters attached
(``5,000만 원``, ``3,981억 위안``, ``557만 6,000 달러``, ``1,200명``, ``49.7%``).
"""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

# Money units take a space before them (5,000만 원); counters are written attached (1,200명).
KO_MONEY = {"KRW": "원", "USD": "달러", "CNY": "위안", "JPY": "엔", "EUR": "유로"}
KO_COUNTERS = {"PERSON": "명", "COUNT": "개", "YEAR": "년", "MONTH": "개월", "DAY": "일",
               "HOUR": "시간", "AGE": "세", "NM": "나노", "TIMES": "배", "PCT": "%", "PP": "%p"}
EN_UNITS = {"PERSON": " people", "COUNT": "", "YEAR": " years", "MONTH": " months", "DAY": " days",
            "HOUR": " hours", "AGE": " years old", "NM": " nm", "TIMES": "x", "PCT": "%", "PP": " pp"}
KO_GROUPS = ((10**12, "조"), (10**8, "억"), (10**4, "만"))
EN_GROUPS = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))

STANCE = {"ko": {"support": "지지", "oppose": "반대", "neutral": "중립"},
          "en": {"support": "support", "oppose": "oppose", "neutral": "neutral"}}
MODALITY = {"ko": {"done": "완료", "planned": "예정", "considering": "검토"},
            "en": {"done": "done", "planned": "planned", "considering": "considering"}}
QUALIFIER = {"ko": {"approx": "약 {}", "over": "{} 이상", "under": "{} 이하"},
             "en": {"approx": "about {}", "over": "over {}", "under": "under {}"}}


def _plain(value: float) -> str:
    """A number below 10,000: thousands separator, at most two decimals, no trailing zeros."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def ko_number(value: float) -> str:
    """50000000 -> '5,000만'; 5576000 -> '557만 6,000'; 49.7 -> '49.7'."""
    if abs(value) < 10**4:
        return _plain(value)
    sign, rest = ("-" if value < 0 else ""), int(round(abs(value)))
    parts: list[str] = []
    for size, word in KO_GROUPS:
        if rest >= size:
            parts.append(f"{rest // size:,}{word}")
            rest %= size
    if rest:
        parts.append(f"{rest:,}")
    return sign + " ".join(parts)


def en_number(value: float) -> str:
    """398100000000 -> '398.1 billion'; 1200 -> '1,200'."""
    for size, word in EN_GROUPS:
        if abs(value) >= size:
            return f"{_plain(round(value / size, 2))} {word}"
    return _plain(value)


def _ratio(value: float, language: str) -> str:
    if 0 < value < 1 and math.isclose(1 / value, round(1 / value), rel_tol=1e-6):
        n = round(1 / value)
        return f"{n}분의 1" if language == "ko" else f"1/{n}"
    return _plain(value)


def _number(value: float, unit: str, language: str) -> str:
    if unit == "RATIO":
        return _ratio(value, language)
    return ko_number(value) if language == "ko" else en_number(value)


def _attach(num: str, unit: str, language: str) -> str:
    if unit == "RATIO":
        return num
    if language == "ko":
        if unit in KO_MONEY:
            return f"{num} {KO_MONEY[unit]}"
        if unit in KO_COUNTERS:
            return f"{num}{KO_COUNTERS[unit]}"
    elif unit in KO_MONEY:
        return f"{unit} {num}"
    elif unit in EN_UNITS:
        return f"{num}{EN_UNITS[unit]}"
    return f"{num} {unit}" if unit else num


def number_with_unit(value: float, unit: str, language: str = "ko") -> str:
    """A number in its unit, without qualifier: '5,000만 원', '49.7%', 'KRW 50 million'."""
    return _attach(_number(value, unit, language), unit, language)


def quantity(value: float | None, unit: str | None, qualifier: str | None = None,
             value_max: float | None = None, language: str = "ko") -> str:
    """A figure as people read it: '약 5,000만 원', '5,000만~7,000만 원', '49.7% 이상'; '' for None."""
    if value is None:
        return ""
    unit = unit or ""
    num = _number(value, unit, language)
    if value_max is not None and value_max != value:
        num = f"{num}~{_number(value_max, unit, language)}"
    text = _attach(num, unit, language)
    pattern = QUALIFIER[language].get(qualifier or "exact")
    return pattern.format(text) if pattern else text


def difference(old: float | None, new: float | None, old_unit: str | None, new_unit: str | None,
               language: str = "ko") -> str:
    """'+1,000만 원, +25%' when both are plain numbers in one unit; percentages give '+4.5%p'."""
    if old is None or new is None or not old_unit or old_unit != new_unit or old == new:
        return ""
    delta = new - old
    sign = "+" if delta > 0 else "-"
    if old_unit in ("PCT", "PP"):
        return f"{sign}{number_with_unit(abs(delta), 'PP', language)}"
    text = f"{sign}{number_with_unit(abs(delta), old_unit, language)}"
    if old != 0 and old_unit != "RATIO":
        ratio = delta / abs(old)
        if abs(ratio) < 100:  # a hundredfold change is a unit mix-up more often than news
            text += f", {f'{ratio * 100:+.1f}'.removesuffix('.0')}%"
    return text


def stance(stance_value: str | None, modality: str | None, language: str = "ko") -> str:
    """'지지(완료)' / 'support (done)'; '' when the stance is unknown."""
    if not stance_value:
        return ""
    word = STANCE[language].get(stance_value, stance_value)
    if not modality:
        return word
    mod = MODALITY[language].get(modality, modality)
    return f"{word}({mod})" if language == "ko" else f"{word} ({mod})"


def when(value: str | datetime | None, timezone: str, *, with_time: bool = True) -> str:
    """An ISO date-time as '2025-03-01 09:00' in ``timezone``; '' when missing or unreadable."""
    if value is None or value == "":
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(timezone))
    return moment.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
