"""Members and levels: create / edit / deactivate, the one search box, birthdays, visits and
automatic level upgrades, the member's payment PIN, membership settings.

Search (``search``) answers every kind of query from an index, so it stays fast with a
million members. The query's shape decides which lookups run; each runs with
``LIMIT offset+page_size+1`` in the order of its index and the results are merged by
(rank, key, id):

=====  ==================================================  ========  =======================
rank   lookup                                              order     index
=====  ==================================================  ========  =======================
0      phone = q, member number = q, card number = q,       id        uq phone / uq number /
       name = q (exact)                                               uq card_no / ix name
1      phone_last4 = q (q is 4 digits)                      id        ix_members_phone_last4
2      pinyin initials LIKE 'q%' (q is letters)             pinyin    ix_members_pinyin
3      phone LIKE 'q%' (q is 3–10 digits)                   phone     uq_members_phone
4      name LIKE '%q%' (q has a non-ASCII character)        id        PK walk, stops at LIMIT
=====  ==================================================  ========  =======================

Only the name substring (rank 4) cannot use an index (a leading wildcard); it walks the
primary key and stops as soon as the page is full, so common characters are fast and only a
rare character scans the table. Lost or replaced cards do not find their member.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, literal, select, text, union_all
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.membership_rules import LevelRule, level_after_spend
from common.payment import pin_required
from common.pricing import Member as PricingMember
from common.privacy import shown_phone
from common.schemas.base import Role
from common.schemas.members import (
    LevelIn,
    LevelPatch,
    LevelPricesIn,
    MemberCreate,
    MembershipSettings,
    MembershipSettingsPatch,
    MemberUpdate,
)
from common.text import pinyin_initials
from server.db.base import utcnow
from server.db.catalog import Product
from server.db.members import LevelPrice, Member, MemberCard, MemberLevel
from server.db.session import LOCK_WAIT_TIMEOUT_S

from . import audit, catalog_version, member_cards, member_totals, settings
from .actor import Actor
from .auth import Passwords
from .member_row import lock, require_active

SETTINGS_KEY = "membership"
_DIGITS = re.compile(r"^\d+$")
_LETTERS = re.compile(r"^[a-z]+$")
_ALNUM = re.compile(r"^[0-9A-Za-z\-]+$")


# -- settings ------------------------------------------------------------------------------
def get_settings(session: Session) -> MembershipSettings:
    raw = settings.get(session, SETTINGS_KEY, {}) or {}
    return MembershipSettings.model_validate({**MembershipSettings().model_dump(), **raw})


def put_settings(session: Session, actor: Actor, data: MembershipSettingsPatch
                 ) -> MembershipSettings:
    merged = get_settings(session).model_dump() | data.model_dump(exclude_none=True)
    new = MembershipSettings.model_validate(merged)
    settings.put(session, actor, SETTINGS_KEY, new.model_dump())
    return new


# -- levels --------------------------------------------------------------------------------
def list_levels(session: Session, include_inactive: bool = False) -> list[MemberLevel]:
    stmt = select(MemberLevel).order_by(MemberLevel.rank, MemberLevel.id)
    if not include_inactive:
        stmt = stmt.where(MemberLevel.active.is_(True))
    return list(session.scalars(stmt))


def get_level(session: Session, level_id: int) -> MemberLevel:
    lv = session.get(MemberLevel, level_id)
    if lv is None:
        raise ApiError("not_found", status=404, what="会员等级")
    return lv


def _level_snapshot(lv: MemberLevel) -> dict[str, Any]:
    return {"name": lv.name, "rank": lv.rank, "discount_bp": lv.discount_bp,
            "points_per_yuan": lv.points_per_yuan, "upgrade_threshold": lv.upgrade_threshold,
            "active": lv.active}


def create_level(session: Session, actor: Actor, data: LevelIn) -> MemberLevel:
    if session.scalar(select(MemberLevel.id).where(MemberLevel.name == data.name)):
        raise ApiError("duplicate_name", status=409, name=data.name)
    lv = MemberLevel(**data.model_dump())
    session.add(lv)
    try:
        session.flush()
    except IntegrityError as e:
        raise ApiError("duplicate_name", status=409, name=data.name) from e
    audit.write(session, actor, "level.create", "member_level", lv.id, after=_level_snapshot(lv))
    return lv


def update_level(session: Session, actor: Actor, level_id: int, data: LevelPatch
                 ) -> MemberLevel:
    lv = session.get(MemberLevel, level_id, with_for_update=True)
    if lv is None:
        raise ApiError("not_found", status=404, what="会员等级")
    before = _level_snapshot(lv)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") and changes["name"] != lv.name and session.scalar(
            select(MemberLevel.id).where(MemberLevel.name == changes["name"])):
        raise ApiError("duplicate_name", status=409, name=changes["name"])
    for key, value in changes.items():
        if value is None and key != "upgrade_threshold":
            continue
        setattr(lv, key, value)
    session.flush()
    audit.write(session, actor, "level.update", "member_level", lv.id, before=before,
                after=_level_snapshot(lv))
    return lv


def level_prices(session: Session, level_id: int) -> list[LevelPrice]:
    get_level(session, level_id)
    return list(session.scalars(select(LevelPrice).where(LevelPrice.level_id == level_id)
                                .order_by(LevelPrice.product_id)))


def set_level_prices(session: Session, actor: Actor, level_id: int, data: LevelPricesIn
                     ) -> list[LevelPrice]:
    """Replace the level's fixed member prices (checkout passes them to the pricing engine)."""
    get_level(session, level_id)
    wanted = {p.product_id: p.price for p in data.prices}
    if wanted:
        found = set(session.scalars(select(Product.id).where(Product.id.in_(wanted))))
        missing = sorted(set(wanted) - found)
        if missing:
            raise ApiError("not_found", status=404, what=f"商品 {missing[0]}")
    current = {lp.product_id: lp for lp in session.scalars(
        select(LevelPrice).where(LevelPrice.level_id == level_id).with_for_update())}
    before = {str(k): v.price for k, v in current.items()}
    for pid, lp in current.items():
        if pid not in wanted:
            session.delete(lp)
        else:
            lp.price = wanted[pid]
    for pid, price in wanted.items():
        if pid not in current:
            session.add(LevelPrice(level_id=level_id, product_id=pid, price=price))
    session.flush()
    changed = {pid for pid in set(current) | set(wanted)
               if pid not in current or pid not in wanted or before[str(pid)] != wanted[pid]}
    if changed:  # counters price offline with level prices: they learn the change
        catalog_version.bump(session, changed)
    audit.write(session, actor, "level.prices", "member_level", level_id, before=before,
                after={str(k): v for k, v in wanted.items()})
    return level_prices(session, level_id)


