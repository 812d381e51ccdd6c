"""Page bytes in, ``Article`` out: the only module that imports trafilatura.

``decode_html`` turns bytes into text (BOM, then the HTTP charset, then ``<meta charset>``, then
detection; EUC-KR read as CP949). ``article_from_html`` takes the main text with trafilatura (no
comments, no tables), the title and publication time from trafilatura's metadata, then the
page's meta tags and byline, then the feed's values, and normalises ``title + text``.
It raises ``ExtractError`` with one line when the page has no usable text.
"""
from __future__ import annotations

import codecs
import re
from datetime import datetime

import charset_normalizer
import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import use_config

from worker.charsets import DEFAULT_SERVER_LABELS, codec_for
from worker.dates import has_time, parse_date
from worker.errors import ExtractError
from worker.model import Article
from worker.normalize import normalize_text
from worker.settings import redact

# Below this many characters of main text a page is a stub, a paywall or an index page, not an
# article (the shortest wire flashes in the seeds run to ~150 characters).
MIN_TEXT_CHARS = 80
META_SNIFF_BYTES = 16 * 1024  # WHATWG sniffs 1024 bytes; Korean CMSs put <meta> after long <script>s
DETECT_BYTES = 256 * 1024  # charset-normalizer needs a sample, not the whole page
# trafilatura trusts its main extractor only above 250 characters, a size tuned on Latin text;
# below it falls back to a rescue that flattens the whole <article> (headline, byline, every
# paragraph) into one line. A Hangul syllable carries about what 2-3 Latin letters do, so a
# three-sentence Korean brief (~100 characters) is a full article. Chosen on tests/fixtures/pages
# and on the end-to-end pages, whose 200-character bodies came out as one line at 250.
MIN_EXTRACTED_CHARS = 100
JSONLD_SCAN_CHARS = 200_000  # JSON-LD sits in <head> or right after the article
_TRAFILATURA_CONFIG = use_config()
_TRAFILATURA_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_EXTRACTED_CHARS))

_DETECT = "detect"  # a marker in the order of candidates: ask charset-normalizer here
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_BYLINE_DATE = re.compile(r"(?:기사\s*)?(?:입력|등록|승인|발행|송고|게재)\s*(?:일시)?\s*[:：]?\s*"
                          r"(\d{4}\s*[-./년]\s*\d{1,2}\s*[-./월]\s*\d{1,2}\s*[.일]?\s*(?:오전|오후)?\s*\d{1,2}:\d{2}(?::\d{2})?)")
_FOOTER_DATE = re.compile(r"(?:등록일|등록\s*일자|창간일?|설립일?)\s*[:：]?\s*(\d{4}\s*[-./]\s*\d{1,2}\s*[-./]\s*\d{1,2})")
_JSONLD_DATE = re.compile(r"\"datePublished\"\s*:\s*\"([^\"]{8,40})\"")
_TITLE_SUFFIX = re.compile(r"\s+(?:[-|:·]|::|—|–)\s+[^-|:·—–]{1,30}$")
DATE_META = ("article:published_time", "og:article:published_time", "og:published_time",
             "datepublished", "pubdate", "publishdate", "publish-date", "publish_date", "date",
             "dc.date", "dc.date.issued", "dcterms.created", "dcterms.issued", "parsely-pub-date",
             "sailthru.date", "article.published", "dable:published_time")


def _charset_of(content_type: str | None) -> str | None:
    m = _HEADER_CHARSET.search(content_type or "")
    return m.group(1) if m else None


def _strict(content: bytes, codec: str) -> str | None:
    try:
        return content.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _detected(content: bytes) -> str | None:
    best = charset_normalizer.from_bytes(content[:DETECT_BYTES]).best()
    return codec_for(best.encoding) if best is not None else None


def decode_html(content: bytes, content_type: str | None = None) -> str:
    """The text of an HTML page: BOM, HTTP charset, <meta charset>, then detection; never raises."""
    for bom, codec in _BOMS:
        if content.startswith(bom):  # a BOM is unambiguous and wins over any label (WHATWG)
            return content[len(bom):].decode(codec, "replace")
    header_label = _charset_of(content_type)
    header = codec_for(header_label)
    meta_match = _META_CHARSET.search(content[:META_SNIFF_BYTES])
    meta = codec_for(meta_match.group(1).decode("ascii")) if meta_match else None
    if header and (header_label or "").lower() in DEFAULT_SERVER_LABELS:
        # "iso-8859-1" is usually the server's default, not the page's: try it last
        order = [meta, "utf-8", _DETECT, "cp949", header]
    else:
        order = [header, meta, "utf-8", _DETECT, "cp949"]
    detected: str | None = None
    for codec in order:
        if codec == _DETECT:
            codec = detected = _detected(content)
        text = _strict(content, codec) if codec else None
        if text is not None:
            return text
    return content.decode(detected or meta or header or "utf-8", "replace")


