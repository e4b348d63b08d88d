from __future__ import annotations

from pydantic import Field

from .base import ApiModel, UtcDatetime
from .staff import StaffOut


class LoginRequest(ApiModel):
    username: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=128)
    counter: str = Field("", max_length=32, description="counter (收银台) name, e.g. '01'")


class LoginResponse(ApiModel):
    token: str
    expires_at: UtcDatetime
    staff: StaffOut
    counter: str


class MeResponse(ApiModel):
    staff: StaffOut
    counter: str
    expires_at: UtcDatetime
