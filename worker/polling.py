"""When to poll a source next: a pure function of what the last poll saw.

New entries pull the interval in, quiet polls push it out, consecutive errors back off
exponentially, and the server's Cache-Control max-age and Retry-After are floors. The result
is jittered by +-10 % so that sources configured alike do not all fire in the same second, and
always stays within [min_interval_minutes, max_interval_minutes].
"""
from __future__ import annotations

import random

from worker.settings import FetchSettings

# Halving on news and growing by half on silence: a source that publishes hourly settles near
# one hour within a few polls, and a silent one reaches the 4 h ceiling from 30 min in ~5 polls.
SHRINK_ON_NEW = 0.5
GROW_ON_QUIET = 1.5
JITTER = 0.10
MAX_BACKOFF_DOUBLINGS = 10  # 2**10 x base: far past any ceiling; keeps the power finite


def next_interval(current_seconds: float | None, *, had_new_entries: bool, max_age: float | None,
                  retry_after: float | None, error_count: int, settings: FetchSettings,
                  base_seconds: float, rng: random.Random | None = None) -> float:
    """Seconds until the next poll of a source, within the configured minimum and maximum."""
    low = settings.min_interval_minutes * 60.0
    high = max(low, settings.max_interval_minutes * 60.0)
    base = min(max(base_seconds, low), high)
    current = current_seconds if current_seconds and current_seconds > 0 else base
    if error_count > 0:
        interval = base * 2.0 ** min(error_count, MAX_BACKOFF_DOUBLINGS)
    elif had_new_entries:
        interval = current * SHRINK_ON_NEW
    else:
        interval = current * GROW_ON_QUIET
    rng = rng or random.Random()
    interval *= 1.0 + rng.uniform(-JITTER, JITTER)
    # the server's word is a floor, not jittered below: polling earlier only fetches the same bytes
    floor = max(max_age or 0.0, retry_after or 0.0)
    interval = max(interval, floor)
    return min(max(interval, low), high)
