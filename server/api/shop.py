from __future__ import annotations

from common.schemas.shop import ShopSettings, ShopSettingsOut, ShopSettingsPatch
from server.domain import shop

from .base import ALL_STAFF, OWNER, ApiBlueprint, Ctx

bp = ApiBlueprint("shop", __name__, tag="system")


def _out(ctx: Ctx, settings: ShopSettings) -> ShopSettingsOut:
    return ShopSettingsOut(**settings.model_dump(), timezone=ctx.state.config.shop.timezone)


@bp.endpoint("GET", "/settings/shop", roles=ALL_STAFF, response=ShopSettingsOut)
def get_shop_settings(ctx: Ctx) -> ShopSettingsOut:
    """Shop name, address and receipt header/footer (every counter prints these), and the
    shop's time zone (read-only, ``[shop] timezone``: receipts show shop time)."""
    return _out(ctx, shop.get(ctx.db))


@bp.endpoint("PUT", "/settings/shop", roles=OWNER, body=ShopSettingsPatch,
             response=ShopSettingsOut)
def put_shop_settings(ctx: Ctx, body: ShopSettingsPatch) -> ShopSettingsOut:
    """Change the shop settings (owner; audited)."""
    return _out(ctx, shop.put(ctx.db, ctx.me, body))
