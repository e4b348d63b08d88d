"""Points (积分): earned on sales at the member level's rate, redeemed as a payment or for
gifts, manual adjustments, and expiry of points older than N months.

Every change locks the member row, updates the cached ``members.points`` and appends a
``points_ledger`` entry with ``balance_after`` in the caller's transaction.

Checkout: :func:`earn` after a sale (``ref_type='sale'``), :func:`redeem` for a points
payment (value: ``common.pricing.points_value_fen`` with the ``points_per_yuan_redeem``
setting), :func:`credit` (kind ``reverse``) to give points back on a refund, and
:func:`debit` (kind ``reverse``) to take back points earned by a refunded sale.

Expiry (:func:`expire`) is first-in-first-out without lots: every point ever taken off counts
against the oldest points (``common.membership_rules.points_to_expire``); what was earned before
the cut-off and is not consumed yet expires as a ledger entry (kind ``expire``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.membership_rules import points_earned, points_to_expire
from server.db.base import utcnow
from server.db.members import Member, MemberLevel, PointsLedger

from . import audit, member_totals
from . import members as members_domain
from .actor import Actor


@dataclass
class Result:
    entry: PointsLedger | None
    points: int
    change: int = 0


def _post(session: Session, actor: Actor, m: Member, kind: str, change: int,
          ref_type: str | None = None, ref_id: str | None = None,
          note: str | None = None) -> Result:
    """Apply ``change`` to a LOCKED member row and append the ledger entry."""
    new = m.points + change
    if new < 0:
        raise ApiError("insufficient_points", status=409, points=-change, balance=m.points)
    member_totals.add(session, points=change,
                      with_points=member_totals.positive_change(m.points, new))
    m.points = new
    entry = PointsLedger(member_id=m.id, kind=kind, change=change, balance_after=new,
                         ref_type=ref_type, ref_id=ref_id, note=note, staff_id=actor.staff_id)
    session.add(entry)
    session.flush()
    return Result(entry, new, change)


def earn(session: Session, actor: Actor, member_id: int, amount_fen: int, *, ref_type: str,
         ref_id: str | None, multiplier: int = 1) -> Result:
    """Points for ``amount_fen`` spent, at the member level's ``points_per_yuan`` (rounded
    down), times ``multiplier`` (a points promotion, 积分倍数: ``Quote.points_multiplier``).
    Returns a result with ``entry=None`` when nothing is earned."""
    m = members_domain.lock(session, member_id)
    lv = session.get(MemberLevel, m.level_id) if m.level_id else None
    pts = points_earned(amount_fen, lv.points_per_yuan if lv and lv.active else 0) * multiplier
    if pts <= 0:
        return Result(None, m.points, 0)
    return _post(session, actor, m, "earn", pts, ref_type, ref_id)


def redeem(session: Session, actor: Actor, member_id: int, points: int, *, ref_type: str,
           ref_id: str | None, kind: str = "redeem", note: str | None = None) -> Result:
    """Take ``points`` off as a payment (``kind='redeem'``) or for a gift (``'gift'``);
    ``insufficient_points`` 409 when short."""
    if points <= 0:
        raise ApiError("validation_error", status=400, fields={"points": "应大于 0"})
    m = members_domain.lock(session, member_id)
    members_domain.require_active(m)
    res = _post(session, actor, m, kind, -points, ref_type, ref_id, note)
    audit.write(session, actor, f"points.{kind}", "member", m.id,
                after={"points": points, "balance": res.points, "ref_type": ref_type,
                       "ref_id": ref_id, "entry_id": res.entry.id if res.entry else None,
                       "note": note})
    return res


def credit(session: Session, actor: Actor, member_id: int, points: int, *, kind: str,
           ref_type: str | None, ref_id: str | None, note: str | None = None) -> Result:
    """Add points back (e.g. ``kind='reverse'`` when a sale paid with points is refunded)."""
    m = members_domain.lock(session, member_id)
    return _post(session, actor, m, kind, points, ref_type, ref_id, note)


def debit(session: Session, actor: Actor, member_id: int, points: int, *, kind: str,
          ref_type: str | None, ref_id: str | None, note: str | None = None,
          allow_partial: bool = True) -> Result:
    """Take points off (e.g. ``kind='reverse'`` for points earned by a refunded sale). With
    ``allow_partial`` a member who already spent them loses only what is left."""
    m = members_domain.lock(session, member_id)
    take = min(points, m.points) if allow_partial else points
    if take <= 0:
        return Result(None, m.points, 0)
    return _post(session, actor, m, kind, -take, ref_type, ref_id, note)


def adjust(session: Session, actor: Actor, member_id: int, change: int, reason: str) -> Result:
    """Manual adjustment (manager/owner), reason required, audited."""
    m = members_domain.lock(session, member_id)
    before = m.points
    if before + change < 0:
        raise ApiError("balance_would_be_negative", status=409, what="积分")
    res = _post(session, actor, m, "adjust", change, note=reason)
    audit.write(session, actor, "points.adjust", "member", m.id, before={"points": before},
                after={"points": res.points, "entry_id": res.entry.id if res.entry else None},
                reason=reason)
    return res


def opening(session: Session, actor: Actor, m: Member, points: int, note: str) -> Result | None:
    if not points:
        return None
    return _post(session, actor, m, "opening", points, note=note)


def entries(session: Session, member_id: int, page: int, page_size: int
            ) -> tuple[list[PointsLedger], bool]:
    stmt = (select(PointsLedger).where(PointsLedger.member_id == member_id)
            .order_by(PointsLedger.id.desc()))
    rows = list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


def _months_ago(now: dt.datetime, months: int) -> dt.datetime:
    y, mth = divmod(now.month - 1 - months, 12)
    year, month = now.year + y, mth + 1
    day = min(now.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                        31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return now.replace(year=year, month=month, day=day)


def expire(session: Session, actor: Actor, months: int | None = None,
           now: dt.datetime | None = None, batch: int = 500) -> tuple[int, int, dt.datetime | None]:
    """Expire points earned more than ``months`` months ago (default: the
    ``points_expiry_months`` setting; 0 = never). Returns (members touched, points expired,
    cut-off). Safe to run again: already expired points count as consumed."""
    months = months if months is not None else members_domain.get_settings(session) \
        .points_expiry_months
    if not months:
        return 0, 0, None
    now = now or utcnow()
    cutoff = _months_ago(now, months)
    # every kind may carry either sign: the sign decides what is earned and what consumed
    agg = (select(PointsLedger.member_id,
                  func.sum(case(((PointsLedger.change > 0) & (PointsLedger.at < cutoff),
                                 PointsLedger.change), else_=0)).label("old_earned"),
                  func.sum(case((PointsLedger.change < 0, -PointsLedger.change), else_=0))
                  .label("consumed"))
           .group_by(PointsLedger.member_id)
           .having(func.sum(case(((PointsLedger.change > 0) & (PointsLedger.at < cutoff),
                                  PointsLedger.change), else_=0))
                   > func.sum(case((PointsLedger.change < 0, -PointsLedger.change), else_=0))))
    candidates = [r.member_id for r in session.execute(agg)]
    touched = total = 0
    for start in range(0, len(candidates), batch):
        for mid in sorted(candidates[start:start + batch]):
            m = members_domain.lock(session, mid)
            old_earned, consumed = session.execute(
                select(func.coalesce(func.sum(case(((PointsLedger.change > 0)
                                                    & (PointsLedger.at < cutoff),
                                                    PointsLedger.change), else_=0)), 0),
                       func.coalesce(func.sum(case((PointsLedger.change < 0,
                                                    -PointsLedger.change), else_=0)), 0))
                .where(PointsLedger.member_id == mid)).one()
            n = points_to_expire(int(old_earned), int(consumed), m.points)
            if n > 0:
                _post(session, actor, m, "expire", -n, "expiry", cutoff.date().isoformat(),
                      f"{months} 个月前的积分过期")
                touched += 1
                total += n
    if touched:
        audit.write(session, actor, "points.expire", "points", None,
                    after={"members": touched, "points": total, "cutoff": cutoff.isoformat(),
                           "months": months})
    return touched, total, cutoff


def check_balances(session: Session) -> list[str]:
    """Cached points = ledger sum = last entry's balance_after; never negative."""
    sums = (select(PointsLedger.member_id.label("mid"),
                   func.sum(PointsLedger.change).label("s"),
                   func.max(PointsLedger.id).label("last"))
            .group_by(PointsLedger.member_id).subquery())
    last = PointsLedger.__table__.alias("last_entry")
    rows = session.execute(
        select(Member.number, Member.points, sums.c.s, last.c.balance_after)
        .outerjoin(sums, sums.c.mid == Member.id)
        .outerjoin(last, last.c.id == sums.c.last)
        .where((Member.points != func.coalesce(sums.c.s, 0)) | (Member.points < 0)
               | (func.coalesce(last.c.balance_after, 0) != Member.points))
        .limit(100)).all()
    return [f"member {r.number}: points cached {r.points}, ledger sum {r.s or 0}, last entry "
            f"{r.balance_after}" for r in rows]
