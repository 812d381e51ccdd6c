"""Claims: figures and positions read from a normalised article text."""
from __future__ import annotations

from datetime import date, datetime

from worker.claims.figures import extract_figures
from worker.claims.lexicon import Lexicon
from worker.claims.positions import extract_positions
from worker.model import Claims


def extract_claims(text: str, lexicon: Lexicon, *, published: datetime | date | None = None) -> Claims:
    """Every figure and position of ``text`` (normalised: title line, then paragraphs).

    ``published``: when the article came out (``Article.published``); it dates relative periods
    (올해 → 2025, 지난해 4분기 → 2024-Q4, 올 상반기 → 2025-H1). Without it they stay None.
    """
    return Claims(figures=tuple(extract_figures(text, lexicon, published=published)),
                  positions=tuple(extract_positions(text, lexicon)))
