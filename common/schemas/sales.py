"""Checkout schemas: the cart (shared by quote, sale and held orders), payments, sales,
refunds, held orders, shifts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import Field, model_validator

from .base import (
    MAX_AMOUNT_FEN,
    AmountFen,
    ApiModel,
    DbId,
    PageQuery,
    Points,
    PriceFen,
    UtcDatetime,
)

Rounding = Literal["none", "jiao", "yuan"]
PaymentMethod = Literal["cash", "card", "wechat", "alipay", "stored_value", "points"]
PAYMENT_LABELS_ZH = {"cash": "现金", "card": "银行卡", "wechat": "微信", "alipay": "支付宝",
                     "stored_value": "储值", "points": "积分"}
HELD_ORDER_VERSION = 1


class StaffShare(ApiModel):
    """A serving staff member (技师/导购) of a line and their share of its commission."""

    staff_id: DbId
    share_bp: int = Field(10_000, gt=0, le=10_000, description="share in basis points")


class CartLineIn(ApiModel):
    product_id: DbId | None = Field(None, description="a product or service ...")
    count_card_template_id: DbId | None = Field(None, description="... or a count card (次卡) "
                                                                 "sold to the member")
    activity_id: DbId | None = Field(None, description="... or a seat of a paid activity "
                                                       "(活动报名) for the member, qty 1")
    qty: int = Field(gt=0, le=9999)
    open_price: PriceFen | None = Field(None,
                                         description="open-price items only")
    manual_discount_bp: int = Field(0, ge=0, le=10_000, description="percent OFF, bp")
    manual_discount_fen: PriceFen = 0
    count_card_id: DbId | None = Field(None, description="pay this line with a count card")
    staff: list[StaffShare] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _one_discount(self):
        if sum(x is not None for x in (self.product_id, self.count_card_template_id,
                                       self.activity_id)) != 1:
            raise ValueError("每行需要商品、次卡套餐或活动其中之一")
        if self.manual_discount_bp and self.manual_discount_fen:
            raise ValueError("折扣只能按比例或按金额其中一种")
        if self.staff and sum(s.share_bp for s in self.staff) != 10_000:
            raise ValueError("服务人员分成合计必须为 100%")
        if len({s.staff_id for s in self.staff}) != len(self.staff):
            raise ValueError("同一服务人员在一行中只能出现一次")
        return self


class CartIn(ApiModel):
    lines: list[CartLineIn] = Field(min_length=1, max_length=200)
    member_id: DbId | None = None
    coupon_id: DbId | None = None
    order_discount_bp: int = Field(0, ge=0, le=10_000, description="percent OFF, bp")
    order_discount_fen: PriceFen = 0
    rounding: Rounding = "none"
    approval_token: str | None = Field(None, max_length=64,
                                       description="a manager's approval for a discount "
                                                   "above the cashier's limit")


class PaymentIn(ApiModel):
    method: PaymentMethod
    amount: AmountFen = Field(gt=0, description="applied to the sale")
    tendered: AmountFen | None = Field(None, description="cash handed over (cash only)")
    reference: str | None = Field(None, max_length=64, description="card/WeChat/Alipay ref")
    points: Points | None = Field(None, gt=0, description="points redeemed (points only)")
    card_no: str | None = Field(None, max_length=32, description="member card presented")
    pin: str | None = Field(None, max_length=12, description="member payment PIN")

    @model_validator(mode="after")
    def _method_fields(self):
        if self.tendered is not None and self.method != "cash":
            raise ValueError("只有现金支付可以填写实收金额")
        if self.tendered is not None and self.tendered < self.amount:
            raise ValueError("实收现金少于应付金额")
        if self.method == "points" and not self.points:
            raise ValueError("积分支付需要填写积分数")
        return self


OFFLINE_METHODS = ("cash", "card", "wechat", "alipay")
SaleOrigin = Literal["counter", "offline"]


class OfflineSaleIn(ApiModel):
    """A sale the counter made while no server answered, replayed from its journal: the
    server records it with the counter's time and amounts (and lists what it would charge
    today apart, ``GET /sales/offline-differences``)."""

    number: str = Field(min_length=1, max_length=24, description="the counter's local "
                                                                 "number, e.g. 01-L000123")
    recorded_at: UtcDatetime = Field(description="when the counter recorded the sale")
    total: AmountFen = Field(description="the total the counter charged")
    line_amounts: list[AmountFen] = Field(min_length=1, max_length=200,
                                          description="each line's amount as the counter "
                                                      "priced it, in the order of lines")
    member_ref: str | None = Field(None, min_length=1, max_length=32,
                                   description="a member the cashier attached offline by "
                                               "card number or full phone number; the server "
                                               "resolves it at replay (points and visit)")
    cashier_id: DbId | None = Field(None, ge=1, description="the staff id of the cashier "
                                                           "logged in when the sale was made")

    @model_validator(mode="after")
    def _sum(self):
        if sum(self.line_amounts) != self.total:
            raise ValueError("各行金额之和与合计不符")
        return self


class SaleIn(CartIn):
    id: uuid.UUID = Field(description="client-made UUID: the sale's identity and its "
                                      "idempotency key")
    payments: list[PaymentIn] = Field(min_length=0, max_length=10)
    note: str | None = Field(None, max_length=255)
    offline: OfflineSaleIn | None = Field(None, description="a sale made offline, replayed "
                                                            "from the counter's journal")

    @model_validator(mode="after")
    def _offline_lines(self):
        if self.offline is not None and len(self.offline.line_amounts) != len(self.lines):
            raise ValueError("离线销售的行金额数与商品行数不符")
        return self


# -- results --------------------------------------------------------------------------------
class QuoteLineOut(ApiModel):
    line_id: str
    product_id: int
    name: str
    kind: str
    qty: int
    unit_price: int
    list_amount: int
    member_discount: int
    manual_discount: int
    count_card_discount: int
    coupon_discount: int
    order_discount: int
    rounding_discount: int
    amount: int
    price_source: str
    count_card_id: int | None = None
    promotion_discount: int = 0
    promotion_id: int | None = None
    promotion_name: str | None = Field(None, description="the promotion that priced the "
                                                         "line: the receipt's reason")
    activity_id: int | None = None


class QuoteOut(ApiModel):
    lines: list[QuoteLineOut]
    list_total: int
    member_discount: int
    manual_discount: int
    count_card_discount: int
    coupon_discount: int
    order_discount: int
    rounding_discount: int
    total: int
    coupon_id: int | None = None
    needs_approval: bool = False
    promotion_discount: int = 0
    points_multiplier: int = Field(1, description="earned points × this (a points "
                                                  "promotion, 积分倍数)")


class PaymentOut(ApiModel):
    method: str
    label: str
    amount: int
    tendered: int | None = None
    change: int = 0
    reference: str | None = None
    points: int | None = None
    refunded: int = 0


class MemberAfterOut(ApiModel):
    id: int
    name: str
    phone: str | None = None
    level_name: str | None = None
    stored_value: int | None = None
    points: int | None = None
    points_earned: int = 0
    count_cards: list[dict[str, Any]] = Field(default_factory=list)


class ServingShareOut(StaffShare):
    """A line's serving staff member as recorded, with the name the receipt prints."""

    name: str = ""