def prices_for_products(session: Session, product_ids: Iterable[int]
                        ) -> dict[int, dict[int, int]]:
    """product id → {level id: price} (for ``common.pricing.PriceLine.level_prices``)."""
    ids = list(set(product_ids))
    out: dict[int, dict[int, int]] = {i: {} for i in ids}
    if ids:
        for lp in session.scalars(select(LevelPrice).where(LevelPrice.product_id.in_(ids))):
            out[lp.product_id][lp.level_id] = lp.price
    return out


def default_level(session: Session) -> MemberLevel | None:
    return session.scalars(select(MemberLevel).where(MemberLevel.active.is_(True))
                           .order_by(MemberLevel.rank, MemberLevel.id).limit(1)).first()


# -- members -------------------------------------------------------------------------------
def get(session: Session, member_id: int, for_update: bool = False) -> Member:
    stmt = select(Member).where(Member.id == member_id)
    if for_update:
        stmt = stmt.with_for_update()
    m = session.scalars(stmt).one_or_none()
    if m is None:
        raise ApiError("not_found", status=404, what="会员")
    return m


def snapshot(m: Member) -> dict[str, Any]:
    return {"number": m.number, "name": m.name, "phone": m.phone, "gender": m.gender,
            "birthday": m.birthday.isoformat() if m.birthday else None,
            "level_id": m.level_id, "tags": list(m.tags or []), "notes": m.notes,
            "active": m.active}


def set_phone(m: Member, phone: str | None) -> None:
    m.phone = phone or None
    m.phone_last4 = phone[-4:] if phone else None


def update_pinyin(m: Member) -> None:
    m.pinyin = pinyin_initials(m.name)


def set_birthday(m: Member, birthday: dt.date | None) -> None:
    m.birthday = birthday
    m.birth_md = birthday.month * 100 + birthday.day if birthday else None


