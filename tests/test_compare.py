"""Claim identity and comparison: restated vs changed vs new, as data."""
from __future__ import annotations

import pytest

from worker import compare
from worker.model import ChangeKind, Figure, Modality, Position, Previous, Quantity, Qualifier, Stance

A = Qualifier.APPROX
E = Qualifier.EXACT


def fig(value: float, unit: str = "KRW", q: Qualifier = E, subject: str = "H100", metric: str = "가격",
        period: str | None = None, eq: Quantity | None = None) -> Figure:
    return Figure(value=value, unit=unit, qualifier=q, subject=subject, metric=metric, sentence="s",
                  period=period, equivalent=eq)


def prev(value: float, unit: str = "KRW", q: Qualifier = E, period: str | None = None,
         eq: Quantity | None = None) -> Previous:
    return Previous(source="old", sentence="old s", value=value, unit=unit, qualifier=q, period=period, equivalent=eq)


SAME_VALUE = [
    # new figure, known figure, restated?
    (fig(4e7, q=A), prev(4e7), True),                       # 약 4천만 원 vs 4천만 원
    (fig(8.0e13, q=A), prev(8.05e13, q=A), True),           # 약 80조 vs 약 80.5조: rounding
    (fig(5e7, q=A), prev(4e7, q=A), False),                 # 약 5천만 vs 약 4천만: a change
    (fig(180, "PERSON"), prev(181, "PERSON"), False),       # exact counts must agree
    (fig(8.1e9, q=A), prev(5576000, "USD", eq=Quantity(8.1e9, "KRW", A)), True),  # stated conversion
    (fig(3.981e11, "CNY", eq=Quantity(8e13, "KRW", A)), prev(8e13, q=A), True),
    (fig(7.8e9), prev(5576000, "USD"), True),               # rough rate: 557.6만 달러 ~ 78억 원
    (fig(2e10), prev(5576000, "USD"), False),
]


@pytest.mark.parametrize(("new", "known", "expected"), SAME_VALUE)
def test_same_value(new: Figure, known: Previous, expected: bool) -> None:
    assert compare.same_value(new, known) is expected


def test_keys_fold_aliases(lexicon) -> None:
    a = fig(1, subject="DeepSeek", metric="훈련 비용")
    b = fig(2, subject="딥시크", metric="학습 비용")
    assert compare.figure_key(a, lexicon) == compare.figure_key(b, lexicon)
    assert compare.figure_key(fig(1, "USD"), lexicon) == compare.figure_key(fig(1, "KRW"), lexicon)
    assert compare.figure_key(fig(1, "PCT"), lexicon) != compare.figure_key(fig(1, "KRW"), lexicon)
    assert compare.figure_key(fig(1, period="2025"), lexicon) != compare.figure_key(fig(1, period="2026"), lexicon)


def _cf(figures, known=None, by_base=None):
    return compare.compare_figures(figures, known or {}, by_base or {})


def test_figure_changed_new_restated() -> None:
    changed = _cf([("k|", "k", fig(5e7, q=A))], {"k|": [prev(4e7, q=A)]})
    assert [c.change for c in changed] == [ChangeKind.CHANGED] and changed[0].previous.value == 4e7
    assert _cf([("k|", "k", fig(4e7))], {"k|": [prev(4e7, q=A)]})[0].change is ChangeKind.RESTATED
    assert _cf([("k|", "k", fig(4e7))])[0].change is ChangeKind.NEW


def test_one_restating_figure_makes_the_key_restated() -> None:
    # "격차는 0.9년으로 0.1년 늘었다": the 0.9 restates the known value; 0.1 is a difference
    figures = [("k|", "k", fig(0.1, "YEAR")), ("k|", "k", fig(0.9, "YEAR"))]
    changes = _cf(figures, {"k|": [prev(0.9, "YEAR")]})
    assert len(changes) == 1 and changes[0].change is ChangeKind.RESTATED


def test_new_period_replaces_the_latest_earlier_one() -> None:
    by_base = {"k": [prev(3.981e11, "CNY", period="2025"), prev(3.6e11, "CNY", period="2024")]}
    changes = _cf([("k|2026", "k", fig(4.2e11, "CNY", period="2026"))], {}, by_base)
    assert changes[0].change is ChangeKind.NEW and changes[0].replaces_period == "2025"
    assert changes[0].previous.value == 3.981e11


def pos(actor: str, stance: Stance, target: str = "딥시크") -> Position:
    return Position(actor=actor, target=target, stance=stance, modality=Modality.DONE, sentence="s")


