"""Shifts (交班) and day close (日结).

A shift belongs to a counter: opened with a cash float, closed with the cash counted by
denomination. A sale, a recharge and a direct count-card sale need the counter's open shift
(409 ``shift_not_open``, :func:`require_open`) and carry its id, as do refunds made while it
is open. The report lists sales (``by_method``: their payments), recharges
(``recharges_by_method``) and count-card sales (``count_cards_by_method``) apart; all are
paid at the same drawer.

Expected cash = float + cash taken (cash payments net of change, cash recharges, cash
count-card sales) − cash refunds (sale refunds and stored-value refunds paid in cash).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from common.errors import ApiError
from server.db.base import utcnow
from server.db.members import MemberCountCard, StoredValueLedger
from server.db.models import Staff
from server.db.sales import Refund, RefundPayment, Sale, SalePayment, Shift

from . import audit
from .actor import Actor


def require_open(session: Session, actor: Actor) -> int:
    """The id of the open shift of the actor's counter: a sale, a recharge and a count-card
    sale are paid into a counter's drawer, so they need its shift (409 ``shift_not_open``).
    The row is read with a shared lock: a close running now finishes first (then this one
    sees it closed), and a close cannot freeze the figures while this write is still open."""
    shift_id = session.scalar(select(Shift.id).where(Shift.counter == actor.counter,
                                                     Shift.status == "open")
                              .order_by(Shift.id.desc()).limit(1).with_for_update(read=True))
    if shift_id is None:
        raise ApiError("shift_not_open", status=409, counter=actor.counter)
    return shift_id


def current(session: Session, counter: str) -> Shift | None:
    return session.scalars(select(Shift).where(Shift.counter == counter,
                                               Shift.status == "open")
                           .order_by(Shift.id.desc()).limit(1)).first()


def open_shift(session: Session, actor: Actor, float_amount: int, *, today: dt.date) -> Shift:
    """``today``: the shop's business day (``server.clock``), the shift's day."""
    if not actor.counter:
        raise ApiError("counter_required", status=422)
    # lock the counter's open shifts so two logins cannot both open one
    existing = session.scalars(select(Shift).where(Shift.counter == actor.counter,
                                                   Shift.status == "open").with_for_update()
                               ).first()
    if existing is not None:
        raise ApiError("shift_already_open", status=409, counter=actor.counter)
    shift = Shift(counter=actor.counter, staff_id=actor.staff_id, status="open",
                  business_date=today, float_amount=float_amount)
    session.add(shift)
    session.flush()
    audit.write(session, actor, "shift.open", "shift", shift.id,
                after={"counter": actor.counter, "float": float_amount})
    return shift


def get(session: Session, shift_id: int, for_update: bool = False) -> Shift:
    stmt = select(Shift).where(Shift.id == shift_id)
    if for_update:
        stmt = stmt.with_for_update()
    s = session.scalars(stmt).one_or_none()
    if s is None:
        raise ApiError("not_found", status=404, what="班次")
    return s


def report(session: Session, shift: Shift) -> dict[str, Any]:
    """The shift's figures (live for an open shift, frozen at close)."""
    if shift.report is not None and shift.status == "closed":
        return _split_takings(dict(shift.report))
    end = shift.closed_at or utcnow()
    by_method: dict[str, int] = defaultdict(int)
    sales_count, sales_total = session.execute(
        select(func.count(Sale.id), func.coalesce(func.sum(Sale.total), 0))
        .where(Sale.shift_id == shift.id)).one()
    change_given = 0
    cash_in = 0
    for method, amount, change in session.execute(
            select(SalePayment.method, func.sum(SalePayment.amount), func.sum(SalePayment.change))
            .join(Sale, Sale.id == SalePayment.sale_id).where(Sale.shift_id == shift.id)
            .group_by(SalePayment.method)):
        by_method[method] += int(amount)
        if method == "cash":
            cash_in += int(amount) + int(change)
            change_given += int(change)
    refunds_count, refunds_total = session.execute(
        select(func.count(Refund.id), func.coalesce(func.sum(Refund.total), 0))
        .where(Refund.shift_id == shift.id)).one()
    cash_refunds = int(session.scalar(
        select(func.coalesce(func.sum(RefundPayment.amount), 0))
        .join(Refund, Refund.id == RefundPayment.refund_id)
        .where(Refund.shift_id == shift.id, RefundPayment.method == "cash")) or 0)
    # recharges and count-card sales paid into this shift (older rows, from before they
    # carried their shift: by this cashier during the shift) and stored-value cash refunds
    # by this cashier during the shift
    def _this_shift(col, staff_col, at_col):
        return or_(col == shift.id, and_(col.is_(None), staff_col == shift.staff_id,
                                         at_col >= shift.opened_at, at_col < end))

    rech_count, rech_total = 0, 0
    rech_by_method: dict[str, int] = defaultdict(int)
    svl = StoredValueLedger
    for method, principal in session.execute(
            select(svl.method, svl.principal_change)
            .where(svl.kind == "recharge", _this_shift(svl.shift_id, svl.staff_id, svl.at))):
        rech_count += 1
        rech_total += principal
        rech_by_method[method or "cash"] += principal
        if method == "cash":
            cash_in += principal
    cash_refunds += -int(session.scalar(
        select(func.coalesce(func.sum(svl.principal_change), 0))
        .where(svl.kind == "cash_refund", svl.method == "cash",
               svl.staff_id == shift.staff_id, svl.at >= shift.opened_at, svl.at < end)) or 0)
    cc_count, cc_total = 0, 0
    cc_by_method: dict[str, int] = defaultdict(int)
    mcc = MemberCountCard
    for method, price in session.execute(
            select(mcc.method, mcc.price)
            .where(mcc.ref_type == "count_card",
                   _this_shift(mcc.shift_id, mcc.staff_id, mcc.purchased_at))):
        cc_count += 1
        cc_total += price
        cc_by_method[method or "cash"] += price
        if method == "cash":
            cash_in += price
    expected = shift.float_amount + cash_in - change_given - cash_refunds
    cashier = session.get(Staff, shift.staff_id)
    return {
        "id": shift.id, "counter": shift.counter, "staff_id": shift.staff_id,
        "cashier": cashier.display_name if cashier else "", "status": shift.status,
        "opened_at": shift.opened_at, "closed_at": shift.closed_at,
        "float_amount": shift.float_amount, "sales_count": int(sales_count),
        "sales_total": int(sales_total), "refunds_count": int(refunds_count),
        "refunds_total": int(refunds_total), "recharges_count": rech_count,
        "recharges_total": rech_total, "by_method": dict(by_method),
        "recharges_by_method": dict(rech_by_method), "count_cards_count": cc_count,
        "count_cards_total": cc_total, "count_cards_by_method": dict(cc_by_method),
        "cash_in": cash_in,
        "change_given": change_given, "cash_refunds": cash_refunds, "expected_cash": expected,
        "counted_cash": shift.counted_cash, "difference": shift.difference,
        "denominations": shift.denominations,
    }


