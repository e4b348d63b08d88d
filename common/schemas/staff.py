from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import Field, model_validator

from .base import ApiModel, PageQuery, PatchModel, Role, TimeOfDay, UtcDatetime

USERNAME_PATTERN = r"^[A-Za-z0-9_.\-]{2,32}$"
PIN_PATTERN = r"^[0-9]{4,8}$"
PIN_DESCRIPTION = "4–8 digits: clocking in and out at a counter (考勤) with it"
WORK_DAYS_DESCRIPTION = "预约 weekly hours' days: bit 0 = Monday … bit 6 = Sunday"


def check_hours(start: dt.time | None, end: dt.time | None) -> None:
    """A staff member's weekly hours: both or neither, the start before the end."""
    if (start is None) != (end is None):
        raise ValueError("工作时间要同时填写开始和结束")
    if start is not None and end is not None and start >= end:
        raise ValueError("工作时间的结束要晚于开始")


class StaffOut(ApiModel):
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    phone: str | None = None
    locked_until: UtcDatetime | None = None
    has_pin: bool = False
    bookable: bool = False
    work_start: TimeOfDay | None = None
    work_end: TimeOfDay | None = None
    work_days: int = 127
    created_at: UtcDatetime


class ServingStaffOut(ApiModel):
    """A staff member who can serve a customer on a sale line (技师 / 导购): what a counter
    shows in its picker (no phone, no login state)."""

    id: int
    display_name: str
    role: Role


class StaffCreate(ApiModel):
    username: str = Field(pattern=USERNAME_PATTERN, description="letters, digits, _ . -")
    display_name: str = Field(min_length=1, max_length=64)
    role: Role
    password: str = Field(min_length=6, max_length=128)
    phone: str | None = Field(None, max_length=20)
    pin: str | None = Field(None, pattern=PIN_PATTERN, description=PIN_DESCRIPTION)
    bookable: bool = False
    work_start: TimeOfDay | None = None
    work_end: TimeOfDay | None = None
    work_days: int = Field(127, ge=0, le=127, description=WORK_DAYS_DESCRIPTION)

    @model_validator(mode="after")
    def _hours(self):
        check_hours(self.work_start, self.work_end)
        return self


class StaffUpdate(PatchModel):
    clearable = frozenset({"phone", "pin", "work_start", "work_end"})

    display_name: str | None = Field(None, min_length=1, max_length=64)
    role: Role | None = None
    password: str | None = Field(None, min_length=6, max_length=128)
    active: bool | None = None
    phone: str | None = Field(None, max_length=20)
    unlock: bool | None = Field(None, description="clear a login lockout")
    pin: str | None = Field(None, pattern=PIN_PATTERN,
                            description=PIN_DESCRIPTION + "; null removes it")
    bookable: bool | None = Field(None, description="预约: customers can book this person")
    work_start: TimeOfDay | None = Field(None, description="weekly hours (shop time)")
    work_end: TimeOfDay | None = None
    work_days: int | None = Field(None, ge=0, le=127, description=WORK_DAYS_DESCRIPTION)


class MyPinIn(ApiModel):
    """Set one's own PIN, proven with one's password."""

    secret_fields: ClassVar[frozenset[str]] = frozenset({"password", "pin"})

    password: str = Field(min_length=1, max_length=128)
    pin: str = Field(pattern=PIN_PATTERN, description=PIN_DESCRIPTION)


class StaffListQuery(PageQuery):
    q: str | None = Field(None, max_length=32)
    include_inactive: bool = False
