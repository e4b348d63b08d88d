from __future__ import annotations

import datetime as dt

from common.schemas.base import Page
from common.schemas.sales import (
    ApprovalIn,
    ApprovalOut,
    CartIn,
    CommissionQuery,
    CommissionTotalOut,
    MyCommissionQuery,
    MySalesOut,
    OfflineDifferenceOut,
    OfflineDifferenceQuery,
    QuoteOut,
    RefundIn,
    RefundOut,
    SaleIn,
    SaleOut,
    SaleQuery,
    SaleSummaryOut,
)
from server.clock import shop_clock
from server.domain import approvals, offline_sales, refunds, sale_views, sales, staff_sales

from .base import ALL_STAFF, MANAGERS, ApiBlueprint, Ctx

bp = ApiBlueprint("sales", __name__, tag="checkout")


@bp.endpoint("POST", "/sales/quote", roles=ALL_STAFF, body=CartIn, response=QuoteOut,
             idempotent=False)
def quote(ctx: Ctx, body: CartIn) -> QuoteOut:
    """Price a cart with the server's prices and the member's level, coupon and count cards,
    without writing anything."""
    clock = shop_clock(ctx.state.config)
    now = clock.now()
    return sale_views.quote_out(sales.quote(ctx.db, ctx.me, body, today=now.date(),
                                            at=now.replace(tzinfo=None)))


@bp.endpoint("POST", "/sales", roles=ALL_STAFF, body=SaleIn, response=SaleOut, status=201)
def create_sale(ctx: Ctx, body: SaleIn) -> SaleOut:
    """Complete a sale: the server recomputes every price; payments must cover the total
    exactly (cash may exceed: change). Send the sale's own UUID as Idempotency-Key.

    With ``offline`` (a sale replayed from the counter's offline journal): recorded with the
    counter's time and amounts, ``origin`` offline, cash/card/WeChat/Alipay only (422
    ``offline_not_allowed``); what the server would charge otherwise goes to
    ``GET /sales/offline-differences``."""
    new = offline_sales.accept_sale(ctx.db, ctx.me, ctx.state.passwords, body,
                                    clock=shop_clock(ctx.state.config))
    return sale_views.sale_out(ctx.db, new.sale, new.stock_warnings, viewer=ctx.me.role,
                               lines=new.lines, payments=new.payments)


@bp.endpoint("GET", "/sales", roles=ALL_STAFF, query=SaleQuery, response=Page[SaleSummaryOut])
def list_sales(ctx: Ctx, query: SaleQuery) -> Page[SaleSummaryOut]:
    """Sales, newest first; ``q`` matches the sale number prefix; ``total_min`` /
    ``total_max`` (fen) bound the total."""
    rows, more = sale_views.list_sales(ctx.db, query.page, query.page_size, query.q,
                                       query.date_from, query.date_to, query.member_id,
                                       query.counter, total_min=query.total_min,
                                       total_max=query.total_max, origin=query.origin)
    return Page[SaleSummaryOut](items=rows, page=query.page, page_size=query.page_size,
                                has_more=more)


@bp.endpoint("GET", "/sales/offline-differences", roles=MANAGERS,
             query=OfflineDifferenceQuery, response=Page[OfflineDifferenceOut])
def offline_differences(ctx: Ctx, query: OfflineDifferenceQuery) -> Page[OfflineDifferenceOut]:
    """What replayed offline sales did otherwise than the server would charge (a price
    changed, a product inactive, a member unknown, the total, negative stock…), newest
    first: a manager's review list."""
    return offline_sales.list_differences(ctx.db, query)


@bp.endpoint("GET", "/sales/<string:sale_ref>", roles=ALL_STAFF, response=SaleOut)
def get_sale(ctx: Ctx, sale_ref: str) -> SaleOut:
    """One sale by UUID or by number (scan the receipt barcode) — for reprints and refunds."""
    return sale_views.sale_out(ctx.db, sales.get_sale(ctx.db, sale_ref), viewer=ctx.me.role)


@bp.endpoint("POST", "/sales/<string:sale_ref>/refunds", roles=ALL_STAFF, body=RefundIn,
             response=RefundOut, status=201)
def refund_sale(ctx: Ctx, sale_ref: str, body: RefundIn) -> RefundOut:
    """Refund a whole sale or some lines; money goes back the way it came. Managers and
    owners refund directly; a cashier needs a manager's approval token (purpose refund)."""
    rf = refunds.refund(ctx.db, ctx.me, sale_ref, body,
                        today=shop_clock(ctx.state.config).today())
    return sale_views.refund_out(ctx.db, rf, viewer=ctx.me.role)


@bp.endpoint("POST", "/approvals", roles=ALL_STAFF, body=ApprovalIn, response=ApprovalOut,
             status=201, idempotent=False, commit_errors=True)
def grant_approval(ctx: Ctx, body: ApprovalIn) -> ApprovalOut:
    """A manager types their password at the counter to approve e.g. a big discount; the
    returned token goes with the next sale (valid 5 minutes, used once)."""
    token, row, approver = approvals.grant(ctx.db, ctx.me, ctx.state.passwords,
                                           ctx.state.auth_policy, body.username, body.password,
                                           body.purpose)
    return ApprovalOut(approval_token=token, approver=approver.username,
                       approver_name=approver.display_name, expires_at=row.expires_at)


@bp.endpoint("GET", "/commissions", roles=MANAGERS, query=CommissionQuery,
             response=list[CommissionTotalOut])
def commissions(ctx: Ctx, query: CommissionQuery) -> list[CommissionTotalOut]:
    """Commission (提成) per staff member for a period (sales minus refunds) of shop days."""
    clock = shop_clock(ctx.state.config)
    start = clock.day_start(query.date_from)
    end = clock.day_start(query.date_to + dt.timedelta(days=1))
    return [CommissionTotalOut(**r) for r in sale_views.commission_totals(
        ctx.db, start, end, query.staff_id)]


@bp.endpoint("GET", "/commissions/mine", roles=ALL_STAFF, query=MyCommissionQuery,
             response=MySalesOut)
def my_commissions(ctx: Ctx, query: MyCommissionQuery) -> MySalesOut:
    """我的业绩: the logged-in staff member's own commission and the lines they served (技师
    / 导购) over business days ``date_from``..``date_to``, and the sales they rang up."""
    return MySalesOut.model_validate(staff_sales.mine(ctx.db, ctx.me.staff_id,
                                                      query.date_from, query.date_to))
