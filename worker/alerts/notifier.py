"""The only code that imports apprise: one message to one destination, success or DeliveryError.

Each send builds an ``Apprise`` holding just that destination's URL under a tag equal to its id and
notifies that tag, then reads the ``AppriseResult`` strictly: anything but SUCCESS is a failure
(PARTIAL, e.g. one of two mail recipients refused, fails the destination as a whole; NOMATCH, a
tag that selected nothing, is a configuration error, not a quiet success). Socket timeouts come
from ``delivery.timeout_seconds`` unless the URL sets its own ``cto``/``rto``.

Idempotency headers (``worker.alerts.keys``) are added as ``+Name=value`` URL parameters for the
services whose apprise plugin turns those into message headers (``HEADER_SCHEMES``, read from
apprise 2.2's ``custom_json``, ``custom_form``, ``custom_xml`` and ``email`` plugins): HTTP
headers for json://, form:// and xml://, e-mail headers for mailto://. Other services (Slack,
Telegram, Discord, ...) read ``+`` parameters differently or not at all, so they get none. The
e-mail's ``Message-ID`` cannot be set: apprise writes its own, random one after the extra headers
(a ``+Message-ID`` would make two), so mail clients do not collapse a repeated message.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import TextIO
from urllib.parse import quote

import apprise

from worker.alerts.config import Destination
from worker.errors import DeliveryError
from worker.settings import redact

#: Apprise stops waiting for the whole call after this many socket timeouts: a DNS lookup, a
#: connect, a TLS handshake and a read each get one, and none should take the full allowance.
CALL_TIMEOUT_FACTOR = 3
_FORMATS = {"text": apprise.NotifyFormat.TEXT, "markdown": apprise.NotifyFormat.MARKDOWN,
            "html": apprise.NotifyFormat.HTML}
#: Schemes whose apprise plugin sends ``+Name=value`` URL parameters as message headers.
HEADER_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"})
_LEVELS = {"info": apprise.NotifyType.INFO, "warning": apprise.NotifyType.WARNING,
           "success": apprise.NotifyType.SUCCESS, "failure": apprise.NotifyType.FAILURE}


class PermanentDeliveryError(DeliveryError):
    """Delivery cannot succeed by retrying: the URL is invalid or selects no service."""


class Notifier:
    """Sends rendered alerts: apprise for URLs, a text stream for the console destination."""

    def __init__(self, *, timeout_seconds: float = 20.0, stream: TextIO | None = None) -> None:
        self.timeout_seconds = timeout_seconds
        self.stream = stream
        self._console_lock = threading.Lock()
        self._asset = apprise.AppriseAsset(app_id="policywatch", app_desc="policywatch alerts")

    @property
    def call_timeout(self) -> float:
        return self.timeout_seconds * CALL_TIMEOUT_FACTOR

    def _url(self, url: str, headers: Mapping[str, str] | None = None) -> str:
        """``url`` with socket timeouts added unless it names its own, and ``headers`` as
        ``+Name=value`` parameters when its service sends those as headers."""
        query = url.split("?", 1)[1] if "?" in url else ""
        names = {part.split("=", 1)[0].lower() for part in query.split("&") if part}
        extra = [f"{name}={self.timeout_seconds:g}" for name in ("cto", "rto") if name not in names]
        if headers and supports_headers(url):
            extra += [f"+{quote(name, safe='-')}={quote(value, safe='')}" for name, value in headers.items()]
        if not extra:
            return url
        return url + ("&" if "?" in url else "?") + "&".join(extra)

    def check(self, destination: Destination) -> None:
        """Raise ``PermanentDeliveryError`` when apprise cannot load the destination's URL."""
        if destination.is_console:
            return
        if apprise.Apprise.instantiate(self._url(destination.url), asset=self._asset) is None:
            raise PermanentDeliveryError(
                f"{destination.label}: apprise does not accept this URL (unknown scheme or bad parameters)")

    def send(self, destination: Destination, title: str, body: str, fmt: str = "text", *,
             level: str = "info", headers: Mapping[str, str] | None = None) -> None:
        """Deliver one message to one destination, with ``headers`` where its service takes them;
        ``DeliveryError`` (one redacted line) when it failed."""
        if destination.is_console:
            self._print(title, body)
            return
        self.check(destination)
        ap = apprise.Apprise(asset=self._asset)
        ap.add(self._url(destination.url, headers), tag=destination.id)
        result = ap.notify(body=body, title=title, body_format=_FORMATS.get(fmt, apprise.NotifyFormat.TEXT),
                           notify_type=_LEVELS.get(level, apprise.NotifyType.INFO), tag=destination.id,
                           timeout=self.call_timeout)
        try:
            status = result.status
            if status == apprise.AppriseResultStatus.SUCCESS and len(result) > 0:
                return
            if status == apprise.AppriseResultStatus.NOMATCH or len(result) == 0:
                raise PermanentDeliveryError(f"{destination.label}: no notification service matched")
            raise DeliveryError(f"{destination.label}: {status.name.lower()}: {_detail(result)}")
        finally:
            result.close()

    def _print(self, title: str, body: str) -> None:
        stream = self.stream or sys.stdout
        with self._console_lock:
            stream.write(f"{title}\n{body}\n{'-' * 40}\n")
            stream.flush()


def supports_headers(url: str) -> bool:
    """Whether apprise sends ``+Name=value`` parameters of this URL as message headers."""
    return url.split("://", 1)[0].lower() in HEADER_SCHEMES


def _detail(result: apprise.AppriseResult) -> str:
    """The last warning or error apprise logged for this call, redacted, on one line."""
    worst = ""
    for entry in result.logs():
        if entry.level in ("WARNING", "ERROR", "CRITICAL"):
            worst = entry.message
    text = " ".join((worst or "no detail from apprise").split())
    return redact(text)[:300]
