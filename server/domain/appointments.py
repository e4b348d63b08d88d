"""Appointments (预约, #18 §1): who can be booked when, bookings, moves, cancellations,
check-in into the counter's cart and no-shows.

**Services.** A bookable service is a product of kind ``service`` with ``duration_minutes``;
a booking's services are done one after the other by one staff member (the booking ends
when the last one does, on the same business day). A service may name who can do it
(``products.staff_ids``; empty: every bookable staff member). A **group class** (团课) is a
service with a ``capacity`` and a fixed start time ``class_start`` (every day, shop time): it
is booked on its own, at that time, with no staff member; the N+1th booking of a class on
a day is refused (409 ``class_full``).

**Working hours.** A staff member takes bookings when ``staff.bookable``. Their hours on a
day are the planned shift of that day (排班, ``attendance_plans``) if a manager planned one,
else the weekly hours (``work_start``–``work_end`` on the weekdays of ``work_days``). Why
both: a plan is per date and managers plan a week or two ahead at most, while customers book
further ahead and most stylists keep the same hours every week; where a plan exists it is the
more precise fact (a day off, a late shift) and wins.

**No overlap, and one winner.** Every booking write first locks the rows of the staff
members' (or the class's) days it touches in ``booking_locks`` (``INSERT … ON DUPLICATE KEY
UPDATE``, in key order), then looks for overlaps with a *locking* read (a plain read would see
the transaction's older snapshot and miss a booking committed a moment ago), then writes.
Two counters booking the last slot: the second waits for the first's lock, then sees its
booking and gets 409 ``booking_conflict`` (or ``class_full``). "Anyone" (``staff_id`` null)
locks every candidate's day and takes the free one with the fewest bookings that day.

**Moves and cancellations** carry a reason and are audited with before / after.
**Check-in** (到店) of today's booking marks it ``checked_in`` and returns the lines of the
counter's cart: each service with the booked staff member as its serving staff (the normal
sale pays them the commission), or the member's count card for the service when they hold
one (the sale uses it). **No-shows** (爽约) are marked by a manager once the start has
passed (not automatically: a customer who is late still comes in, and the front desk knows
that first); each one counts on the member (``members.no_show_count``, checked by verify).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.privacy import shown_phone
from common.schemas.appointments import (
    SLOT_MINUTES,
    STATUS_ZH,
    AppointmentIn,
    AppointmentMove,
    AppointmentQuery,
)
from common.schemas.base import Role
from server.clock import ShopClock
from server.db.appointments import Appointment, BookingLock
from server.db.attendance import AttendancePlan
from server.db.catalog import Product
from server.db.members import Member, MemberCountCard
from server.db.models import Staff
from server.db.session import lock_row

from . import audit
from . import member_row as member_rows
from .actor import Actor

ACTIVE = ("booked", "checked_in")
DEFAULT_OPEN = (dt.time(9), dt.time(21))
MAX_SERVICES_LISTED = 300


# --- hours and resources ---------------------------------------------------------------
@dataclass(frozen=True)
class Hours:
    start: dt.time
    end: dt.time
    source: str  # plan | weekly


def hours_on(session: Session, staff: Sequence[Staff], day: dt.date) -> dict[int, Hours | None]:
    """Each staff member's hours on ``day``: the planned shift, else the weekly hours."""
    plans = {p.staff_id: p for p in session.scalars(select(AttendancePlan).where(
        AttendancePlan.business_date == day,
        AttendancePlan.staff_id.in_([s.id for s in staff] or [0])))}
    out: dict[int, Hours | None] = {}
    for s in staff:
        p = plans.get(s.id)
        if p is not None:
            out[s.id] = Hours(p.start, p.end, "plan")
        elif (s.work_start is not None and s.work_end is not None
              and s.work_days >> day.weekday() & 1):
            out[s.id] = Hours(s.work_start, s.work_end, "weekly")
        else:
            out[s.id] = None
    return out