def _meta_values(tree: etree._Element | None, names: tuple[str, ...]) -> list[str]:
    if tree is None:
        return []
    found: list[str] = []
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key in names and (el.get("content") or "").strip():
            found.append(el.get("content", "").strip())
    for el in tree.iter("time"):
        if el.get("itemprop", "").lower() == "datepublished" and el.get("datetime"):
            found.append(el.get("datetime", ""))
    return found


def _title(doc_title: str | None, tree: etree._Element | None, fallback: str) -> str:
    candidates = [doc_title or ""]
    candidates += _meta_values(tree, ("og:title", "twitter:title"))
    if tree is not None:
        page_title = tree.findtext(".//title") or ""
        candidates.append(_TITLE_SUFFIX.sub("", page_title.strip()))
        h1 = tree.find(".//h1")
        candidates.append(h1.text_content() if h1 is not None else "")
    candidates.append(fallback)
    return next((" ".join(c.split()) for c in candidates if c and c.strip()), "")


def _published(doc_date: str | None, tree: etree._Element | None, html: str,
               fallback: datetime | None) -> datetime | None:
    """The publication time: meta tags, then the byline, then the feed's, then trafilatura's guess.

    trafilatura's date comes last because on Korean pages it often reads the footer's newspaper
    registration date (등록일 2009-01-01); a date without a time is refined by a later candidate
    with a time on the same day.
    """
    visible = ""
    if tree is not None:
        body = tree.find(".//body")
        visible = " ".join((body if body is not None else tree).text_content().split())
    byline = _BYLINE_DATE.search(visible)
    texts = _meta_values(tree, DATE_META) + _JSONLD_DATE.findall(html[:JSONLD_SCAN_CHARS])
    texts += [byline.group(1)] if byline else []
    found: list[tuple[datetime, bool]] = []  # (when, whether the text gave a clock time)
    for text in texts:
        when = parse_date(text)
        if when is not None:
            found.append((when, has_time(text)))
    if fallback is not None:
        found.append((fallback, True))
    guess = parse_date(doc_date or "")
    if guess is not None and not any(parse_date(f) == guess for f in _FOOTER_DATE.findall(visible)):
        found.append((guess, False))
    if not found:
        return None
    first, timed = found[0]
    if not timed:
        same_day = (d for d, t in found[1:] if t and d.astimezone(first.tzinfo).date() == first.date())
        first = next(same_day, first)
    return first


def article_from_html(content: bytes, *, url: str, content_type: str | None = None, outlet: str = "",
                      fallback_title: str = "", fallback_published: datetime | None = None) -> Article:
    """The normalised ``Article`` of a news page; ``ExtractError`` when it has no main text."""
    html = _XML_DECLARATION.sub("", decode_html(content, content_type), count=1)
    if not html.strip():
        raise ExtractError(f"{redact(url)}: the page is empty")
    try:
        tree: etree._Element | None = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        tree = None
    options = dict(url=url, include_comments=False, include_tables=False, include_links=False,
                   include_images=False, with_metadata=True, deduplicate=False, config=_TRAFILATURA_CONFIG)
    doc = trafilatura.bare_extraction(html, **options)  # type: ignore[arg-type]
    body = (getattr(doc, "text", None) or "").strip()
    if len(body) < MIN_TEXT_CHARS:  # a short article page: let trafilatura be less strict once
        recall = trafilatura.bare_extraction(html, favor_recall=True, **options)  # type: ignore[arg-type]
        if recall is not None and len((getattr(recall, "text", None) or "").strip()) > len(body):
            doc, body = recall, (getattr(recall, "text", None) or "").strip()
    if len(body) < MIN_TEXT_CHARS:
        raise ExtractError(f"{redact(url)}: no article text found on the page "
                           f"({len(body)} characters of main text)")
    title = _title(getattr(doc, "title", None), tree, fallback_title)
    first, _, rest = body.partition("\n")
    if title and " ".join(first.split()) == title:  # the headline kept inside the main text
        body = rest.strip()
    text = normalize_text(f"{title}\n{body}" if title else body)
    if len(text) - len(title) < MIN_TEXT_CHARS // 2:
        raise ExtractError(f"{redact(url)}: the page's text is only page furniture (no article)")
    sitename = next(iter(_meta_values(tree, ("og:site_name",))), "") or getattr(doc, "sitename", None)
    return Article(url=url, title=title, text=text, outlet=outlet or sitename or "",
                   published=_published(getattr(doc, "date", None), tree, html, fallback_published))
