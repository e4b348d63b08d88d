"""Appointment tables (预约, #18 §1).

- ``appointments``: one booking — a member or a walk-in (name + phone), one or more services
  (``services``: JSON ``[{"product_id", "name", "minutes"}]``, done one after the other), the
  staff member who serves it (``staff_id``; NULL for a group class, 团课, which is booked by
  head count), the moment it starts and ends (UTC, as stored) and its shop business day.
  ``status``: ``booked`` → ``checked_in`` (到店) | ``cancelled`` (with its reason) |
  ``no_show`` (爽约, marked by a manager). A move (改约) changes the time / staff in place; the
  audit log keeps the before and after with the reason.
- ``booking_locks``: one row per bookable resource (``staff:<id>`` or ``class:<product id>``)
  and business day. Every booking write locks the rows of the days it touches (``INSERT …
  ON DUPLICATE KEY UPDATE``) before it checks for overlaps or counts heads, so two counters
  booking the last slot are serialised: the second one sees the first one's booking.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import TABLE_ARGS, Base, Timestamp, created_ts, intpk, str16, utcnow


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_business_date_starts_at", "business_date", "starts_at"),
        Index("ix_appointments_staff_id_starts_at", "staff_id", "starts_at"),
        Index("ix_appointments_class_product_id_starts_at", "class_product_id", "starts_at"),
        Index("ix_appointments_member_id_status", "member_id", "status"),
        TABLE_ARGS,
    )

    id: Mapped[intpk]
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    customer_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    any_staff: Mapped[bool] = mapped_column(Boolean, default=False)  # "anyone" was asked for
    class_product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    services: Mapped[Any] = mapped_column(JSON)
    starts_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    ends_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    business_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str16] = mapped_column(default="booked")
    note: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(String(255))  # of the cancel / the last move
    moves: Mapped[int] = mapped_column(Integer, default=0)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # cancel / no-show
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    counter: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[created_ts]
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class BookingLock(Base):
    __tablename__ = "booking_locks"
    __table_args__ = TABLE_ARGS

    resource: Mapped[str] = mapped_column(String(24), primary_key=True)
    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    writes: Mapped[int] = mapped_column(Integer, default=0)
