"""Members' personal data on the server side (PIPL): the audited read of a member's full
record by a cashier, and 注销 — anonymising a member at their request.

Who sees what is decided in ``common.privacy``; this module does what needs the database.

Anonymise (:func:`anonymise`, owner only, idempotent)
-----------------------------------------------------
Removed: name (becomes ``已注销会员 #<id>``), pinyin, phone (and its last 4 digits),
birthday, gender, tags, notes, the id in an old system, the payment PIN; a member number that
is a mobile number becomes the generated ``M`` + id. The member is deactivated and
``anonymised_at`` set. The same personal fields are blanked in what the server keeps about
the member elsewhere: the audit log's member entries (``member.create`` / ``member.update``
snapshots — the entries themselves stay: who did what when), the ``member_ref`` of the
member's offline sales' audit entries, and the stored responses of idempotent requests that
show the member (a late replay then answers with the anonymised member).

Kept, unchanged: every ledger (stored value, points, count cards), sales and refunds, the
balances on the member row — figures and reports do not move; the card numbers (a random
number is no personal data by itself, and the member brings the card back to claim a
balance). A remaining stored-value balance stays on the anonymised record, shown as before;
the owner can still pay it out (退储值) to the person who presents the card.

Not reachable from here: receipts already printed, exports already saved, backups taken
before (they age out with the retention), counters' offline journals and what a counter has
in memory until it restarts.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.membership_rules import normalize_mobile
from common.privacy import audits_record_view, can_anonymise_members
from server.db.base import utcnow
from server.db.members import Member
from server.db.models import AuditLog, IdempotencyRecord
from server.db.sales import Sale

from . import audit
from .actor import Actor
from .member_row import lock
from .members import set_active, set_birthday, set_phone

VIEW_AGAIN_AFTER = dt.timedelta(hours=24)
# the member's personal fields, wherever a snapshot or a response has them
PERSONAL_KEYS = ("name", "pinyin", "phone", "gender", "birthday", "tags", "notes",
                 "external_id")


def anonymised_name(member_id: int) -> str:
    return f"已注销会员 #{member_id}"


def record_view(session: Session, actor: Actor, member_id: int, *, writable: bool) -> None:
    """A cashier (a role without the *see personal data* permission) read the member's full
    record: audited as ``member.view`` once per member and staff member in 24 hours, so the
    log shows who looked at whose number without an entry for every balance refresh. Not on a
    read-only server (a standby): its database takes no writes."""
    if not writable or not audits_record_view(actor.role):
        return
    seen = session.scalar(select(AuditLog.id).where(
        AuditLog.entity == "member", AuditLog.entity_id == str(member_id),
        AuditLog.action == "member.view", AuditLog.staff_id == actor.staff_id,
        AuditLog.at > utcnow() - VIEW_AGAIN_AFTER).limit(1))
    if seen is None:
        audit.write(session, actor, "member.view", "member", member_id)


class _Blank:
    """Blanks the member's personal fields in a dict (a snapshot, a serialised member)."""

    def __init__(self, m: Member, old_number: str) -> None:
        self.member_id, self.name = m.id, m.name
        self.numbers = (old_number, m.number) if old_number != m.number else None

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = dict(value)
        for key in PERSONAL_KEYS:
            if key in out and out[key] not in (None, "", []):
                out[key] = self.name if key == "name" else ([] if key == "tags" else None)
        if self.numbers and out.get("number") == self.numbers[0]:
            out["number"] = self.numbers[1]
        return out

    def member_json(self, value: Any) -> tuple[Any, bool]:
        """Every object ``{"id": member_id, …}`` with a personal field, blanked (a member in
        a stored response: MemberOut, a sale's member)."""
        changed = False
        if isinstance(value, dict):
            if value.get("id") == self.member_id and any(k in value for k in ("phone", "name")):
                new = self(value)
                changed = new != value
                value = new
            out = {}
            for k, v in value.items():
                out[k], c = self.member_json(v)
                changed = changed or c
            return out, changed
        if isinstance(value, list):
            items = [self.member_json(v) for v in value]
            return [v for v, _ in items], any(c for _, c in items)
        return value, False


