"""Character set labels as Korean sites write them, mapped to the Python codec that reads them.

Every EUC-KR label (``euc-kr``, ``ks_c_5601-1987``, ``ksc5601`` ...) is read as CP949, the
superset Windows and every browser actually use: strict EUC-KR turns the 8,822 CP949-only
syllables (똠, 햏, 뷁) into errors or mojibake.
"""
from __future__ import annotations

import codecs
import re

KOREAN_LABELS = frozenset({
    "euc-kr", "euc_kr", "euckr", "cseuckr", "ks_c_5601-1987", "ks_c_5601-1989", "ks_c_5601",
    "ksc5601", "ksc_5601", "ks-c-5601", "korean", "iso-ir-149", "csksc56011987", "windows-949",
    "x-windows-949", "cp949", "ms949", "uhc", "x-uhc",
})
# Servers send these by default without looking at the page: a weaker signal than <meta>.
DEFAULT_SERVER_LABELS = frozenset({"iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "windows-1252"})

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")


def codec_for(label: str | None) -> str | None:
    """The Python codec name for a charset label, or None when the label is unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in KOREAN_LABELS:
        return "cp949"
    if label in ("utf-16", "utf-16le", "utf-16be") :
        return None  # a page that can say "utf-16" in ASCII is not UTF-16 (WHATWG)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def xml_to_utf8(content: bytes) -> bytes:
    """An XML document re-encoded as UTF-8 when it is in a Korean legacy encoding, else unchanged."""
    if content.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content
    declared = _XML_DECLARATION.match(content)
    codec = codec_for(declared.group(1).decode("ascii")) if declared else None
    if declared and codec != "cp949":
        return content
    if not declared:
        try:
            content.decode("utf-8")
            return content
        except UnicodeDecodeError:
            try:  # undeclared and not UTF-8: a Korean server's legacy default is the usual cause
                return content.decode("cp949").encode("utf-8")
            except UnicodeDecodeError:
                return content
    text = content.decode("cp949", "replace")
    return re.sub(r"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])[^\"']+", r"\1utf-8", text, count=1).encode("utf-8")
