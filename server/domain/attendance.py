"""Attendance (考勤): staff clock in, take breaks and clock out at any counter with their own
password or PIN; managers plan shifts (排班) and correct clock times with a reason; the month's
summary is computed here.

**Clocking.** ``POST /attendance/clock`` names the staff member (username) and carries their
own secret — the password or the PIN — checked like a login (``auth.login_check``: a wrong
secret counts towards the account's lockout and the counter address's limit, and is audited
as ``auth.login_failed`` with purpose ``attendance``). The cashier logged in at the counter is
only who recorded it (``recorded_by``). States: off → ``in`` → working → ``break_start`` →
break → ``break_end`` → working → ``out`` → off. A refused move is a 409 with a message saying
what to do (``already_clocked_in``, ``not_clocked_in``, ``on_break``, ``not_on_break``).

**Sessions and business days.** A work session is a clock-in and what follows it until the
clock-out; every punch of a session carries the business day of its clock-in (a clock-out
after midnight belongs to the day before). A session open longer than
``MAX_SESSION_HOURS`` is a *missing clock-out*: the next clock-in starts a new session (a
forgotten clock-out does not lock anyone out); a manager adds the missing time.

**Corrections** (manager / owner; a manager not their own or an owner's): add a punch, change
a punch's time, remove a punch — each an append-only ``attendance_corrections`` row with its
reason, and an audit entry ``attendance.correct`` with before / after. The punch changed stays
in the table; the correction's new punch takes its place. The day must still read as valid
sessions afterwards (422 ``attendance_sequence_invalid`` else).

**The month** (shop time, ``server.clock``), per staff member:

- *days worked*: business days with at least one clock-in;
- *worked minutes*: for every session with its clock-out, clock-out − clock-in − its breaks
  (whole minutes of the day's seconds, rounded down); a session without a clock-out counts
  no minutes and makes the day a *missing clock-out* (unless it is still open within
  ``MAX_SESSION_HOURS``: working now);
- *late*: a planned day whose first clock-in is more than ``grace`` minutes after the planned
  start (``late_minutes``: how far after the start); *early*: a planned day whose last session
  ended with a clock-out more than ``grace`` minutes before the planned end;
- *absent*: a planned day, its planned end passed, with no clock-in;
- *planned minutes*: planned end − start − the plan's break minutes. Breaks actually taken
  are the punched ones (a plan's break is not taken off the worked minutes).

``grace`` is the shop setting ``attendance.grace_minutes`` (default 5).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.schemas.attendance import (
    AttendanceSettings,
    CorrectionIn,
    PlanIn,
    PlanUpdate,
    month_days,
)
from common.schemas.base import Role
from server.clock import ShopClock
from server.db.attendance import AttendanceCorrection, AttendancePlan, AttendancePunch
from server.db.base import utcnow
from server.db.models import Staff

from . import audit, settings
from . import staff as staff_domain
from .actor import Actor
from .auth import AuthPolicy, Passwords, login_check

GRACE_KEY = "attendance.grace_minutes"
DEFAULT_GRACE = 5
MAX_SESSION_HOURS = 16
MAX_SESSION = dt.timedelta(hours=MAX_SESSION_HOURS)
ACTION_ZH = {"in": "上班", "break_start": "开始休息", "break_end": "结束休息", "out": "下班"}


# --- settings --------------------------------------------------------------------------------
def get_settings(session: Session) -> AttendanceSettings:
    return AttendanceSettings(grace_minutes=int(settings.get(session, GRACE_KEY,
                                                             DEFAULT_GRACE)))


def put_settings(session: Session, actor: Actor, data: AttendanceSettings) -> AttendanceSettings:
    settings.put(session, actor, GRACE_KEY, data.grace_minutes)
    return data


# --- sessions from punches -----------------------------------------------------------------
@dataclass
class WorkSession:
    business_date: dt.date
    in_at: dt.datetime
    out_at: dt.datetime | None = None
    breaks: list[list[dt.datetime | None]] = field(default_factory=list)

    def break_seconds(self) -> int:
        return sum(int((e - s).total_seconds()) for s, e in self.breaks
                   if s is not None and e is not None)

    def worked_seconds(self) -> int:
        """Clock-in to clock-out minus the breaks (0 without a clock-out)."""
        if self.out_at is None:
            return 0
        return int((self.out_at - self.in_at).total_seconds()) - self.break_seconds()


def sessions_of(punches: Iterable[AttendancePunch]) -> list[WorkSession]:
    """The work sessions of one staff member's punches, in time order (valid sequences)."""
    out: list[WorkSession] = []
    cur: WorkSession | None = None
    for p in sorted(punches, key=lambda p: (p.at, p.id or 0)):
        if p.kind == "in":
            cur = WorkSession(p.business_date, p.at)
            out.append(cur)
        elif cur is None:
            continue  # cannot happen: every sequence is checked when written
        elif p.kind == "break_start":
            cur.breaks.append([p.at, None])
        elif p.kind == "break_end" and cur.breaks:
            cur.breaks[-1][1] = p.at
        elif p.kind == "out":
            cur.out_at = p.at
            cur = None
    return out


