"""Claims: figures and positions read from a normalised article text."""
from __future__ import annotations

from worker.claims.figures import extract_figures
from worker.claims.lexicon import Lexicon
from worker.claims.positions import extract_positions
from worker.model import Claims


def extract_claims(text: str, lexicon: Lexicon) -> Claims:
    """Every figure and position of ``text`` (normalised: title line, then paragraphs)."""
    return Claims(figures=tuple(extract_figures(text, lexicon)),
                  positions=tuple(extract_positions(text, lexicon)))
