"""What the API returns for sales and refunds: everything a receipt needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.pricing import Quote
from common.privacy import shown_phone
from common.schemas.base import Role
from common.schemas.sales import (
    PAYMENT_LABELS_ZH,
    MemberAfterOut,
    PaymentOut,
    QuoteLineOut,
    QuoteOut,
    RefundOut,
    SaleLineOut,
    SaleOut,
    SaleSummaryOut,
    ServingShareOut,
)
from server.db.activities import Promotion
from server.db.members import Member, MemberCountCard, MemberLevel
from server.db.sales import (
    CommissionLedger,
    Refund,
    RefundLine,
    RefundPayment,
    Sale,
    SaleLine,
    SalePayment,
)

from .pricing_context import PricedCart, line_name
from .sales import staff_names


def quote_out(pc: PricedCart) -> QuoteOut:
    q: Quote = pc.quote
    lines = [QuoteLineOut(**{k: getattr(lq, k) for k in QuoteLineOut.model_fields
                             if k not in ("name", "activity_id")}, name=line_name(pc, i),
                          activity_id=pc.cart.lines[i].activity_id)
             for i, lq in enumerate(q.lines)]
    return QuoteOut(lines=lines, list_total=q.list_total, member_discount=q.member_discount,
                    promotion_discount=q.promotion_discount,
                    points_multiplier=q.points_multiplier,
                    manual_discount=q.manual_discount, count_card_discount=q.count_card_discount,
                    coupon_discount=q.coupon_discount, order_discount=q.order_discount,
                    rounding_discount=q.rounding_discount, total=q.total,
                    coupon_id=q.coupon_id, needs_approval=q.needs_approval)


def promotion_names(session: Session, ids: set[int]) -> dict[int, str]:
    """The names of the promotions that priced lines (a receipt's reason of the discount)."""
    if not ids:
        return {}
    return {pid: name for pid, name in session.execute(
        select(Promotion.id, Promotion.name).where(Promotion.id.in_(ids)))}


def member_after(session: Session, member_id: int | None, points_earned: int = 0, *,
                 viewer: Role) -> MemberAfterOut | None:
    """The sale's member as ``viewer`` may see it: a sale is no member's own record, so the
    phone is masked for roles without the permission (``common.privacy``) — the receipt
    prints it masked anyway."""
    if member_id is None:
        return None
    m = session.get(Member, member_id)
    if m is None:
        return None
    level = session.get(MemberLevel, m.level_id) if m.level_id else None
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    cards = [{"id": c.id, "name": c.name, "remaining_uses": c.remaining_uses,
              "expires_at": c.expires_at.isoformat() if c.expires_at else None}
             for c in session.scalars(select(MemberCountCard).where(
                 MemberCountCard.member_id == m.id, MemberCountCard.status == "active",
                 MemberCountCard.remaining_uses > 0).order_by(MemberCountCard.id))
             if c.expires_at is None or c.expires_at > now]
    return MemberAfterOut(id=m.id, name=m.name, phone=shown_phone(m.phone, viewer),
                          level_name=level.name if level else None,
                          stored_value=m.sv_principal + m.sv_bonus, points=m.points,
                          points_earned=points_earned, count_cards=cards)


def _payment_out(p: SalePayment | RefundPayment, change: int = 0) -> PaymentOut:
    return PaymentOut(method=p.method, label=PAYMENT_LABELS_ZH.get(p.method, p.method),
                      amount=p.amount, tendered=getattr(p, "tendered", None), change=change,
                      reference=getattr(p, "reference", None), points=p.points,
                      refunded=getattr(p, "refunded", 0))


def sale_out(session: Session, sale: Sale, stock_warnings: list[str] | None = None, *,
             viewer: Role, lines: list[SaleLine] | None = None,
             payments: list[SalePayment] | None = None) -> SaleOut:
    """``lines``/``payments``: the rows just written (a new sale), else read back;
    ``viewer``: who asks (the member's phone, :func:`member_after`)."""
    if lines is None:
        lines = list(session.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id)
                                     .order_by(SaleLine.line_no)))
    pays = payments if payments is not None else list(session.scalars(
        select(SalePayment).where(SalePayment.sale_id == sale.id).order_by(SalePayment.id)))
    serving = {int(s["staff_id"]) for ln in lines for s in (ln.staff_shares or [])}
    names = staff_names(session, {sale.staff_id} | ({sale.approved_by} - {None}) | serving)
    cashier, cashier_name = names.get(sale.staff_id, ("", ""))
    promo_names = promotion_names(session, {ln.promotion_id for ln in lines} - {None})
    return SaleOut(
        id=sale.uuid, number=sale.number, status=sale.status, counter=sale.counter,
        cashier=cashier, cashier_name=cashier_name, created_at=sale.created_at,
        business_date=sale.business_date,
        lines=[SaleLineOut(
            id=ln.id, line_id=str(ln.line_no - 1), product_id=ln.product_id or 0, name=ln.name,
            kind=ln.kind, qty=ln.qty, unit_price=ln.unit_price, list_amount=ln.list_amount,
            member_discount=ln.member_discount, manual_discount=ln.manual_discount,
            count_card_discount=ln.count_card_discount, coupon_discount=ln.coupon_discount,
            order_discount=ln.order_discount, rounding_discount=ln.rounding_discount,
            amount=ln.amount, price_source=ln.price_source, count_card_id=ln.count_card_id,
            promotion_discount=ln.promotion_discount, promotion_id=ln.promotion_id,
            promotion_name=promo_names.get(ln.promotion_id) if ln.promotion_id else None,
            activity_id=ln.activity_id, refunded_qty=ln.refunded_qty,
            refunded_amount=ln.refunded_amount,
            staff=[ServingShareOut(**s, name=names.get(int(s["staff_id"]), ("", ""))[1])
                   for s in (ln.staff_shares or [])]) for ln in lines],
        list_total=sale.list_total, discount_total=sale.list_total - sale.total,
        total=sale.total, paid_total=sale.paid_total, change=sale.change,
        payments=[_payment_out(p, p.change) for p in pays],
        member=member_after(session, sale.member_id, sale.points_earned, viewer=viewer),
        refunded_total=sale.refunded_total,
        approved_by=names.get(sale.approved_by, (None,))[0] if sale.approved_by else None,
        note=sale.note, stock_warnings=stock_warnings or [], origin=sale.origin,
        offline_number=sale.offline_number)


