"""Base classes for every API schema."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

T = TypeVar("T")

API_PREFIX = "/api/v1"
"""Where every endpoint lives: the server's blueprints and the client's base URL."""


class ApiModel(BaseModel):
    """Request and response bodies. Unknown fields are rejected: nothing is mass-assignable."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, from_attributes=True)


def _utc_iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


UtcDatetime = Annotated[dt.datetime, PlainSerializer(_utc_iso, return_type=str)]
"""A timestamp: stored naive-UTC, sent as ISO 8601 with offset."""

FenAmount = Annotated[int, Field(description="money in integer fen (分); ¥12.50 = 1250",
                                 strict=True)]


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    CASHIER = "cashier"

    @property
    def rank(self) -> int:
        return {"owner": 3, "manager": 2, "cashier": 1}[self.value]

    @property
    def label_zh(self) -> str:
        return {"owner": "店主", "manager": "店长", "cashier": "收银员"}[self.value]


class PageQuery(ApiModel):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=200)


class Page(ApiModel, Generic[T]):
    """One page of a list. ``has_more`` instead of a total count: counting a million rows
    on every page would make big lists slow."""

    items: list[T]
    page: int
    page_size: int
    has_more: bool
