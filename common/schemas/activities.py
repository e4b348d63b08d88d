"""Activities (活动: a class, an event, a members' day; sign-ups, check-in, statistics) and
promotions for a period (促销: double points, a discount on a category, a price for a level).

Times of activities and promotions are SHOP wall-clock time (naive ISO, ``2026-12-05T14:00``).
Rules: ``server/domain/activities.py`` and ``server/domain/promotions.py``; prices are computed
by the one pricing engine ``common.pricing`` (``Promotion``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from .base import ApiModel, DbId, PageQuery, PatchModel, PriceFen, UtcDatetime

ActivityKind = Literal["class", "event", "members_day"]
ACTIVITY_KIND_ZH = {"class": "课程", "event": "活动", "members_day": "会员日"}
ActivityStatus = Literal["open", "cancelled"]
SignupStatus = Literal["signed_up", "checked_in", "cancelled"]
SIGNUP_STATUS_ZH = {"signed_up": "已报名", "checked_in": "已签到", "cancelled": "已取消"}
PromotionKind = Literal["discount", "price", "points"]
PROMOTION_KIND_ZH = {"discount": "分类折扣", "price": "特价", "points": "积分倍数"}
MAX_CAPACITY = 10_000
MAX_SCOPE_IDS = 200


MIN_YEAR, MAX_YEAR = 2000, 2099


def _shop_time(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        raise ValueError("请填写本店时间（不带时区）")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"年份应在 {MIN_YEAR} 到 {MAX_YEAR} 之间")
    return value


def _shop_day(value: dt.date) -> dt.date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"年份应在 {MIN_YEAR} 到 {MAX_YEAR} 之间")
    return value


ShopTime = Annotated[dt.datetime, AfterValidator(_shop_time),
                     Field(description="shop wall-clock time, naive ISO (2026-12-05T14:00)")]
ShopDay = Annotated[dt.date, AfterValidator(_shop_day)]


def _check_window(start: dt.datetime | None, end: dt.datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise ValueError("结束时间必须晚于开始时间")


class ActivityIn(ApiModel):
    title: str = Field(min_length=1, max_length=60)
    kind: ActivityKind = "event"
    place: str = Field("", max_length=60)
    starts_at: ShopTime
    ends_at: ShopTime = Field(description="after starts_at")
    capacity: int = Field(ge=1, le=MAX_CAPACITY)
    price: PriceFen = Field(0, description="per seat, fen; 0 = free (sign up directly)")
    description: str | None = Field(None, max_length=255)

    @model_validator(mode="after")
    def _window(self):
        _check_window(self.starts_at, self.ends_at)
        return self


class ActivityUpdate(PatchModel):
    """Change an activity. The capacity may not go below the seats already taken; the price
    of seats already sold stays what was paid."""

    clearable: ClassVar[frozenset[str]] = frozenset({"description"})

    title: str | None = Field(None, min_length=1, max_length=60)
    kind: ActivityKind | None = None
    place: str | None = Field(None, max_length=60)
    starts_at: ShopTime | None = None
    ends_at: ShopTime | None = None
    capacity: int | None = Field(None, ge=1, le=MAX_CAPACITY)
    price: PriceFen | None = None
    description: str | None = Field(None, max_length=255)
    status: ActivityStatus | None = Field(None, description="cancelled: no more sign-ups")

    @model_validator(mode="after")
    def _window(self):
        _check_window(self.starts_at, self.ends_at)
        return self


class ActivityOut(ApiModel):
    id: int
    title: str
    kind: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    price: int
    status: str
    description: str | None = None
    taken: int = Field(description="seats held by sign-ups not cancelled")
    left: int = Field(description="seats still free")


class ActivityQuery(PageQuery):
    q: str | None = Field(None, max_length=60, description="part of the title")
    upcoming: bool = Field(False, description="only those not ended yet (shop time)")
    include_cancelled: bool = True


class SignupIn(ApiModel):
    """Sign a member up for a FREE activity at the counter (a priced one is sold through the
    normal sale: a cart line with ``activity_id``)."""

    member_id: DbId


class SignupOut(ApiModel):
    id: int
    activity_id: int
    activity_title: str = ""
    member_id: int
    member_name: str = ""
    member_phone: str | None = None
    status: str
    price: int
    sale_number: str | None = None
    signed_up_at: UtcDatetime
    checked_in_at: UtcDatetime | None = None
    cancelled_at: UtcDatetime | None = None
    cancel_reason: str | None = None


class SignupQuery(PageQuery):
    status: SignupStatus | None = None


class CancelIn(ApiModel):
    reason: str = Field(min_length=1, max_length=255)


class ActivityStatsOut(ApiModel):
    """Statistics of one activity: sign-ups (not cancelled), attendance (checked in),
    cancellations, revenue (paid seats less refunds, fen)."""

    id: int
    title: str
    kind: str
    starts_at: dt.datetime
    capacity: int
    price: int
    status: str
    signups: int
    checked_in: int
    cancelled: int
    revenue: int


class ActivityStatsQuery(ApiModel):
    date_from: ShopDay = Field(description="activities starting on or after this day")
    date_to: ShopDay = Field(description="… and on or before this day (shop time)")

    @model_validator(mode="after")
    def _order(self):
        if self.date_to < self.date_from:
            raise ValueError("结束日期不能早于开始日期")
        if (self.date_to - self.date_from).days > 366:
            raise ValueError("最多统计一年")
        return self


class ActivityStatsListOut(ApiModel):
    items: list[ActivityStatsOut]
    signups: int
    checked_in: int
    cancelled: int
    revenue: int


# -- promotions ------------------------------------------------------------------------------

ScopeIds = list[DbId]


class PromotionIn(ApiModel):
    """``discount``: ``rate_bp`` is a RATE (8000 = 8折) on ``category_ids`` (empty: every
    discountable item); ``price``: ``price_fen`` per unit for ``product_ids``; ``points``:
    ``points_multiplier`` (2 = double points). ``level_ids`` empty: everyone, else only
    members of those levels."""

    name: str = Field(min_length=1, max_length=40, description="printed on the receipt line")
    kind: PromotionKind
    starts_at: ShopTime
    ends_at: ShopTime = Field(description="exclusive")
    rate_bp: int = Field(10_000, ge=1, le=10_000)
    price_fen: PriceFen = 0
    points_multiplier: int = Field(1, ge=1, le=10)
    category_ids: ScopeIds = Field(default_factory=list, max_length=MAX_SCOPE_IDS)
    product_ids: ScopeIds = Field(default_factory=list, max_length=MAX_SCOPE_IDS)
    level_ids: ScopeIds = Field(default_factory=list, max_length=MAX_SCOPE_IDS)
    note: str | None = Field(None, max_length=255)

    @model_validator(mode="after")
    def _window(self):
        _check_window(self.starts_at, self.ends_at)
        return self


class PromotionUpdate(PatchModel):
    clearable: ClassVar[frozenset[str]] = frozenset({"note"})

    name: str | None = Field(None, min_length=1, max_length=40)
    starts_at: ShopTime | None = None
    ends_at: ShopTime | None = None
    rate_bp: int | None = Field(None, ge=1, le=10_000)
    price_fen: PriceFen | None = None
    points_multiplier: int | None = Field(None, ge=1, le=10)
    category_ids: ScopeIds | None = Field(None, max_length=MAX_SCOPE_IDS)
    product_ids: ScopeIds | None = Field(None, max_length=MAX_SCOPE_IDS)
    level_ids: ScopeIds | None = Field(None, max_length=MAX_SCOPE_IDS)
    active: bool | None = Field(None, description="false: stopped (停用)")
    note: str | None = Field(None, max_length=255)

    @model_validator(mode="after")
    def _window(self):
        _check_window(self.starts_at, self.ends_at)
        return self


class PromotionOut(ApiModel):
    id: int
    name: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    rate_bp: int
    price_fen: int
    points_multiplier: int
    category_ids: list[int]
    product_ids: list[int]
    level_ids: list[int]
    active: bool
    note: str | None = None
    state: Literal["upcoming", "running", "ended", "stopped"] = "running"


class PromotionRuleOut(ApiModel):
    """A promotion as the pricing engine takes it (``common.pricing.Promotion.from_dict``):
    what ``GET /catalog/snapshot`` gives a counter so its preview and its offline sales
    price as the server does."""

    promotion_id: int
    name: str
    kind: str
    starts_at: dt.datetime = Field(description="shop wall-clock time")
    ends_at: dt.datetime = Field(description="shop wall-clock time, exclusive")
    rate_bp: int
    price_fen: int
    points_multiplier: int
    category_ids: list[int]
    product_ids: list[int]
    level_ids: list[int]


class PromotionQuery(PageQuery):
    state: Literal["upcoming", "running", "ended", "stopped"] | None = None
