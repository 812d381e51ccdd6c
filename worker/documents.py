"""Articles read from files: the seeds, and the documents of ``extract`` and ``replay``.

A ``.html`` file is a whole news page (its main text is extracted as for a fetched page, its
``<meta charset>`` honoured); anything else is article text as a scraper saves it (title on the
first line, chrome possibly included). Both come out normalised, exactly as the worker sees a
collected article.
"""
from __future__ import annotations

from pathlib import Path

from worker.errors import ExtractError
from worker.model import Article
from worker.normalize import find_published, normalize_text, split_title

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a news page is well under 1 MB


def read_document(path: Path, *, url: str | None = None, outlet: str = "") -> Article:
    """The normalised ``Article`` of one file; ``ExtractError`` with one line when unreadable."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise ExtractError(f"{path}: {size // (1024 * 1024)} MB is too large for an article")
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"{path}: cannot read: {exc.strerror}") from None
    url = url or str(path)
    if path.suffix.lower() in (".html", ".htm"):
        from worker.extract import article_from_html  # trafilatura loads only when a page comes

        return article_from_html(data, url=url, outlet=outlet)
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raw = data.decode("cp949", errors="replace")
    text = normalize_text(raw)
    if not text.strip():
        raise ExtractError(f"{path}: no article text")
    title, _body = split_title(text)
    return Article(url=url, title=title, text=text, outlet=outlet, published=find_published(raw))
