"""Reports (报表): sales summaries for a period (owner / manager)."""

from __future__ import annotations

from common.schemas.reports import SalesReportOut, SalesReportQuery
from server.clock import shop_clock
from server.domain import reports

from .base import MANAGERS, ApiBlueprint, Ctx

bp = ApiBlueprint("reports", __name__, tag="reports")


@bp.endpoint("GET", "/reports/sales", roles=MANAGERS, query=SalesReportQuery,
             response=SalesReportOut)
def sales_report(ctx: Ctx, query: SalesReportQuery) -> SalesReportOut:
    """Sales of a period (business days ``date_from``..``date_to``) grouped by day, month,
    hour of the day (the shop's), payment method, category, product (top N), cashier or
    serving staff: count, quantity, list total, discounts, total,
    refunds (on the refund's day), net, and gross margin where the cost is known."""
    clock = shop_clock(ctx.state.config)
    return reports.sales_report(ctx.db, query, today=clock.today(), tz=clock.tz,
                                cache=ctx.state.policy.writes_report_cache)
