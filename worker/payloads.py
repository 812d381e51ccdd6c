"""The alert object: a ``Change`` in an ``Article`` as the JSON of ../shared/CONTRACT.md (pure).

The same object is printed by ``policywatch replay``, stored in the outbox (``alerts.payload``)
and rendered into messages, so what users read and what is measured never drift apart.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from worker.model import Article, Change, ClaimKind, Previous, Quantity


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def _quantity(q: Quantity | None) -> dict[str, Any] | None:
    return None if q is None else {"value": _number(q.value), "unit": q.unit, "qualifier": q.qualifier.value}


def _previous(prev: Previous | None, kind: ClaimKind) -> dict[str, Any] | None:
    if prev is None:
        return None
    common = {"source": prev.source, "sentence": prev.sentence, "outlet": prev.outlet, "seen_at": _iso(prev.seen_at),
              "published": _iso(prev.published)}
    if kind is ClaimKind.FIGURE:
        return {"value": _number(prev.value) if prev.value is not None else None, "unit": prev.unit,
                "qualifier": prev.qualifier.value if prev.qualifier else None, "period": prev.period,
                "equivalent": _quantity(prev.equivalent), **common}
    return {"stance": prev.stance.value if prev.stance else None,
            "modality": prev.modality.value if prev.modality else None, "actor": prev.actor, **common}


def alert_payload(change: Change, article: Article) -> dict[str, Any]:
    """The contract's alert object for ``change`` found in ``article``, plus the article's details."""
    out: dict[str, Any] = {"source": article.url, "kind": change.kind.value, "change": change.change.value}
    if change.figure is not None:
        f = change.figure
        out |= {"subject": f.subject, "metric": f.metric, "value": _number(f.value),
                "value_max": _number(f.value_max) if f.value_max is not None else None, "unit": f.unit,
                "qualifier": f.qualifier.value, "period": f.period, "sentence": f.sentence,
                "equivalent": _quantity(f.equivalent), "replaces_period": change.replaces_period}
    elif change.position is not None:
        p = change.position
        out |= {"actor": p.actor, "target": p.target, "stance": p.stance.value, "modality": p.modality.value,
                "sentence": p.sentence, "actor_text": p.actor_text or p.actor, "via_parent": change.via_parent}
    out["previous"] = _previous(change.previous, change.kind)
    out["claim_key"] = change.key
    out["article"] = {"url": article.url, "title": article.title, "outlet": article.outlet,
                      "published": _iso(article.published)}
    return out


def alert_key(change: Change, article: Article) -> str:
    """A stable identity: the same change read from the same article always has the same key."""
    if change.figure is not None:
        what = f"{change.figure.value!r}{change.figure.unit}"
    else:
        assert change.position is not None
        what = change.position.stance.value
    digest = hashlib.sha256(f"{article.url}\n{change.key}\n{change.change.value}\n{what}".encode()).hexdigest()
    return f"{change.kind.value}:{digest[:40]}"
