"""Stored value (储值): recharge with bonus tiers, payments, refunds of sale payments, cash
refunds of unspent principal, manual adjustments.

Every change locks the member row (``SELECT … FOR UPDATE`` via ``members.lock``), checks,
updates the cached ``sv_principal``/``sv_bonus`` and appends a ``stored_value_ledger`` entry
with the balances after it — in the caller's transaction (never committed here). The spending
order (principal first, then bonus) and the bonus-tier choice are the pure rules in
``common.membership_rules``.

Checkout uses :func:`pay` and :func:`refund_payment` with ``ref_type='sale'`` and the sale id.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.membership_rules import (
    RechargeRule,
    bonus_forfeit,
    pick_bonus_rule,
    split_payment,
    split_refund,
)
from common.money import format_fen
from common.schemas.members import RechargeRuleIn, RechargeRulePatch
from server.db.members import Member, RechargeRuleRow, StoredValueLedger

from . import audit, member_cards, member_totals, shifts
from . import members as members_domain
from .actor import Actor
from .auth import Passwords


@dataclass
class Result:
    entry: StoredValueLedger
    sv_principal: int
    sv_bonus: int
    forfeited_bonus: int = 0

    @property
    def stored_value(self) -> int:
        return self.sv_principal + self.sv_bonus


def _post(session: Session, actor: Actor, m: Member, kind: str, principal: int, bonus: int,
          **fields) -> Result:
    """Apply a change to a LOCKED member row and append its ledger entry."""
    new_p, new_b = m.sv_principal + principal, m.sv_bonus + bonus
    if new_p < 0 or new_b < 0:  # pragma: no cover - every caller checks first
        raise ApiError("insufficient_balance", status=409, amount=format_fen(-principal - bonus),
                       balance=format_fen(m.sv_principal + m.sv_bonus))
    member_totals.add(session, sv_principal=principal, sv_bonus=bonus,
                      with_balance=member_totals.positive_change(
                          m.sv_principal + m.sv_bonus, new_p + new_b))
    m.sv_principal, m.sv_bonus = new_p, new_b
    entry = StoredValueLedger(member_id=m.id, kind=kind, principal_change=principal,
                              bonus_change=bonus, principal_after=new_p, bonus_after=new_b,
                              staff_id=actor.staff_id, **fields)
    session.add(entry)
    session.flush()
    return Result(entry, new_p, new_b)


# -- recharge rules ------------------------------------------------------------------------
def list_rules(session: Session, include_inactive: bool = False) -> list[RechargeRuleRow]:
    stmt = select(RechargeRuleRow).order_by(RechargeRuleRow.threshold, RechargeRuleRow.id)
    if not include_inactive:
        stmt = stmt.where(RechargeRuleRow.active.is_(True))
    return list(session.scalars(stmt))


def create_rule(session: Session, actor: Actor, data: RechargeRuleIn) -> RechargeRuleRow:
    rule = RechargeRuleRow(**data.model_dump())
    session.add(rule)
    session.flush()
    audit.write(session, actor, "recharge_rule.create", "recharge_rule", rule.id,
                after=data.model_dump())
    return rule


def update_rule(session: Session, actor: Actor, rule_id: int, data: RechargeRulePatch
                ) -> RechargeRuleRow:
    rule = session.get(RechargeRuleRow, rule_id, with_for_update=True)
    if rule is None:
        raise ApiError("not_found", status=404, what="充值规则")
    before = {"name": rule.name, "threshold": rule.threshold, "bonus": rule.bonus,
              "active": rule.active}
    for key, value in data.model_dump(exclude_none=True).items():
        setattr(rule, key, value)
    session.flush()
    audit.write(session, actor, "recharge_rule.update", "recharge_rule", rule.id, before=before,
                after={"name": rule.name, "threshold": rule.threshold, "bonus": rule.bonus,
                       "active": rule.active})
    return rule


# -- operations ----------------------------------------------------------------------------
def recharge(session: Session, actor: Actor, member_id: int, amount: int, method: str, *,
             reference: str | None = None, note: str | None = None) -> Result:
    """充值: ``amount`` fen of principal paid by ``method`` (cash/card/wechat/alipay); the best
    active bonus rule adds bonus. Needs the counter's open shift (409 ``shift_not_open``)."""
    if amount <= 0:
        raise ApiError("validation_error", status=400, fields={"amount": "应大于 0"})
    shift_id = shifts.require_open(session, actor)  # paid into the counter's drawer
    rules = [RechargeRule(r.id, r.threshold, r.bonus) for r in list_rules(session)]
    rule = pick_bonus_rule(amount, rules)
    bonus = rule.bonus if rule else 0
    m = members_domain.lock(session, member_id)
    members_domain.require_active(m)
    res = _post(session, actor, m, "recharge", amount, bonus, method=method,
                reference=reference, rule_id=rule.id if rule else None, note=note,
                shift_id=shift_id)
    audit.write(session, actor, "stored_value.recharge", "member", m.id,
                after={"principal": amount, "bonus": bonus, "method": method,
                       "rule_id": rule.id if rule else None, "entry_id": res.entry.id,
                       "balance": res.stored_value})
    return res


