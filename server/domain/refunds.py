"""Refunds (退货/退款): whole or by line and quantity; the money goes back the way it came.

- The sale row is locked first (``SELECT … FOR UPDATE``), so two concurrent refunds of the
  same sale run one after the other and can never refund more than was sold.
- Amounts: refunding ``k`` of a line's ``n`` units gives ``floor(amount × k / n)``; the refund
  that takes the last units gives exactly what is left, so the parts add up to the line.
- Payments: the refund total is spread over the sale's payments in proportion to what each
  still holds (largest remainder); a refund that empties the sale gives each payment exactly
  its remainder. Stored value goes back to the wallet (``wallet.refund_payment``), points
  paid go back to the member, cash is counted out of the drawer (shift report), card /
  WeChat / Alipay are recorded for reversal on the payment terminal.
- Count-card uses are restored, stock returned, commission reversed pro rata, points earned
  by the sale taken back pro rata, the member's cumulative spend lowered (never a downgrade),
  and the coupon becomes usable again once the whole sale is refunded.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.pricing import allocate
from common.schemas.base import Role
from common.schemas.sales import RefundIn
from server.db.members import MemberCountCard
from server.db.sales import (
    CommissionLedger,
    Refund,
    RefundLine,
    RefundPayment,
    Sale,
    SaleLine,
    SalePayment,
)

from . import activities, audit, count_cards, coupons, points, stock, wallet
from . import members as members_domain
from .actor import Actor
from .approvals import use_approval
from .sales import get_sale, next_number, open_shift_id


def _share(total: int, part: int, whole: int) -> int:
    return total * part // whole if whole else 0


def refund(session: Session, actor: Actor, sale_ref: str, body: RefundIn, *,
           today: dt.date) -> Refund:
    """``today``: the shop's business day (``server.clock``), the refund's day."""
    refund_uuid = str(body.id)
    if session.scalar(select(Refund.id).where(Refund.uuid == refund_uuid)) is not None:
        raise ApiError("refund_exists", status=409, id=refund_uuid)
    approved_by = None
    if actor.role.rank < Role.MANAGER.rank:
        # a cashier refunds only with a manager's approval typed at the counter
        if not body.approval_token:
            raise ApiError("refund_needs_approval", status=403)
        approved_by = use_approval(session, body.approval_token, refund_uuid,
                                   purpose="refund")
    sale = get_sale(session, sale_ref, for_update=True)
    lines = {ln.id: ln for ln in session.scalars(
        select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.id)
        .with_for_update())}
    if body.lines is None:
        wanted = {lid: ln.qty - ln.refunded_qty for lid, ln in lines.items()
                  if ln.qty > ln.refunded_qty}
    else:
        wanted = {}
        for i, rl in enumerate(body.lines):
            if rl.line_id not in lines:
                raise ApiError("not_found", status=404, what="销售明细",
                               fields={f"lines.{i}.line_id": "不是这张单的商品"})
            wanted[rl.line_id] = wanted.get(rl.line_id, 0) + rl.qty
    if not wanted:
        raise ApiError("nothing_to_refund", status=409, number=sale.number)
    for lid, qty in wanted.items():
        ln = lines[lid]
        left = ln.qty - ln.refunded_qty
        if qty > left:
            raise ApiError("refund_qty_exceeds", status=409, name=ln.name, left=left)
        if ln.count_card_template_id is not None and qty != ln.qty:
            raise ApiError("count_card_sale_refund", status=422, name=ln.name)

    member_id = sale.member_id
    if member_id is not None:
        members_domain.lock(session, member_id)  # member before products (lock order)

    rf = Refund(uuid=refund_uuid, number=next_number(session, today, actor.counter,
                                                     "refund"),
                sale_id=sale.id, business_date=today, counter=actor.counter,
                staff_id=actor.staff_id, shift_id=open_shift_id(session, actor.counter),
                total=0, reason=body.reason, approved_by=approved_by)
    session.add(rf)
    session.flush()

    products = stock.lock_products(session, [lines[lid].product_id for lid in wanted
                                             if lines[lid].product_id is not None])
    total = 0
    for lid, qty in sorted(wanted.items()):
        ln = lines[lid]
        last = ln.refunded_qty + qty == ln.qty
        amount = ln.amount - ln.refunded_amount if last else _share(ln.amount, qty, ln.qty)
        ln.refunded_qty += qty
        ln.refunded_amount += amount
        total += amount
        session.add(RefundLine(refund_id=rf.id, sale_line_id=ln.id, qty=qty, amount=amount))
        product = products.get(ln.product_id) if ln.product_id is not None else None
        if product is not None and product.track_stock:
            stock.move(session, actor, product, qty, "refund", "refund", rf.number)
        if ln.count_card_id is not None:
            count_cards.restore(session, actor, ln.count_card_id, qty, ref_type="sale",
                                ref_id=sale.uuid)
        if ln.count_card_template_id is not None:
            # the count cards this line sold go back, if none of them was used
            for card_id in _cards_sold_by(session, sale, ln):
                count_cards.void_unused(session, actor, card_id, ref_type="refund",
                                        ref_id=rf.uuid, reason=body.reason)
        if ln.activity_id is not None:  # the seat it paid for is given back
            activities.cancel_for_refund(session, actor, ln.id, rf.number, body.reason)
        for c in session.scalars(select(CommissionLedger).where(
                CommissionLedger.sale_line_id == ln.id, CommissionLedger.kind == "sale")):
            given_back = -sum(x.amount for x in session.scalars(select(CommissionLedger).where(
                CommissionLedger.sale_line_id == ln.id, CommissionLedger.kind == "refund",
                CommissionLedger.staff_id == c.staff_id)))
            back = c.amount - given_back if last else _share(c.amount, qty, ln.qty)
            if back:
                session.add(CommissionLedger(staff_id=c.staff_id, sale_id=sale.id,
                                             sale_line_id=ln.id, refund_id=rf.id,
                                             kind="refund", base_amount=-amount, amount=-back))
    rf.total = total
    sale.refunded_total += total
    fully = all(ln.refunded_qty == ln.qty for ln in lines.values())
    sale.status = "refunded" if fully else "part_refunded"

    # money back the way it came
    pays = list(session.scalars(select(SalePayment).where(SalePayment.sale_id == sale.id)
                                .order_by(SalePayment.id).with_for_update()))
    remaining = [p.amount - p.refunded for p in pays]
    if fully:
        parts = remaining
        if sum(parts) != total:  # pragma: no cover - invariant of the amounts above
            raise ApiError("refund_mismatch", status=409)
    else:
        parts = allocate(total, remaining)
    for p, part in zip(pays, parts, strict=True):
        if part <= 0:
            continue
        pts = None
        if p.method == "points" and p.points:
            given = sum(int(x.points or 0) for x in session.scalars(select(RefundPayment).where(
                RefundPayment.sale_payment_id == p.id)))
            pts = (p.points - given) if p.refunded + part == p.amount else \
                _share(p.points, part, p.amount)
            if pts and member_id is not None:
                points.credit(session, actor, member_id, pts, kind="reverse", ref_type="sale",
                              ref_id=sale.uuid, note=f"退款 {rf.number}")
        elif p.method == "stored_value" and member_id is not None:
            wallet.refund_payment(session, actor, member_id, part, ref_type="sale",
                                  ref_id=sale.uuid, note=f"退款 {rf.number}")
        p.refunded += part
        session.add(RefundPayment(refund_id=rf.id, sale_payment_id=p.id, method=p.method,
                                  amount=part, points=pts))

    if member_id is not None:
        if sale.points_earned:
            taken = sum(r.points_reversed for r in session.scalars(
                select(Refund).where(Refund.sale_id == sale.id, Refund.id != rf.id)))
            back = sale.points_earned - taken if fully else \
                _share(sale.points_earned, total, sale.total)
            if back > 0:
                res = points.debit(session, actor, member_id, back, kind="reverse",
                                   ref_type="sale", ref_id=sale.uuid, note=f"退款 {rf.number}")
                rf.points_reversed = -res.change
        members_domain.record_visit(session, actor, member_id, -total, ref_type="refund",
                                    ref_id=rf.uuid, count_visit=False)
        if fully and sale.coupon_id is not None:
            coupons.restore(session, actor, sale.coupon_id, ref_type="sale", ref_id=sale.uuid)
    session.flush()
    audit.write(session, actor, "sale.refund", "sale", sale.number,
                after={"refund": rf.number, "total": total, "lines": wanted,
                       "payments": {p.method: part for p, part in zip(pays, parts, strict=True)
                                    if part}},
                reason=body.reason)
    if total == 0 and not fully:
        raise ApiError("nothing_to_refund", status=409, number=sale.number)
    return rf


def _cards_sold_by(session: Session, sale: Sale, ln: SaleLine) -> list[int]:
    return list(session.scalars(select(MemberCountCard.id).where(
        MemberCountCard.ref_type == "sale", MemberCountCard.ref_id == sale.uuid,
        MemberCountCard.template_id == ln.count_card_template_id)
        .order_by(MemberCountCard.id)))
