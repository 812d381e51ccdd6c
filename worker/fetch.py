"""HTTP for policywatch: the only module that uses httpx.

``Fetcher.get`` returns a ``Response`` or raises one of

    TransientFetchError  timeouts, connection errors, a cut-off body, 5xx, 408, 429 (``retry_after``)
    PermanentFetchError  other 4xx, a body over ``max_bytes``, too many redirects or a loop, a
                         non-http(s) URL, a private address, robots.txt disallowing a page

Politeness and safety, in the order they apply to every hop of a redirect chain: the scheme must
be http(s); the host must not resolve to a private, loopback or link-local address unless
``Settings.allow_private_hosts`` lists it; robots.txt (cached per host) must allow an article page;
at most ``per_host_concurrency`` requests run against one host, started at least
``per_host_delay_seconds`` apart. Bodies are streamed and decoded here (gzip, deflate), so the
size cap counts decoded bytes and a gzip bomb stops at the cap.
"""
from __future__ import annotations

import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from worker.errors import FetchError, PermanentFetchError, TransientFetchError
from worker.settings import ENV_ALLOW_PRIVATE, Settings, redact

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TRANSIENT_4XX = frozenset({408, 425, 429})
CHUNK_SIZE = 64 * 1024
# A slow-drip server can keep every single read under the timeout; the whole body must arrive
# within this many timeouts (3 x 20 s by default: a 10 MB feed needs > 170 kB/s).
BODY_DEADLINE_FACTOR = 3.0
ROBOTS_TTL_SECONDS = 24 * 3600.0  # robots.txt rarely changes; Google caches it for a day
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB
ACCEPT = {
    "page": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "feed": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5",
}
# Addresses is_private misses: carrier-grade NAT (100.64/10) is as internal as 10/8.
EXTRA_PRIVATE = (ipaddress.ip_network("100.64.0.0/10"),)

Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class Response:
    """A fetched resource: the final URL after redirects, its status, decoded body and headers."""

    url: str
    status: int
    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)  # lower-cased names
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # 304: ``content`` is empty, keep what you had
    max_age: float | None = None  # seconds, from Cache-Control max-age or Expires
    retry_after: float | None = None  # seconds, from Retry-After

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


def _resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _is_private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or any(ip in net for net in EXTRA_PRIVATE))


def _seconds_until(value: str, date_header: str | None) -> float | None:
    """Seconds from a delta (``120``) or an HTTP date, measured from the response's Date."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        now = parsedate_to_datetime(date_header) if date_header else datetime.now(timezone.utc)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None or now.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def _max_age(headers: Mapping[str, str]) -> float | None:
    for directive in headers.get("cache-control", "").lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in ("no-cache", "no-store"):
            return 0.0
        if name == "max-age" and value.strip('"').isdigit():
            return float(value.strip('"'))
    expires = headers.get("expires")
    if expires is None:
        return None
    seconds = _seconds_until(expires, headers.get("date"))
    return 0.0 if seconds is None else seconds  # "Expires: 0" means already expired


class _Inflater:
    """Incremental gzip/deflate decoding that never produces more than it is asked for."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._z: zlib._Decompress | None = None
        self._tail = b""

    def _start(self, data: bytes) -> zlib._Decompress:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # "deflate" is zlib-wrapped by the RFC, raw deflate by some servers: the header tells
        zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)

    def feed(self, data: bytes, limit: int) -> bytes:
        """Up to ``limit`` decoded bytes of ``data`` (and of what an earlier call held back)."""
        if self.encoding == "identity":
            return data[:limit] if len(data) > limit else data
        out = b""
        data = self._tail + data
        while data and len(out) < limit:
            if self._z is None:
                if self.encoding == "deflate" and len(data) < 2:
                    break  # the zlib header needs two bytes to tell zlib from raw deflate
                self._z = self._start(data)
            out += self._z.decompress(data, limit - len(out))
            data = self._z.unconsumed_tail
            if self._z.eof:  # a second gzip member may follow
                data, self._z = self._z.unused_data + data, None
                data = data.lstrip(b"\0")
        self._tail = data
        return out

    @property
    def complete(self) -> bool:
        return self.encoding == "identity" or (self._z is None and not self._tail)