def lock_days(session: Session, keys: Iterable[tuple[str, dt.date]]) -> None:
    """Lock the booking rows of these resources' days, in key order (every writer takes them
    in the same order: no deadlock between bookings).

    A day's row is created on first use *apart* — its own short autocommit transaction on
    another connection (``INSERT IGNORE``) — before any of them is locked here: two counters
    making the first booking of a day would otherwise both insert the same new row and
    deadlock on upgrading their locks. The row holds nothing but a write counter."""
    wanted = sorted(set(keys))
    if not wanted:
        return
    have = {tuple(r) for r in session.execute(select(
        BookingLock.resource, BookingLock.business_date).where(
        tuple_(BookingLock.resource, BookingLock.business_date).in_(wanted)))}
    missing = [k for k in wanted if k not in have]
    if missing:
        with session.get_bind().connect() as conn:
            for resource, day in missing:
                conn.execute(text("INSERT IGNORE INTO booking_locks (resource, business_date, "
                                  "writes) VALUES (:r, :d, 0)"), {"r": resource, "d": day})
                conn.commit()
    for resource, day in wanted:
        session.execute(text("UPDATE booking_locks SET writes = writes + 1 "
                             "WHERE resource = :r AND business_date = :d"),
                        {"r": resource, "d": day})


def _hm(t: dt.datetime | dt.time) -> str:
    return t.strftime("%H:%M")


def _when(t: dt.datetime) -> str:
    return t.strftime("%m-%d %H:%M")


# --- services ----------------------------------------------------------------------------
def services_of(session: Session, product_ids: Sequence[int]) -> list[Product]:
    found = {p.id: p for p in session.scalars(select(Product).where(
        Product.id.in_(set(product_ids))))}
    out = []
    for i, pid in enumerate(product_ids):
        p = found.get(pid)
        if p is None or not p.active:
            raise ApiError("not_found", status=422, what="服务项目（或已停用）",
                           fields={f"product_ids.{i}": "服务项目不存在或已停用"})
        if p.kind != "service" or not p.duration_minutes:
            raise ApiError("service_not_bookable", status=422, name=p.name,
                           fields={f"product_ids.{i}": "不能预约"})
        out.append(p)
    return out


def _can_serve(staff: Staff, services: Sequence[Product]) -> Product | None:
    """The first service ``staff`` does not do (None: they do them all)."""
    return next((p for p in services if p.staff_ids and staff.id not in p.staff_ids), None)


@dataclass
class Placement:
    starts_at: dt.datetime  # naive UTC
    ends_at: dt.datetime
    day: dt.date
    staff: Staff | None
    class_product: Product | None


def _overlapping(session: Session, staff_id: int, start: dt.datetime, end: dt.datetime,
                 exclude_id: int | None) -> Appointment | None:
    stmt = select(Appointment).where(
        Appointment.staff_id == staff_id, Appointment.status.in_(ACTIVE),
        Appointment.starts_at < end, Appointment.ends_at > start)
    if exclude_id is not None:
        stmt = stmt.where(Appointment.id != exclude_id)
    # a locking read: the latest committed bookings, not this transaction's snapshot
    return session.scalars(stmt.order_by(Appointment.starts_at).limit(1)
                           .with_for_update()).first()


def _customer(session: Session, a: Appointment) -> str:
    if a.member_id is not None:
        m = session.get(Member, a.member_id)
        return m.name if m is not None else "会员"
    return a.customer_name


