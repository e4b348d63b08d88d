"""Catalog and inventory tables: categories, products and services, barcodes, the stock
ledger, purchase receipts and stock counts (盘点).

``Product.stock`` is a cache of the stock ledger: it always equals the sum of
``StockLedger.change`` for the product (checked by ``lanpos-server verify``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import TABLE_ARGS, Base, Fen, Timestamp, created_ts, intpk, str32, str64, utcnow


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("name"), TABLE_ARGS)

    id: Mapped[intpk]
    name: Mapped[str64]
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Product(Base):
    """A product (tracked stock optional) or a service (never stock)."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("sku"),
        Index("ix_products_pinyin", "pinyin"),
        Index("ix_products_name", "name"),
        Index("ix_products_category_id_active", "category_id", "active"),
        Index("ix_products_favourite", "favourite", "favourite_order"),
        Index("ix_products_changed_seq", "changed_seq"),
        TABLE_ARGS,
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(16), default="product")  # product | service
    sku: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    pinyin: Mapped[str] = mapped_column(String(32), default="")  # initials, e.g. kkkl
    unit: Mapped[str] = mapped_column(String(8), default="件")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    price: Mapped[Fen]
    member_price: Mapped[int | None] = mapped_column()
    cost: Mapped[int | None] = mapped_column()
    open_price: Mapped[bool] = mapped_column(Boolean, default=False)
    discountable: Mapped[bool] = mapped_column(Boolean, default=True)
    track_stock: Mapped[bool] = mapped_column(Boolean, default=False)
    stock: Mapped[int] = mapped_column(default=0)
    low_stock: Mapped[int | None] = mapped_column()  # threshold for the low-stock list
    commission_kind: Mapped[str] = mapped_column(String(8), default="none")  # none|percent|fixed
    commission_value: Mapped[int] = mapped_column(default=0)  # bp of amount, or fen per unit
    # appointments (预约): a bookable service's length; a group class (团课) also has a
    # capacity and its fixed start time of day (shop time)
    duration_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    capacity: Mapped[int | None] = mapped_column(SmallInteger)
    class_start: Mapped[dt.time | None] = mapped_column(Time)
    # who can do the service (staff ids); empty or NULL: every bookable staff member
    staff_ids: Mapped[Any | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 收银台常用: a button on the counter's touch grid (tab = category), in this order
    favourite: Mapped[bool] = mapped_column(Boolean, default=False)
    favourite_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[created_ts]
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    # the catalogue version (``CatalogState``) of its last change that counters must learn
    # (price, barcodes, level prices, active…): ``GET /catalog/snapshot?since=``
    changed_seq: Mapped[int] = mapped_column(default=0, server_default="0")


class CatalogState(Base):
    """One row (id 1): the catalogue's version, bumped by every catalogue write under this
    row's lock (``domain/catalog_version.py``), so versions follow commit order and a
    snapshot read in one transaction is consistent with the version it reports."""

    __tablename__ = "catalog_state"
    __table_args__ = TABLE_ARGS

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=0)


class ProductBarcode(Base):
    __tablename__ = "product_barcodes"
    __table_args__ = TABLE_ARGS

    barcode: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)


class StockLedger(Base):
    """Append-only stock movements. ``change`` is signed; ``balance_after`` is the stock
    after this movement."""

    __tablename__ = "stock_ledger"
    __table_args__ = (Index("ix_stock_ledger_product_id_id", "product_id", "id"),
                      Index("ix_stock_ledger_ref", "ref_type", "ref_id"),
                      Index("ix_stock_ledger_at_kind", "at", "kind", "change"), TABLE_ARGS)

    id: Mapped[intpk]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    change: Mapped[int]
    balance_after: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # opening|purchase|sale|refund|adjust|count
    ref_type: Mapped[str | None] = mapped_column(String(16))
    ref_id: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(255))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[created_ts]


class PurchaseReceipt(Base):
    """Goods received (进货单)."""

    __tablename__ = "purchase_receipts"
    __table_args__ = TABLE_ARGS

    id: Mapped[intpk]
    supplier: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(255))
    total_cost: Mapped[Fen]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[created_ts]


class PurchaseReceiptLine(Base):
    __tablename__ = "purchase_receipt_lines"
    __table_args__ = TABLE_ARGS

    id: Mapped[intpk]
    receipt_id: Mapped[int] = mapped_column(ForeignKey("purchase_receipts.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int]
    unit_cost: Mapped[Fen]


class StockCount(Base):
    """A stock count (盘点): counted quantities replace the book stock on close; the
    differences go to the stock ledger as kind 'count'."""

    __tablename__ = "stock_counts"
    __table_args__ = TABLE_ARGS

    id: Mapped[intpk]
    status: Mapped[str32] = mapped_column(default="closed")
    note: Mapped[str | None] = mapped_column(String(255))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[created_ts]


class StockCountLine(Base):
    __tablename__ = "stock_count_lines"
    __table_args__ = TABLE_ARGS

    id: Mapped[intpk]
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_counts.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    expected: Mapped[int]
    counted: Mapped[int]
    difference: Mapped[int]
    cost_difference: Mapped[int] = mapped_column(default=0)  # fen, at unit cost
