from __future__ import annotations

from common.schemas.base import Page, PageQuery
from common.schemas.sales import HeldOrderIn, HeldOrderOut
from server.db.sales import HeldOrder
from server.domain import held_orders

from .base import ALL_STAFF, ApiBlueprint, Ctx

bp = ApiBlueprint("held_orders", __name__, tag="checkout")


def _out(row: HeldOrder) -> HeldOrderOut:
    cart = held_orders.cart_of(row)
    return HeldOrderOut(id=row.id, version=row.version, label=row.label, counter=row.counter,
                        staff_id=row.staff_id, created_at=row.created_at,
                        line_count=len(cart.lines), cart=cart)


@bp.endpoint("GET", "/held-orders", roles=ALL_STAFF, query=PageQuery,
             response=Page[HeldOrderOut])
def list_held_orders(ctx: Ctx, query: PageQuery) -> Page[HeldOrderOut]:
    """Held orders of all counters, newest first."""
    rows, more = held_orders.list_held(ctx.db, query.page, query.page_size)
    return Page[HeldOrderOut](items=[_out(r) for r in rows], page=query.page,
                              page_size=query.page_size, has_more=more)


@bp.endpoint("POST", "/held-orders", roles=ALL_STAFF, body=HeldOrderIn, response=HeldOrderOut,
             status=201)
def hold_order(ctx: Ctx, body: HeldOrderIn) -> HeldOrderOut:
    """Park the current cart (挂单)."""
    return _out(held_orders.hold(ctx.db, ctx.me, body.label, body.cart))


@bp.endpoint("POST", "/held-orders/<int:held_id>/resume", roles=ALL_STAFF,
             response=HeldOrderOut)
def resume_held_order(ctx: Ctx, held_id: int) -> HeldOrderOut:
    """Take a held order back into a cart (取单) on any counter; it leaves the list."""
    return _out(held_orders.take(ctx.db, ctx.me, held_id))


@bp.endpoint("DELETE", "/held-orders/<int:held_id>", roles=ALL_STAFF, status=204)
def delete_held_order(ctx: Ctx, held_id: int) -> None:
    """Discard a held order (audited)."""
    held_orders.take(ctx.db, ctx.me, held_id, delete_reason="")
