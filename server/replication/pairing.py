"""Pairing, on the primary's side: a standby asks (with the owner's login) and gets what it
needs to replicate — the primary's MariaDB port, a replication account allowed from the
standby's address only (TLS required), the primary's CA certificate, the epoch.

The managed MariaDB listens on the loopback only until a standby is paired; the first pairing
moves it to the LAN (``[replication] listen``), which MariaDB can only do by restarting: the
supervisor's job runner stops it and the watchdog starts it again (about two seconds of
``503`` that the counters retry through). Semi-sync (``AFTER_SYNC``) is switched on at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time
from typing import Any

from common.errors import ApiError
from server.config import Config
from server.ops.mariadb import ManagedMariaDB
from server.ops.tls import TlsFiles
from server.replication import dbops, physical
from server.runtime import Runtime
from server.state import ServerRole, SharedState

log = logging.getLogger(__name__)

LAN = "0.0.0.0"
RELISTEN_JOB = "database_relisten"


def admin_instance(cfg: Config) -> ManagedMariaDB:
    """The managed instance of ``cfg`` for admin statements (not started by this object)."""
    if not cfg.managed:
        raise ApiError("needs_managed_database", status=409)
    return Runtime(cfg).managed_instance()


def pair(cfg: Config, shared: SharedState, *, standby_ip: str, advertise: str,
         wait_job: Any, seed: str = "none", physical_ok: bool = False,
         standby_ca_pem: str | None = None) -> dict[str, Any]:
    """Make the replication account for a standby at ``standby_ip`` (runs in an API worker).

    ``wait_job(kind, params)`` queues a job for the supervisor and waits for it (the LAN
    restart). Returns the pairing answer (it holds the replication password: sent once)."""
    role = shared.cluster().role
    if role != ServerRole.PRIMARY:
        raise ApiError("pairing_failed", status=409,
                       reason="只有主服务器可以配对备用服务器" if role else "")
    mdb = admin_instance(cfg)
    r = cfg.fresh_replication()
    if r.listen != LAN or not r.semi_sync or r.peer != advertise:
        # the supervisor's copy of the configuration changes too (it restarts the database)
        wait_job(RELISTEN_JOB, {"listen": LAN, "semi_sync": True, "peer": advertise})
        cfg.fresh_replication()
    user, password = dbops.create_replication_user(mdb, standby_ip, cfg.database.name)
    dbops.set_semi_sync_master(mdb, True, r.semi_sync_timeout_ms)
    shared.record_event("standby_paired", {"standby": advertise, "ip": standby_ip})
    tls = TlsFiles(cfg.tls_dir)
    if standby_ca_pem:
        # https to the standby (its health, a switchover) trusts this CA; counters get it
        # from GET /health/tls of this (pinned) server
        tls.peer_ca.write_text(standby_ca_pem.strip() + "\n")
    size = physical.database_bytes(cfg)
    if seed == "auto":
        seed = ("physical" if physical_ok and size > physical.LARGE_BYTES
                and physical.available() else "dump")
    if seed == "physical" and not physical.available():
        raise ApiError("pairing_failed", status=409,
                       reason="mariadb-backup is not installed on the primary")
    out = {"db_port": cfg.database.managed_port, "user": user, "password": password,
           "ca_pem": tls.ca_pem(), "ca_fingerprint": tls.fingerprint(),
           "server_id": cfg.database.server_id, "epoch": shared.cluster().epoch,
           "cluster_id": shared.cluster_id(), "database": cfg.database.name,
           "seed": seed, "database_bytes": size}
    if seed == "physical":
        out |= physical.offer_stream(cfg, mdb)
    return out


def relisten_handler(runtime: Runtime):
    """The supervisor's job: new listen address / semi-sync / peer, then restart the managed
    MariaDB through the watchdog (the main loop starts it: see server.ops.watchdog)."""

    def run(job: Any, progress: Any) -> dict[str, Any]:
        p = job.params
        cfg = runtime.config
        r = cfg.fresh_replication()
        changed = p.get("listen", r.listen) != r.listen
        cfg.save_replication(listen=p.get("listen", r.listen),
                             semi_sync=bool(p.get("semi_sync", r.semi_sync)),
                             peer=p.get("peer", r.peer))
        mdb = runtime.mariadb
        if mdb is None:
            return {"restarted": False}
        mdb.bind_address = r.listen
        mdb.extra_settings = {**mdb.extra_settings,
                              "rpl_semi_sync_master_enabled": "ON" if r.semi_sync else "OFF"}
        if not changed:
            return {"restarted": False}
        progress(0.2, "restarting the database on the LAN")
        log.warning("restarting the managed MariaDB to listen on %s (standby pairing)",
                    r.listen)
        mdb.stop()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if mdb.exited() is None:
                try:
                    mdb.admin_connect(connect_timeout=2).close()
                    if not mdb.is_read_only():
                        return {"restarted": True}
                except Exception:
                    continue
        raise ApiError("pairing_failed", status=503, reason="数据库没有在 90 秒内重新启动")

    return run


def fence_database(cfg: Config) -> None:
    """Make this server's managed database read-only now (it learnt it was replaced)."""
    if cfg.managed:
        admin_instance(cfg).set_read_only(True)


# -- the pairing code: the owner makes one in the back office, the standby's installer types it
PAIRING_KEY = "pairing.code"
PAIRING_MINUTES = 15
PAIRING_TRIES = 5
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # nothing to misread (0/O, 1/I/L)


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().upper().encode()).hexdigest()


def new_pairing_code(shared: SharedState, by: str) -> tuple[str, Any]:
    """A one-time code (``ABCD-EFGH``, 15 minutes, 5 tries) that stands for the owner's login
    in ``standby init --pairing-code``; only its digest is kept."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=PAIRING_MINUTES)
    shared.put_value(PAIRING_KEY, {"digest": _digest(raw), "expires_at": expires.isoformat(),
                                   "by": by, "tries": 0})
    return f"{raw[:4]}-{raw[4:]}", expires


def redeem_pairing_code(shared: SharedState, code: str) -> str:
    """The owner who made ``code`` (and the code is used up), or ``403 pairing_code_invalid``."""
    rec = shared.value(PAIRING_KEY)
    bad = ApiError("pairing_code_invalid", status=403)
    if not rec:
        raise bad
    if dt.datetime.fromisoformat(rec["expires_at"]) < dt.datetime.now(dt.UTC):
        shared.put_value(PAIRING_KEY, None)
        raise bad
    if not hmac.compare_digest(rec["digest"], _digest(code)):
        rec["tries"] = int(rec.get("tries", 0)) + 1
        shared.put_value(PAIRING_KEY, rec if rec["tries"] < PAIRING_TRIES else None)
        raise bad
    shared.put_value(PAIRING_KEY, None)
    return str(rec["by"])