def test_positions_change_restate_new_and_parent() -> None:
    known = {"개인정보보호위원회|딥시크": [Previous(source="a", sentence="", stance=Stance.OPPOSE, actor="개인정보위")]}
    resumed = compare.compare_positions([("개인정보보호위원회|딥시크", pos("개인정보보호위원회", Stance.SUPPORT))], known, {})
    assert resumed[0].change is ChangeKind.CHANGED and resumed[0].previous.stance is Stance.OPPOSE
    again = compare.compare_positions([("개인정보보호위원회|딥시크", pos("개인정보보호위원회", Stance.OPPOSE))], known, {})
    assert again[0].change is ChangeKind.RESTATED
    parent = {"인도 재무부|딥시크": [("인도 정부", Previous(source="b", sentence="", stance=Stance.SUPPORT))]}
    ministry = compare.compare_positions([("인도 재무부|딥시크", pos("인도 재무부", Stance.OPPOSE))], {}, parent)
    assert ministry[0].change is ChangeKind.CHANGED and ministry[0].via_parent == "인도 정부"
    agrees = compare.compare_positions([("인도 재무부|딥시크", pos("인도 재무부", Stance.SUPPORT))], {}, parent)
    assert agrees[0].change is ChangeKind.NEW


def test_same_unit_compares_the_figures_not_their_rounder_conversions() -> None:
    # 4200억 위안(약 84조 원) after 3981억 위안(약 80조 원): the brackets are 5 % apart, the budgets too
    new = fig(4.2e11, "CNY", eq=Quantity(8.4e13, "KRW", A))
    known = prev(3.981e11, "CNY", eq=Quantity(8e13, "KRW", A))
    assert not compare.same_value(new, known)


def test_a_known_value_of_the_subject_under_another_metric_is_restated() -> None:
    by_subject = {"딥시크|money": [prev(5576000, "USD")]}
    changes = compare.compare_figures([("딥시크|비용|money|", "딥시크|비용|money", fig(5576000, "USD", subject="딥시크"))],
                                      {}, {}, by_subject)
    assert changes[0].change is ChangeKind.RESTATED


def test_any_value_the_latest_article_gave_under_a_key_is_restated() -> None:
    from datetime import datetime
    t = datetime(2025, 4, 1)
    latest = [Previous(source="a", sentence="", value=7.9e13, unit="KRW", qualifier=E, seen_at=t),
              Previous(source="a", sentence="", value=1.9e13, unit="KRW", qualifier=A, seen_at=t),
              Previous(source="old", sentence="", value=7.1e13, unit="KRW", qualifier=E, seen_at=datetime(2025, 1, 1))]
    assert _cf([("k|", "k", fig(1.9e13, q=A))], {"k|": latest})[0].change is ChangeKind.RESTATED
    changed = _cf([("k|", "k", fig(8.2e13))], {"k|": latest})[0]
    assert changed.change is ChangeKind.CHANGED and changed.previous.value == 7.9e13
    assert _cf([("k|", "k", fig(7.1e13))], {"k|": latest})[0].change is ChangeKind.CHANGED


def test_restating_ranges_hold_every_value_same_value_accepts() -> None:
    """The store reads a subject's known values only within ``restating_ranges``: any known value
    ``same_value`` would take as a restatement must lie there (as the value or as its equivalent),
    across units, currencies, qualifiers and stated conversions."""
    import random

    rng = random.Random(11)
    units = ["KRW", "USD", "CNY", "JPY", "EUR", "PCT", "COUNT"]
    qualifiers = list(Qualifier)

    def amount(near: float | None = None) -> tuple[float, str]:
        unit = rng.choice(units)
        if near is not None and rng.random() < 0.7:  # close to a value in won, in some currency
            rate = compare.ROUGH_KRW_RATE.get(unit, 1.0)
            return near / rate * rng.uniform(0.8, 1.25), unit
        return rng.choice([-1, 1]) * 10 ** rng.uniform(-1, 12) if rng.random() < 0.95 else 0.0, unit

    accepted = 0
    for _ in range(20000):
        value, unit = amount()
        won = value * compare.ROUGH_KRW_RATE.get(unit, 1.0)
        eq = Quantity(*amount(won), rng.choice(qualifiers)) if rng.random() < 0.3 else None
        figure = Figure(value=value, unit=unit, qualifier=rng.choice(qualifiers), subject="s", metric="m",
                        sentence="", equivalent=eq)
        kvalue, kunit = amount(won) if rng.random() < 0.8 else (value * rng.uniform(0.99, 1.01), unit)
        keq = Quantity(*amount(won), rng.choice(qualifiers)) if rng.random() < 0.3 else None
        known = Previous(source="", sentence="", value=kvalue, unit=kunit, qualifier=rng.choice(qualifiers),
                         equivalent=keq)
        if not compare.same_value(figure, known):
            continue
        accepted += 1
        stored = [(kunit, kvalue)] + ([(keq.unit, keq.value)] if keq else [])
        assert any(u == su and lo <= sv <= hi for u, lo, hi in compare.restating_ranges(figure) for su, sv in stored), \
            (figure, known)
    assert accepted > 1000  # the draw reaches the interesting cases
