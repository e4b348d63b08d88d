"""Membership tables: levels (and per-product level prices), members, member cards, stored
value, points, count cards (次卡), coupons, recharge bonus rules.

Cached balances on ``members`` (``sv_principal``, ``sv_bonus``, ``points``) and on
``member_count_cards`` (``remaining_uses``) always equal the sums of their append-only
ledgers (checked by ``lanpos-server verify``). Ledger rows are inserted, never updated.

Search indexes (1,000,000 members): ``phone`` (unique: full number and prefix),
``phone_last4`` (last 4 digits), ``pinyin`` (initials, prefix search ordered by pinyin),
``number`` (unique), ``member_cards.card_no`` (unique), ``name`` (exact name),
``birth_md`` (month*100+day, birthday lists).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import TABLE_ARGS, Base, Fen, Timestamp, created_ts, intpk, str16, str64, utcnow


class MemberLevel(Base):
    __tablename__ = "member_levels"
    __table_args__ = (UniqueConstraint("name"), TABLE_ARGS)

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer, default=0)  # higher = better
    discount_bp: Mapped[int] = mapped_column(Integer, default=10_000)  # RATE paid: 9000 = 9折
    points_per_yuan: Mapped[int] = mapped_column(Integer, default=1)
    upgrade_threshold: Mapped[int | None] = mapped_column()  # cumulative spend, fen
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_ts]


class LevelPrice(Base):
    """A fixed member price of one product for one level (used by the pricing engine)."""

    __tablename__ = "level_prices"
    __table_args__ = (Index("ix_level_prices_product_id", "product_id"), TABLE_ARGS)

    level_id: Mapped[int] = mapped_column(ForeignKey("member_levels.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    price: Mapped[Fen]


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("number"),
        UniqueConstraint("phone"),
        UniqueConstraint("external_id"),
        Index("ix_members_phone_last4", "phone_last4"),
        Index("ix_members_pinyin", "pinyin"),
        Index("ix_members_name", "name"),
        Index("ix_members_birth_md", "birth_md"),
        Index("ix_members_active_birth_md", "active", "birth_md"),  # birthday lists, counts
        Index("ix_members_level_id", "level_id"),
        Index("ix_members_created_at", "created_at"),  # reports: new members
        Index("ix_members_last_visit_at", "last_visit_at"),  # reports: dormant members
        # reports: the liability from the cached balances, index only; 会员关怀: low stored
        # value (two ranges of it, ordered by the balance from the index)
        Index("ix_members_balances", "active", "sv_principal", "sv_bonus", "points"),
        TABLE_ARGS,
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(20))
    name: Mapped[str64]
    pinyin: Mapped[str] = mapped_column(String(32), default="")
    phone: Mapped[str | None] = mapped_column(String(11))
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    gender: Mapped[str | None] = mapped_column(String(1))  # M | F
    birthday: Mapped[dt.date | None] = mapped_column(Date)
    birth_md: Mapped[int | None] = mapped_column(SmallInteger)  # month*100 + day
    level_id: Mapped[int | None] = mapped_column(ForeignKey("member_levels.id"))
    tags: Mapped[Any] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(String(500))
    external_id: Mapped[str | None] = mapped_column(String(64))  # id in an old system
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # cached balances: equal to their ledgers (never mass-assignable)
    sv_principal: Mapped[int] = mapped_column(default=0)
    sv_bonus: Mapped[int] = mapped_column(default=0)
    points: Mapped[int] = mapped_column(default=0)
    total_spent: Mapped[int] = mapped_column(default=0)
    visit_count: Mapped[int] = mapped_column(Integer, default=0)
    # appointments marked 爽约 (no-show): a cache of the member's appointments in that state
    no_show_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_visit_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # optional payment PIN (argon2)
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    pin_failures: Mapped[int] = mapped_column(SmallInteger, default=0)
    pin_locked_until: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[created_ts]
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    # 注销: name, phone, birthday, notes… removed at the member's request (PIPL); ledgers and
    # sales are kept (server/domain/member_privacy.py)
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class MemberCard(Base):
    """A physical card. status: active | frozen | lost | replaced (a lost card that was
    reissued). Only active cards can pay."""

    __tablename__ = "member_cards"
    __table_args__ = (UniqueConstraint("card_no"), Index("ix_member_cards_member_id", "member_id"),
                      TABLE_ARGS)

    id: Mapped[intpk]
    card_no: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    status: Mapped[str16] = mapped_column(default="active")
    issued_at: Mapped[created_ts]
    status_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("member_cards.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class StoredValueLedger(Base):
    """Append-only. kind: opening | recharge | payment | payment_refund | cash_refund |
    adjust. Changes are signed; ``*_after`` are the balances after this entry."""

    __tablename__ = "stored_value_ledger"
    __table_args__ = (Index("ix_stored_value_ledger_member_id_id", "member_id", "id"),
                      Index("ix_stored_value_ledger_ref", "ref_type", "ref_id"),
                      # a period's sums per kind, index only (reports)
                      Index("ix_stored_value_ledger_at_kind", "at", "kind", "principal_change",
                            "bonus_change"),
                      Index("ix_stored_value_ledger_shift_id", "shift_id"), TABLE_ARGS)

    id: Mapped[intpk]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str16]
    principal_change: Mapped[int]
    bonus_change: Mapped[int]
    principal_after: Mapped[int]
    bonus_after: Mapped[int]
    method: Mapped[str | None] = mapped_column(String(16))  # recharge/refund: cash|card|...
    reference: Mapped[str | None] = mapped_column(String(64))  # card/WeChat/Alipay ref
    rule_id: Mapped[int | None] = mapped_column()  # recharge bonus rule applied
    ref_type: Mapped[str | None] = mapped_column(String(16))
    ref_id: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(255))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"))  # a recharge's shift
    at: Mapped[created_ts]


class PointsLedger(Base):
    """Append-only. kind: opening | earn | redeem | gift | adjust | expire | reverse."""

    __tablename__ = "points_ledger"
    __table_args__ = (Index("ix_points_ledger_member_id_id", "member_id", "id"),
                      Index("ix_points_ledger_ref", "ref_type", "ref_id"),
                      Index("ix_points_ledger_at_kind", "at", "kind", "change"), TABLE_ARGS)

    id: Mapped[intpk]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str16]
    change: Mapped[int]
    balance_after: Mapped[int]
    ref_type: Mapped[str | None] = mapped_column(String(16))
    ref_id: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(255))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[created_ts]


class RechargeRuleRow(Base):
    """充 threshold 送 bonus."""

    __tablename__ = "recharge_rules"
    __table_args__ = TABLE_ARGS

    id: Mapped[intpk]
    name: Mapped[str64]
    threshold: Mapped[Fen]
    bonus: Mapped[Fen]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_ts]


class CountCardTemplate(Base):
    __tablename__ = "count_card_templates"
    __table_args__ = TABLE_ARGS

    id: Mapped[intpk]
    name: Mapped[str64]
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))  # the service
    service_name: Mapped[str64]
    uses: Mapped[int] = mapped_column(Integer)
    validity_days: Mapped[int | None] = mapped_column(Integer)  # None = never expires
    price: Mapped[Fen]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_ts]


class MemberCountCard(Base):
    """A count card a member bought. ``remaining_uses`` caches the count-card ledger."""

    __tablename__ = "member_count_cards"
    __table_args__ = (Index("ix_member_count_cards_member_id", "member_id"),
                      Index("ix_member_count_cards_shift_id", "shift_id"),
                      # 会员关怀: cards running low, cards expiring soon
                      Index("ix_member_count_cards_status_remaining_uses", "status",
                            "remaining_uses"),
                      Index("ix_member_count_cards_status_expires_at", "status", "expires_at"),
                      TABLE_ARGS)

    id: Mapped[intpk]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("count_card_templates.id"))
    name: Mapped[str64]
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    service_name: Mapped[str64]
    total_uses: Mapped[int] = mapped_column(Integer)
    remaining_uses: Mapped[int] = mapped_column(Integer)
    price: Mapped[Fen]
    method: Mapped[str | None] = mapped_column(String(16))
    ref_type: Mapped[str | None] = mapped_column(String(16))
    ref_id: Mapped[str | None] = mapped_column(String(40))
    purchased_at: Mapped[created_ts]
    expires_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    status: Mapped[str16] = mapped_column(default="active")  # active | voided
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"))  # sold at a counter


class CountCardLedger(Base):
    """Append-only. kind: purchase | use | reverse | adjust | opening."""

    __tablename__ = "count_card_ledger"
    __table_args__ = (Index("ix_count_card_ledger_card_id_id", "card_id", "id"),
                      Index("ix_count_card_ledger_member_id_id", "member_id", "id"),
                      Index("ix_count_card_ledger_ref", "ref_type", "ref_id"),
                      Index("ix_count_card_ledger_at", "at"), TABLE_ARGS)

    id: Mapped[intpk]
    card_id: Mapped[int] = mapped_column(ForeignKey("member_count_cards.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str16]
    change: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    ref_type: Mapped[str | None] = mapped_column(String(16))
    ref_id: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(255))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[created_ts]


class CouponTemplate(Base):
    """kind 'amount': ``amount_fen`` off (满减); 'percent': pay ``percent_bp`` (RATE, 8500 =
    85折). ``threshold_fen`` minimum applicable subtotal; ``category_ids`` empty = all."""

    __tablename__ = "coupon_templates"
    __table_args__ = TABLE_ARGS

    id: Mapped[intpk]
    name: Mapped[str64]
    kind: Mapped[str16]
    amount_fen: Mapped[int] = mapped_column(default=0)
    percent_bp: Mapped[int] = mapped_column(Integer, default=10_000)
    threshold_fen: Mapped[int] = mapped_column(default=0)
    category_ids: Mapped[Any] = mapped_column(JSON, default=list)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_ts]


class Coupon(Base):
    """One issued coupon. status: issued | redeemed | voided. Redeemed once (conditional
    update on status)."""

    __tablename__ = "coupons"
    __table_args__ = (UniqueConstraint("code"),
                      Index("ix_coupons_member_id_status", "member_id", "status"),
                      Index("ix_coupons_batch", "batch"), TABLE_ARGS)

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(20))
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    batch: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str16] = mapped_column(default="issued")
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    issued_at: Mapped[created_ts]
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    ref_type: Mapped[str | None] = mapped_column(String(16))
    ref_id: Mapped[str | None] = mapped_column(String(40))
    voided_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    void_reason: Mapped[str | None] = mapped_column(String(255))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class MemberTotals(Base):
    """The members' totals kept as they change (``server/domain/member_totals.py``): the
    stored-value liability (principal, bonus), points outstanding and the counts the owner's
    members report shows, in a few *stripes* so that counters writing at the same time do
    not queue on one row. The totals are the SUM over the stripes; they always equal the
    same sums over ``members`` (checked by ``lanpos-server verify``)."""

    __tablename__ = "member_totals"
    __table_args__ = TABLE_ARGS

    stripe: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    members: Mapped[Fen] = mapped_column(default=0)  # active members (a count)
    sv_principal: Mapped[Fen] = mapped_column(default=0)
    sv_bonus: Mapped[Fen] = mapped_column(default=0)
    with_balance: Mapped[Fen] = mapped_column(default=0)  # members whose stored value > 0
    points: Mapped[Fen] = mapped_column(default=0)
    with_points: Mapped[Fen] = mapped_column(default=0)  # members whose points > 0
