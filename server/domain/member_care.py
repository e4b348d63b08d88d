"""会员关怀 (member care, #18 §4): a coupon to every member of a list — a birthday gift, a
"we miss you" to members who stopped coming — and the messages that would go with it.

Who is on a list is decided in one place, ``owner_reports.list_where`` (the report page
``GET /reports/member-list``, its count, this issue and the owner's export of the list's
contacts all read it). The issue runs in the request's one transaction: the list read from
one snapshot, the coupons inserted ``coupons.ISSUE_CHUNK`` at a time (100,000 members:
about 100 inserts), one audit entry with the count and the list's definition, the
idempotency record — all or nothing, so a retry (same key: the stored answer; same batch id:
the batch's count) issues nothing twice. Messages go out only after the commit
(``server.domain.messaging``).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from common.schemas.members import CouponIssueIn, CouponIssueOut
from server.clock import ShopClock
from server.db.members import CouponTemplate

from . import coupons, owner_reports
from .actor import Actor
from .messaging import Message, MessageSender, send_after_commit


def coupon_text(template: CouponTemplate, code: str) -> str:
    until = f"，有效期至 {template.valid_to.isoformat()}" if template.valid_to else ""
    return f"您获得一张优惠券“{template.name}”（券码 {code}）{until}，欢迎光临。"


def issue_coupons(session: Session, actor: Actor, body: CouponIssueIn, *, clock: ShopClock,
                  today: dt.date, sender: MessageSender) -> CouponIssueOut:
    """``POST /coupons``: one member, a level, or a list (``body.members``)."""
    batch = (body.batch_id or uuid.uuid4()).hex
    messages: list[Message] = []
    template = session.get(CouponTemplate, body.template_id)

    def on_chunk(ids: list[int], codes: list[str]) -> None:
        if not body.notify or template is None:
            return
        phones = dict(session.execute(text(
            "SELECT id, phone FROM members WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)), {"ids": ids}).all())
        messages.extend(Message(member_id=mid, phone=phones.get(mid),
                                text=coupon_text(template, code), ref=batch)
                        for mid, code in zip(ids, codes, strict=True))

    if body.members is not None:
        care = owner_reports.resolve_list(session, body.members)
        res = coupons.issue(session, actor, body.template_id, batch=batch,
                            member_ids=owner_reports.list_member_ids(
                                session, care, clock=clock, today=today),
                            about=care.definition(), on_chunk=on_chunk)
    else:
        res = coupons.issue(session, actor, body.template_id, member_id=body.member_id,
                            level_id=body.level_id, batch=batch, on_chunk=on_chunk)
    send_after_commit(session, sender, messages)
    return CouponIssueOut(batch=res.batch, issued=res.issued, already=res.already,
                          messages=len(messages))
