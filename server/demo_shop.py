"""The demo shop's catalog and sales history (a salon that also sells retail goods).

Everything goes through the domain functions a real shop uses, so the demo data obeys every
invariant (``lanpos-server verify`` passes on it).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.errors import ApiError
from common.schemas.base import Role
from common.schemas.catalog import CategoryIn, ProductIn
from common.schemas.sales import SaleIn
from server.clock import ShopClock
from server.db.catalog import Product
from server.db.members import CountCardTemplate, Member, MemberCountCard
from server.db.models import Staff
from server.domain import catalog, sales
from server.domain.actor import Actor
from server.domain.auth import Passwords

CATALOG: dict[str, list[tuple]] = {
    # category: (name, price fen, member price, cost, barcode, opening stock)
    "饮料": [("农夫山泉 550ml", 200, None, 90, "6921168509256", 120),
             ("可口可乐 330ml", 350, 300, 160, "6901234567892", 96),
             ("东方树叶 500ml", 500, 450, 260, "6921168558049", 60),
             ("维他柠檬茶", 450, None, 230, "4891028164456", 48)],
    "零食": [("乐事薯片 原味", 750, 680, 420, "6924743915763", 40),
             ("德芙巧克力", 1290, 1190, 760, "6914973600041", 30),
             ("旺旺雪饼", 990, None, 560, "6920658211011", 25)],
    "日化": [("海飞丝洗发水 400ml", 5990, 5490, 3600, "6903148079600", 18),
             ("潘婷护发素 400ml", 4990, 4590, 2900, "6903148048323", 15),
             ("发蜡 定型", 6800, 5800, 2500, "6970000000017", 12),
             ("护手霜", 2500, None, 1100, "6970000000024", 20)],
}
SERVICES = [
    # name, price, commission %, (barcode for quick entry)
    ("洗剪吹", 5800, 2000, "S001"),
    ("精剪", 8800, 2500, "S002"),
    ("烫发", 38800, 1500, "S003"),
    ("染发", 29800, 1500, "S004"),
    ("头皮护理", 12800, 2000, "S005"),
]
# 收银台常用: the counter's touch grid (a tab per category), in this order
FAVOURITES = ("洗剪吹", "精剪", "烫发", "染发", "头皮护理", "其他服务（改价）",
              "农夫山泉 550ml", "可口可乐 330ml", "东方树叶 500ml", "乐事薯片 原味",
              "德芙巧克力", "海飞丝洗发水 400ml", "发蜡 定型")


def _favourite(name: str) -> dict:
    if name not in FAVOURITES:
        return {}
    return {"favourite": True, "favourite_order": FAVOURITES.index(name)}


def load_catalog(session: Session, actor: Actor) -> None:
    if session.scalar(select(Product.id).limit(1)) is not None:
        return
    for i, (cat_name, items) in enumerate(CATALOG.items()):
        cat = catalog.create_category(session, actor, CategoryIn(name=cat_name, sort_order=i))
        for name, price, member_price, cost, barcode, stock in items:
            catalog.create_product(session, actor, ProductIn(
                name=name, price=price, member_price=member_price, cost=cost,
                category_id=cat.id, barcodes=[barcode], track_stock=True,
                opening_stock=stock, low_stock=10, **_favourite(name)))
    svc = catalog.create_category(session, actor, CategoryIn(name="美发服务", sort_order=9))
    for name, price, commission_bp, code in SERVICES:
        catalog.create_product(session, actor, ProductIn(
            kind="service", name=name, price=price, category_id=svc.id, barcodes=[code],
            unit="次", commission_kind="percent", commission_value=commission_bp,
            **_favourite(name)))
    # services with a price set at the counter (e.g. a custom treatment)
    catalog.create_product(session, actor, ProductIn(
        kind="service", name="其他服务（改价）", price=0, category_id=svc.id, open_price=True,
        barcodes=["S099"], unit="次", **_favourite("其他服务（改价）")))


def link_count_card_templates(session: Session) -> None:
    """Count-card templates name their service; point them at the catalog's service."""
    services = {p.name: p.id for p in session.scalars(
        select(Product).where(Product.kind == "service"))}
    for t in session.scalars(select(CountCardTemplate).where(
            CountCardTemplate.product_id.is_(None))):
        if t.service_name in services:
            t.product_id = services[t.service_name]
            session.execute(update(MemberCountCard).where(
                MemberCountCard.template_id == t.id).values(product_id=t.product_id))
    session.flush()


def load_sales(session: Session, passwords: Passwords, clock: ShopClock, days: int = 21,
               per_day: int = 15, seed: int = 11) -> int:
    """A few weeks of realistic sales: retail and services, half with members, mixed
    payments, some stored value and points, busier weekends."""
    rng = random.Random(seed)
    cashier = session.scalars(select(Staff).where(Staff.role == Role.CASHIER.value)).first()
    stylists = list(session.scalars(select(Staff).where(Staff.active.is_(True))))
    if cashier is None:
        return 0
    actor = Actor(staff_id=cashier.id, username=cashier.username, role=Role.CASHIER,
                  counter="01")
    goods = list(session.scalars(select(Product).where(Product.kind == "product")))
    services = list(session.scalars(select(Product).where(Product.kind == "service",
                                                          Product.open_price.is_(False))))
    member_ids = list(session.scalars(select(Member.id).where(Member.active.is_(True))))
    today = clock.today()
    made = 0
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        n = per_day + (per_day // 2 if day.weekday() >= 5 else 0) + rng.randint(-5, 5)
        for _ in range(max(n, 0)):
            at = dt.datetime.combine(day, dt.time(rng.randint(10, 20), rng.randint(0, 59)))
            lines = []
            if rng.random() < 0.6:
                svc = rng.choice(services)
                lines.append({"product_id": svc.id, "qty": 1,
                              "staff": [{"staff_id": rng.choice(stylists).id,
                                         "share_bp": 10_000}]})
            for p in rng.sample(goods, rng.randint(0 if lines else 1, 3)):
                lines.append({"product_id": p.id, "qty": rng.choice((1, 1, 1, 2))})
            member_id = rng.choice(member_ids) if member_ids and rng.random() < 0.5 else None
            body = {"id": str(uuid.uuid4()), "lines": lines, "member_id": member_id,
                    "payments": []}
            try:
                quote = sales.quote(session, actor, SaleIn.model_validate(
                    {**body, "payments": []}), today=day)
            except ApiError:
                continue
            total = quote.quote.total
            member = session.get(Member, member_id) if member_id else None
            pays = []
            if member is not None and member.sv_principal + member.sv_bonus >= total \
                    and total and rng.random() < 0.6:
                pays.append({"method": "stored_value", "amount": total})
            elif total:
                pays.append({"method": rng.choice(("cash", "wechat", "wechat", "alipay",
                                                   "card")), "amount": total})
                if pays[0]["method"] == "cash":
                    pays[0]["tendered"] = -(-total // 10_000) * 10_000
            body["payments"] = pays
            try:
                with session.begin_nested():
                    sales.create_sale(session, actor, passwords, SaleIn.model_validate(body),
                                      clock=clock, at=at)
                made += 1
            except ApiError:
                continue
    session.flush()
    return made
