"""Adaptive polling: news pulls the interval in, silence and errors push it out, servers set floors."""
from __future__ import annotations

import random

import pytest

from worker.polling import next_interval
from worker.settings import FetchSettings

SETTINGS = FetchSettings(min_interval_minutes=5, max_interval_minutes=240)
LOW, HIGH, BASE = 5 * 60.0, 240 * 60.0, 30 * 60.0


def step(current: float | None, *, new: bool = False, max_age: float | None = None,
         retry_after: float | None = None, errors: int = 0, seed: int = 7,
         settings: FetchSettings = SETTINGS, base: float = BASE) -> float:
    return next_interval(current, had_new_entries=new, max_age=max_age, retry_after=retry_after,
                         error_count=errors, settings=settings, base_seconds=base, rng=random.Random(seed))


def no_jitter(value: float, expected: float) -> bool:
    return expected * 0.9 <= value <= expected * 1.1


def test_first_poll_starts_from_the_base() -> None:
    assert no_jitter(step(None), BASE * 1.5)
    assert no_jitter(step(None, new=True), BASE * 0.5)


def test_new_entries_shorten_and_silence_lengthens() -> None:
    assert no_jitter(step(BASE, new=True), BASE / 2)
    assert no_jitter(step(BASE), BASE * 1.5)


def test_intervals_stay_within_bounds() -> None:
    assert step(LOW, new=True) == LOW
    assert step(HIGH) == HIGH
    current = BASE
    for i in range(50):
        current = step(current, new=i % 3 == 0, seed=i)
        assert LOW <= current <= HIGH


def test_quiet_source_reaches_the_ceiling() -> None:
    current: float | None = None
    for i in range(12):
        current = step(current, seed=i)
    assert current == HIGH


def test_busy_source_reaches_the_floor() -> None:
    current: float | None = None
    for i in range(8):
        current = step(current, new=True, seed=i)
    assert current == LOW


def test_errors_back_off_exponentially() -> None:
    values = [step(BASE, errors=n) for n in range(1, 5)]
    assert [no_jitter(v, BASE * 2 ** n) for v, n in zip(values[:3], range(1, 4))] == [True] * 3
    assert values[3] == HIGH  # 30 min x 16 = 8 h, capped at 4 h
    assert step(BASE, errors=1000) == HIGH


def test_max_age_is_a_floor() -> None:
    assert step(BASE, new=True, max_age=3600) == 3600  # not jittered below what the server asked
    assert no_jitter(step(BASE, max_age=60), BASE * 1.5)  # a short max-age does not pull it in
    assert step(BASE, max_age=10 * 24 * 3600) == HIGH  # still within the ceiling


def test_retry_after_is_a_floor() -> None:
    assert step(BASE, new=True, retry_after=7200, errors=1) >= 7200
    assert step(LOW, new=True, retry_after=3000) == 3000


def test_jitter_is_within_ten_percent_and_varies() -> None:
    values = {step(BASE * 2, new=True, seed=seed) for seed in range(200)}
    assert len(values) > 100
    assert min(values) >= BASE * 0.9 and max(values) <= BASE * 1.1


def test_default_rng_works() -> None:
    value = next_interval(None, had_new_entries=False, max_age=None, retry_after=None, error_count=0,
                          settings=SETTINGS, base_seconds=BASE)
    assert LOW <= value <= HIGH


@pytest.mark.parametrize("base", [0.0, 60.0, 10 * 24 * 3600.0])
def test_base_outside_the_bounds_is_clamped(base: float) -> None:
    assert LOW <= step(None, base=base) <= HIGH
