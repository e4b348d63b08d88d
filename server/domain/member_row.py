"""The member row every balance change goes through: locked, and checked to be active.

Below both ``members`` and ``member_cards`` (a card is issued while a member is created, and
a card change locks its member), so that neither has to import the other to get it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from common.errors import ApiError
from server.db.members import Member
from server.db.session import lock_row


def lock(session: Session, member_id: int) -> Member:
    """The member row, locked (``SELECT … FOR UPDATE``) and refreshed: every balance change
    of a member goes through this lock (taken once per transaction)."""
    m = lock_row(session, Member, member_id)
    if m is None:
        raise ApiError("not_found", status=404, what="会员")
    return m


def require_active(m: Member) -> None:
    if not m.active:
        raise ApiError("member_inactive", status=409, name=m.name)
