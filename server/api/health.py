from __future__ import annotations

from sqlalchemy import text

from common import __version__
from common.schemas.system import DatabaseEventOut, HealthOut, TlsOut
from server.db.migrate import current_revision
from server.domain import shop
from server.ops import watchdog
from server.ops.tls import TlsFiles, ca_fingerprint, ensure_certificates
from server.replication import monitor
from server.replication.status import replication_health, replication_warnings

from .base import PUBLIC, ApiBlueprint, Ctx

bp = ApiBlueprint("health", __name__, tag="system")

_DB_EVENTS = (watchdog.RESTARTED, watchdog.BACK, watchdog.DOWN, watchdog.RESTART_FAILED)


@bp.endpoint("GET", "/health", roles=PUBLIC, response=HealthOut)
def health(ctx: Ctx) -> tuple[HealthOut, int]:
    """Server health: status, role (primary/standby) and epoch, database state, the watchdog's
    last record, maintenance, version, warnings. No login. HTTP 503 (with the same body) while
    the database does not answer, so that a monitor reading only the status code sees it."""
    state = ctx.state
    snap = state.snapshot()
    db_state = "ok"
    schema = shop_name = None
    try:
        ctx.db.execute(text("SELECT 1"))
        schema = current_revision(state.engine)
        shop_name = shop.get(ctx.db).name
    except Exception:
        db_state = "unavailable"
        ctx.db.rollback()
    warnings: list[str] = []
    for check in state.services.health_checks:
        warnings.extend(check())
    shared = state.shared
    facts = monitor.facts_of(shared)
    warnings.extend(replication_warnings(facts, snap.cluster.role, ctx.lang))
    last = next(iter(shared.events(_DB_EVENTS, limit=1)), None)
    processes = shared.value("server.processes") or {}
    status = "ok" if db_state == "ok" and not warnings else ("down" if db_state != "ok"
                                                             else "degraded")
    m = snap.maintenance
    out = HealthOut(
        status=status, role=snap.cluster.role.value, epoch=snap.cluster.epoch,
        database=db_state, version=__version__, schema_version=schema,
        maintenance=m.reason if m else None, maintenance_since=m.since if m else None,
        maintenance_by=m.by if m else None, shop_name=shop_name,
        newest_verified_backup_age_seconds=state.services.backups.newest_verified_age_seconds(),
        database_restarts=shared.count_events(watchdog.RESTARTED),
        last_database_event=DatabaseEventOut(
            at=last.at, kind=last.kind, reason=last.detail.get("reason"),
            down_seconds=last.detail.get("down_seconds")) if last else None,
        workers=len(processes["workers"]) if processes.get("workers") is not None else None,
        replication=replication_health(facts), warnings=warnings)
    return out, (200 if db_state == "ok" else 503)


@bp.endpoint("GET", "/health/tls", roles=PUBLIC, response=TlsOut)
def tls(ctx: Ctx) -> TlsOut:
    """This server's CA certificate and fingerprint (a counter pins it at setup, once the
    cashier has compared the fingerprint with the one the server's screen and the back office
    show), and the other server's of the pair. No login: certificates are public."""
    cfg = ctx.state.config
    files = ensure_certificates(cfg.tls_dir)
    peer_pem = None
    peer_ca = TlsFiles(cfg.tls_dir).peer_ca
    if peer_ca.is_file():
        peer_pem = peer_ca.read_text()
    r = cfg.fresh_replication()
    return TlsOut(fingerprint=files.fingerprint(), ca_pem=files.ca_pem(),
                  tls_port=cfg.server.effective_tls_port, peer=r.peer or None,
                  peer_fingerprint=ca_fingerprint(peer_pem) if peer_pem else None,
                  peer_ca_pem=peer_pem)