class SaleLineOut(QuoteLineOut):
    id: int
    refunded_qty: int = 0
    refunded_amount: int = 0
    staff: list[ServingShareOut] = Field(default_factory=list)


class SaleOut(ApiModel):
    id: uuid.UUID
    number: str
    status: str
    counter: str
    cashier: str
    cashier_name: str
    created_at: UtcDatetime
    business_date: dt.date
    lines: list[SaleLineOut]
    list_total: int
    discount_total: int
    total: int
    paid_total: int
    change: int
    payments: list[PaymentOut]
    member: MemberAfterOut | None = None
    refunded_total: int = 0
    approved_by: str | None = None
    note: str | None = None
    stock_warnings: list[str] = Field(default_factory=list)
    origin: SaleOrigin = "counter"
    offline_number: str | None = Field(None, description="the counter's local number of a "
                                                         "sale made offline")


class SaleQuery(PageQuery):
    q: str | None = Field(None, max_length=40, description="sale number")
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    member_id: DbId | None = None
    counter: str | None = Field(None, max_length=32)
    total_min: int | None = Field(None, ge=0, le=MAX_AMOUNT_FEN,
                                  description="total in fen, at least")
    total_max: int | None = Field(None, ge=0, le=MAX_AMOUNT_FEN,
                                  description="total in fen, at most")
    origin: SaleOrigin | None = Field(None, description="offline: only sales made offline")

    @model_validator(mode="after")
    def _total_range(self):
        if (self.total_min is not None and self.total_max is not None
                and self.total_min > self.total_max):
            raise ValueError("金额下限不能大于上限")
        return self