def place(session: Session, clock: ShopClock, services: Sequence[Product],
          staff_id: int | None, local_start: dt.datetime, exclude_id: int | None = None
          ) -> Placement:
    """Where and when a booking goes (locks taken, every rule checked), or an ApiError."""
    if local_start.tzinfo is not None:
        local_start = clock.local(local_start).replace(tzinfo=None)
    minutes = sum(p.duration_minutes or 0 for p in services)
    local_end = local_start + dt.timedelta(minutes=minutes)
    day = local_start.date()
    if local_end > dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min):
        raise ApiError("booking_crosses_day", status=422, start=_when(local_start),
                       minutes=minutes, fields={"starts_at": "预约要在当天结束"})
    starts_at, ends_at = clock.to_stored(local_start), clock.to_stored(local_end)
    if clock.to_utc(local_start) < clock.now():
        raise ApiError("booking_in_past", status=422, start=_when(local_start),
                       fields={"starts_at": "已经过去"})
    window = f"{_hm(local_start)}"

    klass = next((p for p in services if p.capacity), None)
    if klass is not None:
        if len(services) > 1:
            raise ApiError("class_alone", status=422, name=klass.name)
        assert klass.class_start is not None
        if local_start.time() != klass.class_start:
            raise ApiError("class_wrong_time", status=422, name=klass.name,
                           time=_hm(klass.class_start), fields={"starts_at": "不是开课时间"})
        lock_days(session, [(f"class:{klass.id}", day)])
        booked = len(session.scalars(select(Appointment.id).where(
            Appointment.class_product_id == klass.id, Appointment.starts_at == starts_at,
            Appointment.status.in_(ACTIVE), *([Appointment.id != exclude_id]
                                             if exclude_id is not None else []))
            .with_for_update()).all())
        if booked >= (klass.capacity or 0):
            raise ApiError("class_full", status=409, name=klass.name, date=day.isoformat(),
                           time=window, capacity=klass.capacity)
        return Placement(starts_at, ends_at, day, None, klass)

    span = f"{_hm(local_start)}–{_hm(local_end)}"
    if staff_id is not None:
        staff = session.get(Staff, staff_id)
        if staff is None:
            raise ApiError("not_found", status=422, what="员工", fields={"staff_id": "员工不存在"})
        if not (staff.active and staff.bookable):
            raise ApiError("staff_not_bookable", status=422, name=staff.display_name,
                           fields={"staff_id": "不接受预约"})
        cannot = _can_serve(staff, services)
        if cannot is not None:
            raise ApiError("staff_cannot_serve", status=422, staff=staff.display_name,
                           service=cannot.name, fields={"staff_id": "不做这项服务"})
        lock_days(session, [(f"staff:{staff.id}", day)])
        hours = hours_on(session, [staff], day)[staff.id]
        if hours is None:
            raise ApiError("booking_day_off", status=409, staff=staff.display_name,
                           date=day.isoformat())
        if not _within(hours, local_start, local_end):
            raise ApiError("booking_outside_hours", status=409, staff=staff.display_name,
                           date=day.isoformat(), hours=f"{_hm(hours.start)}–{_hm(hours.end)}",
                           start=_hm(local_start), end=_hm(local_end))
        other = _overlapping(session, staff.id, starts_at, ends_at, exclude_id)
        if other is not None:
            o_start, o_end = clock.local(other.starts_at), clock.local(other.ends_at)
            raise ApiError("booking_conflict", status=409, staff=staff.display_name,
                           start=_hm(o_start), end=_hm(o_end),
                           customer=_customer(session, other))
        return Placement(starts_at, ends_at, day, staff, None)

    # anyone: every bookable staff member who does all the services, locked in key order
    candidates = [s for s in session.scalars(select(Staff).where(
        Staff.active.is_(True), Staff.bookable.is_(True)).order_by(Staff.id))
        if _can_serve(s, services) is None]
    lock_days(session, [(f"staff:{s.id}", day) for s in candidates])
    hours = hours_on(session, candidates, day)
    free: list[tuple[int, int, Staff]] = []
    for s in candidates:
        h = hours[s.id]
        if h is None or not _within(h, local_start, local_end):
            continue
        if _overlapping(session, s.id, starts_at, ends_at, exclude_id) is not None:
            continue
        load = session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.staff_id == s.id, Appointment.business_date == day,
            Appointment.status.in_(ACTIVE)))
        free.append((load or 0, s.id, s))
    if not free:
        raise ApiError("booking_no_staff_free", status=409, start=_hm(local_start),
                       end=_hm(local_end), fields={"starts_at": span})
    return Placement(starts_at, ends_at, day, min(free, key=lambda f: f[:2])[2], None)


def _within(h: Hours, start: dt.datetime, end: dt.datetime) -> bool:
    day = start.date()
    return (dt.datetime.combine(day, h.start) <= start
            and end <= dt.datetime.combine(day, h.end))


# --- bookings ----------------------------------------------------------------------------
def _services_json(services: Sequence[Product]) -> list[dict]:
    return [{"product_id": p.id, "name": p.name, "minutes": p.duration_minutes}
            for p in services]


