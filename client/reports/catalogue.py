"""The owner's reports (报表): for each, what to ask the server and how its answer reads as a
:class:`ReportDoc` (tables, headline figures, charts). The figures are the server's — nothing
is summed here; a builder only picks, orders and labels them.

``REPORTS`` is the one list the back office's 报表 screen shows, in this order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from common.money import format_fen
from common.privacy import report_phone
from common.schemas.shop import ShopSettingsOut

from .. import labels
from ..api import ApiClient
from ..backoffice.attendance import attendance_doc
from ..counter.receipts import day_close_document, local_time
from ..devices.document import Document
from ..i18n import tr
from .document import Chart, Col, ReportDoc, Table

PeriodKind = Literal["range", "day", "month"]


@dataclass(frozen=True)
class Period:
    """Business days ``date_from``..``date_to``; ``kind`` month: a calendar month."""

    date_from: dt.date
    date_to: dt.date
    kind: PeriodKind = "range"

    @classmethod
    def month_of(cls, day: dt.date) -> Period:
        first = day.replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        return cls(first, last, "month")

    @property
    def month(self) -> str:
        return self.date_from.strftime("%Y-%m")

    @property
    def text(self) -> str:
        if self.kind == "month":
            return self.month
        if self.date_from == self.date_to:
            return self.date_from.isoformat()
        return tr("rout.period_range", start=self.date_from.isoformat(),
                  end=self.date_to.isoformat())


@dataclass(frozen=True)
class Options:
    """The report's own settings next to the period: ``kind`` (which member list, one of
    ``LIST_KINDS``), ``days`` (dormant: not seen for; card_expiring: expiring within),
    ``threshold`` (low_balance, fen; None: the shop's setting), ``uses`` (card_low)."""

    days: int = 60
    kind: str = "new"
    threshold: int | None = None
    uses: int = 2


#: the member lists a screen offers (会员名单 in 报表, 会员关怀), in this order
LIST_KINDS = ("new", "dormant", "birthdays_month", "birthdays_week", "low_balance",
              "card_low", "card_expiring")
CARD_LIST_KINDS = ("card_low", "card_expiring")


@dataclass
class Parts:
    headline: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportSpec:
    """``fetch(api, period, options)`` runs in a worker (only the API); ``build(data,
    period, options)`` makes the page."""

    key: str
    fetch: Callable[[ApiClient, Period, Options], Any]
    build: Callable[[Any, Period, Options], Parts]
    options: tuple[str, ...] = ()
    period: PeriodKind = "range"  # day: one business day (日结); month: a calendar month
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
           "difference", "method", "item", "amount", "count", "member_no", "refund_no",
           "sale_no", "name", "balance",
           "package", "sold", "sold_total", "uses", "active_cards", "uses_left", "value_left",
           "expired_uses_left", "products", "value", "sku", "unit", "stock", "low_stock",
           "cost", "kind", "entries", "qty_in", "qty_out", "sale_number", "at",
           "approved_by", "reason", "ref", "member", "by", "phone", "level", "points",
           "total_spent", "visit_count", "last_visit_at", "birthday", "created_at", "card",
           "card_uses_left", "card_expires_at", "appt_time", "customer", "services",
           "staff_name", "appt_status", "no_shows", "activity", "starts_at", "capacity",
           "price", "signups", "checked_in", "cancelled", "revenue", "attendance_rate")


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
    """A server time (UTC) as the back office's wall clock (``receipts.local_time``)."""
    return local_time(t) if t is not None else None


