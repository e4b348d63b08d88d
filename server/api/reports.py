"""Reports (报表): sales summaries for a period, and the owner's reports — members and
stored-value liability, count cards, stock, exceptions, member lists (owner / manager)."""

from __future__ import annotations

from common.schemas.base import Page
from common.schemas.reports import (
    CountCardReportOut,
    ExceptionsQuery,
    ExceptionsReportOut,
    MemberListCountOut,
    MemberListDef,
    MemberListQuery,
    MemberListRowOut,
    MemberReportOut,
    MemberReportQuery,
    PeriodQuery,
    SalesReportOut,
    SalesReportQuery,
    StockReportOut,
)
from server.clock import shop_clock
from server.domain import owner_reports, reports

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


@bp.endpoint("GET", "/reports/members", roles=MANAGERS, query=MemberReportQuery,
             response=MemberReportOut)
def member_report(ctx: Ctx, query: MemberReportQuery) -> MemberReportOut:
    """会员报表: members, stored-value liability now (principal and bonus apart, from the
    members' balances), points outstanding; the period's recharges, stored-value spending,
    points, member and guest sales, and the top spenders."""
    return owner_reports.member_report(ctx.db, query, clock=shop_clock(ctx.state.config))


@bp.endpoint("GET", "/reports/count-cards", roles=MANAGERS, query=PeriodQuery,
             response=CountCardReportOut)
def count_card_report(ctx: Ctx, query: PeriodQuery) -> CountCardReportOut:
    """次卡报表 per package: cards sold and uses taken in the period; cards, uses and value
    left now (the liability), uses left on expired cards apart."""
    return owner_reports.count_card_report(ctx.db, query, clock=shop_clock(ctx.state.config))


@bp.endpoint("GET", "/reports/stock", roles=MANAGERS, query=PeriodQuery,
             response=StockReportOut)
def stock_report(ctx: Ctx, query: PeriodQuery) -> StockReportOut:
    """库存报表: stock value at cost and per category, low stock (now); the period's stock
    movements per kind."""
    return owner_reports.stock_report(ctx.db, query, clock=shop_clock(ctx.state.config))


@bp.endpoint("GET", "/reports/exceptions", roles=MANAGERS, query=ExceptionsQuery,
             response=ExceptionsReportOut)
def exceptions_report(ctx: Ctx, query: ExceptionsQuery) -> ExceptionsReportOut:
    """退款、折扣、作废 of the period, with who made and who approved them."""
    return owner_reports.exceptions_report(ctx.db, query, clock=shop_clock(ctx.state.config))


@bp.endpoint("GET", "/reports/member-list", roles=MANAGERS, query=MemberListQuery,
             response=Page[MemberListRowOut])
def member_list(ctx: Ctx, query: MemberListQuery) -> Page[MemberListRowOut]:
    """会员名单 / 会员关怀: new members of a period, dormant members (no visit in ``days``),
    birthdays this month or this week, stored value below a threshold, count cards with few
    uses left or expiring within ``days``; paged; phones masked (a report may be exported;
    the owner's audited ``/members/export`` takes the same list with full phones)."""
    clock = shop_clock(ctx.state.config)
    return owner_reports.member_list(ctx.db, query, clock=clock, today=clock.today())


@bp.endpoint("GET", "/reports/member-list/count", roles=MANAGERS, query=MemberListDef,
             response=MemberListCountOut)
def member_list_count(ctx: Ctx, query: MemberListDef) -> MemberListCountOut:
    """How many members a list holds now (whom a bulk coupon to it will reach)."""
    clock = shop_clock(ctx.state.config)
    care = owner_reports.resolve_list(ctx.db, query)
    return MemberListCountOut(count=owner_reports.list_count(
        ctx.db, care, clock=clock, today=clock.today()), definition=care.definition())
