"""Data invariants checked by ``lanpos-server verify`` (and by the tests after every
money-moving scenario). Each check returns a list of problems; empty means fine.

Feature modules add their checks to ``all_checks()`` explicitly (no registry)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.schemas.base import Role
from server.db.models import Staff

from . import (
    activities,
    appointments,
    count_cards,
    member_totals,
    points,
    reports,
    sales_checks,
    stock,
    wallet,
)

Check = Callable[[Session], list[str]]


@dataclass
class CheckResult:
    name: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_owner_exists(session: Session) -> list[str]:
    n = session.scalar(select(func.count()).select_from(Staff).where(
        Staff.role == Role.OWNER.value, Staff.active.is_(True)))
    return [] if n else ["no active owner account"]


def check_staff_roles(session: Session) -> list[str]:
    bad = session.scalars(select(Staff.username).where(
        Staff.role.not_in([r.value for r in Role]))).all()
    return [f"staff {u} has an unknown role" for u in bad]


def all_checks() -> list[tuple[str, Check]]:
    return [
        ("staff: an active owner exists", check_owner_exists),
        ("staff: roles are known", check_staff_roles),
        ("stock: cached stock = stock ledger", stock.check_stock_matches_ledger),
        ("members: stored value = stored-value ledger", wallet.check_balances),
        ("members: points = points ledger", points.check_balances),
        ("members: kept totals = sums over the members", member_totals.check_totals),
        ("members: count-card uses = count-card ledger", count_cards.check_balances),
        ("sales: payments = total, refunds <= sale", sales_checks.check_sales),
        ("sales: commission ledger consistent", sales_checks.check_commission),
        ("reports: cached days = live figures", reports.check_cache),
        ("members: no-show count = no-show appointments", appointments.check_no_shows),
        ("activities: places taken = sign-ups, within capacity", activities.check_seats),
        ("activities: paid sign-ups = their sale lines", activities.check_paid_signups),
    ]


def run_all(session: Session) -> list[CheckResult]:
    return [CheckResult(name, check(session)) for name, check in all_checks()]