# -- members: stored value, points, spending (GET /reports/members) --------------------------
def _members_build(rep: Any, _p: Period, _o: Options) -> Parts:
    liability = [
        {"item": tr("rout.i.principal"), "amount": rep.liability_principal},
        {"item": tr("rout.i.bonus"), "amount": rep.liability_bonus},
    ]
    period = [
        {"item": tr("rout.i.recharged", n=rep.recharge_count), "amount": rep.recharge_principal},
        {"item": tr("rout.i.recharge_bonus"), "amount": rep.recharge_bonus},
        {"item": tr("rout.i.spent_principal"), "amount": -rep.sv_spent_principal},
        {"item": tr("rout.i.spent_bonus"), "amount": -rep.sv_spent_bonus},
        {"item": tr("rout.i.cash_refunded"), "amount": -rep.sv_cash_refunded},
        {"item": tr("rout.i.bonus_forfeited"), "amount": -rep.sv_bonus_forfeited},
        {"item": tr("rout.i.adjusted"), "amount": rep.sv_adjusted},
        {"item": tr("rout.i.opening"), "amount": rep.sv_opening},
    ]
    points = [
        {"item": tr("rout.i.points_earned"), "count": rep.points_earned},
        {"item": tr("rout.i.points_redeemed"), "count": -rep.points_redeemed},
        {"item": tr("rout.i.points_expired"), "count": -rep.points_expired},
        {"item": tr("rout.i.points_other"), "count": rep.points_other},
    ]
    spend = [
        {"item": tr("rout.i.member_sales"), "sales": rep.member_sales,
         "amount": rep.member_total},
        {"item": tr("rout.i.guest_sales"), "sales": rep.guest_sales, "amount": rep.guest_total},
    ]
    top = [{"member_no": m.number, "name": m.name, "sales": m.sales, "total": m.total,
            "balance": m.balance} for m in rep.top]
    item, amount = _c("item"), _c("amount", "money")
    return Parts(
        headline=[(tr("rout.h.liability"), _m(rep.liability_total)),
                  (tr("rout.i.principal"), _m(rep.liability_principal)),
                  (tr("rout.i.bonus"), _m(rep.liability_bonus)),
                  (tr("rout.h.with_balance"), str(rep.members_with_balance)),
                  (tr("rout.h.points"), str(rep.points_outstanding)),
                  (tr("rout.h.members"), str(rep.members)),
                  (tr("rout.h.new_members"), str(rep.new_members))],
        tables=[Table(tr("rout.t.liability"), [item, amount], liability,
                      {"item": "", "amount": rep.liability_total}),
                Table(tr("rout.t.stored_value"), [item, amount], period),
                Table(tr("rout.t.points"), [item, _c("count", "int")], points),
                Table(tr("rout.t.member_spend"), [item, _c("sales", "int"), amount], spend),
                Table(tr("rout.t.top_members"),
                      [_c("member_no"), _c("name"), _c("sales", "int"),
                       _c("total", "money"), _c("balance", "money")], top)],
        charts=[Chart("pie", tr("rout.chart.liability"), 0, "item", ["amount"]),
                Chart("pie", tr("rout.chart.member_spend"), 3, "item", ["amount"])])


# -- count cards (GET /reports/count-cards) -------------------------------------------------
def _count_cards_build(rep: Any, _p: Period, _o: Options) -> Parts:
    cols = [Col("label", tr("rout.col.package")), _c("sold", "int"),
            _c("sold_total", "money"), _c("uses", "int"), _c("active_cards", "int"),
            _c("uses_left", "int"), _c("value_left", "money"), _c("expired_uses_left", "int")]
    rows = [r.model_dump() for r in rep.rows]
    totals = rep.totals.model_dump() | {"label": ""}
    t = rep.totals
    parts = Parts(headline=[(tr("rout.col.value_left"), _m(t.value_left)),
                            (tr("rout.col.uses_left"), str(t.uses_left)),
                            (tr("rout.col.active_cards"), str(t.active_cards)),
                            (tr("rout.col.uses"), str(t.uses))],
                  tables=[Table(tr("rout.r.count_cards"), cols, rows, totals)],
                  notes=[tr("rout.count_card_note")])
    if rows:
        parts.charts.append(Chart("hbar", tr("rout.chart.value_left"), 0, "label",
                                  ["value_left"], limit=10))
    return parts


