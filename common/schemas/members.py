"""Membership schemas: members, levels, cards, stored value, points, count cards, coupons.

Balances (stored value, points, remaining uses) are read-only here: they change only through
the operations that write ledger entries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field, field_validator, model_validator

from common.membership_rules import normalize_mobile

from .base import (
    MAX_POINTS,
    MAX_PRICE_FEN,
    ApiModel,
    DbId,
    FenAmount,
    PageQuery,
    PatchModel,
    UtcDatetime,
)
from .reports import MemberListDef

Gender = Literal["M", "F"]
RechargeMethod = Literal["cash", "card", "wechat", "alipay"]
SaleMethod = Literal["cash", "card", "wechat", "alipay", "stored_value"]
LedgerBook = Literal["stored_value", "points", "count_cards"]
PIN_PATTERN = r"^\d{4,6}$"
CARD_PATTERN = r"^[0-9A-Za-z\-]{4,32}$"
MAX_FEN = MAX_PRICE_FEN  # ¥1,000,000 per operation


def _phone(v: str | None) -> str | None:
    if v is None or v == "":
        return None
    return normalize_mobile(v)


# -- levels --------------------------------------------------------------------------------
class LevelIn(ApiModel):
    name: str = Field(min_length=1, max_length=32)
    rank: int = Field(0, ge=0, le=1000, description="higher = better; upgrades only go up")
    discount_bp: int = Field(10_000, ge=1, le=10_000,
                             description="RATE paid, basis points: 9000 = 9折, 10000 = none")
    points_per_yuan: int = Field(1, ge=0, le=1000, description="points earned per ¥1 spent")
    upgrade_threshold: FenAmount | None = Field(
        None, ge=0, le=10_000_000_000,
        description="cumulative spend (fen) that upgrades a member to this level; null = "
                    "manual only")
    active: bool = True


class LevelPatch(PatchModel):
    clearable = frozenset({"upgrade_threshold"})

    name: str | None = Field(None, min_length=1, max_length=32)
    rank: int | None = Field(None, ge=0, le=1000)
    discount_bp: int | None = Field(None, ge=1, le=10_000)
    points_per_yuan: int | None = Field(None, ge=0, le=1000)
    upgrade_threshold: FenAmount | None = Field(None, ge=0, le=10_000_000_000)
    active: bool | None = None


class LevelOut(ApiModel):
    id: int
    name: str
    rank: int
    discount_bp: int
    points_per_yuan: int
    upgrade_threshold: int | None
    active: bool


class LevelPriceIn(ApiModel):
    product_id: DbId
    price: FenAmount = Field(ge=0, le=MAX_FEN)


class LevelPricesIn(ApiModel):
    """Replaces the level's whole price list."""

    prices: list[LevelPriceIn] = Field(max_length=5000)


class LevelPriceOut(ApiModel):
    product_id: int
    price: int


# -- members -------------------------------------------------------------------------------
class _MemberFields(ApiModel):
    name: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(None, max_length=20, description="mainland mobile, 11 digits")
    gender: Gender | None = None
    birthday: dt.date | None = None
    level_id: DbId | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)
    notes: str | None = Field(None, max_length=500)

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, v: str | None) -> str | None:
        return _phone(v)

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, v: list[str]) -> list[str]:
        out = []
        for t in v:
            t = t.strip()
            if not t or len(t) > 16:
                raise ValueError("标签不能为空且不超过 16 字")
            if t not in out:
                out.append(t)
        return out


class MemberCreate(_MemberFields):
    number: str | None = Field(None, pattern=r"^[0-9A-Za-z\-]{1,20}$",
                               description="member number; generated when omitted")
    card_no: str | None = Field(None, pattern=CARD_PATTERN, description="issue this card now")


class MemberUpdate(PatchModel):
    clearable = frozenset({"phone", "gender", "birthday", "level_id", "notes"})

    name: str | None = Field(None, min_length=1, max_length=64)
    phone: str | None = Field(None, max_length=20)
    gender: Gender | None = None
    birthday: dt.date | None = None
    level_id: int | None = Field(None, description="manual level change: manager/owner")
    tags: list[str] | None = Field(None, max_length=20)
    notes: str | None = Field(None, max_length=500)
    active: bool | None = Field(None, description="deactivate (manager/owner); never deleted")

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, v: str | None) -> str | None:
        return _phone(v)


class AnonymiseIn(ApiModel):
    reason: str | None = Field(None, max_length=255,
                               description="e.g. the member asked in person on 2026-12-01")


class CardOut(ApiModel):
    id: int
    card_no: str
    member_id: int
    status: Literal["active", "frozen", "lost", "replaced"]
    issued_at: UtcDatetime
    status_at: UtcDatetime | None = None
    replaces_id: int | None = None


