"""Membership rules shared by server and client (pure Python, integer fen).

The server applies these rules authoritatively; the counter client uses the very same
functions to preview a recharge bonus or a stored-value payment split.

Stored value (储值) spending order — PRINCIPAL FIRST, THEN BONUS
-----------------------------------------------------------------
A member's stored value has two parts kept apart: principal (本金, money the member paid in)
and bonus (赠送金, given by recharge promotions such as 充500送50).

* A payment takes from the principal first; only when the principal is used up does it take
  from the bonus (:func:`split_payment`). Customers understand it ("先用本金，后用赠送"), and
  the shop's revenue is recognised on principal first.
* Refunding a sale paid with stored value undoes the LAST-spent part first: bonus back first
  (up to the bonus that sale took), then principal (:func:`split_refund`).
* Refunding unspent principal to the customer (退储值, owner only) forfeits bonus in the same
  proportion as the principal refunded (:func:`bonus_forfeit`); refunding all principal clears
  all bonus. Otherwise "recharge 500, get 50, refund 500" would keep 50 for free.

Recharge bonus tiers: of the active rules whose threshold is met, the one giving the most
bonus wins (ties: the higher threshold, then the lower id) — :func:`pick_bonus_rule`.
A rule's bonus is a fixed amount, granted once per recharge (not per multiple).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from common.money import FEN_PER_YUAN, div_round_half_up

_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_JUNK = re.compile(r"[\s\-()（）]")


def normalize_mobile(phone: str) -> str:
    """A mainland China mobile number: 11 digits starting 13–19. Spaces, dashes and a
    ``+86``/``86`` prefix are removed. Raises ``ValueError`` with a Chinese message."""
    p = _PHONE_JUNK.sub("", phone or "")
    if p.startswith("+86"):
        p = p[3:]
    elif p.startswith("86") and len(p) == 13:
        p = p[2:]
    if not _MOBILE_RE.match(p):
        raise ValueError("手机号应为 11 位中国大陆手机号码")
    return p


@dataclass(frozen=True)
class RechargeRule:
    """充 ``threshold`` 送 ``bonus`` (fen)."""

    id: int
    threshold: int
    bonus: int


def pick_bonus_rule(amount: int, rules: Iterable[RechargeRule]) -> RechargeRule | None:
    """The best rule for a recharge of ``amount`` fen: the largest bonus among rules whose
    threshold is met (ties: the higher threshold, then the lower id); None if none applies."""
    best: RechargeRule | None = None
    for r in rules:
        if r.threshold > amount or r.bonus <= 0:
            continue
        if best is None or (r.bonus, r.threshold, -r.id) > (best.bonus, best.threshold, -best.id):
            best = r
    return best


def split_payment(amount: int, principal: int, bonus: int) -> tuple[int, int]:
    """How a stored-value payment of ``amount`` is taken: ``(from_principal, from_bonus)``,
    principal first. Raises ``ValueError`` if the balance is short or the amount not positive.
    """
    if amount <= 0:
        raise ValueError("amount must be positive")
    if principal < 0 or bonus < 0:
        raise ValueError("balances must not be negative")
    if amount > principal + bonus:
        raise ValueError("insufficient balance")
    p = min(amount, principal)
    return p, amount - p


def split_refund(amount: int, principal_taken: int, bonus_taken: int) -> tuple[int, int]:
    """Refund ``amount`` of what a sale took (``principal_taken``/``bonus_taken`` still
    refundable): ``(to_principal, to_bonus)``, bonus back first (the reverse of spending)."""
    if amount <= 0:
        raise ValueError("amount must be positive")
    if amount > principal_taken + bonus_taken:
        raise ValueError("refund exceeds what was paid")
    b = min(amount, bonus_taken)
    return amount - b, b


def bonus_forfeit(refund_principal: int, principal: int, bonus: int) -> int:
    """Bonus lost when ``refund_principal`` of the member's ``principal`` is paid back in
    cash: the same proportion of the bonus, rounded half up; all of it when all principal
    goes."""
    if refund_principal <= 0 or refund_principal > principal:
        raise ValueError("refund must be positive and at most the principal")
    if refund_principal == principal:
        return bonus
    return min(bonus, div_round_half_up(bonus * refund_principal, principal))


def points_earned(amount_fen: int, points_per_yuan: int) -> int:
    """Points earned on ``amount_fen`` at ``points_per_yuan`` (rounded down; whole points,
    negative amounts earn nothing)."""
    if amount_fen <= 0 or points_per_yuan <= 0:
        return 0
    return amount_fen * points_per_yuan // FEN_PER_YUAN


@dataclass(frozen=True)
class LevelRule:
    id: int
    rank: int
    threshold: int | None  # cumulative spend (fen) that upgrades to it; None = manual only


def level_after_spend(current: LevelRule | None, total_spent: int,
                      levels: Sequence[LevelRule]) -> LevelRule | None:
    """The level a member should have after reaching ``total_spent``: the highest-ranked level
    whose threshold is met, if it ranks above the current one. Never a downgrade."""
    best = current
    for lv in levels:
        if lv.threshold is None or lv.threshold > total_spent:
            continue
        if best is None or lv.rank > best.rank:
            best = lv
    return best


def points_to_expire(earned_before_cutoff: int, consumed_total: int, balance: int) -> int:
    """First-in-first-out expiry without lots: every point ever taken off (redeemed, expired,
    reversed) is counted against the oldest points. Points earned before the cut-off that
    have not been consumed expire, never more than the balance."""
    return max(0, min(balance, earned_before_cutoff - consumed_total))