# -- stock (GET /reports/stock) -------------------------------------------------------------
def _stock_build(rep: Any, _p: Period, _o: Options) -> Parts:
    cats = [r.model_dump() for r in rep.categories]
    low = [r.model_dump() for r in rep.low_stock]
    moves = [r.model_dump() for r in rep.movements]
    parts = Parts(
        headline=[(tr("rout.h.stock_value"), _m(rep.value_at_cost)),
                  (tr("rout.h.tracked"), str(rep.tracked_products)),
                  (tr("rout.h.no_cost"), str(rep.products_without_cost)),
                  (tr("rout.h.negative"), str(rep.negative_stock)),
                  (tr("rout.h.low"), str(len(rep.low_stock)))],
        tables=[Table(tr("rout.t.stock_categories"),
                      [Col("label", tr("rout.label.category")), _c("products", "int"),
                       _c("qty", "int"), _c("value", "money")], cats,
                      rep.categories_total.model_dump() | {"label": ""}),
                Table(tr("rout.t.low_stock"),
                      [_c("sku"), _c("name"), _c("unit"), _c("stock", "int"),
                       _c("low_stock", "int"), _c("cost", "money")], low,
                      note=tr("rout.truncated", n=len(low)) if rep.low_stock_truncated
                      else ""),
                Table(tr("rout.t.movements"),
                      [Col("label", tr("rout.col.kind")), _c("entries", "int"),
                       _c("qty_in", "int"), _c("qty_out", "int"), _c("net", "int")], moves,
                      rep.movements_total.model_dump() | {"label": ""})])
    if rep.products_without_cost:
        parts.notes.append(tr("rout.no_cost_note", n=rep.products_without_cost))
    if cats:
        parts.charts.append(Chart("pie", tr("rout.chart.stock_value"), 0, "label", ["value"]))
    return parts


# -- refunds, discounts, voids (GET /reports/exceptions) ------------------------------------
def _exceptions_build(rep: Any, _p: Period, _o: Options) -> Parts:
    def when(rows: list[Any], number: str = "") -> list[dict[str, Any]]:
        out = [r.model_dump() | {"at": _local(r.at)} for r in rows]
        return [r | {number: r["number"]} for r in out] if number else out

    voids = [r | {"kind": tr(f"rout.void.{r['kind']}")} for r in when(rep.voids)]
    refunds = Table(tr("rout.t.refunds"),
                    [_c("refund_no"), _c("sale_number"), _c("at", "datetime"), _c("counter"),
                     _c("cashier"), _c("approved_by"), _c("reason"), _c("total", "money")],
                    when(rep.refunds, "refund_no"), {"refund_no": "", "total": rep.refund_total})
    discounts = Table(tr("rout.t.discounts"),
                      [_c("sale_no"), _c("at", "datetime"), _c("counter"), _c("cashier"),
                       _c("approved_by"), _c("list_total", "money"), _c("discount", "money"),
                       _c("total", "money")],
                      when(rep.discounts, "sale_no"),
                      {"sale_no": "", "discount": rep.discount_total})
    void_table = Table(tr("rout.t.voids"),
                       [_c("kind"), _c("ref"), _c("member"), _c("at", "datetime"), _c("by"),
                        _c("reason")], voids)
    for table, truncated in ((refunds, rep.refunds_truncated),
                             (discounts, rep.discounts_truncated),
                             (void_table, rep.voids_truncated)):
        if truncated:
            table.note = tr("rout.truncated", n=len(table.rows))
    return Parts(headline=[(tr("rout.h.refunds", n=rep.refund_count), _m(rep.refund_total)),
                           (tr("rout.h.discounts", n=rep.discount_count),
                            _m(rep.discount_total)),
                           (tr("rout.h.voids"), str(rep.void_count))],
                 tables=[refunds, discounts, void_table])


# -- member lists (GET /reports/member-list) ------------------------------------------------
MEMBER_LIST_SIZE = 200  # one page of the server's (its most); the count says how many in all


