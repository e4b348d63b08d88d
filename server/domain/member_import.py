"""Import members from CSV / Excel (shops moving from an old system) and export them.

* Every row is checked first; errors come back with the sheet's row number and a reason.
* ``dry_run`` only reports. A real import is all-or-nothing: one bad row and nothing is
  written (``import_rejected`` 422 listing the rows).
* Rows are matched to existing members by external id (原系统编号), then phone, then member
  number. A matched member's profile is updated; opening balances (stored value, bonus,
  points) are written ONLY when the member is created — as ``opening`` ledger entries — so
  running the same file twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.membership_rules import normalize_mobile
from common.money import MoneyError, format_plain, parse_yuan
from common.privacy import can_export_members
from common.schemas.members import MemberCreate
from common.schemas.reports import MemberListDef
from server.clock import ShopClock
from server.db.members import Member, MemberCard, MemberLevel

from . import audit, member_cards, owner_reports, points, tabular, wallet
from . import members as members_domain
from .actor import Actor

IMPORT_ALIASES = {
    "external_id": "external_id", "原系统编号": "external_id", "外部编号": "external_id",
    "number": "number", "会员号": "number", "会员编号": "number", "会员卡号": "card_no",
    "card_no": "card_no", "卡号": "card_no",
    "name": "name", "姓名": "name", "会员姓名": "name",
    "phone": "phone", "手机": "phone", "手机号": "phone", "电话": "phone", "手机号码": "phone",
    "gender": "gender", "性别": "gender",
    "birthday": "birthday", "生日": "birthday", "出生日期": "birthday",
    "level": "level", "等级": "level", "会员等级": "level",
    "balance": "balance", "储值余额": "balance", "余额": "balance", "本金": "balance",
    "bonus": "bonus", "赠送余额": "bonus", "赠送金": "bonus",
    "points": "points", "积分": "points",
    "tags": "tags", "标签": "tags",
    "notes": "notes", "备注": "notes",
}
EXPORT_HEADERS = ["会员号", "姓名", "手机号", "性别", "生日", "等级", "卡号", "储值余额",
                  "赠送余额", "积分", "累计消费", "消费次数", "标签", "备注", "原系统编号",
                  "状态"]
_NUMBER_RE = re.compile(r"^[0-9A-Za-z\-]{1,20}$")
_CARD_RE = re.compile(r"^[0-9A-Za-z\-]{4,32}$")
_GENDER = {"": None, "男": "M", "m": "M", "male": "M", "女": "F", "f": "F", "female": "F"}


@dataclass
class Report:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _money(v: str) -> int:
    if not v.strip():
        return 0
    try:
        fen = parse_yuan(v)
    except MoneyError as e:
        raise ValueError(f"金额格式不正确：{v}") from e
    if fen < 0:
        raise ValueError("金额不能为负")
    return fen


def _date(v: str) -> dt.date | None:
    v = v.strip()
    if not v:
        return None
    v = v.split(" ")[0].replace("/", "-").replace(".", "-")
    try:
        d = dt.date.fromisoformat("-".join(p.zfill(2) for p in v.split("-")))
    except ValueError as e:
        raise ValueError(f"生日格式不正确：{v}（应为 YYYY-MM-DD）") from e
    if d > dt.date.today() or d.year < 1900:
        raise ValueError(f"生日不合理：{v}")
    return d


def import_members(session: Session, actor: Actor, filename: str, data: bytes,
                   dry_run: bool) -> Report:
    rows = tabular.read_table(filename, data, IMPORT_ALIASES, required=["name"])
    report = Report(dry_run=dry_run, rows=len(rows))
    levels = {lv.name: lv for lv in session.scalars(select(MemberLevel))}
    seen: dict[str, dict[str, int]] = {"phone": {}, "external_id": {}, "number": {},
                                       "card_no": {}}
    plans: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        v = {k: (val or "").strip() for k, val in row.values.items()}
        try:
            name = v.get("name", "")
            if not name or len(name) > 64:
                raise ValueError("姓名不能为空且不超过 64 字")
            phone = normalize_mobile(v["phone"]) if v.get("phone") else None
            number = v.get("number") or None
            if number and not _NUMBER_RE.match(number):
                raise ValueError(f"会员号格式不正确：{number}")
            card_no = v.get("card_no") or None
            if card_no and not _CARD_RE.match(card_no):
                raise ValueError(f"卡号格式不正确：{card_no}")
            ext = v.get("external_id") or None
            if ext and len(ext) > 64:
                raise ValueError("原系统编号太长")
            gender_raw = v.get("gender", "").lower()
            if gender_raw not in _GENDER:
                raise ValueError(f"性别应为 男 或 女：{v.get('gender')}")
            level = None
            if v.get("level"):
                level = levels.get(v["level"])
                if level is None:
                    raise ValueError(f"没有名为“{v['level']}”的会员等级")
            pts_raw = v.get("points", "")
            if pts_raw and not re.match(r"^\d+$", pts_raw):
                raise ValueError(f"积分应为非负整数：{pts_raw}")
            plan = dict(name=name, phone=phone, number=number, card_no=card_no,
                        external_id=ext, gender=_GENDER[gender_raw],
                        birthday=_date(v.get("birthday", "")),
                        level_id=level.id if level else None,
                        balance=_money(v.get("balance", "")), bonus=_money(v.get("bonus", "")),
                        points=int(pts_raw or 0),
                        tags=[t for t in re.split(r"[,;，；、\s]+", v.get("tags", "")) if t][:20],
                        notes=v.get("notes", "")[:500] or None)
            for key in seen:
                val = plan[key]
                if val:
                    if val in seen[key]:
                        raise ValueError(f"{_LABEL[key]} {val} 与第 {seen[key][val]} 行重复")
                    seen[key][val] = row.number
        except ValueError as e:
            report.errors.append({"row": row.number, "message": str(e)})
            continue
        plans.append((row.number, plan))

    matched: list[tuple[int, dict[str, Any], Member | None]] = []
    for number, plan in plans:
        existing = None
        if plan["external_id"]:
            existing = session.scalars(select(Member).where(
                Member.external_id == plan["external_id"])).first()
        if existing is None and plan["phone"]:
            existing = session.scalars(select(Member).where(Member.phone == plan["phone"])).first()
        if existing is None and plan["number"]:
            existing = session.scalars(select(Member).where(
                Member.number == plan["number"])).first()
        # conflicts with OTHER members
        problem = None
        if plan["phone"]:
            other = session.scalar(select(Member.id).where(Member.phone == plan["phone"]))
            if other is not None and (existing is None or other != existing.id):
                problem = f"手机号 {plan['phone']} 已属于其他会员"
        if plan["number"] and problem is None:
            other = session.scalar(select(Member.id).where(Member.number == plan["number"]))
            if other is not None and (existing is None or other != existing.id):
                problem = f"会员号 {plan['number']} 已属于其他会员"
        if plan["card_no"] and problem is None:
            card = session.scalars(select(MemberCard).where(
                MemberCard.card_no == plan["card_no"])).first()
            if card is not None and (existing is None or card.member_id != existing.id):
                problem = f"卡号 {plan['card_no']} 已属于其他会员"
        if problem:
            report.errors.append({"row": number, "message": problem})
            continue
        matched.append((number, plan, existing))
        if existing is None:
            report.created += 1
        else:
            report.updated += 1

    if report.errors:
        report.errors.sort(key=lambda e: e["row"])
        report.created = report.updated = 0
        if not dry_run:
            raise ApiError("import_rejected", status=422,
                           message=f"有 {len(report.errors)} 行数据有误，未导入任何数据",
                           fields={f"row {e['row']}": e["message"] for e in report.errors[:200]})
        return report
    if dry_run:
        return report

    note = f"导入 {filename[:100]}"
    for _, plan, existing in matched:
        if existing is None:
            m = members_domain.create(session, actor, MemberCreate(
                name=plan["name"], phone=plan["phone"], gender=plan["gender"],
                birthday=plan["birthday"], level_id=plan["level_id"], tags=plan["tags"],
                notes=plan["notes"], number=plan["number"]), external_id=plan["external_id"])
            m = members_domain.lock(session, m.id)
            wallet.opening(session, actor, m, plan["balance"], plan["bonus"], note)
            points.opening(session, actor, m, plan["points"], note)
        else:
            m = members_domain.lock(session, existing.id)
            m.name = plan["name"]
            members_domain.update_pinyin(m)
            if plan["phone"]:
                members_domain.set_phone(m, plan["phone"])
            for key in ("gender", "notes"):
                if plan[key] is not None:
                    setattr(m, key, plan[key])
            if plan["birthday"]:
                members_domain.set_birthday(m, plan["birthday"])
            if plan["level_id"]:
                m.level_id = plan["level_id"]
            if plan["tags"]:
                m.tags = plan["tags"]
            if plan["external_id"] and not m.external_id:
                m.external_id = plan["external_id"]
        if plan["card_no"] and not session.scalar(select(MemberCard.id).where(
                MemberCard.card_no == plan["card_no"])):
            has_card = session.scalar(select(MemberCard.id).where(
                MemberCard.member_id == m.id, MemberCard.status.in_(("active", "frozen"))))
            if has_card is None:
                member_cards.issue(session, actor, m.id, plan["card_no"])
    session.flush()
    audit.write(session, actor, "member.import", "member", None,
                after={"file": filename, "created": report.created, "updated": report.updated})
    return report


_LABEL = {"phone": "手机号", "external_id": "原系统编号", "number": "会员号", "card_no": "卡号"}


def _all_member_ids(session: Session, chunk: int = 1000) -> Iterable[list[int]]:
    last_id = 0
    while True:
        ids = list(session.scalars(select(Member.id).where(Member.id > last_id)
                                   .order_by(Member.id).limit(chunk)))
        if not ids:
            return
        yield ids
        last_id = ids[-1]


def export_members(session: Session, actor: Actor, fmt: str, *,
                   care: MemberListDef | None = None, clock: ShopClock | None = None,
                   today: dt.date | None = None) -> bytes:
    """Every member with phone and birthday (owner only: ``common.privacy``), or only the
    members of the list ``care`` (会员关怀: the members to call, ``clock``/``today`` the
    shop's); audited with the row count (and the list's definition)."""
    if not can_export_members(actor.role):
        raise ApiError("forbidden", status=403)
    levels = {lv.id: lv.name for lv in session.scalars(select(MemberLevel))}
    count = 0
    if care is not None:
        assert clock is not None and today is not None
        care = owner_reports.resolve_list(session, care)
        chunks: Iterable[list[int]] = owner_reports.list_member_ids(session, care, clock=clock,
                                                                    today=today)
    else:
        chunks = _all_member_ids(session)

    def rows():
        nonlocal count
        for ids in chunks:  # in chunks: a big export stays small in memory
            batch = list(session.scalars(select(Member).where(Member.id.in_(ids))
                                         .order_by(Member.id)))
            cards = members_domain.cards_by_member(session, [m.id for m in batch])
            for m in batch:
                card = next((c.card_no for c in cards[m.id] if c.status in ("active", "frozen")),
                            "")
                count += 1
                yield [m.number, m.name, m.phone or "",
                       {"M": "男", "F": "女"}.get(m.gender or "", ""),
                       m.birthday.isoformat() if m.birthday else "",
                       levels.get(m.level_id, ""), card, format_plain(m.sv_principal),
                       format_plain(m.sv_bonus), m.points, format_plain(m.total_spent),
                       m.visit_count, ",".join(m.tags or []), m.notes or "",
                       m.external_id or "", "正常" if m.active else "停用"]

    data = tabular.write_table(fmt, EXPORT_HEADERS, rows())
    after: dict[str, Any] = {"rows": count, "format": fmt}
    if care is not None:
        after["list"] = care.definition()
    audit.write(session, actor, "member.export", "member", None, after=after)
    return data
