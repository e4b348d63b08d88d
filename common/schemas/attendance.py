"""Attendance (考勤): clocking in and out at a counter with one's own password or PIN, planned
shifts (排班), the month's summary and days, managers' corrections. Every figure is computed
on the server (``server/domain/attendance.py``); times of day are shop wall-clock time."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from .base import ApiModel, DbId, PatchModel, Role, UtcDatetime

ClockAction = Literal["in", "break_start", "break_end", "out"]
"""上班 / 开始休息 / 结束休息 / 下班 — also the kinds of punches."""
CLOCK_ACTIONS: tuple[str, ...] = ("in", "break_start", "break_end", "out")
AttendanceState = Literal["off", "working", "break"]
CorrectionAction = Literal["add", "change", "remove"]
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_GRACE_MINUTES = 120
MAX_BREAK_MINUTES = 600
MAX_PLAN_DAYS = 62


def month_days(month: str) -> tuple[dt.date, dt.date]:
    """'2026-02' → (2026-02-01, 2026-02-28)."""
    year, mon = (int(x) for x in month.split("-"))
    first = dt.date(year, mon, 1)
    nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


class ClockIn(ApiModel):
    """A clock action of ``username``, proven with their own password or PIN (never the
    logged-in cashier's). Checked like a login: wrong secrets count towards the account's
    lockout and the counter's address limit (429)."""

    secret_fields: ClassVar[frozenset[str]] = frozenset({"secret"})

    username: str = Field(min_length=1, max_length=32)
    secret: str = Field(min_length=1, max_length=128,
                        description="the staff member's own password or PIN")
    action: ClockAction


class ClockOut(ApiModel):
    staff_id: int
    username: str
    display_name: str
    action: ClockAction
    at: UtcDatetime
    local_time: dt.datetime = Field(description="shop wall-clock time of the punch")
    business_date: dt.date
    state: AttendanceState = Field(description="after this action")
    session_minutes: int | None = Field(
        None, description="on clock-out: minutes worked in the session, breaks taken off")


class ClockStaffOut(ApiModel):
    """A staff member a counter's 考勤打卡 dialog offers, and where they stand now."""

    id: int
    username: str
    display_name: str
    state: AttendanceState
    since: UtcDatetime | None = Field(None, description="the open session's clock-in")


class MonthQuery(ApiModel):
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM (shop time)")


class DaysQuery(MonthQuery):
    staff_id: DbId


class PlansQuery(MonthQuery):
    staff_id: DbId | None = None


class MonthFigures(ApiModel):
    """A month's attendance figures (minutes are whole minutes)."""

    planned_days: int = 0
    planned_minutes: int = 0
    days_worked: int = 0
    worked_minutes: int = Field(0, description="clock-in to clock-out, breaks taken off")
    break_minutes: int = 0
    late: int = Field(0, description="planned days clocked in after start + grace")
    late_minutes: int = 0
    early: int = Field(0, description="planned days clocked out before end − grace")
    early_minutes: int = 0
    missing_out: int = Field(0, description="days with a clock-in and no clock-out")
    absent: int = Field(0, description="planned days (ended) with no clock-in")
    corrections: int = 0


class StaffMonthOut(MonthFigures):
    staff_id: int
    username: str
    display_name: str
    role: Role
    active: bool


class SummaryOut(ApiModel):
    month: str
    first_day: dt.date
    last_day: dt.date
    grace_minutes: int
    computed_at: UtcDatetime
    staff: list[StaffMonthOut]
    totals: MonthFigures


class PunchOut(ApiModel):
    id: int
    kind: ClockAction
    at: UtcDatetime
    local_time: dt.datetime
    counter: str
    source: Literal["counter", "correction"]


class PlanOut(ApiModel):
    id: int
    staff_id: int
    business_date: dt.date
    start: dt.time
    end: dt.time
    break_minutes: int
    note: str | None = None


class DayOut(ApiModel):
    date: dt.date
    plan: PlanOut | None = None
    punches: list[PunchOut]
    worked_minutes: int
    break_minutes: int
    late: bool
    late_minutes: int
    early: bool
    early_minutes: int
    missing_out: bool
    absent: bool
    working_now: bool = Field(description="a session of today still open (not missing)")
    corrections: int


class DaysOut(ApiModel):
    staff_id: int
    username: str
    display_name: str
    month: str
    grace_minutes: int
    days: list[DayOut] = Field(description="the days with a plan, a punch or a correction")
    figures: MonthFigures


class _PlanTimes(ApiModel):
    @model_validator(mode="after")
    def _end_after_start(self):  # type: ignore[no-untyped-def]
        start, end = getattr(self, "start", None), getattr(self, "end", None)
        if start is not None and end is not None and end <= start:
            raise ValueError("下班时间要晚于上班时间（同一天）")
        return self


class PlanIn(_PlanTimes):
    """Plan the same shift on several days (created, or replacing that day's plan)."""

    staff_id: DbId
    dates: list[dt.date] = Field(min_length=1, max_length=MAX_PLAN_DAYS)
    start: dt.time
    end: dt.time
    break_minutes: int = Field(0, ge=0, le=MAX_BREAK_MINUTES)
    note: str | None = Field(None, max_length=64)


class PlanUpdate(PatchModel):
    clearable = frozenset({"note"})

    start: dt.time | None = None
    end: dt.time | None = None
    break_minutes: int | None = Field(None, ge=0, le=MAX_BREAK_MINUTES)
    note: str | None = Field(None, max_length=64)


class CorrectionIn(ApiModel):
    """A manager's correction with its reason: ``add`` a punch (``kind``, ``at``; the
    business day defaults to the date of ``at``), ``change`` a punch's time (``punch_id``,
    ``at``), ``remove`` a punch (``punch_id``). ``at`` is shop wall-clock time."""

    staff_id: DbId
    action: CorrectionAction
    punch_id: DbId | None = None
    kind: ClockAction | None = None
    at: dt.datetime | None = None
    business_date: dt.date | None = None
    reason: str = Field(min_length=2, max_length=255)

    @model_validator(mode="after")
    def _fields_of_action(self) -> CorrectionIn:
        need = {"add": ("kind", "at"), "change": ("punch_id", "at"),
                "remove": ("punch_id",)}[self.action]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError("请填写：" + "、".join({"kind": "打卡类型", "at": "时间",
                                                    "punch_id": "要修改的打卡"}[f]
                                                   for f in missing))
        return self


class CorrectionOut(ApiModel):
    id: int
    staff_id: int
    business_date: dt.date
    action: CorrectionAction
    kind: ClockAction
    replaces_id: int | None = None
    punch_id: int | None = None
    before_local: dt.datetime | None = None
    after_local: dt.datetime | None = None
    reason: str
    by: str | None = None
    at: UtcDatetime


class AttendanceSettings(ApiModel):
    grace_minutes: int = Field(5, ge=0, le=MAX_GRACE_MINUTES,
                               description="minutes late / early that still count as on time")
