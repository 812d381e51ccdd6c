"""Positions: an actor's stance toward a watched target. (Being written: issue 4.)"""
from __future__ import annotations

from worker.claims.lexicon import Lexicon
from worker.model import Position


def extract_positions(text: str, lexicon: Lexicon) -> list[Position]:
    """Every position toward a watched target in a normalised article text."""
    return []  # placeholder until the extractor lands (this session)
