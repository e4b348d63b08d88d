"""Sales (结账): one transaction writes the sale, its lines and payments, every ledger it
moves (stored value, points spent and earned, count-card uses, stock), the member's aggregates
and level upgrade, staff commission and (through the API layer) the idempotency record.

A sale needs the counter's open shift (``shifts.require_open``: 409 ``shift_not_open``).

Lock order (deadlock avoidance, DESIGN §3): the counter's shift row (shared), then the member
row (``wallet.pay`` / ``members.lock``), then count cards and the coupon, then products in id
order (stock).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.money import format_fen, percent_of
from common.payment import cash_change
from common.pricing import allocate, points_value_fen
from common.schemas.sales import PAYMENT_LABELS_ZH, CartIn, SaleIn
from server.clock import ShopClock
from server.db.catalog import Product
from server.db.models import Staff
from server.db.sales import CommissionLedger, Sale, SaleLine, SalePayment, Shift

from . import activities, audit, count_cards, coupons, points, reports, shifts, stock, wallet
from . import members as members_domain
from .actor import Actor
from .approvals import use_approval
from .auth import Passwords
from .pricing_context import PricedCart, line_name, price_cart


def counter_code(counter: str) -> str:
    code = re.sub(r"[^0-9A-Za-z]", "", counter or "")[:8]
    return code or "00"


def next_number(session: Session, day: dt.date, counter: str, kind: str) -> str:
    """``20261123-01-0042``: per business day and counter, gap-free within a day (the
    sequence row is locked until the sale commits, so numbers follow commit order)."""
    code = counter_code(counter)
    session.execute(text(
        "INSERT INTO sale_sequences (business_date, counter, kind, last_no) "
        "VALUES (:d, :c, :k, LAST_INSERT_ID(1)) "
        "ON DUPLICATE KEY UPDATE last_no = LAST_INSERT_ID(last_no + 1)"),
        {"d": day, "c": code, "k": kind})
    n = session.execute(text("SELECT LAST_INSERT_ID()")).scalar_one()
    prefix = "" if kind == "sale" else "R"
    return f"{prefix}{day:%Y%m%d}-{code}-{n:04d}"


def open_shift_id(session: Session, counter: str) -> int | None:
    return session.scalar(select(Shift.id).where(Shift.counter == counter,
                                                 Shift.status == "open")
                          .order_by(Shift.id.desc()).limit(1))


def points_rate(session: Session) -> int:
    """How many points make ¥1 when paying with points (membership settings)."""
    return members_domain.get_settings(session).points_per_yuan_redeem


@dataclass
class PaymentPlan:
    method: str
    amount: int
    tendered: int | None
    change: int
    reference: str | None
    points: int | None
    card_no: str | None
    pin: str | None


def _plan_payments(session: Session, body: SaleIn, pc: PricedCart) -> list[PaymentPlan]:
    total = pc.quote.total
    plans: list[PaymentPlan] = []
    for i, p in enumerate(body.payments):
        field = f"payments.{i}"
        if p.method in ("stored_value", "points") and pc.member is None:
            raise ApiError("payment_needs_member", status=422,
                           fields={f"{field}.method": "储值和积分支付需要先选择会员"})
        if p.method == "points":
            value = points_value_fen(p.points or 0, points_rate(session))
            if value != p.amount:
                raise ApiError("points_amount_mismatch", status=422, points=p.points,
                               value=format_fen(value),
                               fields={f"{field}.amount":
                                       f"{p.points} 积分可抵 {format_fen(value)}"})
        change = cash_change(p.amount, p.tendered) if p.method == "cash" else 0
        plans.append(PaymentPlan(p.method, p.amount, p.tendered, change, p.reference, p.points,
                                 p.card_no, p.pin))
    paid = sum(p.amount for p in plans)
    if paid != total:
        raise ApiError("payment_mismatch", status=422, paid=format_fen(paid),
                       total=format_fen(total))
    return plans


def commission_of(product: Product | None, amount: int, qty: int) -> int:
    """A line's commission (提成) by the product's rule (normal and offline sales)."""
    if product is None or product.commission_kind == "none":
        return 0
    if product.commission_kind == "percent":
        return percent_of(max(amount, 0), product.commission_value)
    return product.commission_value * qty


@dataclass
class CreatedSale:
    """A new sale with the rows it wrote (the response needs no second read)."""

    sale: Sale
    lines: list[SaleLine]
    payments: list[SalePayment]
    stock_warnings: list[str]


def create_sale(session: Session, actor: Actor, passwords: Passwords, body: SaleIn, *,
                clock: ShopClock, at: dt.datetime | None = None) -> CreatedSale:
    """The sale counts on the shop's business day (``clock``). ``at`` (shop time; naive =
    wall-clock) back-dates a sale: demo history and imports only."""
    sale_uuid = str(body.id)
    if session.scalar(select(Sale.id).where(Sale.uuid == sale_uuid)) is not None:
        raise ApiError("sale_exists", status=409, id=sale_uuid)
    # a counter sale is paid into the drawer of the counter's open shift (back-dated demo
    # history and imports belong to none)
    shift_id = shifts.require_open(session, actor) if at is None else None
    if at is not None and at.tzinfo is not None:
        at = clock.local(at).replace(tzinfo=None)
    day = at.date() if at else clock.today()
    moment = at or clock.now().replace(tzinfo=None)  # shop time: the promotions running
    pc = price_cart(session, actor, body, today=day, at=moment)
    plans = _plan_payments(session, body, pc)
    member_id = pc.member.id if pc.member else None

    # 1. the member's balances (wallet.pay locks the member row; it must come first)
    sv_results = []
    for plan in plans:
        if plan.method == "stored_value":
            assert member_id is not None
            sv_results.append(wallet.pay(session, actor, passwords, member_id, plan.amount,
                                         ref_type="sale", ref_id=sale_uuid,
                                         card_no=plan.card_no, pin=plan.pin))
    if member_id is not None:
        members_domain.lock(session, member_id)
    for plan in plans:
        if plan.method == "points":
            assert member_id is not None and plan.points
            points.redeem(session, actor, member_id, plan.points, ref_type="sale",
                          ref_id=sale_uuid)
    # 2. the coupon (used once: conditional update)
    if pc.coupon_id is not None:
        assert member_id is not None
        coupons.redeem(session, actor, pc.coupon_id, member_id=member_id, ref_type="sale",
                       ref_id=sale_uuid, today=day)
    # 3. stock, in product-id order
    products = stock.lock_products(session, list(pc.products))
    approved_by = None
    if pc.approved_by is not None and body.approval_token:
        approved_by = use_approval(session, body.approval_token, sale_uuid)

    q = pc.quote
    earned_points = 0
    if member_id is not None:  # the member row is locked already (above)
        points_paid = sum(p.amount for p in plans if p.method == "points")
        earned_points = points.earn(session, actor, member_id, q.total - points_paid,
                                    ref_type="sale", ref_id=sale_uuid,
                                    multiplier=q.points_multiplier).change
        members_domain.record_visit(session, actor, member_id, q.total, ref_type="sale",
                                    ref_id=sale_uuid)

    sale = Sale(uuid=sale_uuid, number=next_number(session, day, actor.counter, "sale"),
                status="completed", business_date=day, counter=actor.counter,
                staff_id=actor.staff_id, shift_id=shift_id,
                member_id=member_id, coupon_id=q.coupon_id, approved_by=approved_by,
                list_total=q.list_total, member_discount=q.member_discount,
                promotion_discount=q.promotion_discount, manual_discount=q.manual_discount,
                count_card_discount=q.count_card_discount,
                coupon_discount=q.coupon_discount, order_discount=q.order_discount,
                rounding_discount=q.rounding_discount, total=q.total, paid_total=q.total,
                change=sum(p.change for p in plans), note=body.note,
                points_earned=earned_points)
    if at is not None:
        sale.created_at = clock.to_stored(at)
        reports.invalidate(session, day)  # a closed day changed: its cached report figures
    session.add(sale)
    session.flush()

    warnings: list[str] = []
    pay_rows: list[SalePayment] = []
    sv_iter = iter(sv_results)
    for plan in plans:
        sv = next(sv_iter) if plan.method == "stored_value" else None
        pay_rows.append(SalePayment(
            sale_id=sale.id, method=plan.method, amount=plan.amount, tendered=plan.tendered,
            change=plan.change, reference=plan.reference or plan.card_no, points=plan.points,
            principal=-sv.entry.principal_change if sv else None,
            bonus=-sv.entry.bonus_change if sv else None))
    session.add_all(pay_rows)
    line_rows: list[SaleLine] = []
    for i, (ln, lq) in enumerate(zip(body.lines, q.lines, strict=True)):
        product = products.get(ln.product_id) if ln.product_id is not None else None
        row = SaleLine(
            sale_id=sale.id, line_no=i + 1, product_id=ln.product_id,
            count_card_template_id=ln.count_card_template_id, activity_id=ln.activity_id,
            name=line_name(pc, i),
            kind=lq.kind, category_id=product.category_id if product else None, qty=lq.qty,
            unit_price=lq.unit_price, list_amount=lq.list_amount,
            member_discount=lq.member_discount, promotion_discount=lq.promotion_discount,
            promotion_id=lq.promotion_id, manual_discount=lq.manual_discount,
            count_card_discount=lq.count_card_discount, coupon_discount=lq.coupon_discount,
            order_discount=lq.order_discount, rounding_discount=lq.rounding_discount,
            amount=lq.amount, price_source=lq.price_source, count_card_id=lq.count_card_id,
            cost=product.cost if product else None,
            staff_shares=[s.model_dump() for s in ln.staff] or None)
        session.add(row)
        line_rows.append(row)
        if product is not None and product.track_stock:
            m = stock.move(session, actor, product, -lq.qty, "sale", "sale", sale.number)
            if m.negative:
                warnings.append(f"{product.name} 库存为 {m.balance_after}")
        if ln.count_card_id is not None:
            assert member_id is not None
            count_cards.use(session, actor, ln.count_card_id, member_id=member_id, uses=lq.qty,
                            ref_type="sale", ref_id=sale_uuid)
        if ln.count_card_template_id is not None:
            assert member_id is not None
            for _ in range(lq.qty):
                card = count_cards.sell(session, actor, member_id, ln.count_card_template_id,
                                        ref_type="sale", ref_id=sale_uuid,
                                        price=lq.amount // lq.qty, method="sale",
                                        shift_id=shift_id)
            row.issued_count_card_id = card.id
        if ln.activity_id is not None:
            assert pc.member is not None
            session.flush()  # the line's id: the sign-up points at what paid for it
            activities.sign_up(session, actor, ln.activity_id, pc.member, at=moment,
                               price=lq.amount, sale_id=sale.id, sale_line_id=row.id)
        total_comm = commission_of(product, lq.amount, lq.qty)
        if total_comm and ln.staff:
            shares = allocate(total_comm, [s.share_bp for s in ln.staff])
            session.flush()  # the line's id
            for s, amt in zip(ln.staff, shares, strict=True):
                if amt:
                    session.add(CommissionLedger(staff_id=s.staff_id, sale_id=sale.id,
                                                 sale_line_id=row.id, kind="sale",
                                                 base_amount=lq.amount, amount=amt))
    session.flush()
    audit.write(session, actor, "sale.create", "sale", sale.number,
                after={"total": sale.total, "member_id": member_id,
                       "payments": {p.method: p.amount for p in plans},
                       "approved_by": approved_by})
    return CreatedSale(sale, line_rows, pay_rows, warnings)


def quote(session: Session, actor: Actor, cart: CartIn, *, today: dt.date,
          at: dt.datetime | None = None) -> PricedCart:
    """``today``: the shop's business day (coupon validity); ``at``: now in naive shop time
    (the promotions running)."""
    return price_cart(session, actor, cart, today=today, at=at)


def get_sale(session: Session, sale_ref: str, for_update: bool = False) -> Sale:
    """By UUID or by sale number (what the receipt barcode carries)."""
    ref = sale_ref.strip()
    col = Sale.uuid if _is_uuid(ref) else Sale.number
    stmt = select(Sale).where(col == ref)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    sale = session.scalars(stmt).one_or_none()
    if sale is None:
        raise ApiError("sale_not_found", status=404, ref=ref)
    return sale


def _is_uuid(s: str) -> bool:
    try:
        uuid.UUID(s)
    except ValueError:
        return False
    return True


def staff_names(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    return {sid: (u, n) for sid, u, n in session.execute(
        select(Staff.id, Staff.username, Staff.display_name).where(Staff.id.in_(ids)))}


PAYMENT_LABELS = PAYMENT_LABELS_ZH