def _check_phone_free(session: Session, phone: str | None, member_id: int | None = None) -> None:
    if not phone:
        return
    other = session.scalars(select(Member).where(Member.phone == phone)).first()
    if other is not None and other.id != member_id:
        raise ApiError("phone_taken", status=409, phone=phone, name=other.name,
                       fields={"phone": "已被其他会员使用"})


def _temp_number() -> str:
    return "~" + uuid.uuid4().hex[:19]


def assign_number(m: Member) -> None:
    """Generated member numbers: ``M`` + the id, 7 digits (``M0000042``)."""
    m.number = f"M{m.id:07d}"


def create(session: Session, actor: Actor, data: MemberCreate, *, external_id: str | None = None
           ) -> Member:
    _check_phone_free(session, data.phone)
    if data.number and session.scalar(select(Member.id).where(Member.number == data.number)):
        raise ApiError("member_number_taken", status=409, number=data.number)
    level_id = data.level_id
    if level_id is not None:
        if not get_level(session, level_id).active:
            raise ApiError("inactive_item", status=422, what="会员等级")
    else:
        lv = default_level(session)
        level_id = lv.id if lv else None
    m = Member(number=data.number or _temp_number(), name=data.name,
               pinyin=pinyin_initials(data.name), level_id=level_id, gender=data.gender,
               tags=list(data.tags), notes=data.notes, external_id=external_id, active=True,
               sv_principal=0, sv_bonus=0, points=0, total_spent=0, visit_count=0,
               pin_failures=0)
    set_phone(m, data.phone)
    set_birthday(m, data.birthday)
    session.add(m)
    try:
        session.flush()
    except IntegrityError as e:  # a concurrent create with the same phone / number
        raise ApiError("phone_taken", status=409, phone=data.phone or "", name="") from e
    if not data.number:
        assign_number(m)
        session.flush()
    member_totals.add(session, members=1)
    audit.write(session, actor, "member.create", "member", m.id, after=snapshot(m))
    if data.card_no:
        member_cards.issue(session, actor, m.id, data.card_no)
    return m


def set_active(session: Session, m: Member, active: bool) -> None:
    """(De)activate a LOCKED member (the members' totals count the active ones)."""
    if bool(m.active) != bool(active):
        m.active = active
        member_totals.add(session, members=1 if active else -1)


def require_not_anonymised(m: Member) -> None:
    if m.anonymised_at is not None:
        raise ApiError("member_anonymised", status=409)


def update(session: Session, actor: Actor, member_id: int, data: MemberUpdate) -> Member:
    m = lock(session, member_id)
    require_not_anonymised(m)
    before = snapshot(m)
    changes = data.model_dump(exclude_unset=True)
    if "level_id" in changes and changes["level_id"] != m.level_id:
        if not actor.at_least(Role.MANAGER):
            raise ApiError("forbidden", status=403)
        if changes["level_id"] is not None:
            get_level(session, changes["level_id"])
        m.level_id = changes["level_id"]
    if "active" in changes and changes["active"] is not None and changes["active"] != m.active:
        if not actor.at_least(Role.MANAGER):
            raise ApiError("forbidden", status=403)
        set_active(session, m, changes["active"])
    if "phone" in changes:
        _check_phone_free(session, changes["phone"], m.id)
        set_phone(m, changes["phone"])
    if "birthday" in changes:
        set_birthday(m, changes["birthday"])
    if changes.get("name"):
        m.name = changes["name"]
        m.pinyin = pinyin_initials(m.name)
    for key in ("gender", "notes"):
        if key in changes:
            setattr(m, key, changes[key])
    if changes.get("tags") is not None:
        m.tags = [t.strip() for t in changes["tags"] if t.strip()]
    try:
        session.flush()
    except IntegrityError as e:
        raise ApiError("phone_taken", status=409, phone=m.phone or "", name="") from e
    after = snapshot(m)
    if after != before:
        audit.write(session, actor, "member.update", "member", m.id, before=before, after=after)
    return m


