"""Stock: the append-only stock ledger and everything that moves stock.

``move(session, actor, product_id, change, kind, ...)`` is the only function that changes
``Product.stock``. It locks the product row (``SELECT … FOR UPDATE``), appends a ledger row with
``balance_after`` and updates the cache, so concurrent counters never lose an update. Callers
that move several products in one transaction (a sale) call it in product-id order.

Whether a sale may drive stock below zero is the shop setting ``stock.allow_negative``
(default: allowed, and the sale response flags it); purchases, adjustments and counts always
may not leave a negative stock.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.errors import ApiError
from server.db.catalog import (
    Product,
    PurchaseReceipt,
    PurchaseReceiptLine,
    StockCount,
    StockCountLine,
    StockLedger,
)

from . import audit, settings
from .actor import Actor

ALLOW_NEGATIVE_KEY = "stock.allow_negative"


@dataclass(frozen=True)
class Movement:
    product_id: int
    change: int
    balance_after: int

    @property
    def negative(self) -> bool:
        return self.balance_after < 0


def lock_products(session: Session, product_ids: list[int]) -> dict[int, Product]:
    """Lock products in id order (avoids deadlocks between counters) and return them."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    # populate_existing: rows already in the session (e.g. loaded by the quote) must be
    # refreshed from the locked read, or a stale stock would overwrite a concurrent sale's
    rows = session.scalars(
        select(Product).where(Product.id.in_(ids)).order_by(Product.id).with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {p.id: p for p in rows}


def move(session: Session, actor: Actor, product: Product, change: int, kind: str,
         ref_type: str | None = None, ref_id: str | int | None = None,
         note: str | None = None, allow_negative: bool | None = None) -> Movement:
    """Move stock of a product that the caller has locked (``lock_products``)."""
    if not product.track_stock or change == 0:
        return Movement(product.id, 0, product.stock)
    new_balance = product.stock + change
    if new_balance < 0:
        if allow_negative is None:
            allow_negative = bool(settings.get(session, ALLOW_NEGATIVE_KEY, True))
        if not allow_negative:
            raise ApiError("insufficient_stock", status=409, name=product.name,
                           stock=product.stock)
    product.stock = new_balance
    session.add(StockLedger(product_id=product.id, change=change, balance_after=new_balance,
                            kind=kind, ref_type=ref_type,
                            ref_id=None if ref_id is None else str(ref_id), note=note,
                            staff_id=actor.staff_id))
    return Movement(product.id, change, new_balance)


def adjust(session: Session, actor: Actor, product_id: int, change: int, reason: str
           ) -> Movement:
    product = lock_products(session, [product_id]).get(product_id)
    if product is None:
        raise ApiError("not_found", status=404, what="商品")
    if not product.track_stock:
        raise ApiError("stock_not_tracked", status=422, name=product.name)
    before = product.stock
    m = move(session, actor, product, change, "adjust", note=reason, allow_negative=False)
    audit.write(session, actor, "stock.adjust", "product", product.id,
                before={"stock": before}, after={"stock": m.balance_after}, reason=reason)
    return m


def receive_purchase(session: Session, actor: Actor, supplier: str | None, note: str | None,
                     lines: list[tuple[int, int, int]]) -> PurchaseReceipt:
    """Goods in: ``lines`` = (product_id, qty, unit_cost). Updates the product cost too."""
    products = lock_products(session, [pid for pid, _, _ in lines])
    for pid, _, _ in lines:
        p = products.get(pid)
        if p is None:
            raise ApiError("not_found", status=404, what=f"商品 #{pid}")
        if not p.track_stock:
            raise ApiError("stock_not_tracked", status=422, name=p.name)
    receipt = PurchaseReceipt(supplier=supplier, note=note, staff_id=actor.staff_id,
                              total_cost=sum(q * c for _, q, c in lines))
    session.add(receipt)
    session.flush()
    for pid, qty, unit_cost in sorted(lines):
        session.add(PurchaseReceiptLine(receipt_id=receipt.id, product_id=pid, qty=qty,
                                        unit_cost=unit_cost))
        move(session, actor, products[pid], qty, "purchase", "purchase", receipt.id)
        products[pid].cost = unit_cost
    audit.write(session, actor, "stock.purchase", "purchase_receipt", receipt.id,
                after={"lines": [list(x) for x in lines], "total_cost": receipt.total_cost})
    return receipt


@dataclass
class CountLineResult:
    product_id: int
    name: str
    expected: int
    counted: int
    difference: int
    cost_difference: int


def count(session: Session, actor: Actor, lines: list[tuple[int, int]], note: str | None,
          dry_run: bool) -> tuple[int | None, list[CountLineResult]]:
    """A stock count (盘点): the counted quantities become the stock; the difference report
    is returned (and, unless ``dry_run``, written to the ledger as kind 'count')."""
    ids = [pid for pid, _ in lines]
    if len(set(ids)) != len(ids):
        raise ApiError("validation_error", status=400, message="盘点单中有重复的商品")
    products = (lock_products(session, ids) if not dry_run else
                {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))})
    results = []
    for pid, counted in sorted(lines):
        p = products.get(pid)
        if p is None:
            raise ApiError("not_found", status=404, what=f"商品 #{pid}")
        if not p.track_stock:
            raise ApiError("stock_not_tracked", status=422, name=p.name)
        diff = counted - p.stock
        results.append(CountLineResult(pid, p.name, p.stock, counted, diff,
                                       diff * (p.cost or 0)))
    if dry_run:
        return None, results
    sc = StockCount(status="closed", note=note, staff_id=actor.staff_id)
    session.add(sc)
    session.flush()
    for r in results:
        session.add(StockCountLine(count_id=sc.id, product_id=r.product_id, expected=r.expected,
                                   counted=r.counted, difference=r.difference,
                                   cost_difference=r.cost_difference))
        move(session, actor, products[r.product_id], r.difference, "count", "count", sc.id,
             allow_negative=False)
    audit.write(session, actor, "stock.count", "stock_count", sc.id,
                after={"lines": len(results),
                       "difference": sum(r.difference for r in results)}, reason=note)
    return sc.id, results


def ledger(session: Session, product_id: int, page: int, page_size: int
           ) -> tuple[list[StockLedger], bool]:
    rows = list(session.scalars(
        select(StockLedger).where(StockLedger.product_id == product_id)
        .order_by(StockLedger.id.desc()).offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


def check_stock_matches_ledger(session: Session) -> list[str]:
    """verify: every product's cached stock equals its ledger sum and last balance_after."""
    sums = dict(session.execute(
        select(StockLedger.product_id, func.sum(StockLedger.change))
        .group_by(StockLedger.product_id)).all())
    problems = []
    for pid, name, stock, tracked in session.execute(
            select(Product.id, Product.name, Product.stock, Product.track_stock)):
        expected = int(sums.get(pid) or 0)
        if stock != expected:
            problems.append(f"product {pid} {name}: stock {stock} != ledger sum {expected}")
        elif not tracked and stock != 0:
            problems.append(f"product {pid} {name}: untracked but stock {stock}")
    last = session.execute(
        select(StockLedger.product_id, StockLedger.balance_after)
        .where(StockLedger.id.in_(select(func.max(StockLedger.id))
                                  .group_by(StockLedger.product_id)))).all()
    stocks = dict(session.execute(select(Product.id, Product.stock)).all())
    for pid, bal in last:
        if stocks.get(pid) != bal:
            problems.append(f"product {pid}: last ledger balance_after {bal} != stock "
                            f"{stocks.get(pid)}")
    return problems
