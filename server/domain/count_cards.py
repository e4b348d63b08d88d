"""Count cards (次卡/套餐): templates, selling one to a member, using it, giving uses back.

``member_count_cards.remaining_uses`` caches the ``count_card_ledger`` (purchase +N, use −1,
reverse +1 …). A use locks the card row (``SELECT … FOR UPDATE``); an expired or voided card
cannot be used.

Checkout: :func:`sell` for a count-card sale line (payment is the sale's), :func:`use` for a
line paid by count card, :func:`restore` on refund.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.schemas.members import CountCardTemplateIn, CountCardTemplatePatch
from server.db.base import utcnow
from server.db.catalog import Product
from server.db.members import CountCardLedger, CountCardTemplate, MemberCountCard

from . import audit, shifts, wallet
from . import members as members_domain
from .actor import Actor


# -- templates -----------------------------------------------------------------------------
def list_templates(session: Session, include_inactive: bool = False) -> list[CountCardTemplate]:
    stmt = select(CountCardTemplate).order_by(CountCardTemplate.id)
    if not include_inactive:
        stmt = stmt.where(CountCardTemplate.active.is_(True))
    return list(session.scalars(stmt))


def _tpl_snapshot(t: CountCardTemplate) -> dict:
    return {"name": t.name, "product_id": t.product_id, "service_name": t.service_name,
            "uses": t.uses, "validity_days": t.validity_days, "price": t.price,
            "active": t.active}


def create_template(session: Session, actor: Actor, data: CountCardTemplateIn
                    ) -> CountCardTemplate:
    if data.product_id is not None and session.get(Product, data.product_id) is None:
        raise ApiError("not_found", status=404, what="服务项目")
    t = CountCardTemplate(**data.model_dump())
    session.add(t)
    session.flush()
    audit.write(session, actor, "count_card_template.create", "count_card_template", t.id,
                after=_tpl_snapshot(t))
    return t


def update_template(session: Session, actor: Actor, template_id: int,
                    data: CountCardTemplatePatch) -> CountCardTemplate:
    t = session.get(CountCardTemplate, template_id, with_for_update=True)
    if t is None:
        raise ApiError("not_found", status=404, what="次卡模板")
    before = _tpl_snapshot(t)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is None and key != "validity_days":
            continue
        setattr(t, key, value)
    session.flush()
    audit.write(session, actor, "count_card_template.update", "count_card_template", t.id,
                before=before, after=_tpl_snapshot(t))
    return t


# -- member count cards --------------------------------------------------------------------
def is_expired(card: MemberCountCard, now: dt.datetime | None = None) -> bool:
    return card.expires_at is not None and card.expires_at <= (now or utcnow())


def _post(session: Session, actor: Actor, card: MemberCountCard, kind: str, change: int,
          ref_type: str | None, ref_id: str | None, note: str | None = None) -> CountCardLedger:
    new = card.remaining_uses + change
    if new < 0:  # pragma: no cover - callers check first
        raise ApiError("count_card_used_up", status=409, name=card.name,
                       left=card.remaining_uses)
    card.remaining_uses = new
    entry = CountCardLedger(card_id=card.id, member_id=card.member_id, kind=kind,
                            change=change, balance_after=new, ref_type=ref_type, ref_id=ref_id,
                            note=note, staff_id=actor.staff_id)
    session.add(entry)
    session.flush()
    return entry


def sell(session: Session, actor: Actor, member_id: int, template_id: int, *, ref_type: str,
         ref_id: str | None, price: int | None = None, method: str | None = None,
         uses: int | None = None, kind: str = "purchase",
         shift_id: int | None = None) -> MemberCountCard:
    """Give the member a new count card from a template (the payment is the caller's:
    a sale line in checkout, or the direct-sale API). ``price`` defaults to the template's."""
    t = session.get(CountCardTemplate, template_id)
    if t is None:
        raise ApiError("not_found", status=404, what="次卡模板")
    if not t.active:
        raise ApiError("inactive_item", status=422, what=f"次卡“{t.name}”")
    m = members_domain.lock(session, member_id)
    members_domain.require_active(m)
    now = utcnow()
    card = MemberCountCard(
        member_id=m.id, template_id=t.id, name=t.name, product_id=t.product_id,
        service_name=t.service_name, total_uses=uses or t.uses, remaining_uses=0,
        price=t.price if price is None else price, method=method, ref_type=ref_type,
        ref_id=ref_id, purchased_at=now, status="active", staff_id=actor.staff_id,
        shift_id=shift_id,
        expires_at=now + dt.timedelta(days=t.validity_days) if t.validity_days else None)
    session.add(card)
    session.flush()
    _post(session, actor, card, kind, card.total_uses, ref_type, ref_id)
    audit.write(session, actor, "count_card.sell", "count_card", card.id,
                after={"member_id": m.id, "template_id": t.id, "uses": card.total_uses,
                       "price": card.price, "method": method, "ref_type": ref_type,
                       "ref_id": ref_id})
    return card


