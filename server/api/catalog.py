from __future__ import annotations

import base64

from common.schemas.base import Page
from common.schemas.catalog import (
    CatalogSnapshotOut,
    CatalogSnapshotQuery,
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    ExportQuery,
    FileOut,
    ImportIn,
    ImportReportOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    ProductQuery,
)
from server.domain import catalog, catalog_sync, tabular

from .base import ALL_STAFF, MANAGERS, ApiBlueprint, Ctx

bp = ApiBlueprint("catalog", __name__, tag="catalog")


def _out(ctx: Ctx, products) -> list[ProductOut]:
    return [ProductOut.model_validate(v) for v in catalog.view(ctx.db, list(products))]


@bp.endpoint("GET", "/categories", roles=ALL_STAFF, response=list[CategoryOut])
def list_categories(ctx: Ctx) -> list[CategoryOut]:
    """All active categories in display order."""
    return [CategoryOut.model_validate(c) for c in catalog.list_categories(ctx.db)]


@bp.endpoint("POST", "/categories", roles=MANAGERS, body=CategoryIn, response=CategoryOut,
             status=201)
def create_category(ctx: Ctx, body: CategoryIn) -> CategoryOut:
    """Create a category."""
    return CategoryOut.model_validate(catalog.create_category(ctx.db, ctx.me, body))


@bp.endpoint("PATCH", "/categories/<int:category_id>", roles=MANAGERS, body=CategoryPatch,
             response=CategoryOut)
def update_category(ctx: Ctx, category_id: int, body: CategoryPatch) -> CategoryOut:
    """Rename, reorder or deactivate a category."""
    return CategoryOut.model_validate(catalog.update_category(ctx.db, ctx.me, category_id,
                                                              body))


@bp.endpoint("GET", "/products", roles=ALL_STAFF, query=ProductQuery,
             response=Page[ProductOut])
def list_products(ctx: Ctx, query: ProductQuery) -> Page[ProductOut]:
    """Search products and services: barcode, SKU, name, pinyin initials (paged)."""
    rows, more = catalog.search(ctx.db, query.q, query.page, query.page_size, query.category_id,
                                query.kind, query.include_inactive, query.low_stock_only,
                                query.favourite)
    return Page[ProductOut](items=_out(ctx, rows), page=query.page, page_size=query.page_size,
                            has_more=more)


@bp.endpoint("POST", "/products", roles=MANAGERS, body=ProductIn, response=ProductOut,
             status=201)
def create_product(ctx: Ctx, body: ProductIn) -> ProductOut:
    """Create a product or service (opening stock goes through the stock ledger)."""
    return _out(ctx, [catalog.create_product(ctx.db, ctx.me, body)])[0]


@bp.endpoint("GET", "/products/<int:product_id>", roles=ALL_STAFF, response=ProductOut)
def get_product(ctx: Ctx, product_id: int) -> ProductOut:
    """One product."""
    return _out(ctx, [catalog.get_product(ctx.db, product_id)])[0]


@bp.endpoint("PATCH", "/products/<int:product_id>", roles=MANAGERS, body=ProductPatch,
             response=ProductOut)
def update_product(ctx: Ctx, product_id: int, body: ProductPatch) -> ProductOut:
    """Change a product (stock is changed only by stock movements)."""
    return _out(ctx, [catalog.update_product(ctx.db, ctx.me, product_id, body)])[0]


@bp.endpoint("GET", "/products/barcode/<string:code>", roles=ALL_STAFF, response=ProductOut)
def product_by_barcode(ctx: Ctx, code: str) -> ProductOut:
    """The product for a scanned barcode (or SKU); 404 ``barcode_not_found``."""
    return _out(ctx, [catalog.find_by_barcode(ctx.db, code)])[0]


@bp.endpoint("POST", "/products/import", roles=MANAGERS, body=ImportIn,
             response=ImportReportOut, max_body=tabular.MAX_UPLOAD_BODY)
def import_products(ctx: Ctx, body: ImportIn) -> ImportReportOut:
    """Import products from CSV/Excel. ``dry_run`` (default) only reports; a real import is
    all-or-nothing and matches existing products by barcode or SKU."""
    data = tabular.decode_upload(body.content_base64)
    report = catalog.import_products(ctx.db, ctx.me, body.filename, data, body.dry_run)
    return ImportReportOut.model_validate(report)


@bp.endpoint("GET", "/products/export", roles=MANAGERS, query=ExportQuery, response=FileOut)
def export_products(ctx: Ctx, query: ExportQuery) -> FileOut:
    """Export the catalog as CSV or Excel (base64 in JSON)."""
    data = catalog.export_products(ctx.db, query.format)
    ctype = ("text/csv" if query.format == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return FileOut(filename=f"products.{query.format}", content_type=ctype,
                   content_base64=base64.b64encode(data).decode())


@bp.endpoint("GET", "/catalog/snapshot", roles=ALL_STAFF, query=CatalogSnapshotQuery,
             response=CatalogSnapshotOut)
def catalog_snapshot(ctx: Ctx, query: CatalogSnapshotQuery) -> CatalogSnapshotOut:
    """The catalogue a counter keeps to sell offline: every product (``full``) or those
    changed after ``since`` (a version from an earlier answer), with the categories, levels,
    level prices and the settings pricing needs. ``version`` only grows."""
    return catalog_sync.snapshot(ctx.db, query.since, timezone=ctx.state.config.shop.timezone)
