"""Claim identity and comparison with known claims (pure: no I/O).

A figure's identity is ``subject|metric|unit kind|period`` with subject and metric reduced to
their canonical names through the lexicon, so 딥시크 / DeepSeek / 深度求索 land on one key; a
position's identity is ``actor|target``. ``compare_figures`` and ``compare_positions`` take the
new claims of one article and what is known under their keys and return one ``Change`` per key:
new, changed (with what was known before) or restated (corroboration, never an alert).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from worker.claims.lexicon import Lexicon, fold
from worker.model import (Change, ChangeKind, ClaimKind, Figure, Position, Previous, Quantity,
                          Qualifier)

MONEY = frozenset({"KRW", "USD", "CNY", "JPY", "EUR"})

#: Won per unit of each currency, rough on purpose: only used to tell whether "3981억 위안" and
#: "약 80조 원" can be the same amount when neither sentence states the conversion. Chosen from
#: 2024-2025 averages; REPLACE_TOLERANCE absorbs the drift.
ROUGH_KRW_RATE = {"KRW": 1.0, "USD": 1400.0, "CNY": 195.0, "JPY": 9.5, "EUR": 1500.0}

#: Relative difference under which two figures are one value. Exact figures must agree to
#: rounding; an approximate one (약, 가량, 이상) tolerates what Korean rounding habits produce
#: (약 81억 원 for 80.9억); a figure converted at a rough rate tolerates exchange-rate drift.
EXACT_TOLERANCE = 0.005
APPROX_TOLERANCE = 0.05
CONVERTED_TOLERANCE = 0.15


def unit_kind(unit: str) -> str:
    return "money" if unit in MONEY else unit


def metric_key(metric: str, lexicon: Lexicon) -> str:
    """The canonical metric of a metric phrase: a lexicon synonym when one is in it, else the phrase."""
    canonical = lexicon.metric(metric)
    if canonical:
        return fold(canonical)
    mentions = lexicon.find_metrics(metric)
    if mentions:
        longest = max(mentions, key=lambda m: m.end - m.start)
        return fold(longest.name)
    return fold(metric)


def subject_key(subject: str, lexicon: Lexicon) -> str:
    return fold(lexicon.canonical(subject)) if subject else ""


def figure_base_key(figure: Figure, lexicon: Lexicon) -> str:
    """The identity of a figure without its period."""
    return "|".join((subject_key(figure.subject, lexicon), metric_key(figure.metric, lexicon),
                     unit_kind(figure.unit)))


def figure_key(figure: Figure, lexicon: Lexicon) -> str:
    """The identity of a figure: subject, metric, kind of unit and period."""
    return f"{figure_base_key(figure, lexicon)}|{figure.period or ''}"


def position_key(position: Position) -> str:
    return f"{fold(position.actor)}|{fold(position.target)}"


def _tolerance(*qualifiers: Qualifier | None) -> float:
    return EXACT_TOLERANCE if all(q in (None, Qualifier.EXACT) for q in qualifiers) else APPROX_TOLERANCE


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-12)


def _amounts(value: float, unit: str, qualifier: Qualifier | None,
             equivalent: Quantity | None) -> list[tuple[float, str, Qualifier | None]]:
    out = [(value, unit, qualifier)]
    if equivalent is not None:
        out.append((equivalent.value, equivalent.unit, equivalent.qualifier))
    return out


def same_value(figure: Figure, known: Previous) -> bool:
    """True when ``figure`` restates ``known``: the same value within tolerance. Figures in one
    unit compare their own values (the conversions in brackets are rounder than the figures they
    restate); across currencies a stated conversion decides, else a rough exchange rate."""
    if known.value is None or known.unit is None:
        return False
    if figure.unit == known.unit:
        return _close(figure.value, known.value, _tolerance(figure.qualifier, known.qualifier))
    new = _amounts(figure.value, figure.unit, figure.qualifier, figure.equivalent)
    old = _amounts(known.value, known.unit, known.qualifier, known.equivalent)
    for nv, nu, nq in new:
        for ov, ou, oq in old:
            if nu == ou:
                return _close(nv, ov, _tolerance(nq, oq))
    if figure.unit in MONEY and known.unit in MONEY:
        a = figure.value * ROUGH_KRW_RATE[figure.unit]
        b = known.value * ROUGH_KRW_RATE[known.unit]
        return _close(a, b, CONVERTED_TOLERANCE)
    return False


def _around(value: float, tol: float) -> tuple[float, float]:
    """The interval of the values ``b`` with ``_close(value, b, tol)``, widened by a rounding error."""
    a, b = sorted((value * (1 - tol), value / (1 - tol)))
    slack = 1e-9 * abs(value)
    return a - slack, b + slack


def restating_ranges(figure: Figure) -> list[tuple[str, float, float]]:
    """``(unit, low, high)`` ranges that hold every known value ``same_value`` could take for a
    restatement of ``figure``, as the known value or as its stated equivalent: the figure's value
    and equivalent within the approximate tolerance, and for money the value in each other
    currency within the conversion tolerance. The store narrows the known values with these
    before ``same_value`` decides."""
    ranges = [(unit, *_around(value, APPROX_TOLERANCE))
              for value, unit, _ in _amounts(figure.value, figure.unit, figure.qualifier, figure.equivalent)]
    if figure.unit in MONEY:
        won = figure.value * ROUGH_KRW_RATE[figure.unit]
        ranges += [(currency, *_around(won / ROUGH_KRW_RATE[currency], CONVERTED_TOLERANCE))
                   for currency in sorted(MONEY - {figure.unit})]
    return ranges


def subject_of(base_key: str) -> str:
    """The subject part of a base key (what ``known_by_subject`` is keyed by, with the unit kind)."""
    parts = base_key.split("|")
    return f"{parts[0]}|{parts[-1]}"


def compare_figures(figures: Sequence[tuple[str, str, Figure]],
                    known: Mapping[str, Sequence[Previous]],
                    known_by_base: Mapping[str, Sequence[Previous]],
                    known_by_subject: Mapping[str, Sequence[Previous]] | None = None) -> list[Change]:
    """One change per key among ``figures`` (each ``(key, base_key, figure)``), in text order.

    ``known`` maps a key to the observations of the newest article that stated it (in text
    order); ``known_by_base`` maps a base key to the newest observation of each period. A key some figure of the article restates is restated as a
    whole: the article's other numbers under that key are differences or background, not news.
    ``known_by_subject`` maps ``subject|unit kind`` to that subject's observations under any
    metric: a value already known for the subject is a restatement worded with another metric
    (훈련시키는 비용 for 훈련 비용), not a new figure.
    """
    by_key: dict[str, list[tuple[str, Figure]]] = {}
    for key, base, fig in figures:
        by_key.setdefault(key, []).append((base, fig))
    changes: list[Change] = []
    for key, items in by_key.items():
        base, first = items[0]
        history = list(known.get(key, ()))
        if history:
            # everything the latest article said under this key is the known value
            latest = [p for p in history if p.seen_at == history[0].seen_at]
            restating = next((f for _, f in items if any(same_value(f, p) for p in latest)), None)
            if restating is not None:
                changes.append(Change(ClaimKind.FIGURE, ChangeKind.RESTATED, key, figure=restating,
                                      previous=history[0]))
            else:
                changes.append(Change(ClaimKind.FIGURE, ChangeKind.CHANGED, key, figure=first,
                                      previous=history[0]))
            continue
        same_subject = (known_by_subject or {}).get(subject_of(base), ())
        restating = next((f for _, f in items for p in same_subject if same_value(f, p)), None)
        if restating is not None:
            changes.append(Change(ClaimKind.FIGURE, ChangeKind.RESTATED, key, figure=restating,
                                  previous=next(p for p in same_subject if same_value(restating, p))))
            continue
        others = [p for p in known_by_base.get(base, ()) if p.period != first.period]
        previous = _replaced(others, first.period)
        replaces = previous.period if previous else None
        changes.append(Change(ClaimKind.FIGURE, ChangeKind.NEW, key, figure=first, previous=previous,
                              replaces_period=replaces))
    return changes


def _replaced(others: Sequence[Previous], period: str | None) -> Previous | None:
    """The observation a figure for a new period takes over from: the latest earlier period, else
    the newest observation stated without a period (others are newest first)."""
    if period is None:
        return None
    earlier = sorted((p for p in others if p.period and p.period < period), key=lambda p: p.period or "")
    if earlier:
        return earlier[-1]
    return next((p for p in others if not p.period), None)


def compare_positions(positions: Sequence[tuple[str, Position]],
                      known: Mapping[str, Sequence[Previous]],
                      known_parent: Mapping[str, Sequence[tuple[str, Previous]]]) -> list[Change]:
    """One change per position key, in text order: the article's first stance on a key is its news.

    ``known`` maps a key to its observations, newest first. ``known_parent`` maps a key to the
    known stances of the actor's ancestors toward the same target, nearest ancestor first, as
    ``(ancestor name, observation)``: a first stance that contradicts the parent's is a change.
    """
    seen: set[str] = set()
    changes: list[Change] = []
    for key, pos in positions:
        if key in seen:
            continue
        seen.add(key)
        history = list(known.get(key, ()))
        if history:
            prev = history[0]
            kind = ChangeKind.RESTATED if prev.stance == pos.stance else ChangeKind.CHANGED
            changes.append(Change(ClaimKind.POSITION, kind, key, position=pos, previous=prev))
            continue
        parents = list(known_parent.get(key, ()))
        if parents:
            parent_name, prev = parents[0]
            if prev.stance != pos.stance:
                changes.append(Change(ClaimKind.POSITION, ChangeKind.CHANGED, key, position=pos,
                                      previous=prev, via_parent=parent_name))
                continue
        changes.append(Change(ClaimKind.POSITION, ChangeKind.NEW, key, position=pos))
    return changes


def alerting(changes: Iterable[Change]) -> list[Change]:
    """The changes that raise an alert: new and changed, never restated."""
    return [c for c in changes if c.change is not ChangeKind.RESTATED]
