from __future__ import annotations

from common.schemas.base import Page, PageQuery
from common.schemas.catalog import (
    PurchaseIn,
    PurchaseOut,
    StockAdjustmentIn,
    StockCountIn,
    StockCountLineOut,
    StockCountOut,
    StockLedgerOut,
)
from server.domain import stock

from .base import ALL_STAFF, MANAGERS, ApiBlueprint, Ctx

bp = ApiBlueprint("stock", __name__, tag="stock")


@bp.endpoint("GET", "/stock/ledger/<int:product_id>", roles=ALL_STAFF, query=PageQuery,
             response=Page[StockLedgerOut])
def stock_ledger(ctx: Ctx, product_id: int, query: PageQuery) -> Page[StockLedgerOut]:
    """A product's stock movements, newest first."""
    rows, more = stock.ledger(ctx.db, product_id, query.page, query.page_size)
    return Page[StockLedgerOut](items=[StockLedgerOut.model_validate(r) for r in rows],
                                page=query.page, page_size=query.page_size, has_more=more)


@bp.endpoint("POST", "/stock/adjustments", roles=MANAGERS, body=StockAdjustmentIn,
             response=StockLedgerOut, status=201)
def adjust_stock(ctx: Ctx, body: StockAdjustmentIn) -> dict:
    """Adjust stock by a signed quantity with a reason (breakage, gift...); audited."""
    m = stock.adjust(ctx.db, ctx.me, body.product_id, body.change, body.reason)
    rows, _ = stock.ledger(ctx.db, m.product_id, 1, 1)
    return StockLedgerOut.model_validate(rows[0]).model_dump()


@bp.endpoint("POST", "/stock/purchases", roles=MANAGERS, body=PurchaseIn, response=PurchaseOut,
             status=201)
def receive_purchase(ctx: Ctx, body: PurchaseIn) -> PurchaseOut:
    """Receive goods (进货): stock up, cost updated."""
    r = stock.receive_purchase(ctx.db, ctx.me, body.supplier, body.note,
                               [(ln.product_id, ln.qty, ln.unit_cost) for ln in body.lines])
    return PurchaseOut(id=r.id, supplier=r.supplier, note=r.note, total_cost=r.total_cost,
                       at=r.at, lines=body.lines)


@bp.endpoint("POST", "/stock/counts", roles=MANAGERS, body=StockCountIn, response=StockCountOut,
             status=201)
def stock_count(ctx: Ctx, body: StockCountIn) -> StockCountOut:
    """Stock count (盘点): counted quantities become the stock; returns the difference
    report. With ``dry_run`` only the report is computed."""
    count_id, lines = stock.count(ctx.db, ctx.me, [(ln.product_id, ln.counted)
                                                   for ln in body.lines], body.note,
                                  body.dry_run)
    return StockCountOut(id=count_id, dry_run=body.dry_run,
                         lines=[StockCountLineOut.model_validate(x) for x in lines],
                         total_difference=sum(x.difference for x in lines),
                         total_cost_difference=sum(x.cost_difference for x in lines))