class MemberOut(ApiModel):
    id: int
    number: str
    name: str
    pinyin: str
    phone: str | None
    gender: Gender | None
    birthday: dt.date | None
    level_id: int | None
    level_name: str | None = None
    discount_bp: int = 10_000
    tags: list[str]
    notes: str | None
    active: bool
    sv_principal: int
    sv_bonus: int
    stored_value: int = Field(description="principal + bonus")
    points: int
    total_spent: int
    visit_count: int
    no_show_count: int = Field(0, description="预约爽约 (appointments marked no-show)")
    last_visit_at: UtcDatetime | None
    has_pin: bool
    created_at: UtcDatetime
    cards: list[CardOut] = Field(default_factory=list)
    anonymised_at: UtcDatetime | None = Field(
        None, description="注销: the member's personal data was removed at their request; "
                          "balances and history are kept")


class MemberQuery(PageQuery):
    q: str | None = Field(None, max_length=64,
                          description="phone, last 4 digits of the phone, card number, member "
                                      "number, name (part) or pinyin initials")
    level_id: int | None = None
    include_inactive: bool = False


class BirthdayQuery(PageQuery):
    month: int | None = Field(None, ge=1, le=12, description="default: this month")


# -- cards ---------------------------------------------------------------------------------
class CardIssueIn(ApiModel):
    member_id: DbId
    card_no: str = Field(pattern=CARD_PATTERN)


class CardReissueIn(ApiModel):
    card_no: str = Field(pattern=CARD_PATTERN, description="the new card's number")


class CardQuery(ApiModel):
    card_no: str = Field(min_length=1, max_length=32)


class CardLookupOut(ApiModel):
    card: CardOut
    member: MemberOut


class PinIn(ApiModel):
    pin: str = Field(pattern=PIN_PATTERN, description="4–6 digits")
    old_pin: str | None = Field(None, max_length=12,
                                description="required to change an existing PIN (cashier)")


# -- stored value --------------------------------------------------------------------------
class RechargeIn(ApiModel):
    amount: FenAmount = Field(gt=0, le=MAX_FEN, description="principal paid by the member")
    method: RechargeMethod
    reference: str | None = Field(None, max_length=64)
    note: str | None = Field(None, max_length=255)


class StoredValuePaymentIn(ApiModel):
    amount: FenAmount = Field(gt=0, le=MAX_FEN)
    card_no: str | None = Field(None, max_length=32, description="the card presented")
    pin: str | None = Field(None, max_length=12)
    note: str | None = Field(None, max_length=255, description="what was bought (快速消费)")


class StoredValueAdjustIn(ApiModel):
    principal_change: int = Field(0, ge=-MAX_FEN, le=MAX_FEN, strict=True)
    bonus_change: int = Field(0, ge=-MAX_FEN, le=MAX_FEN, strict=True)
    reason: str = Field(min_length=1, max_length=255)

    @model_validator(mode="after")
    def _nonzero(self):
        if not self.principal_change and not self.bonus_change:
            raise ValueError("调整金额不能为 0")
        return self


class StoredValueRefundIn(ApiModel):
    amount: FenAmount = Field(gt=0, le=MAX_FEN, description="principal paid back")
    method: RechargeMethod
    reason: str = Field(min_length=1, max_length=255)


class StoredValueEntryOut(ApiModel):
    id: int
    member_id: int
    kind: str
    principal_change: int
    bonus_change: int
    principal_after: int
    bonus_after: int
    method: str | None
    reference: str | None
    rule_id: int | None
    ref_type: str | None
    ref_id: str | None
    note: str | None
    staff_id: int | None
    at: UtcDatetime


class StoredValueResultOut(ApiModel):
    entry: StoredValueEntryOut
    sv_principal: int
    sv_bonus: int
    stored_value: int
    forfeited_bonus: int = 0


class RechargeRuleIn(ApiModel):
    name: str = Field(min_length=1, max_length=64)
    threshold: FenAmount = Field(gt=0, le=MAX_FEN)
    bonus: FenAmount = Field(gt=0, le=MAX_FEN)
    active: bool = True


class RechargeRulePatch(PatchModel):
    name: str | None = Field(None, min_length=1, max_length=64)
    threshold: FenAmount | None = Field(None, gt=0, le=MAX_FEN)
    bonus: FenAmount | None = Field(None, gt=0, le=MAX_FEN)
    active: bool | None = None


class RechargeRuleOut(ApiModel):
    id: int
    name: str
    threshold: int
    bonus: int
    active: bool


