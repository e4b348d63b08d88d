"""Offline sales (DESIGN §4 "Counters offline"): a sale a counter made while no server
answered, kept in its journal and replayed here (``POST /sales`` with ``offline``).

The counter's sale already happened — the customer paid and left with a receipt — so the
server records it as the counter made it and never refuses it for what the server would do
differently today:

- the counter's time (``recorded_at``; the business day is its date in the shop's zone)
  and the counter's amounts (``line_amounts``, ``total``); ``origin = "offline"`` and the
  counter's local number (``offline_number``);
- only payments that need no server balance: cash, card, WeChat, Alipay. Stored value,
  points, coupons, count cards and a manager's approval need the server at the moment of the
  sale: 422 ``offline_not_allowed`` (the counter never sells those offline);
- stock may go negative (recorded, and listed as a difference);
- its cash belongs to a drawer: the counter's shift that was open at ``recorded_at``, else
  the one open now, else the counter's latest shift. A shift closed meanwhile gets the sale added to
  its frozen figures (``shifts.add_late_sale``), so the cash is in exactly one shift's
  expected cash;
- every difference with what the server would charge today (a price changed, a product
  inactive, a member unknown, the total, negative stock, a serving staff member unknown, no
  shift at all) goes to ``offline_differences`` for a manager (``GET
  /sales/offline-differences``).

Idempotency as for any sale: the sale's UUID is its key (``api/base.py``); the same UUID
arriving again under another key returns the stored offline sale too.

Lock order as for a normal sale: the shift row, the member row, then products in id order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from common import pricing
from common.errors import ApiError
from common.money import format_fen
from common.payment import cash_change
from common.pricing import allocate
from common.schemas.base import Page
from common.schemas.sales import (
    OFFLINE_METHODS,
    PAYMENT_LABELS_ZH,
    OfflineDifferenceOut,
    OfflineDifferenceQuery,
    SaleIn,
)
from server.clock import ShopClock
from server.db.catalog import Product
from server.db.members import Member, MemberCard, MemberLevel
from server.db.models import Staff
from server.db.sales import (
    CommissionLedger,
    OfflineDifference,
    Sale,
    SaleLine,
    SalePayment,
    Shift,
)

from . import audit, points, promotions, reports, sales, shifts, stock
from . import members as members_domain
from .actor import Actor
from .auth import Passwords
from .sales import CreatedSale


def accept_sale(session: Session, actor: Actor, passwords: Passwords, body: SaleIn, *,
                clock: ShopClock) -> CreatedSale:
    """``POST /sales``: a sale rung up with the server, or one replayed from a counter's
    offline journal (``body.offline``)."""
    if body.offline is None:
        return sales.create_sale(session, actor, passwords, body, clock=clock)
    return record_offline(session, actor, body, clock=clock)


def _refuse_what_needs_the_server(body: SaleIn) -> None:
    what = None
    for p in body.payments:
        if p.method not in OFFLINE_METHODS:
            what = PAYMENT_LABELS_ZH.get(p.method, p.method) + "支付"
            break
    if what is None and body.coupon_id is not None:
        what = "优惠券"
    if what is None and any(ln.count_card_id is not None or ln.count_card_template_id
                            is not None for ln in body.lines):
        what = "次卡"
    if what is None and any(ln.activity_id is not None for ln in body.lines):
        what = "活动报名"
    if what is None and body.approval_token:
        what = "店长授权"
    if what is not None:
        raise ApiError("offline_not_allowed", status=422, what=what)


@dataclass
class _Diff:
    kind: str
    message: str
    line_no: int | None = None
    product_id: int | None = None
    counter_amount: int | None = None
    server_amount: int | None = None


def _stored_utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def _shift_for(session: Session, counter: str, at: dt.datetime) -> Shift | None:
    """The counter's shift open at ``at`` (naive UTC), else the one open now, else its
    latest; locked (a closed one gets its figures recomputed)."""
    open_at = and_(Shift.opened_at <= at, or_(Shift.closed_at.is_(None), Shift.closed_at > at))
    sid = session.scalar(  # one query: open at ``at`` first, else the one open now
        select(Shift.id).where(Shift.counter == counter, or_(open_at, Shift.status == "open"))
        .order_by(case((open_at, 0), else_=1), Shift.id.desc()).limit(1))
    if sid is None:
        sid = session.scalar(select(func.max(Shift.id)).where(Shift.counter == counter))
    if sid is None:
        return None
    return session.scalars(select(Shift).where(Shift.id == sid).with_for_update()
                           .execution_options(populate_existing=True)).one()


def member_by_ref(session: Session, ref: str) -> Member | None:
    """The active member whose card number (a card's, or the member number) or phone is
    ``ref`` (a counter offline attached the member by one of them), else None (also when
    ``ref`` names two members)."""
    ref = ref.strip()
    if not ref:
        return None
    card_members = select(MemberCard.member_id).where(
        MemberCard.card_no == ref, MemberCard.status.in_(("active", "frozen")))
    found = session.scalars(select(Member).where(
        or_(Member.id.in_(card_members), Member.number == ref, Member.phone == ref),
        Member.active.is_(True)).order_by(Member.id).limit(2)).all()
    return found[0] if len(found) == 1 else None  # two members for one ref: unknown


def _server_quote(session: Session, body: SaleIn, products: dict[int, Product],
                  level: MemberLevel | None, member: Member | None,
                  at: dt.datetime | None = None) -> pricing.Quote | None:
    """What the server would charge for this cart today (inactive products at their last
    price, no discount limit), with the promotions that ran when the counter recorded it
    (``at``, naive shop time — its preview applied them too): the yardstick the differences
    are measured by."""
    lines = []
    for i, ln in enumerate(body.lines):
        p = products[ln.product_id]  # type: ignore[index]
        lines.append(pricing.PriceLine(
            line_id=str(i), product_id=p.id, kind=p.kind, category_id=p.category_id,
            qty=ln.qty, list_price=p.price, member_price=p.member_price,
            open_price=ln.open_price if p.open_price else None, open_price_allowed=p.open_price,
            manual_discount_bp=ln.manual_discount_bp, manual_discount_fen=ln.manual_discount_fen,
            discountable=p.discountable))
    if level is not None:
        level_prices = members_domain.prices_for_products(session, list(products))
        lines = [pricing.PriceLine.from_dict({**pl.to_dict(),
                                              "level_prices": level_prices[pl.product_id]})
                 if level_prices.get(pl.product_id) else pl for pl in lines]
    pm = None
    if member is not None:
        pm = pricing.Member(level_id=level.id if level else None,
                            level_discount_bp=level.discount_bp if level else 10_000,
                            member_id=member.id)
    try:
        return pricing.quote(lines, pm, None, order_discount_bp=body.order_discount_bp,
                             order_discount_fen=body.order_discount_fen,
                             max_discount_bp=10_000, approved=True, rounding=body.rounding,
                             promotions=promotions.for_pricing(session, at), at=at)
    except pricing.PricingError:
        return None


def _existing(session: Session, sale_uuid: str) -> CreatedSale | None:
    sale = session.scalars(select(Sale).where(Sale.uuid == sale_uuid)).one_or_none()
    if sale is None:
        return None
    if sale.origin != "offline":
        raise ApiError("sale_exists", status=409, id=sale_uuid)
    lines = list(session.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id)
                                 .order_by(SaleLine.line_no)))
    pays = list(session.scalars(select(SalePayment).where(SalePayment.sale_id == sale.id)
                                .order_by(SalePayment.id)))
    return CreatedSale(sale, lines, pays, [])


def record_offline(session: Session, actor: Actor, body: SaleIn, *,
                   clock: ShopClock) -> CreatedSale:
    """Record a replayed offline sale (see the module docstring). Raises 422
    ``offline_not_allowed`` / ``payment_mismatch`` / ``product_not_found`` only for a body
    the counter could never have sold offline."""
    off = body.offline
    assert off is not None
    sale_uuid = str(body.id)
    again = _existing(session, sale_uuid)
    if again is not None:
        return again
    _refuse_what_needs_the_server(body)
    paid = sum(p.amount for p in body.payments)
    if paid != off.total:
        raise ApiError("payment_mismatch", status=422, paid=format_fen(paid),
                       total=format_fen(off.total))
    at = _stored_utc(off.recorded_at)
    day = clock.local(at).date()
    diffs: list[_Diff] = []

    # 1. the drawer: the shift (locked first, as for any sale)
    shift = _shift_for(session, actor.counter, at)
    if shift is None:
        diffs.append(_Diff("no_shift", f"收银台 {actor.counter} 没有任何班次，现金未计入交班"))
    # 2. the member: known and active, else the sale is recorded without one
    member = level = None
    if body.member_id is not None:
        member = session.get(Member, body.member_id)
        if member is None or not member.active:
            diffs.append(_Diff("member_unknown", f"会员 {body.member_id} 不存在或已停用，"
                                                 "按非会员记录"))
            member = None
    elif off.member_ref is not None:
        member = member_by_ref(session, off.member_ref)
        if member is None:
            diffs.append(_Diff("member_unknown", f"卡号/手机号 {off.member_ref} 没有对应的"
                                                 "会员（或已停用），按非会员记录"))
    if member is not None:
        members_domain.lock(session, member.id)
        level = session.get(MemberLevel, member.level_id) if member.level_id else None
    # 3. products, locked in id order
    ids = sorted({ln.product_id for ln in body.lines if ln.product_id is not None})
    products = stock.lock_products(session, ids)
    for i, ln in enumerate(body.lines):
        if ln.product_id not in products:
            raise ApiError("product_not_found", status=404, product_id=ln.product_id,
                           fields={f"lines.{i}.product_id": "商品不存在"})
    q = _server_quote(session, body, products, level, member,
                      clock.local(at).replace(tzinfo=None))
    # the cashier who made the sale (the journal's), else the login replaying it
    cashier_id, cashier_name = actor.staff_id, actor.username
    if off.cashier_id is not None and off.cashier_id != actor.staff_id:
        who = session.get(Staff, off.cashier_id)
        if who is not None and who.active:
            cashier_id, cashier_name = who.id, who.username
        else:
            diffs.append(_Diff("cashier_unknown", f"收银员 {off.cashier_id} 不存在或已停用，"
                                                  f"记在补传的 {actor.username} 名下"))

    line_plans: list[dict[str, Any]] = []
    for i, (ln, amount) in enumerate(zip(body.lines, off.line_amounts, strict=True)):
        p = products[ln.product_id]  # type: ignore[index]
        lq = q.lines[i] if q is not None else None
        if not p.active:
            diffs.append(_Diff("product_inactive", f"{p.name} 已下架", i + 1, p.id, amount))
        if lq is not None and lq.amount == amount:  # priced as the server would: its detail
            plan = {k: getattr(lq, k) for k in (
                "unit_price", "list_amount", "member_discount", "manual_discount",
                "count_card_discount", "coupon_discount", "order_discount",
                "rounding_discount", "price_source")}
        else:
            if lq is not None:
                diffs.append(_Diff("price_changed", f"{p.name}：收银台收 {format_fen(amount)}，"
                                   f"现在应收 {format_fen(lq.amount)}", i + 1, p.id, amount,
                                   lq.amount))
            plan = dict(unit_price=amount // ln.qty, list_amount=amount, member_discount=0,
                        manual_discount=0, count_card_discount=0, coupon_discount=0,
                        order_discount=0, rounding_discount=0, price_source="offline")
        line_plans.append(plan)
    if q is None or q.total != off.total:
        server_total = q.total if q is not None else None
        now_due = format_fen(server_total) if server_total is not None else "（无法计算）"
        diffs.append(_Diff("total_differs",
                           f"合计：收银台收 {format_fen(off.total)}，现在应收 {now_due}",
                           counter_amount=off.total, server_amount=server_total))
    # serving staff the server does not know are left off (the line stands)
    staff_ids = {s.staff_id for ln in body.lines for s in ln.staff}
    known_staff = set(session.scalars(select(Staff.id).where(Staff.id.in_(staff_ids)))
                      ) if staff_ids else set()
    for sid in sorted(staff_ids - known_staff):
        diffs.append(_Diff("staff_unknown", f"服务人员 {sid} 不存在，该行不计提成"))

    member_id = member.id if member is not None else None
    earned = 0
    if member_id is not None:
        earned = points.earn(session, actor, member_id, off.total, ref_type="sale",
                             ref_id=sale_uuid).change
        members_domain.record_visit(session, actor, member_id, off.total, ref_type="sale",
                                    ref_id=sale_uuid)
    changes = [cash_change(p.amount, p.tendered) if p.method == "cash" else 0
               for p in body.payments]

    def total_of(key: str) -> int:
        return sum(pl[key] for pl in line_plans)

    sale = Sale(uuid=sale_uuid, number=sales.next_number(session, day, actor.counter, "sale"),
                status="completed", business_date=day, counter=actor.counter,
                staff_id=cashier_id, shift_id=shift.id if shift else None,
                member_id=member_id, coupon_id=None, approved_by=None,
                list_total=total_of("list_amount"), member_discount=total_of("member_discount"),
                manual_discount=total_of("manual_discount"), count_card_discount=0,
                coupon_discount=0, order_discount=total_of("order_discount"),
                rounding_discount=total_of("rounding_discount"), total=off.total,
                paid_total=off.total, change=sum(changes), note=body.note,
                points_earned=earned, created_at=at, origin="offline",
                offline_number=off.number)
    session.add(sale)
    session.flush()
    pay_rows = [SalePayment(sale_id=sale.id, method=p.method, amount=p.amount,
                            tendered=p.tendered, change=c, reference=p.reference)
                for p, c in zip(body.payments, changes, strict=True)]
    session.add_all(pay_rows)
    warnings: list[str] = []
    line_rows: list[SaleLine] = []
    for i, (ln, amount, plan) in enumerate(zip(body.lines, off.line_amounts, line_plans,
                                               strict=True)):
        p = products[ln.product_id]  # type: ignore[index]
        shares = [s for s in ln.staff if s.staff_id in known_staff]
        if len(shares) != len(ln.staff):
            shares = []  # shares no longer add up to 100%: no commission for the line
        row = SaleLine(sale_id=sale.id, line_no=i + 1, product_id=p.id, name=p.name,
                       kind=p.kind, category_id=p.category_id, qty=ln.qty, amount=amount,
                       cost=p.cost, staff_shares=[s.model_dump() for s in shares] or None,
                       **plan)
        session.add(row)
        line_rows.append(row)
        if p.track_stock:
            m = stock.move(session, actor, p, -ln.qty, "sale", "sale", sale.number,
                           allow_negative=True)
            if m.negative:
                warnings.append(f"{p.name} 库存为 {m.balance_after}")
                diffs.append(_Diff("stock_negative", f"{p.name} 库存为 {m.balance_after}",
                                   i + 1, p.id))
        total_comm = sales.commission_of(p, amount, ln.qty)
        if total_comm and shares:
            session.flush()  # the line's id
            for s, amt in zip(shares, allocate(total_comm, [s.share_bp for s in shares]),
                              strict=True):
                if amt:
                    session.add(CommissionLedger(staff_id=s.staff_id, sale_id=sale.id,
                                                 sale_line_id=row.id, kind="sale",
                                                 base_amount=amount, amount=amt))
    session.add_all(OfflineDifference(sale_id=sale.id, kind=d.kind, line_no=d.line_no,
                                      product_id=d.product_id, counter_amount=d.counter_amount,
                                      server_amount=d.server_amount, message=d.message[:255])
                    for d in diffs)
    session.flush()
    if shift is not None and shift.status == "closed":
        shifts.add_late_sale(session, shift, off.total,
                             [(r.method, r.amount, r.change) for r in pay_rows])
    if day <= reports.last_closed_day(clock.today()):
        reports.invalidate(session, day)  # a closed day's cached figures changed
    audit.write(session, actor, "sale.offline", "sale", sale.number,
                after={"offline_number": off.number, "recorded_at": at.isoformat(),
                       "cashier": cashier_name, "replayed_by": actor.username,
                       "member_ref": off.member_ref,
                       "total": off.total, "payments": {p.method: p.amount
                                                        for p in body.payments},
                       "shift_id": sale.shift_id, "differences": [d.kind for d in diffs]})
    return CreatedSale(sale, line_rows, pay_rows, warnings)


def list_differences(session: Session, query: OfflineDifferenceQuery
                     ) -> Page[OfflineDifferenceOut]:
    """Newest first; ``date_from``/``date_to``: the sales' business days."""
    stmt = select(OfflineDifference, Sale).join(Sale, Sale.id == OfflineDifference.sale_id)
    if query.date_from:
        stmt = stmt.where(Sale.business_date >= query.date_from)
    if query.date_to:
        stmt = stmt.where(Sale.business_date <= query.date_to)
    if query.counter:
        stmt = stmt.where(Sale.counter == query.counter)
    rows = session.execute(stmt.order_by(OfflineDifference.id.desc())
                           .offset((query.page - 1) * query.page_size)
                           .limit(query.page_size + 1)).all()
    items = [OfflineDifferenceOut(
        id=d.id, sale_id=s.uuid, sale_number=s.number, offline_number=s.offline_number,
        counter=s.counter, business_date=s.business_date, recorded_at=s.created_at,
        kind=d.kind, line_no=d.line_no, product_id=d.product_id,
        counter_amount=d.counter_amount, server_amount=d.server_amount, message=d.message)
        for d, s in rows[:query.page_size]]
    return Page[OfflineDifferenceOut](items=items, page=query.page, page_size=query.page_size,
                                      has_more=len(rows) > query.page_size)
