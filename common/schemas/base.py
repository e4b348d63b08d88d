"""Base classes for every API schema."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

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

def _wall_time(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("请填写当地时间（如 10:00），不带时区")
    return value


TimeOfDay = Annotated[
    dt.time, AfterValidator(_wall_time),
    PlainSerializer(lambda t: t.isoformat("seconds"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$",
                    "description": "shop wall-clock time of day, HH:MM or HH:MM:SS"})]
"""A time of day in the shop (opening hours, a class's start): ``10:00`` / ``10:00:00``, no
zone (JSON Schema's ``format: time`` requires an offset, which a wall-clock time has not)."""

FenAmount = Annotated[int, Field(description="money in integer fen (分); ¥12.50 = 1250",
                                 strict=True)]

# -- input limits ---------------------------------------------------------------------------
# Every integer a request carries has bounds that fit its column (BIGINT: ±2^63) with room
# for the sums made of it, and that make sense for a shop. One set of aliases, used by every
# schema (README "Input limits"); a value past a bound is a 400 validation_error naming the
# field ("不能大于 …"), never a database error.
BIGINT_MAX = 2**63 - 1
MAX_PRICE_FEN = 100_000_000
"""¥1,000,000: one product's price or cost, one recharge, one stored-value operation."""
MAX_AMOUNT_FEN = 1_000_000_000
"""¥10,000,000: one sale's total, one payment, the cash handed over (tendered)."""
MAX_QTY = 10_000_000
"""Stock on hand, counted stock, one stock adjustment (±)."""
MAX_POINTS = 100_000_000
"""Points of one operation (redeem, adjust, pay)."""
MAX_ID = BIGINT_MAX
"""Row ids (BIGINT)."""

PriceFen = Annotated[int, Field(ge=0, le=MAX_PRICE_FEN, strict=True,
                                description="money in integer fen (分), at most ¥1,000,000")]
AmountFen = Annotated[int, Field(ge=0, le=MAX_AMOUNT_FEN, strict=True,
                                 description="money in integer fen (分), at most ¥10,000,000")]
Quantity = Annotated[int, Field(ge=0, le=MAX_QTY)]
StockChange = Annotated[int, Field(ge=-MAX_QTY, le=MAX_QTY,
                                   description="signed quantity, e.g. -2 for breakage")]
Points = Annotated[int, Field(ge=0, le=MAX_POINTS, strict=True)]
DbId = Annotated[int, Field(ge=0, le=MAX_ID, description="a row id")]


class PatchModel(ApiModel):
    """A partial update (PATCH, and the PUT of settings): a field left out stays as it is.
    ``null`` clears a field named in ``clearable`` (a value that may be empty: a member's
    birthday, a product's cost); for any other field ``null`` is refused with 400
    ``validation_error`` ("不能为空") — and the OpenAPI document shows those fields without
    ``null``, so the schema and the server agree."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_clearable(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise PydanticCustomError("null_not_allowed", "may not be null")
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for name, prop in target.get("properties", {}).items():
            if name in cls.clearable:
                continue
            prop.pop("default", None)
            options = prop.get("anyOf")
            if options is None:
                continue
            kept = [o for o in options if o.get("type") != "null"]
            if len(kept) == 1:
                del prop["anyOf"]
                prop.update(kept[0])
            else:
                prop["anyOf"] = kept
        return schema


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
    on every page would make big lists slow; ``total`` only where the count is cheap (a
    bounded report list)."""

    items: list[T]
    page: int
    page_size: int
    has_more: bool
    total: int | None = Field(None, description="how many items in all, where counting them "
                                                "is cheap (else null)")
