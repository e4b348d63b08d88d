"""Invariants of sales for ``lanpos-server verify`` (set-based SQL: fast on big databases)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

LIMIT = 50


def check_sales(session: Session) -> list[str]:
    problems: list[str] = []
    q = [
        ("payments != total",
         "SELECT s.number, s.total, COALESCE(SUM(p.amount), 0) FROM sales s "
         "LEFT JOIN sale_payments p ON p.sale_id = s.id GROUP BY s.id "
         "HAVING COALESCE(SUM(p.amount), 0) <> s.total LIMIT :n"),
        ("lines != total",
         "SELECT s.number, s.total, COALESCE(SUM(l.amount), 0) FROM sales s "
         "LEFT JOIN sale_lines l ON l.sale_id = s.id GROUP BY s.id "
         "HAVING COALESCE(SUM(l.amount), 0) <> s.total LIMIT :n"),
        ("refunded more than sold",
         "SELECT s.number, s.total, s.refunded_total FROM sales s "
         "WHERE s.refunded_total > s.total OR s.refunded_total < 0 LIMIT :n"),
        ("refunds != refunded_total",
         "SELECT s.number, s.refunded_total, COALESCE(SUM(r.total), 0) FROM sales s "
         "LEFT JOIN refunds r ON r.sale_id = s.id GROUP BY s.id "
         "HAVING COALESCE(SUM(r.total), 0) <> s.refunded_total LIMIT :n"),
        ("line refunded beyond its quantity or amount",
         "SELECT s.number, l.qty, l.refunded_qty FROM sale_lines l JOIN sales s "
         "ON s.id = l.sale_id WHERE l.refunded_qty > l.qty OR l.refunded_amount > l.amount "
         "LIMIT :n"),
        ("refund payments != refund total",
         "SELECT r.number, r.total, COALESCE(SUM(p.amount), 0) FROM refunds r "
         "LEFT JOIN refund_payments p ON p.refund_id = r.id GROUP BY r.id "
         "HAVING COALESCE(SUM(p.amount), 0) <> r.total LIMIT :n"),
        ("payment refunded beyond its amount",
         "SELECT s.number, p.method, p.amount, p.refunded FROM sale_payments p JOIN sales s "
         "ON s.id = p.sale_id WHERE p.refunded > p.amount LIMIT :n"),
    ]
    for label, sql in q:
        for row in session.execute(text(sql), {"n": LIMIT}):
            problems.append(f"{label}: {tuple(row)}")
    return problems


def check_commission(session: Session) -> list[str]:
    rows = session.execute(text(
        "SELECT sale_line_id, staff_id, SUM(amount) FROM commission_ledger "
        "GROUP BY sale_line_id, staff_id HAVING SUM(CASE WHEN kind='sale' THEN amount ELSE 0 END)"
        " < 0 OR SUM(amount) < 0 LIMIT :n"), {"n": LIMIT}).all()
    return [f"commission for line {r[0]} staff {r[1]} is negative: {r[2]}" for r in rows]
