"""What staff served (技师 / 导购) and earned (提成), by business day.

A sale line names its serving staff and their shares (``sale_lines.staff_shares``, basis
points summing to 100 %). A staff member's *served amount* is their share of each line's
amount (``common.pricing.allocate``, the same split as the commission's); a refunded line
gives its share back on the refund's business day, as every report does. Commission comes
from the append-only ``commission_ledger`` (sale rows on the sale's business day, refund
rows on the refund's). The cashier who rang a sale up is another figure (``sales.staff_id``):
a stylist's work and the front desk's till are told apart.

Used by ``GET /commissions/mine`` (a staff member's own figures and lines) and the serving
group of ``GET /reports/sales``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.pricing import allocate
from server.db.models import Staff
from server.db.sales import CommissionLedger, Refund, RefundLine, Sale, SaleLine

MAX_LINES = 200


@dataclass
class Served:
    """One staff member's figures over a period."""

    staff_id: int
    sales: set[int] = field(default_factory=set)  # sale ids served
    amount: int = 0
    refunds: int = 0
    commission: int = 0


@dataclass
class ServedLine:
    at: dt.datetime
    kind: str
    sale_number: str
    item: str
    share_bp: int
    served: int
    commission: int


def _shares(raw: Any) -> list[tuple[int, int]]:
    return [(int(s["staff_id"]), int(s["share_bp"])) for s in (raw or [])
            if isinstance(s, dict) and "staff_id" in s and "share_bp" in s]


def _split(amount: int, shares: list[tuple[int, int]]) -> list[int]:
    sign = -1 if amount < 0 else 1
    return [sign * x for x in allocate(abs(amount), [bp for _sid, bp in shares])]


def _with_shares(stmt: Select) -> Select:
    # a line without serving staff stores JSON null (or nothing)
    return stmt.where(SaleLine.staff_shares.is_not(None),
                      func.json_type(SaleLine.staff_shares) == "ARRAY")


def _collect(session: Session, a: dt.date, b: dt.date, staff_id: int | None,
             lines: list[ServedLine] | None) -> dict[int, Served]:
    out: dict[int, Served] = {}
    for (_day, sid), fig in _collect_days(session, a, b, staff_id, lines).items():
        s = out.setdefault(sid, Served(sid))
        s.sales |= fig.sales
        s.amount += fig.amount
        s.refunds += fig.refunds
        s.commission += fig.commission
    return out