class SaleSummaryOut(ApiModel):
    id: uuid.UUID
    number: str
    status: str
    counter: str
    created_at: UtcDatetime
    total: int
    refunded_total: int
    member_id: int | None
    member_name: str | None = None
    cashier_name: str = ""
    origin: SaleOrigin = "counter"
    offline_number: str | None = None


OfflineDifferenceKind = Literal["price_changed", "product_inactive", "member_unknown",
                                "total_differs", "stock_negative", "staff_unknown",
                                "no_shift", "cashier_unknown"]


class OfflineDifferenceQuery(PageQuery):
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    counter: str | None = Field(None, max_length=32)


class OfflineDifferenceOut(ApiModel):
    """One thing an offline sale did otherwise than the server would charge today (for a
    manager to review; the sale stands as the counter made it)."""

    id: int
    sale_id: uuid.UUID
    sale_number: str
    offline_number: str | None
    counter: str
    business_date: dt.date
    recorded_at: UtcDatetime
    kind: OfflineDifferenceKind
    line_no: int | None = None
    product_id: int | None = None
    counter_amount: int | None = Field(None, description="what the counter charged (fen)")
    server_amount: int | None = Field(None, description="what the server would charge (fen)")
    message: str


# -- refunds --------------------------------------------------------------------------------
class RefundLineIn(ApiModel):
    line_id: DbId
    qty: int = Field(gt=0, le=9999)


class RefundIn(ApiModel):
    id: uuid.UUID = Field(description="client-made UUID of the refund")
    lines: list[RefundLineIn] | None = Field(None, description="omit for a whole refund")
    reason: str = Field(min_length=1, max_length=255)
    approval_token: str | None = Field(None, max_length=64,
                                       description="a manager's approval (POST /approvals, "
                                                   "purpose refund) when a cashier refunds")


class RefundOut(ApiModel):
    id: uuid.UUID
    number: str
    approved_by: str | None = None
    sale_id: uuid.UUID
    sale_number: str
    total: int
    reason: str
    created_at: UtcDatetime
    lines: list[dict[str, Any]]
    payments: list[PaymentOut]
    member: MemberAfterOut | None = None


# -- held orders ----------------------------------------------------------------------------
class HeldOrderIn(ApiModel):
    label: str | None = Field(None, max_length=64, description="e.g. the customer's name")
    cart: CartIn


class HeldOrderOut(ApiModel):
    id: int
    version: int
    label: str | None
    counter: str
    staff_id: int | None
    created_at: UtcDatetime
    line_count: int
    cart: CartIn


# -- shifts ---------------------------------------------------------------------------------
class ShiftOpenIn(ApiModel):
    float_amount: PriceFen = Field(description="cash float (备用金)")


