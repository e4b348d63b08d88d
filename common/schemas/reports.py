"""Sales reports (报表): a period's sales grouped by day, month, payment method, category,
product (top N), hour of the day (the shop's: when customers come), staff (the cashier who
rang the sale up) or serving staff (技师 / 导购 of the
lines: their share of each line, and their commission). All money in integer fen."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from .base import ApiModel, PageQuery, UtcDatetime

ReportGroup = Literal["day", "month", "hour", "payment", "category", "product", "staff",
                      "serving"]
MAX_REPORT_DAYS = 366 * 3


def check_period(date_from: dt.date | None, date_to: dt.date | None) -> None:
    """A report period: ``date_to`` not before ``date_from``, at most 3 years (ValueError
    with the message the cashier reads)."""
    if date_from is None or date_to is None:
        return
    if date_to < date_from:
        raise ValueError("结束日期不能早于开始日期")
    if (date_to - date_from).days >= MAX_REPORT_DAYS:
        raise ValueError("日期范围最长 3 年")


class PeriodQuery(ApiModel):
    """A period of business days ``date_from``..``date_to`` (inclusive): every report."""

    date_from: dt.date = Field(description="first business day (inclusive)")
    date_to: dt.date = Field(description="last business day (inclusive)")

    @model_validator(mode="after")
    def _range(self):
        check_period(self.date_from, self.date_to)
        return self


class SalesReportQuery(PeriodQuery):
    group: ReportGroup = "day"
    top: int = Field(20, ge=1, le=500, description="product group: the N best by net sales")


class ReportRowOut(ApiModel):
    """One group. ``sales``: completed sales counted in the period (by their business day);
    ``refunds``: money refunded in the period (by the refund's business day); ``net`` =
    ``total`` − ``refunds``. ``cost``/``margin`` cover only lines whose unit cost was known
    at the time (services usually have none); ``margin`` = their net amount − their net cost.
    For the payment group ``list_total``/``discount`` are 0 and ``total`` is what each method
    took. For the serving group (by serving staff): ``sales`` = sales they served, ``total``
    = their share of the lines' amounts, ``refunds`` = their share of refunded lines,
    ``commission`` = their net commission (commission ledger)."""

    key: str
    label: str
    sales: int = Field(description="number of sales (of lines for category/product)")
    qty: int = Field(0, description="quantity of goods and services sold (0 for the payment "
                     "and hour groups)")
    list_total: int
    discount: int
    total: int
    refunds: int
    net: int
    cost: int = 0
    margin: int = 0
    margin_base: int = Field(0, description="net amount of the lines with a known cost")
    commission: int = Field(0, description="serving group: net commission (提成)")


class SalesReportOut(ApiModel):
    date_from: dt.date
    date_to: dt.date
    group: ReportGroup
    rows: list[ReportRowOut]
    totals: ReportRowOut
    truncated: bool = Field(False, description="product group: more products than ``top``")
    offline_sales: int = Field(0, description="of these, sales replayed from a counter's "
                               "offline journal (origin offline), every group")
    offline_total: int = Field(0, description="their total (fen)")


# -- the owner's reports (#17): members, count cards, stock, exceptions, member lists -------
# Liabilities (stored value, points, count cards) are read from the cached balances on the
# member and card rows (always equal to their ledgers: ``lanpos-server verify``); a period's
# movements from the ledgers' ``at`` (the period's business days turned into a UTC range by
# the shop clock); sales by their business day, refunds by the refund's business day.


class MemberReportQuery(PeriodQuery):
    top: int = Field(20, ge=1, le=500, description="how many of the best-spending members")


class TopMemberOut(ApiModel):
    member_id: int
    number: str = Field(description="member number")
    name: str = Field(description="the name as stored (an anonymised member shows what is "
                                  "stored)")
    sales: int = Field(description="sales in the period")
    total: int = Field(description="their totals (fen)")
    balance: int = Field(description="stored value now, principal + bonus (fen)")


class MemberReportOut(ApiModel):
    """会员报表. ``liability_*``, ``members_with_*`` and ``points_outstanding`` are now (every
    member, active or not: the shop owes them all); the rest is the period's."""

    date_from: dt.date
    date_to: dt.date
    members: int = Field(description="active members now")
    new_members: int = Field(description="members created in the period")
    liability_principal: int = Field(description="stored value owed now: principal (fen)")
    liability_bonus: int = Field(description="stored value owed now: bonus (赠送, fen)")
    liability_total: int = Field(description="principal + bonus (fen)")
    members_with_balance: int = Field(description="members with stored value > 0")
    points_outstanding: int = Field(description="points held by members now")
    members_with_points: int = Field(description="members with points > 0")
    recharge_count: int = Field(description="recharges in the period")
    recharge_principal: int = Field(description="money recharged (fen)")
    recharge_bonus: int = Field(description="bonus given with the recharges (fen)")
    sv_spent_principal: int = Field(description="stored value paid for sales, net of "
                                                "refunds to the card: principal (fen)")
    sv_spent_bonus: int = Field(description="the same: bonus (fen)")
    sv_cash_refunded: int = Field(description="principal paid back to members (退储值, fen)")
    sv_bonus_forfeited: int = Field(0, description="bonus forfeited by those refunds (fen)")
    sv_adjusted: int = Field(description="manual adjustments, principal + bonus (signed, fen)")
    sv_opening: int = Field(0, description="opening balances imported (signed, fen)")
    points_earned: int = Field(description="points earned by sales")
    points_redeemed: int = Field(description="points redeemed (paid with, gifts)")
    points_expired: int = Field(description="points expired")
    points_other: int = Field(0, description="adjustments, refunds' reversals, imports "
                                             "(signed)")
    member_sales: int = Field(description="sales with a member")
    member_total: int = Field(description="their totals (fen)")
    guest_sales: int = Field(description="sales without a member (散客)")
    guest_total: int = Field(description="their totals (fen)")
    top: list[TopMemberOut] = Field(description="the members who spent most in the period")


class CountCardReportRowOut(ApiModel):
    """One count-card package (次卡模板); cards whose template is gone: the 其他 row."""

    key: str = Field(description="template id, 'other' or 'total'")
    label: str
    sold: int = Field(description="cards bought in the period")
    sold_total: int = Field(description="their price (fen)")
    uses: int = Field(description="uses taken in the period, net of reversals")
    active_cards: int = Field(description="cards now not voided, not expired, uses left > 0")
    uses_left: int = Field(description="uses left on those cards")
    value_left: int = Field(description="Σ per card of price × uses left ÷ total uses, "
                                        "rounded down to the fen per card (fen)")
    expired_uses_left: int = Field(description="uses left on expired cards (not owed any "
                                               "more)")


class CountCardReportOut(ApiModel):
    """次卡报表: uses in the period and the liability now (``member_count_cards``' cached
    remaining uses)."""

    date_from: dt.date
    date_to: dt.date
    rows: list[CountCardReportRowOut]
    totals: CountCardReportRowOut


class StockCategoryRowOut(ApiModel):
    key: str = Field(description="category id, '0' uncategorised, 'total'")
    label: str
    products: int = Field(description="stock-tracked products")
    qty: int = Field(description="units on hand (products with stock > 0)")
    value: int = Field(description="Σ stock × cost of those with a known cost (fen)")


class LowStockRowOut(ApiModel):
    product_id: int
    sku: str | None
    name: str
    unit: str
    stock: int
    low_stock: int = Field(description="the product's low-stock threshold")
    cost: int | None = Field(description="unit cost (fen), if known")


class StockMovementRowOut(ApiModel):
    kind: str = Field(description="opening | purchase | sale | refund | adjust | count, "
                                  "'total'")
    label: str = Field(description="期初 / 进货 / 销售 / 退货 / 调整 / 盘点")
    entries: int = Field(description="stock-ledger entries")
    qty_in: int = Field(description="units in")
    qty_out: int = Field(description="units out (positive)")
    net: int = Field(description="qty_in − qty_out")


class StockReportOut(ApiModel):
    """库存报表: value and low stock now (products' cached stock), movements in the period
    (stock ledger). Every stock-tracked product counts, active or not (stock on the shelf)."""

    date_from: dt.date
    date_to: dt.date
    value_at_cost: int = Field(description="Σ stock × cost of tracked products with stock > 0 "
                                           "and a known cost (fen)")
    tracked_products: int = Field(description="products whose stock is tracked")
    products_without_cost: int = Field(description="tracked, stock > 0, cost unknown (not in "
                                                   "the value)")
    negative_stock: int = Field(description="tracked products with stock < 0")
    categories: list[StockCategoryRowOut]
    categories_total: StockCategoryRowOut
    low_stock: list[LowStockRowOut] = Field(description="active tracked products at or below "
                                                        "their threshold, shortest first")
    low_stock_truncated: bool = Field(description="more than 500 low-stock products")
    movements: list[StockMovementRowOut]
    movements_total: StockMovementRowOut


class ExceptionsQuery(PeriodQuery):
    limit: int = Field(200, ge=1, le=500, description="rows per list at most")


class RefundExceptionOut(ApiModel):
    number: str = Field(description="refund number")
    sale_number: str
    at: UtcDatetime
    counter: str
    cashier: str = Field(description="who made the refund")
    approved_by: str | None = Field(description="the manager who approved it, if any")
    reason: str
    total: int = Field(description="money refunded (fen)")


class DiscountExceptionOut(ApiModel):
    number: str = Field(description="sale number")
    at: UtcDatetime
    counter: str
    cashier: str
    approved_by: str | None = Field(description="the manager who approved it, if any")
    list_total: int = Field(description="(fen)")
    discount: int = Field(description="manual + order discount (fen)")
    total: int = Field(description="(fen)")


class VoidExceptionOut(ApiModel):
    kind: Literal["coupon", "count_card"]
    ref: str = Field(description="coupon code, or the count card's name and id")
    member: str | None = Field(description="the member's name (number)")
    at: UtcDatetime
    by: str | None = Field(description="who voided it")
    reason: str | None


class ExceptionsReportOut(ApiModel):
    """退款、折扣、作废: each list ordered by time, at most ``limit`` rows (``*_truncated``);
    the counts and totals cover the whole period. Refunds by the refund's business day,
    discounts by the sale's; voids by their moment (the audit log)."""

    date_from: dt.date
    date_to: dt.date
    refunds: list[RefundExceptionOut]
    refund_count: int
    refund_total: int = Field(description="(fen)")
    refunds_truncated: bool
    discounts: list[DiscountExceptionOut] = Field(description="sales with a manual or order "
                                                              "discount")
    discount_count: int
    discount_total: int = Field(description="Σ manual + order discounts (fen)")
    discounts_truncated: bool
    voids: list[VoidExceptionOut] = Field(description="coupons and count cards voided")
    void_count: int
    voids_truncated: bool


MemberListKind = Literal["new", "dormant", "birthdays", "low_balance", "card_low",
                         "card_expiring"]
MEMBER_LIST_KINDS: tuple[str, ...] = ("new", "dormant", "birthdays", "low_balance", "card_low",
                                      "card_expiring")
MAX_CARE_THRESHOLD = 100_000_000  # ¥1,000,000 (MAX_PRICE_FEN)


class MemberListDef(ApiModel):
    """Which members a list holds (会员名单, 会员关怀): the report page, its count, the bulk
    coupon (``POST /coupons`` with ``members``) and the owner's export of the list's contacts
    read this one definition. Active members only.

    - ``new``: created in ``date_from``..``date_to``; ``dormant``: no visit in ``days``;
      ``birthdays``: this month / the 7 days from today (``scope``);
    - ``low_balance``: stored value (principal + bonus) above 0 and below ``threshold``
      (default: the membership setting ``care_low_balance``);
    - ``card_low``: a usable count card (not voided, not expired) with 1..``uses`` uses left;
    - ``card_expiring``: a count card with uses left that expires within ``days`` days."""

    kind: MemberListKind = Field(description="new | dormant | birthdays | low_balance | "
                                             "card_low | card_expiring")
    date_from: dt.date | None = Field(None, description="new: first business day")
    date_to: dt.date | None = Field(None, description="new: last business day")
    days: int = Field(60, ge=1, le=3650, description="dormant: days without a visit; "
                                                     "card_expiring: expires within (days)")
    scope: Literal["month", "week"] = Field("month", description="birthdays: this month, or "
                                                                 "the 7 days from today")
    threshold: int | None = Field(None, ge=1, le=MAX_CARE_THRESHOLD,
                                  description="low_balance: stored value below this (fen); "
                                              "none: the membership setting")
    uses: int = Field(2, ge=1, le=1000, description="card_low: uses left at most")

    @model_validator(mode="after")
    def _period(self):
        if self.kind == "new" and (self.date_from is None or self.date_to is None):
            raise ValueError("新会员名单需要开始和结束日期")
        check_period(self.date_from, self.date_to)
        return self

    def definition(self) -> dict:
        """What the list is, as the audit log records it (only what this kind reads)."""
        keep = {"new": ("date_from", "date_to"), "dormant": ("days",),
                "birthdays": ("scope",), "low_balance": ("threshold",),
                "card_low": ("uses",), "card_expiring": ("days",)}[self.kind]
        return {"kind": self.kind, **{k: v.isoformat() if isinstance(v, dt.date) else v
                                      for k, v in ((k, getattr(self, k)) for k in keep)}}


class MemberListQuery(MemberListDef, PageQuery):
    """A page of a member list."""


class MemberListCountOut(ApiModel):
    """How many members a list holds now (会员关怀: whom a bulk coupon will reach)."""

    count: int
    definition: dict = Field(description="the list's definition (threshold resolved)")


class MemberExportQuery(MemberListDef):
    """``GET /members/export``: every member, or (``kind``) only the members of a list — with
    their full phone numbers, to call them (owner only, audited)."""

    format: Literal["csv", "xlsx"] = "csv"
    kind: MemberListKind | None = Field(  # type: ignore[assignment]
        None, description="only this list's members; none: every member")

    def care_list(self) -> MemberListDef | None:
        if self.kind is None:
            return None
        return MemberListDef.model_validate(self.model_dump(exclude={"format"}))


class MemberListRowOut(ApiModel):
    """A member in a report list. ``phone`` is masked for every role (a report page can be
    exported to a file; ``common.privacy``)."""

    id: int
    number: str
    name: str
    phone: str | None = Field(description="masked: 138****5678")
    level: str | None = Field(description="member level's name")
    balance: int = Field(description="stored value, principal + bonus (fen)")
    points: int
    total_spent: int = Field(description="(fen)")
    visit_count: int
    last_visit_at: UtcDatetime | None
    birthday: dt.date | None
    created_at: UtcDatetime
    card: str | None = Field(None, description="card lists: the member's most urgent count "
                                               "card (fewest uses left / expiring first)")
    card_uses_left: int | None = Field(None, description="card lists: its uses left")
    card_expires_at: UtcDatetime | None = Field(None, description="card lists: its expiry")