def member_list_def(p: Period, o: Options) -> tuple[str, dict[str, Any]]:
    """The server's list — ``kind`` and its parameters — for the list ``o.kind`` picked on a
    screen (the report page, 会员关怀's page, count, coupon and export all send this)."""
    if o.kind == "new":
        return "new", {"date_from": p.date_from, "date_to": p.date_to}
    if o.kind in ("dormant", "card_expiring"):
        return o.kind, {"days": o.days}
    if o.kind == "low_balance":
        return o.kind, {"threshold": o.threshold} if o.threshold else {}
    if o.kind == "card_low":
        return o.kind, {"uses": o.uses}
    return "birthdays", {"scope": "week" if o.kind == "birthdays_week" else "month"}


def member_list_title(o: Options) -> str:
    if o.kind == "dormant":
        return tr("rout.t.dormant", days=o.days)
    if o.kind == "card_expiring":
        return tr("rout.t.card_expiring", days=o.days)
    if o.kind == "card_low":
        return tr("rout.t.card_low", uses=o.uses)
    if o.kind == "low_balance" and o.threshold:
        return tr("rout.t.low_balance", amount=_m(o.threshold))
    return tr(f"rep.kind.{o.kind}")


def _member_list_fetch(api: ApiClient, p: Period, o: Options) -> Any:
    kind, params = member_list_def(p, o)
    return api.member_list(kind, page_size=MEMBER_LIST_SIZE, **params)


def member_list_parts(page: Any, o: Options) -> Parts:
    """A page of a member list (the server's ``Page[MemberListRowOut]``) as a report page."""
    rows = [r.model_dump() | {"member_no": r.number, "last_visit_at": _local(r.last_visit_at),
                              "created_at": _local(r.created_at),
                              "card_expires_at": _local(r.card_expires_at)}
            for r in page.items]
    cols = [_c("member_no"), _c("name"), _c("phone"), _c("level"), _c("balance", "money")]
    if o.kind in CARD_LIST_KINDS:
        cols += [_c("card"), _c("card_uses_left", "int"), _c("card_expires_at", "datetime")]
    cols += [_c("points", "int"), _c("total_spent", "money"), _c("visit_count", "int"),
             _c("last_visit_at", "datetime"), _c("birthday", "date"),
             _c("created_at", "datetime")]
    # no count (沉睡): as many as the pages up to this one hold, "or more" while there are
    seen = (page.page - 1) * page.page_size + len(rows)
    total = page.total if page.total is not None else seen
    title = member_list_title(o)
    table = Table(title, cols, rows)
    if page.has_more:
        table.note = tr("rout.list_more", shown=len(rows), total=total) \
            if page.total is not None else tr("rout.list_more_unknown", shown=len(rows))
    people = tr("rout.h.people", n=total) if page.total is not None or not page.has_more \
        else tr("rout.h.people_more", n=total)
    return Parts(headline=[(title, people)], tables=[table], notes=[tr("rout.phone_masked")])


def _member_list_build(page: Any, _p: Period, o: Options) -> Parts:
    return member_list_parts(page, o)


# -- appointments of a day (GET /appointments) ----------------------------------------------
APPOINTMENT_PAGES = 10  # × 200: a day's bookings of even a big shop


def _appointments_fetch(api: ApiClient, p: Period, _o: Options) -> tuple[list[Any], bool]:
    rows: list[Any] = []
    for page in range(1, APPOINTMENT_PAGES + 1):
        got = api.appointments(p.date_to, page=page, page_size=200)
        rows += got.items
        if not got.has_more:
            return rows, False
    return rows, True


