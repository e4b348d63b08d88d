from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from .base import ApiModel, PageQuery, PatchModel, Role, UtcDatetime

USERNAME_PATTERN = r"^[A-Za-z0-9_.\-]{2,32}$"
PIN_PATTERN = r"^[0-9]{4,8}$"
PIN_DESCRIPTION = "4–8 digits: clocking in and out at a counter (考勤) with it"


class StaffOut(ApiModel):
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    phone: str | None = None
    locked_until: UtcDatetime | None = None
    has_pin: bool = False
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


class StaffUpdate(PatchModel):
    clearable = frozenset({"phone", "pin"})

    display_name: str | None = Field(None, min_length=1, max_length=64)
    role: Role | None = None
    password: str | None = Field(None, min_length=6, max_length=128)
    active: bool | None = None
    phone: str | None = Field(None, max_length=20)
    unlock: bool | None = Field(None, description="clear a login lockout")
    pin: str | None = Field(None, pattern=PIN_PATTERN,
                            description=PIN_DESCRIPTION + "; null removes it")


class MyPinIn(ApiModel):
    """Set one's own PIN, proven with one's password."""

    secret_fields: ClassVar[frozenset[str]] = frozenset({"password", "pin"})

    password: str = Field(min_length=1, max_length=128)
    pin: str = Field(pattern=PIN_PATTERN, description=PIN_DESCRIPTION)


class StaffListQuery(PageQuery):
    q: str | None = Field(None, max_length=32)
    include_inactive: bool = False
