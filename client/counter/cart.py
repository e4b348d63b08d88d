"""The counter's cart: plain Python (no Qt), priced by the shared engine ``common.pricing``.

The Qt table model in ``client.counter.checkout`` is a thin view over :class:`Cart`. The member
(level discount), coupon, manual line discounts and count-card uses are inputs of
``pricing.quote`` for the instant (and offline) preview; :meth:`Cart.to_cart_in` turns the
cart into the server's ``CartIn`` (quote, sale, held order) — the server recomputes
everything and its figures win. The promotions (促销) come with the catalogue snapshot
(``Cart.promotions``, set by the counter from its local catalogue): the preview applies those
running now in shop time (``Cart.shop_zone``), as the server does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from common import pricing, timezones
from common.schemas.activities import ActivityOut
from common.schemas.catalog import ProductOut
from common.schemas.members import CouponOut, MemberOut
from common.serving import percent_text, shares_complete


class CartError(ValueError):
    """A cart change that cannot be made; ``str()`` is readable for the cashier."""


MAX_QTY = 9999  # the server's CartLineIn.qty limit


@dataclass(frozen=True)
class ServingShare:
    """A serving staff member (技师 / 导购) of a line and their share (basis points)."""

    staff_id: int
    name: str
    share_bp: int = 10_000


def serving_text(staff: tuple[ServingShare, ...] | list[ServingShare]) -> str:
    """``阿美`` alone, ``阿美 60%、小波 40%`` for several."""
    if len(staff) == 1:
        return staff[0].name
    return "、".join(f"{s.name} {percent_text(s.share_bp)}" for s in staff)


@dataclass(frozen=True)
class CartLine:
    line_id: str
    product_id: int
    name: str
    unit: str
    qty: int
    list_price: int
    kind: str = pricing.KIND_PRODUCT
    member_price: int | None = None
    category_id: int | None = None
    discountable: bool = True
    barcode: str = ""
    manual_discount_bp: int = 0  # percent OFF (1000 = 10% off), a cashier's line discount
    count_card_id: int | None = None  # paid by this member count card (次卡)
    count_card_name: str = ""
    open_price_allowed: bool = False  # an open-price item (the cashier enters its price)
    open_price: int | None = None  # the price the cashier entered (fen per unit)
    staff: tuple[ServingShare, ...] = ()  # who served the line (commission shares)
    activity_id: int | None = None  # a seat of a paid activity (活动报名) for the member

    @classmethod
    def for_activity(cls, activity: ActivityOut, name: str, unit: str) -> CartLine:
        """The cart line that sells one seat of ``activity`` (its price; no discount of
        the member's level, no promotion: the engine's ``activity`` kind)."""
        return cls(line_id=uuid.uuid4().hex, product_id=0, name=name, unit=unit, qty=1,
                   list_price=activity.price, kind=pricing.KIND_ACTIVITY,
                   discountable=False, activity_id=activity.id)

    @classmethod
    def from_product(cls, product: ProductOut, barcode: str = "", qty: int = 1,
                     open_price: int | None = None) -> CartLine:
        if open_price is not None and not product.open_price:
            raise CartError(f"“{product.name}”不能改价")
        return cls(line_id=uuid.uuid4().hex, product_id=product.id, name=product.name,
                   unit=product.unit, qty=qty, list_price=product.price,
                   kind=pricing.KIND_SERVICE if product.kind == "service"
                   else pricing.KIND_PRODUCT,
                   member_price=product.member_price, category_id=product.category_id,
                   discountable=product.discountable, barcode=barcode,
                   open_price_allowed=product.open_price, open_price=open_price)

    @property
    def unit_price(self) -> int:
        """The price shown on the line: the entered one of an open-price item, else the list
        price."""
        return self.open_price if self.open_price is not None else self.list_price

    def price_line(self) -> pricing.PriceLine:
        return pricing.PriceLine(line_id=self.line_id, product_id=self.product_id, qty=self.qty,
                                 list_price=self.list_price, kind=self.kind,
                                 category_id=self.category_id, member_price=self.member_price,
                                 discountable=self.discountable,
                                 manual_discount_bp=(0 if self.count_card_id is not None
                                                     else self.manual_discount_bp),
                                 count_card_id=self.count_card_id,
                                 open_price=self.open_price,
                                 open_price_allowed=self.open_price_allowed)

    def line_in(self) -> dict[str, Any]:
        """This line as a ``CartLineIn`` (the server looks the prices up itself)."""
        if self.activity_id is not None:
            out: dict[str, Any] = {"activity_id": self.activity_id, "qty": self.qty}
            if self.manual_discount_bp:
                out["manual_discount_bp"] = self.manual_discount_bp
            return out
        out = {"product_id": self.product_id, "qty": self.qty}
        if self.open_price is not None:
            out["open_price"] = self.open_price
        if self.count_card_id is not None:
            out["count_card_id"] = self.count_card_id
        elif self.manual_discount_bp:
            out["manual_discount_bp"] = self.manual_discount_bp
        if self.staff:
            out["staff"] = [{"staff_id": st.staff_id, "share_bp": st.share_bp}
                            for st in self.staff]
        return out


def check_qty(qty: int) -> None:
    if qty < 1 or qty > MAX_QTY:
        raise CartError(f"数量应在 1 到 {MAX_QTY} 之间")


def pricing_member(info: MemberOut) -> pricing.Member:
    return pricing.Member(level_id=info.level_id, level_discount_bp=info.discount_bp or 10_000,
                          member_id=info.id)


def pricing_coupon(c: CouponOut) -> pricing.Coupon:
    return pricing.Coupon(coupon_id=c.id, kind=c.kind, amount_fen=c.amount_fen,
                          percent_bp=c.percent_bp, threshold_fen=c.threshold_fen,
                          category_ids=tuple(c.category_ids))


@dataclass
class Cart:
    lines: list[CartLine] = field(default_factory=list)
    member: pricing.Member | None = None  # pricing view of ``member_info``
    member_info: MemberOut | None = None  # the member attached by the member panel
    coupon: CouponOut | None = None
    approval_token: str | None = None  # a manager's approval for a discount above the limit
    order_discount_bp: int = 0  # whole-order percent OFF (9.5折 = 500), set at payment
    rounding: str = "none"  # 抹零 at payment: none / jiao / yuan (up to the shop's rule)
    #: the shop's promotions (from the catalogue snapshot) and its time zone (shop time)
    promotions: list[pricing.Promotion] = field(default_factory=list)
    shop_zone: str = ""

    def shop_now(self) -> dt.datetime:
        """Now in naive shop time (what the promotions' windows are in)."""
        try:
            tz = timezones.zone(self.shop_zone)
        except ValueError:
            tz = timezones.zone("")
        return dt.datetime.now(tz).replace(tzinfo=None)

    def merge_row(self, product: ProductOut) -> int | None:
        """The line a new unit of ``product`` adds to (None: it gets a line of its own; an
        open-price item always does, each with its own price)."""
        if product.open_price:
            return None
        return next((i for i, line in enumerate(self.lines)
                     if line.product_id == product.id and line.open_price is None), None)

    def add_product(self, product: ProductOut, barcode: str = "", qty: int = 1,
                    open_price: int | None = None) -> int:
        """Add ``qty`` units; the same product scanned again adds to its line. Returns the
        row."""
        check_qty(qty)
        i = self.merge_row(product)
        if i is not None:
            line = self.lines[i]
            check_qty(line.qty + qty)
            self.lines[i] = replace(line, qty=line.qty + qty)
            return i
        self.lines.append(CartLine.from_product(product, barcode, qty, open_price))
        return len(self.lines) - 1

    def set_qty(self, row: int, qty: int) -> None:
        check_qty(qty)
        self.lines[row] = replace(self.lines[row], qty=qty)

    def remove(self, row: int) -> CartLine:
        """Remove the line at ``row`` and return it (to put it back: :meth:`insert`)."""
        return self.lines.pop(row)

    def insert(self, row: int, line: CartLine) -> int:
        """Put a removed line back at ``row`` (or at the end); a count card of a member who
        is no longer attached is dropped. Returns the row."""
        if line.count_card_id is not None and self.member_info is None:
            line = replace(line, count_card_id=None, count_card_name="")
        row = max(0, min(row, len(self.lines)))
        self.lines.insert(row, line)
        return row

    def clear(self) -> None:
        self.lines.clear()
        self.set_member(None)
        self.order_discount_bp = 0
        self.rounding = "none"

    def set_member(self, info: MemberOut | None) -> None:
        """Attach (or remove) the member; a coupon or count card of another member goes."""
        if info is None or self.member_info is None or info.id != self.member_info.id:
            self.coupon = None
            self.lines = [replace(ln, count_card_id=None, count_card_name="")
                          for ln in self.lines]
        self.member_info = info
        self.member = pricing_member(info) if info is not None else None

    def set_coupon(self, coupon: CouponOut | None) -> None:
        self.coupon = coupon

    def set_line_discount(self, row: int, off_bp: int) -> None:
        if not 0 <= off_bp <= 10_000:
            raise CartError("折扣应在 0% 到 100% 之间")
        self.lines[row] = replace(self.lines[row], manual_discount_bp=off_bp)
        self.approval_token = None

    def set_order_discount(self, off_bp: int) -> None:
        """The whole-order discount (percent OFF; ``common.payment.parse_zhe`` reads 折)."""
        if not 0 <= off_bp < 10_000:
            raise CartError("折扣应大于 0 折、不超过 10 折")
        if off_bp != self.order_discount_bp:
            self.order_discount_bp = off_bp
            self.approval_token = None

    def set_rounding(self, rounding: str) -> None:
        if rounding not in pricing.ROUNDING_UNITS:
            raise CartError("抹零方式无效")
        self.rounding = rounding

    def set_count_card(self, row: int, card_id: int | None, name: str = "") -> None:
        if card_id is not None and self.member_info is None:
            raise CartError("使用次卡需要先选择会员")
        self.lines[row] = replace(self.lines[row], count_card_id=card_id,
                                  count_card_name=name if card_id is not None else "")

    def set_staff(self, row: int, staff: list[ServingShare] | tuple[ServingShare, ...]) -> None:
        """Who served the line (empty: nobody); the shares must make 100 %."""
        if staff and not shares_complete([st.share_bp for st in staff]):
            raise CartError("服务人员分成合计必须为 100%")
        self.lines[row] = replace(self.lines[row], staff=tuple(staff))

    @property
    def has_manual_discount(self) -> bool:
        return any(ln.manual_discount_bp for ln in self.lines)

    def to_cart_in(self) -> dict[str, Any]:
        """The ``CartIn`` body for ``/sales/quote``, ``/sales`` and ``/held-orders``."""
        body: dict[str, Any] = {"lines": [ln.line_in() for ln in self.lines]}
        if self.member_info is not None:
            body["member_id"] = self.member_info.id
        if self.coupon is not None:
            body["coupon_id"] = self.coupon.id
        if self.approval_token:
            body["approval_token"] = self.approval_token
        if self.order_discount_bp:
            body["order_discount_bp"] = self.order_discount_bp
        if self.rounding != "none":
            body["rounding"] = self.rounding
        return body

    @property
    def item_count(self) -> int:
        return sum(line.qty for line in self.lines)

    def quote(self, at: dt.datetime | None = None) -> pricing.Quote:
        """Live totals from the shared engine (the server recomputes at checkout), with the
        promotions running ``at`` (naive shop time; default now). Level prices are not known
        here: the server quote (see the checkout screen) has them."""
        return pricing.quote([line.price_line() for line in self.lines], self.member,
                             pricing_coupon(self.coupon) if self.coupon else None,
                             order_discount_bp=self.order_discount_bp, rounding=self.rounding,
                             approved=True, promotions=self.promotions,
                             at=at or self.shop_now())