def _appointments_build(data: tuple[list[Any], bool], _p: Period, _o: Options) -> Parts:
    """The day's bookings to call or to prepare: the phone masked as in every report."""
    items, more = data
    cols = [_c("appt_time"), _c("customer"), _c("phone"), _c("services"), _c("staff_name"),
            _c("appt_status"), _c("no_shows", "int")]
    rows = [{"appt_time": f"{a.local_start:%H:%M}–{a.local_end:%H:%M}",
             "customer": a.customer_name, "phone": report_phone(a.phone),
             "services": "、".join(s.name for s in a.services),
             "staff_name": a.staff_name or tr("appt.classes"),
             "appt_status": tr(f"appt.status.{a.status}"), "no_shows": a.no_show_count}
            for a in items]
    table = Table(tr("rout.r.appointments"), cols, rows)
    if more:
        table.note = tr("rout.truncated", n=len(rows))
    live = [a for a in items if a.status != "cancelled"]
    return Parts(headline=[(tr("rout.r.appointments"), tr("rout.h.people", n=len(live)))],
                 tables=[table], notes=[tr("rout.phone_masked")])


# -- activities (GET /reports/activities) ---------------------------------------------------
def _rate(checked_in: int, signups: int) -> str:
    """Attendance as a percentage of the sign-ups (display only)."""
    return f"{checked_in * 100 // signups}%" if signups else ""


def _activities_build(rep: Any, _p: Period, _o: Options) -> Parts:
    rows = [r.model_dump() | {"activity": r.title,
                              "kind": tr(f"act.kind.{r.kind}"),
                              "starts_at": r.starts_at.strftime("%Y-%m-%d %H:%M"),
                              "attendance_rate": _rate(r.checked_in, r.signups)}
            for r in rep.items]
    cols = [_c("activity"), _c("kind"), _c("starts_at"), _c("capacity", "int"),
            _c("price", "money"), _c("signups", "int"), _c("checked_in", "int"),
            _c("attendance_rate"), _c("cancelled", "int"), _c("revenue", "money")]
    totals = {"activity": "", "signups": rep.signups, "checked_in": rep.checked_in,
              "cancelled": rep.cancelled, "revenue": rep.revenue,
              "attendance_rate": _rate(rep.checked_in, rep.signups)}
    parts = Parts(tables=[Table(tr("rout.r.activities"), cols, rows, totals)],
                  headline=[(tr("rout.col.signups"), str(rep.signups)),
                            (tr("rout.col.checked_in"), str(rep.checked_in)),
                            (tr("rout.col.revenue"), _m(rep.revenue))])
    if rows:
        parts.charts.append(Chart("hbar", tr("rout.chart.activities"), 0, "activity",
                                  ["signups", "checked_in"], limit=10))
    return parts


REPORTS: list[ReportSpec] = [
    *(ReportSpec(f"sales_{g}", _sales_fetch(g), _sales_build(g)) for g in SALES_GROUPS),
    ReportSpec("day_close", lambda api, p, _o: api.day_close(p.date_to.isoformat()),
               _day_close_build, period="day",
               receipt=lambda rep, shop, width, by: day_close_document(
                   rep, shop, width, printed_by=by)),
    ReportSpec("members", lambda api, p, _o: api.members_report(p.date_from, p.date_to),
               _members_build),
    ReportSpec("count_cards", lambda api, p, _o: api.count_card_report(p.date_from, p.date_to),
               _count_cards_build),
    ReportSpec("stock", lambda api, p, _o: api.stock_report(p.date_from, p.date_to),
               _stock_build),
    ReportSpec("exceptions", lambda api, p, _o: api.exceptions_report(p.date_from, p.date_to),
               _exceptions_build),
    ReportSpec("member_list", _member_list_fetch, _member_list_build, options=("kind",)),
    ReportSpec("activities", lambda api, p, _o: api.activity_stats(p.date_from, p.date_to),
               _activities_build),
    ReportSpec("attendance", lambda api, p, _o: api.attendance_summary(p.month),
               lambda summary, _p, _o: _parts(attendance_doc(summary)), period="month"),
    ReportSpec("appointments", _appointments_fetch, _appointments_build, period="day"),
]


def _parts(doc: ReportDoc) -> Parts:
    """A page made elsewhere (考勤: ``attendance_doc``) as the parts of this one."""
    return Parts(headline=doc.headline, tables=doc.tables, charts=doc.charts,
                 notes=doc.notes)


def spec(key: str) -> ReportSpec:
    return next(s for s in REPORTS if s.key == key)
