"""Turn a cart (``CartIn``) into the pricing engine's inputs and quote it.

The server never trusts a client's prices: list prices, member/level prices, level discount,
coupon terms, count-card eligibility, activity seat prices and the promotions running at the
moment of the sale (``promotions.for_pricing``) all come from the database here, then
``common.pricing.quote`` (the only implementation) computes the totals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import payment, pricing
from common.errors import ApiError
from common.schemas.base import Role
from common.schemas.sales import CartIn
from server.db.activities import Activity
from server.db.base import utcnow
from server.db.catalog import Product
from server.db.members import CountCardTemplate, Member, MemberCountCard, MemberLevel

from . import activities as activities_domain
from . import count_cards, coupons, promotions, settings, shop
from . import members as members_domain
from . import staff as staff_domain
from .actor import Actor
from .approvals import check_approval

# Maximum manual discount (percent OFF, basis points) per role without a manager's approval.
DEFAULT_MAX_DISCOUNT_BP = {Role.CASHIER: 1000, Role.MANAGER: 5000, Role.OWNER: 10_000}
ROUNDING_NAMES = {"none": ("不抹零", "no rounding"), "jiao": ("最多抹到角", "down to 0.10"),
                  "yuan": ("最多抹到元", "down to 1.00")}


def max_discount_bp(session: Session, role: Role) -> int:
    return int(settings.get(session, f"discount.max_bp.{role.value}",
                            DEFAULT_MAX_DISCOUNT_BP[role]))


@dataclass
class PricedCart:
    cart: CartIn
    quote: pricing.Quote
    products: dict[int, Product]
    templates: dict[int, CountCardTemplate]
    member: Member | None
    level: MemberLevel | None
    coupon_id: int | None
    count_cards: dict[int, MemberCountCard]
    approved_by: int | None
    activities: dict[int, Activity]


def _line_name(pc: PricedCart, idx: int) -> str:
    ln = pc.cart.lines[idx]
    if ln.count_card_template_id is not None:
        return pc.templates[ln.count_card_template_id].name
    if ln.activity_id is not None:
        return activities_domain.line_title(pc.activities[ln.activity_id])
    return pc.products[ln.product_id].name  # type: ignore[index]


def line_name(pc: PricedCart, idx: int) -> str:
    return _line_name(pc, idx)


def check_rounding(session: Session, rounding: str) -> None:
    """Refuse a 抹零 coarser than the shop allows (``ShopSettings.max_rounding``)."""
    allowed = shop.get(session).max_rounding
    if not payment.rounding_allowed(rounding, allowed):
        raise ApiError("rounding_not_allowed", status=422,
                       unit_zh=ROUNDING_NAMES[allowed][0], unit_en=ROUNDING_NAMES[allowed][1],
                       fields={"rounding": "本店不允许这样抹零"})


def price_cart(session: Session, actor: Actor, cart: CartIn, *,
               today: dt.date, at: dt.datetime | None = None) -> PricedCart:
    """Load everything the cart refers to, validate it, and quote it (no locks: a sale
    re-checks balances under its locks). Raises ApiError (4xx) for anything wrong.
    ``today``: the shop's business day (a coupon's validity dates); ``at``: the moment of
    the sale in naive shop time (the promotions running then; None: no promotion)."""
    now = utcnow()
    needed_uses: dict[int, int] = {}
    product_ids = sorted({ln.product_id for ln in cart.lines if ln.product_id is not None})
    template_ids = sorted({ln.count_card_template_id for ln in cart.lines
                           if ln.count_card_template_id is not None})
    products = {p.id: p for p in session.scalars(select(Product).where(
        Product.id.in_(product_ids)))} if product_ids else {}
    templates = {t.id: t for t in session.scalars(select(CountCardTemplate).where(
        CountCardTemplate.id.in_(template_ids)))} if template_ids else {}
    activity_ids = sorted({ln.activity_id for ln in cart.lines if ln.activity_id is not None})
    activities = {a.id: a for a in session.scalars(select(Activity).where(
        Activity.id.in_(activity_ids)))} if activity_ids else {}

    member = level = None
    if cart.member_id is not None:
        member = members_domain.get(session, cart.member_id)
        members_domain.require_active(member)
        if member.level_id is not None:
            level = session.get(MemberLevel, member.level_id)

    # serving staff (技师 / 导购) of the lines: active staff only
    staff_domain.check_serving(session, {s.staff_id for ln in cart.lines for s in ln.staff})

    count_cards_by_id: dict[int, MemberCountCard] = {}
    card_ids = sorted({ln.count_card_id for ln in cart.lines if ln.count_card_id is not None})
    if card_ids:
        if member is None:
            raise ApiError("count_card_needs_member", status=422)
        count_cards_by_id = {c.id: c for c in session.scalars(
            select(MemberCountCard).where(MemberCountCard.id.in_(card_ids)))}
    lines: list[pricing.PriceLine] = []
    for i, ln in enumerate(cart.lines):
        field = f"lines.{i}"
        if ln.count_card_template_id is not None:
            t = templates.get(ln.count_card_template_id)
            if t is None or not t.active:
                raise ApiError("not_found", status=404, what="次卡套餐",
                               fields={f"{field}.count_card_template_id": "次卡套餐不存在"})
            if member is None:
                raise ApiError("count_card_needs_member", status=422)
            lines.append(pricing.PriceLine(
                line_id=str(i), product_id=0, kind="count_card_sale", qty=ln.qty,
                list_price=t.price, discountable=False,
                manual_discount_bp=ln.manual_discount_bp,
                manual_discount_fen=ln.manual_discount_fen))
            continue
        if ln.activity_id is not None:
            if member is None:
                raise ApiError("activity_needs_member", status=422,
                               fields={f"{field}.activity_id": "活动报名需要先选择会员"})
            a = activities_domain.check_sellable(activities.get(ln.activity_id), member,
                                                 ln.qty, at, field=f"{field}.activity_id")
            if sum(1 for x in cart.lines if x.activity_id == a.id) > 1:
                raise ApiError("activity_one_seat", status=422,
                               fields={f"{field}.activity_id": "每位会员每个活动只能报名一个名额"})
            lines.append(pricing.PriceLine(
                line_id=str(i), product_id=0, kind=pricing.KIND_ACTIVITY, qty=ln.qty,
                list_price=a.price, discountable=False,
                manual_discount_bp=ln.manual_discount_bp,
                manual_discount_fen=ln.manual_discount_fen))
            continue
        p = products.get(ln.product_id)  # type: ignore[arg-type]
        if p is None or not p.active:
            raise ApiError("product_not_found", status=404, product_id=ln.product_id,
                           fields={f"{field}.product_id": "商品不存在或已下架"})
        if ln.open_price is not None and not p.open_price:
            raise ApiError("open_price_not_allowed", status=422, name=p.name,
                           fields={f"{field}.open_price": "该商品不能改价"})
        if p.open_price and ln.open_price is None and p.price == 0:
            raise ApiError("open_price_required", status=422, name=p.name,
                           fields={f"{field}.open_price": "请输入价格"})
        if ln.count_card_id is not None:
            card = count_cards_by_id.get(ln.count_card_id)
            if card is None:
                raise ApiError("not_found", status=404, what="次卡",
                               fields={f"{field}.count_card_id": "次卡不存在"})
            needed_uses[card.id] = needed_uses.get(card.id, 0) + ln.qty
            assert member is not None
            count_cards.check_usable(card, member.id, needed_uses[card.id], now)
            if card.product_id is not None and card.product_id != p.id:
                raise ApiError("count_card_wrong_service", status=422, name=card.name,
                               service=card.service_name,
                               fields={f"{field}.count_card_id":
                                       f"该次卡只能用于{card.service_name}"})
        lines.append(pricing.PriceLine(
            line_id=str(i), product_id=p.id, kind=p.kind, category_id=p.category_id,
            qty=ln.qty, list_price=p.price, member_price=p.member_price,
            open_price=ln.open_price, open_price_allowed=p.open_price,
            manual_discount_bp=ln.manual_discount_bp, manual_discount_fen=ln.manual_discount_fen,
            count_card_id=ln.count_card_id, discountable=p.discountable))

    if level is not None and product_ids:
        level_prices = members_domain.prices_for_products(session, product_ids)
        lines = [pricing.PriceLine.from_dict({**pl.to_dict(),
                                              "level_prices": level_prices[pl.product_id]})
                 if level_prices.get(pl.product_id) else pl for pl in lines]

    pricing_coupon = None
    if cart.coupon_id is not None:
        if member is None:
            raise ApiError("coupon_needs_member", status=422,
                           fields={"coupon_id": "使用优惠券需要先选择会员"})
        pricing_coupon = coupons.for_pricing(session, cart.coupon_id, member.id, today)

    check_rounding(session, cart.rounding)
    approved_by = None
    if cart.approval_token:
        approved_by = check_approval(session, cart.approval_token)
    pm = None
    if member is not None:
        pm = pricing.Member(level_id=level.id if level else None,
                            level_discount_bp=level.discount_bp if level else 10_000,
                            member_id=member.id)
    try:
        q = pricing.quote(lines, pm, pricing_coupon, order_discount_bp=cart.order_discount_bp,
                          order_discount_fen=cart.order_discount_fen,
                          max_discount_bp=max_discount_bp(session, actor.role),
                          approved=approved_by is not None, rounding=cart.rounding,
                          promotions=promotions.for_pricing(session, at), at=at)
    except pricing.PricingError as e:
        fields = {e.field: e.message} if getattr(e, "field", None) else None
        raise ApiError(e.code, status=422, message=e.message, fields=fields) from e
    if not q.needs_approval:
        approved_by = None
    return PricedCart(cart, q, products, templates, member, level, cart.coupon_id,
                      count_cards_by_id, approved_by, activities)
