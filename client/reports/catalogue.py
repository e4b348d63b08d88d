"""The owner's reports (报表): for each, what to ask the server and how its answer reads as a
:class:`ReportDoc` (tables, headline figures, charts). The figures are the server's — nothing
is summed here; a builder only picks, orders and labels them.

``REPORTS`` is the one list the back office's 报表 screen shows, in this order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.money import format_fen
from common.schemas.shop import ShopSettingsOut

from .. import labels
from ..api import ApiClient
from ..counter.receipts import day_close_document
from ..devices.document import Document
from ..i18n import tr
from .document import Chart, Col, ReportDoc, Table


@dataclass(frozen=True)
class Period:
    date_from: dt.date
    date_to: dt.date

    @property
    def text(self) -> str:
        if self.date_from == self.date_to:
            return self.date_from.isoformat()
        return tr("rout.period_range", start=self.date_from.isoformat(),
                  end=self.date_to.isoformat())


@dataclass(frozen=True)
class Options:
    """The report's own settings next to the period: ``days`` (dormant members), ``kind``
    (which member list)."""

    days: int = 60
    kind: str = "new"


@dataclass
class Parts:
    headline: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportSpec:
    """``fetch(api, period, options)`` runs in a worker (only the API); ``build(data,
    period, options)`` makes the page. ``single_day``: the period is one day (日结)."""

    key: str
    fetch: Callable[[ApiClient, Period, Options], Any]
    build: Callable[[Any, Period, Options], Parts]
    options: tuple[str, ...] = ()
    single_day: bool = False
    #: the report on the receipt printer too: ``receipt(data, shop, width, printed_by)``
    receipt: Callable[[Any, ShopSettingsOut, int, str], Document] | None = None

    @property
    def title(self) -> str:
        return tr(f"rout.r.{self.key}")


def make_doc(spec: ReportSpec, data: Any, period: Period, options: Options, *, shop: str,
             printed_by: str, printed_at: dt.datetime) -> ReportDoc:
    parts = spec.build(data, period, options)
    return ReportDoc(title=spec.title, shop=shop, period=period.text, printed_at=printed_at,
                     printed_by=printed_by, headline=parts.headline, tables=parts.tables,
                     charts=parts.charts, notes=parts.notes)


def _m(fen: int) -> str:
    return format_fen(fen)


#: every column heading a report uses (``rout.col.<key>``): the string test checks them all
COLUMNS = ("sales", "qty", "list_total", "discount", "total", "refunds", "net", "margin",
           "served", "commission", "counter", "cashier", "opened_at", "closed_at",
           "sales_total", "recharges", "count_cards", "expected_cash", "counted_cash",
           "difference", "method")


def column_keys() -> list[str]:
    return list(COLUMNS)


def _c(key: str, kind: str = "text") -> Col:
    if key not in COLUMNS:
        raise KeyError(f"report column {key!r} is not in catalogue.COLUMNS")
    return Col(key, tr(f"rout.col.{key}"), kind)  # type: ignore[arg-type]


# -- sales (GET /reports/sales) -------------------------------------------------------------
_SALES_COLS = (("label", "text"), ("sales", "int"), ("qty", "int"), ("list_total", "money"),
               ("discount", "money"), ("total", "money"), ("refunds", "money"),
               ("net", "money"), ("margin", "money"))
_NO_QTY = {"payment", "hour"}
_SERVING_COLS = (("label", "text"), ("sales", "int"), ("served", "money"),
                 ("refunds", "money"), ("net", "money"), ("commission", "money"))


def _sales_fetch(group: str) -> Callable[[ApiClient, Period, Options], Any]:
    top = 50 if group == "product" else None
    return lambda api, p, _o: api.sales_report(p.date_from, p.date_to, group, top)


def _row(r: Any, group: str) -> dict[str, Any]:
    row = r.model_dump()
    row["served"] = r.total
    if group == "payment":
        row["label"] = labels.payment_method(r.key)
    elif group == "day":
        row["short"] = r.key[5:]  # 11-30 on a chart's axis
    return row


def _sales_build(group: str) -> Callable[[Any, Period, Options], Parts]:
    def build(rep: Any, _p: Period, _o: Options) -> Parts:
        if group == "serving":
            keys = _SERVING_COLS
        else:
            keys = tuple((k, t) for k, t in _SALES_COLS
                         if not (k == "qty" and group in _NO_QTY)
                         # what each method took: no list price, discount or margin
                         and not (group == "payment"
                                  and k in ("list_total", "discount", "margin")))
        cols = [Col("label", tr(f"rout.label.{group}"))] + [_c(k, t) for k, t in keys[1:]]
        rows = [_row(r, group) for r in rep.rows]
        totals = _row(rep.totals, group)
        totals["label"] = ""
        t = rep.totals
        parts = Parts(tables=[Table(tr(f"rout.r.sales_{group}"), cols, rows, totals)])
        if group == "serving":
            parts.headline = [(tr("rout.col.served"), _m(t.total)),
                              (tr("rout.col.refunds"), _m(t.refunds)),
                              (tr("rout.col.commission"), _m(t.commission))]
        else:
            parts.headline = [(tr("rout.col.total"), _m(t.total)),
                              (tr("rout.col.refunds"), _m(t.refunds)),
                              (tr("rout.col.net"), _m(t.net)),
                              (tr("rout.col.sales"), str(t.sales))]
            if group != "payment":
                parts.headline.append((tr("rout.col.margin"), _m(t.margin)))
        if rep.truncated:
            parts.tables[0].note = tr("rout.truncated", n=len(rep.rows))
        if rep.offline_sales:
            parts.notes.append(tr("rep.offline", n=rep.offline_sales,
                                  total=_m(rep.offline_total)))
        chart = {
            "day": Chart("bar", tr("rout.chart.by_day"), 0, "short", ["net"]),
            "month": Chart("bar", tr("rout.chart.by_month"), 0, "label", ["net"]),
            "hour": Chart("bar", tr("rout.chart.by_hour"), 0, "key", ["total"]),
            "payment": Chart("pie", tr("rout.chart.payment_mix"), 0, "label", ["total"]),
            "category": Chart("pie", tr("rout.chart.by_category"), 0, "label", ["net"]),
            "product": Chart("hbar", tr("rout.chart.top_products"), 0, "label", ["net"],
                             limit=10),
            "staff": Chart("hbar", tr("rout.chart.by_cashier"), 0, "label", ["total"]),
            "serving": Chart("hbar", tr("rout.chart.by_staff"), 0, "label",
                             ["served", "commission"], limit=10),
        }[group]
        if rows:
            parts.charts.append(chart)
        return parts
    return build


SALES_GROUPS = ("day", "hour", "payment", "product", "category", "serving", "staff", "month")


# -- day close (Z) ----------------------------------------------------------------------------
def _day_close_build(rep: Any, _p: Period, _o: Options) -> Parts:
    shift_cols = [_c("counter"), _c("cashier"), _c("opened_at", "datetime"),
                  _c("closed_at", "datetime"), _c("sales", "int"), _c("sales_total", "money"),
                  _c("refunds", "money"), _c("recharges", "money"),
                  _c("expected_cash", "money"), _c("counted_cash", "money"),
                  _c("difference", "money")]
    shifts = [{"counter": s.counter, "cashier": s.cashier, "opened_at": _local(s.opened_at),
               "closed_at": _local(s.closed_at), "sales": s.sales_count,
               "sales_total": s.sales_total, "refunds": s.refunds_total,
               "recharges": s.recharges_total, "expected_cash": s.expected_cash,
               "counted_cash": s.counted_cash, "difference": s.difference}
              for s in rep.shifts]
    totals = {"counter": "", "sales": rep.sales_count, "sales_total": rep.sales_total,
              "refunds": rep.refunds_total, "recharges": rep.recharges_total,
              "expected_cash": rep.expected_cash, "counted_cash": rep.counted_cash,
              "difference": rep.difference}
    method_cols = [_c("method"), _c("sales_total", "money"), _c("recharges", "money"),
                   _c("count_cards", "money")]
    methods = sorted(set(rep.by_method) | set(rep.recharges_by_method)
                     | set(rep.count_cards_by_method))
    by_method = [{"method": labels.payment_method(m), "sales_total": rep.by_method.get(m, 0),
                  "recharges": rep.recharges_by_method.get(m, 0),
                  "count_cards": rep.count_cards_by_method.get(m, 0)} for m in methods]
    parts = Parts(
        headline=[(tr("rout.col.sales_total"), _m(rep.sales_total)),
                  (tr("rout.col.refunds"), _m(rep.refunds_total)),
                  (tr("rout.col.recharges"), _m(rep.recharges_total)),
                  (tr("rout.col.expected_cash"), _m(rep.expected_cash)),
                  (tr("rout.col.counted_cash"), _m(rep.counted_cash)),
                  (tr("rout.col.difference"), _m(rep.difference))],
        tables=[Table(tr("rout.t.shifts"), shift_cols, shifts, totals),
                Table(tr("rout.t.by_method"), method_cols, by_method)])
    if rep.open_shifts:
        parts.notes.append(tr("rout.open_shifts", n=rep.open_shifts))
    if by_method:
        parts.charts.append(Chart("pie", tr("rout.chart.payment_mix"), 1, "method",
                                  ["sales_total"]))
    return parts


def _local(t: dt.datetime | None) -> dt.datetime | None:
    """A server time (UTC) in this machine's time: the back office's wall clock."""
    return t.astimezone().replace(tzinfo=None) if t is not None else None


REPORTS: list[ReportSpec] = [
    *(ReportSpec(f"sales_{g}", _sales_fetch(g), _sales_build(g)) for g in SALES_GROUPS),
    ReportSpec("day_close", lambda api, p, _o: api.day_close(p.date_to.isoformat()),
               _day_close_build, single_day=True,
               receipt=lambda rep, shop, width, by: day_close_document(
                   rep, shop, width, printed_by=by)),
]


def spec(key: str) -> ReportSpec:
    return next(s for s in REPORTS if s.key == key)
