"""Fast bulk generation of members (demo shop, search benchmark, EXPLAIN tests).

``generate(session, n)`` inserts ``n`` members with Chinese names, unique mobile numbers,
pinyin initials, birthdays and levels with multi-row INSERTs; with ``extras`` some get a card,
an opening stored value (principal + bonus) and opening points — always as ledger entries, so
``lanpos-server verify`` holds. 1,000,000 members take a few minutes.

Benchmark (issue 8)::

    python -m server.domain.member_bulk --url mysql+pymysql://… --count 1000000
    python -m server.domain.member_bulk --url mysql+pymysql://… --measure

``--measure`` times ``members.search`` for phone suffix, full phone, card number, pinyin
initials and a name character and prints p50/p99 in ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from common.text import pinyin_initials
from server.db.base import utcnow
from server.db.members import Member, MemberCard, MemberLevel, PointsLedger, StoredValueLedger

from . import member_totals
from .actor import Actor

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
            "蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰红梅鑫宇浩然子涵欣怡"
         "梓轩雨桐思远佳琪一诺晨曦嘉怡俊杰婷婷文博美琳志强海燕建华晓明丹丹春梅")
PHONE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152",
                  "157", "158", "159", "177", "180", "182", "186", "187", "188", "189", "199")


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def phone_for(i: int) -> str:
    """A unique mainland mobile number for index ``i`` (< 10^8): a bijection on the last 8
    digits, so phone suffixes are spread evenly."""
    return PHONE_PREFIXES[i % len(PHONE_PREFIXES)] + f"{(i * 7919 + 12345) % 100_000_000:08d}"


def card_for(i: int) -> str:
    return f"8800{i:08d}"


def generate(session: Session, n: int, *, seed: int = 7, extras: bool = True,
             actor: Actor | None = None, chunk: int = 5000) -> tuple[int, int]:
    """Insert ``n`` members; returns (first id, last id). The caller commits (for very large
    ``n`` the CLI commits per chunk)."""
    rng = random.Random(seed)
    actor = actor or Actor.system("generator")
    levels = list(session.scalars(select(MemberLevel).where(MemberLevel.active.is_(True))
                                  .order_by(MemberLevel.rank)))
    level_ids = [lv.id for lv in levels] or [None]
    start = (session.scalar(select(func.max(Member.id))) or 0) + 1
    pinyin_cache: dict[str, str] = {}
    now = utcnow()
    done = 0
    while done < n:
        size = min(chunk, n - done)
        members: list[dict[str, Any]] = []
        cards: list[dict[str, Any]] = []
        sv: list[dict[str, Any]] = []
        pts: list[dict[str, Any]] = []
        for k in range(size):
            mid = start + done + k
            name = _name(rng)
            py = pinyin_cache.get(name)
            if py is None:
                py = pinyin_cache[name] = pinyin_initials(name)
            phone = phone_for(mid)
            birthday = dt.date(rng.randint(1950, 2008), rng.randint(1, 12), rng.randint(1, 28))
            principal = bonus = points = 0
            if extras and rng.random() < 0.5:
                principal = rng.choice((0, 5000, 10000, 20000, 50000, 100000)) \
                    - rng.randint(0, 4000)
                principal = max(principal, 0)
                bonus = rng.choice((0, 0, 1000, 5000))
            if extras and rng.random() < 0.7:
                points = rng.randint(0, 5000)
            spent = rng.randint(0, 500_000)
            members.append({
                "id": mid, "number": f"M{mid:07d}", "name": name, "pinyin": py,
                "phone": phone, "phone_last4": phone[-4:], "gender": rng.choice("MF"),
                "birthday": birthday, "birth_md": birthday.month * 100 + birthday.day,
                "level_id": rng.choice(level_ids), "tags": [], "notes": None,
                "external_id": None, "active": True, "sv_principal": principal,
                "sv_bonus": bonus, "points": points, "total_spent": spent,
                "visit_count": rng.randint(0, 60) if spent else 0,
                "last_visit_at": now - dt.timedelta(days=rng.randint(0, 365)) if spent else None,
                "pin_hash": None, "pin_failures": 0, "pin_locked_until": None,
                "created_at": now, "updated_at": now})
            if extras and rng.random() < 0.6:
                cards.append({"card_no": card_for(mid), "member_id": mid, "status": "active",
                              "issued_at": now, "status_at": now,
                              "staff_id": actor.staff_id})
            if principal or bonus:
                sv.append({"member_id": mid, "kind": "opening", "principal_change": principal,
                           "bonus_change": bonus, "principal_after": principal,
                           "bonus_after": bonus, "note": "初始余额", "staff_id": actor.staff_id,
                           "at": now})
            if points:
                pts.append({"member_id": mid, "kind": "opening", "change": points,
                            "balance_after": points, "note": "初始积分",
                            "staff_id": actor.staff_id, "at": now})
        session.execute(insert(Member), members)
        member_totals.add(
            session, members=len(members), sv_principal=sum(r["sv_principal"] for r in members),
            sv_bonus=sum(r["sv_bonus"] for r in members),
            with_balance=sum(r["sv_principal"] + r["sv_bonus"] > 0 for r in members),
            points=sum(r["points"] for r in members),
            with_points=sum(r["points"] > 0 for r in members))
        if cards:
            session.execute(insert(MemberCard), cards)
        if sv:
            session.execute(insert(StoredValueLedger), sv)
        if pts:
            session.execute(insert(PointsLedger), pts)
        done += size
    return start, start + n - 1


def measure(session: Session, rounds: int = 200) -> dict[str, tuple[float, float]]:
    """p50/p99 (ms) of ``members.search`` per query kind over the members present."""
    from . import members as members_domain

    last = session.scalar(select(func.max(Member.id))) or 1
    rng = random.Random(1)
    kinds = {
        "phone_last4": lambda: phone_for(rng.randint(1, last))[-4:],
        "phone": lambda: phone_for(rng.randint(1, last)),
        "card": lambda: card_for(rng.randint(1, last)),
        "pinyin": lambda: rng.choice("wlzlcyhzwz") + rng.choice("wfnxyjmlq"),
        "member_number": lambda: f"M{rng.randint(1, last):07d}",
        "name_char": lambda: rng.choice(GIVEN),
    }
    out = {}
    for kind, make_q in kinds.items():
        times = []
        for _ in range(rounds):
            q = make_q()
            t0 = time.perf_counter()
            members_domain.search(session, q, 1, 20)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[kind] = (times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))])
    return out


def main() -> None:  # pragma: no cover - benchmark tool
    from sqlalchemy import create_engine

    from server.db import all_models  # noqa: F401  (every table, for foreign keys)

    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--measure", action="store_true")
    args = p.parse_args()
    engine = create_engine(args.url)
    with Session(engine) as session:
        left = args.count
        t0 = time.perf_counter()
        while left > 0:
            step = min(left, 50_000)
            generate(session, step, seed=left)
            session.commit()
            left -= step
            print(f"{args.count - left} members, {time.perf_counter() - t0:.0f} s", flush=True)
        if args.measure:
            for kind, (p50, p99) in measure(session).items():
                print(f"{kind:14s} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")


if __name__ == "__main__":  # pragma: no cover
    main()


def load_demo(session: Session, actor: Actor | None = None, members: int = 200) -> None:
    """The demo shop's membership: levels, recharge tiers, ~200 members (cards, stored value,
    points), count cards and coupons — every balance through its ledger."""
    from common.schemas.members import (
        CountCardTemplateIn,
        CouponTemplateIn,
        LevelIn,
        RechargeRuleIn,
    )

    from . import count_cards, coupons, wallet
    from . import members as members_domain

    actor = actor or Actor.system("demo")
    if session.scalar(select(func.count()).select_from(MemberLevel)):
        return
    levels = [members_domain.create_level(session, actor, LevelIn(**kw)) for kw in (
        dict(name="普通会员", rank=0, discount_bp=10_000, points_per_yuan=1),
        dict(name="银卡会员", rank=1, discount_bp=9_500, points_per_yuan=2,
             upgrade_threshold=100_000),
        dict(name="金卡会员", rank=2, discount_bp=9_000, points_per_yuan=3,
             upgrade_threshold=500_000),
        dict(name="钻石会员", rank=3, discount_bp=8_500, points_per_yuan=5,
             upgrade_threshold=2_000_000))]
    for name, threshold, bonus in (("充200送10", 20_000, 1_000), ("充500送50", 50_000, 5_000),
                                   ("充1000送150", 100_000, 15_000)):
        wallet.create_rule(session, actor, RechargeRuleIn(name=name, threshold=threshold,
                                                          bonus=bonus))
    first, last = generate(session, members, seed=2024, actor=actor)
    rng = random.Random(99)
    templates = [count_cards.create_template(session, actor, CountCardTemplateIn(**kw))
                 for kw in (dict(name="洗剪吹10次卡", service_name="洗剪吹", uses=10,
                                 validity_days=365, price=38_000),
                            dict(name="头皮护理5次卡", service_name="头皮护理", uses=5,
                                 validity_days=180, price=48_000))]
    for mid in rng.sample(range(first, last + 1), min(30, members)):
        t = rng.choice(templates)
        card = count_cards.sell(session, actor, mid, t.id, ref_type="demo", ref_id=None)
        used = rng.randint(0, t.uses - 1)
        if used:
            count_cards.use(session, actor, card.id, member_id=mid, uses=used,
                            ref_type="demo", ref_id=None)
    full = coupons.create_template(session, actor, CouponTemplateIn(
        name="满100减20", kind="amount", amount_fen=2_000, threshold_fen=10_000))
    pct = coupons.create_template(session, actor, CouponTemplateIn(
        name="会员9折券", kind="percent", percent_bp=9_000))
    coupons.issue(session, actor, pct.id, level_id=levels[2].id)
    for mid in rng.sample(range(first, last + 1), min(40, members)):
        coupons.issue(session, actor, full.id, member_id=mid)
    session.flush()
