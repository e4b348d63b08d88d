"""Activities (活动): a class, an event or a members' day with its time (shop wall-clock),
place, capacity and price; members sign up at the counter, check in, cancel; statistics per
activity.

**Seats.** ``activities.taken`` counts the sign-ups that are not cancelled. A sign-up locks the
activity row first (lock order: a sale's member row, then the activity, then the sign-up row).
A seat is taken only
by ``UPDATE activities SET taken = taken + 1 WHERE id = … AND status = 'open' AND taken <
capacity`` and its row count (DESIGN §3: a conditional update, no read-then-write): with two
counters on the last seat one update matches and the other gets 409 ``activity_full``; its
transaction (the sale it was part of, too) rolls back whole. A cancellation gives the seat
back (``taken - 1``) in the same transaction that marks the sign-up cancelled.

**Free and paid.** A free activity (price 0) is signed up for directly
(``POST /activities/<id>/signups``). A priced one is sold through the normal sale: a cart line
``{"activity_id": …, "qty": 1}`` for the sale's member, priced by the one engine (kind
``activity``: not discountable, no promotion; a manual discount is allowed like on any line);
``sales.create_sale`` signs the member up with the sale line it paid (``sale_line_id``,
``price`` = the line amount). Refunding that line cancels the sign-up and frees the seat
(``refunds.refund`` → :func:`cancel_for_refund`); a paid sign-up is not cancelled any other
way (409 ``signup_paid_refund``: the money must go back too).

**Rules.** One seat per member and activity (unique row; a cancelled member may sign up again,
the row comes back). No sign-up once the activity has ended or was cancelled. Check-in
(签到) turns ``signed_up`` into ``checked_in`` (409 when done already); a checked-in sign-up
is not cancelled. Every action is audited (``activity.*``).

**Statistics** (per activity starting in a period): sign-ups (not cancelled), attendance
(checked in), cancellations, revenue = the activity's sale lines less what was refunded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.money import format_fen
from common.privacy import shown_phone
from common.schemas.activities import (
    ActivityIn,
    ActivityOut,
    ActivityQuery,
    ActivityStatsListOut,
    ActivityStatsOut,
    ActivityUpdate,
    SignupOut,
    SignupQuery,
)
from common.schemas.base import Page, Role
from server.db.activities import Activity, ActivitySignup
from server.db.base import utcnow
from server.db.members import Member
from server.db.sales import Sale, SaleLine

from . import audit
from .actor import Actor

LINE_PREFIX = "活动报名："


def line_title(a: Activity) -> str:
    """The sale line's name (receipt and reports)."""
    return (LINE_PREFIX + a.title)[:100]


def out(a: Activity) -> ActivityOut:
    return ActivityOut(id=a.id, title=a.title, kind=a.kind, place=a.place,
                       starts_at=a.starts_at, ends_at=a.ends_at, capacity=a.capacity,
                       price=a.price, status=a.status, description=a.description,
                       taken=a.taken, left=max(a.capacity - a.taken, 0))


def _snapshot(a: Activity) -> dict[str, Any]:
    return {"title": a.title, "kind": a.kind, "place": a.place,
            "starts_at": a.starts_at.isoformat(), "ends_at": a.ends_at.isoformat(),
            "capacity": a.capacity, "price": a.price, "status": a.status,
            "description": a.description}