def pay(session: Session, actor: Actor, passwords: Passwords, member_id: int, amount: int, *,
        ref_type: str, ref_id: str | None, card_no: str | None = None, pin: str | None = None,
        note: str | None = None) -> Result:
    """Pay ``amount`` fen from the member's stored value (principal first, then bonus).

    Checks, in order: the card presented (``card_not_found`` 404, ``card_not_of_member`` /
    ``card_lost`` / ``card_frozen`` 422), the PIN (``pin_required`` / ``pin_wrong`` /
    ``pin_locked`` 422, failures kept even though the caller's transaction rolls back), the
    member (``member_inactive`` 409), the balance (``insufficient_balance`` 409).

    Call it before any other operation that locks this member row in the same transaction
    (the PIN check uses its own short transaction)."""
    if amount <= 0:
        raise ApiError("validation_error", status=400, fields={"amount": "应大于 0"})
    if card_no:
        member_cards.check_card_for_member(session, card_no, member_id)
    members_domain.verify_payment_pin(session, passwords, member_id, amount, pin)
    m = members_domain.lock(session, member_id)
    members_domain.require_active(m)
    if card_no:  # re-check under the member lock: a card reported lost just now stops here
        member_cards.check_usable(member_cards.find(session, card_no, lock=True))
    if m.sv_principal + m.sv_bonus < amount:
        raise ApiError("insufficient_balance", status=409, amount=format_fen(amount),
                       balance=format_fen(m.sv_principal + m.sv_bonus))
    p, b = split_payment(amount, m.sv_principal, m.sv_bonus)
    res = _post(session, actor, m, "payment", -p, -b, ref_type=ref_type, ref_id=ref_id,
                note=note, reference=card_no)
    audit.write(session, actor, "stored_value.pay", "member", m.id,
                after={"amount": amount, "principal": p, "bonus": b, "ref_type": ref_type,
                       "ref_id": ref_id, "entry_id": res.entry.id, "balance": res.stored_value})
    return res


def refundable_for(session: Session, member_id: int, ref_type: str, ref_id: str
                   ) -> tuple[int, int]:
    """What payments with this reference took and have not been refunded yet:
    ``(principal, bonus)``."""
    p, b = session.execute(
        select(func.coalesce(func.sum(StoredValueLedger.principal_change), 0),
               func.coalesce(func.sum(StoredValueLedger.bonus_change), 0))
        .where(StoredValueLedger.member_id == member_id, StoredValueLedger.ref_type == ref_type,
               StoredValueLedger.ref_id == ref_id,
               StoredValueLedger.kind.in_(("payment", "payment_refund")))).one()
    return -int(p), -int(b)


def refund_payment(session: Session, actor: Actor, member_id: int, amount: int, *,
                   ref_type: str, ref_id: str, note: str | None = None) -> Result:
    """Give back ``amount`` of what payments with ``(ref_type, ref_id)`` took (a sale refund):
    bonus first, then principal. Never more than was taken and not yet refunded
    (``refund_exceeds`` 409), so a refund cannot be paid twice."""
    m = members_domain.lock(session, member_id)
    taken_p, taken_b = refundable_for(session, member_id, ref_type, ref_id)
    if amount <= 0 or amount > taken_p + taken_b:
        raise ApiError("refund_exceeds", status=409, refundable=format_fen(taken_p + taken_b))
    p, b = split_refund(amount, taken_p, taken_b)
    res = _post(session, actor, m, "payment_refund", p, b, ref_type=ref_type, ref_id=ref_id,
                note=note)
    audit.write(session, actor, "stored_value.payment_refund", "member", m.id,
                after={"amount": amount, "principal": p, "bonus": b, "ref_type": ref_type,
                       "ref_id": ref_id, "entry_id": res.entry.id, "balance": res.stored_value})
    return res