def _snap(a: Appointment) -> dict:
    return {"staff_id": a.staff_id, "starts_at": a.starts_at.isoformat(),
            "ends_at": a.ends_at.isoformat(), "status": a.status,
            "services": [s["product_id"] for s in a.services]}


def create(session: Session, actor: Actor, clock: ShopClock, body: AppointmentIn
           ) -> Appointment:
    if body.member_id is not None:
        m = session.get(Member, body.member_id)
        if m is None:
            raise ApiError("not_found", status=422, what="会员", fields={"member_id": "会员不存在"})
        member_rows.require_active(m)
    services = services_of(session, body.product_ids)
    pl = place(session, clock, services, body.staff_id, body.starts_at)
    a = Appointment(
        member_id=body.member_id,
        customer_name="" if body.member_id is not None else (body.customer_name or ""),
        phone=None if body.member_id is not None else body.phone,
        staff_id=pl.staff.id if pl.staff else None,
        any_staff=body.staff_id is None and pl.class_product is None,
        class_product_id=pl.class_product.id if pl.class_product else None,
        services=_services_json(services), starts_at=pl.starts_at, ends_at=pl.ends_at,
        business_date=pl.day, status="booked", note=body.note, moves=0,
        created_by=actor.staff_id, counter=actor.counter or "")
    session.add(a)
    session.flush()
    audit.write(session, actor, "appointment.create", "appointment", a.id, after={
        **_snap(a), "member_id": a.member_id, "any_staff": a.any_staff})
    return a


def get(session: Session, appointment_id: int, for_update: bool = False) -> Appointment:
    a = (lock_row(session, Appointment, appointment_id) if for_update
         else session.get(Appointment, appointment_id))
    if a is None:
        raise ApiError("not_found", status=404, what="预约")
    return a


def _require_booked(a: Appointment, action: str) -> None:
    if a.status != "booked":
        raise ApiError("booking_not_open", status=409, state=STATUS_ZH[a.status],
                       action=action)


def move(session: Session, actor: Actor, clock: ShopClock, appointment_id: int,
         body: AppointmentMove) -> Appointment:
    a = get(session, appointment_id, for_update=True)
    _require_booked(a, "改约")
    before = _snap(a)
    services = services_of(session, [s["product_id"] for s in a.services])
    # no staff member named: the same one (an "anyone" booking keeps whom it got)
    staff_id = body.staff_id if body.staff_id is not None else a.staff_id
    pl = place(session, clock, services, staff_id, body.starts_at, exclude_id=a.id)
    a.staff_id = pl.staff.id if pl.staff else None
    a.starts_at, a.ends_at, a.business_date = pl.starts_at, pl.ends_at, pl.day
    a.services = _services_json(services)
    a.moves += 1
    a.reason = body.reason
    if body.staff_id is not None:
        a.any_staff = False
    session.flush()
    audit.write(session, actor, "appointment.move", "appointment", a.id, before=before,
                after=_snap(a), reason=body.reason)
    return a


def cancel(session: Session, actor: Actor, appointment_id: int, reason: str) -> Appointment:
    a = get(session, appointment_id, for_update=True)
    _require_booked(a, "取消")
    before = _snap(a)
    a.status, a.reason, a.closed_by = "cancelled", reason, actor.staff_id
    session.flush()
    audit.write(session, actor, "appointment.cancel", "appointment", a.id, before=before,
                after=_snap(a), reason=reason)
    return a


def mark_no_show(session: Session, actor: Actor, clock: ShopClock, appointment_id: int,
                 reason: str | None = None) -> Appointment:
    """爽约: a manager marks a booking whose start has passed; it counts on the member."""
    a = get(session, appointment_id, for_update=True)
    _require_booked(a, "记爽约")
    if clock.local(a.starts_at) > clock.now():
        raise ApiError("no_show_too_early", status=409, start=_when(
            clock.local(a.starts_at).replace(tzinfo=None)))
    before = _snap(a)
    a.status, a.closed_by = "no_show", actor.staff_id
    if reason:
        a.reason = reason
    if a.member_id is not None:
        m = member_rows.lock(session, a.member_id)
        m.no_show_count += 1
    session.flush()
    audit.write(session, actor, "appointment.no_show", "appointment", a.id, before=before,
                after={**_snap(a), "member_id": a.member_id}, reason=reason)
    return a


