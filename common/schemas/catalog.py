"""Catalog and inventory schemas."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .activities import PromotionRuleOut
from .base import (
    MAX_ID,
    ApiModel,
    DbId,
    PageQuery,
    PatchModel,
    PriceFen,
    Quantity,
    StockChange,
    TimeOfDay,
    UtcDatetime,
)
from .members import LevelOut, MembershipSettings
from .shop import ShopSettingsOut

ProductKind = Literal["product", "service"]
CommissionKind = Literal["none", "percent", "fixed"]
BARCODE_PATTERN = r"^[0-9A-Za-z\-_.]{1,32}$"


def check_booking_fields(kind: str, duration: int | None, capacity: int | None,
                         class_start: dt.time | None) -> None:
    """预约 fields of a product: only a service is booked; a group class (团课) has a
    duration, a capacity and its start time together; times on 5-minute marks."""
    if kind != "service" and (duration or capacity or class_start):
        raise ValueError("只有服务项目可以预约（时长、团课人数）")
    if (capacity is None) != (class_start is None):
        raise ValueError("团课要同时填写人数和开课时间")
    if capacity is not None and not duration:
        raise ValueError("团课要填写时长")
    if duration is not None and duration % 5:
        raise ValueError("服务时长要是 5 分钟的整数倍")
    if class_start is not None and (class_start.minute % 5 or class_start.second
                                    or class_start.microsecond):
        raise ValueError("开课时间要在整 5 分钟上")


class CategoryIn(ApiModel):
    name: str = Field(min_length=1, max_length=64)
    sort_order: int = Field(0, ge=0, le=100_000)
    active: bool = True


class CategoryPatch(PatchModel):
    name: str | None = Field(None, min_length=1, max_length=64)
    sort_order: int | None = Field(None, ge=0, le=100_000)
    active: bool | None = None


class CategoryOut(ApiModel):
    id: int
    name: str
    sort_order: int
    active: bool


class _ProductFields(ApiModel):
    kind: ProductKind = "product"
    sku: str | None = Field(None, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    unit: str = Field("件", min_length=1, max_length=8)
    category_id: DbId | None = None
    price: PriceFen
    member_price: PriceFen | None = None
    cost: PriceFen | None = None
    open_price: bool = Field(False, description="cashier enters the price at sale time")
    discountable: bool = True
    track_stock: bool = False
    low_stock: Quantity | None = None
    commission_kind: CommissionKind = "none"
    commission_value: int = Field(0, ge=0, le=100_000_000,
                                  description="basis points of the amount (percent) or fen "
                                              "per unit (fixed)")
    barcodes: list[str] = Field(default_factory=list, max_length=10)
    active: bool = True
    favourite: bool = Field(False, description="收银台常用: a button on the counter's grid")
    favourite_order: int = Field(0, ge=0, le=100_000, description="order on the grid")
    duration_minutes: int | None = Field(None, ge=5, le=600,
                                         description="预约: a bookable service's length")
    capacity: int | None = Field(None, ge=1, le=500,
                                 description="团课: a group class's places (with class_start)")
    class_start: TimeOfDay | None = Field(None, description="团课: the class's start (shop time)")
    staff_ids: list[DbId] = Field(default_factory=list, max_length=100,
                                  description="who can do the service; empty: every "
                                              "bookable staff member")

    @field_validator("sku")
    @classmethod
    def _blank_sku(cls, v: str | None) -> str | None:
        return v or None  # an empty SKU is no SKU (the column is unique)

    @model_validator(mode="after")
    def _rules(self):
        if self.kind == "service" and self.track_stock:
            raise ValueError("服务项目不能管理库存")
        if self.commission_kind == "percent" and self.commission_value > 10_000:
            raise ValueError("提成比例不能超过 100%")
        check_booking_fields(self.kind, self.duration_minutes, self.capacity, self.class_start)
        return self


class ProductIn(_ProductFields):
    opening_stock: Quantity = Field(0,
                               description="initial stock (tracked products), as a ledger entry")


class ProductPatch(PatchModel):
    """Every field optional; stock is never set here (use stock adjustments). ``null``
    clears sku, category, member price, cost and the low-stock mark."""

    clearable = frozenset({"sku", "category_id", "member_price", "cost", "low_stock",
                           "duration_minutes", "capacity", "class_start"})

    sku: str | None = Field(None, max_length=32)
    name: str | None = Field(None, min_length=1, max_length=100)
    unit: str | None = Field(None, min_length=1, max_length=8)
    category_id: DbId | None = None
    price: PriceFen | None = None
    member_price: PriceFen | None = None
    cost: PriceFen | None = None
    open_price: bool | None = None
    discountable: bool | None = None
    track_stock: bool | None = None
    low_stock: Quantity | None = None
    commission_kind: CommissionKind | None = None
    commission_value: int | None = Field(None, ge=0, le=100_000_000)
    barcodes: list[str] | None = Field(None, max_length=10)
    active: bool | None = None
    favourite: bool | None = None
    favourite_order: int | None = Field(None, ge=0, le=100_000)
    duration_minutes: int | None = Field(None, ge=5, le=600)
    capacity: int | None = Field(None, ge=1, le=500)
    class_start: TimeOfDay | None = None
    staff_ids: list[DbId] | None = Field(None, max_length=100)

    @field_validator("sku")
    @classmethod
    def _blank_sku(cls, v: str | None) -> str | None:
        return v or None  # an empty SKU is no SKU (the column is unique)


class ProductOut(ApiModel):
    id: int
    kind: ProductKind
    sku: str | None
    name: str
    pinyin: str
    unit: str
    category_id: int | None
    price: int
    member_price: int | None
    cost: int | None
    open_price: bool
    discountable: bool
    track_stock: bool
    stock: int
    low_stock: int | None
    commission_kind: CommissionKind
    commission_value: int
    barcodes: list[str]
    active: bool
    updated_at: UtcDatetime
    favourite: bool = False
    favourite_order: int = 0
    duration_minutes: int | None = None
    capacity: int | None = None
    class_start: TimeOfDay | None = None
    staff_ids: list[int] | None = None
    level_prices: dict[int, int] = Field(
        default_factory=dict, description="membership level id → fixed member price (fen); "
                                          "filled in the catalogue snapshot only")


class CatalogSnapshotQuery(ApiModel):
    since: int | None = Field(None, ge=0, le=MAX_ID,
                              description="the version the counter holds; absent (or one the "
                                          "server cannot diff): full")


class CatalogSnapshotOut(ApiModel):
    """``GET /catalog/snapshot``: what a counter needs to sell offline. ``full``: every
    product (inactive ones too, ``active`` false) — replace the local copy; else only the
    products changed after ``since`` (price, barcode, level price, deactivation…). Categories,
    levels, membership and shop settings are always complete. ``version`` only grows."""

    version: int
    full: bool
    products: list[ProductOut]
    categories: list[CategoryOut]
    levels: list[LevelOut]
    membership: MembershipSettings
    shop: ShopSettingsOut
    promotions: list[PromotionRuleOut] = Field(
        default_factory=list, description="active promotions not ended (always complete): "
                                          "the counter's preview applies those running")


class ProductQuery(PageQuery):
    q: str | None = Field(None, max_length=64,
                          description="barcode, SKU, name (part) or pinyin initials")
    category_id: DbId | None = None
    kind: ProductKind | None = None
    include_inactive: bool = False
    low_stock_only: bool = False
    favourite: bool | None = Field(None, description="true: only the counter's favourites "
                                                     "(收银台常用), in grid order")


class StockLedgerOut(ApiModel):
    id: int
    product_id: DbId
    change: int
    balance_after: int
    kind: str
    ref_type: str | None
    ref_id: str | None
    note: str | None
    staff_id: int | None
    at: UtcDatetime


class StockAdjustmentIn(ApiModel):
    product_id: DbId
    change: StockChange
    reason: str = Field(min_length=1, max_length=255)

    @model_validator(mode="after")
    def _nonzero(self):
        if self.change == 0:
            raise ValueError("调整数量不能为 0")
        return self


class PurchaseLineIn(ApiModel):
    product_id: DbId
    qty: int = Field(gt=0, le=1_000_000)
    unit_cost: PriceFen


class PurchaseIn(ApiModel):
    supplier: str | None = Field(None, max_length=64)
    note: str | None = Field(None, max_length=255)
    lines: list[PurchaseLineIn] = Field(min_length=1, max_length=500)


class PurchaseOut(ApiModel):
    id: int
    supplier: str | None
    note: str | None
    total_cost: int
    at: UtcDatetime
    lines: list[PurchaseLineIn]


class StockCountLineIn(ApiModel):
    product_id: DbId
    counted: Quantity


class StockCountIn(ApiModel):
    note: str | None = Field(None, max_length=255)
    dry_run: bool = Field(False, description="only compute the difference report")
    lines: list[StockCountLineIn] = Field(min_length=1, max_length=5000)


class StockCountLineOut(ApiModel):
    product_id: DbId
    name: str
    expected: int
    counted: int
    difference: int
    cost_difference: int


class StockCountOut(ApiModel):
    id: int | None
    dry_run: bool
    lines: list[StockCountLineOut]
    total_difference: int
    total_cost_difference: int


class ImportIn(ApiModel):
    filename: str = Field(min_length=1, max_length=200, description="name ending .csv or .xlsx")
    content_base64: str = Field(min_length=1)
    dry_run: bool = True


class ImportRowError(ApiModel):
    row: int
    message: str


class ImportReportOut(ApiModel):
    dry_run: bool
    rows: int
    created: int
    updated: int
    errors: list[ImportRowError]


class ExportQuery(ApiModel):
    format: Literal["csv", "xlsx"] = "csv"


class FileOut(ApiModel):
    filename: str
    content_type: str
    content_base64: str
