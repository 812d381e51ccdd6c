"""Idempotency keys: one message to one destination always carries the same key, so a receiver
that remembers keys can drop the repeat that an interrupted or timed-out send leaves behind.

The keys travel as message headers, which apprise adds from ``+Name=value`` URL parameters only
for some services (``worker.alerts.notifier.HEADER_SCHEMES``)::

    Idempotency-Key: 5f0c9e…            32 hex digits: sha256 of (alert key, destination id), or
                                        for a digest of (destination id, its sorted delivery ids)
    X-Policywatch-Alert: figure:1a2b…   the alert's key (single alerts)
    X-Policywatch-Digest: 3             how many alerts a digest carries (digests)

A digest is always retried with exactly the deliveries it carried the first time (see
``worker.alerts.delivery``), so its key is as stable as a single alert's.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

KEY_HEADER = "Idempotency-Key"
ALERT_HEADER = "X-Policywatch-Alert"
DIGEST_HEADER = "X-Policywatch-Digest"
#: Header values pass through a URL query that apprise unquotes twice and then into HTTP or mail
#: headers: only these characters survive all of that unchanged.
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


def _hash(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


def header_value(text: str) -> str:
    """``text`` when it is safe in a header as it is, else a stable hash of it."""
    return text if _SAFE.match(text) else f"sha256-{_hash(text)}"


def message_key(alert_key: str, destination_id: str) -> str:
    """The idempotency key of one alert sent alone to one destination."""
    return _hash("alert", alert_key, destination_id)


def digest_key(destination_id: str, delivery_ids: Iterable[int]) -> str:
    """The idempotency key of one digest: its destination and the set of deliveries it carries."""
    return _hash("digest", destination_id, ",".join(str(i) for i in sorted(set(delivery_ids))))


def alert_headers(alert_key: str, destination_id: str) -> dict[str, str]:
    """The headers of a message carrying one alert."""
    return {KEY_HEADER: message_key(alert_key, destination_id), ALERT_HEADER: header_value(alert_key)}


def digest_headers(destination_id: str, delivery_ids: Iterable[int]) -> dict[str, str]:
    """The headers of a digest message."""
    ids = sorted(set(delivery_ids))
    return {KEY_HEADER: digest_key(destination_id, ids), DIGEST_HEADER: str(len(ids))}