@dataclass
class CheckInLine:
    product_id: int
    name: str
    staff_id: int | None
    staff_name: str | None
    count_card_id: int | None = None
    count_card_name: str | None = None


def check_in(session: Session, actor: Actor, clock: ShopClock, appointment_id: int
             ) -> tuple[Appointment, list[CheckInLine]]:
    a = get(session, appointment_id, for_update=True)
    _require_booked(a, "签到")
    if a.business_date != clock.today():
        raise ApiError("booking_not_today", status=409, date=a.business_date.isoformat())
    a.status, a.checked_in_at = "checked_in", clock.now().astimezone(dt.UTC).replace(tzinfo=None)
    staff = session.get(Staff, a.staff_id) if a.staff_id else None
    lines = [CheckInLine(s["product_id"], s["name"], a.staff_id,
                         staff.display_name if staff else None) for s in a.services]
    if a.member_id is not None:
        now = clock.now().astimezone(dt.UTC).replace(tzinfo=None)
        cards = list(session.scalars(select(MemberCountCard).where(
            MemberCountCard.member_id == a.member_id, MemberCountCard.status == "active",
            MemberCountCard.remaining_uses > 0,
            MemberCountCard.product_id.in_([ln.product_id for ln in lines]),
            or_(MemberCountCard.expires_at.is_(None), MemberCountCard.expires_at > now))
            .order_by(MemberCountCard.expires_at.is_(None), MemberCountCard.expires_at,
                      MemberCountCard.id)))
        left = {c.id: c.remaining_uses for c in cards}
        for ln in lines:
            card = next((c for c in cards if c.product_id == ln.product_id and left[c.id] > 0),
                        None)
            if card is not None:
                left[card.id] -= 1
                ln.count_card_id, ln.count_card_name = card.id, card.name
    session.flush()
    audit.write(session, actor, "appointment.check_in", "appointment", a.id,
                after={**_snap(a), "count_cards": [ln.count_card_id for ln in lines
                                                   if ln.count_card_id]})
    return a, lines


# --- reading -------------------------------------------------------------------------------
def out(session: Session, clock: ShopClock, role: Role, rows: Sequence[Appointment]
        ) -> list[dict]:
    """Rows as ``AppointmentOut`` dicts: names looked up once, phones as ``role`` sees them."""
    member_ids = {a.member_id for a in rows if a.member_id is not None}
    staff_ids = {a.staff_id for a in rows if a.staff_id is not None}
    members = {m.id: m for m in session.scalars(select(Member).where(
        Member.id.in_(member_ids)))} if member_ids else {}
    staff = {s.id: s for s in session.scalars(select(Staff).where(
        Staff.id.in_(staff_ids)))} if staff_ids else {}
    res = []
    for a in rows:
        m = members.get(a.member_id) if a.member_id is not None else None
        s = staff.get(a.staff_id) if a.staff_id is not None else None
        phone = m.phone if m is not None else a.phone
        res.append(dict(
            id=a.id, member_id=a.member_id, member_number=m.number if m else None,
            customer_name=m.name if m is not None else a.customer_name,
            phone=shown_phone(phone, role), staff_id=a.staff_id,
            staff_name=s.display_name if s else None, any_staff=a.any_staff,
            class_product_id=a.class_product_id, services=a.services,
            starts_at=a.starts_at, ends_at=a.ends_at,
            local_start=clock.local(a.starts_at).replace(tzinfo=None),
            local_end=clock.local(a.ends_at).replace(tzinfo=None),
            business_date=a.business_date, status=a.status, note=a.note, reason=a.reason,
            moves=a.moves, checked_in_at=a.checked_in_at,
            no_show_count=m.no_show_count if m is not None else 0))
    return res


