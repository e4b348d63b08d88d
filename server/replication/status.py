"""What the owner's dashboard and ``/health`` say about the pair, from the replication
monitor's facts (``server.replication.monitor``) and this server's own records."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from common.schemas.replication import (
    ReplicationHealth,
    SaleRef,
    SemiSyncChange,
    ServerFacts,
)
from server.config import Config
from server.ops.tls import TlsFiles, ca_fingerprint
from server.replication import dbops, monitor, peer
from server.replication.pairing import admin_instance
from server.state import ServerRole, SharedState


def replication_health(facts: dict[str, Any]) -> ReplicationHealth:
    """The monitor's facts as ``/health`` shows them."""
    return ReplicationHealth(state=facts.get("state", "none"),
                             lag_seconds=facts.get("lag_seconds"),
                             lag_transactions=facts.get("lag_transactions"),
                             semi_sync=facts.get("semi_sync", "off"),
                             semi_sync_since=facts.get("semi_sync_since"),
                             peer=facts.get("peer"), gtid=facts.get("gtid"))


def replication_warnings(facts: dict[str, Any], role: ServerRole, lang: str = "zh"
                         ) -> list[str]:
    out = []
    zh = lang != "en"
    if facts.get("semi_sync") == "fallen_back":
        out.append("备用服务器已断开：主服务器单机运行中（销售不再同步到备用服务器）" if zh else
                   "The standby is gone: the primary sells alone (sales are not copied)")
    if role == ServerRole.STANDBY and facts.get("state") in ("error", "stopped", "connecting"):
        out.append(("备用服务器没有在同步主服务器的数据（" if zh else
                    "The standby is not replicating (") + str(facts.get("last_error")
                                                          or facts.get("state")) + ")")
    if role == ServerRole.STALE:
        out.append("此服务器已被备用服务器替代，不再收银；请运行 lanpos-server rejoin" if zh else
                   "This server was replaced by the standby; run lanpos-server rejoin")
    return out


def this_server(cfg: Config, shared: SharedState, newest_verified_backup: Any) -> ServerFacts:
    facts = monitor.facts_of(shared)
    c = shared.cluster()
    last = None
    if cfg.managed:
        try:
            got = dbops.last_sale(admin_instance(cfg), cfg.database.name)
            last = SaleRef(number=got[0], at=got[1]) if got else None
        except Exception:  # the database is down: the rest still helps
            last = None
    changes = [SemiSyncChange(at=e.at, state="on" if e.kind == monitor.CAME_BACK
                              else "fallen_back")
               for e in shared.events((monitor.FELL_BACK, monitor.CAME_BACK), limit=10)]
    return ServerFacts(
        address=cfg.fresh_replication().advertise or None, reachable=True, role=c.role.value,
        epoch=c.epoch, replication=replication_health(facts), io_thread=facts.get("io_thread"),
        sql_thread=facts.get("sql_thread"), last_error=facts.get("last_error"), last_sale=last,
        disk_free_bytes=shutil.disk_usage(cfg.data_dir).free,
        newest_verified_backup_at=newest_verified_backup.started_at
        if newest_verified_backup else None,
        semi_sync_fallbacks=changes, tls_fingerprint=_fingerprint(TlsFiles(cfg.tls_dir).ca_cert))


def _fingerprint(pem_file: Path) -> str | None:
    try:
        return ca_fingerprint(pem_file.read_text())
    except (OSError, ValueError):
        return None


def other_server(address: str, tls_dir: Path | None = None) -> ServerFacts:
    """The other server as its public ``/health`` shows it (and the CA this one pinned)."""
    h = peer.health(address, timeout=1.5)
    other = ServerFacts(address=address, reachable=h.reachable, role=h.role, epoch=h.epoch,
                        error=h.error,
                        tls_fingerprint=_fingerprint(TlsFiles(tls_dir).peer_ca)
                        if tls_dir else None)
    if h.payload and h.payload.get("replication"):
        other.replication = ReplicationHealth.model_validate(h.payload["replication"])
    return other
