"""Activities (活动) and promotions (促销), #18 §3.

- ``activities``: a class, an event or a members' day, with its time (shop wall-clock, naive),
  place, capacity and price (0 = free). ``taken`` is the number of seats held by sign-ups that
  are not cancelled; it only changes through a conditional ``UPDATE … WHERE taken < capacity``
  (``server/domain/activities.py``), so two counters selling the last seat cannot both win.
- ``activity_signups``: one row per member and activity (``signed_up`` → ``checked_in``, or
  ``cancelled``; a cancelled member may sign up again, the row comes back). A paid sign-up
  points at the sale line that paid for it (``sale_line_id``); refunding that line cancels it.
- ``promotions``: a promotion for a period (shop time, ``[starts_at, ends_at)``), read by the
  one pricing engine (``common.pricing.Promotion``). Never deleted (receipts name them):
  stopped with ``active`` false. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import TABLE_ARGS, Base, Fen, Timestamp, created_ts, intpk, str16, utcnow


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_starts_at", "starts_at"), TABLE_ARGS)

    id: Mapped[intpk]
    title: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str16]  # class | event | members_day
    place: Mapped[str] = mapped_column(String(60), default="")
    starts_at: Mapped[dt.datetime] = mapped_column(Timestamp)  # shop wall-clock time
    ends_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    capacity: Mapped[int]
    price: Mapped[Fen]  # per seat; 0 = free
    status: Mapped[str16] = mapped_column(default="open")  # open | cancelled
    description: Mapped[str | None] = mapped_column(String(255))
    taken: Mapped[int] = mapped_column(default=0)  # seats held (sign-ups not cancelled)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[created_ts]
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class ActivitySignup(Base):
    __tablename__ = "activity_signups"
    __table_args__ = (UniqueConstraint("activity_id", "member_id"),
                      Index("ix_activity_signups_member_id", "member_id"),
                      Index("ix_activity_signups_sale_line_id", "sale_line_id"), TABLE_ARGS)

    id: Mapped[intpk]
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    status: Mapped[str16]  # signed_up | checked_in | cancelled
    price: Mapped[Fen] = mapped_column(default=0)  # what the seat was sold for (after discounts)
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"))
    sale_line_id: Mapped[int | None] = mapped_column()
    counter: Mapped[str] = mapped_column(String(32), default="")
    by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    signed_up_at: Mapped[created_ts]
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    cancel_reason: Mapped[str | None] = mapped_column(String(255))


class Promotion(Base):
    __tablename__ = "promotions"
    __table_args__ = (Index("ix_promotions_ends_at", "ends_at"), TABLE_ARGS)

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(40))  # shown on the receipt line as the reason
    kind: Mapped[str16]  # discount | price | points
    starts_at: Mapped[dt.datetime] = mapped_column(Timestamp)  # shop wall-clock time
    ends_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    rate_bp: Mapped[int] = mapped_column(default=10_000)  # discount: a RATE (8000 = 8折)
    price_fen: Mapped[Fen] = mapped_column(default=0)  # price: the unit price
    points_multiplier: Mapped[int] = mapped_column(SmallInteger, default=1)  # points
    category_ids: Mapped[Any] = mapped_column(JSON, default=list)  # [] = every category
    product_ids: Mapped[Any] = mapped_column(JSON, default=list)
    level_ids: Mapped[Any] = mapped_column(JSON, default=list)  # [] = everyone (walk-ins too)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[created_ts]
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
