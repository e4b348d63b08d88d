"""Property tests of the pure membership rules (common/membership_rules.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.membership_rules import (
    LevelRule,
    RechargeRule,
    bonus_forfeit,
    level_after_spend,
    normalize_mobile,
    pick_bonus_rule,
    points_earned,
    points_to_expire,
    split_payment,
    split_refund,
)

fen = st.integers(min_value=0, max_value=10_000_000)
pos = st.integers(min_value=1, max_value=10_000_000)
rules_st = st.lists(st.builds(RechargeRule, id=st.integers(1, 1000), threshold=pos,
                              bonus=st.integers(0, 1_000_000)), max_size=8)


@given(amount=pos, rules=rules_st)
def test_bonus_rule_is_the_best_applicable(amount, rules):
    best = pick_bonus_rule(amount, rules)
    applicable = [r for r in rules if r.threshold <= amount and r.bonus > 0]
    if not applicable:
        assert best is None
        return
    assert best in applicable
    assert best.bonus == max(r.bonus for r in applicable)
    # ties: higher threshold, then lower id
    tied = [r for r in applicable if r.bonus == best.bonus]
    assert best.threshold == max(r.threshold for r in tied)
    assert best.id == min(r.id for r in tied if r.threshold == best.threshold)


@given(amount=pos, rules=rules_st, extra=pos)
def test_recharging_more_never_gives_less_bonus(amount, rules, extra):
    small = pick_bonus_rule(amount, rules)
    big = pick_bonus_rule(amount + extra, rules)
    assert (big.bonus if big else 0) >= (small.bonus if small else 0)


def test_bonus_tiers_example():
    rules = [RechargeRule(1, 50_000, 5_000), RechargeRule(2, 100_000, 15_000)]
    assert pick_bonus_rule(49_999, rules) is None
    assert pick_bonus_rule(50_000, rules).id == 1
    assert pick_bonus_rule(150_000, rules).id == 2


@given(principal=fen, bonus=fen, amount=pos)
def test_spending_order_principal_first(principal, bonus, amount):
    if amount > principal + bonus:
        with pytest.raises(ValueError):
            split_payment(amount, principal, bonus)
        return
    p, b = split_payment(amount, principal, bonus)
    assert p + b == amount
    assert 0 <= p <= principal and 0 <= b <= bonus
    assert b == 0 or p == principal  # bonus is touched only once principal is gone


@given(principal=fen, bonus=fen, data=st.data())
def test_paying_in_parts_equals_paying_at_once(principal, bonus, data):
    total = data.draw(st.integers(1, max(1, principal + bonus)))
    if total > principal + bonus:
        return
    first = data.draw(st.integers(1, total))
    p1, b1 = split_payment(first, principal, bonus)
    rest = total - first
    p2, b2 = split_payment(rest, principal - p1, bonus - b1) if rest else (0, 0)
    assert (p1 + p2, b1 + b2) == split_payment(total, principal, bonus)


@given(p_taken=fen, b_taken=fen, data=st.data())
def test_refund_returns_bonus_first_never_more_than_taken(p_taken, b_taken, data):
    if p_taken + b_taken == 0:
        return
    amount = data.draw(st.integers(1, p_taken + b_taken))
    p, b = split_refund(amount, p_taken, b_taken)
    assert p + b == amount and 0 <= p <= p_taken and 0 <= b <= b_taken
    assert p == 0 or b == b_taken
    with pytest.raises(ValueError):
        split_refund(p_taken + b_taken + 1, p_taken, b_taken)


@given(principal=pos, bonus=fen, data=st.data())
def test_bonus_forfeit_is_proportional_and_bounded(principal, bonus, data):
    refund = data.draw(st.integers(1, principal))
    f = bonus_forfeit(refund, principal, bonus)
    assert 0 <= f <= bonus
    if refund == principal:
        assert f == bonus
    assert abs(f * principal - bonus * refund) <= principal  # within one fen of exact


@given(amount=st.integers(-10_000, 10_000_000), rate=st.integers(0, 100))
def test_points_earned_rounds_down(amount, rate):
    pts = points_earned(amount, rate)
    assert pts >= 0
    if amount > 0 and rate > 0:
        assert pts * 100 <= amount * rate < (pts + 1) * 100


levels_st = st.lists(st.builds(LevelRule, id=st.integers(1, 50), rank=st.integers(0, 10),
                               threshold=st.none() | fen), max_size=6)


@given(levels=levels_st, spent=fen, current_idx=st.integers(0, 10))
def test_level_never_goes_down(levels, spent, current_idx):
    current = levels[current_idx % len(levels)] if levels else None
    new = level_after_spend(current, spent, levels)
    if current is not None:
        assert new is not None and new.rank >= current.rank
    if new is not None and new is not current:
        assert new.threshold is not None and new.threshold <= spent


@given(old=fen, consumed=fen, balance=fen)
def test_points_to_expire_bounds(old, consumed, balance):
    n = points_to_expire(old, consumed, balance)
    assert 0 <= n <= balance and n <= max(0, old - consumed)


@pytest.mark.parametrize("raw,ok", [("13800138000", "13800138000"),
                                    ("+86 138-0013-8000", "13800138000"),
                                    ("8613800138000", "13800138000")])
def test_mobile_normalised(raw, ok):
    assert normalize_mobile(raw) == ok


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "abc", ""])
def test_mobile_rejected(raw):
    with pytest.raises(ValueError):
        normalize_mobile(raw)
