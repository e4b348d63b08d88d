"""Human references for member ledger entries (储值 / 积分 / 次卡 流水): people read the sale
number printed on the receipt (``20261201-01-0042``), the refund's number, the recharge
slip's number (``SV00000123``, :func:`common.schemas.members.recharge_number`) — never the
UUIDs the ledgers link by."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.schemas.members import recharge_number
from server.db.members import MemberCountCard
from server.db.sales import Refund, Sale


class LedgerRow(Protocol):
    id: int
    kind: str
    ref_type: str | None
    ref_id: str | None


def human_refs(session: Session, rows: Iterable[LedgerRow], *, book: str) -> list[str | None]:
    """One reference per row (None where there is nothing a person would look up)."""
    rows = list(rows)
    by_type: dict[str, set[str]] = {}
    for r in rows:
        if r.ref_type and r.ref_id:
            by_type.setdefault(r.ref_type, set()).add(r.ref_id)
    sales: dict[str, str] = {}
    if by_type.get("sale"):
        sales = dict(session.execute(select(Sale.uuid, Sale.number)
                                     .where(Sale.uuid.in_(by_type["sale"]))).all())
    refunds: dict[str, str] = {}
    if by_type.get("refund"):
        refunds = dict(session.execute(select(Refund.uuid, Refund.number)
                                       .where(Refund.uuid.in_(by_type["refund"]))).all())
    cards: dict[str, str] = {}
    if by_type.get("count_card"):  # a count card sold outside a sale: the card it bought
        cards = {ref: f"{name} #{cid}" for ref, cid, name in session.execute(
            select(MemberCountCard.ref_id, MemberCountCard.id, MemberCountCard.name)
            .where(MemberCountCard.ref_type == "count_card",
                   MemberCountCard.ref_id.in_(by_type["count_card"])))}
    out: list[str | None] = []
    for r in rows:
        if book == "stored_value" and r.kind == "recharge":
            out.append(recharge_number(r.id))
        elif r.ref_type == "sale":
            out.append(sales.get(r.ref_id or ""))
        elif r.ref_type == "refund":
            out.append(refunds.get(r.ref_id or ""))
        elif r.ref_type == "count_card":
            out.append(cards.get(r.ref_id or ""))
        else:
            out.append(None)
    return out
