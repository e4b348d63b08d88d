from __future__ import annotations

from common.schemas.shop import ShopSettings, ShopSettingsPatch
from server.domain import shop

from .base import ALL_STAFF, OWNER, ApiBlueprint, Ctx

bp = ApiBlueprint("shop", __name__, tag="system")


@bp.endpoint("GET", "/settings/shop", roles=ALL_STAFF, response=ShopSettings)
def get_shop_settings(ctx: Ctx) -> ShopSettings:
    """Shop name, address and receipt header/footer (every counter prints these)."""
    return shop.get(ctx.db, ctx.state.config.shop.name)


@bp.endpoint("PUT", "/settings/shop", roles=OWNER, body=ShopSettingsPatch,
             response=ShopSettings)
def put_shop_settings(ctx: Ctx, body: ShopSettingsPatch) -> ShopSettings:
    """Change the shop settings (owner; audited)."""
    return shop.put(ctx.db, ctx.me, body, ctx.state.config.shop.name)