def close_shift(session: Session, actor: Actor, shift_id: int, denominations: dict[int, int],
                note: str | None) -> dict[str, Any]:
    shift = get(session, shift_id, for_update=True)
    if shift.status != "open":
        raise ApiError("shift_closed", status=409)
    if shift.staff_id != actor.staff_id and actor.role.rank < 2:
        raise ApiError("forbidden", status=403)
    counted = sum(int(v) * int(n) for v, n in denominations.items())
    shift.closed_at = utcnow()
    shift.counted_cash = counted
    shift.denominations = {str(k): v for k, v in denominations.items()}
    shift.note = note
    rep = report(session, shift)
    shift.expected_cash = rep["expected_cash"]
    shift.difference = counted - rep["expected_cash"]
    shift.status = "closed"
    rep.update(status="closed", closed_at=shift.closed_at, counted_cash=counted,
               difference=shift.difference, denominations=shift.denominations)
    shift.report = _jsonable(rep)
    session.flush()
    audit.write(session, actor, "shift.close", "shift", shift.id,
                after={"expected": shift.expected_cash, "counted": counted,
                       "difference": shift.difference}, reason=note)
    return rep


def refreeze(session: Session, shift: Shift) -> dict[str, Any]:
    """A closed shift got a late sale (an offline sale replayed after the close; the caller
    holds the shift row's lock): recompute its frozen figures. The cash counted stays; the
    expected cash and the difference follow, so the sale's cash counts exactly once."""
    assert shift.status == "closed"
    shift.report = None
    session.flush()
    rep = report(session, shift)
    shift.expected_cash = rep["expected_cash"]
    shift.difference = (shift.counted_cash or 0) - rep["expected_cash"]
    rep.update(difference=shift.difference)
    shift.report = _jsonable(rep)
    session.flush()
    return rep