class CashCountIn(ApiModel):
    """Counted cash by denomination: value in fen → number of notes/coins."""

    denominations: dict[int, int] = Field(description="e.g. {10000: 3, 5000: 1, 100: 7}")
    note: str | None = Field(None, max_length=255)

    @model_validator(mode="after")
    def _valid(self):
        allowed = {10000, 5000, 2000, 1000, 500, 100, 50, 10, 5, 1}
        for value, n in self.denominations.items():
            if value not in allowed:
                raise ValueError(f"不支持的面额：{value} 分")
            if n < 0 or n > 100_000:
                raise ValueError("张数不正确")
        return self


class ShiftReportOut(ApiModel):
    id: int
    counter: str
    staff_id: int
    cashier: str
    status: str
    opened_at: UtcDatetime
    closed_at: UtcDatetime | None
    float_amount: int
    sales_count: int
    sales_total: int
    refunds_count: int
    refunds_total: int
    recharges_count: int
    recharges_total: int
    by_method: dict[str, int] = Field(description="sales only: payment method → amount")
    recharges_by_method: dict[str, int] = Field(
        default_factory=dict, description="recharges (充值, principal): method → amount")
    count_cards_count: int = 0
    count_cards_total: int = 0
    count_cards_by_method: dict[str, int] = Field(
        default_factory=dict, description="count cards sold outside a sale: method → amount")
    cash_in: int
    change_given: int
    cash_refunds: int
    expected_cash: int
    counted_cash: int | None
    difference: int | None
    denominations: dict[int, int] | None = None


class DayCloseOut(ApiModel):
    business_date: dt.date
    shifts: list[ShiftReportOut]
    sales_count: int
    sales_total: int
    refunds_total: int
    recharges_total: int
    by_method: dict[str, int]
    recharges_by_method: dict[str, int] = Field(default_factory=dict)
    count_cards_total: int = 0
    count_cards_by_method: dict[str, int] = Field(default_factory=dict)
    expected_cash: int
    counted_cash: int
    difference: int
    open_shifts: int


# -- approvals and commission ---------------------------------------------------------------
class ApprovalIn(ApiModel):
    username: str = Field(min_length=1, max_length=32, description="the approving manager")
    password: str = Field(min_length=1, max_length=128)
    purpose: Literal["discount", "refund", "open_price"] = "discount"


class ApprovalOut(ApiModel):
    approval_token: str
    approver: str
    approver_name: str
    expires_at: UtcDatetime


class CommissionQuery(ApiModel):
    date_from: dt.date
    date_to: dt.date
    staff_id: DbId | None = None


class CommissionTotalOut(ApiModel):
    staff_id: int
    username: str
    name: str
    commission: int
    base: int
    entries: int


class MyCommissionQuery(ApiModel):
    """A period of business days (both inclusive)."""

    date_from: dt.date
    date_to: dt.date

    @model_validator(mode="after")
    def _range(self):
        if self.date_to < self.date_from:
            raise ValueError("结束日期不能早于开始日期")
        if (self.date_to - self.date_from).days > 366:
            raise ValueError("日期范围最长 1 年")
        return self


class CommissionLineOut(ApiModel):
    """A line the staff member served (技师 / 导购), or a refund of one: ``served`` is their
    share of the line's amount (negative for a refund), ``commission`` their commission."""

    at: UtcDatetime
    kind: Literal["sale", "refund"]
    sale_number: str
    item: str
    share_bp: int
    served: int
    commission: int


class MySalesOut(ApiModel):
    """``GET /commissions/mine``: the logged-in staff member's own figures for a period.

    ``served_*``: lines they served (their share of each line's amount; refunds on the
    refund's day); ``commission``: net commission (sales minus refunds); ``cashier_*``: the
    sales they rang up at a counter themselves. ``lines``: newest first, at most 200."""

    staff_id: int
    username: str
    name: str
    date_from: dt.date
    date_to: dt.date
    served_sales: int
    served_amount: int
    served_refunds: int
    commission: int
    cashier_sales: int
    cashier_total: int
    lines: list[CommissionLineOut]
    more_lines: bool = False


class DayCloseQuery(ApiModel):
    date: dt.date | None = None
