"""Shop-wide settings (name, address, receipt header and footer), kept in the database so
every counter prints the same receipt. They are the one source of the shop's name (receipts,
``/health``); ``[shop] name`` in lanpos.toml only seeds it at ``init`` / ``demo``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from common.schemas.shop import ShopSettings, ShopSettingsPatch

from . import settings
from .actor import Actor

KEY = "shop"


def get(session: Session) -> ShopSettings:
    raw = settings.get(session, KEY, None) or {}
    return ShopSettings.model_validate({**ShopSettings().model_dump(), **raw})


def put(session: Session, actor: Actor, data: ShopSettingsPatch) -> ShopSettings:
    merged = get(session).model_dump() | data.model_dump(exclude_none=True)
    new = ShopSettings.model_validate(merged)
    settings.put(session, actor, KEY, new.model_dump())
    return new


def seed(session: Session, actor: Actor, name: str) -> bool:
    """Start the shop settings with ``name`` (``[shop] name``) if the database has none yet
    (``init``, ``demo``). True if it did."""
    if settings.get(session, KEY, None) is not None:
        return False
    name = name.strip()[:64] or ShopSettings().name  # 64: ShopSettings.name's max_length
    settings.put(session, actor, KEY, ShopSettings(name=name).model_dump())
    return True
