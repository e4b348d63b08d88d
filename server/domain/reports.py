"""Sales reports (报表) straight from the sales tables, set-based SQL.

A period is a range of business days. Sales count on their own business day, refunds on the
refund's business day (a sale of the 30th refunded on the 2nd lowers the 2nd), so a closed
day never changes afterwards. Per group:

- ``total`` = sales' totals (after every discount), ``list_total`` − ``discount`` = ``total``;
- ``refunds`` = money refunded, ``net`` = ``total`` − ``refunds``;
- ``cost``/``margin``: only lines with a known unit cost (``sale_lines.cost``, the product's
  cost at the time of the sale); refunded units give their cost back.

Speed (bench/README.md, 10M sale lines): the sales-level groups read the covering index
``ix_sales_business_date_report`` only; the line-level figures (margin, category, product) walk
the lines of the period's sales through ``ix_sale_lines_sale_id_report`` (covering: no row
lookups); payments through ``ix_sale_payments_sale_id_method`` and refunds by
``ix_refunds_business_date`` (migration 0006).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from common.schemas.reports import ReportRowOut, SalesReportOut, SalesReportQuery
from common.schemas.sales import PAYMENT_LABELS_ZH


@dataclass
class _Acc:
    key: str
    label: str = ""
    sales: int = 0
    qty: int = 0
    list_total: int = 0
    total: int = 0
    refunds: int = 0
    cost: int = 0
    margin_base: int = 0
    refund_cost: int = 0
    refund_margin_base: int = 0
    sort: Any = field(default=None)

    def out(self) -> ReportRowOut:
        net = self.total - self.refunds
        base = self.margin_base - self.refund_margin_base
        cost = self.cost - self.refund_cost
        return ReportRowOut(key=self.key, label=self.label or self.key, sales=self.sales,
                            qty=self.qty, list_total=self.list_total,
                            discount=self.list_total - self.total, total=self.total,
                            refunds=self.refunds, net=net, cost=cost, margin=base - cost,
                            margin_base=base)


def _i(v: Any) -> int:
    return int(v or 0)


# SQL pieces per sales-level group: (key expression on sales s, on refunds r)
_SALE_KEYS = {
    "day": ("s.business_date", "r.business_date"),
    "month": ("DATE_FORMAT(s.business_date, '%Y-%m')", "DATE_FORMAT(r.business_date, '%Y-%m')"),
    "staff": ("s.staff_id", "r.staff_id"),
}


def sales_report(session: Session, q: SalesReportQuery) -> SalesReportOut:
    p = {"a": q.date_from, "b": q.date_to}
    if q.group in _SALE_KEYS:
        rows = _by_sale_key(session, q.group, p)
        totals = _totals(session, p, rows)
        totals.qty = 0
    elif q.group == "payment":
        rows = _by_payment(session, p)
        totals = _totals(session, p, None)
    else:
        every = _by_line_key(session, q.group, p)
        totals = _totals(session, p, every)
        rows = every[:q.top] if q.group == "product" else every
        if q.group == "product":
            _product_labels(session, rows)
    return SalesReportOut(date_from=q.date_from, date_to=q.date_to, group=q.group,
                          rows=[r.out() for r in rows], totals=totals.out(),
                          truncated=len(rows) < len(every) if q.group == "product" else False)


def _key(v: Any) -> str:
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def _by_sale_key(session: Session, group: str, p: dict[str, Any]) -> list[_Acc]:
    skey, rkey = _SALE_KEYS[group]
    acc: dict[str, _Acc] = {}

    def get(k: Any) -> _Acc:
        key = _key(k)
        if key not in acc:
            acc[key] = _Acc(key, sort=k)
        return acc[key]

    for k, n, lt, tot in session.execute(text(
            f"SELECT {skey} AS k, COUNT(*), SUM(s.list_total), SUM(s.total) FROM sales s "
            "WHERE s.business_date BETWEEN :a AND :b GROUP BY k"), p):
        a = get(k)
        a.sales, a.list_total, a.total = _i(n), _i(lt), _i(tot)
    for k, base, cost in session.execute(text(
            f"SELECT {skey} AS k, SUM(l.amount), SUM(l.cost * l.qty) FROM sales s "
            "JOIN sale_lines l ON l.sale_id = s.id "
            "WHERE s.business_date BETWEEN :a AND :b AND l.cost IS NOT NULL GROUP BY k"), p):
        a = get(k)
        a.margin_base, a.cost = _i(base), _i(cost)
    for k, tot in session.execute(text(
            f"SELECT {rkey} AS k, SUM(r.total) FROM refunds r "
            "WHERE r.business_date BETWEEN :a AND :b GROUP BY k"), p):
        get(k).refunds = _i(tot)
    for k, base, cost in _refund_line_costs(session, rkey, p):
        a = get(k)
        a.refund_margin_base, a.refund_cost = _i(base), _i(cost)
    if group == "staff":
        names = _staff_names(session, [int(a.sort) for a in acc.values()])
        for a in acc.values():
            a.label = names.get(int(a.sort), a.key)
    return sorted(acc.values(), key=lambda a: a.sort)


def _refund_line_costs(session: Session, key: str, p: dict[str, Any]):
    return session.execute(text(
        f"SELECT {key} AS k, SUM(rl.amount), SUM(l.cost * rl.qty) FROM refunds r "
        "JOIN refund_lines rl ON rl.refund_id = r.id "
        "JOIN sale_lines l ON l.id = rl.sale_line_id "
        "WHERE r.business_date BETWEEN :a AND :b AND l.cost IS NOT NULL GROUP BY k"), p)


def _staff_names(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(text("SELECT id, display_name FROM staff WHERE id IN :ids")
                           .bindparams(_expanding("ids")), {"ids": ids})
    return {int(i): n for i, n in rows}


def _expanding(name: str):
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


def _by_payment(session: Session, p: dict[str, Any]) -> list[_Acc]:
    acc: dict[str, _Acc] = {}
    for method, n, amount in session.execute(text(
            "SELECT sp.method, COUNT(*), SUM(sp.amount) FROM sales s "
            "JOIN sale_payments sp ON sp.sale_id = s.id "
            "WHERE s.business_date BETWEEN :a AND :b GROUP BY sp.method"), p):
        acc[method] = _Acc(method, PAYMENT_LABELS_ZH.get(method, method), sales=_i(n),
                           list_total=_i(amount), total=_i(amount))
    for method, amount in session.execute(text(
            "SELECT rp.method, SUM(rp.amount) FROM refunds r "
            "JOIN refund_payments rp ON rp.refund_id = r.id "
            "WHERE r.business_date BETWEEN :a AND :b GROUP BY rp.method"), p):
        a = acc.setdefault(method, _Acc(method, PAYMENT_LABELS_ZH.get(method, method)))
        a.refunds = _i(amount)
    order = list(PAYMENT_LABELS_ZH)
    return sorted(acc.values(), key=lambda a: (order.index(a.key) if a.key in order
                                               else len(order), a.key))


_LINE_KEYS = {
    # key expression on sale_lines l; label
    "category": "COALESCE(l.category_id, 0)",
    "product": "COALESCE(l.product_id, -l.count_card_template_id, 0)",
}


def _by_line_key(session: Session, group: str, p: dict[str, Any]) -> list[_Acc]:
    """Every category / product of the period, best net sales first."""
    key = _LINE_KEYS[group]
    acc: dict[int, _Acc] = {}
    for k, n, qty, lt, tot, base, cost in session.execute(text(
            f"SELECT {key} AS k, COUNT(*), SUM(l.qty), SUM(l.list_amount), SUM(l.amount), "
            "SUM(CASE WHEN l.cost IS NOT NULL THEN l.amount END), SUM(l.cost * l.qty) "
            "FROM sales s "
            "JOIN sale_lines l ON l.sale_id = s.id "
            "WHERE s.business_date BETWEEN :a AND :b GROUP BY k"), p):
        acc[int(k)] = _Acc(str(k), "", sales=_i(n), qty=_i(qty), list_total=_i(lt),
                           total=_i(tot), margin_base=_i(base), cost=_i(cost), sort=int(k))
    for k, amount, _qty, base, cost in session.execute(text(
            f"SELECT {key} AS k, SUM(rl.amount), SUM(rl.qty), "
            "SUM(CASE WHEN l.cost IS NOT NULL THEN rl.amount END), SUM(l.cost * rl.qty) "
            "FROM refunds r "
            "JOIN refund_lines rl ON rl.refund_id = r.id "
            "JOIN sale_lines l ON l.id = rl.sale_line_id "
            "WHERE r.business_date BETWEEN :a AND :b GROUP BY k"), p):
        a = acc.setdefault(int(k), _Acc(str(k), "", sort=int(k)))
        a.refunds, a.refund_margin_base, a.refund_cost = _i(amount), _i(base), _i(cost)
    if group == "category":
        names = dict(session.execute(text("SELECT id, name FROM categories")).all())
        for a in acc.values():
            a.label = names.get(a.sort, "未分类") if a.sort else "未分类"
    return sorted(acc.values(), key=lambda a: (-(a.total - a.refunds), a.sort))


def _product_labels(session: Session, rows: list[_Acc]) -> None:
    """Names of the shown products (and of count-card packages sold: negative keys)."""
    pids = [a.sort for a in rows if a.sort > 0]
    tids = [-a.sort for a in rows if a.sort < 0]
    names: dict[int, str] = {}
    if pids:
        names.update((int(i), n) for i, n in session.execute(
            text("SELECT id, name FROM products WHERE id IN :ids")
            .bindparams(_expanding("ids")), {"ids": pids}))
    if tids:
        names.update((-int(i), n) for i, n in session.execute(
            text("SELECT id, name FROM count_card_templates WHERE id IN :ids")
            .bindparams(_expanding("ids")), {"ids": tids}))
    for a in rows:
        a.label = names.get(a.sort, "其他" if a.sort == 0 else a.key)


def _totals(session: Session, p: dict[str, Any], rows: list[_Acc] | None) -> _Acc:
    """The period's totals. Counts and money from the sales and refunds rows themselves (so
    every grouping can be checked against them); the line-level figures (qty, cost, margin)
    from ``rows`` when they cover every line, else from one more query."""
    t = _Acc("total", "合计")
    n, lt, tot = session.execute(text(
        "SELECT COUNT(*), SUM(list_total), SUM(total) FROM sales "
        "WHERE business_date BETWEEN :a AND :b"), p).one()
    t.sales, t.list_total, t.total = _i(n), _i(lt), _i(tot)
    t.refunds = _i(session.execute(text(
        "SELECT SUM(total) FROM refunds WHERE business_date BETWEEN :a AND :b"), p).scalar())
    if rows is not None:
        t.qty = sum(r.qty for r in rows)
        t.margin_base = sum(r.margin_base for r in rows)
        t.cost = sum(r.cost for r in rows)
        t.refund_margin_base = sum(r.refund_margin_base for r in rows)
        t.refund_cost = sum(r.refund_cost for r in rows)
        return t
    base, cost = session.execute(text(
        "SELECT SUM(l.amount), SUM(l.cost * l.qty) FROM sales s "
        "JOIN sale_lines l ON l.sale_id = s.id "
        "WHERE s.business_date BETWEEN :a AND :b AND l.cost IS NOT NULL"), p).one()
    t.margin_base, t.cost = _i(base), _i(cost)
    for _k, b, c in _refund_line_costs(session, "1", p):
        t.refund_margin_base, t.refund_cost = _i(b), _i(c)
    return t
