from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import ApiModel, PageQuery, UtcDatetime
from .replication import ReplicationHealth


class DatabaseEventOut(ApiModel):
    at: UtcDatetime
    kind: str = Field(description="database_restarted | database_back | database_down | "
                                  "database_restart_failed")
    reason: str | None = None
    down_seconds: float | None = None


class HealthOut(ApiModel):
    """Answered with HTTP 200 when the database answers, 503 (same body) when it does not."""

    status: str = Field(description="ok | degraded | down")
    role: str = Field(description="primary | standby")
    epoch: int | None = Field(None, description="cluster epoch (increases on every promotion)")
    database: str = Field(description="ok | unavailable")
    version: str
    schema_version: str | None = None
    maintenance: str | None = Field(None, description="why the API is in maintenance, if it is")
    maintenance_since: UtcDatetime | None = None
    maintenance_by: str | None = None
    shop_name: str | None = None
    newest_verified_backup_age_seconds: int | None = Field(
        None, description="age of the newest backup that passed a test restore")
    database_restarts: int = Field(0, description="restarts of the managed database by the "
                                                  "watchdog (kept: the last 1,000 events)")
    last_database_event: DatabaseEventOut | None = Field(
        None, description="the watchdog's newest record: a restart, a reconnect, an outage")
    workers: int | None = Field(None, description="API worker processes running")
    replication: ReplicationHealth | None = Field(
        None, description="the standby pair: state, lag, semi-sync (README 'Standby server')")
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


class TlsOut(ApiModel):
    """``GET /health/tls`` (no login): this server's CA, which a counter pins at setup after a
    person compared the fingerprint with the server's screen; and the other server's CA (the
    standby pair), which a counter takes only from a server it already pinned."""

    fingerprint: str = Field(description="SHA-256 of the CA certificate, 'AB:CD:…'")
    ca_pem: str = Field(description="this server's CA certificate (PEM)")
    tls_port: int = Field(description="the port counters use (https)")
    peer: str | None = Field(None, description="the other server of the pair (API address)")
    peer_fingerprint: str | None = None
    peer_ca_pem: str | None = Field(None, description="the other server's CA certificate")