def cash_refund(session: Session, actor: Actor, member_id: int, amount: int, method: str,
                reason: str) -> Result:
    """退储值 (owner): pay back ``amount`` of unspent principal; the same share of the bonus is
    forfeited (``common.membership_rules.bonus_forfeit``)."""
    m = members_domain.lock(session, member_id)
    if amount <= 0 or amount > m.sv_principal:
        raise ApiError("refund_exceeds", status=409, refundable=format_fen(m.sv_principal))
    forfeit = bonus_forfeit(amount, m.sv_principal, m.sv_bonus)
    res = _post(session, actor, m, "cash_refund", -amount, -forfeit, method=method,
                note=reason)
    res.forfeited_bonus = forfeit
    audit.write(session, actor, "stored_value.cash_refund", "member", m.id,
                after={"principal": amount, "bonus_forfeited": forfeit, "method": method,
                       "entry_id": res.entry.id, "balance": res.stored_value}, reason=reason)
    return res


def adjust(session: Session, actor: Actor, member_id: int, principal_change: int,
           bonus_change: int, reason: str) -> Result:
    """Manual correction (manager/owner), reason required, audited; balances never go below
    zero."""
    m = members_domain.lock(session, member_id)
    if m.sv_principal + principal_change < 0:
        raise ApiError("balance_would_be_negative", status=409, what="本金")
    if m.sv_bonus + bonus_change < 0:
        raise ApiError("balance_would_be_negative", status=409, what="赠送金")
    before = {"sv_principal": m.sv_principal, "sv_bonus": m.sv_bonus}
    res = _post(session, actor, m, "adjust", principal_change, bonus_change, note=reason)
    audit.write(session, actor, "stored_value.adjust", "member", m.id, before=before,
                after={"sv_principal": res.sv_principal, "sv_bonus": res.sv_bonus,
                       "entry_id": res.entry.id}, reason=reason)
    return res


def opening(session: Session, actor: Actor, m: Member, principal: int, bonus: int,
            note: str) -> Result | None:
    """Opening balance of an imported member (m must be locked or new in this transaction)."""
    if not principal and not bonus:
        return None
    return _post(session, actor, m, "opening", principal, bonus, note=note)


def entries(session: Session, member_id: int, page: int, page_size: int,
            kind: str | None = None) -> tuple[list[StoredValueLedger], bool]:
    stmt = select(StoredValueLedger).where(StoredValueLedger.member_id == member_id)
    if kind:
        stmt = stmt.where(StoredValueLedger.kind == kind)
    stmt = stmt.order_by(StoredValueLedger.id.desc())
    rows = list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


# -- invariants ----------------------------------------------------------------------------
def check_balances(session: Session) -> list[str]:
    """Cached principal/bonus = ledger sums = the last entry's balances; never negative."""
    sums = (select(StoredValueLedger.member_id.label("mid"),
                   func.sum(StoredValueLedger.principal_change).label("p"),
                   func.sum(StoredValueLedger.bonus_change).label("b"),
                   func.max(StoredValueLedger.id).label("last"))
            .group_by(StoredValueLedger.member_id).subquery())
    last = StoredValueLedger.__table__.alias("last_entry")
    rows = session.execute(
        select(Member.id, Member.number, Member.sv_principal, Member.sv_bonus, sums.c.p,
               sums.c.b, last.c.principal_after, last.c.bonus_after)
        .outerjoin(sums, sums.c.mid == Member.id)
        .outerjoin(last, last.c.id == sums.c.last)
        .where((Member.sv_principal != func.coalesce(sums.c.p, 0))
               | (Member.sv_bonus != func.coalesce(sums.c.b, 0))
               | (Member.sv_principal < 0) | (Member.sv_bonus < 0)
               | (func.coalesce(last.c.principal_after, 0) != Member.sv_principal)
               | (func.coalesce(last.c.bonus_after, 0) != Member.sv_bonus))
        .limit(100)).all()
    return [f"member {r.number}: stored value cached {r.sv_principal}/{r.sv_bonus}, ledger "
            f"sum {r.p or 0}/{r.b or 0}, last entry {r.principal_after}/{r.bonus_after}"
            for r in rows]
