"""Promotions for a period (促销): double points, a discount on a category (8折 on 护理), a
price for a level. The rules of how they price and stack live in the one pricing engine
(``common.pricing``, "Promotions (促销) and how they stack"); this module stores them, checks
what they refer to, audits every change (``promotion.create`` / ``promotion.update``) and hands
the engine the ones that run (``for_pricing``) — for the server's quote and sale, and, in the
catalogue snapshot, for the counter's preview and its offline sales.

Windows are shop wall-clock time, ``[starts_at, ends_at)``. A promotion is never deleted (a
receipt names it); ``active`` false stops it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import pricing
from common.errors import ApiError
from common.schemas.activities import PromotionIn, PromotionOut, PromotionQuery, PromotionUpdate
from common.schemas.base import Page
from server.db.activities import Promotion
from server.db.catalog import Category, Product
from server.db.members import MemberLevel

from . import audit
from .actor import Actor

#: the promotions a snapshot sends: every active one not ended this long ago (shop clocks of
#: counters may lag a little; the engine filters by the exact window anyway)
SNAPSHOT_GRACE = dt.timedelta(days=1)


def to_pricing(p: Promotion) -> pricing.Promotion:
    return pricing.Promotion(
        promotion_id=p.id if p.id is not None else 0, name=p.name, kind=p.kind,
        starts_at=p.starts_at, ends_at=p.ends_at,
        rate_bp=p.rate_bp, price_fen=p.price_fen, points_multiplier=p.points_multiplier,
        category_ids=tuple(p.category_ids or ()), product_ids=tuple(p.product_ids or ()),
        level_ids=tuple(p.level_ids or ()))


def for_pricing(session: Session, at: dt.datetime | None) -> list[pricing.Promotion]:
    """The active promotions running at ``at`` (naive shop time; None: none at all), in id
    order — the engine's ``promotions`` input."""
    if at is None:
        return []
    rows = session.scalars(select(Promotion).where(
        Promotion.active.is_(True), Promotion.starts_at <= at, Promotion.ends_at > at)
        .order_by(Promotion.id))
    return [to_pricing(p) for p in rows]


def for_snapshot(session: Session, now: dt.datetime) -> list[pricing.Promotion]:
    """Active promotions not ended (before ``now`` less a grace), for a counter to keep."""
    rows = session.scalars(select(Promotion).where(
        Promotion.active.is_(True), Promotion.ends_at > now - SNAPSHOT_GRACE)
        .order_by(Promotion.id))
    return [to_pricing(p) for p in rows]


def state_of(p: Promotion, now: dt.datetime) -> str:
    if not p.active:
        return "stopped"
    if now < p.starts_at:
        return "upcoming"
    return "running" if now < p.ends_at else "ended"


def out(p: Promotion, now: dt.datetime) -> PromotionOut:
    return PromotionOut(id=p.id, name=p.name, kind=p.kind, starts_at=p.starts_at,
                        ends_at=p.ends_at, rate_bp=p.rate_bp, price_fen=p.price_fen,
                        points_multiplier=p.points_multiplier,
                        category_ids=list(p.category_ids or []),
                        product_ids=list(p.product_ids or []),
                        level_ids=list(p.level_ids or []), active=p.active, note=p.note,
                        state=state_of(p, now))  # type: ignore[arg-type]


def _snapshot(p: Promotion) -> dict[str, Any]:
    return {"name": p.name, "kind": p.kind, "starts_at": p.starts_at.isoformat(),
            "ends_at": p.ends_at.isoformat(), "rate_bp": p.rate_bp, "price_fen": p.price_fen,
            "points_multiplier": p.points_multiplier, "category_ids": p.category_ids,
            "product_ids": p.product_ids, "level_ids": p.level_ids, "active": p.active,
            "note": p.note}


def _missing(session: Session, model: Any, ids: list[int]) -> list[int]:
    if not ids:
        return []
    found = set(session.scalars(select(model.id).where(model.id.in_(ids))))
    return sorted(set(ids) - found)


def _check(session: Session, p: Promotion) -> None:
    """The engine's own validation (one set of rules) and what the promotion refers to."""
    try:
        to_pricing(p)
    except pricing.PricingError as e:
        raise ApiError("invalid_promotion", status=422, reason=e.message,
                       fields={e.field or "kind": e.message}) from e
    for field, model, what in (("category_ids", Category, "分类"),
                               ("product_ids", Product, "商品"),
                               ("level_ids", MemberLevel, "会员等级")):
        missing = _missing(session, model, list(getattr(p, field) or []))
        if missing:
            raise ApiError("not_found", status=404, what=what,
                           fields={field: f"{what}不存在：{', '.join(map(str, missing))}"})


def get(session: Session, promotion_id: int, *, for_update: bool = False) -> Promotion:
    stmt = select(Promotion).where(Promotion.id == promotion_id)
    if for_update:
        stmt = stmt.with_for_update()
    p = session.scalars(stmt).one_or_none()
    if p is None:
        raise ApiError("not_found", status=404, what="促销")
    return p


def create(session: Session, actor: Actor, data: PromotionIn) -> Promotion:
    values = data.model_dump()
    for key in ("category_ids", "product_ids", "level_ids"):
        values[key] = sorted(set(values[key]))
    p = Promotion(**values, active=True, created_by=actor.staff_id)
    _check(session, p)
    session.add(p)
    session.flush()
    audit.write(session, actor, "promotion.create", "promotion", p.id, after=_snapshot(p))
    return p


def update(session: Session, actor: Actor, promotion_id: int, data: PromotionUpdate
           ) -> Promotion:
    p = get(session, promotion_id, for_update=True)
    before = _snapshot(p)
    for key, value in data.model_dump(exclude_unset=True).items():
        if key in ("category_ids", "product_ids", "level_ids"):
            value = sorted(set(value))
        setattr(p, key, value)
    if p.ends_at <= p.starts_at:
        raise ApiError("validation_error", status=400,
                       fields={"ends_at": "结束时间必须晚于开始时间"})
    _check(session, p)
    session.flush()
    audit.write(session, actor, "promotion.update", "promotion", p.id, before=before,
                after=_snapshot(p))
    return p


def list_page(session: Session, query: PromotionQuery, now: dt.datetime) -> Page[PromotionOut]:
    """Newest first; ``state`` filters on the server (a shop keeps years of promotions)."""
    stmt = select(Promotion)
    if query.state == "stopped":
        stmt = stmt.where(Promotion.active.is_(False))
    elif query.state is not None:
        stmt = stmt.where(Promotion.active.is_(True))
        if query.state == "upcoming":
            stmt = stmt.where(Promotion.starts_at > now)
        elif query.state == "running":
            stmt = stmt.where(Promotion.starts_at <= now, Promotion.ends_at > now)
        else:
            stmt = stmt.where(Promotion.ends_at <= now)
    rows = list(session.scalars(stmt.order_by(Promotion.id.desc())
                                .offset((query.page - 1) * query.page_size)
                                .limit(query.page_size + 1)))
    return Page[PromotionOut](items=[out(p, now) for p in rows[:query.page_size]],
                              page=query.page, page_size=query.page_size,
                              has_more=len(rows) > query.page_size)