def _scrub_audit(session: Session, m: Member, old_phone: str | None, blank: _Blank) -> int:
    n = 0
    for row in session.scalars(select(AuditLog).where(
            AuditLog.entity == "member", AuditLog.entity_id == str(m.id))):
        before, after = blank(row.before), blank(row.after)
        if before != row.before or after != row.after:
            row.before, row.after = before, after
            n += 1
    if old_phone:  # offline sales attached by the typed phone: the reference is the phone
        numbers = select(Sale.number).where(Sale.member_id == m.id, Sale.origin == "offline")
        for row in session.scalars(select(AuditLog).where(
                AuditLog.entity == "sale", AuditLog.action == "sale.offline",
                AuditLog.entity_id.in_(numbers))):
            if isinstance(row.after, dict) and row.after.get("member_ref") == old_phone:
                row.after = {**row.after, "member_ref": None}
                n += 1
    return n


def _scrub_idempotency(session: Session, member_id: int, blank: _Blank) -> int:
    """Stored responses that show the member: a MemberOut (``{"id":N,"number"…``) or a sale's
    or refund's member (``"member":{"id":N,…``). One scan of the table: anonymising is rare."""
    patterns = (f'%{{"id":{member_id},"number"%', f'%"member":{{"id":{member_id},%')
    n = 0
    rows = session.execute(select(IdempotencyRecord.key, IdempotencyRecord.response).where(
        or_(*(IdempotencyRecord.response.like(p) for p in patterns))))
    for key, text in list(rows):
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        new, changed = blank.member_json(doc)
        if changed:
            session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == key)
                            .values(response=json.dumps(new, ensure_ascii=False,
                                                        separators=(",", ":"))))
            n += 1
    return n


def _is_mobile(number: str) -> bool:
    try:
        return normalize_mobile(number) == number
    except ValueError:
        return False


def anonymise(session: Session, actor: Actor, member_id: int, reason: str | None = None
              ) -> Member:
    """注销: remove the member's personal data (module docstring). A member already
    anonymised is answered as it is (nothing changes, nothing more is audited)."""
    if not can_anonymise_members(actor.role):
        raise ApiError("forbidden", status=403)
    m = lock(session, member_id)
    if m.anonymised_at is not None:
        return m
    name = anonymised_name(m.id)
    old_phone, old_number = m.phone, m.number
    removed = [k for k in ("name", "phone", "gender", "birthday", "tags", "notes",
                           "external_id")
               if getattr(m, k) not in (None, "", [])] + (["pin"] if m.pin_hash else [])
    m.name, m.pinyin = name, ""
    set_phone(m, None)
    set_birthday(m, None)
    m.gender, m.tags, m.notes, m.external_id = None, [], None, None
    m.pin_hash, m.pin_failures, m.pin_locked_until = None, 0, None
    if _is_mobile(m.number):  # a shop that used the phone as member number
        generated = f"M{m.id:07d}"
        taken = session.scalar(select(Member.id).where(Member.number == generated,
                                                       Member.id != m.id))
        m.number = generated if taken is None else f"~anon{m.id}"
        removed.append("number")
    set_active(session, m, False)
    m.anonymised_at = utcnow()
    session.flush()
    blank = _Blank(m, old_number)
    scrubbed_audit = _scrub_audit(session, m, old_phone, blank)
    scrubbed_responses = _scrub_idempotency(session, m.id, blank)
    audit.write(session, actor, "member.anonymise", "member", m.id, reason=reason,
                after={"removed": removed, "sv_principal": m.sv_principal,
                       "sv_bonus": m.sv_bonus, "points": m.points,
                       "audit_entries_blanked": scrubbed_audit,
                       "responses_blanked": scrubbed_responses})
    return m
