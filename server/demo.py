"""Demo shop data for ``lanpos-server demo``. Each feature adds its part to ``load()``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from common.schemas.base import Role
from server import demo_shop
from server.clock import ShopClock
from server.db.base import utcnow
from server.db.models import Setting
from server.domain import member_bulk
from server.domain import staff as staff_domain
from server.domain.actor import Actor
from server.domain.auth import Passwords

DEMO_PASSWORD = "demo1234"
DEMO_ACCOUNTS = [
    ("owner", "王老板", Role.OWNER),
    ("manager", "李店长", Role.MANAGER),
    ("cashier", "张小美", Role.CASHIER),
]
MARKER = "demo.loaded"


def load(session: Session, passwords: Passwords, clock: ShopClock) -> bool:
    """Load the demo data once (sales history up to yesterday, shop time). Returns False if
    it was already there."""
    if session.get(Setting, MARKER) is not None:
        return False
    for username, name, role in DEMO_ACCOUNTS:
        staff_domain.create_initial(session, passwords, username, DEMO_PASSWORD, role, name)
    system = Actor.system("demo")
    demo_shop.load_catalog(session, system)
    member_bulk.load_demo(session)
    demo_shop.link_count_card_templates(session)
    demo_shop.load_sales(session, passwords, clock)
    session.add(Setting(key=MARKER, value={"at": utcnow().isoformat()}))
    session.flush()
    return True