class Fetcher:
    """A polite, size-capped, thread-safe HTTP GET with conditional requests and redirect checks."""

    def __init__(self, settings: Settings, client: httpx.Client | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 resolve: Resolver = _resolve) -> None:
        self.settings = settings
        self.fs = settings.fetch
        self._own_client = client is None
        self._client = client if client is not None else httpx.Client(
            follow_redirects=False, timeout=self.fs.timeout_seconds)
        self._clock, self._sleep, self._resolve = clock, sleep, resolve
        self._allowed_names: set[str] = set()
        self._allowed_nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in settings.allow_private_hosts:
            try:
                self._allowed_nets.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                self._allowed_names.add(item.lower().rstrip("."))
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}
        self._robots: dict[str, tuple[RobotFileParser | None, float]] = {}
        self._robots_locks: dict[str, threading.Lock] = {}

    # -- public ---------------------------------------------------------------------------------

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            purpose: str = "page", headers: Mapping[str, str] | None = None) -> Response:
        """GET ``url`` following redirects; ``Response`` or Transient/PermanentFetchError."""
        return self._get(url, etag=etag, last_modified=last_modified, purpose=purpose,
                         headers=headers, max_bytes=self.fs.max_bytes)

    def close(self) -> None:
        """Close the HTTP client when this fetcher created it."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- the request loop -----------------------------------------------------------------------

    def _get(self, url: str, *, etag: str | None, last_modified: str | None, purpose: str,
             headers: Mapping[str, str] | None, max_bytes: int) -> Response:
        request_headers = {
            "User-Agent": self.fs.user_agent,
            "Accept": ACCEPT.get(purpose, "*/*"),
            "Accept-Encoding": "gzip, deflate",  # decoded here, under the size cap
            "Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5",
        }
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        current, seen = url.strip(), set()
        origin = _origin(current)
        for _hop in range(self.fs.max_redirects + 1):
            seen.add(current)
            self._check_target(current)
            if purpose == "page" and self.fs.respect_robots:
                self._check_robots(current)
            # the caller's headers (API credentials) never follow a redirect to another origin
            hop_headers = {**request_headers, **(headers or {})} if _origin(current) == origin else request_headers
            result = self._request(current, hop_headers, max_bytes)
            if isinstance(result, Response):
                if result.not_modified:  # a 304 may omit the validators: keep the ones sent
                    result = replace(result, etag=result.etag or etag,
                                     last_modified=result.last_modified or last_modified)
                return result
            following = urljoin(current, result)
            if following in seen:
                raise PermanentFetchError(f"{redact(url)}: redirect loop (via {redact(following)})",
                                          url=url)
            current = following
        raise PermanentFetchError(f"{redact(url)}: more than {self.fs.max_redirects} redirects", url=url)

    def _request(self, url: str, headers: Mapping[str, str], max_bytes: int) -> Response | str:
        """One GET without following redirects: a ``Response``, or the Location to go to next."""
        host = (urlsplit(url).netloc or "").lower()
        with self._host_slot(host):
            try:
                with self._client.stream("GET", url, headers=dict(headers),
                                         timeout=self.fs.timeout_seconds) as r:
                    return self._handle(url, r, max_bytes)
            except FetchError:
                raise
            except httpx.TimeoutException:
                raise TransientFetchError(
                    f"{redact(url)}: no answer within {self.fs.timeout_seconds:g} s (timed out)",
                    url=url) from None
            except httpx.RemoteProtocolError as exc:
                raise TransientFetchError(
                    f"{redact(url)}: the server broke off the response ({_first_line(exc)})", url=url) from None
            except httpx.TransportError as exc:
                raise TransientFetchError(f"{redact(url)}: could not connect ({_first_line(exc)})",
                                          url=url) from None
            except httpx.InvalidURL as exc:
                raise PermanentFetchError(f"{redact(url)}: not a valid URL ({_first_line(exc)})",
                                          url=url) from None

    def _handle(self, url: str, r: httpx.Response, max_bytes: int) -> Response | str:
        h = {k.lower(): v for k, v in r.headers.items()}
        status = r.status_code
        retry_after = _seconds_until(h["retry-after"], h.get("date")) if "retry-after" in h else None
        if status in REDIRECT_STATUSES:
            if not h.get("location"):
                raise PermanentFetchError(f"{redact(url)}: redirect ({status}) without a Location",
                                          url=url, status=status)
            return h["location"].strip()
        if status == 429 or status in TRANSIENT_4XX or status >= 500:
            what = {429: "too many requests (429)", 408: "request timeout (408)"}.get(
                status, f"server error ({status})")
            later = f", retry after {retry_after:g} s" if retry_after is not None else ", retry later"
            raise TransientFetchError(f"{redact(url)}: {what}{later}", url=url, status=status,
                                      retry_after=retry_after)
        if status >= 400:
            what = {401: "access denied (401)", 403: "access denied (403)", 404: "not found (404)",
                    410: "gone (410)"}.get(status, f"request refused ({status})")
            raise PermanentFetchError(f"{redact(url)}: {what}", url=url, status=status)
        common = dict(url=str(r.url), status=status, headers=h, etag=h.get("etag"),
                      last_modified=h.get("last-modified"), max_age=_max_age(h), retry_after=retry_after)
        if status == 304:
            return Response(content=b"", not_modified=True, **common)  # type: ignore[arg-type]
        if status >= 300:
            raise PermanentFetchError(f"{redact(url)}: unexpected status {status}", url=url, status=status)
        return Response(content=self._read_body(url, r, h, max_bytes), **common)  # type: ignore[arg-type]

    def _read_body(self, url: str, r: httpx.Response, h: Mapping[str, str], max_bytes: int) -> bytes:
        encoding = h.get("content-encoding", "identity").strip().lower() or "identity"
        if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
            raise PermanentFetchError(f"{redact(url)}: unsupported Content-Encoding {encoding!r}", url=url)
        too_big = f"{redact(url)}: larger than the {max_bytes:,} byte limit (fetch.max_bytes)"
        length = h.get("content-length", "")
        if encoding == "identity" and length.isdigit() and int(length) > max_bytes:
            raise PermanentFetchError(too_big, url=url, status=r.status_code)
        deadline = self._clock() + self.fs.timeout_seconds * BODY_DEADLINE_FACTOR
        inflater, body = _Inflater(encoding), bytearray()
        try:
            for raw in r.iter_raw(CHUNK_SIZE):
                body += inflater.feed(raw, max_bytes + 1 - len(body))
                if len(body) > max_bytes:
                    raise PermanentFetchError(too_big, url=url, status=r.status_code)
                if self._clock() > deadline:
                    raise TransientFetchError(
                        f"{redact(url)}: body still incomplete after "
                        f"{self.fs.timeout_seconds * BODY_DEADLINE_FACTOR:g} s (too slow)", url=url)
        except zlib.error:
            raise PermanentFetchError(f"{redact(url)}: body is not valid {encoding} data", url=url) from None
        if not inflater.complete:
            raise TransientFetchError(f"{redact(url)}: the compressed body was cut off", url=url)
        return bytes(body)

    # -- safety and politeness ------------------------------------------------------------------

    def _check_target(self, url: str) -> None:
        """Refuse non-http(s) URLs and hosts that resolve to private addresses."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            raise PermanentFetchError(f"{redact(url)}: not a valid URL", url=url) from None
        if parts.scheme.lower() not in ("http", "https"):
            raise PermanentFetchError(
                f"{redact(url)}: only http:// and https:// URLs are fetched, not {parts.scheme or 'this'}",
                url=url)
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise PermanentFetchError(f"{redact(url)}: the URL has no host", url=url)
        if host in self._allowed_names:
            return
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in self._resolve(host, port)]
            except (OSError, UnicodeError) as exc:
                raise TransientFetchError(f"{redact(url)}: cannot resolve host {host} ({_first_line(exc)})",
                                          url=url) from None
        for ip in addresses:
            if _is_private(ip) and not any(ip in net for net in self._allowed_nets
                                           if net.version == ip.version):
                raise PermanentFetchError(
                    f"{redact(url)}: refused, {host} is a private or local address ({ip}); "
                    f"list it in {ENV_ALLOW_PRIVATE} to allow it", url=url)

    def _check_robots(self, url: str) -> None:
        parts, origin = urlsplit(url), _origin(url)
        with self._lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:  # one robots.txt request per host, however many threads ask
            parser, fetched_at = self._robots.get(origin, (None, -ROBOTS_TTL_SECONDS - 1.0))
            if self._clock() - fetched_at > ROBOTS_TTL_SECONDS:
                parser = self._load_robots(origin)
                self._robots[origin] = (parser, self._clock())
        if parser is not None and not parser.can_fetch(self.fs.user_agent, url):
            raise PermanentFetchError(f"{redact(url)}: robots.txt of {parts.netloc} disallows this page",
                                      url=url)

    def _load_robots(self, origin: str) -> RobotFileParser | None:
        """The parsed robots.txt of ``origin``; None (allow all) when missing or unreachable."""
        try:
            r = self._get(origin + "/robots.txt", etag=None, last_modified=None, purpose="robots",
                          headers=None, max_bytes=min(ROBOTS_MAX_BYTES, self.fs.max_bytes))
        except FetchError:
            return None
        parser = RobotFileParser(origin + "/robots.txt")
        parser.parse(r.content.decode("utf-8", "replace").splitlines())
        return parser

    @contextmanager
    def _host_slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's concurrency slots, started at least the host delay after the last."""
        with self._lock:
            slot = self._slots.setdefault(host, threading.BoundedSemaphore(max(1, self.fs.per_host_concurrency)))
        with slot:
            with self._lock:
                now = self._clock()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + self.fs.per_host_delay_seconds
            if start > now:
                self._sleep(start - now)
            yield


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return redact(text.splitlines()[0])[:200]