def list_page(session: Session, clock: ShopClock, q: AppointmentQuery
              ) -> tuple[list[Appointment], bool]:
    stmt = select(Appointment).where(Appointment.business_date == (q.date or clock.today()))
    if q.status is not None:
        stmt = stmt.where(Appointment.status == q.status)
    if q.staff_id is not None:
        stmt = stmt.where(Appointment.staff_id == q.staff_id)
    if q.member_id is not None:
        stmt = stmt.where(Appointment.member_id == q.member_id)
    rows = list(session.scalars(stmt.order_by(Appointment.starts_at, Appointment.id)
                                .offset((q.page - 1) * q.page_size).limit(q.page_size + 1)))
    return rows[:q.page_size], len(rows) > q.page_size


def day_view(session: Session, clock: ShopClock, role: Role, day: dt.date | None) -> dict:
    """The counter's 预约 day: bookable staff (columns) with their hours, the group classes,
    and the day's bookings (cancelled ones left out)."""
    day = day or clock.today()
    rows = list(session.scalars(select(Appointment).where(
        Appointment.business_date == day, Appointment.status != "cancelled")
        .order_by(Appointment.starts_at, Appointment.id)))
    booked_staff = {a.staff_id for a in rows if a.staff_id is not None}
    staff = list(session.scalars(select(Staff).where(or_(
        (Staff.active.is_(True)) & (Staff.bookable.is_(True)),
        Staff.id.in_(booked_staff or {0}))).order_by(Staff.display_name, Staff.id)))
    hours = hours_on(session, staff, day)
    classes = []
    for p in session.scalars(select(Product).where(
            Product.active.is_(True), Product.capacity.is_not(None),
            Product.class_start.is_not(None)).order_by(Product.class_start, Product.id)):
        assert p.class_start is not None
        start = dt.datetime.combine(day, p.class_start)
        end = start + dt.timedelta(minutes=p.duration_minutes or 0)
        n = sum(1 for a in rows if a.class_product_id == p.id and a.status in ACTIVE)
        classes.append(dict(product_id=p.id, name=p.name, start=p.class_start,
                            end=end.time(), capacity=p.capacity, booked=n))
    starts = [h.start for h in hours.values() if h] + [c["start"] for c in classes]
    ends = [h.end for h in hours.values() if h] + [c["end"] for c in classes]
    for a in rows:
        starts.append(clock.local(a.starts_at).time())
        ends.append(clock.local(a.ends_at).time())
    open_from = min(starts, default=DEFAULT_OPEN[0])
    open_to = max(ends, default=DEFAULT_OPEN[1])
    open_from = dt.time(open_from.hour, open_from.minute // SLOT_MINUTES * SLOT_MINUTES)
    return dict(date=day, slot_minutes=SLOT_MINUTES, open_from=open_from, open_to=open_to,
                staff=[dict(id=s.id, display_name=s.display_name,
                            start=hours[s.id].start if hours[s.id] else None,
                            end=hours[s.id].end if hours[s.id] else None,
                            source=hours[s.id].source if hours[s.id] else None)
                       for s in staff],
                classes=classes, appointments=out(session, clock, role, rows),
                services=[dict(id=p.id, name=p.name, minutes=p.duration_minutes,
                               price=p.price, is_class=p.capacity is not None,
                               staff_ids=list(p.staff_ids or []))
                          for p in session.scalars(select(Product).where(
                              Product.active.is_(True), Product.kind == "service",
                              Product.duration_minutes.is_not(None))
                              .order_by(Product.name, Product.id).limit(MAX_SERVICES_LISTED))])


def check_no_shows(session: Session) -> list[str]:
    """verify: every member's cached no-show count equals their no-show appointments."""
    counted = dict(session.execute(select(Appointment.member_id, func.count()).where(
        Appointment.status == "no_show", Appointment.member_id.is_not(None))
        .group_by(Appointment.member_id)).all())
    problems = []
    for mid, cached in session.execute(select(Member.id, Member.no_show_count).where(
            or_(Member.no_show_count != 0, Member.id.in_(list(counted) or [0])))):
        if cached != counted.get(mid, 0):
            problems.append(f"member {mid}: no_show_count {cached} != {counted.get(mid, 0)} "
                            "no-show appointments")
    return problems
