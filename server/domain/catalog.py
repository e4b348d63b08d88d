"""Catalog: categories, products and services, barcodes, search, CSV/Excel import/export."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.money import MoneyError, parse_yuan
from common.schemas.catalog import (
    BARCODE_PATTERN,
    CategoryIn,
    CategoryPatch,
    ProductIn,
    ProductPatch,
    check_booking_fields,
)
from common.text import pinyin_initials
from server.db.catalog import Category, Product, ProductBarcode
from server.db.models import Staff

from . import audit, catalog_version, stock, tabular
from .actor import Actor

_BARCODE_RE = re.compile(BARCODE_PATTERN)
_ASCII_WORD = re.compile(r"^[a-z0-9]+$")


# -- categories -----------------------------------------------------------------------------
def list_categories(session: Session, include_inactive: bool = False) -> list[Category]:
    stmt = select(Category).order_by(Category.sort_order, Category.id)
    if not include_inactive:
        stmt = stmt.where(Category.active.is_(True))
    return list(session.scalars(stmt))


def create_category(session: Session, actor: Actor, data: CategoryIn) -> Category:
    if session.scalar(select(Category.id).where(Category.name == data.name)):
        raise ApiError("duplicate_name", status=409, name=data.name, fields={"name": "已存在"})
    cat = Category(**data.model_dump())
    session.add(cat)
    session.flush()
    audit.write(session, actor, "category.create", "category", cat.id, after=data.model_dump())
    return cat


def update_category(session: Session, actor: Actor, category_id: int, data: CategoryPatch
                    ) -> Category:
    cat = session.get(Category, category_id, with_for_update=True, populate_existing=True)
    if cat is None:
        raise ApiError("not_found", status=404, what="分类")
    before = {"name": cat.name, "sort_order": cat.sort_order, "active": cat.active}
    if data.name is not None and session.scalar(select(Category.id).where(
            Category.name == data.name, Category.id != category_id)):
        raise ApiError("duplicate_name", status=409, name=data.name, fields={"name": "已存在"})
    for k, v in data.model_dump(exclude_unset=True).items():
        setattr(cat, k, v)
    try:
        session.flush()
    except IntegrityError as e:  # a concurrent rename; cat is expired after the failed flush
        raise ApiError("duplicate_name", status=409, name=data.name) from e
    audit.write(session, actor, "category.update", "category", cat.id, before=before,
                after=data.model_dump(exclude_unset=True))
    return cat


# -- products -------------------------------------------------------------------------------
@dataclass
class ProductView:
    """A product with its barcodes (what the API returns)."""

    product: Product
    barcodes: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.product, name)


def barcodes_of(session: Session, product_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(set(product_ids))
    out: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for code, pid in session.execute(
                select(ProductBarcode.barcode, ProductBarcode.product_id)
                .where(ProductBarcode.product_id.in_(ids)).order_by(ProductBarcode.barcode)):
            out[pid].append(code)
    return out


def view(session: Session, products: list[Product]) -> list[ProductView]:
    codes = barcodes_of(session, [p.id for p in products])
    return [ProductView(p, codes.get(p.id, [])) for p in products]


def get_product(session: Session, product_id: int, for_update: bool = False) -> Product:
    p = session.get(Product, product_id, with_for_update=for_update,
                    populate_existing=for_update)
    if p is None:
        raise ApiError("not_found", status=404, what="商品")
    return p


def _check_category(session: Session, category_id: int | None) -> None:
    if category_id is not None and session.get(Category, category_id) is None:
        raise ApiError("not_found", status=404, what="分类", fields={"category_id": "分类不存在"})


def _set_barcodes(session: Session, product: Product, codes: list[str]) -> None:
    codes = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    for c in codes:
        if not _BARCODE_RE.match(c):
            raise ApiError("validation_error", status=400,
                           fields={"barcodes": f"条码格式不正确：{c}"})
    taken = session.execute(select(ProductBarcode.barcode, ProductBarcode.product_id).where(
        ProductBarcode.barcode.in_(codes), ProductBarcode.product_id != product.id)).first()
    if taken:
        raise ApiError("barcode_taken", status=409, barcode=taken[0],
                       fields={"barcodes": f"条码 {taken[0]} 已被其他商品使用"})
    session.execute(delete(ProductBarcode).where(ProductBarcode.product_id == product.id))
    for c in codes:
        session.add(ProductBarcode(barcode=c, product_id=product.id))


def _snapshot(p: Product) -> dict[str, Any]:
    out = {k: getattr(p, k) for k in ("name", "sku", "price", "member_price", "cost",
                                       "category_id", "active", "open_price", "track_stock",
                                       "commission_kind", "commission_value", "kind",
                                       "favourite", "favourite_order", "duration_minutes",
                                       "capacity", "class_start", "staff_ids")}
    if p.class_start is not None:
        out["class_start"] = p.class_start.isoformat("minutes")
    return out


def _check_staff_ids(session: Session, staff_ids: list[int] | None) -> None:
    """Who can do a service: existing staff members (422 naming the field else)."""
    if not staff_ids:
        return
    found = set(session.scalars(select(Staff.id).where(Staff.id.in_(set(staff_ids)))))
    if set(staff_ids) - found:
        raise ApiError("not_found", status=422, what="员工",
                       fields={"staff_ids": "员工不存在"})


def create_product(session: Session, actor: Actor, data: ProductIn) -> Product:
    _check_category(session, data.category_id)
    if data.sku and session.scalar(select(Product.id).where(Product.sku == data.sku)):
        raise ApiError("sku_taken", status=409, sku=data.sku, fields={"sku": "已被使用"})
    _check_staff_ids(session, data.staff_ids)
    fields_ = data.model_dump(exclude={"barcodes", "opening_stock"})
    p = Product(**fields_, pinyin=pinyin_initials(data.name), stock=0)
    session.add(p)
    try:
        session.flush()
    except IntegrityError as e:
        raise ApiError("sku_taken", status=409, sku=data.sku) from e
    _set_barcodes(session, p, data.barcodes)
    if data.opening_stock and p.track_stock:
        stock.move(session, actor, p, data.opening_stock, "opening", "product", p.id)
    session.flush()
    catalog_version.bump(session, [p.id])  # counters learn it (GET /catalog/snapshot)
    audit.write(session, actor, "product.create", "product", p.id,
                after={**_snapshot(p), "barcodes": data.barcodes, "stock": p.stock})
    return p


def update_product(session: Session, actor: Actor, product_id: int, data: ProductPatch
                   ) -> Product:
    p = get_product(session, product_id, for_update=True)
    before = _snapshot(p)
    changes = data.model_dump(exclude_unset=True)
    if "category_id" in changes:
        _check_category(session, changes["category_id"])
    if changes.get("sku") and session.scalar(select(Product.id).where(
            Product.sku == changes["sku"], Product.id != p.id)):
        raise ApiError("sku_taken", status=409, sku=changes["sku"], fields={"sku": "已被使用"})
    if changes.get("staff_ids"):
        _check_staff_ids(session, changes["staff_ids"])
    nullable = {"sku", "member_price", "cost", "category_id", "low_stock", "duration_minutes",
                "capacity", "class_start"}
    for k, v in changes.items():
        if k == "barcodes":
            continue
        if v is None and k not in nullable:
            continue
        setattr(p, k, v)
    if p.kind == "service" and p.track_stock:
        raise ApiError("validation_error", status=400,
                       fields={"track_stock": "服务项目不能管理库存"})
    try:
        check_booking_fields(p.kind, p.duration_minutes, p.capacity, p.class_start)
    except ValueError as e:
        raise ApiError("validation_error", status=400, fields={"duration_minutes": str(e)}
                       ) from e
    if p.track_stock is False and before["track_stock"] and p.stock != 0:
        raise ApiError("stock_not_zero", status=409, name=p.name, stock=p.stock)
    if changes.get("name"):
        p.pinyin = pinyin_initials(p.name)
    if data.barcodes is not None:
        _set_barcodes(session, p, data.barcodes)
    session.flush()
    catalog_version.bump(session, [p.id])  # counters learn it (GET /catalog/snapshot)
    audit.write(session, actor, "product.update", "product", p.id, before=before,
                after=_snapshot(p))
    return p


def find_by_barcode(session: Session, code: str) -> Product:
    code = code.strip()
    p = session.scalar(select(Product).join(ProductBarcode,
                                            ProductBarcode.product_id == Product.id)
                       .where(ProductBarcode.barcode == code))
    if p is None:
        p = session.scalar(select(Product).where(Product.sku == code))
    if p is None or not p.active:
        raise ApiError("barcode_not_found", status=404, barcode=code)
    return p


def search(session: Session, q: str | None, page: int, page_size: int,
           category_id: int | None = None, kind: str | None = None,
           include_inactive: bool = False, low_stock_only: bool = False,
           favourite: bool | None = None) -> tuple[list[Product], bool]:
    """Barcode / SKU exact, pinyin-initials prefix, name substring; exact matches first.
    ``favourite``: only the counter's favourites (or only the others), in grid order."""
    stmt = select(Product)
    if not include_inactive:
        stmt = stmt.where(Product.active.is_(True))
    if category_id is not None:
        stmt = stmt.where(Product.category_id == category_id)
    if kind:
        stmt = stmt.where(Product.kind == kind)
    if low_stock_only:
        stmt = stmt.where(Product.track_stock.is_(True), Product.low_stock.is_not(None),
                          Product.stock <= Product.low_stock)
    order: list[Any] = []
    if favourite is not None:
        stmt = stmt.where(Product.favourite.is_(favourite))
        if favourite:
            order.append(Product.favourite_order)
    q = (q or "").strip()
    if q:
        ql = q.lower()
        barcode_hit = select(ProductBarcode.product_id).where(ProductBarcode.barcode == q)
        conds = [Product.id.in_(barcode_hit), Product.sku == q,
                 Product.name.contains(q, autoescape=True)]
        if _ASCII_WORD.match(ql):
            conds.append(Product.pinyin.startswith(ql, autoescape=True))
        stmt = stmt.where(or_(*conds))
        order.append(case((Product.id.in_(barcode_hit), 0), (Product.sku == q, 0),
                          (Product.name == q, 1), (Product.pinyin == ql, 1), else_=2))
    stmt = stmt.order_by(*order, Product.name, Product.id)
    rows = list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


