"""Shop-wide settings (name, address, receipt header and footer), kept in the database so
every counter prints the same receipt."""

from __future__ import annotations

from sqlalchemy.orm import Session

from common.schemas.shop import ShopSettings, ShopSettingsPatch

from . import settings
from .actor import Actor

KEY = "shop"


def get(session: Session, default_name: str | None = None) -> ShopSettings:
    raw = settings.get(session, KEY, None) or {}
    base = ShopSettings().model_dump()
    if default_name:
        base["name"] = default_name
    return ShopSettings.model_validate({**base, **raw})


def put(session: Session, actor: Actor, data: ShopSettingsPatch,
        default_name: str | None = None) -> ShopSettings:
    merged = get(session, default_name).model_dump() | data.model_dump(exclude_none=True)
    new = ShopSettings.model_validate(merged)
    settings.put(session, actor, KEY, new.model_dump())
    return new
