from __future__ import annotations

from common.errors import ApiError
from common.schemas.sales import (
    CashCountIn,
    DayCloseOut,
    DayCloseQuery,
    ShiftOpenIn,
    ShiftReportOut,
)
from server.clock import shop_clock
from server.domain import shifts

from .base import ALL_STAFF, MANAGERS, ApiBlueprint, Ctx

bp = ApiBlueprint("shifts", __name__, tag="checkout")


@bp.endpoint("POST", "/shifts", roles=ALL_STAFF, body=ShiftOpenIn, response=ShiftReportOut,
             status=201)
def open_shift(ctx: Ctx, body: ShiftOpenIn) -> ShiftReportOut:
    """Open a shift at this counter with a cash float (备用金)."""
    shift = shifts.open_shift(ctx.db, ctx.me, body.float_amount,
                              today=shop_clock(ctx.state.config).today())
    return ShiftReportOut.model_validate(shifts.report(ctx.db, shift))


@bp.endpoint("GET", "/shifts/current", roles=ALL_STAFF, response=ShiftReportOut)
def current_shift(ctx: Ctx) -> ShiftReportOut:
    """The open shift of this counter with its live figures (404 if none is open)."""
    shift = shifts.current(ctx.db, ctx.me.counter)
    if shift is None:
        raise ApiError("no_open_shift", status=404)
    return ShiftReportOut.model_validate(shifts.report(ctx.db, shift))


@bp.endpoint("GET", "/shifts/<int:shift_id>", roles=ALL_STAFF, response=ShiftReportOut)
def shift_report(ctx: Ctx, shift_id: int) -> ShiftReportOut:
    """A shift's report (for printing)."""
    return ShiftReportOut.model_validate(shifts.report(ctx.db, shifts.get(ctx.db, shift_id)))


@bp.endpoint("POST", "/shifts/<int:shift_id>/close", roles=ALL_STAFF, body=CashCountIn,
             response=ShiftReportOut)
def close_shift(ctx: Ctx, shift_id: int, body: CashCountIn) -> ShiftReportOut:
    """Close a shift (交班) with the cash counted by denomination; the difference against the
    expected cash is recorded."""
    rep = shifts.close_shift(ctx.db, ctx.me, shift_id, body.denominations, body.note)
    return ShiftReportOut.model_validate(rep)


@bp.endpoint("GET", "/shifts/day-close", roles=MANAGERS, query=DayCloseQuery,
             response=DayCloseOut)
def day_close(ctx: Ctx, query: DayCloseQuery) -> DayCloseOut:
    """Day close (日结): all shifts of a business day summed."""
    day = query.date or shop_clock(ctx.state.config).today()
    return DayCloseOut.model_validate(shifts.day_close(ctx.db, day))
