"""URL identity: one canonical form per article, and a stable key per feed entry.

``canonical_url`` is an *identity*: it folds the mobile, AMP and ``www.`` variants of a page
into one string, so two feeds that link the same article in different dress give the same key.
It is not always the best URL to fetch (a site may serve only ``www.``): fetch the link the
feed gave (``FeedEntry.link``) and compare by ``canonical_url``.
"""
from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived. Chosen from the analytics vendors' docs
# and from what Korean outlets append to shared links (cloc, ref, from, _fr); a parameter that
# selects an article (idxno, aid, oid, no, article_id) is never in this list.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id",
    "oly_enc_id", "vero_id", "cmpid", "ocid", "ref", "ref_src", "referrer", "from", "_fr",
    "cloc", "sns", "share", "fromsns", "ncid", "rtype", "tracking",
    "amp", "outputtype",  # ?amp=1, ?outputType=amp: the AMP rendering of the same page
})
TRACKING_PREFIXES = ("utm_", "pk_", "hmb_")
MOBILE_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
DEFAULT_PORTS = {"http": 80, "https": 443}

_AMP_PATH = re.compile(r"/amp(?:/|\.html?)?$", re.IGNORECASE)
_AMP_EXT = re.compile(r"\.amp(\.html?)?$", re.IGNORECASE)
_AMP_PATH_PREFIX = re.compile(r"^/amp(?=/)", re.IGNORECASE)


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def _fold_host(host: str) -> str:
    # fold repeatedly ("www.m.example.com"), but never down to a bare public suffix
    changed = True
    while changed:
        changed = False
        for prefix in MOBILE_HOST_PREFIXES:
            rest = host[len(prefix):]
            if host.startswith(prefix) and rest.count(".") >= 1 and not re.fullmatch(r"[a-z]{2,3}\.[a-z]{2}", rest):
                host, changed = rest, True
    return host


def _fold_path(path: str) -> str:
    path = _AMP_PATH_PREFIX.sub("", path)
    path = _AMP_EXT.sub(lambda m: m.group(1) or "", _AMP_PATH.sub("", path)) or "/"
    # re-quote consistently: %7E and ~ are the same character, Hangul is percent-encoded
    return quote(unquote(path), safe="/:@!$&'()*+,;=-._~%") or "/"


def canonical_url(url: str) -> str:
    """The identity form of an http(s) URL (lower-case host, no tracking, no fragment, sorted query).

    Anything that is not an http(s) URL comes back stripped but otherwise unchanged.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return text
    host = _fold_host(parts.hostname.lower().rstrip("."))
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        pass
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not _is_tracking(k))
    return urlunsplit((scheme, netloc, _fold_path(parts.path or "/"), urlencode(query), ""))


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute http:// or https:// URL with a host."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in DEFAULT_PORTS and bool(parts.hostname)


def content_hash(title: str, content: str) -> str:
    """A short hex digest of a title and a text, insensitive to spacing."""
    norm = " ".join(f"{title}\n{content}".split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:32]


def entry_key(guid: str | None, url: str | None, title: str, content: str) -> str:
    """A feed entry's stable identity: its guid, else its canonical URL, else a hash of its text."""
    if guid and guid.strip():
        guid = guid.strip()
        return canonical_url(guid) if is_http_url(guid) else guid
    if url and is_http_url(url):
        return canonical_url(url)
    return "sha256:" + content_hash(title, content)