_NEXT_STATE = {("off", "in"): "working", ("working", "break_start"): "break",
               ("break", "break_end"): "working", ("working", "out"): "off"}


def check_sequence(punches: Sequence[AttendancePunch], clock: ShopClock) -> None:
    """Punches of one staff member (a few days around a change) must read as sessions: each
    move allowed from the state before it, within one business day; a clock-in while a
    session of an earlier day is still open is allowed (that day misses its clock-out).
    422 ``attendance_sequence_invalid`` naming the punch that does not fit."""
    state, day, in_at = "off", None, None
    for p in sorted(punches, key=lambda p: (p.at, p.id or 0)):
        nxt = _NEXT_STATE.get((state, p.kind))
        if p.kind == "in" and nxt is None and day is not None and (
                day < p.business_date or (in_at is not None and p.at - in_at >= MAX_SESSION)):
            nxt = "working"  # the earlier session was never closed (a missing clock-out)
        if nxt is None or (p.kind != "in" and day != p.business_date):
            raise ApiError("attendance_sequence_invalid", status=422,
                           action=ACTION_ZH.get(p.kind, p.kind),
                           time=clock.local(p.at).strftime("%m-%d %H:%M"))
        state, day = nxt, p.business_date
        if p.kind == "in":
            in_at = p.at


def _effective() -> Any:
    """Punches in effect: not replaced (changed or removed) by a correction."""
    return ~exists().where(AttendanceCorrection.replaces_id == AttendancePunch.id)


def _punches(session: Session, staff_ids: Sequence[int] | None, first: dt.date,
             last: dt.date, for_update: bool = False) -> list[AttendancePunch]:
    stmt = (select(AttendancePunch)
            .where(AttendancePunch.business_date >= first, AttendancePunch.business_date <= last,
                   _effective())
            .order_by(AttendancePunch.staff_id, AttendancePunch.at, AttendancePunch.id))
    if staff_ids is not None:
        stmt = stmt.where(AttendancePunch.staff_id.in_(staff_ids))
    if for_update:
        stmt = stmt.with_for_update()
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Current:
    """Where a staff member stands now: ``state`` and the open session's day and start."""

    state: str  # off | working | break
    business_date: dt.date | None = None
    in_at: dt.datetime | None = None