def refund_out(session: Session, rf: Refund, *, viewer: Role) -> RefundOut:
    sale = session.get(Sale, rf.sale_id)
    assert sale is not None
    lines: list[dict[str, Any]] = [
        {"sale_line_id": rl.sale_line_id, "name": name, "qty": rl.qty, "amount": rl.amount}
        for rl, name in session.execute(
            select(RefundLine, SaleLine.name).join(SaleLine, SaleLine.id == RefundLine.sale_line_id)
            .where(RefundLine.refund_id == rf.id).order_by(RefundLine.id))]
    pays = list(session.scalars(select(RefundPayment).where(RefundPayment.refund_id == rf.id)
                                .order_by(RefundPayment.id)))
    approver = staff_names(session, {rf.approved_by}).get(rf.approved_by) if rf.approved_by \
        else None
    return RefundOut(id=rf.uuid, number=rf.number, sale_id=sale.uuid, sale_number=sale.number,
                     approved_by=approver[0] if approver else None,
                     total=rf.total, reason=rf.reason, created_at=rf.created_at, lines=lines,
                     payments=[_payment_out(p) for p in pays],
                     member=member_after(session, sale.member_id, viewer=viewer))


def list_sales(session: Session, page: int, page_size: int, q: str | None = None,
               date_from: dt.date | None = None, date_to: dt.date | None = None,
               member_id: int | None = None, counter: str | None = None, *,
               total_min: int | None = None, total_max: int | None = None,
               origin: str | None = None) -> tuple[list[SaleSummaryOut], bool]:
    """Newest first; ``total_min``/``total_max``: the sale's total (fen), both ends included.
    Each row carries the member's and the cashier's names (a refund picks the sale from
    this list)."""
    stmt = select(Sale)
    if q:
        stmt = stmt.where(Sale.number.startswith(q.strip(), autoescape=True))
    if date_from:
        stmt = stmt.where(Sale.business_date >= date_from)
    if date_to:
        stmt = stmt.where(Sale.business_date <= date_to)
    if member_id:
        stmt = stmt.where(Sale.member_id == member_id)
    if counter:
        stmt = stmt.where(Sale.counter == counter)
    if total_min is not None:
        stmt = stmt.where(Sale.total >= total_min)
    if total_max is not None:
        stmt = stmt.where(Sale.total <= total_max)
    if origin:
        stmt = stmt.where(Sale.origin == origin)
    rows = list(session.scalars(stmt.order_by(Sale.id.desc())
                                .offset((page - 1) * page_size).limit(page_size + 1)))
    shown = rows[:page_size]
    member_ids = {s.member_id for s in shown if s.member_id}
    members = {mid: name for mid, name in session.execute(select(Member.id, Member.name)
                                                         .where(Member.id.in_(member_ids)))}
    cashiers = staff_names(session, {s.staff_id for s in shown})
    return [SaleSummaryOut(id=s.uuid, number=s.number, status=s.status, counter=s.counter,
                           created_at=s.created_at, total=s.total,
                           refunded_total=s.refunded_total, member_id=s.member_id,
                           member_name=members.get(s.member_id) if s.member_id else None,
                           cashier_name=cashiers.get(s.staff_id, ("", ""))[1],
                           origin=s.origin, offline_number=s.offline_number)
            for s in shown], len(rows) > page_size


def commission_totals(session: Session, date_from: dt.datetime, date_to: dt.datetime,
                      staff_id: int | None = None) -> list[dict[str, Any]]:
    stmt = (select(CommissionLedger.staff_id, func.sum(CommissionLedger.amount),
                   func.sum(CommissionLedger.base_amount), func.count(CommissionLedger.id))
            .where(CommissionLedger.at >= date_from, CommissionLedger.at < date_to)
            .group_by(CommissionLedger.staff_id).order_by(CommissionLedger.staff_id))
    if staff_id:
        stmt = stmt.where(CommissionLedger.staff_id == staff_id)
    rows = session.execute(stmt).all()
    names = staff_names(session, {r[0] for r in rows})
    return [{"staff_id": sid, "username": names.get(sid, ("", ""))[0],
             "name": names.get(sid, ("", ""))[1], "commission": int(c), "base": int(b),
             "entries": int(n)} for sid, c, b, n in rows]
