"""Checkout tables: sales, lines, payments, refunds, held orders, shifts, commissions.

A sale and everything it moves (payments, stored-value/points/count-card ledgers, stock,
commission, member aggregates, idempotency record) is written in ONE transaction.
Sale numbers are ``YYYYMMDD-CC-NNNN`` (business date, counter, per-day-and-counter sequence
from ``sale_sequences``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import TABLE_ARGS, Base, Fen, Timestamp, created_ts, intpk, str16, str32


class SaleSequence(Base):
    __tablename__ = "sale_sequences"
    __table_args__ = TABLE_ARGS

    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    counter: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # sale | refund
    last_no: Mapped[int] = mapped_column(Integer, default=0)


class Sale(Base):
    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("uuid"),
        UniqueConstraint("number"),
        Index("ix_sales_business_date_counter", "business_date", "counter"),
        Index("ix_sales_member_id_created_at", "member_id", "created_at"),
        Index("ix_sales_shift_id", "shift_id"),
        Index("ix_sales_created_at", "created_at"),
        # reports: covering (day / month / staff totals read the index only)
        Index("ix_sales_business_date_report", "business_date", "staff_id", "list_total",
              "total"),
        Index("ix_sales_origin_id", "origin", "id"),  # GET /sales?origin=offline
        # reports: spending per member in a period (index only)
        Index("ix_sales_business_date_member", "business_date", "member_id", "total"),
        # reports: the period's sales with a manual or order discount
        Index("ix_sales_business_date_discount", "business_date", "manual_discount",
              "order_discount"),
        TABLE_ARGS,
    )

    id: Mapped[intpk]
    uuid: Mapped[str] = mapped_column(String(36))
    number: Mapped[str] = mapped_column(String(24))
    status: Mapped[str16] = mapped_column(default="completed")  # completed|part_refunded|refunded
    business_date: Mapped[dt.date] = mapped_column(Date)
    counter: Mapped[str32]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    coupon_id: Mapped[int | None] = mapped_column()
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    list_total: Mapped[Fen]
    member_discount: Mapped[Fen]
    promotion_discount: Mapped[Fen] = mapped_column(default=0, server_default="0")  # 促销
    manual_discount: Mapped[Fen]
    count_card_discount: Mapped[Fen]
    coupon_discount: Mapped[Fen]
    order_discount: Mapped[Fen]
    rounding_discount: Mapped[Fen]
    total: Mapped[Fen]
    paid_total: Mapped[Fen]  # applied to the sale (= total)
    change: Mapped[Fen]  # cash change given
    refunded_total: Mapped[Fen] = mapped_column(default=0)
    points_earned: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[created_ts]  # an offline sale: when the counter recorded it
    # counter: rung up with the server | offline: recorded in the counter's journal while no
    # server answered, replayed later (``domain/offline_sales.py``)
    origin: Mapped[str] = mapped_column(String(8), default="counter",
                                        server_default="counter")
    offline_number: Mapped[str | None] = mapped_column(String(24))  # the counter's number


class OfflineDifference(Base):
    """What an offline sale did otherwise than the server would charge when it arrived (a
    price changed, a product inactive, a member unknown, the total, negative stock…): a
    manager's review list. Append-only; the sale stands as the counter made it."""

    __tablename__ = "offline_differences"
    __table_args__ = (Index("ix_offline_differences_sale_id", "sale_id"),
                      Index("ix_offline_differences_created_at", "created_at"), TABLE_ARGS)

    id: Mapped[intpk]
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"))
    kind: Mapped[str32]
    line_no: Mapped[int | None] = mapped_column(SmallInteger)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    counter_amount: Mapped[int | None] = mapped_column()
    server_amount: Mapped[int | None] = mapped_column()
    message: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[created_ts]