def current_state(session: Session, staff_id: int, now: dt.datetime) -> Current:
    last = session.scalars(select(AttendancePunch)
                           .where(AttendancePunch.staff_id == staff_id, _effective())
                           .order_by(AttendancePunch.at.desc(), AttendancePunch.id.desc())
                           .limit(1)).first()
    if last is None or last.kind == "out":
        return Current("off")
    in_at = session.scalar(select(AttendancePunch.at)
                           .where(AttendancePunch.staff_id == staff_id,
                                  AttendancePunch.kind == "in",
                                  AttendancePunch.business_date == last.business_date,
                                  AttendancePunch.at <= last.at, _effective())
                           .order_by(AttendancePunch.at.desc()).limit(1))
    if in_at is None or now - in_at >= MAX_SESSION:
        return Current("off")  # a missing clock-out: that session is over
    return Current("break" if last.kind == "break_start" else "working", last.business_date,
                   in_at)


def staff_states(session: Session, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Active staff by name, each with their state now (the 考勤打卡 dialog's list)."""
    now = now or utcnow()
    out = []
    for s in session.scalars(select(Staff).where(Staff.active.is_(True))
                             .order_by(Staff.display_name, Staff.id)
                             .limit(staff_domain.SERVING_LIMIT)):
        cur = current_state(session, s.id, now)
        out.append({"id": s.id, "username": s.username, "display_name": s.display_name,
                    "state": cur.state, "since": cur.in_at})
    return out


# --- clocking at a counter -------------------------------------------------------------------
def _refuse(action: str, cur: Current, clock: ShopClock) -> None:
    since = clock.local(cur.in_at).strftime("%H:%M") if cur.in_at else ""
    if action == "in":
        if cur.state == "break":
            raise ApiError("on_break", status=409)
        if cur.state == "working":
            raise ApiError("already_clocked_in", status=409, since=since)
    elif cur.state == "off":
        raise ApiError("not_clocked_in", status=409)
    elif action == "break_start" and cur.state == "break":
        raise ApiError("already_on_break", status=409)
    elif action == "break_end" and cur.state == "working":
        raise ApiError("not_on_break", status=409)
    elif action == "out" and cur.state == "break":
        raise ApiError("on_break", status=409)


def clock_action(session: Session, actor: Actor, passwords: Passwords, policy: AuthPolicy,
                 clock: ShopClock, username: str, secret: str, action: str,
                 now: dt.datetime | None = None) -> dict[str, Any]:
    """A clock action of ``username`` proven with their own password or PIN, at the actor's
    counter, now (``now``: naive UTC, for loading a history). Failures of the secret are
    counted and audited (the caller commits even then)."""
    try:
        staff = login_check(session, passwords, policy, username, secret, ip=actor.ip,
                            counter=actor.counter, purpose="attendance", allow_pin=True)
    except ApiError as e:
        if e.code == "login_failed":
            raise ApiError("clock_secret_wrong", status=401, left=e.params.get("left", 0)) from e
        raise
    now = now or utcnow()
    cur = current_state(session, staff.id, now)  # the staff row is locked: one at a time
    _refuse(action, cur, clock)
    day = clock.local(now).date() if action == "in" else cur.business_date
    assert day is not None
    punch = AttendancePunch(staff_id=staff.id, business_date=day, kind=action, at=now,
                            counter=actor.counter or "", source="counter",
                            recorded_by=actor.staff_id)
    session.add(punch)
    session.flush()
    minutes = None
    if action == "out":
        punches = _punches(session, [staff.id], day, day)
        done = [s for s in sessions_of(punches) if s.out_at == now]
        minutes = done[-1].worked_seconds() // 60 if done else 0
    state = {"in": "working", "break_start": "break", "break_end": "working",
             "out": "off"}[action]
    return {"staff_id": staff.id, "username": staff.username,
            "display_name": staff.display_name, "action": action, "at": now,
            "local_time": clock.local(now).replace(tzinfo=None), "business_date": day,
            "state": state, "session_minutes": minutes}


def set_own_pin(session: Session, actor: Actor, passwords: Passwords, policy: AuthPolicy,
                password: str, pin: str) -> Staff:
    """The logged-in staff member sets their own PIN, proven with their password."""
    staff = login_check(session, passwords, policy, actor.username, password, ip=actor.ip,
                        counter=actor.counter, purpose="pin")
    staff_domain.set_pin(staff, passwords, pin)
    audit.write(session, actor, "staff.pin", "staff", staff.id, after={"pin_changed": True})
    return staff


# --- planned shifts ------------------------------------------------------------------------
def _plan_snapshot(p: AttendancePlan) -> dict[str, Any]:
    return {"date": p.business_date.isoformat(), "start": p.start.strftime("%H:%M"),
            "end": p.end.strftime("%H:%M"), "break_minutes": p.break_minutes, "note": p.note}


def list_plans(session: Session, month: str, staff_id: int | None = None
               ) -> list[AttendancePlan]:
    first, last = month_days(month)
    stmt = (select(AttendancePlan).where(AttendancePlan.business_date >= first,
                                         AttendancePlan.business_date <= last)
            .order_by(AttendancePlan.business_date, AttendancePlan.staff_id))
    if staff_id is not None:
        stmt = stmt.where(AttendancePlan.staff_id == staff_id)
    return list(session.scalars(stmt))


def set_plans(session: Session, actor: Actor, data: PlanIn) -> list[AttendancePlan]:
    """Plan the shift on each of ``data.dates`` (a day's earlier plan is replaced)."""
    staff_domain.get(session, data.staff_id)
    dates = sorted(set(data.dates))
    existing = {p.business_date: p for p in session.scalars(
        select(AttendancePlan).where(AttendancePlan.staff_id == data.staff_id,
                                     AttendancePlan.business_date.in_(dates))
        .with_for_update())}
    before = [_plan_snapshot(p) for p in existing.values()]
    out = []
    for day in dates:
        p = existing.get(day)
        if p is None:
            p = AttendancePlan(staff_id=data.staff_id, business_date=day,
                               created_by=actor.staff_id)
            session.add(p)
        p.start, p.end, p.break_minutes, p.note = (data.start, data.end, data.break_minutes,
                                                   data.note)
        out.append(p)
    try:
        session.flush()
    except IntegrityError as e:  # another manager planned the same day just now
        raise ApiError("conflict", status=409) from e
    audit.write(session, actor, "attendance.plan", "staff", data.staff_id,
                before={"plans": before} if before else None,
                after={"dates": [d.isoformat() for d in dates],
                       "start": data.start.strftime("%H:%M"), "end": data.end.strftime("%H:%M"),
                       "break_minutes": data.break_minutes, "note": data.note})
    return out


def _plan(session: Session, plan_id: int) -> AttendancePlan:
    p = session.get(AttendancePlan, plan_id, with_for_update=True)
    if p is None:
        raise ApiError("not_found", status=404, what="排班")
    return p


def update_plan(session: Session, actor: Actor, plan_id: int, data: PlanUpdate
                ) -> AttendancePlan:
    p = _plan(session, plan_id)
    before = _plan_snapshot(p)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(p, key, value)
    if p.end <= p.start:
        raise ApiError("validation_error", status=400,
                       fields={"end": "下班时间要晚于上班时间（同一天）"})
    session.flush()
    audit.write(session, actor, "attendance.plan_update", "staff", p.staff_id, before=before,
                after=_plan_snapshot(p))
    return p


def delete_plan(session: Session, actor: Actor, plan_id: int) -> None:
    p = _plan(session, plan_id)
    audit.write(session, actor, "attendance.plan_delete", "staff", p.staff_id,
                before=_plan_snapshot(p))
    session.delete(p)
    session.flush()


# --- corrections ---------------------------------------------------------------------------
def _check_can_correct(actor: Actor, staff: Staff) -> None:
    if actor.role == Role.OWNER:
        return
    if staff.id == actor.staff_id:
        raise ApiError("correct_own_attendance", status=403)
    if staff.role == Role.OWNER.value:
        raise ApiError("cannot_manage_role", status=403, role=Role.OWNER.label_zh)


def _punch_snapshot(p: AttendancePunch, clock: ShopClock) -> dict[str, Any]:
    return {"punch_id": p.id, "kind": p.kind, "business_date": p.business_date.isoformat(),
            "at": clock.local(p.at).strftime("%Y-%m-%d %H:%M:%S")}


def correct(session: Session, actor: Actor, clock: ShopClock, data: CorrectionIn
            ) -> AttendanceCorrection:
    """Add a punch, change a punch's time or remove a punch, with the reason (audited)."""
    staff = staff_domain.get(session, data.staff_id, for_update=True)  # vs. clocking now
    _check_can_correct(actor, staff)
    now = utcnow()
    old: AttendancePunch | None = None
    if data.action == "add":
        assert data.kind is not None and data.at is not None
        kind = data.kind
        new_at = clock.to_stored(data.at)
        day = data.business_date or clock.local(new_at).date()
    else:
        old = session.get(AttendancePunch, data.punch_id, with_for_update=True)
        if old is None or old.staff_id != staff.id:
            raise ApiError("not_found", status=404, what="打卡记录")
        if session.scalar(select(AttendanceCorrection.id)
                          .where(AttendanceCorrection.replaces_id == old.id)) is not None:
            raise ApiError("punch_already_corrected", status=409)
        kind, day = old.kind, old.business_date
        new_at = clock.to_stored(data.at) if data.at is not None else None
    if new_at is not None:
        if new_at > now:
            raise ApiError("punch_in_future", status=422)
        start = clock.day_start(day)
        if kind == "in" and clock.local(new_at).date() != day:
            raise ApiError("punch_outside_day", status=422, date=day.isoformat())
        if not start <= new_at < clock.day_start(day + dt.timedelta(days=1)) + MAX_SESSION:
            raise ApiError("punch_outside_day", status=422, date=day.isoformat())
    # the days around it must still read as sessions
    near = [p for p in _punches(session, [staff.id], day - dt.timedelta(days=1),
                                day + dt.timedelta(days=1), for_update=True)
            if old is None or p.id != old.id]
    new: AttendancePunch | None = None
    if new_at is not None:
        new = AttendancePunch(staff_id=staff.id, business_date=day, kind=kind, at=new_at,
                              counter=actor.counter or "", source="correction",
                              recorded_by=actor.staff_id)
        near.append(new)
    check_sequence(near, clock)
    if new is not None:
        session.add(new)
        session.flush()
    row = AttendanceCorrection(staff_id=staff.id, business_date=day, action=data.action,
                               replaces_id=old.id if old else None,
                               punch_id=new.id if new else None, kind=kind,
                               before_at=old.at if old else None, after_at=new_at,
                               reason=data.reason, by_staff_id=actor.staff_id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as e:  # the same punch corrected at the same moment elsewhere
        raise ApiError("punch_already_corrected", status=409) from e
    audit.write(session, actor, "attendance.correct", "staff", staff.id,
                before=_punch_snapshot(old, clock) if old else None,
                after={"correction_id": row.id, "action": data.action,
                       **(_punch_snapshot(new, clock) if new else {"kind": kind})},
                reason=data.reason)
    return row


def correction_out(row: AttendanceCorrection, clock: ShopClock, by: str | None
                   ) -> dict[str, Any]:
    def local(t: dt.datetime | None) -> dt.datetime | None:
        return None if t is None else clock.local(t).replace(tzinfo=None)

    return {"id": row.id, "staff_id": row.staff_id, "business_date": row.business_date,
            "action": row.action, "kind": row.kind, "replaces_id": row.replaces_id,
            "punch_id": row.punch_id, "before_local": local(row.before_at),
            "after_local": local(row.after_at), "reason": row.reason, "by": by, "at": row.at}


def list_corrections(session: Session, clock: ShopClock, month: str,
                     staff_id: int | None = None) -> list[dict[str, Any]]:
    first, last = month_days(month)
    stmt = (select(AttendanceCorrection, Staff.username)
            .outerjoin(Staff, Staff.id == AttendanceCorrection.by_staff_id)
            .where(AttendanceCorrection.business_date >= first,
                   AttendanceCorrection.business_date <= last)
            .order_by(AttendanceCorrection.id))
    if staff_id is not None:
        stmt = stmt.where(AttendanceCorrection.staff_id == staff_id)
    return [correction_out(row, clock, by) for row, by in session.execute(stmt)]


# --- the month -------------------------------------------------------------------------------
FIGURES = ("planned_days", "planned_minutes", "days_worked", "worked_minutes", "break_minutes",
           "late", "late_minutes", "early", "early_minutes", "missing_out", "absent",
           "corrections")


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds()) // 60


def day_figures(day: dt.date, plan: AttendancePlan | None, punches: list[AttendancePunch],
                corrections: int, grace: int, clock: ShopClock, now: dt.datetime
                ) -> dict[str, Any]:
    """One staff member's figures of one business day (see the module's rules)."""
    sessions = sessions_of(punches)
    worked = sum(s.worked_seconds() for s in sessions) // 60
    breaks = sum(s.break_seconds() for s in sessions if s.out_at is not None) // 60
    open_ = [s for s in sessions if s.out_at is None]
    working_now = any(now - s.in_at < MAX_SESSION for s in open_)
    missing = any(now - s.in_at >= MAX_SESSION for s in open_)
    late = early = absent = False
    late_m = early_m = 0
    if plan is not None:
        p_start = clock.to_stored(dt.datetime.combine(day, plan.start))
        p_end = clock.to_stored(dt.datetime.combine(day, plan.end))
        margin = dt.timedelta(minutes=grace)
        if sessions:
            first_in = sessions[0].in_at
            if first_in > p_start + margin:
                late, late_m = True, _minutes(first_in - p_start)
            last_out = sessions[-1].out_at
            if last_out is not None and last_out < p_end - margin:
                early, early_m = True, _minutes(p_end - last_out)
        elif p_end <= now:
            absent = True
    return {"date": day, "worked_minutes": worked, "break_minutes": breaks, "late": late,
            "late_minutes": late_m, "early": early, "early_minutes": early_m,
            "missing_out": missing, "absent": absent, "working_now": working_now,
            "corrections": corrections, "sessions": len(sessions)}


def _planned_minutes(p: AttendancePlan) -> int:
    span = dt.datetime.combine(p.business_date, p.end) - dt.datetime.combine(p.business_date,
                                                                              p.start)
    return max(0, _minutes(span) - p.break_minutes)


def _add(fig: dict[str, int], day: dict[str, Any], plan: AttendancePlan | None) -> None:
    if plan is not None:
        fig["planned_days"] += 1
        fig["planned_minutes"] += _planned_minutes(plan)
    fig["days_worked"] += 1 if day["sessions"] else 0
    fig["worked_minutes"] += day["worked_minutes"]
    fig["break_minutes"] += day["break_minutes"]
    fig["late"] += day["late"]
    fig["late_minutes"] += day["late_minutes"]
    fig["early"] += day["early"]
    fig["early_minutes"] += day["early_minutes"]
    fig["missing_out"] += day["missing_out"]
    fig["absent"] += day["absent"]
    fig["corrections"] += day["corrections"]


@dataclass
class _Month:
    first: dt.date
    last: dt.date
    plans: dict[tuple[int, dt.date], AttendancePlan]
    punches: dict[tuple[int, dt.date], list[AttendancePunch]]
    corrections: dict[tuple[int, dt.date], int]

    def days_of(self, staff_id: int) -> list[dt.date]:
        keys = set(self.plans) | set(self.punches) | set(self.corrections)
        return sorted(d for s, d in keys if s == staff_id)


def _load_month(session: Session, month: str, staff_ids: Sequence[int] | None) -> _Month:
    first, last = month_days(month)
    plan_stmt = select(AttendancePlan).where(AttendancePlan.business_date >= first,
                                             AttendancePlan.business_date <= last)
    corr_stmt = (select(AttendanceCorrection.staff_id, AttendanceCorrection.business_date,
                        func.count())
                 .where(AttendanceCorrection.business_date >= first,
                        AttendanceCorrection.business_date <= last)
                 .group_by(AttendanceCorrection.staff_id, AttendanceCorrection.business_date))
    if staff_ids is not None:
        plan_stmt = plan_stmt.where(AttendancePlan.staff_id.in_(staff_ids))
        corr_stmt = corr_stmt.where(AttendanceCorrection.staff_id.in_(staff_ids))
    plans = {(p.staff_id, p.business_date): p for p in session.scalars(plan_stmt)}
    punches: dict[tuple[int, dt.date], list[AttendancePunch]] = defaultdict(list)
    for p in _punches(session, staff_ids, first, last):
        punches[(p.staff_id, p.business_date)].append(p)
    corrections = {(s, d): int(n) for s, d, n in session.execute(corr_stmt)}
    return _Month(first, last, plans, dict(punches), corrections)


def _staff_figures(m: _Month, staff_id: int, grace: int, clock: ShopClock, now: dt.datetime
                   ) -> tuple[dict[str, int], list[tuple[dict[str, Any], AttendancePlan | None,
                                                        list[AttendancePunch]]]]:
    fig = dict.fromkeys(FIGURES, 0)
    days = []
    for day in m.days_of(staff_id):
        plan = m.plans.get((staff_id, day))
        punches = m.punches.get((staff_id, day), [])
        d = day_figures(day, plan, punches, m.corrections.get((staff_id, day), 0), grace,
                        clock, now)
        _add(fig, d, plan)
        days.append((d, plan, punches))
    return fig, days


def summary(session: Session, clock: ShopClock, month: str) -> dict[str, Any]:
    """Every staff member's figures of ``month`` (active staff, and inactive staff with
    attendance that month), and their totals."""
    now = utcnow()
    grace = get_settings(session).grace_minutes
    m = _load_month(session, month, None)
    with_data = {s for s, _d in (*m.plans, *m.punches, *m.corrections)}
    staff = [s for s in session.scalars(select(Staff).order_by(Staff.id))
             if s.active or s.id in with_data]
    rows = []
    totals = dict.fromkeys(FIGURES, 0)
    for s in staff:
        fig, _days = _staff_figures(m, s.id, grace, clock, now)
        for k in FIGURES:
            totals[k] += fig[k]
        rows.append({"staff_id": s.id, "username": s.username, "display_name": s.display_name,
                     "role": s.role, "active": s.active, **fig})
    return {"month": month, "first_day": m.first, "last_day": m.last, "grace_minutes": grace,
            "computed_at": now, "staff": rows, "totals": totals}


def days(session: Session, clock: ShopClock, month: str, staff_id: int) -> dict[str, Any]:
    """One staff member's days of ``month``: plan, punches in effect, the day's figures."""
    staff = staff_domain.get(session, staff_id)
    now = utcnow()
    grace = get_settings(session).grace_minutes
    m = _load_month(session, month, [staff_id])
    fig, rows = _staff_figures(m, staff_id, grace, clock, now)
    out = []
    for d, plan, punches in rows:
        d = {k: v for k, v in d.items() if k != "sessions"}
        d["plan"] = plan
        d["punches"] = [{"id": p.id, "kind": p.kind, "at": p.at,
                         "local_time": clock.local(p.at).replace(tzinfo=None),
                         "counter": p.counter, "source": p.source} for p in punches]
        out.append(d)
    return {"staff_id": staff.id, "username": staff.username,
            "display_name": staff.display_name, "month": month, "grace_minutes": grace,
            "days": out, "figures": fig}
