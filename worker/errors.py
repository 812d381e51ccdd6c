"""All of policywatch's own exceptions, in one tree.

    PolicywatchError
    ├── ConfigError              a configuration file or variable is wrong (names file and key)
    ├── FetchError               getting bytes over HTTP failed
    │   ├── TransientFetchError  worth retrying later: timeouts, 5xx, 429, connection resets
    │   └── PermanentFetchError  not worth retrying soon: 4xx, too large, bad scheme, private host,
    │                            robots.txt disallows, redirect loop
    ├── ParseError               a feed or page could not be read (malformed XML, no entries)
    ├── ExtractError             no main text could be extracted from a page
    ├── StoreError               the database failed or is not at the expected schema
    └── DeliveryError            a notification could not be delivered to a destination

Signals that are not errors:

    SkipEntry                    this entry is known, off-topic or otherwise not worth processing

Every message is one line a user understands; none carries a secret (URLs are redacted by
``worker.settings.redact`` before they go into a message).
"""
from __future__ import annotations


class PolicywatchError(Exception):
    """Base of every error policywatch raises on purpose."""


class ConfigError(PolicywatchError):
    """A configuration file or environment variable is invalid."""


class FetchError(PolicywatchError):
    """Fetching a URL failed."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.retry_after = retry_after  # seconds, when the server said so


class TransientFetchError(FetchError):
    """Fetching failed in a way worth retrying later."""


class PermanentFetchError(FetchError):
    """Fetching failed in a way that retrying soon will not fix."""


class ParseError(PolicywatchError):
    """A feed or document could not be parsed."""


class ExtractError(PolicywatchError):
    """No usable main text could be extracted."""


class StoreError(PolicywatchError):
    """The database failed or is at an unexpected schema."""


class DeliveryError(PolicywatchError):
    """A notification could not be delivered."""


class SkipEntry(Exception):  # noqa: N818 - a signal, not an error
    """Signal: this entry needs no further processing (known, duplicate, off-topic)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