def add_late_sale(session: Session, shift: Shift, total: int,
                  payments: Iterable[tuple[str, int, int]]) -> None:
    """A closed shift got one late sale (an offline sale replayed after the close; the
    caller holds the shift row's lock): add it to the frozen figures — ``payments`` are
    (method, amount, change) — without recomputing the whole shift (a replay of many sales
    into a closed shift stays linear). The same result as :func:`refreeze`, which it falls
    back to when the frozen report is missing or of an older shape."""
    assert shift.status == "closed"
    rep = dict(shift.report) if shift.report is not None else None
    if rep is None or "recharges_by_method" not in rep or "cash_in" not in rep:
        refreeze(session, shift)
        return
    by_method = dict(rep.get("by_method") or {})
    for method, amount, change in payments:
        by_method[method] = by_method.get(method, 0) + amount
        if method == "cash":
            rep["cash_in"] += amount + change
            rep["change_given"] += change
            rep["expected_cash"] += amount
    rep["by_method"] = by_method
    rep["sales_count"] += 1
    rep["sales_total"] += total
    shift.expected_cash = rep["expected_cash"]
    shift.difference = (shift.counted_cash or 0) - rep["expected_cash"]
    rep["difference"] = shift.difference
    shift.report = rep  # a new dict: the JSON column sees the change


def _split_takings(rep: dict[str, Any]) -> dict[str, Any]:
    """A report frozen before recharges and count-card sales were listed apart from sales
    kept them in ``by_method`` as ``recharge_cash`` / ``count_card_cash``: split them out."""
    if "recharges_by_method" in rep:
        return rep
    sales: dict[str, int] = {}
    rech: dict[str, int] = {}
    cards: dict[str, int] = {}
    for key, value in rep.get("by_method", {}).items():
        if key.startswith("recharge_"):
            rech[key.removeprefix("recharge_")] = value
        elif key.startswith("count_card_"):
            cards[key.removeprefix("count_card_")] = value
        else:
            sales[key] = value
    return {**rep, "by_method": sales, "recharges_by_method": rech,
            "count_cards_by_method": cards, "count_cards_count": rep.get("count_cards_count", 0),
            "count_cards_total": sum(cards.values())}


def _jsonable(rep: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in rep.items()}


def day_close(session: Session, day: dt.date) -> dict[str, Any]:
    shifts = list(session.scalars(select(Shift).where(Shift.business_date == day)
                                  .order_by(Shift.id)))
    reps = [report(session, s) for s in shifts]
    by_method: dict[str, int] = defaultdict(int)
    rech_by_method: dict[str, int] = defaultdict(int)
    cc_by_method: dict[str, int] = defaultdict(int)
    for r in reps:
        for k, v in r["by_method"].items():
            by_method[k] += v
        for k, v in r["recharges_by_method"].items():
            rech_by_method[k] += v
        for k, v in r["count_cards_by_method"].items():
            cc_by_method[k] += v
    return {
        "business_date": day, "shifts": reps,
        "sales_count": sum(r["sales_count"] for r in reps),
        "sales_total": sum(r["sales_total"] for r in reps),
        "refunds_total": sum(r["refunds_total"] for r in reps),
        "recharges_total": sum(r["recharges_total"] for r in reps),
        "by_method": dict(by_method), "recharges_by_method": dict(rech_by_method),
        "count_cards_total": sum(r["count_cards_total"] for r in reps),
        "count_cards_by_method": dict(cc_by_method),
        "expected_cash": sum(r["expected_cash"] for r in reps),
        "counted_cash": sum(r["counted_cash"] or 0 for r in reps),
        "difference": sum(r["difference"] or 0 for r in reps),
        "open_shifts": sum(1 for r in reps if r["status"] == "open"),
    }
