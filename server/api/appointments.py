"""Appointments (预约): book, move, cancel, check in, no-shows, the day view and the lists to
call. Rules: ``server/domain/appointments.py``."""

from __future__ import annotations

from common.schemas.appointments import (
    AppointmentIn,
    AppointmentMove,
    AppointmentOut,
    AppointmentQuery,
    CheckInLineOut,
    CheckInOut,
    DayOut,
    DayQuery,
    ReasonIn,
)
from common.schemas.base import Page
from server.clock import shop_clock
from server.db.appointments import Appointment
from server.domain import appointments

from .base import ALL_STAFF, MANAGERS, ApiBlueprint, Ctx

bp = ApiBlueprint("appointments", __name__, tag="appointments")


def _one(ctx: Ctx, a: Appointment) -> AppointmentOut:
    return AppointmentOut.model_validate(
        appointments.out(ctx.db, shop_clock(ctx.state.config), ctx.me.role, [a])[0])


@bp.endpoint("POST", "/appointments", roles=ALL_STAFF, body=AppointmentIn,
             response=AppointmentOut, status=201)
def create(ctx: Ctx, body: AppointmentIn) -> AppointmentOut:
    """Book: a member or a walk-in, services, a staff member or anyone, a start (shop time).
    409 ``booking_conflict`` when the staff member is taken then, ``class_full`` for the
    N+1th place of a group class; ``booking_day_off`` / ``booking_outside_hours`` outside
    their hours."""
    return _one(ctx, appointments.create(ctx.db, ctx.me, shop_clock(ctx.state.config), body))


@bp.endpoint("GET", "/appointments", roles=ALL_STAFF, query=AppointmentQuery,
             response=Page[AppointmentOut])
def list_appointments(ctx: Ctx, query: AppointmentQuery) -> Page[AppointmentOut]:
    """A day's bookings (today's and tomorrow's to call), with the phone (masked for a
    cashier)."""
    clock = shop_clock(ctx.state.config)
    rows, more = appointments.list_page(ctx.db, clock, query)
    return Page[AppointmentOut](
        items=[AppointmentOut.model_validate(x)
               for x in appointments.out(ctx.db, clock, ctx.me.role, rows)],
        page=query.page, page_size=query.page_size, has_more=more)


@bp.endpoint("GET", "/appointments/day", roles=ALL_STAFF, query=DayQuery, response=DayOut)
def day(ctx: Ctx, query: DayQuery) -> DayOut:
    """The counter's day view: bookable staff with their hours, group classes, bookings."""
    return DayOut.model_validate(appointments.day_view(
        ctx.db, shop_clock(ctx.state.config), ctx.me.role, query.date))


@bp.endpoint("GET", "/appointments/<int:appointment_id>", roles=ALL_STAFF,
             response=AppointmentOut)
def get_one(ctx: Ctx, appointment_id: int) -> AppointmentOut:
    return _one(ctx, appointments.get(ctx.db, appointment_id))


@bp.endpoint("POST", "/appointments/<int:appointment_id>/move", roles=ALL_STAFF,
             body=AppointmentMove, response=AppointmentOut)
def move(ctx: Ctx, appointment_id: int, body: AppointmentMove) -> AppointmentOut:
    """改约: another start and / or staff member, with the reason (audited)."""
    return _one(ctx, appointments.move(ctx.db, ctx.me, shop_clock(ctx.state.config),
                                       appointment_id, body))


@bp.endpoint("POST", "/appointments/<int:appointment_id>/cancel", roles=ALL_STAFF,
             body=ReasonIn, response=AppointmentOut)
def cancel(ctx: Ctx, appointment_id: int, body: ReasonIn) -> AppointmentOut:
    """取消 with the reason (audited)."""
    return _one(ctx, appointments.cancel(ctx.db, ctx.me, appointment_id, body.reason))


@bp.endpoint("POST", "/appointments/<int:appointment_id>/check-in", roles=ALL_STAFF,
             response=CheckInOut)
def check_in(ctx: Ctx, appointment_id: int) -> CheckInOut:
    """到店: today's booking is checked in; the answer is the counter's cart lines (the
    booked staff as serving staff, or the member's count card for the service)."""
    clock = shop_clock(ctx.state.config)
    a, lines = appointments.check_in(ctx.db, ctx.me, clock, appointment_id)
    return CheckInOut(appointment=_one(ctx, a),
                      lines=[CheckInLineOut.model_validate(ln, from_attributes=True)
                             for ln in lines])


@bp.endpoint("POST", "/appointments/<int:appointment_id>/no-show", roles=MANAGERS,
             response=AppointmentOut)
def no_show(ctx: Ctx, appointment_id: int) -> AppointmentOut:
    """爽约: a manager marks a booking whose start has passed; it counts on the member."""
    return _one(ctx, appointments.mark_no_show(ctx.db, ctx.me, shop_clock(ctx.state.config),
                                               appointment_id))
