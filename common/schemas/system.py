from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import ApiModel, PageQuery, UtcDatetime


class HealthOut(ApiModel):
    status: str = Field(description="ok | degraded | down")
    role: str = Field(description="primary | standby")
    database: str = Field(description="ok | unavailable")
    version: str
    schema_version: str | None = None
    maintenance: str | None = None
    shop_name: str | None = None
    newest_verified_backup_age_seconds: int | None = Field(
        None, description="age of the newest backup that passed a test restore")
    warnings: list[str] = []


class AuditEntryOut(ApiModel):
    id: int
    at: UtcDatetime
    staff_id: int | None
    username: str | None
    counter: str | None
    action: str
    entity: str
    entity_id: str | None
    before: Any | None
    after: Any | None
    reason: str | None
    ip: str | None


class AuditQuery(PageQuery):
    action: str | None = Field(None, max_length=64)
    entity: str | None = Field(None, max_length=32)
    entity_id: str | None = Field(None, max_length=64)
    staff_id: int | None = None


class DrawerOpenIn(ApiModel):
    """A manual cash-drawer opening (钱箱) at a counter, recorded before the drawer is kicked."""

    reason: str | None = Field(None, max_length=255, description="e.g. 换零钱")