class SaleLine(Base):
    __tablename__ = "sale_lines"
    __table_args__ = (
        # the lines of a sale; covering for reports (category / product / margin)
        Index("ix_sale_lines_sale_id_report", "sale_id", "category_id", "product_id",
              "count_card_template_id", "qty", "list_amount", "amount", "cost"),
        Index("ix_sale_lines_product_id", "product_id"),
        Index("ix_sale_lines_activity_id", "activity_id"), TABLE_ARGS)

    id: Mapped[intpk]
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"))
    line_no: Mapped[int] = mapped_column(SmallInteger)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    count_card_template_id: Mapped[int | None] = mapped_column()  # a count card sold
    activity_id: Mapped[int | None] = mapped_column()  # an activity sign-up sold (活动报名)
    issued_count_card_id: Mapped[int | None] = mapped_column()  # the member's new card
    name: Mapped[str] = mapped_column(String(100))  # snapshot for receipts and reports
    kind: Mapped[str16]
    category_id: Mapped[int | None] = mapped_column()
    qty: Mapped[int]
    unit_price: Mapped[Fen]
    list_amount: Mapped[Fen]
    member_discount: Mapped[Fen]
    promotion_discount: Mapped[Fen] = mapped_column(default=0, server_default="0")
    promotion_id: Mapped[int | None] = mapped_column()  # the promotion that priced the line
    manual_discount: Mapped[Fen]
    count_card_discount: Mapped[Fen]
    coupon_discount: Mapped[Fen]
    order_discount: Mapped[Fen]
    rounding_discount: Mapped[Fen]
    amount: Mapped[Fen]
    price_source: Mapped[str16]
    count_card_id: Mapped[int | None] = mapped_column()
    cost: Mapped[int | None] = mapped_column()  # unit cost at the time (gross margin reports)
    staff_shares: Mapped[Any | None] = mapped_column(JSON)  # [{"staff_id", "share_bp"}]
    refunded_qty: Mapped[int] = mapped_column(default=0)
    refunded_amount: Mapped[Fen] = mapped_column(default=0)


class SalePayment(Base):
    __tablename__ = "sale_payments"
    # the payments of a sale; covering for the payment-method report
    __table_args__ = (Index("ix_sale_payments_sale_id_method", "sale_id", "method", "amount"),
                      TABLE_ARGS)

    id: Mapped[intpk]
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"))
    method: Mapped[str16]
    amount: Mapped[Fen]  # applied to the sale
    tendered: Mapped[int | None] = mapped_column()  # cash handed over
    change: Mapped[Fen] = mapped_column(default=0)
    reference: Mapped[str | None] = mapped_column(String(64))
    points: Mapped[int | None] = mapped_column()
    principal: Mapped[int | None] = mapped_column()  # stored value: principal part
    bonus: Mapped[int | None] = mapped_column()  # stored value: bonus part
    refunded: Mapped[Fen] = mapped_column(default=0)


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("uuid"), UniqueConstraint("number"),
                      Index("ix_refunds_sale_id", "sale_id"),
                      Index("ix_refunds_shift_id", "shift_id"),
                      Index("ix_refunds_business_date", "business_date", "staff_id", "total"),
                      TABLE_ARGS)

    id: Mapped[intpk]
    uuid: Mapped[str] = mapped_column(String(36))
    number: Mapped[str] = mapped_column(String(24))
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"))
    business_date: Mapped[dt.date] = mapped_column(Date)
    counter: Mapped[str32]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"))
    total: Mapped[Fen]
    points_reversed: Mapped[int] = mapped_column(default=0)  # earned points taken back
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reason: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[created_ts]


class RefundLine(Base):
    __tablename__ = "refund_lines"
    __table_args__ = (Index("ix_refund_lines_refund_id", "refund_id"), TABLE_ARGS)

    id: Mapped[intpk]
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"))
    sale_line_id: Mapped[int] = mapped_column(ForeignKey("sale_lines.id"))
    qty: Mapped[int]
    amount: Mapped[Fen]


