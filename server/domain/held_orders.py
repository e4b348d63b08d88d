"""Held orders (挂单): a parked cart that any counter can resume.

The cart is stored as versioned JSON (``HELD_ORDER_VERSION``) in the same shape as the sale
request, so an upgrade reads old payloads through ``upgrade_payload`` instead of losing them.
Resuming takes the order (deletes it in the same transaction), so two counters can never both
resume one held order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.schemas.sales import HELD_ORDER_VERSION, CartIn
from server.db.sales import HeldOrder

from . import audit
from .actor import Actor


def upgrade_payload(version: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Bring an old payload to the current version (one step per version bump)."""
    if version > HELD_ORDER_VERSION:
        raise ApiError("held_order_too_new", status=409)
    return payload


def hold(session: Session, actor: Actor, label: str | None, cart: CartIn) -> HeldOrder:
    row = HeldOrder(version=HELD_ORDER_VERSION, label=label, counter=actor.counter,
                    staff_id=actor.staff_id, payload=cart.model_dump(mode="json"))
    session.add(row)
    session.flush()
    return row


def cart_of(row: HeldOrder) -> CartIn:
    return CartIn.model_validate(upgrade_payload(row.version, row.payload))


def list_held(session: Session, page: int, page_size: int) -> tuple[list[HeldOrder], bool]:
    rows = list(session.scalars(select(HeldOrder).order_by(HeldOrder.id.desc())
                                .offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


def take(session: Session, actor: Actor, held_id: int, delete_reason: str | None = None
         ) -> HeldOrder:
    """Resume (or delete) a held order: it is removed atomically."""
    row = session.get(HeldOrder, held_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise ApiError("held_order_gone", status=404)
    session.delete(row)
    session.flush()
    if delete_reason is not None:
        audit.write(session, actor, "held_order.delete", "held_order", held_id,
                    before={"label": row.label, "lines": len(row.payload.get("lines", []))},
                    reason=delete_reason or None)
    return row
