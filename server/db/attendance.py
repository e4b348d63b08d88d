"""Attendance tables (考勤): planned shifts (排班), clock punches (打卡) and their corrections.

- ``attendance_plans``: one planned shift per staff member and business day, in shop wall-clock
  time (start, end, optional break minutes). A plan is not a record of fact: managers change
  and delete it (audited).
- ``attendance_punches``: **append-only** — one row per clock action (上班 ``in`` / 开始休息
  ``break_start`` / 结束休息 ``break_end`` / 下班 ``out``), the moment in UTC, the business day
  of the work session it belongs to (a clock-out after midnight belongs to the day of its
  clock-in), the counter, and who was logged in there (``recorded_by``). ``source`` is
  ``counter`` or ``correction`` (a punch a manager added or that replaces another).
- ``attendance_corrections``: **append-only** — a manager's change with its reason:
  ``add`` a punch, ``change`` a punch (a new punch replaces the old one, which stays),
  ``remove`` a punch. A punch is in effect unless a correction replaced it (``replaces_id``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, SmallInteger, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import TABLE_ARGS, Base, Timestamp, created_ts, intpk, str16, str32, utcnow


class AttendancePlan(Base):
    __tablename__ = "attendance_plans"
    __table_args__ = (UniqueConstraint("staff_id", "business_date"),
                      Index("ix_attendance_plans_business_date", "business_date"), TABLE_ARGS)

    id: Mapped[intpk]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    business_date: Mapped[dt.date] = mapped_column(Date)
    start: Mapped[dt.time] = mapped_column(Time)  # shop wall-clock time
    end: Mapped[dt.time] = mapped_column(Time)  # after start, the same day
    break_minutes: Mapped[int] = mapped_column(SmallInteger, default=0)
    note: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[created_ts]
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class AttendancePunch(Base):
    __tablename__ = "attendance_punches"
    __table_args__ = (Index("ix_attendance_punches_staff_id_business_date", "staff_id",
                            "business_date"),
                      Index("ix_attendance_punches_business_date", "business_date"),
                      TABLE_ARGS)

    id: Mapped[intpk]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    business_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str16]  # in | break_start | break_end | out
    at: Mapped[dt.datetime] = mapped_column(Timestamp)  # the moment (UTC)
    counter: Mapped[str32] = mapped_column(default="")
    source: Mapped[str16]  # counter | correction
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[created_ts]


class AttendanceCorrection(Base):
    __tablename__ = "attendance_corrections"
    __table_args__ = (Index("ix_attendance_corrections_staff_id_business_date", "staff_id",
                            "business_date"), TABLE_ARGS)

    id: Mapped[intpk]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    business_date: Mapped[dt.date] = mapped_column(Date)
    action: Mapped[str16]  # add | change | remove
    # the punch it takes the place of (change, remove; at most one correction each) and
    # the punch it made (add, change)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("attendance_punches.id"),
                                                    unique=True)
    punch_id: Mapped[int | None] = mapped_column(ForeignKey("attendance_punches.id"))
    kind: Mapped[str16]
    before_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    after_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    reason: Mapped[str] = mapped_column(String(255))
    by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[created_ts]
