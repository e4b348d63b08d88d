"""The catalogue a counter keeps to sell offline (``GET /catalog/snapshot``).

A counter holds a version (``catalog_version``). ``since`` absent, 0, or one this server
cannot diff from (newer than its own: a restored database, another server) → ``full``: every
product, inactive ones included; else the products stamped after ``since``. Everything is
read in the request's one transaction (REPEATABLE READ): the version and the products come
from the same snapshot, so a change committed meanwhile is in the next answer, never lost.
Categories, levels, the settings the pricing engine needs and the promotions not ended
(``promotions.for_snapshot``) are small: always complete.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.schemas.activities import PromotionRuleOut
from common.schemas.catalog import CatalogSnapshotOut, CategoryOut, ProductOut
from common.schemas.members import LevelOut
from common.schemas.shop import ShopSettingsOut
from server.clock import ShopClock
from server.db.catalog import Product
from server.db.members import LevelPrice

from . import catalog, catalog_version, promotions, shop
from . import members as members_domain


def snapshot(session: Session, since: int | None, *, timezone: str,
             now: dt.datetime | None = None) -> CatalogSnapshotOut:
    """``timezone``: the server's ``[shop] timezone`` (part of the shop settings); ``now``:
    naive shop time (the promotions not ended; None: now in ``timezone``)."""
    if now is None:
        now = ShopClock(timezone).now().replace(tzinfo=None)
    version = catalog_version.current(session)
    full = since is None or since <= 0 or since > version
    stmt = select(Product).order_by(Product.id)
    if not full:
        stmt = stmt.where(Product.changed_seq > since)
    products = list(session.scalars(stmt))
    prices: dict[int, dict[int, int]] = {}
    if products:
        lp_stmt = select(LevelPrice.product_id, LevelPrice.level_id, LevelPrice.price)
        if not full:  # an increment is small; a full answer reads the whole table once
            lp_stmt = lp_stmt.where(LevelPrice.product_id.in_([p.id for p in products]))
        for pid, level_id, price in session.execute(lp_stmt):
            prices.setdefault(pid, {})[level_id] = price
    out = [ProductOut.model_validate(v).model_copy(update={"level_prices": prices.get(v.id, {})})
           for v in catalog.view(session, products)]
    return CatalogSnapshotOut(
        version=version, full=full, products=out,
        categories=[CategoryOut.model_validate(c)
                    for c in catalog.list_categories(session, include_inactive=True)],
        levels=[LevelOut.model_validate(lv)
                for lv in members_domain.list_levels(session, include_inactive=True)],
        membership=members_domain.get_settings(session),
        shop=ShopSettingsOut(**shop.get(session).model_dump(), timezone=timezone),
        promotions=[PromotionRuleOut(**p.to_dict())
                    for p in promotions.for_snapshot(session, now)])
