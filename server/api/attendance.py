"""Attendance (考勤): clock actions at a counter, the month's summary and days, planned shifts,
corrections, the grace setting. Rules: ``server/domain/attendance.py``."""

from __future__ import annotations

from common.schemas.attendance import (
    AttendanceSettings,
    ClockIn,
    ClockOut,
    ClockStaffOut,
    CorrectionIn,
    CorrectionOut,
    DaysOut,
    DaysQuery,
    MonthQuery,
    PlanIn,
    PlanOut,
    PlansQuery,
    PlanUpdate,
    SummaryOut,
)
from common.schemas.staff import MyPinIn, StaffOut
from server.clock import shop_clock
from server.db.models import Staff
from server.domain import attendance

from .base import ALL_STAFF, MANAGERS, OWNER, ApiBlueprint, Ctx

bp = ApiBlueprint("attendance", __name__, tag="attendance")


@bp.endpoint("POST", "/attendance/clock", roles=ALL_STAFF, body=ClockIn, response=ClockOut,
             status=201, commit_errors=True)
def clock(ctx: Ctx, body: ClockIn) -> ClockOut:
    """Clock in / start a break / end a break / clock out (上班 / 开始休息 / 结束休息 / 下班)
    at this counter, for the staff member ``username`` with their own password or PIN.

    The secret is checked like a login: wrong ones count towards the account's lockout and
    this computer's limit (429)."""
    res = attendance.clock_action(ctx.db, ctx.me, ctx.state.passwords, ctx.state.auth_policy,
                                  shop_clock(ctx.state.config), body.username, body.secret,
                                  body.action)
    return ClockOut(**res)


@bp.endpoint("GET", "/attendance/staff", roles=ALL_STAFF, response=list[ClockStaffOut])
def clock_staff(ctx: Ctx) -> list[ClockStaffOut]:
    """Active staff to pick in the counter's 考勤打卡 dialog, with who is clocked in now."""
    return [ClockStaffOut(**r) for r in attendance.staff_states(ctx.db)]


@bp.endpoint("PUT", "/attendance/my-pin", roles=ALL_STAFF, body=MyPinIn, response=StaffOut,
             commit_errors=True)
def set_my_pin(ctx: Ctx, body: MyPinIn) -> StaffOut:
    """Set one's own PIN for clocking in (4–8 digits), proven with one's password."""
    staff: Staff = attendance.set_own_pin(ctx.db, ctx.me, ctx.state.passwords,
                                          ctx.state.auth_policy, body.password, body.pin)
    return StaffOut.model_validate(staff)


@bp.endpoint("GET", "/attendance/summary", roles=MANAGERS, query=MonthQuery,
             response=SummaryOut)
def summary(ctx: Ctx, query: MonthQuery) -> SummaryOut:
    """Every staff member's month: days worked, minutes worked, late arrivals, early leaves,
    missing clock-outs, absent planned days (shop time; grace from the settings)."""
    return SummaryOut.model_validate(attendance.summary(ctx.db, shop_clock(ctx.state.config),
                                                        query.month))


@bp.endpoint("GET", "/attendance/days", roles=MANAGERS, query=DaysQuery, response=DaysOut)
def days(ctx: Ctx, query: DaysQuery) -> DaysOut:
    """One staff member's days of a month: plan, punches in effect and the day's figures."""
    return DaysOut.model_validate(attendance.days(ctx.db, shop_clock(ctx.state.config),
                                                  query.month, query.staff_id))


@bp.endpoint("GET", "/attendance/plans", roles=MANAGERS, query=PlansQuery,
             response=list[PlanOut])
def list_plans(ctx: Ctx, query: PlansQuery) -> list[PlanOut]:
    """Planned shifts (排班) of a month, optionally of one staff member."""
    return [PlanOut.model_validate(p)
            for p in attendance.list_plans(ctx.db, query.month, query.staff_id)]


@bp.endpoint("POST", "/attendance/plans", roles=MANAGERS, body=PlanIn, response=list[PlanOut],
             status=201)
def set_plans(ctx: Ctx, body: PlanIn) -> list[PlanOut]:
    """Plan one shift on several days for a staff member (a day's plan is replaced)."""
    return [PlanOut.model_validate(p) for p in attendance.set_plans(ctx.db, ctx.me, body)]


@bp.endpoint("PATCH", "/attendance/plans/<int:plan_id>", roles=MANAGERS, body=PlanUpdate,
             response=PlanOut)
def update_plan(ctx: Ctx, plan_id: int, body: PlanUpdate) -> PlanOut:
    """Change a planned shift."""
    return PlanOut.model_validate(attendance.update_plan(ctx.db, ctx.me, plan_id, body))


@bp.endpoint("DELETE", "/attendance/plans/<int:plan_id>", roles=MANAGERS, status=204)
def delete_plan(ctx: Ctx, plan_id: int) -> None:
    """Delete a planned shift."""
    attendance.delete_plan(ctx.db, ctx.me, plan_id)


@bp.endpoint("GET", "/attendance/corrections", roles=MANAGERS, query=PlansQuery,
             response=list[CorrectionOut])
def list_corrections(ctx: Ctx, query: PlansQuery) -> list[CorrectionOut]:
    """Managers' corrections of a month (who, when, before / after, reason)."""
    rows = attendance.list_corrections(ctx.db, shop_clock(ctx.state.config), query.month,
                                       query.staff_id)
    return [CorrectionOut.model_validate(r) for r in rows]


@bp.endpoint("POST", "/attendance/corrections", roles=MANAGERS, body=CorrectionIn,
             response=CorrectionOut, status=201)
def correct(ctx: Ctx, body: CorrectionIn) -> CorrectionOut:
    """Add a punch, change a punch's time or remove a punch, with the reason (audited with
    before and after). A manager cannot correct their own attendance or an owner's."""
    clock_ = shop_clock(ctx.state.config)
    row = attendance.correct(ctx.db, ctx.me, clock_, body)
    return CorrectionOut.model_validate(attendance.correction_out(row, clock_, ctx.me.username))


@bp.endpoint("GET", "/attendance/settings", roles=MANAGERS, response=AttendanceSettings)
def get_settings(ctx: Ctx) -> AttendanceSettings:
    """The grace minutes of late arrivals and early leaves."""
    return attendance.get_settings(ctx.db)


@bp.endpoint("PUT", "/attendance/settings", roles=OWNER, body=AttendanceSettings,
             response=AttendanceSettings)
def put_settings(ctx: Ctx, body: AttendanceSettings) -> AttendanceSettings:
    """Change the grace minutes (owner; audited)."""
    return attendance.put_settings(ctx.db, ctx.me, body)
