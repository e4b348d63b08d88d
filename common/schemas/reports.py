"""Sales reports (报表): a period's sales grouped by day, month, payment method, category,
product (top N), hour of the day (the shop's: when customers come), staff (the cashier who
rang the sale up) or serving staff (技师 / 导购 of the
lines: their share of each line, and their commission). All money in integer fen."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from .base import ApiModel

ReportGroup = Literal["day", "month", "hour", "payment", "category", "product", "staff",
                      "serving"]
MAX_REPORT_DAYS = 366 * 3


class SalesReportQuery(ApiModel):
    date_from: dt.date = Field(description="first business day (inclusive)")
    date_to: dt.date = Field(description="last business day (inclusive)")
    group: ReportGroup = "day"
    top: int = Field(20, ge=1, le=500, description="product group: the N best by net sales")

    @model_validator(mode="after")
    def _range(self):
        if self.date_to < self.date_from:
            raise ValueError("结束日期不能早于开始日期")
        if (self.date_to - self.date_from).days >= MAX_REPORT_DAYS:
            raise ValueError("日期范围最长 3 年")
        return self


class ReportRowOut(ApiModel):
    """One group. ``sales``: completed sales counted in the period (by their business day);
    ``refunds``: money refunded in the period (by the refund's business day); ``net`` =
    ``total`` − ``refunds``. ``cost``/``margin`` cover only lines whose unit cost was known
    at the time (services usually have none); ``margin`` = their net amount − their net cost.
    For the payment group ``list_total``/``discount`` are 0 and ``total`` is what each method
    took. For the serving group (by serving staff): ``sales`` = sales they served, ``total``
    = their share of the lines' amounts, ``refunds`` = their share of refunded lines,
    ``commission`` = their net commission (commission ledger)."""

    key: str
    label: str
    sales: int = Field(description="number of sales (of lines for category/product)")
    qty: int = Field(0, description="quantity of goods and services sold (0 for the payment "
                     "and hour groups)")
    list_total: int
    discount: int
    total: int
    refunds: int
    net: int
    cost: int = 0
    margin: int = 0
    margin_base: int = Field(0, description="net amount of the lines with a known cost")
    commission: int = Field(0, description="serving group: net commission (提成)")


class SalesReportOut(ApiModel):
    date_from: dt.date
    date_to: dt.date
    group: ReportGroup
    rows: list[ReportRowOut]
    totals: ReportRowOut
    truncated: bool = Field(False, description="product group: more products than ``top``")
    offline_sales: int = Field(0, description="of these, sales replayed from a counter's "
                               "offline journal (origin offline), every group")
    offline_total: int = Field(0, description="their total (fen)")
