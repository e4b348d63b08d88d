"""Append-only audit log of every money-changing or admin action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditLog

from .actor import Actor


def write(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: Any = None,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> AuditLog:
    row = AuditLog(
        staff_id=actor.staff_id,
        username=actor.username,
        counter=actor.counter or None,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
        reason=reason,
        ip=actor.ip,
    )
    session.add(row)
    return row


def write_apart(session_factory: Callable[[], Session], actor: Actor, action: str,
                entity: str, entity_id: Any = None, *, after: Any = None,
                reason: str | None = None) -> None:
    """An entry in a session of its own, committed at once: for work that is not one
    request's transaction (a promotion, whose database only now takes writes; a restore,
    after which the request's session belongs to a database that no longer exists)."""
    with session_factory() as session:
        write(session, actor, action, entity, entity_id, after=after, reason=reason)
        session.commit()


def drawer_opened(session: Session, actor: Actor, reason: str | None = None) -> AuditLog:
    """A manager opened the cash drawer by hand at ``actor.counter`` (no sale): the audit
    entry is the record of it (the counter kicks the drawer once this is stored)."""
    row = write(session, actor, "drawer.open", "drawer", actor.counter or None,
                after={"counter": actor.counter or None}, reason=reason)
    session.flush()  # id and time for the response
    return row


def list_entries(
    session: Session,
    page: int,
    page_size: int,
    action: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    staff_id: int | None = None,
) -> tuple[list[AuditLog], bool]:
    stmt = select(AuditLog).order_by(AuditLog.id.desc())
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if entity:
        stmt = stmt.where(AuditLog.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditLog.entity_id == entity_id)
    if staff_id:
        stmt = stmt.where(AuditLog.staff_id == staff_id)
    rows = list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size
