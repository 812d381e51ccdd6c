"""Dates in every form Korean feeds and pages write them; unreadable ones give None."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from worker.dates import parse_date

KST = timezone(timedelta(hours=9))
UTC = timezone.utc
EXPECTED = datetime(2025, 2, 6, 13, 31, tzinfo=KST)

SAME_MOMENT = [
    "2025-02-06 13:31:00",  # no zone: KST
    "2025-02-06 13:31",
    "2025-02-06 13:31:00 KST",
    "2025-02-06 13:31:00.0",  # a Java timestamp
    "2025.02.06 13:31",
    "2025.02.06. 13:31",
    "2025/02/06 13:31:00",
    "입력 2025.02.06 13:31",
    "기사입력 : 2025-02-06 13:31",
    "2025년 2월 6일 오후 1시 31분",
    "2025년 02월 06일 (목) 13:31",
    "2025-02-06 오후 1:31:00",
    "20250206133100",
    "Thu, 06 Feb 2025 13:31:00 +0900",  # RFC 822
    "Thu, 06 Feb 2025 13:31:00 +09:00",
    "Thu, 06 Feb 2025 13:31:00 KST",
    "Thu, 06 Feb 2025 13:31:00",  # RFC 822 without a zone: KST, not UTC
    "06 Feb 2025 13:31:00 +0900",
    "Thu, 06 Feb 2025 04:31:00 GMT",
    "Thu, 06 Feb 2025 04:31:00 UTC",
    "Wed, 05 Feb 2025 23:31:00 -0500",
    "Fri, 06 Feb 2025 13:31:00 +0900",  # a wrong weekday is common and harmless
    "2025-02-06T13:31:00+09:00",  # ISO 8601 / dc:date
    "2025-02-06T13:31:00.000+0900",
    "2025-02-06T04:31:00Z",
    "2025-02-06T13:31+09",
    "\u00a02025-02-06 13:31:00\u00a0",
]


@pytest.mark.parametrize("text", SAME_MOMENT)
def test_same_moment(text: str) -> None:
    parsed = parse_date(text)
    assert parsed is not None and parsed.tzinfo is not None
    assert parsed == EXPECTED


def test_offset_is_kept() -> None:
    assert parse_date("Thu, 06 Feb 2025 04:31:00 GMT").utcoffset() == timedelta(0)  # type: ignore[union-attr]
    assert parse_date("2025-02-06 13:31").utcoffset() == timedelta(hours=9)  # type: ignore[union-attr]


def test_date_only_is_midnight_in_the_default_zone() -> None:
    assert parse_date("2025-02-06") == datetime(2025, 2, 6, tzinfo=KST)
    assert parse_date("2025-02-06", default_tz="UTC") == datetime(2025, 2, 6, tzinfo=UTC)


def test_twelve_hour_clock() -> None:
    assert parse_date("2004-05-25 오후 11:23:17") == datetime(2004, 5, 25, 23, 23, 17, tzinfo=KST)
    assert parse_date("2025-02-06 오전 12:05") == datetime(2025, 2, 6, 0, 5, tzinfo=KST)


@pytest.mark.parametrize("text", [
    "", "   ", "어제", "방금 전", "3시간 전", "13:31", "not a date",
    "2025-02-30 10:00",  # no such day
    "2025-13-01",  # no such month
    "2025-02-06 25:10",  # no such hour
    "1970-01-01T00:00:00Z",  # an epoch placeholder
    "0001-01-01",
    "Thu, 06 Feb 2025 13:31:00 CST",  # China or US Central? never guess
    "Thu, 06 Feb 2025 13:31:00 XYZ",
    "2025-02-06T13:31:00+19:00",
    "2025-02-06 오후 13:31",
])
def test_unreadable_gives_none(text: str) -> None:
    assert parse_date(text) is None