def search(session: Session, q: str | None, page: int, page_size: int,
           level_id: int | None = None, include_inactive: bool = False
           ) -> tuple[list[Any], bool]:
    """The one search box (see the module docstring for the lookups and their indexes).
    Members as ORM objects (no ``q``) or plain rows (with the same attribute names)."""
    need = page * page_size + 1
    q = (q or "").strip()
    if not q:
        stmt = select(Member).order_by(Member.id.desc())
        if not include_inactive:
            stmt = stmt.where(Member.active.is_(True))
        if level_id is not None:
            stmt = stmt.where(Member.level_id == level_id)
        rows = list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size + 1)))
        return rows[:page_size], len(rows) > page_size

    def base(rank: int, key: Any = None):
        # (id, rank, sort key): every lookup below is one part of a single UNION ALL
        stmt = select(Member.id, literal(rank).label("rank"),
                      (key if key is not None else literal("")).label("k"))
        if not include_inactive:
            stmt = stmt.where(Member.active.is_(True))
        if level_id is not None:
            stmt = stmt.where(Member.level_id == level_id)
        return stmt

    ql = q.lower()
    digits = bool(_DIGITS.match(q))
    parts = []
    # rank 0: exact phone / member number / card number / name
    if digits and len(q) == 11:
        parts.append(base(0).where(Member.phone == q).limit(need))
    if len(q) <= 20:
        parts.append(base(0).where(Member.number == q).limit(need))
    if _ALNUM.match(q) and len(q) <= 32:
        card_members = select(MemberCard.member_id).where(
            MemberCard.card_no == q, MemberCard.status.in_(("active", "frozen")))
        parts.append(base(0).where(Member.id.in_(card_members)).limit(need))
    if not digits:
        parts.append(base(0).where(Member.name == q).order_by(Member.id).limit(need))
    # rank 1: last 4 digits of the phone
    if digits and len(q) == 4:
        parts.append(base(1).where(Member.phone_last4 == q).order_by(Member.id).limit(need))
    # rank 2: pinyin initials prefix, in pinyin order
    if _LETTERS.match(ql) and len(ql) <= 32:
        parts.append(base(2, Member.pinyin).where(Member.pinyin.startswith(ql, autoescape=True))
                     .order_by(Member.pinyin, Member.id).limit(need))
    # rank 3: phone prefix (phone is unique: index order, no filesort)
    if digits and 3 <= len(q) <= 10:
        parts.append(base(3, Member.phone).where(Member.phone.startswith(q, autoescape=True))
                     .order_by(Member.phone).limit(need))
    # rank 4: name substring (only for text with Chinese / non-ASCII characters)
    if not q.isascii():
        parts.append(base(4).where(Member.name.contains(q, autoescape=True))
                     .order_by(Member.id).limit(need))
    hits: dict[int, tuple[int, str]] = {}
    if parts:
        rows_found = session.execute(parts[0] if len(parts) == 1 else union_all(*parts))
        for mid, rank, k in rows_found:
            key = (int(rank), k or "")
            if mid not in hits or key < hits[mid]:
                hits[mid] = key
    ordered = sorted(hits.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0]))
    window = ordered[(page - 1) * page_size: page * page_size + 1]
    ids = [mid for mid, _ in window]
    # plain rows, not ORM objects: a page is read-only, and 50 members with their cards cost
    # twice as much as ORM instances (bench/README.md)
    t = Member.__table__
    by_id = {m.id: m for m in session.execute(select(t).where(t.c.id.in_(ids)))} \
        if ids else {}
    rows = [by_id[i] for i in ids if i in by_id]
    return rows[:page_size], len(rows) > page_size


