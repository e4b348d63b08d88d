"""Staff accounts. Owners manage everyone; a manager manages cashiers only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.schemas.base import Role
from common.schemas.staff import StaffCreate, StaffUpdate, check_hours
from server.db.models import Staff

from . import audit
from .actor import Actor
from .auth import Passwords, revoke_all


def snapshot(staff: Staff) -> dict[str, Any]:
    """What the audit log records of a staff row (never the password hash)."""
    return {
        "username": staff.username,
        "display_name": staff.display_name,
        "role": staff.role,
        "active": staff.active,
        "phone": staff.phone,
        "has_pin": bool(staff.pin_hash),
        "bookable": staff.bookable,
        "work_start": staff.work_start.isoformat("minutes") if staff.work_start else None,
        "work_end": staff.work_end.isoformat("minutes") if staff.work_end else None,
        "work_days": staff.work_days,
    }


def _check_can_manage(actor: Actor, role: Role) -> None:
    if actor.role == Role.OWNER:
        return
    if actor.role == Role.MANAGER and role == Role.CASHIER:
        return
    raise ApiError("cannot_manage_role", status=403, role=role.label_zh)


def get(session: Session, staff_id: int, for_update: bool = False) -> Staff:
    stmt = select(Staff).where(Staff.id == staff_id)
    if for_update:
        stmt = stmt.with_for_update()
    staff = session.scalars(stmt).one_or_none()
    if staff is None:
        raise ApiError("not_found", status=404, what="员工")
    return staff


def create(session: Session, actor: Actor, passwords: Passwords, data: StaffCreate) -> Staff:
    _check_can_manage(actor, data.role)
    if session.scalar(select(Staff.id).where(Staff.username == data.username)) is not None:
        raise ApiError("username_taken", status=409, username=data.username,
                       fields={"username": "已被使用"})
    staff = Staff(
        username=data.username,
        display_name=data.display_name,
        role=data.role.value,
        password_hash=passwords.hash(data.password),
        pin_hash=passwords.hash(data.pin) if data.pin else None,
        phone=data.phone,
        active=True,
        failed_logins=0,
        bookable=data.bookable,
        work_start=data.work_start,
        work_end=data.work_end,
        work_days=data.work_days,
    )
    session.add(staff)
    try:
        session.flush()
    except IntegrityError as e:  # a concurrent create with the same username
        raise ApiError("username_taken", status=409, username=data.username) from e
    audit.write(session, actor, "staff.create", "staff", staff.id, after=snapshot(staff))
    return staff


def set_pin(staff: Staff, passwords: Passwords, pin: str | None) -> None:
    """A staff member's PIN for clocking in (Argon2, like the password); None removes it."""
    staff.pin_hash = passwords.hash(pin) if pin else None


def update(session: Session, actor: Actor, passwords: Passwords, staff_id: int,
           data: StaffUpdate) -> Staff:
    staff = get(session, staff_id, for_update=True)
    _check_can_manage(actor, Role(staff.role))
    if data.role is not None:
        _check_can_manage(actor, data.role)
    before = snapshot(staff)
    demoting_owner = staff.role == Role.OWNER and (
        (data.role is not None and data.role != Role.OWNER) or data.active is False
    )
    if demoting_owner:
        others = session.scalar(
            select(func.count()).select_from(Staff).where(
                Staff.role == Role.OWNER.value, Staff.active.is_(True), Staff.id != staff.id
            ).with_for_update()
        )
        if not others:
            raise ApiError("last_owner", status=409)
    changes = data.model_dump(exclude_unset=True, exclude={"password", "unlock", "pin"})
    for key, value in changes.items():
        if value is None and key not in StaffUpdate.clearable:
            continue
        setattr(staff, key, value.value if isinstance(value, Role) else value)
    try:
        check_hours(staff.work_start, staff.work_end)
    except ValueError as e:
        raise ApiError("validation_error", status=400, fields={"work_start": str(e)}) from e
    revoke = False
    if data.password:
        staff.password_hash = passwords.hash(data.password)
        revoke = True
    if data.unlock:
        staff.failed_logins = 0
        staff.locked_until = None
    pin_given = "pin" in data.model_fields_set
    if pin_given:
        set_pin(staff, passwords, data.pin)
    if data.active is False or (data.role is not None and data.role.value != before["role"]):
        revoke = True
    if revoke and staff.id != actor.staff_id:
        revoke_all(session, staff.id)
    after = snapshot(staff)
    if data.password:
        after["password_changed"] = True
    if data.unlock:
        after["unlocked"] = True
    if pin_given:
        after["pin_changed" if data.pin else "pin_removed"] = True
    audit.write(session, actor, "staff.update", "staff", staff.id, before=before, after=after)
    session.flush()
    return staff


def list_staff(session: Session, page: int, page_size: int, q: str | None = None,
               include_inactive: bool = False) -> tuple[list[Staff], bool]:
    stmt = select(Staff).order_by(Staff.id)
    if not include_inactive:
        stmt = stmt.where(Staff.active.is_(True))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Staff.username.like(like), Staff.display_name.like(like)))
    rows = list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


SERVING_LIMIT = 500


def serving_staff(session: Session) -> list[Staff]:
    """The active staff a counter can name as serving staff (技师 / 导购) of a line, by name."""
    return list(session.scalars(select(Staff).where(Staff.active.is_(True))
                                .order_by(Staff.display_name, Staff.id).limit(SERVING_LIMIT)))


def check_serving(session: Session, staff_ids: set[int]) -> None:
    """Every id names an active staff member, or ``not_found`` (422) for the cashier."""
    if not staff_ids:
        return
    found = set(session.scalars(select(Staff.id).where(Staff.id.in_(staff_ids),
                                                        Staff.active.is_(True))))
    if staff_ids - found:
        raise ApiError("not_found", status=422, what="服务人员（或已停用）",
                       fields={"staff": "服务人员不存在或已停用"})


def create_initial(session: Session, passwords: Passwords, username: str, password: str,
                   role: Role, display_name: str) -> Staff:
    """Used by ``init`` and ``demo``: create an account if the username is free."""
    existing = session.scalars(select(Staff).where(Staff.username == username)).one_or_none()
    if existing is not None:
        return existing
    staff = Staff(username=username, display_name=display_name, role=role.value,
                  password_hash=passwords.hash(password), active=True, failed_logins=0)
    session.add(staff)
    session.flush()
    audit.write(session, Actor.system("init"), "staff.create", "staff", staff.id,
                after=snapshot(staff))
    return staff
