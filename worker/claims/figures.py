"""Figures: numbers with unit, qualifier, subject, metric and period. (Being written: issue 3.)"""
from __future__ import annotations

from worker.claims.lexicon import Lexicon
from worker.model import Figure


def extract_figures(text: str, lexicon: Lexicon) -> list[Figure]:
    """Every figure of a normalised article text, in text order."""
    return []  # placeholder until the extractor lands (this session)
