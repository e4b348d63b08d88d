"""Member cards: issue, report lost (挂失: stops the card at once), reissue (补办: a new
number; balances belong to the member, so they carry over untouched), freeze / unfreeze.

Status: ``active`` (can pay) · ``frozen`` (temporarily refused) · ``lost`` (refused for good)
· ``replaced`` (a lost card that has been reissued). A member has at most one active or
frozen card.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import ApiError
from server.db.base import utcnow
from server.db.members import MemberCard

from . import audit
from .actor import Actor
from .member_row import lock, require_active

STATUS_ZH = {"active": "正常", "frozen": "冻结", "lost": "挂失", "replaced": "已补办"}


def get(session: Session, card_id: int, for_update: bool = False) -> MemberCard:
    card = session.get(MemberCard, card_id, with_for_update=for_update or None)
    if card is None:
        raise ApiError("not_found", status=404, what="会员卡")
    return card


def find(session: Session, card_no: str, lock: bool = False) -> MemberCard:
    """The card with this number; ``lock`` reads it with a shared lock (latest status)."""
    stmt = select(MemberCard).where(MemberCard.card_no == card_no.strip())
    if lock:
        stmt = stmt.with_for_update(read=True).execution_options(populate_existing=True)
    card = session.scalars(stmt).one_or_none()
    if card is None:
        raise ApiError("card_not_found", status=404, card_no=card_no)
    return card


def check_usable(card: MemberCard) -> None:
    """Raise the cashier-readable error for a card that cannot pay."""
    if card.status in ("lost", "replaced"):
        raise ApiError("card_lost", status=422, card_no=card.card_no)
    if card.status == "frozen":
        raise ApiError("card_frozen", status=422, card_no=card.card_no)


def check_card_for_member(session: Session, card_no: str, member_id: int) -> MemberCard:
    """The card presented for a payment of ``member_id``: it must exist, be theirs, and be
    active."""
    card = find(session, card_no)
    if card.member_id != member_id:
        raise ApiError("card_not_of_member", status=422, card_no=card_no)
    check_usable(card)
    return card


def _audit(session: Session, actor: Actor, action: str, card: MemberCard, before: str | None,
           **extra) -> None:
    audit.write(session, actor, action, "member_card", card.id,
                before=None if before is None else {"status": before},
                after={"status": card.status, "card_no": card.card_no,
                       "member_id": card.member_id, **extra})


def _new_card(session: Session, actor: Actor, member_id: int, card_no: str,
              replaces_id: int | None = None) -> MemberCard:
    if session.scalar(select(MemberCard.id).where(MemberCard.card_no == card_no)):
        raise ApiError("card_taken", status=409, card_no=card_no,
                       fields={"card_no": "卡号已被使用"})
    card = MemberCard(card_no=card_no, member_id=member_id, status="active",
                      replaces_id=replaces_id, staff_id=actor.staff_id, status_at=utcnow())
    session.add(card)
    try:
        session.flush()
    except IntegrityError as e:
        raise ApiError("card_taken", status=409, card_no=card_no) from e
    return card


def issue(session: Session, actor: Actor, member_id: int, card_no: str) -> MemberCard:
    m = lock(session, member_id)
    require_active(m)
    current = session.scalars(select(MemberCard).where(
        MemberCard.member_id == m.id, MemberCard.status.in_(("active", "frozen")))).first()
    if current is not None:
        raise ApiError("member_has_card", status=409, card_no=current.card_no)
    card = _new_card(session, actor, m.id, card_no)
    _audit(session, actor, "card.issue", card, None)
    return card


def report_lost(session: Session, actor: Actor, card_id: int) -> MemberCard:
    """挂失: from now on the card cannot pay (the lock makes a concurrent payment with this
    card either finish before or fail after)."""
    card = get(session, card_id, for_update=True)
    if card.status not in ("active", "frozen"):
        raise ApiError("card_bad_status", status=409, card_no=card.card_no,
                       message=f"卡 {card.card_no} 当前状态为“{STATUS_ZH[card.status]}”，不能挂失")
    before = card.status
    card.status, card.status_at = "lost", utcnow()
    session.flush()
    _audit(session, actor, "card.lost", card, before)
    return card


def reissue(session: Session, actor: Actor, card_id: int, new_card_no: str) -> MemberCard:
    """补办: a lost card gets a successor with a new number. Balances live on the member, so
    the new card pays from the same stored value at once."""
    member_id = get(session, card_id).member_id
    m = lock(session, member_id)  # lock order: member row, then card
    old = session.scalars(select(MemberCard).where(MemberCard.id == card_id).with_for_update()
                          .execution_options(populate_existing=True)).one()
    if old.status != "lost":
        raise ApiError("card_bad_status", status=409, card_no=old.card_no,
                       message=f"卡 {old.card_no} 当前状态为“{STATUS_ZH[old.status]}”，"
                               f"请先挂失再补办")
    require_active(m)
    old.status, old.status_at = "replaced", utcnow()
    card = _new_card(session, actor, old.member_id, new_card_no, replaces_id=old.id)
    _audit(session, actor, "card.reissue", card, None, replaces=old.card_no)
    return card


def set_frozen(session: Session, actor: Actor, card_id: int, frozen: bool) -> MemberCard:
    card = get(session, card_id, for_update=True)
    want_from = "active" if frozen else "frozen"
    if card.status != want_from:
        action = "冻结" if frozen else "解冻"
        raise ApiError("card_bad_status", status=409, card_no=card.card_no,
                       message=f"卡 {card.card_no} 当前状态为“{STATUS_ZH[card.status]}”，"
                               f"不能{action}")
    before = card.status
    card.status, card.status_at = ("frozen" if frozen else "active"), utcnow()
    session.flush()
    _audit(session, actor, "card.freeze" if frozen else "card.unfreeze", card, before)
    return card
