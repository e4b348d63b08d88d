from __future__ import annotations

from common.schemas.base import Page
from common.schemas.system import AuditEntryOut, AuditQuery, DrawerOpenIn
from server.domain import audit as audit_domain

from .base import MANAGERS, ApiBlueprint, Ctx

bp = ApiBlueprint("audit", __name__, tag="system")


@bp.endpoint("GET", "/audit", roles=MANAGERS, query=AuditQuery, response=Page[AuditEntryOut])
def list_audit(ctx: Ctx, query: AuditQuery) -> Page[AuditEntryOut]:
    """The audit log, newest first (owner, manager)."""
    rows, more = audit_domain.list_entries(ctx.db, query.page, query.page_size, query.action,
                                           query.entity, query.entity_id, query.staff_id)
    return Page[AuditEntryOut](items=[AuditEntryOut.model_validate(r) for r in rows],
                               page=query.page, page_size=query.page_size, has_more=more)


@bp.endpoint("POST", "/audit/drawer", roles=MANAGERS, body=DrawerOpenIn, response=AuditEntryOut,
             status=201)
def drawer_opened(ctx: Ctx, body: DrawerOpenIn) -> AuditEntryOut:
    """Record a manual cash-drawer opening (manager, owner) at the caller's counter; the
    counter opens the drawer after this succeeded. Idempotent: a retried request with the
    same key is recorded once."""
    row = audit_domain.drawer_opened(ctx.db, ctx.me, body.reason)
    return AuditEntryOut.model_validate(row)