def _collect_days(session: Session, a: dt.date, b: dt.date, staff_id: int | None,
                  lines: list[ServedLine] | None) -> dict[tuple[dt.date, int], Served]:
    """The figures per (business day, staff member): a sale's on its business day, a
    refund's on the refund's (the report cache keeps them per day, ``reports.py``)."""
    out: dict[tuple[dt.date, int], Served] = {}

    def of(day: dt.date, sid: int) -> Served:
        if (day, sid) not in out:
            out[(day, sid)] = Served(sid)
        return out[(day, sid)]

    commission: dict[tuple[int, int, str, int | None], int] = defaultdict(int)
    # the sale rows from the period's sales, the refund rows from the period's refunds
    # (business-day indexes; the ledger is reached by its sale_id / refund_id keys)
    by_sale = (select(Sale.business_date, CommissionLedger.staff_id,
                      CommissionLedger.sale_line_id, CommissionLedger.kind,
                      CommissionLedger.refund_id, func.sum(CommissionLedger.amount))
               .join(CommissionLedger, CommissionLedger.sale_id == Sale.id)
               .where(Sale.business_date.between(a, b), CommissionLedger.kind == "sale"))
    by_refund = (select(Refund.business_date, CommissionLedger.staff_id,
                        CommissionLedger.sale_line_id, CommissionLedger.kind,
                        CommissionLedger.refund_id, func.sum(CommissionLedger.amount))
                 .join(CommissionLedger, CommissionLedger.refund_id == Refund.id)
                 .where(Refund.business_date.between(a, b)))
    for stmt in (by_sale, by_refund):
        if staff_id is not None:
            stmt = stmt.where(CommissionLedger.staff_id == staff_id)
        stmt = stmt.group_by(stmt.selected_columns[0], CommissionLedger.staff_id,
                             CommissionLedger.sale_line_id, CommissionLedger.kind,
                             CommissionLedger.refund_id)
        for day, sid, line_id, kind, refund_id, amount in session.execute(stmt):
            commission[(sid, line_id, kind, refund_id)] += int(amount)
            of(day, sid).commission += int(amount)
    sale_rows = session.execute(_with_shares(
        select(SaleLine.id, SaleLine.sale_id, SaleLine.amount, SaleLine.staff_shares,
               SaleLine.name, Sale.number, Sale.created_at, Sale.business_date)
        .join(Sale, Sale.id == SaleLine.sale_id).where(Sale.business_date.between(a, b))))
    for line_id, sale_id, amount, raw, name, number, at, day in sale_rows:
        shares = _shares(raw)
        if not shares:
            continue
        for (sid, bp), part in zip(shares, _split(amount, shares), strict=True):
            if staff_id is not None and sid != staff_id:
                continue
            s = of(day, sid)
            s.sales.add(sale_id)
            s.amount += part
            if lines is not None:
                lines.append(ServedLine(at, "sale", number, name, bp, part,
                                        commission.get((sid, line_id, "sale", None), 0)))
    refund_rows = session.execute(_with_shares(
        select(RefundLine.sale_line_id, RefundLine.amount, SaleLine.staff_shares,
               SaleLine.name, Sale.number, Refund.id, Refund.created_at, Refund.business_date)
        .join(Refund, Refund.id == RefundLine.refund_id)
        .join(SaleLine, SaleLine.id == RefundLine.sale_line_id)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(Refund.business_date.between(a, b))))
    for line_id, amount, raw, name, number, refund_id, at, day in refund_rows:
        shares = _shares(raw)
        if not shares:
            continue
        for (sid, bp), part in zip(shares, _split(amount, shares), strict=True):
            if staff_id is not None and sid != staff_id:
                continue
            of(day, sid).refunds += part
            if lines is not None:
                lines.append(ServedLine(at, "refund", number, name, bp, -part,
                                        commission.get((sid, line_id, "refund", refund_id), 0)))
    return out


def served(session: Session, a: dt.date, b: dt.date) -> dict[int, Served]:
    """Every serving staff member's figures over business days a..b."""
    return _collect(session, a, b, None, None)


def served_by_day(session: Session, a: dt.date, b: dt.date
                  ) -> dict[tuple[dt.date, int], Served]:
    """The same per (business day, staff member): the report cache's serving dimension."""
    return _collect_days(session, a, b, None, None)


def mine(session: Session, staff_id: int | None, a: dt.date, b: dt.date) -> dict[str, Any]:
    """One staff member's own figures and lines (newest first, at most ``MAX_LINES``) and
    the sales they rang up as the cashier, over business days a..b."""
    if staff_id is None:  # the system actor has no figures of its own
        raise ApiError("forbidden", status=403)
    lines: list[ServedLine] = []
    fig = _collect(session, a, b, staff_id, lines).get(staff_id, Served(staff_id))
    lines.sort(key=lambda ln: ln.at, reverse=True)
    n, total = session.execute(
        select(func.count(Sale.id), func.coalesce(func.sum(Sale.total), 0))
        .where(Sale.staff_id == staff_id, Sale.business_date.between(a, b))).one()
    me = session.get(Staff, staff_id)
    return {
        "staff_id": staff_id, "username": me.username if me else "",
        "name": me.display_name if me else "", "date_from": a, "date_to": b,
        "served_sales": len(fig.sales), "served_amount": fig.amount,
        "served_refunds": fig.refunds, "commission": fig.commission,
        "cashier_sales": int(n), "cashier_total": int(total),
        "lines": [ln.__dict__ for ln in lines[:MAX_LINES]],
        "more_lines": len(lines) > MAX_LINES,
    }
