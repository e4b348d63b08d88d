"""Manager approvals (授权): a manager or owner types their password at a cashier's counter;
the server returns a short-lived approval token that the cashier's next sale carries. The
sale records who approved and uses the token up."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.schemas.base import Role
from server.db.base import utcnow
from server.db.models import Staff
from server.db.sales import Approval

from . import audit
from .actor import Actor
from .auth import AuthPolicy, Passwords, login_check, token_digest

APPROVAL_MINUTES = 5


def grant(session: Session, actor: Actor, passwords: Passwords, policy: AuthPolicy,
          username: str, password: str, purpose: str) -> tuple[str, Approval, Staff]:
    approver = login_check(session, passwords, policy, username, password, ip=actor.ip,
                           counter=actor.counter, purpose="approval")
    if Role(approver.role).rank < Role.MANAGER.rank:
        raise ApiError("approver_not_manager", status=403)
    token = secrets.token_urlsafe(24)
    row = Approval(token_hash=token_digest(token), staff_id=approver.id,
                   requested_by=actor.staff_id, purpose=purpose, counter=actor.counter,
                   expires_at=utcnow() + dt.timedelta(minutes=APPROVAL_MINUTES))
    session.add(row)
    session.flush()
    audit.write(session, actor, "approval.grant", "staff", approver.id,
                after={"purpose": purpose, "approver": approver.username})
    return token, row, approver


def _valid(session: Session, token: str, purpose: str, for_update: bool) -> Approval:
    stmt = select(Approval).where(Approval.token_hash == token_digest(token))
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalars(stmt).one_or_none()
    if (row is None or row.used_at is not None or row.expires_at <= utcnow()
            or row.purpose != purpose):
        raise ApiError("approval_invalid", status=403)
    return row


def check_approval(session: Session, token: str, purpose: str = "discount") -> int:
    """The approving staff id of a valid, unused approval for ``purpose``."""
    return _valid(session, token, purpose, for_update=False).staff_id


def use_approval(session: Session, token: str, ref: str, purpose: str = "discount") -> int:
    """Use the approval up (once) for the sale/refund ``ref``."""
    row = _valid(session, token, purpose, for_update=True)
    row.used_at = utcnow()
    row.used_ref = ref
    return row.staff_id