def get(session: Session, card_id: int, for_update: bool = False) -> MemberCountCard:
    stmt = select(MemberCountCard).where(MemberCountCard.id == card_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    card = session.scalars(stmt).one_or_none()
    if card is None:
        raise ApiError("not_found", status=404, what="次卡")
    return card


def check_usable(card: MemberCountCard, member_id: int, uses: int = 1,
                 now: dt.datetime | None = None) -> None:
    if card.member_id != member_id:
        raise ApiError("count_card_not_of_member", status=422)
    if card.status != "active":
        raise ApiError("count_card_voided", status=422, name=card.name)
    if is_expired(card, now):
        raise ApiError("count_card_expired", status=422, name=card.name,
                       date=card.expires_at.date().isoformat() if card.expires_at else "")
    if card.remaining_uses < uses:
        raise ApiError("count_card_used_up", status=409, name=card.name,
                       left=card.remaining_uses)


def use(session: Session, actor: Actor, card_id: int, *, member_id: int, uses: int = 1,
        ref_type: str, ref_id: str | None, note: str | None = None) -> CountCardLedger:
    """Consume ``uses`` from the member's count card (locked). Errors:
    ``count_card_not_of_member`` / ``count_card_voided`` / ``count_card_expired`` 422,
    ``count_card_used_up`` 409."""
    card = get(session, card_id, for_update=True)
    check_usable(card, member_id, uses)
    entry = _post(session, actor, card, "use", -uses, ref_type, ref_id, note)
    audit.write(session, actor, "count_card.use", "count_card", card.id,
                after={"uses": uses, "remaining": card.remaining_uses, "ref_type": ref_type,
                       "ref_id": ref_id, "entry_id": entry.id})
    return entry


def restore(session: Session, actor: Actor, card_id: int, uses: int, *, ref_type: str,
            ref_id: str, note: str | None = None) -> CountCardLedger:
    """Give back uses consumed with ``(ref_type, ref_id)`` (a refunded sale); never more than
    were used with that reference and not yet given back (``refund_exceeds`` 409)."""
    card = get(session, card_id, for_update=True)
    used = -(session.scalar(select(func.coalesce(func.sum(CountCardLedger.change), 0)).where(
        CountCardLedger.card_id == card_id, CountCardLedger.ref_type == ref_type,
        CountCardLedger.ref_id == ref_id, CountCardLedger.kind.in_(("use", "reverse")))) or 0)
    if uses <= 0 or uses > used:
        raise ApiError("refund_exceeds", status=409, refundable=f"{max(used, 0)} 次")
    entry = _post(session, actor, card, "reverse", uses, ref_type, ref_id, note)
    audit.write(session, actor, "count_card.restore", "count_card", card.id,
                after={"uses": uses, "remaining": card.remaining_uses, "ref_type": ref_type,
                       "ref_id": ref_id})
    return entry


def void_unused(session: Session, actor: Actor, card_id: int, *, ref_type: str, ref_id: str,
                reason: str) -> CountCardLedger:
    """Take back a count card that was never used (its purchase is being refunded): the
    remaining uses leave through the ledger (kind ``void``) and the card is voided. A card
    that was used even once cannot be taken back this way (``count_card_in_use`` 409)."""
    card = get(session, card_id, for_update=True)
    if card.status != "active":
        raise ApiError("count_card_voided", status=422, name=card.name)
    if card.remaining_uses != card.total_uses:
        raise ApiError("count_card_in_use", status=409, name=card.name,
                       used=card.total_uses - card.remaining_uses)
    entry = _post(session, actor, card, "void", -card.remaining_uses, ref_type, ref_id, reason)
    card.status = "voided"
    audit.write(session, actor, "count_card.void", "count_card", card.id,
                after={"uses": card.total_uses, "ref_type": ref_type, "ref_id": ref_id},
                reason=reason)
    return entry


def opening(session: Session, actor: Actor, member_id: int, template_id: int, uses: int,
            note: str) -> MemberCountCard:
    """An imported or demo count card with ``uses`` left (kind ``opening``)."""
    return sell(session, actor, member_id, template_id, ref_type="import", ref_id=None,
                uses=uses, kind="opening")


def of_member(session: Session, member_id: int, page: int, page_size: int,
              usable_only: bool = False) -> tuple[list[MemberCountCard], bool]:
    stmt = select(MemberCountCard).where(MemberCountCard.member_id == member_id)
    if usable_only:
        now = utcnow()
        stmt = stmt.where(MemberCountCard.status == "active",
                          MemberCountCard.remaining_uses > 0,
                          (MemberCountCard.expires_at.is_(None))
                          | (MemberCountCard.expires_at > now))
    stmt = stmt.order_by(MemberCountCard.id.desc())
    rows = list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


def entries(session: Session, member_id: int, page: int, page_size: int
            ) -> tuple[list[CountCardLedger], bool]:
    stmt = (select(CountCardLedger).where(CountCardLedger.member_id == member_id)
            .order_by(CountCardLedger.id.desc()))
    rows = list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


def check_balances(session: Session) -> list[str]:
    """Cached remaining uses = ledger sum = last entry's balance_after; within 0..total."""
    sums = (select(CountCardLedger.card_id.label("cid"),
                   func.sum(CountCardLedger.change).label("s"),
                   func.max(CountCardLedger.id).label("last"))
            .group_by(CountCardLedger.card_id).subquery())
    last = CountCardLedger.__table__.alias("last_entry")
    rows = session.execute(
        select(MemberCountCard.id, MemberCountCard.remaining_uses, sums.c.s,
               last.c.balance_after)
        .outerjoin(sums, sums.c.cid == MemberCountCard.id)
        .outerjoin(last, last.c.id == sums.c.last)
        .where((MemberCountCard.remaining_uses != func.coalesce(sums.c.s, 0))
               | (MemberCountCard.remaining_uses < 0)
               | (func.coalesce(last.c.balance_after, 0) != MemberCountCard.remaining_uses))
        .limit(100)).all()
    return [f"count card {r.id}: remaining cached {r.remaining_uses}, ledger sum {r.s or 0}, "
            f"last entry {r.balance_after}" for r in rows]


def sell_direct(session: Session, actor: Actor, passwords, member_id: int, template_id: int,
                method: str, reference: str | None = None, card_no: str | None = None,
                pin: str | None = None) -> MemberCountCard:
    """Sell a count card at the counter outside a sale (the API path): paid by ``method``;
    ``stored_value`` debits the member's stored value first (same transaction). Needs the
    counter's open shift (409 ``shift_not_open``): the card is paid at its drawer."""
    shift_id = shifts.require_open(session, actor)
    t = session.get(CountCardTemplate, template_id)
    if t is None:
        raise ApiError("not_found", status=404, what="次卡模板")
    ref = uuid.uuid4().hex
    if method == "stored_value" and t.price > 0:
        wallet.pay(session, actor, passwords, member_id, t.price, ref_type="count_card",
                   ref_id=ref, card_no=card_no, pin=pin, note=f"购买次卡 {t.name}")
    card = sell(session, actor, member_id, template_id, ref_type="count_card", ref_id=ref,
                method=method, shift_id=shift_id)
    if reference:
        audit.write(session, actor, "count_card.payment", "count_card", card.id,
                    after={"method": method, "reference": reference, "amount": card.price})
    return card
