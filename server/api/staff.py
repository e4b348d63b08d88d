from __future__ import annotations

from common.schemas.base import Page
from common.schemas.staff import (
    ServingStaffOut,
    StaffCreate,
    StaffListQuery,
    StaffOut,
    StaffUpdate,
)
from server.domain import staff as staff_domain

from .base import ALL_STAFF, MANAGERS, ApiBlueprint, Ctx

bp = ApiBlueprint("staff", __name__, tag="staff")


@bp.endpoint("GET", "/staff", roles=MANAGERS, query=StaffListQuery, response=Page[StaffOut])
def list_staff(ctx: Ctx, query: StaffListQuery) -> Page[StaffOut]:
    """List staff accounts (owner, manager)."""
    rows, more = staff_domain.list_staff(ctx.db, query.page, query.page_size, query.q,
                                         query.include_inactive)
    return Page[StaffOut](items=[StaffOut.model_validate(r) for r in rows], page=query.page,
                          page_size=query.page_size, has_more=more)


@bp.endpoint("GET", "/staff/serving", roles=ALL_STAFF, response=list[ServingStaffOut])
def serving_staff(ctx: Ctx) -> list[ServingStaffOut]:
    """Active staff a counter can name as serving staff (技师 / 导购) of a sale line."""
    return [ServingStaffOut.model_validate(s) for s in staff_domain.serving_staff(ctx.db)]


@bp.endpoint("POST", "/staff", roles=MANAGERS, body=StaffCreate, response=StaffOut, status=201)
def create_staff(ctx: Ctx, body: StaffCreate) -> StaffOut:
    """Create a staff account. An owner creates any role; a manager only cashiers."""
    staff = staff_domain.create(ctx.db, ctx.me, ctx.state.passwords, body)
    return StaffOut.model_validate(staff)


@bp.endpoint("GET", "/staff/<int:staff_id>", roles=MANAGERS, response=StaffOut)
def get_staff(ctx: Ctx, staff_id: int) -> StaffOut:
    """One staff account."""
    return StaffOut.model_validate(staff_domain.get(ctx.db, staff_id))


@bp.endpoint("PATCH", "/staff/<int:staff_id>", roles=MANAGERS, body=StaffUpdate,
             response=StaffOut)
def update_staff(ctx: Ctx, staff_id: int, body: StaffUpdate) -> StaffOut:
    """Change name, role, password, phone; deactivate; unlock. Managers: cashiers only."""
    staff = staff_domain.update(ctx.db, ctx.me, ctx.state.passwords, staff_id, body)
    return StaffOut.model_validate(staff)