# -- points --------------------------------------------------------------------------------
class PointsAdjustIn(ApiModel):
    change: int = Field(ge=-MAX_POINTS, le=MAX_POINTS, strict=True)
    reason: str = Field(min_length=1, max_length=255)

    @model_validator(mode="after")
    def _nonzero(self):
        if self.change == 0:
            raise ValueError("调整积分不能为 0")
        return self


class PointsRedeemIn(ApiModel):
    points: int = Field(gt=0, le=MAX_POINTS, strict=True)
    gift: str = Field(min_length=1, max_length=128, description="the gift handed over")


class PointsEntryOut(ApiModel):
    id: int
    member_id: int
    kind: str
    change: int
    balance_after: int
    ref_type: str | None
    ref_id: str | None
    note: str | None
    staff_id: int | None
    at: UtcDatetime


class PointsResultOut(ApiModel):
    entry: PointsEntryOut
    points: int


class PointsExpiryIn(ApiModel):
    months: int | None = Field(None, ge=1, le=120,
                               description="default: the points.expiry_months setting")


class PointsExpiryOut(ApiModel):
    members: int
    points: int
    cutoff: UtcDatetime | None


# -- ledgers -------------------------------------------------------------------------------
class LedgerQuery(PageQuery):
    book: LedgerBook = "stored_value"


def recharge_number(entry_id: int) -> str:
    """A recharge's number, printed on its slip and shown in the member's ledger."""
    return f"SV{entry_id:08d}"


class LedgerEntryOut(ApiModel):
    """One entry of any book. Stored value: ``principal_change``/``bonus_change`` and their
    balances; points and count cards: ``change``/``balance_after``. ``ref_no``: what a person
    looks up — the sale's number (as on the receipt), the recharge slip's number."""

    id: int
    book: LedgerBook
    kind: str
    change: int
    balance_after: int
    principal_change: int | None = None
    bonus_change: int | None = None
    principal_after: int | None = None
    bonus_after: int | None = None
    card_id: int | None = None
    method: str | None = None
    ref_type: str | None = None
    ref_id: str | None = None
    ref_no: str | None = Field(None, description="sale number / recharge slip number")
    note: str | None = None
    staff_id: int | None = None
    at: UtcDatetime


# -- count cards ---------------------------------------------------------------------------
class CountCardTemplateIn(ApiModel):
    name: str = Field(min_length=1, max_length=64)
    product_id: int | None = Field(None, description="the service it pays for (catalog)")
    service_name: str = Field(min_length=1, max_length=64)
    uses: int = Field(gt=0, le=10_000)
    validity_days: int | None = Field(None, gt=0, le=36_500, description="null = no expiry")
    price: FenAmount = Field(ge=0, le=MAX_FEN)
    active: bool = True


class CountCardTemplatePatch(PatchModel):
    clearable = frozenset({"validity_days"})

    name: str | None = Field(None, min_length=1, max_length=64)
    service_name: str | None = Field(None, min_length=1, max_length=64)
    uses: int | None = Field(None, gt=0, le=10_000)
    validity_days: int | None = Field(None, gt=0, le=36_500)
    price: FenAmount | None = Field(None, ge=0, le=MAX_FEN)
    active: bool | None = None


class CountCardTemplateOut(ApiModel):
    id: int
    name: str
    product_id: int | None
    service_name: str
    uses: int
    validity_days: int | None
    price: int
    active: bool


class CountCardSellIn(ApiModel):
    member_id: DbId
    template_id: DbId
    method: SaleMethod = Field(description="how it was paid; stored_value debits the member")
    reference: str | None = Field(None, max_length=64)
    card_no: str | None = Field(None, max_length=32, description="stored_value: card shown")
    pin: str | None = Field(None, max_length=12, description="stored_value: payment PIN")


class CountCardOut(ApiModel):
    id: int
    member_id: int
    template_id: int | None
    name: str
    product_id: int | None
    service_name: str
    total_uses: int
    remaining_uses: int
    price: int
    method: str | None
    purchased_at: UtcDatetime
    expires_at: UtcDatetime | None
    status: str
    expired: bool = False


class CountCardQuery(PageQuery):
    member_id: DbId
    usable_only: bool = False


class CountCardUseIn(ApiModel):
    member_id: int = Field(description="the member presenting the card (checked)")
    uses: int = Field(1, gt=0, le=100)
    note: str | None = Field(None, max_length=255)