def get(session: Session, activity_id: int, *, for_update: bool = False) -> Activity:
    stmt = select(Activity).where(Activity.id == activity_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    a = session.scalars(stmt).one_or_none()
    if a is None:
        raise ApiError("not_found", status=404, what="活动")
    return a


def create(session: Session, actor: Actor, data: ActivityIn) -> Activity:
    a = Activity(**data.model_dump(), status="open", taken=0, created_by=actor.staff_id)
    session.add(a)
    session.flush()
    audit.write(session, actor, "activity.create", "activity", a.id, after=_snapshot(a))
    return a


def update_activity(session: Session, actor: Actor, activity_id: int, data: ActivityUpdate
                    ) -> Activity:
    a = get(session, activity_id, for_update=True)
    before = _snapshot(a)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(a, key, value)
    if a.ends_at <= a.starts_at:
        raise ApiError("validation_error", status=400,
                       fields={"ends_at": "结束时间必须晚于开始时间"})
    if a.capacity < a.taken:
        raise ApiError("activity_capacity_below_taken", status=409, taken=a.taken,
                       fields={"capacity": f"已有 {a.taken} 人报名"})
    session.flush()
    audit.write(session, actor, "activity.update", "activity", a.id, before=before,
                after=_snapshot(a))
    return a


def list_page(session: Session, query: ActivityQuery, now: dt.datetime) -> Page[ActivityOut]:
    """Soonest first for ``upcoming``, else newest start first; paged on the server."""
    stmt = select(Activity)
    if query.q:
        stmt = stmt.where(Activity.title.contains(query.q, autoescape=True))
    if query.upcoming:
        stmt = stmt.where(Activity.ends_at > now).order_by(Activity.starts_at, Activity.id)
    else:
        stmt = stmt.order_by(Activity.starts_at.desc(), Activity.id.desc())
    if not query.include_cancelled:
        stmt = stmt.where(Activity.status == "open")
    rows = list(session.scalars(stmt.offset((query.page - 1) * query.page_size)
                                .limit(query.page_size + 1)))
    return Page[ActivityOut](items=[out(a) for a in rows[:query.page_size]], page=query.page,
                             page_size=query.page_size, has_more=len(rows) > query.page_size)


# --- sign-ups ------------------------------------------------------------------------------
def check_sellable(a: Activity | None, member: Member, qty: int, at: dt.datetime | None, *,
                   field: str = "activity_id", seats: bool = True) -> Activity:
    """What a sign-up needs before any lock: the activity open and not ended (``at``: naive
    shop time), one seat, the member not signed up, a seat apparently free (the conditional
    update decides under concurrency; ``seats`` false: leave it to that)."""
    if a is None:
        raise ApiError("not_found", status=404, what="活动", fields={field: "活动不存在"})
    if a.status != "open":
        raise ApiError("activity_cancelled", status=409, title=a.title)
    if at is not None and at >= a.ends_at:
        raise ApiError("activity_ended", status=409, title=a.title)
    if qty != 1:
        raise ApiError("activity_one_seat", status=422, fields={field: "数量只能是 1"})
    if seats and a.taken >= a.capacity:
        raise ApiError("activity_full", status=409, title=a.title, capacity=a.capacity)
    return a


def _take_seat(session: Session, a: Activity) -> None:
    n = session.execute(update(Activity).where(
        Activity.id == a.id, Activity.status == "open", Activity.taken < Activity.capacity)
        .values(taken=Activity.taken + 1).execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(a)
    if n != 1:
        if a.status != "open":
            raise ApiError("activity_cancelled", status=409, title=a.title)
        raise ApiError("activity_full", status=409, title=a.title, capacity=a.capacity)


def _release_seat(session: Session, a: Activity) -> None:
    session.execute(update(Activity).where(Activity.id == a.id, Activity.taken > 0)
                    .values(taken=Activity.taken - 1)
                    .execution_options(synchronize_session=False))
    session.refresh(a)


def sign_up(session: Session, actor: Actor, activity_id: int, member: Member, *,
            at: dt.datetime | None, price: int = 0, sale_id: int | None = None,
            sale_line_id: int | None = None) -> ActivitySignup:
    """Sign ``member`` up (free, or paid by ``sale_line_id``). The activity row is locked
    first (sign-ups of one activity queue there: no two transactions lock the gap of a missing
    sign-up row and deadlock on inserting it), then the member's row is locked or inserted,
    then the seat is taken by the conditional update."""
    a = get(session, activity_id, for_update=True)
    check_sellable(a, member, 1, at, seats=False)  # the member's row first, then the seat
    s = session.scalars(select(ActivitySignup).where(
        ActivitySignup.activity_id == a.id, ActivitySignup.member_id == member.id)
        .with_for_update()).one_or_none()
    if s is not None and s.status != "cancelled":
        raise ApiError("already_signed_up", status=409, member=member.name, title=a.title)
    if s is None:
        s = ActivitySignup(activity_id=a.id, member_id=member.id, status="signed_up")
        session.add(s)
        try:
            session.flush()
        except IntegrityError as e:  # the same member signed up at another counter just now
            raise ApiError("already_signed_up", status=409, member=member.name,
                           title=a.title) from e
    _take_seat(session, a)
    s.status, s.price, s.sale_id, s.sale_line_id = "signed_up", price, sale_id, sale_line_id
    s.counter, s.by_staff_id, s.signed_up_at = actor.counter, actor.staff_id, utcnow()
    s.checked_in_at = s.cancelled_at = s.cancel_reason = None
    session.flush()
    audit.write(session, actor, "activity.signup", "activity", a.id,
                after={"member_id": member.id, "signup_id": s.id, "price": price,
                       "sale_id": sale_id, "taken": a.taken})
    return s


def sign_up_free(session: Session, actor: Actor, activity_id: int, member: Member, *,
                 at: dt.datetime) -> ActivitySignup:
    a = get(session, activity_id)
    if a.price:
        raise ApiError("activity_needs_payment", status=409, title=a.title,
                       price=format_fen(a.price))
    return sign_up(session, actor, activity_id, member, at=at)


def _signup(session: Session, signup_id: int, activity_id: int | None = None
            ) -> ActivitySignup:
    s = session.scalars(select(ActivitySignup).where(ActivitySignup.id == signup_id)
                        .with_for_update().execution_options(populate_existing=True)
                        ).one_or_none()
    if s is None or (activity_id is not None and s.activity_id != activity_id):
        raise ApiError("not_found", status=404, what="报名")
    return s


def check_in(session: Session, actor: Actor, signup_id: int, activity_id: int | None = None
             ) -> ActivitySignup:
    s = _signup(session, signup_id, activity_id)
    member = session.get(Member, s.member_id)
    name = member.name if member else ""
    if s.status == "cancelled":
        raise ApiError("signup_not_active", status=409)
    if s.status == "checked_in":
        raise ApiError("already_checked_in", status=409, member=name)
    s.status, s.checked_in_at = "checked_in", utcnow()
    session.flush()
    audit.write(session, actor, "activity.check_in", "activity", s.activity_id,
                after={"signup_id": s.id, "member_id": s.member_id})
    return s


def _cancel(session: Session, actor: Actor, s: ActivitySignup, reason: str, action: str,
            **extra: Any) -> ActivitySignup:
    a = get(session, s.activity_id)
    before = s.status
    s.status, s.cancelled_at, s.cancel_reason = "cancelled", utcnow(), reason[:255]
    _release_seat(session, a)
    session.flush()
    audit.write(session, actor, action, "activity", a.id,
                before={"status": before},
                after={"signup_id": s.id, "member_id": s.member_id, "taken": a.taken, **extra},
                reason=reason)
    return s


def cancel(session: Session, actor: Actor, signup_id: int, reason: str,
           activity_id: int | None = None) -> ActivitySignup:
    """Cancel a free (or fully refunded) sign-up; the seat is free again."""
    s = _signup(session, signup_id, activity_id)
    if s.status == "cancelled":
        raise ApiError("signup_not_active", status=409)
    if s.status == "checked_in":
        raise ApiError("signup_checked_in", status=409)
    if s.sale_id is not None:
        number = session.scalar(select(Sale.number).where(Sale.id == s.sale_id))
        raise ApiError("signup_paid_refund", status=409, number=number or "")
    return _cancel(session, actor, s, reason, "activity.cancel")


def cancel_for_refund(session: Session, actor: Actor, sale_line_id: int, refund_number: str,
                      reason: str | None) -> None:
    """The sale line that paid for a seat was refunded: its sign-up is cancelled (even after
    check-in: the money went back) and the seat freed."""
    rows = list(session.scalars(select(ActivitySignup).where(
        ActivitySignup.sale_line_id == sale_line_id, ActivitySignup.status != "cancelled")
        .order_by(ActivitySignup.id).with_for_update()))
    for s in rows:
        _cancel(session, actor, s, reason or f"退款 {refund_number}", "activity.refund_cancel",
                refund=refund_number)


def signups_page(session: Session, activity_id: int, query: SignupQuery, *, viewer: Role
                 ) -> Page[SignupOut]:
    a = get(session, activity_id)
    stmt = (select(ActivitySignup, Member.name, Member.phone, Sale.number)
            .join(Member, Member.id == ActivitySignup.member_id)
            .outerjoin(Sale, Sale.id == ActivitySignup.sale_id)
            .where(ActivitySignup.activity_id == a.id))
    if query.status is not None:
        stmt = stmt.where(ActivitySignup.status == query.status)
    rows = list(session.execute(stmt.order_by(ActivitySignup.id)
                                .offset((query.page - 1) * query.page_size)
                                .limit(query.page_size + 1)))
    items = [signup_out(s, a, name, shown_phone(phone, viewer), number)
             for s, name, phone, number in rows[:query.page_size]]
    return Page[SignupOut](items=items, page=query.page, page_size=query.page_size,
                           has_more=len(rows) > query.page_size)


def signup_out(s: ActivitySignup, a: Activity | None, name: str = "",
               phone: str | None = None, sale_number: str | None = None) -> SignupOut:
    return SignupOut(id=s.id, activity_id=s.activity_id,
                     activity_title=a.title if a else "", member_id=s.member_id,
                     member_name=name, member_phone=phone, status=s.status, price=s.price,
                     sale_number=sale_number, signed_up_at=s.signed_up_at,
                     checked_in_at=s.checked_in_at, cancelled_at=s.cancelled_at,
                     cancel_reason=s.cancel_reason)


def member_signups(session: Session, member_id: int, now: dt.datetime) -> list[SignupOut]:
    """A member's sign-ups for activities not ended (the counter's member panel)."""
    rows = session.execute(select(ActivitySignup, Activity).join(
        Activity, Activity.id == ActivitySignup.activity_id).where(
        ActivitySignup.member_id == member_id, ActivitySignup.status != "cancelled",
        Activity.ends_at > now).order_by(Activity.starts_at, Activity.id).limit(50))
    return [signup_out(s, a) for s, a in rows]


# --- invariants (``lanpos-server verify``) ---------------------------------------------------
def check_seats(session: Session) -> list[str]:
    """Every activity's ``taken`` = its sign-ups not cancelled, and never above capacity."""
    live = dict(session.execute(
        select(ActivitySignup.activity_id, func.count()).where(
            ActivitySignup.status != "cancelled").group_by(ActivitySignup.activity_id)).all())
    problems = []
    for aid, taken, capacity in session.execute(
            select(Activity.id, Activity.taken, Activity.capacity)):
        if taken != live.get(aid, 0):
            problems.append(f"activity {aid}: taken {taken} != {live.get(aid, 0)} sign-ups")
        if taken > capacity:
            problems.append(f"activity {aid}: taken {taken} > capacity {capacity}")
    return problems


def check_paid_signups(session: Session) -> list[str]:
    """A paid sign-up not cancelled points at an activity sale line not refunded."""
    rows = session.execute(
        select(ActivitySignup.id, SaleLine.activity_id, ActivitySignup.activity_id,
               SaleLine.refunded_qty, SaleLine.qty)
        .join(SaleLine, SaleLine.id == ActivitySignup.sale_line_id)
        .where(ActivitySignup.status != "cancelled"))
    return [f"sign-up {sid}: its sale line is for activity {line_aid}, not {aid}"
            if line_aid != aid else f"sign-up {sid}: its sale line was refunded"
            for sid, line_aid, aid, refunded, qty in rows
            if line_aid != aid or refunded >= qty]


# --- statistics ----------------------------------------------------------------------------
def stats(session: Session, date_from: dt.date, date_to: dt.date) -> ActivityStatsListOut:
    start = dt.datetime.combine(date_from, dt.time.min)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min)
    acts = list(session.scalars(select(Activity).where(
        Activity.starts_at >= start, Activity.starts_at < end)
        .order_by(Activity.starts_at, Activity.id).limit(2000)))
    ids = [a.id for a in acts]
    counts: dict[int, tuple[int, int, int]] = {}
    revenue: dict[int, int] = {}
    if ids:
        for aid, signed, checked, cancelled in session.execute(
                select(ActivitySignup.activity_id,
                       func.sum(case((ActivitySignup.status != "cancelled", 1), else_=0)),
                       func.sum(case((ActivitySignup.status == "checked_in", 1), else_=0)),
                       func.sum(case((ActivitySignup.status == "cancelled", 1), else_=0)))
                .where(ActivitySignup.activity_id.in_(ids))
                .group_by(ActivitySignup.activity_id)):
            counts[aid] = (int(signed or 0), int(checked or 0), int(cancelled or 0))
        for aid, amount in session.execute(
                select(SaleLine.activity_id,
                       func.sum(SaleLine.amount - SaleLine.refunded_amount))
                .where(SaleLine.activity_id.in_(ids)).group_by(SaleLine.activity_id)):
            revenue[int(aid)] = int(amount or 0)
    items = [ActivityStatsOut(id=a.id, title=a.title, kind=a.kind, starts_at=a.starts_at,
                              capacity=a.capacity, price=a.price, status=a.status,
                              signups=counts.get(a.id, (0, 0, 0))[0],
                              checked_in=counts.get(a.id, (0, 0, 0))[1],
                              cancelled=counts.get(a.id, (0, 0, 0))[2],
                              revenue=revenue.get(a.id, 0)) for a in acts]
    return ActivityStatsListOut(items=items, signups=sum(i.signups for i in items),
                                checked_in=sum(i.checked_in for i in items),
                                cancelled=sum(i.cancelled for i in items),
                                revenue=sum(i.revenue for i in items))


