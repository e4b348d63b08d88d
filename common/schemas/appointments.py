"""Appointments (预约, #18 §1): booking services with a staff member (or "anyone") or a place
in a group class (团课), moving and cancelling with a reason, check-in (到店) into the counter's
cart, no-shows (爽约), the day view and the lists to call. Every rule is on the server
(``server/domain/appointments.py``); times of day are shop wall-clock time."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer, WithJsonSchema, field_validator, model_validator

from .base import ApiModel, DbId, PageQuery, TimeOfDay, UtcDatetime

AppointmentStatus = Literal["booked", "checked_in", "cancelled", "no_show"]
STATUS_ZH = {"booked": "已预约", "checked_in": "已到店", "cancelled": "已取消",
             "no_show": "爽约"}
SLOT_MINUTES = 30  # the counter's day view: one row per half hour
MINUTE_STEP = 5  # a booking starts on a 5-minute mark
MAX_SERVICES = 5
MAX_DURATION = 600  # minutes of one service
MAX_CAPACITY = 500
WORK_DAYS_ALL = 0b1111111  # bit 0 = Monday … bit 6 = Sunday
PHONE_PATTERN = r"^[0-9+\-]{5,20}$"


FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
BusinessDay = Annotated[dt.date, Field(ge=FIRST_DAY, le=LAST_DAY)]
WallDatetime = Annotated[
    dt.datetime, PlainSerializer(lambda v: v.isoformat(timespec="seconds"), return_type=str,
                                 when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$",
                    "description": "shop wall-clock time, no zone"})]
"""A moment as the shop's wall clock reads it (``2026-12-08T10:00:00``)."""


def on_step(t: dt.datetime | dt.time) -> bool:
    return t.minute % MINUTE_STEP == 0 and t.second == 0 and t.microsecond == 0


def check_start(v: dt.datetime) -> dt.datetime:
    if not FIRST_DAY.year <= v.year <= LAST_DAY.year:
        raise ValueError(f"日期要在 {FIRST_DAY.year} 到 {LAST_DAY.year} 年之间")
    if not on_step(v):
        raise ValueError("预约时间要在整 5 分钟上（如 10:00、10:05）")
    return v


class AppointmentIn(ApiModel):
    """A booking: a member (``member_id``) or a walk-in (``customer_name`` + ``phone``); one
    or more services done one after the other; ``staff_id`` or none for "anyone" (the server
    picks a free bookable staff member who can do every service); ``starts_at`` in shop
    wall-clock time. A group class (a service with a capacity and a fixed start time) is
    booked alone, at its start time, with no staff."""

    member_id: DbId | None = None
    customer_name: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, pattern=PHONE_PATTERN)
    product_ids: list[DbId] = Field(min_length=1, max_length=MAX_SERVICES)
    staff_id: DbId | None = Field(None, description="null: anyone (the server picks)")
    starts_at: dt.datetime = Field(description="shop wall-clock time, on a 5-minute mark")
    note: str | None = Field(None, max_length=255)

    @field_validator("starts_at")
    @classmethod
    def _step(cls, v: dt.datetime) -> dt.datetime:
        return check_start(v)

    @model_validator(mode="after")
    def _who(self):
        if self.member_id is None and not (self.customer_name and self.phone):
            raise ValueError("请选择会员，或填写散客的姓名和电话")
        return self


class AppointmentMove(ApiModel):
    """改约: a new start (shop time) and optionally another staff member, with the reason."""

    starts_at: dt.datetime = Field(description="shop wall-clock time, on a 5-minute mark")
    staff_id: DbId | None = Field(None, description="null: the same staff member")
    reason: str = Field(min_length=1, max_length=255)

    @field_validator("starts_at")
    @classmethod
    def _step(cls, v: dt.datetime) -> dt.datetime:
        return check_start(v)


class ReasonIn(ApiModel):
    reason: str = Field(min_length=1, max_length=255)


class BookedService(ApiModel):
    product_id: int
    name: str
    minutes: int


class AppointmentOut(ApiModel):
    id: int
    member_id: int | None
    member_number: str | None = None
    customer_name: str
    phone: str | None = Field(None, description="masked for a cashier (common.privacy)")
    staff_id: int | None
    staff_name: str | None = None
    any_staff: bool
    class_product_id: int | None
    services: list[BookedService]
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    local_start: WallDatetime
    local_end: WallDatetime
    business_date: dt.date
    status: AppointmentStatus
    note: str | None
    reason: str | None
    moves: int
    checked_in_at: UtcDatetime | None
    no_show_count: int = Field(0, description="the member's no-shows so far")


class AppointmentQuery(PageQuery):
    date: BusinessDay | None = Field(None, description="the business day (default: today)")
    status: AppointmentStatus | None = None
    staff_id: DbId | None = None
    member_id: DbId | None = None


class DayQuery(ApiModel):
    date: BusinessDay | None = Field(None, description="the business day (default: today)")


class DayStaffOut(ApiModel):
    """A bookable staff member's column: their hours that day (None: not working)."""

    id: int
    display_name: str
    start: TimeOfDay | None
    end: TimeOfDay | None
    source: Literal["plan", "weekly"] | None = Field(
        None, description="a planned shift (排班) that day, or the weekly hours")


class DayClassOut(ApiModel):
    product_id: int
    name: str
    start: TimeOfDay
    end: TimeOfDay
    capacity: int
    booked: int


class DayServiceOut(ApiModel):
    """A bookable service (kind service with a duration) the booking dialog offers."""

    id: int
    name: str
    minutes: int
    price: int
    is_class: bool
    staff_ids: list[int] = Field(default_factory=list, description="empty: everyone")


class DayOut(ApiModel):
    date: dt.date
    slot_minutes: int
    open_from: TimeOfDay = Field(description="the first slot (the earliest hours)")
    open_to: TimeOfDay
    staff: list[DayStaffOut]
    classes: list[DayClassOut]
    appointments: list[AppointmentOut]
    services: list[DayServiceOut] = Field(default_factory=list)


class CheckInLineOut(ApiModel):
    """A line of the counter's cart made from a checked-in booking."""

    product_id: int
    name: str
    staff_id: int | None
    staff_name: str | None
    count_card_id: int | None = Field(None, description="the member's count card to use")
    count_card_name: str | None = None


class CheckInOut(ApiModel):
    appointment: AppointmentOut
    lines: list[CheckInLineOut]