# -- coupons -------------------------------------------------------------------------------
class CouponTemplateIn(ApiModel):
    name: str = Field(min_length=1, max_length=64)
    kind: Literal["amount", "percent"]
    amount_fen: FenAmount = Field(0, ge=0, le=MAX_FEN, description="amount off (kind amount)")
    percent_bp: int = Field(10_000, ge=1, le=10_000,
                            description="RATE paid (kind percent): 8500 = 85折")
    threshold_fen: FenAmount = Field(0, ge=0, le=MAX_FEN, description="minimum subtotal")
    category_ids: list[int] = Field(default_factory=list, max_length=100,
                                    description="empty = every category")
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    active: bool = True

    @model_validator(mode="after")
    def _rules(self):
        if self.kind == "amount" and self.amount_fen <= 0:
            raise ValueError("满减券的金额必须大于 0")
        if self.kind == "percent" and self.percent_bp >= 10_000:
            raise ValueError("折扣券的折扣率必须小于 100%")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("有效期结束日期不能早于开始日期")
        return self


class CouponTemplatePatch(PatchModel):
    clearable = frozenset({"valid_from", "valid_to"})

    name: str | None = Field(None, min_length=1, max_length=64)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    active: bool | None = None


class CouponTemplateOut(ApiModel):
    id: int
    name: str
    kind: str
    amount_fen: int
    percent_bp: int
    threshold_fen: int
    category_ids: list[int]
    valid_from: dt.date | None
    valid_to: dt.date | None
    active: bool


class CouponIssueIn(ApiModel):
    template_id: DbId
    member_id: int | None = Field(None, description="one member …")
    level_id: int | None = Field(None, description="… or every active member of a level …")
    members: MemberListDef | None = Field(None, description="… or every member of a list "
                                                            "(会员关怀: a birthday gift)")
    batch_id: uuid.UUID | None = Field(None, description="the issue's own id (the client "
                                       "sends it as the Idempotency-Key too): the coupons' "
                                       "batch; a batch already issued issues nothing again")
    notify: bool = Field(False, description="also message each member (SMS / WeChat: through "
                                            "the shop's message sender; none is built in)")

    @model_validator(mode="after")
    def _target(self):
        if sum(x is not None for x in (self.member_id, self.level_id, self.members)) != 1:
            raise ValueError("请指定会员、会员等级或会员名单（三选一）")
        return self


class CouponIssueOut(ApiModel):
    batch: str
    issued: int = Field(description="coupons issued (a batch issued before: its count)")
    already: bool = Field(False, description="the batch had been issued before: nothing new")
    messages: int = Field(0, description="messages handed to the shop's message sender")


class CouponOut(ApiModel):
    id: int
    code: str
    template_id: int
    name: str = ""
    kind: str = ""
    amount_fen: int = 0
    percent_bp: int = 10_000
    threshold_fen: int = 0
    category_ids: list[int] = Field(default_factory=list)
    member_id: int
    status: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    issued_at: UtcDatetime
    redeemed_at: UtcDatetime | None
    ref_type: str | None
    ref_id: str | None
    voided_at: UtcDatetime | None
    void_reason: str | None


class CouponQuery(PageQuery):
    member_id: int | None = None
    status: Literal["issued", "redeemed", "voided"] | None = None
    code: str | None = Field(None, max_length=20)


class CouponRedeemIn(ApiModel):
    member_id: DbId
    note: str | None = Field(None, max_length=40, description="e.g. a paper receipt number")


class VoidIn(ApiModel):
    reason: str = Field(min_length=1, max_length=255)


# -- settings ------------------------------------------------------------------------------
class MembershipSettings(ApiModel):
    pin_threshold: FenAmount = Field(0, ge=0, le=MAX_FEN,
                                     description="stored-value payments ABOVE this need the "
                                                 "member's PIN (if the member has one)")
    pin_max_failures: int = Field(5, ge=1, le=20)
    pin_lock_minutes: int = Field(30, ge=1, le=24 * 60)
    points_per_yuan_redeem: int = Field(100, ge=1, le=100_000,
                                        description="points worth ¥1 when paying with points")
    points_expiry_months: int = Field(0, ge=0, le=120, description="0 = points never expire")
    care_low_balance: FenAmount = Field(5000, ge=1, le=MAX_FEN,
                                        description="会员关怀: stored value below this is low "
                                                    "(fen)")


class MembershipSettingsPatch(PatchModel):
    pin_threshold: FenAmount | None = Field(None, ge=0, le=MAX_FEN)
    pin_max_failures: int | None = Field(None, ge=1, le=20)
    pin_lock_minutes: int | None = Field(None, ge=1, le=24 * 60)
    points_per_yuan_redeem: int | None = Field(None, ge=1, le=100_000)
    points_expiry_months: int | None = Field(None, ge=0, le=120)
    care_low_balance: FenAmount | None = Field(None, ge=1, le=MAX_FEN)


# -- import --------------------------------------------------------------------------------
class MemberImportReportOut(ApiModel):
    dry_run: bool
    rows: int
    created: int
    updated: int
    errors: list[dict[str, int | str]]