class RefundPayment(Base):
    __tablename__ = "refund_payments"
    __table_args__ = (Index("ix_refund_payments_refund_id", "refund_id"), TABLE_ARGS)

    id: Mapped[intpk]
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"))
    sale_payment_id: Mapped[int] = mapped_column(ForeignKey("sale_payments.id"))
    method: Mapped[str16]
    amount: Mapped[Fen]
    points: Mapped[int | None] = mapped_column()


class HeldOrder(Base):
    """A parked cart (挂单), stored as versioned JSON so an upgrade never loses it."""

    __tablename__ = "held_orders"
    __table_args__ = TABLE_ARGS

    id: Mapped[intpk]
    version: Mapped[int] = mapped_column(SmallInteger)
    label: Mapped[str | None] = mapped_column(String(64))
    counter: Mapped[str32]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    payload: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[created_ts]


class Shift(Base):
    __tablename__ = "shifts"
    __table_args__ = (Index("ix_shifts_counter_status", "counter", "status"),
                      Index("ix_shifts_business_date", "business_date"), TABLE_ARGS)

    id: Mapped[intpk]
    counter: Mapped[str32]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str16] = mapped_column(default="open")  # open | closed
    business_date: Mapped[dt.date] = mapped_column(Date)
    opened_at: Mapped[created_ts]
    closed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    float_amount: Mapped[Fen]
    expected_cash: Mapped[int | None] = mapped_column()
    counted_cash: Mapped[int | None] = mapped_column()
    difference: Mapped[int | None] = mapped_column()
    denominations: Mapped[Any | None] = mapped_column(JSON)
    report: Mapped[Any | None] = mapped_column(JSON)  # frozen at close
    note: Mapped[str | None] = mapped_column(String(255))


class CommissionLedger(Base):
    """Append-only staff commission (提成): written with the sale, reversed by refunds."""

    __tablename__ = "commission_ledger"
    __table_args__ = (Index("ix_commission_ledger_staff_id_at", "staff_id", "at"),
                      Index("ix_commission_ledger_sale_line_id", "sale_line_id"), TABLE_ARGS)

    id: Mapped[intpk]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"))
    sale_line_id: Mapped[int] = mapped_column(ForeignKey("sale_lines.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    kind: Mapped[str16]  # sale | refund
    base_amount: Mapped[Fen]
    amount: Mapped[Fen]
    at: Mapped[created_ts]


class Approval(Base):
    """A manager's approval (e.g. a discount above the cashier's limit), given by the manager
    typing their password at the counter. Short-lived and used once by a sale."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("token_hash"), TABLE_ARGS)

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    purpose: Mapped[str32]
    counter: Mapped[str32]
    created_at: Mapped[created_ts]
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    used_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    used_ref: Mapped[str | None] = mapped_column(String(40))


class ReportDay(Base):
    """Report figures of one closed business day per dimension and key (``reports.py``): a
    cache of the sales tables, rebuilt from them at any time, never the source of truth.
    ``dim`` = day (k = '': the day's totals; its row marks the day as built) | staff |
    payment | category | product | hour (k = the UTC hour) | serving (k = staff id)."""

    __tablename__ = "report_days"
    __table_args__ = TABLE_ARGS

    dim: Mapped[str] = mapped_column(String(10), primary_key=True)
    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    k: Mapped[str] = mapped_column(String(40), primary_key=True)
    sales: Mapped[Fen]  # a count (payments for the payment dim, qty for lines)
    qty: Mapped[Fen]
    list_total: Mapped[Fen]
    total: Mapped[Fen]
    refunds: Mapped[Fen]
    cost: Mapped[Fen]
    margin_base: Mapped[Fen]
    refund_cost: Mapped[Fen]
    refund_margin_base: Mapped[Fen]
    commission: Mapped[Fen] = mapped_column(default=0, server_default="0")  # serving dim
    built_at: Mapped[created_ts]