# -- import / export ------------------------------------------------------------------------
IMPORT_ALIASES = {
    "barcode": "barcode", "条码": "barcode", "条形码": "barcode",
    "sku": "sku", "货号": "sku", "编码": "sku",
    "name": "name", "名称": "name", "商品名称": "name", "品名": "name",
    "price": "price", "售价": "price", "零售价": "price", "价格": "price",
    "member_price": "member_price", "会员价": "member_price",
    "cost": "cost", "进价": "cost", "成本": "cost", "成本价": "cost",
    "category": "category", "分类": "category", "类别": "category",
    "unit": "unit", "单位": "unit",
    "stock": "stock", "库存": "stock",
    "kind": "kind", "类型": "kind",
}
EXPORT_HEADERS = ["条码", "货号", "名称", "类型", "分类", "单位", "售价", "会员价", "进价",
                  "库存"]


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _money_cell(values: dict[str, str], key: str, required: bool = False) -> int | None:
    raw = values.get(key, "").strip()
    if not raw:
        if required:
            raise ValueError("不能为空")
        return None
    try:
        v = parse_yuan(raw)
    except MoneyError as e:
        raise ValueError(f"金额格式不正确：{raw}") from e
    if v < 0:
        raise ValueError("金额不能为负")
    return v


def import_products(session: Session, actor: Actor, filename: str, data: bytes,
                    dry_run: bool) -> ImportReport:
    """Create or update products from a sheet. Rows are matched by barcode, then SKU, so
    importing the same file twice updates instead of duplicating. All or nothing: one bad row
    and nothing is written (the report lists every bad row with its row number)."""
    rows = tabular.read_table(filename, data, IMPORT_ALIASES, required=["name", "price"])
    report = ImportReport(dry_run=dry_run, rows=len(rows))
    cats = {c.name: c for c in session.scalars(select(Category))}
    seen_codes: dict[str, int] = {}
    written: list[int] = []  # the products created or updated (the catalogue version)
    plans = []
    for row in rows:
        v = row.values
        try:
            name = v.get("name", "").strip()
            if not name or len(name) > 100:
                raise ValueError("名称不能为空且不超过 100 字")
            price = _money_cell(v, "price", required=True)
            member_price = _money_cell(v, "member_price")
            cost = _money_cell(v, "cost")
            barcodes = [c for c in re.split(r"[,;，；\s]+", v.get("barcode", "")) if c]
            for code in barcodes:
                if not _BARCODE_RE.match(code):
                    raise ValueError(f"条码格式不正确：{code}")
                if code in seen_codes:
                    raise ValueError(f"条码 {code} 与第 {seen_codes[code]} 行重复")
                seen_codes[code] = row.number
            kind_raw = v.get("kind", "").strip().lower()
            kind = {"": "product", "product": "product", "商品": "product",
                    "service": "service", "服务": "service"}.get(kind_raw)
            if kind is None:
                raise ValueError(f"类型应为 商品 或 服务：{kind_raw}")
            stock_raw = v.get("stock", "").strip()
            opening = int(stock_raw) if stock_raw else None
            if opening is not None and opening < 0:
                raise ValueError("库存不能为负")
            if opening is not None and kind == "service":
                raise ValueError("服务项目没有库存")
        except ValueError as e:
            report.errors.append({"row": row.number, "message": str(e)})
            continue
        plans.append((row.number, dict(name=name, price=price, member_price=member_price,
                                       cost=cost, barcodes=barcodes, sku=v.get("sku", "").strip(),
                                       kind=kind, unit=v.get("unit", "").strip() or "件",
                                       category=v.get("category", "").strip(),
                                       opening=opening)))
    for _, plan in plans:
        existing = None
        if plan["barcodes"]:
            existing = session.scalar(select(Product).join(ProductBarcode).where(
                ProductBarcode.barcode.in_(plan["barcodes"])).limit(1))
        if existing is None and plan["sku"]:
            existing = session.scalar(select(Product).where(Product.sku == plan["sku"]))
        if existing is None:
            report.created += 1
        else:
            report.updated += 1
        if dry_run or report.errors:
            continue
        cat_id = None
        if plan["category"]:
            cat = cats.get(plan["category"])
            if cat is None:
                cat = Category(name=plan["category"][:64], sort_order=0, active=True)
                session.add(cat)
                session.flush()
                cats[cat.name] = cat
            cat_id = cat.id
        if existing is None:
            p = Product(kind=plan["kind"], sku=plan["sku"] or None, name=plan["name"],
                        pinyin=pinyin_initials(plan["name"]), unit=plan["unit"],
                        category_id=cat_id, price=plan["price"],
                        member_price=plan["member_price"], cost=plan["cost"],
                        track_stock=plan["opening"] is not None, stock=0)
            session.add(p)
            session.flush()
            _set_barcodes(session, p, plan["barcodes"])
            if plan["opening"]:
                stock.move(session, actor, p, plan["opening"], "opening", "import", filename[:40])
            written.append(p.id)
        else:
            p = session.get(Product, existing.id, with_for_update=True, populate_existing=True)
            assert p is not None
            p.name, p.pinyin = plan["name"], pinyin_initials(plan["name"])
            p.price, p.unit = plan["price"], plan["unit"]
            if plan["member_price"] is not None:
                p.member_price = plan["member_price"]
            if plan["cost"] is not None:
                p.cost = plan["cost"]
            if cat_id is not None:
                p.category_id = cat_id
            if plan["barcodes"]:
                _set_barcodes(session, p, sorted(set(plan["barcodes"]) | set(
                    barcodes_of(session, [p.id])[p.id])))
            written.append(p.id)
    if report.errors:
        report.created = report.updated = 0
        if not dry_run:
            raise ApiError("import_rejected", status=422,
                           message=f"有 {len(report.errors)} 行数据有误，未导入任何数据",
                           fields={f"row {e['row']}": e["message"] for e in report.errors[:200]})
    if not dry_run:
        session.flush()
        catalog_version.bump(session, written)
        audit.write(session, actor, "product.import", "product", None,
                    after={"file": filename, "created": report.created,
                           "updated": report.updated})
    return report


def export_products(session: Session, fmt: str) -> bytes:
    cats = {c.id: c.name for c in session.scalars(select(Category))}

    def rows():
        last_id = 0
        while True:  # stream in chunks: exports of big catalogs stay small in memory
            batch = list(session.scalars(select(Product).where(Product.id > last_id)
                                         .order_by(Product.id).limit(1000)))
            if not batch:
                return
            codes = barcodes_of(session, [p.id for p in batch])
            for p in batch:
                yield [",".join(codes.get(p.id, [])), p.sku or "", p.name,
                       "服务" if p.kind == "service" else "商品",
                       cats.get(p.category_id, ""), p.unit, _yuan(p.price),
                       _yuan(p.member_price), _yuan(p.cost),
                       p.stock if p.track_stock else ""]
            last_id = batch[-1].id

    return tabular.write_table(fmt, EXPORT_HEADERS, rows())


def _yuan(fen: int | None) -> str:
    from common.money import format_plain

    return "" if fen is None else format_plain(fen)
