"""Feed documents in, ``FeedEntry`` values out: the only module that imports feedparser.

Three kinds of source: RSS/Atom (``parse_feed``), Google News sitemaps (``parse_sitemap``) and the
Naver News search API (``naver_request`` then ``parse_naver``). Each raises ``ParseError`` with one
line when the document is not what it should be; a feed that is slightly broken but still yields
entries is fine (feedparser's ``bozo``). A DOCTYPE is cut off before parsing, so entity expansion
(billion laughs) and external entities never happen. Entries without an http(s) link are dropped.
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode, urljoin

import feedparser
from lxml import etree

from worker.charsets import xml_to_utf8
from worker.dates import parse_date
from worker.errors import ConfigError, ParseError
from worker.model import FeedEntry, Source
from worker.settings import ENV_NAVER_ID, ENV_NAVER_SECRET, Settings, redact
from worker.urls import canonical_url, entry_key, is_http_url

NAVER_NEWS_API = "https://openapi.naver.com/v1/search/news.json"
NAVER_DISPLAY = 100  # the API's maximum page size; sort=date gives the newest first
MAX_SUMMARY_CHARS = 2000  # a feed may carry the whole article; the page is fetched anyway

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_CDATA = re.compile(rb"(<!\[CDATA\[.*?\]\]>)", re.DOTALL)
_BARE_AMPERSAND = re.compile(rb"&(?!#[0-9]+;|#x[0-9A-Fa-f]+;|[A-Za-z_][A-Za-z0-9._-]*;)")
# bozo reasons that say nothing about the document itself (the caller passes no HTTP headers)
_SOFT_BOZO = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
_TAG = re.compile(r"<[^>]*>")
_BLOCK = re.compile(r"<\s*(?:br|/p|/div|/li|/h\d)\b[^>]*>", re.IGNORECASE)


def strip_doctype(content: bytes) -> bytes:
    """The document without its DOCTYPE and internal subset (where entities are declared)."""
    first = _FIRST_ELEMENT.search(content)
    head_end = first.start() if first else len(content)
    doctype = _DOCTYPE.search(content, 0, head_end)
    if doctype is None:
        return content
    return content[: doctype.start()] + content[head_end:]


def prepare_xml(content: bytes) -> bytes:
    """Feed bytes made safe and readable: no DOCTYPE, UTF-8, bare ``&`` (R&D) escaped outside CDATA."""
    parts = _CDATA.split(xml_to_utf8(strip_doctype(content)))
    return b"".join(p if p.startswith(b"<![CDATA[") else _BARE_AMPERSAND.sub(b"&amp;", p) for p in parts)


def plain_text(markup: str) -> str:
    """Text of a little HTML (a feed title or summary): tags dropped, entities decoded, spaces folded."""
    text = html.unescape(_TAG.sub(" ", _BLOCK.sub("\n", markup or "")))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _make_entry(source: Source, *, link: str, guid: str | None, title: str, summary: str,
                date_text: str) -> FeedEntry | None:
    if not is_http_url(link):
        return None
    title, summary = plain_text(title), plain_text(summary)[:MAX_SUMMARY_CHARS]
    return FeedEntry(source=source.name, key=entry_key(guid, link, title, summary), url=canonical_url(link),
                     title=title, published=parse_date(date_text) if date_text else None,
                     summary=summary, link=link.strip())


def _unique(entries: Iterable[FeedEntry | None]) -> list[FeedEntry]:
    seen: set[str] = set()
    out: list[FeedEntry] = []
    for entry in entries:
        if entry is not None and entry.key not in seen:
            seen.add(entry.key)
            out.append(entry)
    return out


def _problem(exc: Any) -> str:
    if exc is None:
        return "unreadable"
    line = getattr(exc, "getLineNumber", lambda: None)()
    text = (getattr(exc, "getMessage", lambda: "")() or str(exc)).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{text} (line {line})" if line else text


def parse_feed(content: bytes, source: Source, *, base_url: str = "") -> list[FeedEntry]:
    """The entries of an RSS or Atom document; ``ParseError`` when it is not a usable feed."""
    name = f"{source.name} ({redact(base_url or source.url)})"
    if not content.strip():
        raise ParseError(f"{name}: the feed is empty")
    base = base_url or source.url
    parsed = feedparser.parse(prepare_xml(content), response_headers={"content-location": base},
                              sanitize_html=True, resolve_relative_uris=True)
    entries = _unique(_feed_entry(item, source, base) for item in parsed.entries)
    broken = parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), _SOFT_BOZO)
    if entries or (parsed.get("version") and not broken):
        return entries  # a well-formed feed with no items is simply empty
    head = content[:2048].lower()
    if not parsed.get("version"):
        looks = "an HTML page" if b"<html" in head or b"<!doctype html" in head else "not a feed"
        raise ParseError(f"{name}: not an RSS or Atom feed ({looks}: {_problem(parsed.get('bozo_exception'))})")
    if broken:
        raise ParseError(f"{name}: malformed XML with no usable entries ({_problem(parsed.get('bozo_exception'))})")
    raise ParseError(f"{name}: no entry has a usable http(s) link")


def _feed_entry(item: Any, source: Source, base: str) -> FeedEntry | None:
    link = item.get("link") or ""
    if not link:
        link = next((alt.get("href", "") for alt in item.get("links", []) if alt.get("rel") == "alternate"), "")
    guid = item.get("id") or None
    if not link and guid and item.get("guidislink"):
        link = guid
    link = urljoin(base, link.strip()) if link and base else link
    summary = item.get("summary") or ""
    if not summary and item.get("content"):
        summary = item["content"][0].get("value", "")
    date_text = item.get("published") or item.get("updated") or item.get("created") or ""
    return _make_entry(source, link=link, guid=guid, title=item.get("title", ""), summary=summary,
                       date_text=date_text)


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: Any, *path: str) -> str:
    for name in path:
        element = next((c for c in element if _local(c.tag) == name), None)
        if element is None:
            return ""
    return (element.text or "").strip()


def parse_sitemap(content: bytes, source: Source) -> list[FeedEntry]:
    """The articles of a (Google News) sitemap; ``ParseError`` when it is not a sitemap."""
    name = f"{source.name} ({redact(source.url)})"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(xml_to_utf8(strip_doctype(content)), parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"{name}: not a readable sitemap ({str(exc).splitlines()[0]})") from None
    if _local(root.tag) == "sitemapindex":
        raise ParseError(f"{name}: a sitemap index, not a sitemap; configure one of the sitemaps it lists")
    if _local(root.tag) != "urlset":
        raise ParseError(f"{name}: not a sitemap (the root element is <{_local(root.tag)}>)")
    entries = []
    for url in root:
        if _local(url.tag) != "url":
            continue
        date_text = _child_text(url, "news", "publication_date") or _child_text(url, "lastmod")
        entries.append(_make_entry(source, link=_child_text(url, "loc"), guid=None,
                                   title=_child_text(url, "news", "title"), summary="", date_text=date_text))
    return _unique(entries)


def naver_request(source: Source, settings: Settings) -> tuple[str, dict[str, str]]:
    """The search URL and credential headers of a Naver source; ``ConfigError`` without credentials."""
    if not settings.naver_client_id or not settings.naver_client_secret:
        raise ConfigError(f"source {source.name}: the Naver search API needs {ENV_NAVER_ID} and "
                          f"{ENV_NAVER_SECRET} in the environment")
    if not source.query.strip():
        raise ConfigError(f"source {source.name}: a naver source needs 'query' (the search keywords)")
    endpoint = source.url if is_http_url(source.url) else NAVER_NEWS_API
    query = urlencode({"query": source.query.strip(), "display": NAVER_DISPLAY, "start": 1, "sort": "date"})
    url = f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
    return url, {"X-Naver-Client-Id": settings.naver_client_id,
                 "X-Naver-Client-Secret": settings.naver_client_secret}


def parse_naver(content: bytes, source: Source) -> list[FeedEntry]:
    """The news items of a Naver search API answer; ``ParseError`` on an error or non-JSON answer."""
    name = f"Naver source {source.name}"
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"{name}: the answer is not JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ParseError(f"{name}: unexpected answer (a JSON object was expected)")
    if "errorMessage" in data or "errorCode" in data:
        raise ParseError(f"{name}: the API answered {data.get('errorCode', 'an error')}: "
                         f"{' '.join(str(data.get('errorMessage', '')).split())}")
    items = data.get("items")
    if not isinstance(items, list):
        raise ParseError(f"{name}: the answer has no 'items' list")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        # originallink is the outlet's own page (what we read); link is Naver's copy when it has one
        link = str(item.get("originallink") or item.get("link") or "")
        entries.append(_make_entry(source, link=link, guid=None, title=str(item.get("title", "")),
                                   summary=str(item.get("description", "")),
                                   date_text=str(item.get("pubDate", ""))))
    return _unique(entries)


def parse_source(content: bytes, source: Source, *, base_url: str = "") -> list[FeedEntry]:
    """The entries of a fetched source document, read as its kind says (feed, sitemap, Naver)."""
    if source.kind.value == "sitemap":
        return parse_sitemap(content, source)
    if source.kind.value == "naver":
        return parse_naver(content, source)
    return parse_feed(content, source, base_url=base_url)