def birthdays(session: Session, month: int, page: int, page_size: int
              ) -> tuple[list[Member], bool]:
    """Active members whose birthday falls in ``month`` (1-12), by day."""
    stmt = (select(Member).where(Member.birth_md.between(month * 100 + 1, month * 100 + 31),
                                 Member.active.is_(True))
            .order_by(Member.birth_md, Member.id))
    rows = list(session.scalars(stmt.offset((page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


def levels_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, MemberLevel]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {lv.id: lv for lv in session.scalars(select(MemberLevel).where(
        MemberLevel.id.in_(wanted)))}


def cards_by_member(session: Session, member_ids: Iterable[int]) -> dict[int, list[Any]]:
    """Each member's cards as plain rows (``MemberCard``'s attribute names)."""
    ids = list(member_ids)
    out: dict[int, list[Any]] = {i: [] for i in ids}
    if ids:
        t = MemberCard.__table__  # plain rows (read-only views)
        for c in session.execute(select(t).where(t.c.member_id.in_(ids)).order_by(t.c.id)):
            out[c.member_id].append(c)
    return out


def pricing_member(session: Session, member_id: int) -> PricingMember:
    """The member context for ``common.pricing.quote`` (checkout)."""
    m = get(session, member_id)
    require_active(m)
    lv = session.get(MemberLevel, m.level_id) if m.level_id else None
    return PricingMember(member_id=m.id, level_id=m.level_id,
                         level_discount_bp=lv.discount_bp if lv and lv.active else 10_000)


# -- visits and level upgrades -------------------------------------------------------------
def _level_rules(session: Session) -> list[LevelRule]:
    return [LevelRule(lv.id, lv.rank, lv.upgrade_threshold) for lv in list_levels(session)]


def record_visit(session: Session, actor: Actor, member_id: int, spent: int, *,
                 ref_type: str | None = None, ref_id: str | None = None,
                 count_visit: bool = True) -> Member:
    """After a sale (checkout calls this): add ``spent`` (fen; negative for a refund) to the
    cumulative spend, count the visit, and upgrade the level automatically when a threshold
    is reached. A refund lowers the spend but never downgrades."""
    m = lock(session, member_id)
    m.total_spent = m.total_spent + spent
    if count_visit:
        m.visit_count += 1
        m.last_visit_at = utcnow()
    if spent > 0:
        rules = _level_rules(session)
        current = next((r for r in rules if r.id == m.level_id), None)
        if current is None and m.level_id is not None:
            lv = session.get(MemberLevel, m.level_id)
            current = LevelRule(lv.id, lv.rank, lv.upgrade_threshold) if lv else None
        new = level_after_spend(current, m.total_spent, rules)
        if new is not None and new.id != m.level_id:
            old = m.level_id
            m.level_id = new.id
            audit.write(session, actor, "member.upgrade", "member", m.id,
                        before={"level_id": old},
                        after={"level_id": new.id, "total_spent": m.total_spent,
                               "ref": f"{ref_type}:{ref_id}" if ref_type else None})
    session.flush()
    return m


# -- payment PIN ---------------------------------------------------------------------------
def set_pin(session: Session, actor: Actor, passwords: Passwords, member_id: int, pin: str,
            old_pin: str | None) -> Member:
    """Set or change the member's payment PIN. Changing an existing PIN needs the old one,
    unless a manager/owner does it (a reset)."""
    m = lock(session, member_id)
    require_active(m)
    if m.pin_hash and not actor.at_least(Role.MANAGER) and (
            not old_pin or not passwords.verify(m.pin_hash, old_pin)):
        raise ApiError("pin_wrong", status=422, left="-", fields={"old_pin": "旧密码不正确"})
    m.pin_hash = passwords.hash(pin)
    m.pin_failures = 0
    m.pin_locked_until = None
    session.flush()
    audit.write(session, actor, "member.pin_set", "member", m.id, after={"has_pin": True})
    return m


def clear_pin(session: Session, actor: Actor, member_id: int) -> Member:
    """Remove the PIN and any lockout (manager/owner)."""
    m = lock(session, member_id)
    m.pin_hash = None
    m.pin_failures = 0
    m.pin_locked_until = None
    session.flush()
    audit.write(session, actor, "member.pin_clear", "member", m.id, after={"has_pin": False})
    return m


def verify_payment_pin(session: Session, passwords: Passwords, member_id: int, amount: int,
                       pin: str | None) -> None:
    """Raise unless a stored-value payment of ``amount`` may proceed PIN-wise.

    A PIN is needed when the member has one and ``amount`` is above the shop's
    ``pin_threshold``. Failures are counted in a separate short transaction, so they stick
    even though the payment's own transaction rolls back. Call this BEFORE locking the member
    row in the calling transaction (``wallet.pay`` does)."""
    cfg = get_settings(session)
    row = session.execute(select(Member.pin_hash).where(Member.id == member_id)).one_or_none()
    if row is None:
        raise ApiError("not_found", status=404, what="会员")
    (pin_hash,) = row
    if not pin_required(bool(pin_hash), amount, cfg.pin_threshold):  # the counter's rule too
        return
    engine = session.get_bind()
    now = utcnow()
    with engine.connect() as conn:  # autonomous: its own transaction
        conn.execute(text("SET SESSION innodb_lock_wait_timeout = 3"))
        try:
            _check_pin(conn, passwords, cfg, member_id, pin, now)
        finally:  # the connection goes back to the pool: with the pool's own setting
            conn.execute(text(f"SET SESSION innodb_lock_wait_timeout = {LOCK_WAIT_TIMEOUT_S}"))


def _check_pin(conn: Any, passwords: Passwords, cfg: MembershipSettings, member_id: int,
               pin: str | None, now: dt.datetime) -> None:
    cur = conn.execute(select(Member.pin_hash, Member.pin_failures, Member.pin_locked_until)
                       .where(Member.id == member_id)).one()
    conn.rollback()
    pin_hash, failures, locked_until = cur
    if locked_until is not None and locked_until > now:
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        raise ApiError("pin_locked", status=422, minutes=minutes)
    if not pin:
        raise ApiError("pin_required", status=422, fields={"pin": "请输入支付密码"})
    if passwords.verify(pin_hash, pin):
        if failures:
            try:
                conn.execute(sql_update(Member).where(Member.id == member_id)
                             .values(pin_failures=0, pin_locked_until=None))
                conn.commit()
            except Exception:  # row locked by the caller: reset on a later payment
                conn.rollback()
        return
    try:
        # one atomic statement: a lock that has run out starts the count afresh
        conn.execute(text(
            "UPDATE members SET pin_failures = IF(pin_locked_until IS NOT NULL AND "
            "pin_locked_until <= :now, 1, pin_failures + 1), pin_locked_until = "
            "IF(pin_failures >= :max, :until, IF(pin_locked_until <= :now, NULL, "
            "pin_locked_until)) WHERE id = :id"),
            {"now": now, "max": cfg.pin_max_failures, "id": member_id,
             "until": now + dt.timedelta(minutes=cfg.pin_lock_minutes)})
        failures = conn.execute(select(Member.pin_failures)
                                .where(Member.id == member_id)).scalar_one()
        conn.commit()
    except Exception:  # e.g. the caller already holds the row lock: still refuse
        conn.rollback()
        failures += 1
    if failures >= cfg.pin_max_failures:
        raise ApiError("pin_locked", status=422, minutes=cfg.pin_lock_minutes)
    raise ApiError("pin_wrong", status=422, left=cfg.pin_max_failures - failures)


def unlock_pin(session: Session, actor: Actor, member_id: int) -> Member:
    m = lock(session, member_id)
    m.pin_failures = 0
    m.pin_locked_until = None
    session.flush()
    audit.write(session, actor, "member.pin_unlock", "member", m.id)
    return m


def count_active(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Member)
                          .where(Member.active.is_(True))) or 0


def views(session: Session, rows: list[Member], with_cards: bool = True, *, viewer: Role,
          own_record: bool = False) -> list[dict[str, Any]]:
    """Members as the API shows them to ``viewer``: with level name/discount, total stored
    value, whether a PIN is set and (optionally) their cards. The phone is masked unless
    ``viewer`` may see it (``common.privacy``): in a list always, on the member's
    ``own_record`` never."""
    levels = levels_by_id(session, [m.level_id for m in rows])
    cards = cards_by_member(session, [m.id for m in rows]) if with_cards else {}
    out = []
    for m in rows:
        lv = levels.get(m.level_id) if m.level_id else None
        out.append({
            "id": m.id, "number": m.number, "name": m.name, "pinyin": m.pinyin,
            "phone": shown_phone(m.phone, viewer, own_record=own_record),
            "gender": m.gender, "birthday": m.birthday,
            "level_id": m.level_id, "level_name": lv.name if lv else None,
            "discount_bp": lv.discount_bp if lv and lv.active else 10_000,
            "tags": list(m.tags or []), "notes": m.notes, "active": m.active,
            "sv_principal": m.sv_principal, "sv_bonus": m.sv_bonus,
            "stored_value": m.sv_principal + m.sv_bonus, "points": m.points,
            "total_spent": m.total_spent, "visit_count": m.visit_count,
            "no_show_count": m.no_show_count,
            "last_visit_at": m.last_visit_at, "has_pin": bool(m.pin_hash),
            "created_at": m.created_at, "cards": cards.get(m.id, []),
            "anonymised_at": m.anonymised_at,
        })
    return out
