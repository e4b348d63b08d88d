"""Coupons: templates (amount off above a threshold, or percent off; validity; categories),
issuing to one member, every active member of a level or every member of a list (会员关怀,
``owner_reports.list_member_ids``), single redemption, restore (sale refunded) and void
(audited).

Redeeming is one conditional ``UPDATE coupons SET status='redeemed' … WHERE id=:id AND
status='issued'``; a row count of 0 means somebody else got there first — so a coupon can
never be used twice, even by two counters at the same moment.

Checkout: :func:`for_pricing` (validates, → ``common.pricing.Coupon``), :func:`redeem`,
:func:`restore`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.pricing import Coupon as PricingCoupon
from common.schemas.members import CouponTemplateIn, CouponTemplatePatch
from server.db.base import utcnow
from server.db.members import Coupon, CouponTemplate, Member, MemberLevel

from . import audit
from . import members as members_domain
from .actor import Actor

_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))


# -- templates -----------------------------------------------------------------------------
def list_templates(session: Session, include_inactive: bool = False) -> list[CouponTemplate]:
    stmt = select(CouponTemplate).order_by(CouponTemplate.id)
    if not include_inactive:
        stmt = stmt.where(CouponTemplate.active.is_(True))
    return list(session.scalars(stmt))


def _tpl_snapshot(t: CouponTemplate) -> dict:
    return {"name": t.name, "kind": t.kind, "amount_fen": t.amount_fen,
            "percent_bp": t.percent_bp, "threshold_fen": t.threshold_fen,
            "category_ids": list(t.category_ids or []),
            "valid_from": t.valid_from.isoformat() if t.valid_from else None,
            "valid_to": t.valid_to.isoformat() if t.valid_to else None, "active": t.active}


def create_template(session: Session, actor: Actor, data: CouponTemplateIn) -> CouponTemplate:
    t = CouponTemplate(**data.model_dump())
    if t.kind == "amount":
        t.percent_bp = 10_000
    else:
        t.amount_fen = 0
    session.add(t)
    session.flush()
    audit.write(session, actor, "coupon_template.create", "coupon_template", t.id,
                after=_tpl_snapshot(t))
    return t


def update_template(session: Session, actor: Actor, template_id: int,
                    data: CouponTemplatePatch) -> CouponTemplate:
    t = session.get(CouponTemplate, template_id, with_for_update=True)
    if t is None:
        raise ApiError("not_found", status=404, what="优惠券模板")
    before = _tpl_snapshot(t)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is None and key == "name":
            continue
        setattr(t, key, value)
    if t.valid_from and t.valid_to and t.valid_to < t.valid_from:
        raise ApiError("validation_error", status=400,
                       fields={"valid_to": "有效期结束日期不能早于开始日期"})
    session.flush()
    audit.write(session, actor, "coupon_template.update", "coupon_template", t.id,
                before=before, after=_tpl_snapshot(t))
    return t


# -- issuing -------------------------------------------------------------------------------
ISSUE_CHUNK = 1000  # coupons per INSERT


@dataclass(frozen=True)
class Issued:
    batch: str
    issued: int
    already: bool = False  # the batch had been issued before: nothing was issued now


def issue(session: Session, actor: Actor, template_id: int, *, member_id: int | None = None,
          level_id: int | None = None, member_ids: Iterable[list[int]] | None = None,
          about: dict[str, Any] | None = None, batch: str | None = None,
          on_chunk: Callable[[list[int], list[str]], None] | None = None) -> Issued:
    """Issue one coupon to a member, one to every active member of a level, or one to each
    member of ``member_ids`` (chunks of ids, each member once: a list of 会员关怀, described
    by ``about`` for the audit log). Multi-row INSERTs of ``ISSUE_CHUNK``; audited once with
    the count.

    ``batch``: the issue's own id (the client's). A batch already issued issues nothing
    again and answers with its count (``already``): a retry never doubles a gift, even with
    another idempotency key. Bulk issues of one template are serialised on its row, so two
    copies of one batch cannot both find it new. ``on_chunk(ids, codes)`` sees every chunk
    issued (the members' messages)."""
    t = session.get(CouponTemplate, template_id, with_for_update=member_id is None)
    if t is None:
        raise ApiError("not_found", status=404, what="优惠券模板")
    if not t.active:
        raise ApiError("inactive_item", status=422, what=f"优惠券“{t.name}”")
    if batch is not None:
        # a locking read: the newest committed rows, not this transaction's older snapshot
        done = session.scalar(select(func.count()).select_from(Coupon).where(
            Coupon.batch == batch).with_for_update())
        if done:
            return Issued(batch, int(done), already=True)
    if member_id is not None:
        m = members_domain.get(session, member_id)
        members_domain.require_active(m)
        member_ids = [[m.id]]
    elif level_id is not None:
        if session.get(MemberLevel, level_id) is None:
            raise ApiError("not_found", status=404, what="会员等级")
        ids = list(session.scalars(select(Member.id).where(
            Member.level_id == level_id, Member.active.is_(True)).order_by(Member.id)))
        member_ids = (ids[i:i + ISSUE_CHUNK] for i in range(0, len(ids), ISSUE_CHUNK))
    assert member_ids is not None
    batch = batch or uuid.uuid4().hex
    now = utcnow()
    n = 0
    for chunk in member_ids:
        for start in range(0, len(chunk), ISSUE_CHUNK):
            part = chunk[start:start + ISSUE_CHUNK]
            codes = [new_code() for _ in part]
            session.execute(insert(Coupon), [
                {"code": code, "template_id": t.id, "member_id": mid, "batch": batch,
                 "status": "issued", "valid_from": t.valid_from, "valid_to": t.valid_to,
                 "issued_at": now, "staff_id": actor.staff_id}
                for mid, code in zip(part, codes, strict=True)])
            n += len(part)
            if on_chunk is not None:
                on_chunk(part, codes)
    after: dict[str, Any] = {"batch": batch, "issued": n, "member_id": member_id,
                             "level_id": level_id}
    if about is not None:
        after["list"] = about
    audit.write(session, actor, "coupon.issue", "coupon_template", t.id, after=after)
    return Issued(batch, n)


# -- using ---------------------------------------------------------------------------------
def get(session: Session, coupon_id: int) -> Coupon:
    c = session.get(Coupon, coupon_id)
    if c is None:
        raise ApiError("not_found", status=404, what="优惠券")
    return c


def find_by_code(session: Session, code: str) -> Coupon:
    c = session.scalars(select(Coupon).where(Coupon.code == code.strip().upper())).one_or_none()
    if c is None:
        raise ApiError("not_found", status=404, what=f"优惠券 {code}")
    return c


def _valid_text(c: Coupon) -> str:
    return f"{c.valid_from or '不限'} 至 {c.valid_to or '不限'}"


def check_usable(c: Coupon, member_id: int, today: dt.date) -> None:
    """``today``: the shop's business day (``valid_from``/``valid_to`` are shop days)."""
    if c.member_id != member_id:
        raise ApiError("coupon_not_of_member", status=422, coupon=c.code)
    if c.status == "redeemed":
        raise ApiError("coupon_used", status=409, coupon=c.code)
    if c.status == "voided":
        raise ApiError("coupon_voided", status=422, coupon=c.code)
    if (c.valid_from and today < c.valid_from) or (c.valid_to and today > c.valid_to):
        raise ApiError("coupon_expired", status=422, coupon=c.code, valid=_valid_text(c))


def for_pricing(session: Session, coupon_id: int, member_id: int, today: dt.date
                ) -> PricingCoupon:
    """The coupon as the pricing engine wants it, after checking it can be used today."""
    c = get(session, coupon_id)
    check_usable(c, member_id, today)
    t = session.get(CouponTemplate, c.template_id)
    assert t is not None
    return PricingCoupon(coupon_id=c.id, kind=t.kind, amount_fen=t.amount_fen or 0,
                         percent_bp=t.percent_bp, threshold_fen=t.threshold_fen,
                         category_ids=tuple(t.category_ids or ()))


def redeem(session: Session, actor: Actor, coupon_id: int, *, member_id: int, ref_type: str,
           ref_id: str | None, today: dt.date) -> Coupon:
    """Use the coupon once: ``coupon_used`` 409 if it already was (also under a race),
    ``coupon_voided`` / ``coupon_expired`` / ``coupon_not_of_member`` 422. ``today``: the
    shop's business day."""
    c = get(session, coupon_id)
    check_usable(c, member_id, today)
    now = utcnow()
    n = session.execute(update(Coupon).where(Coupon.id == coupon_id, Coupon.status == "issued")
                        .values(status="redeemed", redeemed_at=now, ref_type=ref_type,
                                ref_id=ref_id).execution_options(synchronize_session=False)
                        ).rowcount
    session.refresh(c, with_for_update=True)
    if n != 1:
        check_usable(c, member_id, today)  # raises with the current status
        raise ApiError("coupon_used", status=409, coupon=c.code)  # pragma: no cover
    audit.write(session, actor, "coupon.redeem", "coupon", c.id,
                after={"code": c.code, "member_id": member_id, "ref_type": ref_type,
                       "ref_id": ref_id})
    return c


def restore(session: Session, actor: Actor, coupon_id: int, *, ref_type: str, ref_id: str
            ) -> Coupon:
    """The sale that used the coupon was refunded: the coupon can be used again."""
    n = session.execute(update(Coupon).where(
        Coupon.id == coupon_id, Coupon.status == "redeemed", Coupon.ref_type == ref_type,
        Coupon.ref_id == ref_id).values(status="issued", redeemed_at=None, ref_type=None,
                                        ref_id=None)
        .execution_options(synchronize_session=False)).rowcount
    c = get(session, coupon_id)
    session.refresh(c)
    if n != 1:
        raise ApiError("coupon_not_redeemed", status=409, coupon=c.code)
    audit.write(session, actor, "coupon.restore", "coupon", c.id,
                after={"ref_type": ref_type, "ref_id": ref_id})
    return c


def void(session: Session, actor: Actor, coupon_id: int, reason: str) -> Coupon:
    n = session.execute(update(Coupon).where(Coupon.id == coupon_id, Coupon.status == "issued")
                        .values(status="voided", voided_at=utcnow(), void_reason=reason)
                        .execution_options(synchronize_session=False)).rowcount
    c = get(session, coupon_id)
    session.refresh(c)
    if n != 1:
        if c.status == "redeemed":
            raise ApiError("coupon_used", status=409, coupon=c.code)
        raise ApiError("coupon_voided", status=422, coupon=c.code)
    audit.write(session, actor, "coupon.void", "coupon", c.id, before={"status": "issued"},
                after={"status": "voided", "code": c.code}, reason=reason)
    return c


def search(session: Session, page: int, page_size: int, member_id: int | None = None,
           status: str | None = None, code: str | None = None) -> tuple[list[Coupon], bool]:
    stmt = select(Coupon)
    if member_id is not None:
        stmt = stmt.where(Coupon.member_id == member_id)
    if status:
        stmt = stmt.where(Coupon.status == status)
    if code:
        stmt = stmt.where(Coupon.code == code.strip().upper())
    stmt = stmt.order_by(Coupon.id.desc())
    rows = list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


def templates_by_id(session: Session, ids) -> dict[int, CouponTemplate]:
    ids = set(ids)
    if not ids:
        return {}
    return {t.id: t for t in session.scalars(select(CouponTemplate)
                                             .where(CouponTemplate.id.in_(ids)))}
