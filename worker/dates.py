"""Dates as Korean feeds and pages write them, read into aware datetimes.

A date without a zone is in ``default_tz`` (KST for Korean outlets). Anything that cannot be read
with certainty gives ``None``: a missing date is better than a wrong one.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_tz
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Years outside this range are a placeholder (1970-01-01, 0001-01-01) or a typo, not a news date.
MIN_YEAR = 1995
MAX_YEAR = 2100

# Zone abbreviations with one meaning. CST (China or US Central?) and IST are left out on purpose:
# an ambiguous zone gives None rather than a date nine hours off.
ZONE_ABBREVIATIONS = {
    "Z": 0, "UT": 0, "UTC": 0, "GMT": 0, "KST": 9 * 60, "JST": 9 * 60, "HKT": 8 * 60,
    "SGT": 8 * 60, "EST": -5 * 60, "EDT": -4 * 60, "PST": -8 * 60, "PDT": -7 * 60,
    "MST": -7 * 60, "MDT": -6 * 60, "CET": 60, "CEST": 120, "BST": 60, "KDT": 10 * 60,
}

_LABEL = re.compile(r"^(?:기사\s*)?(?:입력|수정|등록|승인|발행|게재|송고|최종\s*수정|업데이트|published|updated|date)"
                    r"\s*(?:일시|시간)?\s*[:：]?\s*", re.IGNORECASE)
_ZONE = r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?|\(?[A-Za-z]{1,5}\)?)?"
_TIME = (r"(?:[T\s]+(?P<ampm>오전|오후|AM|PM)?\s*(?P<hour>\d{1,2})[:시]\s*(?P<minute>\d{1,2})?분?"
         r"(?::(?P<second>\d{1,2})(?:[.,]\d+)?|\s*(?P<second2>\d{1,2})초)?\s*(?P<ampm2>AM|PM)?)?")
_NUMERIC = re.compile(
    r"^(?P<year>\d{4})\s*(?:[-./]|년)\s*(?P<month>\d{1,2})\s*(?:[-./]|월)\s*(?P<day>\d{1,2})\s*[.일]?"
    r"\s*(?:\(?[월화수목금토일](?:요일)?\)?)?" + _TIME + r"\s*" + _ZONE + r"$",
    re.IGNORECASE)
_COMPACT = re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"
                      r"(?:(?P<hour>\d{2})(?P<minute>\d{2})(?P<second>\d{2})?)?$")
_RFC822_OFFSET_COLON = re.compile(r"([+-]\d{2}):(\d{2})$")


def _zone(token: str | None) -> tzinfo | None | bool:
    """A tzinfo for an explicit zone token, None when there is none, False when it is unknown."""
    if not token:
        return None
    token = token.strip("()").upper()
    if token in ZONE_ABBREVIATIONS:
        return timezone(timedelta(minutes=ZONE_ABBREVIATIONS[token]))
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})?", token)
    if not m:
        return False
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    if minutes > 14 * 60:
        return False
    return timezone(timedelta(minutes=minutes if m.group(1) == "+" else -minutes))


def _default_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == "Asia/Seoul":  # no tz database on this machine: KST has had no DST since 1988
            return timezone(timedelta(hours=9))
        raise


def _build(year: int, month: int, day: int, hour: int, minute: int, second: int,
           tz: tzinfo) -> datetime | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:  # 2025-02-30, 25:00
        return None


def _numeric(text: str, default: tzinfo) -> datetime | None | bool:
    m = _NUMERIC.match(text) or _COMPACT.match(text)
    if not m:
        return False
    g = m.groupdict()
    tz = _zone(g.get("zone"))
    if tz is False:
        return None
    hour = int(g.get("hour") or 0)
    ampm = (g.get("ampm") or g.get("ampm2") or "").upper()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm in ("오후", "PM") else 0)
    second = g.get("second") or g.get("second2") or 0
    return _build(int(g["year"]), int(g["month"]), int(g["day"]), hour, int(g.get("minute") or 0),
                  int(second), tz or default)


def _rfc822(text: str, default: tzinfo) -> datetime | None:
    text = _RFC822_OFFSET_COLON.sub(r"\1\2", text)
    last = text.rsplit(None, 1)[-1]
    zone: tzinfo | None | bool = None
    if re.fullmatch(r"\(?[A-Za-z]{1,5}\)?|[+-]\d{4}", last):
        # parsedate_tz reads a missing zone as UTC; the zone is read here so that none means KST
        zone = _zone(last)
        if zone is False:
            return None
        text = text[: -len(last)].strip()
    parsed = parsedate_tz(text)
    if parsed is None:
        return None
    year, month, day, hour, minute, second = parsed[:6]
    return _build(year, month, day, hour, minute, second, zone or default)


def parse_date(text: str, default_tz: str = "Asia/Seoul") -> datetime | None:
    """An aware datetime from a feed or page date in any common form, or None when unsure."""
    if not text:
        return None
    cleaned = " ".join(_LABEL.sub("", text.strip().replace("\u00a0", " ")).split())
    if not cleaned:
        return None
    default = _default_zone(default_tz)
    result = _numeric(cleaned, default)
    if result is not False:
        return result or None
    if re.search(r"[A-Za-z]{3}", cleaned):  # Thu, 06 Feb 2025 13:31:00 +0900
        return _rfc822(cleaned, default)
    return None


def has_time(text: str) -> bool:
    """Whether a date text carries a clock time (``2025-02-06`` does not)."""
    return bool(re.search(r"\d{1,2}\s*[:시]\s*\d{0,2}", text or ""))
